"""Listing content helpers: Markdown, slugs, video links, short lists, images, node names."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import nh3
from markdown_it import MarkdownIt
from sqlalchemy import select

from app.catalog.errors import ListingError
from app.extensions import db
from app.images import store_image
from app.n8n.catalog import describe

IMAGE_MAX_BYTES = 5 * 1024 * 1024
THUMBNAIL_SIZE = (640, 400)
SCREENSHOT_SIZE = (1600, 1000)

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li",
    "h2", "h3", "h4", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


def render_markdown(text: str) -> str:
    """Markdown to HTML that is safe to show: raw HTML off, then an allow-list sanitiser."""
    html = _markdown.render(text or "")
    # Headings shift down so a description never competes with the page's <h1>.
    html = re.sub(r"<(/?)h1>", r"<\1h2>", html)
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer ugc",
    )


def slugify(text: str, max_length: int = 80) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].strip("-") or "item"


def unique_slug(model: Any, text: str) -> str:
    """A slug of ``text`` no ``model`` row has yet ("title", then "title-2", "title-3", ...)."""
    base = slugify(text)
    slug, n = base, 2
    while True:
        if db.session.scalar(select(model.id).where(model.slug == slug)) is None:
            return slug
        slug = f"{base[:74]}-{n}"
        n += 1


_YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_VIMEO_ID = re.compile(r"^[0-9]{1,12}$")


def parse_video_url(url: str) -> tuple[str, str] | None:
    """An allow-listed YouTube or Vimeo link as (provider, id); None for an empty value.

    Raises ListingError for any other link: only the id is kept, never the URL itself.
    """
    url = (url or "").strip()
    if not url:
        return None
    error = ListingError("Use a YouTube or Vimeo link, e.g. https://www.youtube.com/watch?v=...")
    if len(url) > 300:
        raise error
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in {"http", "https"}:
        raise error
    candidate = ""
    if host in {"youtube.com", "www.youtube.com", "m.youtube.com"}:
        if parts.path == "/watch":
            candidate = (parse_qs(parts.query).get("v") or [""])[0]
        elif parts.path.startswith(("/embed/", "/shorts/")):
            candidate = parts.path.split("/")[2]
    elif host == "youtu.be":
        candidate = parts.path.lstrip("/")
    elif host in {"vimeo.com", "www.vimeo.com", "player.vimeo.com"}:
        candidate = parts.path.rstrip("/").rsplit("/", 1)[-1]
        if _VIMEO_ID.match(candidate):
            return "vimeo", candidate
        raise error
    if _YOUTUBE_ID.match(candidate):
        return "youtube", candidate
    raise error


def video_url(provider: str | None, video_id: str | None) -> str:
    """The watch link for a stored video (what the edit form shows back)."""
    if provider == "youtube" and video_id:
        return f"https://www.youtube.com/watch?v={video_id}"
    if provider == "vimeo" and video_id:
        return f"https://vimeo.com/{video_id}"
    return ""


def clean_list(values: Iterable[str], limit: int, length: int = 80) -> list[str]:
    """Trimmed, de-duplicated, bounded list of short strings (order kept)."""
    kept: list[str] = []
    seen: set[str] = set()
    for value in values:
        value = " ".join(str(value).split())[:length]
        if value and value.lower() not in seen and len(kept) < limit:
            kept.append(value)
            seen.add(value.lower())
    return kept


def store_thumbnail(data: bytes) -> str:
    return store_image("products", data, IMAGE_MAX_BYTES, THUMBNAIL_SIZE, crop=True)


def store_screenshot(data: bytes) -> str:
    return store_image("products", data, IMAGE_MAX_BYTES, SCREENSHOT_SIZE)


def node_labels(node_types: Iterable[str]) -> list[str]:
    """Node types as shoppers read them (n8n's display names), each name once, order kept.

    A type id the n8n catalog knows, or one shaped like an id (``package.name``), shows its
    display name; anything else (a vendor's own wording) shows as typed.
    """
    labels: dict[str, None] = {}
    for value in node_types:
        kind = describe(value)
        labels[kind.display_name if kind.is_known or "." in value else value] = None
    return list(labels)
