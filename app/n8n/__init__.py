"""n8n workflows as a pure library: parse, validate, analyse, scan for secrets, render SVG."""

from app.n8n.analyse import Analysis, analyse
from app.n8n.errors import WorkflowError
from app.n8n.limits import DEFAULT_LIMITS, Limits
from app.n8n.model import CredentialRef, Edge, Finding, Node, Workflow
from app.n8n.parse import parse_workflow, parse_workflows
from app.n8n.render import RenderOptions, render_svg
from app.n8n.secrets import SecretFinding, redact_document, scan_document
from app.n8n.validate import validate

__all__ = [
    "DEFAULT_LIMITS",
    "Analysis",
    "CredentialRef",
    "Edge",
    "Finding",
    "Limits",
    "Node",
    "RenderOptions",
    "SecretFinding",
    "Workflow",
    "WorkflowError",
    "analyse",
    "parse_workflow",
    "parse_workflows",
    "redact_document",
    "render_svg",
    "scan_document",
    "validate",
]
