"""Parse uploaded bytes into the typed Workflow model, accepting every shape real exports take."""

from __future__ import annotations

import hashlib
import math
from types import UnionType
from typing import Any

from app.n8n.errors import WorkflowError
from app.n8n.jsonload import load_json
from app.n8n.limits import DEFAULT_LIMITS, Limits
from app.n8n.model import CredentialRef, Edge, Finding, Node, Workflow
from app.n8n.pointer import join

_MAX_TYPE_LENGTH = 256
_MAX_NAME_LENGTH = 1_000
# Positions beyond this are clamped: the corpus spans about ±1.5e5, hostile files 1e308.
_MAX_COORDINATE = 1e6


def parse_workflow(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Workflow:
    """The workflow in ``data`` (the first one when a CLI export array holds several).

    Raises WorkflowError with a message and a location for anything that is not a workflow.
    """
    workflows = parse_workflows(data, limits)
    first = workflows[0]
    if len(workflows) > 1:
        _warn(
            first.problems,
            "several_workflows",
            f"the file holds {len(workflows)} workflows; only the first is used",
            "",
        )
    return first


def parse_workflows(data: bytes, limits: Limits = DEFAULT_LIMITS) -> list[Workflow]:
    """Every workflow in ``data``: one, or each element of a CLI array export that has nodes."""
    document = load_json(data, limits)
    digest = hashlib.sha256(data).hexdigest()
    workflows = []
    for raw, pointer in _locate(document):
        workflow = _build(raw, pointer, limits)
        if pointer and isinstance(document, dict):
            # A template wrapper carries the name and id the inner object lacks.
            if workflow.name is None and isinstance(document.get("name"), str):
                workflow.name = document["name"]
            if workflow.id is None:
                workflow.id = _identifier(document.get("id"))
        workflow.sha256 = digest
        workflow.document = document
        workflows.append(workflow)
    return workflows


def _has_nodes(value: Any) -> bool:
    return isinstance(value, dict) and "nodes" in value


def _locate(document: Any) -> list[tuple[dict[str, Any], str]]:
    """Find the workflow object(s): top level, a CLI array, or a template wrapper."""
    if isinstance(document, list):
        found = [(item, f"/{i}") for i, item in enumerate(document) if _has_nodes(item)]
        if found:
            return found
        if document and all(_is_credential(item) for item in document):
            raise WorkflowError("this is an n8n credentials export, not a workflow", "")
        raise WorkflowError("expected a workflow object; found an array without workflows", "")
    if not isinstance(document, dict):
        raise WorkflowError(f"expected a workflow object; found {_kind(document)}", "")
    if _has_nodes(document):
        return [(document, "")]
    if _is_credential(document):
        raise WorkflowError("this is an n8n credential, not a workflow", "")
    # Template APIs wrap the workflow once or twice: {"workflow": {"workflow": {...}}}.
    for key, child in document.items():
        if _has_nodes(child):
            return [(child, join("", key))]
    for key, child in document.items():
        if isinstance(child, dict):
            for inner_key, inner in child.items():
                if _has_nodes(inner):
                    return [(inner, join("", key, inner_key))]
    raise WorkflowError("expected a workflow object with a 'nodes' array; none found", "")


def _is_credential(value: Any) -> bool:
    return isinstance(value, dict) and "type" in value and isinstance(value.get("data"), str | dict)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _expect(value: Any, kind: type | UnionType, what: str, pointer: str) -> None:
    """Raise unless ``value`` is a ``kind``; a boolean never passes (bool is an int subclass)."""
    if not isinstance(value, kind) or isinstance(value, bool):
        raise WorkflowError(f"{what}; found {_kind(value)}", pointer)


def _warn(problems: list[Finding], code: str, message: str, pointer: str) -> None:
    problems.append(Finding("warning", code, message, pointer))


def _build(raw: dict[str, Any], base: str, limits: Limits) -> Workflow:
    raw_nodes = raw["nodes"]
    _expect(raw_nodes, list, "'nodes' must be an array", join(base, "nodes"))
    if len(raw_nodes) > limits.max_nodes:
        raise WorkflowError(
            f"{len(raw_nodes):,} nodes; the limit is {limits.max_nodes:,}", join(base, "nodes")
        )
    raw_connections = raw.get("connections", {})
    if raw_connections is None:
        raw_connections = {}
    _expect(raw_connections, dict, "'connections' must be an object", join(base, "connections"))
    _check_connection_limits(raw_connections, base, limits)

    problems: list[Finding] = []
    if "connections" not in raw:
        _warn(problems, "no_connections", "no 'connections' object", base)
    nodes = [_node(item, i, join(base, "nodes", i), problems) for i, item in enumerate(raw_nodes)]
    name_index: dict[str, int] = {}
    for node in nodes:
        name_index.setdefault(node.name, node.index)
    edges = _edges(raw_connections, join(base, "connections"), problems)

    name = raw.get("name")
    raw_id = raw.get("id")
    settings = raw.get("settings")
    pin_data = raw.get("pinData")
    return Workflow(
        nodes=nodes,
        edges=edges,
        pointer=base,
        name=name if isinstance(name, str) else None,
        id=_identifier(raw_id),
        settings=settings if isinstance(settings, dict) else {},
        pin_data=pin_data if isinstance(pin_data, dict) else {},
        problems=problems,
        name_index=name_index,
    )


def _identifier(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _check_connection_limits(connections: dict[str, Any], base: str, limits: Limits) -> None:
    """Count outputs and edges before any edge object is built."""
    total = 0
    for source, by_kind in connections.items():
        if not isinstance(by_kind, dict):
            continue
        for kind, slots in by_kind.items():
            if not isinstance(slots, list):
                continue
            if len(slots) > limits.max_outputs:
                raise WorkflowError(
                    f"{len(slots):,} outputs on one node; the limit is {limits.max_outputs:,}",
                    join(base, "connections", source, kind),
                )
            total += sum(len(slot) for slot in slots if isinstance(slot, list))
            if total > limits.max_edges:
                raise WorkflowError(
                    f"more than {limits.max_edges:,} connections", join(base, "connections")
                )


def _node(raw: Any, index: int, pointer: str, problems: list[Finding]) -> Node:
    _expect(raw, dict, "a node must be an object", pointer)
    name = raw.get("name")
    _expect(name, str, "a node's 'name' must be a string", join(pointer, "name"))
    if not name:
        raise WorkflowError("a node's 'name' must not be empty", join(pointer, "name"))
    if len(name) > _MAX_NAME_LENGTH:
        raise WorkflowError(
            f"a node's 'name' is longer than {_MAX_NAME_LENGTH} characters", join(pointer, "name")
        )
    node_type = raw.get("type")
    _expect(node_type, str, "a node's 'type' must be a string", join(pointer, "type"))
    if not node_type or len(node_type) > _MAX_TYPE_LENGTH:
        raise WorkflowError(
            f"a node's 'type' must have 1 to {_MAX_TYPE_LENGTH} characters", join(pointer, "type")
        )
    version = raw.get("typeVersion", 1)
    _expect(version, int | float, "'typeVersion' must be a number", join(pointer, "typeVersion"))
    if not math.isfinite(version) or not 0 <= version <= 1000:
        raise WorkflowError("'typeVersion' is out of range", join(pointer, "typeVersion"))
    parameters = raw.get("parameters", {})
    if parameters is None:
        parameters = {}
    _expect(parameters, dict, "'parameters' must be an object", join(pointer, "parameters"))
    disabled = raw.get("disabled", False)
    if not isinstance(disabled, bool):
        _warn(
            problems,
            "bad_disabled",
            "'disabled' is not a boolean; ignored",
            join(pointer, "disabled"),
        )
    on_error = raw.get("onError")
    webhook_id = raw.get("webhookId")
    return Node(
        index=index,
        pointer=pointer,
        name=name,
        type=node_type,
        type_version=float(version),
        position=_position(raw.get("position"), join(pointer, "position"), problems),
        disabled=disabled is True,
        id=_identifier(raw.get("id")),
        parameters=parameters,
        credentials=_credentials(raw.get("credentials"), join(pointer, "credentials"), problems),
        on_error=on_error if isinstance(on_error, str) else None,
        webhook_id=webhook_id if isinstance(webhook_id, str) else None,
    )


def _position(value: Any, pointer: str, problems: list[Finding]) -> tuple[float, float] | None:
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        and all(math.isfinite(v) for v in value)
    ):
        x, y = (max(-_MAX_COORDINATE, min(_MAX_COORDINATE, float(v))) for v in value)
        if (x, y) != (float(value[0]), float(value[1])):
            _warn(problems, "position_clamped", "position clamped to ±1e6", pointer)
        return x, y
    _warn(problems, "bad_position", "position is not two finite numbers; placed apart", pointer)
    return None


def _credentials(value: Any, pointer: str, problems: list[Finding]) -> tuple[CredentialRef, ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        _warn(problems, "bad_credentials", "'credentials' is not an object; ignored", pointer)
        return ()
    refs = []
    for cred_type, ref in value.items():
        if isinstance(ref, str):
            # Pre-1.0 exports stored only the credential's name.
            refs.append(CredentialRef(type=cred_type, name=ref))
        elif isinstance(ref, dict):
            ref_id, ref_name = ref.get("id"), ref.get("name")
            inline = bool(set(ref) - {"id", "name", "__aiGatewayManaged"})
            refs.append(
                CredentialRef(
                    type=cred_type,
                    id=_identifier(ref_id),
                    name=ref_name if isinstance(ref_name, str) else None,
                    inline=inline,
                )
            )
            if inline:
                _warn(
                    problems,
                    "inline_credentials",
                    "credential object holds values, not a reference",
                    join(pointer, cred_type),
                )
        else:
            _warn(
                problems,
                "bad_credentials",
                "credential reference ignored",
                join(pointer, cred_type),
            )
    return tuple(refs)


def _edges(connections: dict[str, Any], base: str, problems: list[Finding]) -> list[Edge]:
    edges: list[Edge] = []
    for source, by_kind in connections.items():
        source_pointer = join(base, source)
        if not isinstance(by_kind, dict):
            _warn(problems, "bad_connection", "connections entry is not an object", source_pointer)
            continue
        for kind, slots in by_kind.items():
            kind_pointer = join(source_pointer, kind)
            if not isinstance(slots, list):
                _warn(problems, "bad_connection", "output list is not an array", kind_pointer)
                continue
            for output, slot in enumerate(slots):
                # null slots are legal: a Switch output left unconnected.
                if slot is None:
                    continue
                slot_pointer = join(kind_pointer, output)
                if not isinstance(slot, list):
                    _warn(problems, "bad_connection", "output slot is not an array", slot_pointer)
                    continue
                for position, raw in enumerate(slot):
                    edge = _edge(raw, source, kind, output, join(slot_pointer, position), problems)
                    if edge is not None:
                        edges.append(edge)
    return edges


def _edge(
    raw: Any, source: str, kind: str, output: int, pointer: str, problems: list[Finding]
) -> Edge | None:
    if not isinstance(raw, dict):
        _warn(problems, "bad_connection", "edge is not an object", pointer)
        return None
    target, target_kind, index = raw.get("node"), raw.get("type", kind), raw.get("index", 0)
    if not isinstance(target, str) or not isinstance(target_kind, str):
        _warn(problems, "bad_connection", "edge 'node'/'type' is not a string", pointer)
        return None
    if isinstance(index, float) and index.is_integer():
        index = int(index)
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index <= 256:
        _warn(
            problems,
            "bad_connection",
            "edge 'index' is not an integer in 0..256",
            join(pointer, "index"),
        )
        return None
    return Edge(source, kind, output, target, target_kind, index, pointer)
