"""Hostile uploads: each gives a clear error or a safe SVG, within time and memory bounds."""

from __future__ import annotations

import contextlib
import json
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from app.n8n import WorkflowError, analyse, parse_workflow, render_svg, scan_document, validate
from app.n8n.services import dump_json, inspect_workflow
from tests.n8n.helpers import assert_safe_svg, document, drawn, node

MB = 1024 * 1024


@dataclass
class Outcome:
    error: WorkflowError | None
    svg: str | None
    seconds: float
    peak_bytes: int


def run(data: bytes) -> Outcome:
    """Parse, validate, analyse, scan and render ``data`` as the upload pipeline would."""

    def pipeline() -> str:
        workflow = parse_workflow(data)
        validate(workflow)
        analyse(workflow)
        scan_document(workflow.document)
        return render_svg(workflow)

    return measure(pipeline)


def measure(work: Callable[[], str]) -> Outcome:
    """Time one run as it is, then trace the allocations of a second run (tracing slows it).

    The time is this process's CPU time: a bound on work done (a quadratic blow-up still
    fails it), not on how busy the machine is."""
    start = time.process_time()
    with contextlib.suppress(WorkflowError):
        work()
    seconds = time.process_time() - start
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    error, svg = None, None
    try:
        svg = work()
    except WorkflowError as exc:
        error = exc
    _, peak = tracemalloc.get_traced_memory()
    if not was_tracing:
        tracemalloc.stop()
    return Outcome(error, svg, seconds, peak)


def rejected(data: bytes, message: str, *, seconds: float = 1.0, megabytes: int = 64) -> str:
    outcome = run(data)
    assert outcome.error is not None, "expected a rejection"
    assert message in outcome.error.message, outcome.error
    assert "(at " in str(outcome.error), "a rejection names its place"
    assert outcome.seconds < seconds, outcome.seconds
    assert outcome.peak_bytes < megabytes * MB, outcome.peak_bytes
    return outcome.error.location


def safe(data: bytes, *, seconds: float = 1.0, megabytes: int = 64):
    outcome = run(data)
    assert outcome.error is None, outcome.error
    assert outcome.seconds < seconds, outcome.seconds
    assert outcome.peak_bytes < megabytes * MB, outcome.peak_bytes
    assert outcome.svg is not None
    return assert_safe_svg(outcome.svg), outcome.svg


def test_markup_and_control_characters_in_names():
    names = [
        "<script>alert(1)</script>",
        "</text><foreignObject><iframe src=javascript:alert(1)>",
        '"onload="alert(1)',
        "]]><!ENTITY x SYSTEM 'file:///etc/passwd'>",
        "\u202egnp.exe",
        "zero\u200dwidth\u200bjoin",
        "nul\x00bell\x07esc\x1b",
        "lone \ud800 surrogate",
        "emoji 🤖 日本語",
    ]
    nodes = [node(name, position=(i * 200, 0)) for i, name in enumerate(names)]
    sticky = node("note", "n8n-nodes-base.stickyNote", (0, 300))
    sticky["parameters"] = {"content": "\n".join(names)}
    root, svg = safe(document(nodes + [sticky], name=names[0]))
    assert len(drawn(root, "n8n-node")) == len(names)
    for forbidden in ("\u202e", "\x00", "\x07", "\x1b", "<script", "<iframe", "<!ENTITY"):
        assert forbidden not in svg
    assert "🤖" in svg and "日本語" in svg


def test_lone_surrogates_survive_the_json_record():
    data = document([node("bad \ud800 name", "n8n-nodes-base.webhook")])
    record = inspect_workflow(data, "x.json")
    assert record["ok"] and record["triggers"][0]["node"] == "bad \ud800 name"
    line = dump_json(record)
    line.encode("utf-8")
    assert json.loads(line)["triggers"][0]["node"] == "bad \ud800 name"


def test_prototype_pollution_keys():
    nodes = [node("__proto__"), node("constructor", position=(200, 0)), node("hasOwnProperty")]
    connections = {
        "__proto__": {"main": [[{"node": "constructor", "type": "main", "index": 0}]]},
        "constructor": {"__proto__": [[{"node": "prototype", "type": "main", "index": 0}]]},
    }
    root, _ = safe(document(nodes, connections, pinData={"__proto__": [{"json": {"a": 1}}]}))
    assert len(drawn(root, "n8n-edge")) == 1


def test_nan_and_infinity_are_not_json():
    assert rejected(b'{"nodes": [{"name": "a", "type": "x.y", "position": [NaN, 1]}]}', "NaN")
    assert rejected(b'{"nodes": [], "x": Infinity}', "Infinity")


