"""n8n SVG previews load in headless Chromium without errors, each drawing what the model holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.n8n import RenderOptions, Workflow, WorkflowError, parse_workflow, render_svg
from tests.n8n.helpers import CORPUS, FIXTURES, expected_edges

pytestmark = pytest.mark.browser

# Every fifteenth corpus file (20 of 300) is also opened as a standalone document; all of
# them are parsed and drawn in one page by test_every_corpus_preview_renders_in_chromium.
SAMPLE_STEP = 15

# What the checks read from an SVG: ``doc`` is the document it was parsed into, ``root`` the
# <svg> element as drawn (the document's root, or a copy placed in the page).
STATE = """(doc, root) => {
    const box = root.getBBox ? root.getBBox() : {width: 0, height: 0};
    return {
        root: root.localName,
        namespace: root.namespaceURI,
        parseErrors: doc.getElementsByTagName('parsererror').length,
        nodes: root.querySelectorAll('g.n8n-node').length,
        edges: root.querySelectorAll('path.n8n-edge').length,
        scripts: root.querySelectorAll('script, foreignObject').length,
        width: box.width,
        height: box.height,
    };
}"""


def previews(paths: list[Path]) -> list[tuple[str, Workflow, str]]:
    """(file name, workflow, SVG) per accepted file, light and dark themes in turn."""
    rendered = []
    for index, path in enumerate(paths):
        try:
            workflow = parse_workflow(path.read_bytes())
        except WorkflowError:
            continue  # the few deliberately broken corpus files
        theme = "dark" if index % 2 else "light"
        rendered.append((path.name, workflow, render_svg(workflow, RenderOptions(theme=theme))))
    return rendered


def assert_drawn(state: dict, workflow: Workflow, name: str) -> None:
    assert state["root"] == "svg", name
    assert state["namespace"] == "http://www.w3.org/2000/svg", name
    assert state["parseErrors"] == 0, name
    assert state["scripts"] == 0, name
    assert state["nodes"] == len(workflow.active_nodes), name
    assert state["edges"] == expected_edges(workflow), name
    assert state["width"] > 0 and state["height"] > 0, name


def test_svg_previews_load_without_errors(page, tmp_path):
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    fixtures = sorted(FIXTURES.glob("*.json"))
    rendered = previews(fixtures + sorted(CORPUS.glob("*.json"))[::SAMPLE_STEP])
    for index, (name, workflow, svg) in enumerate(rendered):
        svg_path = tmp_path / f"{index:03d}.svg"
        svg_path.write_text(svg, encoding="utf-8")
        page.goto(svg_path.as_uri())
        state = page.evaluate(f"() => ({STATE})(document, document.documentElement)")
        assert_drawn(state, workflow, name)
    assert len(rendered) >= len(fixtures)
    assert page.js_errors == []
    # Standalone previews fetch nothing: every request was one of the files opened.
    assert all(url.startswith("file://") for url in requests), requests


def test_every_corpus_preview_renders_in_chromium(page):
    if not CORPUS.is_dir():
        pytest.skip(f"the shared n8n corpus is not at {CORPUS} (only in the project workspace)")
    rendered = previews(sorted(CORPUS.glob("*.json")))
    page.goto("about:blank")
    states = page.evaluate(
        f"""(svgs) => svgs.map((text) => {{
            const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
            const root = document.body.appendChild(document.importNode(doc.documentElement, true));
            const state = ({STATE})(doc, root);
            root.remove();
            return state;
        }})""",
        [svg for _, _, svg in rendered],
    )
    assert len(states) == len(rendered) > 0
    for state, (name, workflow, _) in zip(states, rendered, strict=True):
        assert_drawn(state, workflow, name)
    assert page.js_errors == []
