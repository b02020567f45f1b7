"""Render a workflow as a static, safe SVG drawn the way n8n's editor draws its canvas.

Only node names, types and sticky-note text are drawn, every string escaped and run
through the secret scanner first; ids, classes and attributes come from fixed vocabularies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from app.n8n.catalog import describe
from app.n8n.glyphs import GLYPHS
from app.n8n.graph import Link, links
from app.n8n.layout import (
    Box,
    StickyBox,
    backward,
    bezier,
    boxes,
    compress_gaps,
    stickies,
    vertical,
)
from app.n8n.layout import number as _n
from app.n8n.model import Workflow
from app.n8n.secrets import redact_text
from app.n8n.svgtext import escape, markdown_to_text, wrap
from app.n8n.validate import AI_CONNECTION_TYPES

Theme = Literal["light", "dark"]


@dataclass(frozen=True, slots=True)
class Palette:
    background: str
    node: str
    border: str
    text: str
    muted: str
    edge: str
    disabled: str
    stickies: tuple[str, ...]
    sticky_border: str


PALETTES: dict[str, Palette] = {
    "light": Palette(
        background="#f6f6f8",
        node="#ffffff",
        border="#9d9da5",
        text="#2d2e33",
        muted="#6f7079",
        edge="#8d8d95",
        disabled="#b9b9c0",
        stickies=("#fff5d6", "#fde7cf", "#fbdde0", "#e3f1d9", "#d9ecf3", "#ebe0f5", "#ffffff"),
        sticky_border="#d8c98a",
    ),
    "dark": Palette(
        background="#1d1d22",
        node="#2c2c33",
        border="#6c6c76",
        text="#e9e9ee",
        muted="#a9a9b3",
        edge="#9a9aa4",
        disabled="#5c5c66",
        stickies=("#4d4427", "#4f3a27", "#4f2c31", "#2f4228", "#27404a", "#3d2f4c", "#3a3a42"),
        sticky_border="#6e6440",
    ),
}
ACCENTS = {
    "trigger": "#ff6d5a",
    "ai": "#7a5af8",
    "code": "#e8871e",
    "http": "#2c8ed6",
    "flow": "#38a169",
    "transform": "#0e9f9f",
    "database": "#3f6bd1",
    "messaging": "#c2408f",
    "files": "#8a6d3b",
    "app": "#6b7280",
    "note": "#b59f3b",
}
_PORT_NAMES = {
    "ai_languageModel": "Model",
    "ai_memory": "Memory",
    "ai_tool": "Tool",
    "ai_outputParser": "Output Parser",
    "ai_retriever": "Retriever",
    "ai_vectorStore": "Vector Store",
    "ai_embedding": "Embedding",
    "ai_document": "Document",
    "ai_textSplitter": "Text Splitter",
    "ai_reranker": "Reranker",
    "ai_agent": "Agent",
    "ai_chain": "Chain",
}
_PAD = 48.0
_LABEL_SPACE = 56.0
_MAX_SIDE = 1600.0
_CHAR_WIDTH = 6.6
_STICKY_CHARS = 1_500


@dataclass(frozen=True, slots=True)
class RenderOptions:
    theme: Theme = "light"
    max_nodes: int = 400
    max_stickies: int = 100
    max_edges: int = 2_000
    # Text repeated across the canvas on top of everything ("Autopilot Monster · preview").
    # It is SVG content, so it survives the file being opened on its own, and no page's CSS
    # reaches into an SVG shown with <img>.
    watermark: str | None = None


# The watermark: about this many pixels high once the SVG is scaled to fit, tilted this much.
_MARK_PIXELS = 26.0
_MARK_ANGLE = -30
_MARK_CHARS = 80
_MARK_MAX_TEXTS = 240


def render_svg(workflow: Workflow, options: RenderOptions | None = None) -> str:
    """The canvas as one SVG document (a str); deterministic for the same workflow and options."""
    options = options or RenderOptions()
    theme = options.theme if options.theme in PALETTES else "light"
    palette = PALETTES[theme]
    active = workflow.active_nodes
    notes = [n for n in workflow.nodes if n.is_sticky]
    drawn_nodes = active[: options.max_nodes]
    drawn_notes = notes[: options.max_stickies]
    hidden = len(active) - len(drawn_nodes)
    drawn_ids = {n.index for n in drawn_nodes}
    resolved = _drawable(workflow, drawn_ids)
    hidden_edges = max(0, len(resolved) - options.max_edges)
    resolved = resolved[: options.max_edges]
    node_boxes = boxes(workflow, drawn_nodes, resolved)
    note_boxes = stickies(drawn_notes)
    compress_gaps([*node_boxes, *note_boxes])
    by_index = {box.node.index: box for box in node_boxes}

    left, top, right, bottom = _bounds(node_boxes, note_boxes)
    width, height = right - left, bottom - top
    scale = min(1.0, _MAX_SIDE / max(width, height))
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" version="1.1"'
        f' viewBox="{_n(left)} {_n(top)} {_n(width)} {_n(height)}"'
        f' width="{_n(width * scale)}" height="{_n(height * scale)}"'
        f' font-family="Open Sans, Helvetica, Arial, sans-serif" role="img"'
        f' data-theme="{theme}"'
        f' data-node-count="{len(node_boxes)}" data-edge-count="{len(resolved)}"'
        f' data-sticky-count="{len(note_boxes)}" data-total-nodes="{len(active)}">',
        f"<title>{escape(redact_text(workflow.name or 'n8n workflow')[:200])}</title>",
        f'<rect class="n8n-background" x="{_n(left)}" y="{_n(top)}" width="{_n(width)}"'
        f' height="{_n(height)}" fill="{palette.background}"/>',
    ]
    parts += (_sticky(note, palette) for note in note_boxes)
    parts += _edges(resolved, by_index, palette)
    parts += (_node(box, palette) for box in node_boxes)
    if options.watermark:
        parts.append(_watermark(options.watermark, left, top, width, height, scale, palette))
    if hidden or hidden_edges:
        more = [f"+{hidden} more nodes"] if hidden else []
        more += [f"+{hidden_edges} more connections"] if hidden_edges else []
        parts.append(
            f'<text class="n8n-more" x="{_n(left + _PAD / 2)}" y="{_n(bottom - _PAD / 3)}"'
            f' font-size="16" fill="{palette.muted}">{" and ".join(more)} not drawn</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _watermark(
    mark: str, left: float, top: float, width: float, height: float, scale: float, palette: Palette
) -> str:
    """Rows of ``mark`` over the whole canvas, tilted, faint, in the theme's text colour.

    Drawn as a grid covering the canvas's circumscribed square, so the tilted rows reach
    every corner; the font grows as the SVG is scaled down, so the mark stays legible.
    """
    text = escape(mark[:_MARK_CHARS])
    size = _MARK_PIXELS / scale
    step_x = (len(mark[:_MARK_CHARS]) * 0.62 + 4) * size
    step_y = size * 3.2
    cx, cy = left + width / 2, top + height / 2
    side = (width**2 + height**2) ** 0.5
    columns = int(side / step_x) + 2
    rows = int(side / step_y) + 2
    while columns * rows > _MARK_MAX_TEXTS:
        step_x, step_y = step_x * 1.2, step_y * 1.2
        columns, rows = int(side / step_x) + 2, int(side / step_y) + 2
    texts = []
    for row in range(rows):
        y = cy - side / 2 + row * step_y
        shift = step_x / 2 if row % 2 else 0.0
        for column in range(columns):
            x = cx - side / 2 - shift + column * step_x
            texts.append(f'<text x="{_n(x)}" y="{_n(y)}">{text}</text>')
    return (
        f'<g class="n8n-watermark" transform="rotate({_MARK_ANGLE} {_n(cx)} {_n(cy)})"'
        f' font-size="{_n(size)}" font-weight="700" fill="{palette.text}" fill-opacity="0.13"'
        f' pointer-events="none">{"".join(texts)}</g>'
    )


def _drawable(workflow: Workflow, drawn_ids: set[int]) -> list[Link]:
    """Links between drawn nodes, each distinct connection once (parallel copies coincide)."""
    seen: set[tuple[int, str, int, int, str, int]] = set()
    result = []
    for link in links(workflow):
        if link.source not in drawn_ids or link.target not in drawn_ids:
            continue
        edge = link.edge
        key = (link.source, edge.kind, edge.output, link.target, edge.target_kind, edge.input)
        if key not in seen:
            seen.add(key)
            result.append(link)
    return result


def _bounds(
    node_boxes: list[Box], note_boxes: list[StickyBox]
) -> tuple[float, float, float, float]:
    items = [(b.x - b.w / 2, b.y, b.x + b.w * 1.5, b.y + b.h + _LABEL_SPACE) for b in node_boxes]
    items += [(s.x, s.y, s.x + s.w, s.y + s.h) for s in note_boxes]
    if not items:
        return 0.0, 0.0, 320.0, 160.0
    left = min(i[0] for i in items) - _PAD
    top = min(i[1] for i in items) - _PAD
    right = max(i[2] for i in items) + _PAD
    # Room for edges routed under the nodes.
    bottom = max(i[3] for i in items) + _PAD + 40
    return left, top, right, bottom


def _sticky(note: StickyBox, palette: Palette) -> str:
    if isinstance(note.colour, str):
        # A custom colour is drawn as chosen in either theme; the text follows its lightness.
        colour = note.colour
        ink = PALETTES["light" if _is_light(colour) else "dark"].text
    else:
        colour, ink = palette.stickies[note.colour - 1], palette.text
    content = note.node.parameters.get("content", "")
    text = (
        markdown_to_text(redact_text(content[:_STICKY_CHARS])) if isinstance(content, str) else ""
    )
    columns = int((note.w - 20) / _CHAR_WIDTH)
    rows = int((note.h - 16) / 16)
    lines = wrap(text, columns, max(0, rows))
    body = "".join(
        f'<tspan x="{_n(note.x + 10)}" dy="{16 if i else 0}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    text_element = (
        f'<text x="{_n(note.x + 10)}" y="{_n(note.y + 22)}" font-size="12"'
        f' fill="{ink}">{body}</text>'
        if lines
        else ""
    )
    return (
        f'<g class="n8n-sticky"><rect x="{_n(note.x)}" y="{_n(note.y)}" width="{_n(note.w)}"'
        f' height="{_n(note.h)}" rx="6" fill="{colour}" stroke="{palette.sticky_border}"/>'
        f"{text_element}</g>"
    )


def _is_light(hex_colour: str) -> bool:
    """Relative luminance (sRGB weights, no gamma) of a ``#rrggbb`` colour above one half."""
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue > 127.5


