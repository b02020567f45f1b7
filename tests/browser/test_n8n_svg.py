"""n8n SVG previews load in headless Chromium as standalone SVG documents, without errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.n8n import RenderOptions, WorkflowError, parse_workflow, render_svg
from tests.n8n.helpers import CORPUS, FIXTURES, expected_edges

pytestmark = pytest.mark.browser

# Every fifteenth corpus file (20 of 300) keeps the run short and still varied.
SAMPLE_STEP = 15


def sources() -> list[Path]:
    files = sorted(FIXTURES.glob("*.json"))
    if CORPUS.is_dir():
        files += sorted(CORPUS.glob("*.json"))[::SAMPLE_STEP]
    return files


def test_svg_previews_load_without_errors(page, tmp_path):
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    checked = 0
    for index, source in enumerate(sources()):
        try:
            workflow = parse_workflow(source.read_bytes())
        except WorkflowError:
            continue  # the few deliberately broken corpus files
        theme = "dark" if index % 2 else "light"
        svg_path = tmp_path / f"{index:03d}.svg"
        svg_path.write_text(render_svg(workflow, RenderOptions(theme=theme)), encoding="utf-8")
        page.goto(svg_path.as_uri())
        state = page.evaluate(
            """() => {
                const root = document.documentElement;
                const box = root.getBBox();
                return {
                    root: root.localName,
                    namespace: root.namespaceURI,
                    parseErrors: document.getElementsByTagName('parsererror').length,
                    nodes: document.querySelectorAll('g.n8n-node').length,
                    edges: document.querySelectorAll('path.n8n-edge').length,
                    scripts: document.querySelectorAll('script, foreignObject').length,
                    width: box.width,
                    height: box.height,
                };
            }"""
        )
        active = [n for n in workflow.nodes if not n.is_sticky]
        assert state["root"] == "svg", source.name
        assert state["namespace"] == "http://www.w3.org/2000/svg", source.name
        assert state["parseErrors"] == 0, source.name
        assert state["scripts"] == 0, source.name
        assert state["nodes"] == len(active), source.name
        assert state["edges"] == expected_edges(workflow), source.name
        assert state["width"] > 0 and state["height"] > 0, source.name
        checked += 1
    assert checked >= len(list(FIXTURES.glob("*.json")))
    assert page.js_errors == []
    # Standalone previews fetch nothing: every request was one of the files opened.
    assert all(url.startswith("file://") for url in requests), requests
