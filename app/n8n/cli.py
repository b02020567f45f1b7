"""The ``n8n`` command group (``flask n8n`` or ``python -m app.n8n``): analyse, render, redact."""

from __future__ import annotations

from pathlib import Path

import click

from app.n8n.errors import WorkflowError
from app.n8n.services import (
    dump_json,
    inspect_workflow,
    redact_workflow,
    rejected_record,
    render_workflow,
)


def _read(path: Path) -> bytes:
    """The file's bytes; raises OSError with a message fit for a rejection line."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise OSError(f"cannot read file: {exc.strerror or exc}") from None


@click.group(name="n8n")
def n8n() -> None:
    """Inspect, preview and redact n8n workflow files."""


@n8n.command("analyse")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file per line.")
def analyse_command(files: tuple[Path, ...], as_json: bool) -> None:
    """Analyse FILES; rejected files are reported (ok: false) and the exit status stays 0."""
    for path in files:
        try:
            record = inspect_workflow(_read(path), str(path))
        except OSError as exc:
            record = rejected_record(str(path), str(exc))
        if as_json:
            click.echo(dump_json(record))
        elif record["ok"]:
            click.echo(
                f"{path}: {record['nodes']} nodes, {record['connections']} connections, "
                f"{len(record['secrets'])} secrets, {len(record['risk_flags'])} risk flags, "
                f"{len(record['warnings'])} warnings"
            )
        else:
            click.echo(f"{path}: rejected: {record['error']}")


@n8n.command("render")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for <file stem>.svg.",
)
@click.option("--theme", type=click.Choice(["light", "dark"]), default="light", show_default=True)
def render_command(files: tuple[Path, ...], out_dir: Path, theme: str) -> None:
    """Write OUT/<stem>.svg for each accepted file; exit 1 if any file was rejected."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rejected = 0
    for path in files:
        try:
            svg = render_workflow(_read(path), theme)
        except (OSError, WorkflowError) as exc:
            rejected += 1
            click.echo(f"{path}: rejected: {exc}", err=True)
            continue
        (out_dir / f"{path.stem}.svg").write_text(svg, encoding="utf-8")
    if rejected:
        raise SystemExit(1)


@n8n.command("redact")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
def redact_command(file: Path, output: Path) -> None:
    """Write a copy of FILE with every hard-coded secret replaced by [REDACTED:<kind>]."""
    try:
        text, count = redact_workflow(_read(file))
    except (OSError, WorkflowError) as exc:
        click.echo(f"{file}: rejected: {exc}", err=True)
        raise SystemExit(1) from None
    output.write_text(text, encoding="utf-8")
    click.echo(f"{file}: {count} secret(s) redacted -> {output}")
