"""Parsing: every shape real exports take is accepted; anything else is rejected, located."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from app.n8n import Limits, WorkflowError, parse_workflow, parse_workflows
from app.n8n.pointer import escape, join, resolve, split
from tests.n8n.helpers import fixture_bytes, load

PACKAGE = Path(__file__).resolve().parents[2] / "app" / "n8n"


def minimal(**extra) -> dict:
    document = {
        "nodes": [
            {
                "name": "Start",
                "type": "n8n-nodes-base.manualTrigger",
                "typeVersion": 1,
                "position": [0, 0],
                "parameters": {},
            }
        ],
        "connections": {},
    }
    document.update(extra)
    return document


def encode(document) -> bytes:
    return json.dumps(document).encode()


def test_the_library_never_imports_flask():
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(name.split(".")[0] == "flask" for name in names), path.name


def test_editor_download():
    workflow = load("editor_download.json")
    assert workflow.name == 'Order sync <shop> & "paid" orders'
    assert workflow.id == "Qx7bN2kLm9PzR4tW"
    assert workflow.pointer == ""
    assert workflow.settings == {"executionOrder": "v1"}
    assert [n.name for n in workflow.nodes][:2] == ["Order Webhook", "Paid?"]
    assert len(workflow.nodes) == 6 and sum(n.is_sticky for n in workflow.nodes) == 1
    assert len(workflow.edges) == 4
    webhook = workflow.nodes[0]
    assert webhook.type_version == 2.0 and webhook.position == (240.0, 300.0)
    assert webhook.id == "5b0c5c1e-0d1a-4f0e-9a43-1f7cf2b1a001"
    assert webhook.webhook_id == "0f3c1b8e-6a2d-4d39-8f53-7e1d0c9b2a11"
    [ref] = webhook.credentials
    assert (ref.type, ref.id, ref.name, ref.inline) == ("httpHeaderAuth", "7", "Shop header", False)
    edge = workflow.edges[2]
    assert (edge.source, edge.kind, edge.output, edge.target, edge.input) == (
        "Paid?",
        "main",
        1,
        "Log unpaid",
        0,
    )
    assert edge.pointer == "/connections/Paid?/main/1/0"
    assert len(workflow.sha256) == 64
    assert workflow.problems == []


def test_canvas_copy_has_no_name_or_id():
    workflow = load("canvas_copy.json")
    assert workflow.name is None and workflow.id is None
    assert [n.type for n in workflow.nodes] == [
        "n8n-nodes-base.manualTrigger",
        "n8n-nodes-base.httpRequest",
        "n8n-nodes-base.splitOut",
    ]
    assert len(workflow.edges) == 2


def test_cli_array_export_takes_each_workflow():
    workflows = parse_workflows(fixture_bytes("cli_array.json"))
    assert [(w.name, w.id, w.pointer) for w in workflows] == [
        ("Nightly report", "1", "/0"),
        ("Error handler", "2", "/1"),
    ]
    first = parse_workflow(fixture_bytes("cli_array.json"))
    assert first.name == "Nightly report"
    assert [p.code for p in first.problems] == ["several_workflows"]


def test_single_element_array_is_accepted():
    workflow = parse_workflow(encode([minimal(name="Only")]))
    assert workflow.name == "Only" and workflow.pointer == "/0" and workflow.problems == []


def test_template_wrapper_is_unwrapped_and_lends_its_name():
    workflow = load("template_wrapper.json")
    assert workflow.pointer == "/workflow"
    assert workflow.name == "Form to email" and workflow.id == "4321"
    assert workflow.nodes[0].pointer == "/workflow/nodes/0"
    assert workflow.edges[0].pointer == "/workflow/connections/On form submission/main/0/0"


def test_data_wrapper_two_levels_down():
    workflow = parse_workflow(encode({"data": {"workflow": minimal(name="Deep")}}))
    assert workflow.pointer == "/data/workflow" and workflow.name == "Deep"


def test_legacy_export():
    workflow = load("legacy.json")
    assert workflow.id == "42"
    assert all(node.id is None for node in workflow.nodes)
    telegram = workflow.node_named("Telegram")
    assert telegram is not None
    [ref] = telegram.credentials
    assert (ref.type, ref.id, ref.name) == ("telegramApi", None, "My bot")
    # A null slot and an empty one are legal; outputs keep their index.
    assert [(e.source, e.output, e.target) for e in workflow.edges] == [
        ("Cron", 0, "Route"),
        ("Route", 0, "Telegram"),
        ("Route", 2, "Mail"),
    ]
    assert workflow.problems == []


def test_numeric_node_ids_and_float_positions():
    document = minimal()
    document["nodes"][0].update(id=7, position=[100.5, -20.25])
    [node] = parse_workflow(encode(document)).nodes
    assert node.id == "7" and node.position == (100.5, -20.25)


def test_crlf_and_bom_parse_like_the_plain_file():
    plain = fixture_bytes("editor_download.json")
    crlf = plain.replace(b"\n", b"\r\n")
    bom = b"\xef\xbb\xbf" + crlf
    reference = parse_workflow(plain)
    for data in (crlf, bom):
        workflow = parse_workflow(data)
        assert [n.name for n in workflow.nodes] == [n.name for n in reference.nodes]
        assert workflow.edges == reference.edges


def test_nodes_without_connections_key_warn():
    workflow = parse_workflow(encode({"nodes": minimal()["nodes"]}))
    assert [p.code for p in workflow.problems] == ["no_connections"]
    assert workflow.edges == []


def test_odd_credential_shapes_are_normalised():
    document = minimal()
    document["nodes"][0]["credentials"] = {
        "a": "Legacy name",
        "b": {"name": "Name only"},
        "c": {"id": None, "name": "Null id"},
        "d": {"user": "admin", "password": "x"},
        "e": 5,
    }
    workflow = parse_workflow(encode(document))
    refs = {ref.type: ref for ref in workflow.nodes[0].credentials}
    assert refs["a"].name == "Legacy name" and refs["a"].id is None
    assert refs["b"].name == "Name only"
    assert refs["c"].id is None and refs["c"].name == "Null id"
    assert refs["d"].inline is True
    assert "e" not in refs
    codes = {(p.code, p.location) for p in workflow.problems}
    assert ("inline_credentials", "/nodes/0/credentials/d") in codes
    assert ("bad_credentials", "/nodes/0/credentials/e") in codes


@pytest.mark.parametrize(
    ("data", "message", "location"),
    [
        (b"", "file is empty", "byte 0"),
        (b"  \r\n", "file is empty", "byte 4"),
        (b'{"nodes": [], "connections": {}} trailing', "trailing text", "byte 33"),
        (b'{"nodes": [], "connections": {}}{"nodes": []}', "two JSON documents", "byte 32"),
        (b'{"nodes": [,]}', "invalid JSON", "byte 11"),
        (b'{"nodes": [], "nodes": []}', "duplicate object key 'nodes'", "/nodes"),
        (
            b'{"nodes": [{"name": "a", "name": "b", "type": "x.y"}]}',
            "duplicate object key 'name'",
            "/nodes/0/name",
        ),
        (b'{"nodes": [], "x": NaN}', "NaN is not valid JSON", "byte 19"),
        (b'{"nodes": [], "x": -Infinity}', "-Infinity is not valid JSON", "byte 19"),
        (b'{"nodes": [], "x": "\xff"}', "invalid UTF-8", "byte 20"),
        (b"null", "found null", ""),
        (b'"workflow"', "found a string", ""),
        (b"12", "found a number", ""),
        (b"[]", "an array without workflows", ""),
        (b"{}", "with a 'nodes' array; none found", ""),
        (b'{"nodes": {"a": {}}}', "'nodes' must be an array; found an object", "/nodes"),
        (b'{"nodes": [], "connections": []}', "'connections' must be an object", "/connections"),
        (b'{"nodes": [5]}', "a node must be an object; found a number", "/nodes/0"),
        (b'{"nodes": [{"type": "x.y"}]}', "'name' must be a string; found null", "/nodes/0/name"),
        (b'{"nodes": [{"name": "", "type": "x.y"}]}', "must not be empty", "/nodes/0/name"),
        (b'{"nodes": [{"name": "a", "type": 3}]}', "'type' must be a string", "/nodes/0/type"),
        (
            b'{"nodes": [{"name": "a", "type": "x.y", "typeVersion": "2"}]}',
            "'typeVersion' must be a number; found a string",
            "/nodes/0/typeVersion",
        ),
        (
            b'{"nodes": [{"name": "a", "type": "x.y", "typeVersion": -1}]}',
            "'typeVersion' is out of range",
            "/nodes/0/typeVersion",
        ),
        (
            b'{"nodes": [{"name": "a", "type": "x.y", "parameters": []}]}',
            "'parameters' must be an object",
            "/nodes/0/parameters",
        ),
        (
            b'{"workflow": {"nodes": [{"name": "a", "type": true}]}}',
            "'type' must be a string; found a boolean",
            "/workflow/nodes/0/type",
        ),
    ],
)
def test_rejections_name_the_place(data, message, location):
    with pytest.raises(WorkflowError) as caught:
        parse_workflow(data)
    error = caught.value
    assert message in error.message
    assert error.location == location
    where = location or "the document root"
    assert where in str(error)


def test_byte_offsets_count_bytes_not_characters():
    # Two 3-byte characters before the error: the offset is in bytes of the file.
    data = '{"name": "€€", "nodes": [], "x": tru}'.encode()
    with pytest.raises(WorkflowError) as caught:
        parse_workflow(data)
    assert caught.value.location == f"byte {data.index(b'tru}')}"


def test_utf16_and_utf32_are_refused():
    document = json.dumps(minimal())
    for data, name in (
        (document.encode("utf-16"), "UTF-16"),
        (document.encode("utf-16-le"), "UTF-16"),
        (document.encode("utf-32"), "UTF-32"),
    ):
        with pytest.raises(WorkflowError, match=name) as caught:
            parse_workflow(data)
        assert caught.value.location == "byte 0"


def test_credentials_export_is_refused():
    data = encode([{"name": "Slack", "type": "slackApi", "data": "U2FsdGVkX1+abcdefgh"}])
    with pytest.raises(WorkflowError, match="credentials export"):
        parse_workflow(data)


@pytest.mark.parametrize(
    ("limits", "document", "message", "location"),
    [
        (Limits(max_bytes=50), minimal(), "bytes; the limit is 50", "byte 0"),
        (Limits(max_depth=3), minimal(x=[[[[1]]]]), "deeper than 3 levels", "byte "),
        (Limits(max_string=10), minimal(x="a" * 11), "longer than 10 characters", "byte "),
        (Limits(max_nodes=1), minimal(), None, None),
        (
            Limits(max_nodes=0),
            minimal(),
            "1 nodes; the limit is 0",
            "/nodes",
        ),
        (
            Limits(max_edges=2),
            minimal(connections={"Start": {"main": [[{"node": "Start"}] * 3]}}),
            "more than 2 connections",
            "/connections",
        ),
        (
            Limits(max_outputs=2),
            minimal(connections={"Start": {"main": [[], [], []]}}),
            "3 outputs on one node; the limit is 2",
            "/connections/Start/main",
        ),
    ],
)
def test_limits_are_configurable_and_checked_first(limits, document, message, location):
    data = encode(document)
    if message is None:
        assert parse_workflow(data, limits).nodes
        return
    with pytest.raises(WorkflowError) as caught:
        parse_workflow(data, limits)
    assert message in caught.value.message
    assert caught.value.location.startswith(location)


def test_depth_limit_reports_the_byte_of_the_first_bracket_too_deep():
    data = b'{"nodes": [], "x": [[[[[]]]]]}'
    with pytest.raises(WorkflowError) as caught:
        parse_workflow(data, Limits(max_depth=4))
    assert caught.value.location == f"byte {data.index(b'[[[[[') + 3}"


def test_error_repr_and_str():
    error = WorkflowError("bad", "/nodes/0")
    assert str(error) == "bad (at JSON pointer /nodes/0)"
    assert repr(error) == "WorkflowError('bad', location='/nodes/0')"
    assert str(WorkflowError("bad", "byte 3")) == "bad (at byte 3)"


def test_json_pointers_round_trip():
    document = {"a/b": {"m~n": ["x", {"": 1}]}}
    pointer = join("", "a/b", "m~n", 1, "")
    assert pointer == "/a~1b/m~0n/1/"
    assert split(pointer) == ["a/b", "m~n", "1", ""]
    assert resolve(document, pointer) == 1
    assert escape("~/") == "~0~1"
    with pytest.raises(ValueError):
        split("no-slash")
