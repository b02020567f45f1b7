"""Spam rules for reviews: links, near-duplicate text (word shingles, Jaccard), and the
settings they read. The text functions are pure; ``review_rules`` is the one place the
thresholds come from."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from flask import current_app

from app.config import ReviewSettings

SHINGLE_WORDS = 2
# Short praise ("Works great, thanks!") is honestly repeated across products: texts with fewer
# words than this are never called duplicates.
MIN_DUPLICATE_WORDS = 8

_WORD = re.compile(r"\w+")
# A scheme, a www. host, a Markdown link target, or a bare host name on a common TLD.
_LINK = re.compile(
    r"(?:https?|ftp)://|\bwww\.|\]\(|"
    r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|info|biz|io|co|ru|xyz|top|shop|site|ly|me)\b",
    re.IGNORECASE,
)


def review_rules() -> ReviewSettings:
    """The spam rules' current thresholds (REVIEW_* settings)."""
    return current_app.config["APP_CONFIG"].reviews


def has_links(text: str) -> bool:
    """True when ``text`` holds something a reader could follow: a URL or a host name."""
    return _LINK.search(text or "") is not None


def words(text: str) -> list[str]:
    """The lower-cased words of ``text`` (letters and digits, any script)."""
    return _WORD.findall((text or "").lower())


def _hash(gram: tuple[str, ...]) -> int:
    digest = hashlib.blake2b("\x1f".join(gram).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def shingles(text: str, size: int = SHINGLE_WORDS) -> frozenset[int]:
    """The hashed ``size``-word shingles of ``text`` (a text shorter than ``size`` words is one
    shingle of all its words; no words, none). 64-bit hashes keep the sets small to store and
    compare; a collision merely makes two texts look a little more alike."""
    tokens = words(text)
    if not tokens:
        return frozenset()
    if len(tokens) < size:
        return frozenset({_hash(tuple(tokens))})
    return frozenset(_hash(tuple(tokens[i : i + size])) for i in range(len(tokens) - size + 1))


def overlap(a: frozenset[int], b: frozenset[int]) -> tuple[int, int]:
    """(|a ∩ b|, |a ∪ b|): the Jaccard similarity as a fraction, compared without rounding."""
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    common = sum(1 for item in small if item in large)
    return common, len(a) + len(b) - common


def jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    """|a ∩ b| / |a ∪ b|; 0.0 when both are empty."""
    common, union = overlap(a, b)
    return common / union if union else 0.0


def is_near_duplicate(text: str, others: Iterable[str], percent: int) -> bool:
    """True when ``text`` is at least ``percent`` % similar (shingle Jaccard) to any of
    ``others``; texts under MIN_DUPLICATE_WORDS words never are."""
    if len(words(text)) < MIN_DUPLICATE_WORDS:
        return False
    mine = shingles(text)
    for other in others:
        theirs = shingles(other)
        # |a ∩ b| <= min(|a|, |b|) and |a ∪ b| >= max(|a|, |b|): sets of very different sizes
        # cannot reach the threshold, so most texts are skipped before any set is walked.
        if min(len(mine), len(theirs)) * 100 < percent * max(len(mine), len(theirs)):
            continue
        common, union = overlap(mine, theirs)
        if union and common * 100 >= percent * union:
            return True
    return False
