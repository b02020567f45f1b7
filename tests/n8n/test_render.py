"""SVG rendering: well-formed, counted, safe by construction, deterministic, bounded."""

from __future__ import annotations

import json
import re

import pytest

from app.n8n import RenderOptions, parse_workflow, render_svg
from app.n8n.layout import bezier, number
from tests.n8n.helpers import (
    FIXTURES,
    SVG,
    assert_safe_svg,
    document,
    drawn,
    expected_edges,
    fixture_bytes,
    load,
    node,
)

FIXTURE_NAMES = sorted(path.name for path in FIXTURES.glob("*.json"))


def node_groups(root):
    return drawn(root, "n8n-node")


def rect_of(group):
    return next(el for el in group if el.tag in (f"{SVG}rect", f"{SVG}path"))


def label_text(group) -> str:
    label = next(el for el in group.iter() if el.get("class") == "n8n-label")
    return "\n".join(span.text or "" for span in label)


@pytest.mark.parametrize("name", FIXTURE_NAMES)
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_fixtures_render_safe_svg_with_matching_counts(name, theme):
    workflow = load(name)
    svg = render_svg(workflow, RenderOptions(theme=theme))
    root = assert_safe_svg(svg)
    active = [n for n in workflow.nodes if not n.is_sticky]
    assert len(node_groups(root)) == len(active)
    assert len(drawn(root, "n8n-edge")) == expected_edges(workflow)
    assert len(drawn(root, "n8n-sticky")) == len(workflow.nodes) - len(active)
    assert root.get("data-theme") == theme
    assert root.get("data-node-count") == str(len(active))


def test_rendering_is_deterministic_and_themes_differ_only_in_paint():
    workflow = load("ai_agent.json")
    light = render_svg(workflow)
    assert light == render_svg(load("ai_agent.json"))
    dark = render_svg(workflow, RenderOptions(theme="dark"))
    assert dark != light
    strip = re.compile(r'(fill|stroke|data-theme)="[^"]*"')
    assert strip.sub("", dark) == strip.sub("", light)


def test_viewbox_fits_the_drawing():
    root = assert_safe_svg(render_svg(load("editor_download.json")))
    left, top, width, height = map(float, root.get("viewBox").split())
    # Nodes span x 240..996 and y 200..496 (plus the sticky at 180,80 of 380x180).
    assert left <= 180 and top <= 80
    assert left + width >= 996 and top + height >= 496
    assert width < 2000 and height < 1000


def test_node_shapes_follow_the_editor_geometry():
    root = assert_safe_svg(render_svg(load("ai_agent.json")))
    shapes = {label_text(g).split("\n")[0]: g for g in node_groups(root)}
    assert shapes["When chat message received"].get("data-shape") == "trigger"
    assert shapes["OpenAI Chat Model"].get("data-shape") == "circle"
    agent = rect_of(shapes["AI Agent"])
    assert shapes["AI Agent"].get("data-shape") == "configurable"
    assert (agent.get("width"), agent.get("height")) == ("224", "96")
    model = rect_of(shapes["OpenAI Chat Model"])
    assert (model.get("width"), model.get("height"), model.get("rx")) == ("80", "80", "40")
    # A vector-store tool takes AI inputs and is a sub-node: a pill.
    assert shapes["Answer from docs"].get("data-shape") == "pill"
    # The agent's AI ports are named along its bottom.
    port_names = [el.text for el in shapes["AI Agent"].iter(f"{SVG}text") if el.text]
    assert port_names[:4] == ["Model", "Memory", "Tool", "Output Parser"]


def test_ai_edges_are_dashed_and_main_edges_have_arrows():
    root = assert_safe_svg(render_svg(load("ai_agent.json")))
    edges = drawn(root, "n8n-edge")
    ai = [e for e in edges if e.get("data-kind") == "ai"]
    main = [e for e in edges if e.get("data-kind") == "main"]
    assert len(ai) == 9 and len(main) == 1
    assert all(e.get("stroke-dasharray") == "5,6" for e in ai)
    assert all(e.get("stroke-dasharray") is None for e in main)
    assert len(drawn(root, "n8n-arrow")) == len(main)


def test_output_labels_and_a_backward_edge_routed_below():
    root = assert_safe_svg(render_svg(load("graph.json")))
    labels = [el.text for el in drawn(root, "n8n-output-label")]
    assert labels == ["done", "loop"]
    edges = drawn(root, "n8n-edge")
    backward = [e for e in edges if "V" in e.get("d")]
    assert len(backward) == 1  # Process -> Loop Over Items
    ys = [float(y) for y in re.findall(r"V(-?[\d.]+)", backward[0].get("d"))]
    # Both nodes sit at y 200 and 300 with 96-px boxes: the loop runs under them.
    assert max(ys) > 396


def test_if_outputs_are_labelled_true_and_false():
    root = assert_safe_svg(render_svg(load("editor_download.json")))
    assert [el.text for el in drawn(root, "n8n-output-label")] == ["true", "false"]


