"""Validation: findings (error or warning) located by JSON pointer; none blocks rendering."""

from __future__ import annotations

from app.n8n.catalog import accepts_ai_input, describe, is_community, roles, short_name
from app.n8n.model import Edge, Finding, Node, Workflow
from app.n8n.pointer import join

AI_CONNECTION_TYPES = frozenset(
    {
        "ai_agent",
        "ai_chain",
        "ai_document",
        "ai_embedding",
        "ai_languageModel",
        "ai_memory",
        "ai_outputParser",
        "ai_retriever",
        "ai_reranker",
        "ai_textSplitter",
        "ai_tool",
        "ai_vectorStore",
    }
)
CONNECTION_TYPES = AI_CONNECTION_TYPES | {"main"}
# Main outputs of core nodes whose count does not depend on parameters.
_FIXED_OUTPUTS = {
    "if": 2,
    "filter": 2,
    "splitInBatches": 2,
    "compareDatasets": 4,
    "set": 1,
    "noOp": 1,
    "aggregate": 1,
    "splitOut": 1,
    "limit": 1,
    "sort": 1,
    "merge": 1,
    "manualTrigger": 1,
    "scheduleTrigger": 1,
    "stickyNote": 0,
}


def validate(workflow: Workflow) -> list[Finding]:
    """Every finding for ``workflow``: the parser's tolerated problems first, then graph checks."""
    findings = list(workflow.problems)
    findings += _duplicate_names(workflow)
    seen_kinds: set[str] = set()
    for edge in workflow.edges:
        findings += _check_edge(workflow, edge, seen_kinds)
    active = workflow.active_nodes
    if not active:
        findings.append(Finding("warning", "empty", "the workflow has no nodes", workflow.pointer))
    elif not any(describe(n.type).is_trigger and not n.disabled for n in active):
        findings.append(
            Finding(
                "warning",
                "no_trigger",
                "no enabled trigger node: it only runs when called",
                join(workflow.pointer, "nodes"),
            )
        )
    for node in active:
        if node.disabled:
            findings.append(
                Finding(
                    "warning", "disabled_node", "node is disabled", join(node.pointer, "disabled")
                )
            )
    return findings


def _duplicate_names(workflow: Workflow) -> list[Finding]:
    findings = []
    for node in workflow.nodes:
        if workflow.name_index[node.name] != node.index:
            findings.append(
                Finding(
                    "error",
                    "duplicate_name",
                    "another node has the same name; connections attach to the first",
                    join(node.pointer, "name"),
                )
            )
    return findings


def _check_edge(workflow: Workflow, edge: Edge, seen_kinds: set[str]) -> list[Finding]:
    findings = []
    kind_pointer = edge.pointer.rsplit("/", 2)[0]
    source = workflow.node_named(edge.source)
    target = workflow.node_named(edge.target)
    if source is None and kind_pointer not in seen_kinds:
        findings.append(
            Finding(
                "error",
                "dangling_source",
                "connections from a node that does not exist",
                kind_pointer,
            )
        )
    if target is None:
        findings.append(
            Finding(
                "error",
                "dangling_target",
                "connection to a node that does not exist",
                join(edge.pointer, "node"),
            )
        )
    if edge.kind not in CONNECTION_TYPES and kind_pointer not in seen_kinds:
        findings.append(
            Finding("warning", "unknown_connection_type", "unknown connection type", kind_pointer)
        )
    seen_kinds.add(kind_pointer)
    if edge.target_kind not in CONNECTION_TYPES:
        findings.append(
            Finding(
                "warning",
                "unknown_connection_type",
                "unknown connection type",
                join(edge.pointer, "type"),
            )
        )
    elif edge.kind in AI_CONNECTION_TYPES and edge.target_kind != edge.kind:
        findings.append(
            Finding(
                "warning",
                "mismatched_connection_type",
                "edge type differs from the output it leaves",
                join(edge.pointer, "type"),
            )
        )
    if source is not None:
        findings += _check_output(source, edge)
    if target is not None:
        findings += _check_input(target, edge)
    return findings


def _check_output(source: Node, edge: Edge) -> list[Finding]:
    if edge.kind != "main" or is_community(source.type):
        return []
    fixed = _FIXED_OUTPUTS.get(short_name(source.type))
    if fixed is None:
        return []
    allowed = fixed + (1 if source.on_error == "continueErrorOutput" else 0)
    if edge.output < allowed:
        return []
    return [
        Finding(
            "error",
            "output_out_of_range",
            f"output {edge.output} does not exist; this node has {allowed}",
            edge.pointer.rsplit("/", 1)[0],
        )
    ]


def _check_input(target: Node, edge: Edge) -> list[Finding]:
    kind = describe(target.type)
    is_sub = roles(target.type)[0]
    where = join(edge.pointer, "index")
    if edge.target_kind == "main":
        if is_sub:
            return [
                Finding(
                    "error",
                    "main_into_sub_node",
                    "a main connection into an AI sub-node, which has no main input",
                    join(edge.pointer, "node"),
                )
            ]
        if is_community(target.type):
            return []
        if kind.is_trigger:
            return [
                Finding(
                    "error",
                    "input_out_of_range",
                    "a trigger node has no input",
                    join(edge.pointer, "node"),
                )
            ]
        inputs = main_inputs(target)
        if edge.input >= inputs:
            return [
                Finding(
                    "error",
                    "input_out_of_range",
                    f"input {edge.input} does not exist; this node has {inputs}",
                    where,
                )
            ]
    elif edge.target_kind in AI_CONNECTION_TYPES:
        if not is_community(target.type) and not accepts_ai_input(target.type, edge.target_kind):
            return [
                Finding(
                    "warning",
                    "ai_into_plain_node",
                    "an AI connection into a node that takes no AI inputs",
                    join(edge.pointer, "node"),
                )
            ]
        # An agent's second language-model slot is its fallback model.
        slots = 2 if edge.target_kind == "ai_languageModel" else 1
        if edge.input >= slots:
            return [
                Finding(
                    "warning",
                    "input_out_of_range",
                    f"input {edge.input} does not exist for {edge.target_kind}",
                    where,
                )
            ]
    return []


def main_inputs(node: Node) -> int:
    """The main inputs a node has by its type and parameters, before counting its wiring."""
    short = short_name(node.type)
    if short == "merge":
        count = node.parameters.get("numberInputs", 2)
        return count if isinstance(count, int) and 2 <= count <= 64 else 2
    if short == "compareDatasets":
        return 2
    return 1
