"""Helpers for the n8n tests: the project's own sample files, corpus paths, SVG checks."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from app.n8n import Workflow, parse_workflow
from app.n8n.graph import links

FIXTURES = Path(__file__).parent / "fixtures"
# ../shared next to the project checkout; absent in a user's clone.
SHARED = Path(__file__).resolve().parents[2].parent / "shared"
CORPUS = SHARED / "corpus" / "n8n"
PLANTED = SHARED / "corpus" / "n8n-planted-secrets"
SVG = "{http://www.w3.org/2000/svg}"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def load(name: str) -> Workflow:
    return parse_workflow(fixture_bytes(name))


def node(name, node_type="n8n-nodes-base.noOp", position=(0, 0), **extra) -> dict:
    return {"name": name, "type": node_type, "typeVersion": 1, "position": list(position), **extra}


def document(nodes, connections=None, **extra) -> bytes:
    """A workflow file made of ``nodes`` (see ``node``) and ``connections``."""
    return json.dumps({"nodes": nodes, "connections": connections or {}, **extra}).encode()


def parse_svg(svg: str) -> ET.Element:
    """The SVG as XML; raises ParseError when it is not well-formed."""
    return ET.fromstring(svg)


def drawn(root: ET.Element, css_class: str) -> list[ET.Element]:
    """Elements carrying one of the renderer's fixed classes (never built from input)."""
    return [el for el in root.iter() if el.get("class") == css_class]


def expected_edges(workflow: Workflow) -> int:
    """Distinct connections whose both ends are drawn (non-sticky) nodes."""
    sticky = {n.index for n in workflow.nodes if n.is_sticky}
    return len(
        {
            (lk.source, lk.edge.kind, lk.edge.output, lk.target, lk.edge.target_kind, lk.edge.input)
            for lk in links(workflow)
            if lk.source not in sticky and lk.target not in sticky
        }
    )


ALLOWED_ELEMENTS = {"svg", "title", "rect", "g", "text", "tspan", "path", "circle"}
ALLOWED_CLASSES = {
    None,
    "n8n-background",
    "n8n-sticky",
    "n8n-edge",
    "n8n-arrow",
    "n8n-output-label",
    "n8n-node",
    "n8n-glyph",
    "n8n-strike",
    "n8n-label",
    "n8n-more",
    "n8n-watermark",
}


_SCIENTIFIC = re.compile(r"\d[eE][+-]?\d")
_GEOMETRY = ("x", "y", "cx", "cy", "r", "rx", "width", "height", "d", "viewBox", "transform")


def assert_safe_svg(svg: str) -> ET.Element:
    """Well-formed, only the renderer's vocabulary: no script, handlers, ids or references."""
    root = parse_svg(svg)
    lowered = svg.lower()
    # Markup in user text is escaped, so these never appear as markup.
    for needle in ("<script", "<foreignobject", "<iframe", "<!doctype", "<!entity", "<![cdata"):
        assert needle not in lowered, needle
    for element in root.iter():
        assert element.tag.startswith(SVG), element.tag
        assert element.tag[len(SVG) :] in ALLOWED_ELEMENTS, element.tag
        assert element.get("class") in ALLOWED_CLASSES, element.get("class")
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), name
            assert name not in ("id", "style", "href") and not name.endswith("}href"), name
            lowered_value = value.lower()
            for needle in ("javascript:", "data:", "url(", "://"):
                assert needle not in lowered_value or name == "xmlns", (name, value)
            if name in _GEOMETRY:
                assert "nan" not in lowered_value and "inf" not in lowered_value, (name, value)
                assert not _SCIENTIFIC.search(value), (name, value)
    return root
