"""Jobs benchmark: forking `flask worker` processes against a private Redis and SMTP server.

Run: .venv/bin/python tests/bench/bench_jobs.py [--jobs 300] [--database-url URL]
With no URL it uses a fresh SQLite file in a temporary folder; a PostgreSQL URL must name a
`bench_jobs*` database (its schema is dropped and rebuilt). Prints `name: value unit` lines:

- jobs per second through one and two forking workers, for a no-op job (a fork, an app
  context, nothing else) and for a typical email job (the verification email of a
  `user.registered` event: user read, token, templates, SMTP to loopback, delivery row);
  measured from the first job's start to the last job's end, so worker start-up is left out;
- time from an event's commit to its job's completion, p50 and p95, one worker with its chores
  running every second (due retries, abandoned jobs, the outbox sweep, page views), one event
  at a time (latency, not a queue building up);
- page latency p50/p95 through gunicorn (one sync worker) with Redis up, then paused with
  SIGSTOP, in the same run, over the home, a category and product pages.
The machine is shared: figures move with the other work on it.
"""

from __future__ import annotations

import argparse
import http.client
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "bench"))

from _data import PRODUCTION_PARTS, category_slugs, seed_products  # noqa: E402

from tests.support.services import (  # noqa: E402
    RedisServer,
    SmtpServer,
    WorkerProcess,
    free_port,
    wait_for_port,
    wait_until,
)

WORKER = ["-m", "flask", "--app", "wsgi", "worker"]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def prepare(tmp: Path, database_url: str | None) -> tuple[dict[str, str], RedisServer, SmtpServer]:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app import create_app
    from app.extensions import db

    redis, smtp = RedisServer(), SmtpServer()
    redis.start()
    smtp.start()
    env = {
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": database_url or f"sqlite:///{tmp}/bench.db",
        "REDIS_URL": redis.url,
        "SMTP_URL": smtp.url,
        "STORAGE_DIR": str(tmp / "storage"),
        "SEARCH_INDEX_DIR": str(tmp / "search"),
        "BASE_URL": "http://127.0.0.1",
        **PRODUCTION_PARTS,
        "LOG_LEVEL": "WARNING",
        "OUTBOX_SWEEP_SECONDS": "1",
    }
    app = create_app(env=env)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        seed_products(200, db.session)
        from app.search.services import reindex_all

        reindex_all()
        db.engine.dispose()
    return env, redis, smtp


def bench_app(env: dict[str, str]):
    from app import create_app

    return create_app(env=env)


def enqueue_noops(app, n: int) -> list[str]:
    from app.queue import enqueue

    with app.app_context():
        return [enqueue("default", "tests.jobs.probe.noop") for _ in range(n)]


def enqueue_emails(app, n: int, tag: str) -> list[str]:
    """``n`` new users and their user.registered events, committed and dispatched."""
    from sqlalchemy import insert, select

    from app.accounts.models import User
    from app.extensions import db
    from app.outbox.services import dispatch_committed, job_id_for, record_event

    with app.app_context():
        emails = [f"{tag}-{i}@bench.test" for i in range(n)]
        db.session.execute(
            insert(User),
            [
                {"email": e, "password_hash": "!", "role": "customer", "session_token": e}
                for e in emails
            ],
        )
        ids = db.session.scalars(select(User.id).where(User.email.in_(emails))).all()
        events = [record_event("user.registered", user_id=user_id) for user_id in ids]
        db.session.commit()
        dispatch_committed()
        return [job_id_for(event.id, "send_verification_email") for event in events]


def _all_done(app, count: int, queue: str = "default") -> bool:
    """Cheap to poll (the bench process also serves SMTP): nothing queued or running, and the
    jobs in the finished and failed registries."""
    from app.queue import get_queue

    q = get_queue(queue, app.extensions["redis"])
    ended = q.finished_job_registry.count + q.failed_job_registry.count
    return q.count == 0 and q.started_job_registry.count == 0 and ended >= count


def _clear_registries(app, queue: str = "default") -> None:
    from app.queue import get_queue

    q = get_queue(queue, app.extensions["redis"])
    for registry in (q.finished_job_registry, q.failed_job_registry):
        for job_id in registry.get_job_ids():
            registry.remove(job_id)