def _edges(resolved: list[Link], by_index: dict[int, Box], palette: Palette) -> list[str]:
    parts = []
    labelled: set[tuple[int, int]] = set()
    for link in resolved:
        source, target = by_index[link.source], by_index[link.target]
        edge = link.edge
        if edge.kind in AI_CONNECTION_TYPES and edge.target_kind in AI_CONNECTION_TYPES:
            sx, sy = source.top_centre()
            tx, ty = target.port_point(edge.target_kind)
            parts.append(
                f'<path class="n8n-edge" data-kind="ai" d="{vertical(sx, sy, tx, ty)}"'
                f' fill="none" stroke="{palette.edge}" stroke-width="2" stroke-dasharray="5,6"/>'
            )
            continue
        sx, sy = source.output_point(edge.output)
        tx, ty = target.input_point(edge.input)
        if sx - 20 > tx:
            floor = max(source.y + source.h, target.y + target.h) + 40
            path = backward(sx, sy, tx - 8, ty, floor)
        else:
            path = bezier(sx, sy, tx - 8, ty)
        known = edge.kind == "main" and edge.target_kind == "main"
        dash = "" if known else ' stroke-dasharray="5,6"'
        parts.append(
            f'<path class="n8n-edge" data-kind="{"main" if known else "other"}" d="{path}"'
            f' fill="none" stroke="{palette.edge}" stroke-width="2"{dash}/>'
        )
        parts.append(
            f'<path class="n8n-arrow" d="M{_n(tx)} {_n(ty)}L{_n(tx - 10)} {_n(ty - 5)}'
            f'L{_n(tx - 10)} {_n(ty + 5)}Z" fill="{palette.edge}"/>'
        )
        key = (link.source, edge.output)
        if key not in labelled and edge.output < len(source.output_labels):
            labelled.add(key)
            label = source.output_labels[min(edge.output, source.outputs - 1)]
            if label:
                parts.append(
                    f'<text class="n8n-output-label" x="{_n(sx + 6)}" y="{_n(sy - 5)}"'
                    f' font-size="11" fill="{palette.muted}">{escape(label)}</text>'
                )
    return parts


