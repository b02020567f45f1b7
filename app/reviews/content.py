"""A review's text as HTML: plain text escaped, lines kept; or a small sanitised Markdown."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import escape

from app.reviews.models import BodyFormat

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False})
# No headings, images or tables: a review is a few paragraphs, lists and emphasis.
_ALLOWED_TAGS = {"p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a"}


def render_body(body: str, body_format: str) -> str:
    """``body`` as safe HTML: Markdown with raw HTML off and an allow-list sanitiser (links
    get rel="nofollow ugc"), or plain text in one paragraph per blank-line-separated block."""
    if body_format == BodyFormat.MARKDOWN:
        return nh3.clean(
            _markdown.render(body or ""),
            tags=_ALLOWED_TAGS,
            attributes={"a": {"href", "title"}},
            url_schemes={"http", "https"},
            link_rel="nofollow noopener noreferrer ugc",
        )
    blocks = [block.strip() for block in (body or "").replace("\r\n", "\n").split("\n\n")]
    return "".join(
        f"<p>{'<br>'.join(str(escape(line)) for line in block.splitlines())}</p>"
        for block in blocks
        if block
    )
