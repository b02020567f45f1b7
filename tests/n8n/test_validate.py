"""Validation findings, each with its JSON pointer; warnings never stop a render."""

from __future__ import annotations

import json

from app.n8n import parse_workflow, render_svg, validate
from app.n8n.pointer import resolve
from tests.n8n.helpers import document, fixture_bytes, load, node


def findings_of(name: str) -> set[tuple[str, str, str]]:
    return {(f.severity, f.code, f.location) for f in validate(load(name))}


def test_clean_fixtures_have_no_findings():
    for name in ("editor_download.json", "canvas_copy.json", "ai_agent.json", "risky.json"):
        assert findings_of(name) == set(), name


def test_every_problem_is_found_where_it_is():
    assert findings_of("findings.json") == {
        ("warning", "bad_position", "/nodes/6/position"),
        ("error", "duplicate_name", "/nodes/1/name"),
        ("warning", "unknown_connection_type", "/connections/Set/onError"),
        ("error", "main_into_sub_node", "/connections/Check/main/1/0/node"),
        ("error", "output_out_of_range", "/connections/Check/main/5"),
        ("error", "dangling_target", "/connections/Target/main/0/0/node"),
        ("error", "input_out_of_range", "/connections/Target/main/0/1/index"),
        ("error", "dangling_source", "/connections/Ghost/main"),
        ("warning", "no_trigger", "/nodes"),
        ("warning", "disabled_node", "/nodes/5/disabled"),
    }


def test_locations_resolve_in_the_document():
    workflow = load("findings.json")
    for finding in validate(workflow):
        resolve(workflow.document, finding.location)


def test_a_workflow_with_errors_still_renders():
    workflow = load("findings.json")
    assert any(f.severity == "error" for f in validate(workflow))
    svg = render_svg(workflow)
    assert svg.startswith("<svg") and 'class="n8n-node"' in svg


def test_disabled_node_in_graph_fixture():
    assert findings_of("graph.json") == {("warning", "disabled_node", "/nodes/4/disabled")}


def test_ai_edge_rules():
    raw = json.loads(fixture_bytes("ai_agent.json"))
    connections = raw["connections"]
    # An AI edge into a node with no AI inputs; an edge type that differs from its key;
    # a third language-model slot on an agent (it has a model and a fallback model).
    connections["Simple Memory"]["ai_memory"][0].append(
        {"node": "When chat message received", "type": "ai_tool", "index": 0}
    )
    connections["Look up order"]["ai_tool"][0].append(
        {"node": "AI Agent", "type": "ai_languageModel", "index": 2}
    )
    workflow = parse_workflow(json.dumps(raw).encode())
    codes = {(f.code, f.location) for f in validate(workflow)}
    assert ("mismatched_connection_type", "/connections/Simple Memory/ai_memory/0/1/type") in codes
    assert ("ai_into_plain_node", "/connections/Simple Memory/ai_memory/0/1/node") in codes
    assert ("input_out_of_range", "/connections/Look up order/ai_tool/0/1/index") in codes


def test_trigger_with_an_input_and_unknown_edge_type():
    nodes = [node("Hook", "n8n-nodes-base.webhook"), node("Step", position=(200, 0))]
    connections = {
        "Step": {"main": [[{"node": "Hook", "type": "main", "index": 0}]]},
        "Hook": {"main": [[{"node": "Step", "type": "ai_whatever", "index": 0}]]},
    }
    workflow = parse_workflow(document(nodes, connections))
    codes = {(f.code, f.location) for f in validate(workflow)}
    assert ("input_out_of_range", "/connections/Step/main/0/0/node") in codes
    assert ("unknown_connection_type", "/connections/Hook/main/0/0/type") in codes


def test_malformed_edges_are_skipped_one_by_one():
    nodes = [node("A", "n8n-nodes-base.manualTrigger"), node("B", position=(200, 0))]
    connections = {
        "A": {
            "main": [
                [
                    {"node": "B", "type": "main", "index": 0},
                    "B",
                    {"node": 5},
                    {"node": "B", "index": -1},
                    {"node": "B", "index": 1e9},
                    {"node": "B", "index": "0"},
                    {"node": "B", "index": 0.0},
                ],
                "not a slot",
            ],
            "ai_tool": {"not": "a list"},
        },
        "B": ["not an object"],
    }
    workflow = parse_workflow(document(nodes, connections))
    assert [(e.target, e.input, e.pointer) for e in workflow.edges] == [
        ("B", 0, "/connections/A/main/0/0"),
        ("B", 0, "/connections/A/main/0/6"),
    ]
    bad = {f.location for f in validate(workflow) if f.code == "bad_connection"}
    assert bad == {
        "/connections/A/main/0/1",
        "/connections/A/main/0/2",
        "/connections/A/main/0/3/index",
        "/connections/A/main/0/4/index",
        "/connections/A/main/0/5/index",
        "/connections/A/main/1",
        "/connections/A/ai_tool",
        "/connections/B",
    }


def test_finding_to_dict():
    [finding] = [f for f in validate(load("graph.json"))]
    assert finding.to_dict() == {
        "severity": "warning",
        "code": "disabled_node",
        "message": "node is disabled",
        "location": "/nodes/4/disabled",
    }