def test_huge_and_tiny_coordinates():
    nodes = [
        node("far", position=(1e308, -1e308)),
        node("tiny", position=(1e-300, 5)),
        node("overflow"),
    ]
    data = document(nodes).replace(
        b'"overflow", "type": "n8n-nodes-base.noOp", "typeVersion": 1, "position": [0, 0]',
        b'"overflow", "type": "n8n-nodes-base.noOp", "typeVersion": 1, "position": [1e400, -1e400]',
    )
    assert b"1e400" in data, "the replacement above no longer matches"
    root, svg = safe(data)
    _, _, width, height = map(float, root.get("viewBox").split())
    assert width < 5000 and height < 5000


def test_positions_that_are_not_number_pairs():
    odd = [None, {"x": 1, "y": 2}, ["1", "2"], [1, 2, 3], [True, False], [1], "10,20"]
    nodes = [{**node(f"n{i}"), "position": value} for i, value in enumerate(odd)]
    root, _ = safe(document(nodes))
    assert len(drawn(root, "n8n-node")) == len(odd)
    workflow = parse_workflow(document(nodes))
    assert sum(p.code == "bad_position" for p in workflow.problems) == len(odd)


def test_hundred_thousand_deep_nesting():
    depth = 100_000
    data = b'{"nodes": [], "x": ' + b"[" * depth + b"]" * depth + b"}"
    # The object around the array is the first level: the 64th bracket is one too many.
    assert rejected(data, "nesting is deeper than 64 levels") == "byte 82"


def test_fifty_thousand_nodes():
    nodes = ",".join(f'{{"name":"n{i}","type":"a.b"}}' for i in range(50_000))
    data = ('{"nodes":[' + nodes + '],"connections":{}}').encode()
    assert rejected(data, "50,000 nodes; the limit is 2,000", seconds=3.0) == "/nodes"


def test_switch_with_ten_thousand_outputs():
    outputs = [[{"node": "t", "type": "main", "index": 0}]] * 10_000
    data = document([node("s", "n8n-nodes-base.switch"), node("t")], {"s": {"main": outputs}})
    assert rejected(data, "10,000 outputs on one node") == "/connections/s/main"


def test_a_source_with_more_edges_than_the_limit():
    edges = [{"node": "t", "type": "main", "index": 0}] * 30_000
    data = document([node("s"), node("t")], {"s": {"main": [edges]}})
    assert rejected(data, "more than 20,000 connections") == "/connections"


def test_thousands_of_parallel_edges_and_a_self_loop():
    edges = [{"node": "b", "type": "main", "index": 0}] * 5000
    loop = [{"node": "a", "type": "main", "index": 0}] * 3000
    data = document([node("a"), node("b", position=(200, 0))], {"a": {"main": [edges + loop]}})
    root, svg = safe(data, seconds=2.0)
    assert len(drawn(root, "n8n-edge")) == 2 and len(svg) < 20_000


def test_duplicate_keys():
    assert rejected(b'{"nodes": [], "nodes": [], "connections": {}}', "duplicate") == "/nodes"
    many = b'{"nodes": [], "connections": {' + b",".join([b'"a": {}'] * 1000) + b"}}"
    assert rejected(many, "duplicate object key 'a'") == "/connections/a"


def test_utf16_and_invalid_utf8():
    data = document([node("a")])
    assert rejected(data.decode().encode("utf-16"), "UTF-16") == "byte 0"
    assert rejected(data.decode().encode("utf-32"), "UTF-32") == "byte 0"
    assert rejected(b'{"nodes": [], "x": "\xc0\xaf"}', "invalid UTF-8") == "byte 20"
    assert rejected(b'{"nodes": [], "x": "\xed\xa0\x80"}', "invalid UTF-8") == "byte 20"


def test_a_credentials_export():
    data = json.dumps(
        [
            {"name": "Slack", "type": "slackApi", "data": "U2FsdGVkX19abcdefghijklmnop"},
            {"name": "Mail", "type": "smtp", "data": "U2FsdGVkX19qrstuvwxyz012345"},
        ]
    ).encode()
    rejected(data, "credentials export")


def test_other_things_that_are_not_workflows():
    package = {"name": "n8n-nodes-acme", "n8n": {"nodes": ["dist/Acme.node.js"]}}
    assert rejected(json.dumps(package).encode(), "a node must be an object") == "/n8n/nodes/0"
    for data in (b"{}", b"[]", b"null", b'"just a string"', b"[1, 2]", b"true"):
        rejected(data, "expected a workflow object")


def test_a_string_of_escaped_quotes_is_not_quadratic():
    data = b'{"nodes": [], "x": "' + b'\\"' * 400_000
    rejected(data, "Unterminated string")


