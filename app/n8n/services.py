"""One call per use: the JSON-line record, the SVG and the redacted copy of an uploaded file."""

from __future__ import annotations

import json
from typing import Any

from app.n8n.analyse import analyse
from app.n8n.errors import WorkflowError
from app.n8n.limits import DEFAULT_LIMITS, Limits
from app.n8n.parse import parse_workflow
from app.n8n.render import RenderOptions, Theme, render_svg
from app.n8n.secrets import redact_document, scan_document
from app.n8n.validate import validate


def dump_json(value: Any, indent: int | None = None) -> str:
    """JSON text to write as UTF-8.

    A name may hold a lone surrogate (legal as a JSON escape) that UTF-8 cannot encode; then
    the whole text is written with ASCII escapes.
    """
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(value, indent=indent)
    return text


def rejected_record(file: str, error: str | None) -> dict[str, Any]:
    """The ``n8n analyse --json`` record of a file that was not accepted."""
    return {
        "file": file,
        "ok": False,
        "error": error,
        "nodes": 0,
        "connections": 0,
        "node_types": [],
        "triggers": [],
        "credentials": [],
        "secrets": [],
        "risk_flags": [],
        "warnings": [],
    }


def inspect_workflow(data: bytes, file: str, limits: Limits = DEFAULT_LIMITS) -> dict[str, Any]:
    """The ``n8n analyse --json`` record for one file; rejections come back as ``ok: false``."""
    record = rejected_record(file, None)
    try:
        workflow = parse_workflow(data, limits)
    except WorkflowError as exc:
        record["error"] = str(exc)
        return record
    analysis = analyse(workflow)
    record.update(
        ok=True,
        nodes=analysis.node_count,
        connections=analysis.connection_count,
        node_types=sorted({row["type"] for row in analysis.node_types}),
        triggers=analysis.triggers,
        credentials=analysis.credentials,
        secrets=[{"pointer": f.pointer, "kind": f.kind} for f in scan_document(workflow.document)],
        risk_flags=analysis.risk_flags,
        warnings=[finding.to_dict() for finding in validate(workflow)],
    )
    return record


def render_workflow(data: bytes, theme: Theme = "light", limits: Limits = DEFAULT_LIMITS) -> str:
    """The SVG preview; raises WorkflowError for a rejected file."""
    return render_svg(parse_workflow(data, limits), RenderOptions(theme=theme))


def redact_workflow(data: bytes, limits: Limits = DEFAULT_LIMITS) -> tuple[str, int]:
    """The whole document as JSON with every secret replaced, and how many were replaced.

    Raises WorkflowError for a file that is not a workflow.
    """
    workflow = parse_workflow(data, limits)
    findings = scan_document(workflow.document)
    redacted = redact_document(workflow.document, findings)
    return dump_json(redacted, indent=2) + "\n", len(findings)
