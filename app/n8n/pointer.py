"""JSON pointers (RFC 6901): build them from path parts and resolve them."""

from __future__ import annotations

from typing import Any


def escape(part: str | int) -> str:
    """One reference token: ``~`` becomes ``~0`` and ``/`` becomes ``~1`` (in that order)."""
    return str(part).replace("~", "~0").replace("/", "~1")


def join(base: str, *parts: str | int) -> str:
    # A loop, not "".join over a generator: the parser calls this for every node and edge.
    for part in parts:
        base += "/" + escape(part)
    return base


def split(pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError("a JSON pointer is empty or starts with '/'")
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")]


def resolve(document: Any, pointer: str) -> Any:
    """The value at ``pointer``; raises KeyError/IndexError/ValueError when it is absent."""
    value = document
    for part in split(pointer):
        if isinstance(value, list):
            if not part.isdigit():
                raise ValueError(f"array index expected, got {part!r}")
            value = value[int(part)]
        elif isinstance(value, dict):
            value = value[part]
        else:
            raise KeyError(part)
    return value