def _node(box: Box, palette: Palette) -> str:
    accent = ACCENTS.get(box.category, ACCENTS["app"])
    stroke = palette.disabled if box.node.disabled else palette.border
    parts = [f'<g class="n8n-node" data-category="{box.category}" data-shape="{box.shape}">']
    parts.append(_outline(box, palette.node, stroke))
    parts.append(_glyph(box, palette.disabled if box.node.disabled else accent))
    parts += _handles(box, palette)
    if box.node.disabled:
        parts.append(
            f'<path class="n8n-strike" d="M{_n(box.x + 8)} {_n(box.y + box.h / 2)}'
            f'H{_n(box.x + box.w - 8)}" stroke="{palette.muted}" stroke-width="2"/>'
        )
    parts.append(_label(box, palette))
    parts.append("</g>")
    return "".join(parts)


def _outline(box: Box, fill: str, stroke: str) -> str:
    x, y, w, h = box.x, box.y, box.w, box.h
    common = f' fill="{fill}" stroke="{stroke}" stroke-width="2"'
    if box.shape in ("circle", "pill"):
        radius = h / 2
        return (
            f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}"'
            f' rx="{_n(radius)}"{common}/>'
        )
    if box.shape == "trigger":
        # border-radius: 36px 8px 8px 36px -- the "D" of trigger nodes.
        left, right = min(36.0, h / 2), 8.0
        d = (
            f"M{_n(x + left)} {_n(y)}H{_n(x + w - right)}Q{_n(x + w)} {_n(y)} {_n(x + w)} "
            f"{_n(y + right)}V{_n(y + h - right)}Q{_n(x + w)} {_n(y + h)} {_n(x + w - right)} "
            f"{_n(y + h)}H{_n(x + left)}A{_n(left)} {_n(left)} 0 0 1 {_n(x)} {_n(y + h - left)}"
            f"V{_n(y + left)}A{_n(left)} {_n(left)} 0 0 1 {_n(x + left)} {_n(y)}Z"
        )
        return f'<path d="{d}"{common}/>'
    return f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" rx="8"{common}/>'


