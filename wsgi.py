"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

import gc

from app import create_app

app = create_app()
# What start-up built lives as long as the process: kept out of the collector's full passes,
# which would otherwise walk its ~200k objects (about 70 ms) every few requests.
gc.freeze()
