"""Command-line tools: create-admin, seed, outbox sweep, worker; search and n8n groups."""

from __future__ import annotations

import logging
import threading

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app.extensions import db

log = logging.getLogger(__name__)


def register(app: Flask) -> None:
    from app.n8n.cli import n8n as n8n_group
    from app.search.cli import search_group

    app.cli.add_command(create_admin_command)
    app.cli.add_command(seed_command)
    app.cli.add_command(outbox_group)
    app.cli.add_command(worker_command)
    app.cli.add_command(search_group)
    app.cli.add_command(n8n_group)


@click.command("create-admin")
@click.argument("email")
@click.password_option(help="The admin's password (prompted when not given).")
@with_appcontext
def create_admin_command(email: str, password: str) -> None:
    """Create an admin account for EMAIL (or promote an existing account)."""
    from app.accounts.services import WeakPassword, create_admin
    from app.outbox.services import dispatch_committed

    try:
        user = create_admin(email, password)
    except WeakPassword as exc:
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    dispatch_committed()
    click.echo(f"{user.email} is an admin.")


@click.command("seed")
@with_appcontext
def seed_command() -> None:
    """Create the demo marketplace (idempotent); needs the source tree's demo/ folder."""
    from app.outbox.services import dispatch_committed

    try:
        from demo import seed
    except ModuleNotFoundError as exc:
        if exc.name != "demo":
            raise
        # The demo data ships with the source tree, not in the wheel.
        raise click.ClickException("No demo data here: run `flask seed` from a checkout.") from exc

    for line in seed():
        click.echo(line)
    dispatch_committed()


@click.group("outbox")
def outbox_group() -> None:
    """The transactional outbox."""


@outbox_group.command("sweep")
@with_appcontext
def outbox_sweep_command() -> None:
    """Dispatch events that were committed but never handed to the queue."""
    from app.outbox.services import dispatch_pending

    click.echo(f"dispatched {dispatch_pending()} event(s)")


@click.command("worker")
@click.option("--queues", default="search,scan,default", show_default=True)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@with_appcontext
def worker_command(queues: str, burst: bool) -> None:
    """Run an RQ worker with the scheduler (retries) and the periodic sweep (outbox, page views)."""
    from rq import Worker

    from app.queue import get_queue, redis_connection

    connection = redis_connection()
    if connection is None:
        raise click.ClickException("REDIS_URL is not set: without Redis, jobs run in-process.")
    app = current_app._get_current_object()
    names = [name.strip() for name in queues.split(",") if name.strip()]
    sweep()  # catch up before taking jobs (a burst run's only sweep)
    stop = threading.Event()
    if not burst:
        threading.Thread(target=_sweep_forever, args=(app, stop), daemon=True).start()
    worker = Worker([get_queue(name, connection) for name in names], connection=connection)
    try:
        worker.work(with_scheduler=True, burst=burst)
    finally:
        stop.set()


def sweep() -> None:
    """The worker's periodic chores, each outliving the other's failure (a database or Redis
    hiccup): dispatch outbox events that never reached the queue, write noted page views."""
    from app.catalog import pageviews
    from app.outbox.services import dispatch_pending

    for chore, run in (
        ("outbox events dispatched", dispatch_pending),
        ("page views", pageviews.flush),
    ):
        try:
            count = run()
        except Exception:
            db.session.rollback()  # the next chore starts on a clean session
            log.exception("sweep: %s failed", chore)
        else:
            if count:
                log.info("sweep: %s: %d", chore, count)


def _sweep_forever(app: Flask, stop: threading.Event) -> None:
    interval = app.config["APP_CONFIG"].outbox_sweep_seconds
    while not stop.wait(interval):
        with app.app_context():
            sweep()