def _glyph(box: Box, colour: str) -> str:
    path, filled = GLYPHS.get(box.category, GLYPHS["app"])
    size = 28.0 if box.shape in ("circle", "pill") else 40.0
    scale = size / 24
    cx = box.x + (box.w / 2 if box.shape != "configurable" else 48.0)
    cy = box.y + box.h / 2
    paint = f'fill="{colour}"' if filled else f'fill="none" stroke="{colour}" stroke-width="2"'
    return (
        f'<path class="n8n-glyph" transform="translate({_n(cx - size / 2)} {_n(cy - size / 2)})'
        f' scale({scale:.4f})" d="{path}" {paint}'
        ' stroke-linejoin="round" stroke-linecap="round"/>'
    )


def _handles(box: Box, palette: Palette) -> list[str]:
    parts = []
    for index in range(box.inputs):
        x, y = box.input_point(index)
        parts.append(
            f'<rect x="{_n(x - 4)}" y="{_n(y - 8)}" width="6" height="16" rx="2"'
            f' fill="{palette.border}"/>'
        )
    for index in range(box.outputs):
        x, y = box.output_point(index)
        parts.append(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="6" fill="{palette.border}"/>')
    for kind in box.ports:
        x, y = box.port_point(kind)
        parts.append(
            _diamond(x, y, palette.border) + f'<text x="{_n(x)}" y="{_n(y + 18)}" font-size="10"'
            f' text-anchor="middle" fill="{palette.muted}">{_PORT_NAMES.get(kind, "AI")}</text>'
        )
    if box.shape in ("circle", "pill"):
        parts.append(_diamond(*box.top_centre(), palette.border))
    return parts


def _diamond(x: float, y: float, fill: str) -> str:
    """An AI handle: a small diamond centred on (x, y)."""
    return (
        f'<path d="M{_n(x)} {_n(y - 5)}L{_n(x + 5)} {_n(y)}L{_n(x)} {_n(y + 5)}L{_n(x - 5)}'
        f' {_n(y)}Z" fill="{fill}"/>'
    )


def _label(box: Box, palette: Palette) -> str:
    columns = int(max(2 * box.w, 160) / _CHAR_WIDTH)
    lines = wrap(redact_text(box.node.name), columns, 2)
    if box.node.disabled:
        lines.append("(deactivated)")
    elif describe(box.node.type).is_community:
        lines.append("(community node)")
    cx = box.x + box.w / 2
    top = box.y + box.h + (box.ports and 30 or 0) + 18
    spans = "".join(
        f'<tspan x="{_n(cx)}" dy="{15 if i else 0}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return (
        f'<text class="n8n-label" x="{_n(cx)}" y="{_n(top)}" font-size="13"'
        f' text-anchor="middle" fill="{palette.text}">{spans}</text>'
    )
