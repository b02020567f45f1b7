"""Page benchmark: gunicorn with production settings over N generated products, 16 clients.

Run: .venv/bin/python tests/bench/bench_pages.py [--sizes 10000,100000] [--workers N (cores)]
Seeds a fresh SQLite database in a temporary folder (bulk inserts, tests/bench/_data.py),
builds the search index, starts gunicorn on a free loopback port (APP_ENV=production, no Redis),
then drives 16 keep-alive client connections against the home page, product pages (random
over the whole catalog, at 10k mostly cache misses; ``product_hot``: random over 100 of them,
as real traffic crowds onto a few pages, mostly hits; and not yet seen: every one a miss),
category pages, search and /about (a static template through the same stack: the floor),
in rounds: each round runs every page right after a floor run, and a
page's share of the floor is the median over the rounds of its throughput against that floor
run (this machine's speed drifts within seconds). Prints `name: value unit` lines: p50/p95
latency, throughput (the median round), the share of the floor with its range, and the
server's CPU time per request (median round; the clients' own work is left out).
Targets at 10k products: p95 <= 50 ms for every page, throughput >= 40 % of the floor.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import secrets
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from _data import PRODUCTION_PARTS, category_slugs, seed_products  # noqa: E402
from bench_search import NOUNS, SERVICES, VERBS, pct  # noqa: E402

from tests.support.services import free_port  # noqa: E402

P95_TARGET_MS = 50.0
HOT_PRODUCTS = 100  # product_hot: the few pages most visits go to
FLOOR_SHARE_TARGET = 40.0


def prepare(tmp: Path, n: int, analyze: bool) -> tuple[dict[str, str], list[str]]:
    """Migrate, seed and index a fresh database; return the server's environment and slugs."""
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.search.services import reindex_all

    env = {
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": f"sqlite:///{tmp}/bench.db",
        "STORAGE_DIR": str(tmp / "storage"),
        "SEARCH_INDEX_DIR": str(tmp / "search"),
        "BASE_URL": "http://127.0.0.1",
        **PRODUCTION_PARTS,
        "LOG_LEVEL": "WARNING",
        "SEARCH_RATE_LIMIT": "1000000 per minute",  # 16 clients on one address
    }
    app = create_app(env=env)
    start = time.perf_counter()
    with app.app_context():
        upgrade()
        slugs = seed_products(n, db.session)
        print(f"seed_{n}: {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        reindex_all()
        print(f"index_{n}: {time.perf_counter() - start:.1f} s")
        db.engine.dispose()
    if analyze:
        # Table statistics for SQLite's planner (PostgreSQL's autovacuum keeps its own).
        with sqlite3.connect(tmp / "bench.db") as conn:
            conn.execute("ANALYZE")
    return env, slugs


class Server:
    """gunicorn (sync workers, as `make serve`) in its own process group."""

    def __init__(
        self, env: dict[str, str], workers: int, root: Path = ROOT, bin_dir: Path | None = None
    ):
        """The app of the checkout ``root`` with the gunicorn of ``bin_dir`` (this venv's)."""
        self.port = free_port()
        inherited = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "FLASK_DEBUG"}}
        self.process = subprocess.Popen(
            [
                str((bin_dir or Path(sys.executable).parent) / "gunicorn"),
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                "wsgi:app",
            ],
            cwd=root,
            env={**inherited, **env},
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass  # not listening yet
            finally:
                conn.close()
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not become ready")

    def cpu_seconds(self) -> float:
        """CPU time (user and system) of the master and its workers so far, from /proc: the
        server's own cost, without the client's (which shares this machine's cores)."""
        ticks = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                pid, rest = stat.read_text().split(" (", 1)
            except OSError:
                continue  # the process has gone
            fields = rest.rsplit(") ", 1)[1].split()
            # After the name: state, ppid, ...; utime and stime are fields 14 and 15 of stat,
            # and the master's cutime and cstime (16, 17) hold the workers it has reaped.
            if int(pid) == self.process.pid:
                ticks += sum(int(value) for value in fields[11:15])
            elif int(fields[1]) == self.process.pid:
                ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def drive(
    port: int,
    requests_of: Callable[[random.Random], str | tuple[str, str, bytes | None]],
    connections: int,
    requests: int,
    seed: int = 0,
    headers: dict[str, str] | None = None,
    ok: tuple[int, ...] = (200,),
) -> tuple[list[float], float, int]:
    """``connections`` threads, each with one keep-alive connection (reopened when the server
    closes it), its own User-Agent and its own random requests (by ``seed``: each round draws
    new ones, or later rounds would find the first round's pages cached), send ``requests``
    requests; return latencies (ms), wall time and the count of answers not in ``ok``.

    ``requests_of`` gives a path to GET, or (method, path, JSON body or None)."""
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    barrier = threading.Barrier(connections + 1)

    def client(i: int) -> None:
        rnd = random.Random(seed * connections + i)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        base = {"User-Agent": f"bench-client-{i}", "Accept": "text/html", **(headers or {})}
        barrier.wait()
        for _ in range(requests):
            wanted = requests_of(rnd)
            method, path, body = ("GET", wanted, None) if isinstance(wanted, str) else wanted
            sent = base if body is None else {**base, "Content-Type": "application/json"}
            start = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=sent)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                status = 0
            latencies[i].append((time.perf_counter() - start) * 1000)
            if status not in ok:
                errors[i] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    return [ms for per in latencies for ms in per], wall, sum(errors)


