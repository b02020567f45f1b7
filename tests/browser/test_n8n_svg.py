"""n8n SVG previews load in headless Chromium without errors, each drawing what the model holds."""

from __future__ import annotations

import io
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


WATERMARK_STATE = """() => {
    const group = document.querySelector('g.n8n-watermark');
    const texts = group.querySelectorAll('text');
    const box = group.getBoundingClientRect();
    const style = getComputedStyle(texts[0]);
    return {
        parseErrors: document.getElementsByTagName('parsererror').length,
        texts: texts.length,
        first: texts[0].textContent,
        width: box.width,
        height: box.height,
        display: style.display,
        visibility: style.visibility,
        fillOpacity: parseFloat(style.fillOpacity),
        last: document.documentElement.lastElementChild === group,
    };
}"""


def test_the_watermark_is_drawn_in_the_file_and_inside_an_img(page, tmp_path):
    from PIL import Image, ImageChops

    mark = "Autopilot Monster · preview"
    workflow = parse_workflow((FIXTURES / "ai_agent.json").read_bytes())
    (tmp_path / "marked.svg").write_text(
        render_svg(workflow, RenderOptions(watermark=mark)), encoding="utf-8"
    )
    (tmp_path / "plain.svg").write_text(render_svg(workflow), encoding="utf-8")

    # Opened on its own, as a shopper could open the image's address.
    page.goto((tmp_path / "marked.svg").as_uri())
    state = page.evaluate(WATERMARK_STATE)
    assert state["parseErrors"] == 0
    assert state["texts"] >= 4 and state["first"] == mark
    assert state["width"] > 300 and state["height"] > 300
    assert state["display"] != "none" and state["visibility"] == "visible"
    assert 0 < state["fillOpacity"] < 0.5
    assert state["last"]

    # Shown with <img> on a page whose CSS tries to hide it: page styles stop at the image.
    (tmp_path / "page.html").write_text(
        "<!doctype html><style>.n8n-watermark, g, text { display: none !important; }"
        " img { display: block; }</style>"
        '<img id="marked" src="marked.svg"><img id="plain" src="plain.svg">',
        encoding="utf-8",
    )
    page.goto((tmp_path / "page.html").as_uri())
    page.wait_for_function("[...document.images].every((img) => img.complete && img.naturalWidth)")
    marked = Image.open(io.BytesIO(page.locator("#marked").screenshot())).convert("RGB")
    plain = Image.open(io.BytesIO(page.locator("#plain").screenshot())).convert("RGB")
    assert marked.size == plain.size
    changed = ImageChops.difference(marked, plain).convert("L").point(lambda v: 255 if v else 0)
    share = sum(changed.histogram()[255:]) / (marked.width * marked.height)
    assert share > 0.02, f"only {share:.1%} of the pixels carry the mark"
    assert page.js_errors == []
