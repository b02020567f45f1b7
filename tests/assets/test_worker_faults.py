"""The scan pipeline in real forking workers (`flask worker` processes): a worker killed with
SIGKILL mid-scan, and the sweep that finds the version stuck in "scanning"."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.assets.models import ProductVersion
from app.extensions import db
from app.outbox.models import Event
from tests.assets import samples
from tests.assets.factories import draft, upload
from tests.conftest import start_clamd
from tests.support.services import WorkerProcess, wait_until

pytestmark = pytest.mark.faults


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(env: dict[str, str]) -> WorkerProcess:
        worker = WorkerProcess(env, tmp_path / f"worker-{len(started)}.log")
        started.append(worker)
        worker.start()
        return worker

    yield start
    for worker in started:
        worker.kill()


def _version(app, version_id: int) -> ProductVersion:
    with app.app_context():
        version = db.session.get(ProductVersion, version_id)
        db.session.expunge(version)
        return version


def test_a_worker_killed_mid_scan_is_swept_and_the_version_ends_clean(
    app, app_env, make_user, workers
):
    shutil.rmtree(Path(app.config["APP_CONFIG"].storage_dir) / "versions", ignore_errors=True)
    clamd = start_clamd()
    env = {
        **app_env,
        "CLAMD_SOCKET": clamd.socket_path,
        "CLAMD_TIMEOUT_SECONDS": "60",
        "SCAN_TIMEOUT_SECONDS": "3",
        "OUTBOX_SWEEP_SECONDS": "1",
        "OUTBOX_GRACE_SECONDS": "3600",  # the version sweep, not the outbox, must save it
        "JOB_HEARTBEAT_SECONDS": "1",
        "LOG_LEVEL": "INFO",
    }
    try:
        product_id = draft(app, make_user)
        with app.app_context():
            version_id = upload(product_id, samples.workflow_bytes()).id
        clamd.pause()  # the scan hangs on clamd's answer
        first = workers(env)
        wait_until(lambda: _version(app, version_id).status == "scanning", 30, "the scan started")
        first.kill()  # the worker and its work horse, mid-scan
        # Its job is gone from Redis too, so RQ's own retries cannot save it: only the
        # version sweep, which reads the database, can.
        app.extensions["redis"].flushall()
        clamd.resume()
        assert _version(app, version_id).status == "scanning"
        workers(env)
        wait_until(
            lambda: _version(app, version_id).status == "clean", 60, "the swept scan finished"
        )
        version = _version(app, version_id)
        assert version.attempts >= 2 and version.scanner.startswith("clamd")
        with app.app_context():
            scanned = db.session.scalar(
                select(func.count()).select_from(Event).where(Event.name == "version.scanned")
            )
        assert scanned == 1  # however many jobs ran, one verdict
    finally:
        clamd.close()