def routes(slugs: list[str]) -> dict[str, Callable[[random.Random], str]]:
    categories = category_slugs()
    words = VERBS + NOUNS + SERVICES
    # Products no client has asked for yet: every page a cache miss (the warm-up draws at
    # random instead; main() refuses runs that need more of them than the catalog has).
    deck = iter(random.Random(0).sample(slugs, len(slugs)))
    hot = slugs[:HOT_PRODUCTS]
    return {
        "about": lambda rnd: "/about",
        "home": lambda rnd: "/",
        "product": lambda rnd: f"/products/{rnd.choice(slugs)}",
        "product_hot": lambda rnd: f"/products/{rnd.choice(hot)}",
        "product_unseen": lambda rnd: f"/products/{next(deck)}",
        "category": lambda rnd: f"/categories/{rnd.choice(categories)}",
        "search": lambda rnd: f"/search?q={rnd.choice(words)}",
    }


def bench(n: int, args: argparse.Namespace) -> bool:
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        env, slugs = prepare(Path(tmp), n, args.analyze)
        server = Server(env, args.workers)
        try:
            server.wait_ready()
            targets = routes(slugs)
            # Warm every worker's caches and connections: a worker builds the index's word sets
            # and category pools on first use (at 100k products, most of a 10-request warm-up).
            start = time.perf_counter()
            for name, path in targets.items():
                warm = targets["product"] if name == "product_unseen" else path
                drive(server.port, warm, args.connections, args.warmup)
            print(f"pages_warmup_{n}: {time.perf_counter() - start:.1f} s")
            # This machine's speed drifts within seconds, so each route is paired with a floor
            # run just before it: its share of the floor is the median of those paired ratios
            # over the rounds. Latencies are those of every round.
            latencies: dict[str, list[float]] = {name: [] for name in targets}
            rates: dict[str, list[float]] = {name: [] for name in targets}
            cpu_ms: dict[str, list[float]] = {name: [] for name in targets}
            shares: dict[str, list[float]] = {name: [] for name in targets if name != "about"}
            errors = dict.fromkeys(targets, 0)

            def run(name: str, round_number: int) -> float:
                cpu = server.cpu_seconds()
                times, wall, failed = drive(
                    server.port, targets[name], args.connections, args.requests, seed=round_number
                )
                cpu_ms[name].append(1000 * (server.cpu_seconds() - cpu) / len(times))
                latencies[name] += times
                rates[name].append(len(times) / wall)
                errors[name] += failed
                return len(times) / wall

            for round_number in range(1, args.rounds + 1):
                for name in shares:
                    floor = run("about", round_number)
                    shares[name].append(100 * run(name, round_number) / floor)
            ok = True
            for name in targets:
                p95 = pct(latencies[name], 95)
                share = statistics.median(shares[name]) if name in shares else 100.0
                print(f"pages_{name}_p50_{n}: {statistics.median(latencies[name]):.1f} ms")
                print(f"pages_{name}_p95_{n}: {p95:.1f} ms")
                print(f"pages_{name}_throughput_{n}: {statistics.median(rates[name]):.0f} req/s")
                print(f"pages_{name}_vs_floor_{n}: {share:.0f} %")
                print(f"pages_{name}_server_cpu_{n}: {statistics.median(cpu_ms[name]):.2f} ms")
                if name in shares:
                    low, high = min(shares[name]), max(shares[name])
                    print(f"pages_{name}_vs_floor_range_{n}: {low:.0f}-{high:.0f} %")
                if errors[name]:
                    print(f"pages_{name}_errors_{n}: {errors[name]} requests")
                if name != "about":
                    ok = ok and not errors[name] and share >= FLOOR_SHARE_TARGET
                    ok = ok and (n > 10_000 or p95 <= P95_TARGET_MS)
            print(f"pages_targets_met_{n}: {'yes' if ok else 'no'}")
            return ok
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000", help="comma-separated product counts")
    # One sync worker per core did best here (2 cores: 3 or 4 workers, or gthread, did worse).
    parser.add_argument(
        "--workers", type=int, default=len(os.sched_getaffinity(0)), help="gunicorn sync workers"
    )
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--requests", type=int, default=100, help="per connection and route")
    parser.add_argument("--warmup", type=int, default=100, help="per connection and route")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (each pairs floor, page)")
    parser.add_argument("--analyze", action="store_true", help="run SQLite's ANALYZE after seeding")
    args = parser.parse_args()
    print(f"gunicorn_workers: {args.workers} workers")
    print(f"client_connections: {args.connections} connections")
    print(f"rounds: {args.rounds} rounds of {args.requests} requests per connection and route")
    print(f"sqlite_analyze: {'on' if args.analyze else 'off'}")
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    unseen = args.rounds * args.connections * args.requests
    if unseen > min(sizes):
        parser.error(f"product_unseen needs {unseen} products, more than {min(sizes)}")
    for size in sizes:
        bench(size, args)


if __name__ == "__main__":
    main()
