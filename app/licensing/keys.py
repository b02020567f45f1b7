"""Licence keys: random, checksummed, in readable groups.

    APM-7K3QX-M9D2F-TR8WC-4HZ6N-Q1V5B
    prefix  four groups of random data   checksum group

The body is 100 random bits written as 20 Crockford base32 characters (no I, L, O or U, so
nothing reads as another letter); the last group is 25 bits of SHA-256 over the body, so a
mistyped key is refused without a database look-up. ``normalise_key`` reads a key the way a
person types it: any case, spaces or missing dashes, O for 0 and I or L for 1.
"""

from __future__ import annotations

import hashlib
import re
import secrets

PREFIX = "APM"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32
GROUP = 5
BODY_GROUPS = 4
KEY_LENGTH = len(PREFIX) + (BODY_GROUPS + 1) * (GROUP + 1)  # 33 with the dashes
_TYPED = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SHAPE = re.compile(rf"{PREFIX}((?:[{ALPHABET}]{{{GROUP}}}){{{BODY_GROUPS + 1}}})")


class InvalidKey(ValueError):
    """Not a licence key: wrong shape or a checksum that does not match."""


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, digit = divmod(value, 32)
        chars.append(ALPHABET[digit])
    return "".join(reversed(chars))


def _checksum(body: str) -> str:
    digest = hashlib.sha256(b"apm-licence-key:" + body.encode()).digest()
    return _encode(int.from_bytes(digest[:4]) >> 7, GROUP)  # the first 25 bits


def _grouped(chars: str) -> str:
    groups = [chars[i : i + GROUP] for i in range(0, len(chars), GROUP)]
    return "-".join([PREFIX, *groups])


def generate_key() -> str:
    """A new random key in its canonical form (``APM-XXXXX-...``)."""
    body = _encode(secrets.randbits(GROUP * BODY_GROUPS * 5), GROUP * BODY_GROUPS)
    return _grouped(body + _checksum(body))


def normalise_key(typed: str) -> str:
    """``typed`` in canonical form; raises InvalidKey for a wrong shape or checksum."""
    compact = re.sub(r"[\s-]+", "", typed or "").upper()
    if compact.startswith(PREFIX):
        compact = PREFIX + compact[len(PREFIX) :].translate(_TYPED)
    match = _SHAPE.fullmatch(compact)
    if match is None:
        raise InvalidKey("That is not a licence key (APM- and five groups of five).")
    chars = match.group(1)
    body, check = chars[:-GROUP], chars[-GROUP:]
    if _checksum(body) != check:
        raise InvalidKey("That licence key has a typo: its checksum does not match.")
    return _grouped(chars)


def is_well_formed(typed: str) -> bool:
    """True when ``typed`` reads as a key with a matching checksum."""
    try:
        normalise_key(typed)
    except InvalidKey:
        return False
    return True