def test_switch_grows_with_its_outputs():
    outputs = 6
    nodes = [node("S", "n8n-nodes-base.switch", typeVersion=3)]
    nodes += [node(f"T{i}", position=(300, i * 120)) for i in range(outputs)]
    connections = {
        "S": {"main": [[{"node": f"T{i}", "type": "main", "index": 0}] for i in range(outputs)]}
    }
    root = assert_safe_svg(render_svg(parse_workflow(document(nodes, connections))))
    switch = node_groups(root)[0]
    assert rect_of(switch).get("height") == str(96 + (outputs - 2) * 32)
    assert [el.text for el in drawn(root, "n8n-output-label")] == [str(i) for i in range(outputs)]


def test_disabled_nodes_are_struck_through():
    root = assert_safe_svg(render_svg(load("graph.json")))
    [struck] = [g for g in node_groups(root) if drawn(g, "n8n-strike")]
    assert label_text(struck) == "Old step\n(deactivated)"


def test_stickies_are_behind_nodes_in_their_colours():
    svg = render_svg(load("graph.json"))
    root = assert_safe_svg(svg)
    children = [el.get("class") for el in root]
    assert children.index("n8n-sticky") < children.index("n8n-node")
    fills = [rect_of(g).get("fill") for g in drawn(root, "n8n-sticky")]
    assert fills == ["#fff5d6", "#a1b2c3"]
    texts = ["".join(t.itertext()) for g in drawn(root, "n8n-sticky") for t in g.iter(f"{SVG}text")]
    assert texts == ["plain note", "custom colour"]


def test_custom_sticky_colour_keeps_its_text_readable_in_the_dark_theme():
    root = assert_safe_svg(render_svg(load("graph.json"), RenderOptions(theme="dark")))
    palette_note, custom_note = drawn(root, "n8n-sticky")
    assert rect_of(custom_note).get("fill") == "#a1b2c3"  # a light colour, as chosen
    assert custom_note.find(f"{SVG}text").get("fill") == "#2d2e33"  # so dark ink
    assert palette_note.find(f"{SVG}text").get("fill") == "#e9e9ee"


def test_sticky_markdown_is_plain_text():
    parameters = {
        "content": "## Title\n**bold** [link](javascript:alert(1)) <img src=x onerror=alert(1)>",
        "width": 400,
        "height": 200,
        "color": 3,
    }
    note = node("Note", "n8n-nodes-base.stickyNote", parameters=parameters)
    root = assert_safe_svg(render_svg(parse_workflow(document([note]))))
    text = " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    assert "Title" in text and "bold" in text and "link" in text
    assert "javascript" not in text and "onerror" not in text and "**" not in text


def test_user_strings_are_escaped_and_stripped():
    hostile = "<script>alert(1)</script> & \"q\" 's' ]]> \u202e\x00\x07 </text><foreignObject>"
    svg = render_svg(parse_workflow(document([node(hostile, "n8n-nodes-base.set")], name=hostile)))
    root = assert_safe_svg(svg)
    assert "&lt;script&gt;" in svg and "&amp;" in svg
    title = root.find(f"{SVG}title").text
    assert title.startswith("<script>alert(1)</script> & \"q\" 's' ]]>")
    assert "\u202e" not in svg and "\x00" not in svg and "\x07" not in svg


def test_parameter_values_never_reach_the_svg():
    raw = json.loads(fixture_bytes("risky.json"))
    raw["nodes"][2]["parameters"]["jsCode"] = "const marker = 'PARAM-MARKER-93';"
    raw["nodes"][2]["credentials"] = {"api": {"id": "1", "name": "CRED-MARKER-41"}}
    svg = render_svg(parse_workflow(json.dumps(raw).encode()))
    assert "PARAM-MARKER" not in svg and "CRED-MARKER" not in svg


def test_community_nodes_are_marked():
    root = assert_safe_svg(render_svg(load("ai_agent.json")))
    labels = [label_text(g) for g in node_groups(root)]
    assert "MCP Client\n(community node)" in labels


def test_nodes_without_positions_are_placed_apart():
    root = assert_safe_svg(render_svg(load("findings.json")))
    assert len(node_groups(root)) == 7


def test_empty_workflow_renders_a_small_canvas():
    root = assert_safe_svg(render_svg(parse_workflow(b'{"nodes": [], "connections": {}}')))
    assert root.get("viewBox") == "0 0 320 160"


def test_huge_workflow_is_bounded():
    count = 2000
    nodes = [
        {"name": f"Node {i}", "type": "n8n-nodes-base.noOp", "position": [i * 240, (i % 7) * 150]}
        for i in range(count)
    ]
    connections = {
        f"Node {i}": {"main": [[{"node": f"Node {i + 1}", "type": "main", "index": 0}]]}
        for i in range(count - 1)
    }
    workflow = parse_workflow(document(nodes, connections))
    svg = render_svg(workflow)
    root = assert_safe_svg(svg)
    assert len(node_groups(root)) == RenderOptions().max_nodes
    assert root.get("data-total-nodes") == str(count)
    [more] = drawn(root, "n8n-more")
    assert more.text == f"+{count - RenderOptions().max_nodes} more nodes not drawn"
    assert len(svg) < 1_000_000
    assert float(root.get("width")) <= 1600 and float(root.get("height")) <= 1600


