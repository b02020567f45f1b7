"""Analysis for product pages and search: types, triggers, credentials, AI, risks, graph."""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from app.n8n.catalog import describe, short_name
from app.n8n.graph import Link, islands, links, loops, topological_order
from app.n8n.model import Node, Workflow
from app.n8n.validate import AI_CONNECTION_TYPES

_TRIGGER_KINDS = {
    "manualTrigger": "manual",
    "start": "manual",
    "scheduleTrigger": "schedule",
    "cron": "schedule",
    "interval": "schedule",
    "webhook": "webhook",
    "chatTrigger": "chat",
    "manualChatTrigger": "chat",
    "formTrigger": "form",
    "executeWorkflowTrigger": "sub_workflow",
    "errorTrigger": "error",
    "mcpTrigger": "mcp",
}
_CODE_TYPES = frozenset({"code", "function", "functionItem", "aiTransform", "toolCode"})
_SHELL_TYPES = frozenset({"executeCommand", "executeCommandTool"})
_FILE_TYPES = frozenset(
    {"readWriteFile", "readBinaryFile", "readBinaryFiles", "writeBinaryFile", "localFileTrigger"}
)
_HTTP_TYPES = frozenset({"httpRequest", "httpRequestTool", "toolHttpRequest"})
_AUTH_TRIGGERS = frozenset({"webhook", "mcpTrigger"})
# Reverse lookup of AI wiring: the edge type names the role of the sub-node.
_AI_ROLES = {
    "ai_languageModel": "models",
    "ai_tool": "tools",
    "ai_memory": "memory",
    "ai_outputParser": "output_parsers",
    "ai_retriever": "retrievers",
    "ai_vectorStore": "vector_stores",
    "ai_embedding": "embeddings",
    "ai_document": "documents",
    "ai_textSplitter": "text_splitters",
    "ai_reranker": "rerankers",
    "ai_agent": "agents",
    "ai_chain": "chains",
}
_LITERAL_HOST = re.compile(r"https?://[^/{}\s?#]+(?:[/?#]|$)", re.IGNORECASE)


@dataclass(slots=True)
class Analysis:
    """Everything the app stores about a workflow; ``to_dict()`` is plain JSON."""

    name: str | None
    node_count: int
    sticky_count: int
    connection_count: int
    node_types: list[dict[str, Any]] = field(default_factory=list)
    triggers: list[dict[str, Any]] = field(default_factory=list)
    credentials: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    ai: list[dict[str, Any]] = field(default_factory=list)
    complexity: dict[str, Any] = field(default_factory=dict)
    risk_flags: list[dict[str, str]] = field(default_factory=list)
    graph: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def analyse(workflow: Workflow) -> Analysis:
    """Derive the Analysis; never raises on a parsed workflow, whatever its findings."""
    active = workflow.active_nodes
    resolved = links(workflow)
    count = len(workflow.nodes)
    main_successors: list[list[int]] = [[] for _ in range(count)]
    for link in resolved:
        if link.edge.kind == "main" and link.target not in main_successors[link.source]:
            main_successors[link.source].append(link.target)
    member_ids = [n.index for n in active]
    cycles = loops(count, main_successors)
    # AI sub-nodes (wired only by their ai_* output) are not steps of the flow.
    ai_sources = {link.source for link in resolved if link.edge.kind in AI_CONNECTION_TYPES}
    main_ends = {
        end for link in resolved if link.edge.kind == "main" for end in (link.source, link.target)
    }
    steps = [i for i in member_ids if i not in ai_sources or i in main_ends]
    order = topological_order(steps, main_successors)
    groups = islands(member_ids, [(link.source, link.target) for link in resolved])
    names = [n.name for n in workflow.nodes]
    branches = sum(max(0, len(targets) - 1) for targets in main_successors)
    triggers = _triggers(active)
    ai = _ai_components(workflow, active, resolved)
    score = len(active) + 2 * branches + 3 * len(cycles) + 2 * len(ai)
    return Analysis(
        name=workflow.name,
        node_count=len(active),
        sticky_count=len(workflow.nodes) - len(active),
        connection_count=len(workflow.edges),
        node_types=_node_types(active),
        triggers=triggers,
        credentials=_credentials(active),
        services=_services(active),
        ai=ai,
        complexity={
            "nodes": len(active),
            "edges": len(workflow.edges),
            "branches": branches,
            "loops": len(cycles),
            "islands": len(groups),
            "triggers": len(triggers),
            "ai_components": len(ai),
            "score": score,
            "level": "simple" if score <= 10 else "moderate" if score <= 30 else "complex",
        },
        risk_flags=_risk_flags(active),
        graph={
            "order": None if order is None else [names[i] for i in order],
            "loops": [[names[i] for i in cycle] for cycle in cycles],
            "islands": [[names[i] for i in group] for group in groups],
        },
    )


