"""Upload pipeline benchmark: real `flask worker` processes, a private clamd and Redis.

Run: .venv/bin/python tests/bench/bench_uploads.py [--rounds 3] [--throughput 8]
Prints `name: value unit` lines:

- time from the upload call (intake, hash, store, row, event) to the version being clean, for
  a 1 MB n8n workflow and a 20 MB zip bundle, with one worker and clamd (median of rounds);
- scan throughput (versions per second) of 1 MB workflows with one and with two workers;
- the ratio of the zip's upload-to-clean time to a bare `clamdscan --stream` of the same file
  in the same run (target: at most 1.30);
- peak memory of the web process (gunicorn, one sync worker) while a 100 MB upload streams in
  over HTTP, above its idle size after log-in (target: under 50 MB), with the product-file
  limit raised for the run.
The machine is shared: figures move with the other work on it.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.support.services import (  # noqa: E402
    ClamdServer,
    RedisServer,
    WorkerProcess,
    free_port,
    wait_for_port,
    wait_until,
)

PASSWORD = "bench-password-2026"  # noqa: S105 - a throwaway account of a private database
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def workflow(size: int, tag: str) -> bytes:
    """A valid n8n workflow of about ``size`` bytes: a chain of Code nodes with long code."""
    code = "".join(
        f"// step {i}: read the rows, keep the paid ones, pass them on\n" for i in range(60)
    )
    nodes, connections = [], {}
    count = max(2, size // (len(code) + 300))
    for i in range(count):
        name = f"Step {i}"
        nodes.append(
            {
                "id": f"{tag}-{i}",
                "name": name,
                "type": "n8n-nodes-base.code" if i else "n8n-nodes-base.manualTrigger",
                "typeVersion": 2,
                "position": [i * 220, 300],
                "parameters": {"jsCode": code + f"return $input.all(); // {tag}\n"} if i else {},
            }
        )
        if i:
            connections[f"Step {i - 1}"] = {"main": [[{"node": name, "type": "main", "index": 0}]]}
    return json.dumps({"name": f"Bench {tag}", "nodes": nodes, "connections": connections}).encode()


def bundle(size: int, tag: str) -> bytes:
    """A zip of about ``size`` bytes: incompressible files (stored) and one workflow."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("workflows/flow.json", workflow(64 * 1024, tag))
        for i in range(size // (1024 * 1024)):
            archive.writestr(f"data/part-{i:03d}.bin", os.urandom(1024 * 1024))
    return out.getvalue()


def prepare(tmp: Path):
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db

    redis = RedisServer()
    redis.start()
    clamd = ClamdServer(stream_max_length="200M")
    clamd.start()
    env = {
        "APP_ENV": "test",
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": f"sqlite:///{tmp}/bench.db",
        "REDIS_URL": redis.url,
        "STORAGE_DIR": str(tmp / "storage"),
        "SEARCH_INDEX_DIR": str(tmp / "search"),
        "BASE_URL": "http://127.0.0.1",
        "CLAMD_SOCKET": clamd.socket_path,
        "MAX_PRODUCT_FILE_MB": "200",
        "VENDOR_STORAGE_QUOTA_MB": "100000",
        "RATELIMIT_STORAGE_URI": "memory://",
        "LOG_LEVEL": "WARNING",
        "OUTBOX_SWEEP_SECONDS": "5",
    }
    app = create_app(env=env)
    with app.app_context():
        upgrade()
        product_id = _vendor_product()
        db.engine.dispose()
    return env, app, redis, clamd, product_id


def _vendor_product() -> int:
    from app.accounts.models import User
    from app.accounts.services import hash_password
    from app.catalog.models import Product
    from app.extensions import db
    from app.timeutil import utcnow
    from app.vendors.models import VendorProfile

    user = User(
        email="vendor@bench.test",
        password_hash=hash_password(PASSWORD),
        role="vendor",
        email_verified_at=utcnow(),
    )
    db.session.add(user)
    db.session.flush()
    vendor = VendorProfile(
        user_id=user.id,
        store_name="Bench store",
        slug="bench-store",
        support_email=user.email,
        country="US",
        status="approved",
    )
    product = Product(vendor=vendor, slug="bench-product", title="Bench product")
    db.session.add(product)
    db.session.commit()
    return product.id


class Labels:
    def __init__(self) -> None:
        self.n = 0

    def next(self) -> str:
        self.n += 1
        return f"1.{self.n}"


def upload(app, product_id: int, data: bytes, filename: str, label: str) -> int:
    from app.assets import services
    from app.catalog.models import Product
    from app.extensions import db
    from app.outbox.services import dispatch_committed

    with app.app_context():
        product = db.session.get(Product, product_id)
        version = services.upload_version(
            product.vendor.user, product, io.BytesIO(data), filename, label
        )
        db.session.commit()
        dispatch_committed()
        return version.id


def statuses(app, ids: list[int]) -> list[str]:
    from sqlalchemy import select

    from app.assets.models import ProductVersion
    from app.extensions import db

    with app.app_context():
        rows = dict(
            db.session.execute(
                select(ProductVersion.id, ProductVersion.status).where(ProductVersion.id.in_(ids))
            ).all()
        )
        db.session.rollback()
    return [rows.get(i, "missing") for i in ids]


def wait_final(app, ids: list[int], timeout: float = 600) -> None:
    final = {"clean", "infected", "rejected", "error"}

    def done() -> bool:
        states = statuses(app, ids)
        return all(s in final for s in states)

    wait_until(done, timeout, "the scans finished")
    bad = [s for s in statuses(app, ids) if s != "clean"]
    if bad:
        raise SystemExit(f"scans ended {bad}")


def drain(app) -> None:
    """Until every queue is empty and idle: the last round's mail and index jobs are done."""
    from app.queue import QUEUES, get_queue

    def idle() -> bool:
        queues = [get_queue(name, app.extensions["redis"]) for name in QUEUES]
        return all(q.count == 0 and q.started_job_registry.count == 0 for q in queues)

    wait_until(idle, 120, "the queues drained")


def scan_seconds(app, version_id: int) -> float:
    """The scan job's own time: from its claim to its verdict."""
    from app.assets.models import ProductVersion
    from app.extensions import db

    with app.app_context():
        version = db.session.get(ProductVersion, version_id)
        return (version.scanned_at - version.scan_started_at).total_seconds()


def upload_to_clean(app, product_id, labels, make, filename, rounds):
    """(upload-to-clean times, scan-job times) over ``rounds`` uploads, one at a time."""
    times, scans = [], []
    for r in range(rounds):
        data = make(r)
        drain(app)
        start = time.perf_counter()
        version_id = upload(app, product_id, data, filename, labels.next())
        wait_final(app, [version_id])
        times.append(time.perf_counter() - start)
        scans.append(scan_seconds(app, version_id))
    return times, scans


def throughput(app, product_id, labels, count: int) -> float:
    contents = [workflow(1024 * 1024, f"tp-{labels.n}-{i}") for i in range(count)]
    drain(app)
    start = time.perf_counter()
    ids = [upload(app, product_id, data, "flow.json", labels.next()) for data in contents]
    wait_final(app, ids)
    return count / (time.perf_counter() - start)


def clamdscan_seconds(clamd: ClamdServer, path: Path, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        result = subprocess.run(
            ["clamdscan", f"--config-file={clamd.config}", "--stream", "--no-summary", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            raise SystemExit(f"clamdscan failed: {result.stdout} {result.stderr}")
    return times


# --- the web process's memory ----------------------------------------------------------------


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def gunicorn_worker(master: int) -> int:
    wait_until(
        lambda: Path(f"/proc/{master}/task/{master}/children").read_text().strip(),
        30,
        "gunicorn forked its worker",
    )
    return int(Path(f"/proc/{master}/task/{master}/children").read_text().split()[0])


class Client:
    """A tiny cookie-keeping HTTP client over http.client (streams request bodies)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method, path, body=None, headers=None) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        all_headers = {"Host": "127.0.0.1", **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        text = response.read().decode("utf-8", "replace")
        conn.close()
        return response.status, text

    def csrf(self, path: str) -> str:
        _, body = self.request("GET", path)
        match = _CSRF.search(body)
        if match is None:
            raise SystemExit(f"no CSRF token on {path}")
        return match.group(1)


def multipart(path: Path, fields: dict[str, str], boundary: str):
    """A multipart body read from ``path`` in chunks; its length."""
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.zip"\r\n'
        "Content-Type: application/zip\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def chunks():
        yield head
        with path.open("rb") as handle:
            while chunk := handle.read(64 * 1024):
                yield chunk
        yield tail

    return chunks(), len(head) + path.stat().st_size + len(tail)


def web_memory(env: dict[str, str], product_id: int, tmp: Path) -> tuple[float, float, int]:
    """(idle RSS, peak RSS while a 100 MB upload streams in, status) of gunicorn's worker."""
    port = free_port()
    big = tmp / "big.zip"
    with zipfile.ZipFile(big, "w", zipfile.ZIP_STORED) as archive:
        for i in range(100):
            archive.writestr(f"data/part-{i:03d}.bin", os.urandom(1024 * 1024))
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "600",
            "wsgi:app",
        ],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, 60)
        worker = gunicorn_worker(server.pid)
        client = Client(port)
        token = client.csrf("/login")
        form = f"email=vendor%40bench.test&password={PASSWORD}&csrf_token={token}"
        status, _ = client.request(
            "POST",
            "/login",
            body=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        if status != 303:
            raise SystemExit(f"log-in failed: {status}")
        page = f"/vendor/products/{product_id}/versions"
        token = client.csrf(page)
        client.request("GET", page)
        time.sleep(1)
        idle = rss_mb(worker)
        peak = idle
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.is_set():
                peak = max(peak, rss_mb(worker))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        boundary = secrets.token_hex(16)
        body, length = multipart(big, {"csrf_token": token, "label": "9.0"}, boundary)
        status, _ = client.request(
            "POST",
            page,
            body=body,
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Content-Length": str(length),
            },
        )
        stop.set()
        sampler.join()
        return idle, peak, status
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--throughput", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-uploads-") as name:
        tmp = Path(name)
        env, app, redis, clamd, product_id = prepare(tmp)
        labels = Labels()
        workers: list[WorkerProcess] = []
        try:
            workers.append(WorkerProcess(env, tmp / "worker-0.log"))
            workers[0].start()
            wf, wf_scan = upload_to_clean(
                app,
                product_id,
                labels,
                lambda r: workflow(1024 * 1024, f"wf-{r}"),
                "flow.json",
                args.rounds,
            )
            print(f"upload_to_clean_workflow_1mb_p50: {statistics.median(wf) * 1000:.0f} ms")
            print(f"scan_job_workflow_1mb_p50: {statistics.median(wf_scan) * 1000:.0f} ms")
            # The zip and clamdscan take turns on the same files (which goes first alternates),
            # so that both meet clamd in the same state: its first scan after a pause is slow.
            zt, zt_scan, bare = [], [], []
            sample = tmp / "sample.zip"
            for r in range(max(args.rounds, 4)):
                data = bundle(20 * 1024 * 1024, f"zip-{r}")
                sample.write_bytes(data)
                if r % 2:
                    bare += clamdscan_seconds(clamd, sample, 1)
                times, scans = upload_to_clean(
                    app, product_id, labels, lambda _r, data=data: data, "bundle.zip", 1
                )
                zt += times
                zt_scan += scans
                if not r % 2:
                    bare += clamdscan_seconds(clamd, sample, 1)
            print(f"upload_to_clean_zip_20mb_p50: {statistics.median(zt) * 1000:.0f} ms")
            print(f"scan_job_zip_20mb_p50: {statistics.median(zt_scan) * 1000:.0f} ms")
            print(f"clamdscan_stream_zip_20mb_p50: {statistics.median(bare) * 1000:.0f} ms")
            ratio = statistics.median(zt) / statistics.median(bare)
            print(f"pipeline_to_clamdscan_ratio_zip_20mb: {ratio:.2f} x")
            ratio = statistics.median(zt_scan) / statistics.median(bare)
            print(f"scan_job_to_clamdscan_ratio_zip_20mb: {ratio:.2f} x")
            one = throughput(app, product_id, labels, args.throughput)
            print(f"scan_throughput_1_worker: {one:.2f} versions/s")
            workers.append(WorkerProcess(env, tmp / "worker-1.log"))
            workers[1].start()
            two = throughput(app, product_id, labels, args.throughput)
            print(f"scan_throughput_2_workers: {two:.2f} versions/s")
            idle, peak, status = web_memory(env, product_id, tmp)
            print(f"web_rss_idle: {idle:.1f} MB")
            print(f"web_rss_peak_during_100mb_upload: {peak:.1f} MB")
            print(f"web_rss_growth_during_100mb_upload: {peak - idle:.1f} MB (status {status})")
        finally:
            for worker in workers:
                worker.kill()
            clamd.close()
            redis.close()


if __name__ == "__main__":
    main()
