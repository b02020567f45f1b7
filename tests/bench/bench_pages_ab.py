"""Pages against a baseline checkout, interleaved: server CPU per request, this tree / baseline.

Run: .venv/bin/python tests/bench/bench_pages_ab.py BASELINE [--this CHECKOUT] [--size 10000]
     [--pages about,search]
BASELINE (and CHECKOUT, this tree by default) is a checkout of this repository with its own venv,
e.g.  git worktree add /tmp/base <commit> && make -C /tmp/base install-test
Each checkout seeds its own database with its own code (its tests/bench/bench_pages.py
``prepare``: the schemas differ), then both gunicorn servers run side by side and are driven in
turns, page by page and round by round, the order swapped every round. This machine's speed
drifts by half within minutes, so two benchmark runs one after the other compare the hours, not
the code; each paired run here sees the same minute. Prints `name: value unit` lines: each
side's median server CPU per request and the median of the paired ratios (with their range).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench_pages import ROOT, Server, drive, routes

PREPARE = """
import json, sys
from pathlib import Path
sys.path.insert(0, "tests/bench")
from bench_pages import prepare
env, slugs = prepare(Path(sys.argv[1]), int(sys.argv[2]), False)
Path(sys.argv[3]).write_text(json.dumps({"env": env, "slugs": slugs}))
"""


def prepare_side(root: Path, tmp: Path, n: int) -> tuple[dict[str, str], list[str]]:
    """Seed and index ``n`` products with the checkout ``root``'s own code and venv."""
    tmp.mkdir()
    out = tmp / "prepared.json"
    start = time.perf_counter()
    subprocess.run(
        [str(root / ".venv/bin/python"), "-c", PREPARE, str(tmp), str(n), str(out)],
        cwd=root,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    print(f"prepare_{root.name}: {time.perf_counter() - start:.1f} s")
    prepared = json.loads(out.read_text())
    return prepared["env"], prepared["slugs"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("baseline", type=Path, help="a checkout with its own .venv")
    parser.add_argument("--this", type=Path, default=ROOT, help="the checkout measured")
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--requests", type=int, default=100, help="per connection, page, round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pages", help="comma-separated pages to compare (default: all)")
    args = parser.parse_args()
    if args.rounds * args.connections * args.requests > args.size:
        parser.error("product_unseen needs more products than --size")
    sides = {"this": args.this.resolve(), "baseline": args.baseline.resolve()}
    with tempfile.TemporaryDirectory(prefix="bench-pages-ab-") as tmp:
        prepared = {
            name: prepare_side(root, Path(tmp) / name, args.size) for name, root in sides.items()
        }
        servers = {
            name: Server(prepared[name][0], args.workers, root, root / ".venv/bin")
            for name, root in sides.items()
        }
        try:
            for server in servers.values():
                server.wait_ready()
            targets = routes_all = {name: routes(prepared[name][1]) for name in sides}
            if args.pages:
                keep = args.pages.split(",")
                if unknown := set(keep) - set(targets["this"]):
                    parser.error(f"unknown pages: {', '.join(sorted(unknown))}")
                targets = {name: {p: targets[name][p] for p in keep} for name in sides}
            for name, server in servers.items():
                for page, path in targets[name].items():
                    warm = routes_all[name]["product"] if page == "product_unseen" else path
                    drive(server.port, warm, args.connections, args.requests)
            cpu: dict[tuple[str, str], list[float]] = {}
            for round_number in range(1, args.rounds + 1):
                order = list(sides) if round_number % 2 else list(reversed(sides))
                for page in targets["this"]:
                    for name in order:
                        server = servers[name]
                        before = server.cpu_seconds()
                        times, _, errors = drive(
                            server.port,
                            targets[name][page],
                            args.connections,
                            args.requests,
                            seed=round_number,
                        )
                        if errors:
                            raise SystemExit(f"{name} {page}: {errors} requests failed")
                        used = 1000 * (server.cpu_seconds() - before) / len(times)
                        cpu.setdefault((name, page), []).append(used)
        finally:
            for server in servers.values():
                server.stop()
    n = args.size
    for page in targets["this"]:
        ours, theirs = cpu[("this", page)], cpu[("baseline", page)]
        ratios = [100 * a / b for a, b in zip(ours, theirs, strict=True)]
        print(f"ab_{page}_server_cpu_this_{n}: {statistics.median(ours):.2f} ms")
        print(f"ab_{page}_server_cpu_baseline_{n}: {statistics.median(theirs):.2f} ms")
        print(f"ab_{page}_vs_baseline_{n}: {statistics.median(ratios):.0f} %")
        print(f"ab_{page}_vs_baseline_range_{n}: {min(ratios):.0f}-{max(ratios):.0f} %")


if __name__ == "__main__":
    main()
