"""Command-line tools: create-admin, seed, outbox sweep, notifications digest, worker; search,
n8n and vendors groups."""

from __future__ import annotations

import logging

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo, pass_script_info, with_appcontext

from app.extensions import db

log = logging.getLogger(__name__)


def register(app: Flask) -> None:
    from app.n8n.cli import n8n as n8n_group
    from app.search.cli import search_group
    from app.vendors.cli import vendors_group

    app.cli.add_command(create_admin_command)
    app.cli.add_command(seed_command)
    app.cli.add_command(outbox_group)
    app.cli.add_command(notifications_group)
    app.cli.add_command(worker_command)
    app.cli.add_command(search_group)
    app.cli.add_command(n8n_group)
    app.cli.add_command(vendors_group)


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


@click.group("notifications")
def notifications_group() -> None:
    """Notifications."""


@notifications_group.command("digest")
@with_appcontext
def notifications_digest_command() -> None:
    """Send the daily digests that are due (the worker's chore does this on its own)."""
    from app.notifications.services import send_due_digests

    click.echo(f"{send_due_digests()} digests sent.")


@click.group("outbox")
def outbox_group() -> None:
    """The transactional outbox."""


@outbox_group.command("sweep")
@with_appcontext
def outbox_sweep_command() -> None:
    """Dispatch events that never reached the queue; resend lost jobs; mark failed ones."""
    from app.outbox.services import sweep_outbox

    report = sweep_outbox()
    click.echo(f"dispatched {report.dispatched} event(s)")
    click.echo(
        f"sent again {report.redispatched}, failed {report.failed}, "
        f"found delivered {report.delivered}"
    )


def sweep() -> None:
    """The worker's chores once, for the current app: due retries, abandoned jobs, the outbox
    sweep, page views (each outliving the others' failures)."""
    from app.worker import Chores

    Chores(current_app._get_current_object()).run_once()  # type: ignore[attr-defined]


@click.command("worker")
@click.option("--queues", default="search,scan,default", show_default=True)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@pass_script_info
def worker_command(info: ScriptInfo, queues: str, burst: bool) -> None:
    """Run an RQ worker (forking a work horse per job) with its chores: due retries,
    abandoned jobs, the outbox sweep and page views."""
    from app.queue import QUEUES
    from app.worker import run_worker

    app = info.load_app()
    if app.extensions.get("redis") is None:
        raise click.ClickException("REDIS_URL is not set: without Redis, jobs run in-process.")
    names = [name.strip() for name in queues.split(",") if name.strip()]
    unknown = sorted(set(names) - set(QUEUES))
    if unknown or not names:
        raise click.ClickException(
            f"unknown queue(s) {', '.join(unknown) or '(none given)'}; the queues are "
            f"{', '.join(QUEUES)}"
        )
    run_worker(app, names, burst=burst)
