"""The SVG charts: one mark per value, scaled to the axis, labels escaped."""

import re

from app.charts import _nice_max, bar_chart, line_chart


def test_line_chart_scales_its_points():
    svg = str(line_chart([("a", 0), ("b", 4), ("c", 2)], "Views <per> day"))
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert "<title>Views &lt;per&gt; day</title>" in svg
    (points,) = re.findall(r'<polyline[^>]* points="([^"]+)"', svg)
    ys = [float(pair.split(",")[1]) for pair in points.split()]
    # Top of the axis is 4: the 4 sits on the top line, the 0 on the bottom, 2 half way.
    assert ys[1] == 12.0 and ys[0] == 172.0 and ys[2] == 92.0


def test_bar_chart_has_one_bar_per_value_and_escapes_labels():
    svg = str(bar_chart([("<b>x</b>", 3), ("y", 0), ("z", 8)], "Sales"))
    assert svg.count("<rect") == 3
    assert "<b>" not in svg and "&lt;b&gt;x&lt;/b&gt;: 3" in svg
    heights = [float(h) for h in re.findall(r'<rect[^>]* height="([^"]+)"', svg)]
    assert heights == [60.0, 0.0, 160.0]


def test_axis_tops_are_whole_steps():
    assert [_nice_max(v) for v in (0, 3, 5, 9, 41, 1234)] == [4, 4, 8, 20, 80, 2000]
    assert str(line_chart([], "Empty")).endswith("</svg>")