def _node_types(active: list[Node]) -> list[dict[str, Any]]:
    counts = Counter(n.type for n in active)
    rows = []
    for type_id, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        kind = describe(type_id)
        rows.append(
            {
                "type": type_id,
                "display_name": kind.display_name,
                "category": kind.category,
                "service": kind.service,
                "community": kind.is_community,
                "count": count,
            }
        )
    return rows


def trigger_kind(type_id: str) -> str | None:
    """webhook, schedule, manual, chat, form, app_event, sub_workflow, error or mcp."""
    kind = describe(type_id)
    if not kind.is_trigger:
        return None
    return _TRIGGER_KINDS.get(short_name(type_id), "app_event")


def _triggers(active: list[Node]) -> list[dict[str, Any]]:
    found = []
    for node in active:
        kind = trigger_kind(node.type)
        if kind is not None:
            found.append(
                {"node": node.name, "type": node.type, "kind": kind, "disabled": node.disabled}
            )
    return found


def _credentials(active: list[Node]) -> list[str]:
    types = {ref.type for node in active for ref in node.credentials}
    for node in active:
        if short_name(node.type) not in _HTTP_TYPES:
            continue
        params = node.parameters
        # The HTTP node names the credential type it borrows in a parameter.
        if params.get("authentication") == "predefinedCredentialType":
            value = params.get("nodeCredentialType")
        elif params.get("authentication") == "genericCredentialType":
            value = params.get("genericAuthType")
        else:
            value = None
        if isinstance(value, str) and value.isidentifier():
            types.add(value)
    return sorted(types)


def _services(active: list[Node]) -> list[str]:
    services = {describe(n.type).service for n in active} - {None}
    for node in active:
        if short_name(node.type) in _HTTP_TYPES:
            host = _literal_host(node.parameters.get("url"))
            if host:
                services.add(host)
    return sorted(s for s in services if s)


def _literal_host(url: Any) -> str | None:
    if not isinstance(url, str):
        return None
    text = url[1:] if url.startswith("=") else url
    match = _LITERAL_HOST.match(text.strip())
    if match is None:
        return None
    host = urlsplit(match.group()).hostname
    return host.lower() if host else None


def _ai_components(
    workflow: Workflow, active: list[Node], resolved: list[Link]
) -> list[dict[str, Any]]:
    inputs: dict[int, dict[str, list[str]]] = {}
    for link in resolved:
        kind = link.edge.target_kind
        if kind in AI_CONNECTION_TYPES:
            role = _AI_ROLES.get(kind, kind)
            names = inputs.setdefault(link.target, {}).setdefault(role, [])
            source_name = workflow.nodes[link.source].name
            if source_name not in names:
                names.append(source_name)
    components = []
    for node in active:
        wired = inputs.get(node.index)
        short = short_name(node.type)
        is_root = short in ("agent", "agentTool") or short.startswith("chain")
        if wired is None and not is_root:
            continue
        entry: dict[str, Any] = {"node": node.name, "type": node.type}
        entry["kind"] = (
            "agent"
            if short.startswith("agent")
            else ("chain" if short.startswith("chain") else "component")
        )
        for role in ("models", "tools", "memory", "output_parsers"):
            entry[role] = (wired or {}).get(role, [])
        for role, names in sorted((wired or {}).items()):
            entry.setdefault(role, names)
        components.append(entry)
    return components


def _risk_flags(active: list[Node]) -> list[dict[str, str]]:
    flags = []
    for node in active:
        short = short_name(node.type)
        langchain_code = node.type == "@n8n/n8n-nodes-langchain.code"
        if short in _CODE_TYPES or langchain_code:
            flags.append(_flag("code_execution", node, "runs custom code"))
        elif short in _SHELL_TYPES:
            flags.append(_flag("shell_command", node, "runs shell commands on the n8n host"))
        elif short == "ssh":
            flags.append(_flag("ssh", node, "runs commands on a remote host over SSH"))
        elif short in _FILE_TYPES:
            flags.append(_flag("file_system", node, "reads or writes files on the n8n host"))
        elif short in _HTTP_TYPES:
            flags.extend(_http_flags(node))
        elif short in _AUTH_TRIGGERS and _without_auth(node):
            flags.append(_flag("webhook_no_auth", node, "public endpoint without authentication"))
    return flags


def _without_auth(node: Node) -> bool:
    auth = node.parameters.get("authentication", "none")
    return auth in ("none", None, "")


def _http_flags(node: Node) -> list[dict[str, str]]:
    url = node.parameters.get("url")
    if not isinstance(url, str) or not url:
        return []
    flags = []
    host = _literal_host(url)
    if host is not None and _is_ip(host):
        flags.append(_flag("http_raw_ip", node, "HTTP request to a raw IP address"))
    if url.startswith("=") and "{{" in url:
        if host is None:
            flags.append(
                _flag("http_dynamic_host", node, "HTTP request to a host built from an expression")
            )
        else:
            flags.append(
                _flag("http_expression_url", node, "HTTP request URL built from an expression")
            )
    return flags


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _flag(code: str, node: Node, message: str) -> dict[str, str]:
    return {"code": code, "node": node.name, "type": node.type, "message": message}
