"""`flask search reindex`: rebuild the index from the database and swap it in."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.search.backend import search_backend
from app.search.services import count_public_products, reindex_all


@click.group("search")
def search_group() -> None:
    """The product search index."""


@search_group.command("reindex")
@with_appcontext
def reindex_command() -> None:
    """Rebuild the index (readers keep the old one until the new one is complete)."""
    label = f"Indexing products ({search_backend().name})"
    with click.progressbar(length=count_public_products(), label=label) as bar:
        count = reindex_all(progress=bar.update)
    click.echo(f"indexed {count} product(s)")