def test_parallel_copies_of_one_edge_are_drawn_once_and_edges_are_capped():
    nodes = [
        {"name": "A", "type": "n8n-nodes-base.manualTrigger", "position": [0, 0]},
        {"name": "B", "type": "n8n-nodes-base.noOp", "position": [300, 0]},
    ]
    copies = [{"node": "B", "type": "main", "index": 0}] * 5000
    workflow = parse_workflow(document(nodes, {"A": {"main": [copies]}}))
    root = assert_safe_svg(render_svg(workflow))
    assert len(drawn(root, "n8n-edge")) == 1 == expected_edges(workflow)
    fan = {
        "nodes": nodes
        + [
            {"name": f"T{i}", "type": "n8n-nodes-base.noOp", "position": [600, i * 10]}
            for i in range(300)
        ],
        "connections": {
            "A": {"main": [[{"node": f"T{i}", "type": "main", "index": 0} for i in range(300)]]}
        },
    }
    svg = render_svg(parse_workflow(json.dumps(fan).encode()), RenderOptions(max_edges=100))
    root = assert_safe_svg(svg)
    assert len(drawn(root, "n8n-edge")) == 100
    assert drawn(root, "n8n-more")[0].text == "+200 more connections not drawn"


def test_far_outlier_does_not_shrink_the_rest():
    nodes = [
        {"name": "A", "type": "n8n-nodes-base.manualTrigger", "position": [0, 0]},
        {"name": "B", "type": "n8n-nodes-base.noOp", "position": [240, 0]},
        {"name": "Far", "type": "n8n-nodes-base.noOp", "position": [1e308, -1e308]},
    ]
    workflow = parse_workflow(document(nodes))
    root = assert_safe_svg(render_svg(workflow))
    _, _, width, height = map(float, root.get("viewBox").split())
    assert width < 3000 and height < 3000


def test_numbers_in_paths():
    assert number(1.04) == "1" and number(-0.04) == "0" and number(2.25) == "2.2"
    assert number(float("nan")) == "0" and number(float("inf")) == "0"
    assert bezier(0, 0, 100, 0) == "M0 0C50 0 50 0 100 0"


MARK = "Autopilot Monster · preview"


def watermark_group(root):
    [group] = drawn(root, "n8n-watermark")
    return group


def test_no_watermark_unless_asked():
    assert drawn(assert_safe_svg(render_svg(load("ai_agent.json"))), "n8n-watermark") == []


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_the_watermark_is_svg_content_over_the_whole_canvas(name):
    workflow = load(name)
    plain = render_svg(workflow)
    marked = render_svg(workflow, RenderOptions(watermark=MARK))
    root = assert_safe_svg(marked)
    group = watermark_group(root)
    texts = [el for el in group if el.tag == f"{SVG}text"]
    assert len(texts) >= 4 and all(el.text == MARK for el in texts)
    # Drawn last (over nodes and edges), tilted, faint but not invisible.
    assert list(root)[-1] is group or list(root)[-1].get("class") == "n8n-more"
    assert group.get("transform").startswith("rotate(-30 ")
    assert 0 < float(group.get("fill-opacity")) < 0.5
    # Everything else is the same drawing.
    assert len(node_groups(root)) == len(node_groups(assert_safe_svg(plain)))
    assert marked.replace(_serialised(marked), "") == plain
    assert render_svg(workflow, RenderOptions(watermark=MARK)) == marked


def _serialised(svg: str) -> str:
    start = svg.index('<g class="n8n-watermark"')
    end = svg.index("</g>", start) + len("</g>\n")
    return svg[start:end]


def test_the_watermark_covers_the_corners_of_large_canvases():
    """Rows span the canvas's circumscribed square, so some text starts left of and above
    the canvas and some ends past its right and bottom edges; the font grows with the scale."""
    nodes = [node(f"N{i}", position=(i * 900, (i % 3) * 700)) for i in range(12)]
    svg = render_svg(parse_workflow(document(nodes)), RenderOptions(watermark=MARK))
    root = assert_safe_svg(svg)
    left, top, width, height = (float(v) for v in root.get("viewBox").split())
    group = watermark_group(root)
    xs = [float(el.get("x")) for el in group]
    ys = [float(el.get("y")) for el in group]
    assert min(xs) < left and max(xs) > left + width * 0.8
    assert min(ys) < top and max(ys) > top + height
    scale = float(root.get("width")) / width
    assert float(group.get("font-size")) * scale == pytest.approx(26, rel=0.01)
    assert len(list(group)) <= 240


def test_the_watermark_text_is_escaped_and_capped():
    hostile = '</text><script>alert(1)</script>"\u202e' + "x" * 200
    svg = render_svg(load("ai_agent.json"), RenderOptions(watermark=hostile))
    group = watermark_group(assert_safe_svg(svg))
    first = next(iter(group)).text
    assert first.startswith("</text><script>") and "\u202e" not in first
    assert len(first) <= 80
