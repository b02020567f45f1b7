"""`flask worker` as a test runs it, after its process has used a database connection of its own
(as the worker's sweep does): that connection's backend pid is published in Redis, so a test
can check that no work horse reuses it."""

from __future__ import annotations

import json
import os

from app import create_app
from app.extensions import db
from app.queue import QUEUES
from app.worker import run_worker
from tests.jobs.probe import backend_pid

WORKER_CONNECTION_KEY = "test:worker-connection"


def main() -> None:
    app = create_app()
    with app.app_context():
        backend = backend_pid()
        db.session.commit()  # the connection goes back to the pool, open, for the sweep
        app.extensions["redis"].set(
            WORKER_CONNECTION_KEY, json.dumps({"pid": os.getpid(), "backend": backend})
        )
    run_worker(app, list(QUEUES))


if __name__ == "__main__":
    main()
