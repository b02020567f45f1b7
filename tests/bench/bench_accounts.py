"""Account timing benchmark: sign-up and forgot-password, for a known and an unknown email.

Run: .venv/bin/python tests/bench/bench_accounts.py [--rounds 20]
Prints `name: value unit` lines: the median answer time of each path through the test client
(a migrated SQLite database, a private redis-server so mail goes through the queue as in
production). Known and unknown emails should answer in about the same time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db, limiter  # noqa: E402
from tests.conftest import PASSWORD, csrf_token  # noqa: E402
from tests.support.services import RedisServer  # noqa: E402


def _timed(client, path: str, data: dict[str, str]) -> float:
    data = {**data, "csrf_token": csrf_token(client, path)}
    start = time.perf_counter()
    response = client.post(path, data=data)
    elapsed = time.perf_counter() - start
    assert response.status_code == 303, response.status_code
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    rounds = parser.parse_args().rounds
    redis = RedisServer()
    redis.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            app = create_app(
                env={
                    "APP_ENV": "test",
                    "SECRET_KEY": "b" * 40,
                    "DATABASE_URL": f"sqlite:///{tmp}/bench.db",
                    "REDIS_URL": redis.url,
                    "RATELIMIT_STORAGE_URI": "memory://",
                    "STORAGE_DIR": f"{tmp}/storage",
                    "SEARCH_INDEX_DIR": f"{tmp}/search",
                    "LOG_LEVEL": "ERROR",
                }
            )
            with app.app_context():
                upgrade()
            client = app.test_client()
            signup = {"password": PASSWORD, "confirm": PASSWORD}
            _timed(client, "/signup", {"email": "known@example.com", **signup})
            times: dict[str, list[float]] = {
                "signup_known_email": [],
                "signup_unknown_email": [],
                "forgot_known_email": [],
                "forgot_unknown_email": [],
            }
            for n in range(rounds):
                with app.app_context():
                    limiter.reset()
                known = {"email": "known@example.com"}
                times["signup_known_email"].append(_timed(client, "/signup", {**known, **signup}))
                times["signup_unknown_email"].append(
                    _timed(client, "/signup", {"email": f"new{n}@example.com", **signup})
                )
                times["forgot_known_email"].append(_timed(client, "/password/forgot", known))
                times["forgot_unknown_email"].append(
                    _timed(client, "/password/forgot", {"email": f"nobody{n}@example.com"})
                )
            for name, values in times.items():
                print(f"{name}: {statistics.median(values) * 1000:.1f} ms")
            with app.app_context():
                db.engine.dispose()
    finally:
        redis.close()


if __name__ == "__main__":
    main()