def test_a_hundred_megabyte_file_is_refused_unread():
    data = b" " * (100 * MB)
    assert rejected(data, "the limit is 10,485,760", seconds=0.5, megabytes=1) == "byte 0"


def test_a_string_past_the_limit_and_a_huge_number():
    data = b'{"nodes": [], "x": "' + b"a" * 1_000_001 + b'"}'
    assert rejected(data, "longer than 1,000,000 characters") == "byte 19"
    number = b'{"nodes": [], "x": ' + b"9" * 5000 + b"}"
    assert rejected(number, "a number has too many digits") == "byte 19"


def test_long_arrays_and_long_keys():
    data = b'{"nodes": [], "connections": {}, "x": [' + b",".join([b"0"] * 100_000) + b"]}"
    safe(data)
    long_key = json.dumps({"nodes": [], "connections": {}, "k" * 500_000: 1}).encode()
    safe(long_key)


@pytest.mark.parametrize(
    ("raw", "message", "location"),
    [
        ({"nodes": {"a": {}}}, "'nodes' must be an array", "/nodes"),
        ({"nodes": [], "connections": []}, "'connections' must be an object", "/connections"),
        ({"nodes": [{"name": "a", "type": 5}]}, "'type' must be a string", "/nodes/0/type"),
        ({"nodes": [{"name": "a", "type": "x" * 5000}]}, "1 to 256 characters", "/nodes/0/type"),
        (
            {"nodes": [{"name": "a", "type": "x.y", "typeVersion": 1e308}]},
            "out of range",
            "/nodes/0/typeVersion",
        ),
        ({"nodes": [{"name": 7, "type": "x.y"}]}, "'name' must be a string", "/nodes/0/name"),
        ({"nodes": [{"name": "a" * 1001, "type": "x.y"}]}, "longer than 1000", "/nodes/0/name"),
    ],
)
def test_type_confusion(raw, message, location):
    assert rejected(json.dumps(raw).encode(), message) == location


def test_odd_types_that_are_tolerated():
    nodes = [
        node("a", "../../etc/passwd", disabled="false"),
        node("b", "javascript:alert(1)", position=(200, 0)),
        node("c", "n8n-nodes-base.set", position=(400, 0), credentials="nope", parameters=None),
    ]
    root, svg = safe(document(nodes, {"a": "not an object"}))
    assert "passwd" not in svg and "javascript" not in svg
    codes = {p.code for p in parse_workflow(document(nodes)).problems}
    assert {"bad_disabled", "bad_credentials"} <= codes


def test_sticky_note_geometry_and_colour_injection():
    sticky = node("s", "n8n-nodes-base.stickyNote")
    sticky["parameters"] = {
        "width": 1e9,
        "height": -5,
        "color": '#fff" onload="alert(1)',
        "content": "x" * 100_000,
    }
    other = node("t", "n8n-nodes-base.stickyNote", (300, 0))
    other["parameters"] = {"width": "wide", "color": 99}
    root, svg = safe(document([sticky, other]))
    widths = [float(g[0].get("width")) for g in drawn(root, "n8n-sticky")]
    assert widths == [4000.0, 240.0]
    assert "onload" not in svg and len(svg) < 50_000


def test_graph_pathologies():
    nodes = [node("t", "n8n-nodes-base.manualTrigger")]
    nodes += [node(f"trigger {i}", "n8n-nodes-base.webhook", (0, 150 * i)) for i in range(50)]
    nodes += [
        node("model", "@n8n/n8n-nodes-langchain.lmChatOpenAi", (0, 8000)),
        node("agent 1", "@n8n/n8n-nodes-langchain.agent", (300, 8000)),
        node("agent 2", "@n8n/n8n-nodes-langchain.agent", (700, 8000)),
    ]
    connections = {
        "model": {
            "ai_languageModel": [
                [
                    {"node": "agent 1", "type": "ai_languageModel", "index": 0},
                    {"node": "agent 2", "type": "ai_languageModel", "index": 0},
                ]
            ]
        },
        # An ai_* edge leaving a main-only node, into a trigger.
        "t": {"ai_tool": [[{"node": "trigger 0", "type": "ai_tool", "index": 0}]]},
    }
    root, _ = safe(document(nodes, connections))
    assert len(drawn(root, "n8n-edge")) == 3


def test_hostile_workflow_through_the_record():
    nodes = [node("<b>x</b>", "n8n-nodes-base.webhook")]
    record = inspect_workflow(document(nodes, name="<svg onload=alert(1)>"), "evil.json")
    assert record["ok"] is True and record["triggers"][0]["node"] == "<b>x</b>"
