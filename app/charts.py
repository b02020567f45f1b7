"""Tiny server-rendered SVG charts (line and bar), readable without JavaScript.

Each chart is an ``<svg role="img">`` with a title; pages put the same numbers in a table
beside it for screen readers. Colours come from presentation attributes and CSS classes
(the CSP allows no inline style).
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 200
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 48, 12, 12, 28


def _nice_max(value: float) -> float:
    """A top for the axis: four steps of 1, 2 or 5 times a power of ten (at least 1 each), so
    counts get whole-number ticks."""
    quarter = max(value / 4, 1)
    magnitude = 10 ** (len(str(int(quarter))) - 1)
    for step in (1, 2, 5, 10):
        if step * magnitude >= quarter:
            return 4 * step * magnitude
    return 40 * magnitude  # pragma: no cover - the loop always returns


def _label(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 1_000:
        return f"{value / 1_000:g}k"
    return f"{value:g}"


def _frame(title: str, top: float, width: int, height: int) -> list[str]:
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" preserveAspectRatio="xMidYMid meet">',
        f"<title>{escape(title)}</title>",
    ]
    plot_h = height - PAD_TOP - PAD_BOTTOM
    for i in range(5):
        y = PAD_TOP + plot_h * i / 4
        value = top * (4 - i) / 4
        parts.append(
            f'<line class="chart-grid" x1="{PAD_LEFT}" x2="{width - PAD_RIGHT}" '
            f'y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd" stroke-width="1"/>'
        )
        parts.append(
            f'<text class="chart-axis" x="{PAD_LEFT - 6}" y="{y + 4:.1f}" '
            f'text-anchor="end" font-size="11" fill="#555">{_label(value)}</text>'
        )
    return parts


def line_chart(
    points: Sequence[tuple[str, float]], title: str, width: int = WIDTH, height: int = HEIGHT
) -> Markup:
    """A line over ``points`` (label, value), labels under the first, middle and last."""
    top = _nice_max(max((value for _, value in points), default=0))
    parts = _frame(title, top, width, height)
    plot_w = width - PAD_LEFT - PAD_RIGHT
    plot_h = height - PAD_TOP - PAD_BOTTOM
    n = len(points)
    coords = []
    for i, (_, value) in enumerate(points):
        x = PAD_LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)
        y = PAD_TOP + plot_h * (1 - value / top)
        coords.append((x, y))
    if coords:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        parts.append(
            f'<polyline class="chart-line" fill="none" stroke="#2563eb" stroke-width="2" '
            f'points="{path}"/>'
        )
        for i in sorted({0, n // 2, n - 1}):
            x = coords[i][0]
            anchor = "start" if i == 0 and n > 1 else "end" if i == n - 1 and n > 1 else "middle"
            parts.append(
                f'<text class="chart-axis" x="{x:.1f}" y="{height - 8}" text-anchor="{anchor}" '
                f'font-size="11" fill="#555">{escape(points[i][0])}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text put in it went through escape()


def bar_chart(
    bars: Sequence[tuple[str, float]], title: str, width: int = WIDTH, height: int = HEIGHT
) -> Markup:
    """Vertical bars for ``bars`` (label, value); each bar's own title gives its number."""
    top = _nice_max(max((value for _, value in bars), default=0))
    parts = _frame(title, top, width, height)
    plot_w = width - PAD_LEFT - PAD_RIGHT
    plot_h = height - PAD_TOP - PAD_BOTTOM
    n = max(1, len(bars))
    slot = plot_w / n
    bar_w = max(1.0, slot * 0.7)
    for i, (label, value) in enumerate(bars):
        h = plot_h * value / top
        x = PAD_LEFT + slot * i + (slot - bar_w) / 2
        parts.append(
            f'<rect class="chart-bar" x="{x:.1f}" y="{PAD_TOP + plot_h - h:.1f}" '
            f'width="{bar_w:.1f}" height="{h:.1f}" fill="#16a34a">'
            f"<title>{escape(label)}: {_label(value)}</title></rect>"
        )
        if n <= 12:
            short = label if len(label) <= 14 else label[:13] + "…"
            parts.append(
                f'<text class="chart-axis" x="{x + bar_w / 2:.1f}" y="{height - 8}" '
                f'text-anchor="middle" font-size="11" fill="#555">{escape(short)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text put in it went through escape()