def throughput(env, app, tmp: Path, name: str, job_ids: list[str], workers: int) -> None:
    from rq.job import Job, JobStatus

    connection = app.extensions["redis"]
    started = [
        WorkerProcess(env, tmp / f"{name}-{workers}-{i}.log", WORKER) for i in range(workers)
    ]
    for worker in started:
        worker.start(wait=False)
    wait_until(lambda: _all_done(app, len(job_ids)), 900, f"{name} jobs ran")
    for worker in started:
        worker.stop()
    jobs = Job.fetch_many(job_ids, connection=connection)
    _clear_registries(app)
    failed = sum(1 for j in jobs if j.get_status(refresh=False) != JobStatus.FINISHED)
    seconds = (max(j.ended_at for j in jobs) - min(j.started_at for j in jobs)).total_seconds()
    plural = "s" if workers > 1 else ""
    print(f"jobs_per_second_{name}_{workers}_worker{plural}: {len(jobs) / seconds:.1f} jobs/s")
    print(f"jobs_failed_{name}_{workers}_worker{plural}: {failed} jobs")


def commit_to_completion(env, app, tmp: Path, n: int) -> None:
    """One worker with its chores every second; one event at a time: committed, dispatched,
    waited for (so that the figure is latency, not a queue building up)."""
    from rq.job import Job
    from sqlalchemy import insert, select

    from app.accounts.models import User
    from app.extensions import db
    from app.outbox.services import dispatch_committed, job_id_for, record_event

    connection = app.extensions["redis"]
    worker = WorkerProcess(env, tmp / "latency.log", WORKER)
    worker.start()
    latencies = []
    with app.app_context():
        emails = [f"latency-{i}@bench.test" for i in range(n)]
        db.session.execute(
            insert(User),
            [
                {"email": e, "password_hash": "!", "role": "customer", "session_token": e}
                for e in emails
            ],
        )
        db.session.commit()
        for user_id in db.session.scalars(select(User.id).where(User.email.in_(emails))).all():
            event = record_event("user.registered", user_id=user_id)
            db.session.commit()
            committed = time.time()
            dispatch_committed()
            job_id = job_id_for(event.id, "send_verification_email")

            def ended(job_id: str = job_id) -> Job | None:
                job = Job.fetch_many([job_id], connection=connection)[0]
                return job if job is not None and job.ended_at else None

            job = wait_until(ended, 60, "the job ran")
            latencies.append((job.ended_at.replace(tzinfo=UTC).timestamp() - committed) * 1000)
    worker.stop()
    _clear_registries(app)
    print(f"commit_to_done_p50: {pct(latencies, 50):.0f} ms")
    print(f"commit_to_done_p95: {pct(latencies, 95):.0f} ms")


def pages(env, app, tmp: Path, redis: RedisServer, rounds: int) -> None:
    from sqlalchemy import select

    from app.catalog.models import Product
    from app.extensions import db

    with app.app_context():
        slugs = db.session.scalars(select(Product.slug).limit(20)).all()
        db.session.remove()
    paths = [
        "/",
        *(f"/categories/{s}" for s in category_slugs()[:3]),
        *(f"/products/{s}" for s in slugs),
    ]
    port = free_port()
    server = WorkerProcess(
        env,
        tmp / "gunicorn.log",
        ["-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
    )
    server.start(wait=False)
    wait_for_port(port, timeout=60)

    def measure() -> list[float]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        times = []
        for _ in range(rounds):
            for path in paths:
                start = time.perf_counter()
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                assert response.status == 200, (path, response.status)
                times.append((time.perf_counter() - start) * 1000)
        conn.close()
        return times

    try:
        measure()  # warm
        up = measure()
        redis.pause()
        try:
            paused = measure()
        finally:
            redis.resume()
    finally:
        server.kill()
    print(f"page_p50_redis_up: {statistics.median(up):.1f} ms")
    print(f"page_p95_redis_up: {pct(up, 95):.1f} ms")
    print(f"page_p50_redis_paused: {statistics.median(paused):.1f} ms")
    print(f"page_p95_redis_paused: {pct(paused, 95):.1f} ms")
    print(f"page_max_redis_paused: {max(paused):.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    if args.database_url and "/bench_jobs" not in args.database_url:
        sys.exit("--database-url must name a bench_jobs* database (its schema is dropped)")
    with tempfile.TemporaryDirectory(prefix="bench-jobs-") as folder:
        tmp = Path(folder)
        env, redis, smtp = prepare(tmp, args.database_url)
        app = bench_app(env)
        try:
            for workers in (1, 2):
                throughput(env, app, tmp, "noop", enqueue_noops(app, args.jobs), workers)
                ids = enqueue_emails(app, args.jobs, f"w{workers}")
                throughput(env, app, tmp, "email", ids, workers)
            print(f"emails_received: {len(smtp.mailbox.messages)} messages")
            commit_to_completion(env, app, tmp, 50)
            pages(env, app, tmp, redis, rounds=5)
        finally:
            smtp.stop()
            redis.close()
            from app.extensions import db

            with app.app_context():
                db.engine.dispose()


if __name__ == "__main__":
    main()
