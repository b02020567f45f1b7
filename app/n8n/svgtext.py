"""Text for SVG: made XML-safe, stripped of controls and bidi overrides, wrapped and capped."""

from __future__ import annotations

import re

# Everything XML 1.0 forbids, plus C0/C1 controls and bidirectional overrides (U+202A-E,
# U+2066-9) that could make a name read differently from what it is.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})
_MARKDOWN_LINK = re.compile(r"!?\[([^\]\n]{0,200})\]\([^)\n]{0,500}\)")
_MARKDOWN_MARKS = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+)|[*_`~]{1,3}|<[^>\n]{0,200}>")


def clean(text: str) -> str:
    """Drop what must not reach an SVG; tabs and newlines become spaces."""
    return _UNSAFE.sub("", text).replace("\t", " ").replace("\r", "")


def escape(text: str) -> str:
    """Escape for XML text and attribute values alike."""
    return clean(text).translate(_ESCAPES)


def wrap(text: str, width: int, max_lines: int) -> list[str]:
    """Greedy word wrap to ``width`` characters; the last kept line ends in an ellipsis if cut."""
    width = max(4, width)
    lines: list[str] = []
    for paragraph in clean(text).split("\n"):
        words = paragraph.split()
        line = ""
        for word in words:
            while len(word) > width:
                if line:
                    lines.append(line)
                    line = ""
                lines.append(word[:width])
                word = word[width:]
                if len(lines) > max_lines:
                    break
            candidate = f"{line} {word}" if line else word
            if len(candidate) <= width:
                line = candidate
            else:
                lines.append(line)
                line = word
            if len(lines) > max_lines:
                break
        lines.append(line)
        if len(lines) > max_lines:
            break
    while lines and not lines[-1]:
        lines.pop()
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1].rstrip() + "…"
    return lines


def markdown_to_text(markdown: str) -> str:
    """Sticky-note markdown as plain text: link text kept, markup and HTML tags dropped."""
    text = _MARKDOWN_LINK.sub(r"\1", markdown)
    return "\n".join(_MARKDOWN_MARKS.sub("", line) for line in text.split("\n"))
