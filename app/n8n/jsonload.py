"""Strict JSON loading: bytes in, Python values out, every rejection located."""

from __future__ import annotations

import json
import re
from itertools import accumulate, repeat
from typing import Any

from app.n8n.errors import WorkflowError
from app.n8n.limits import DEFAULT_LIMITS, Limits
from app.n8n.pointer import join

_UTF8_BOM = b"\xef\xbb\xbf"
# Longest first: the UTF-32 LE mark starts with the UTF-16 LE one.
_OTHER_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)
# One JSON string token, unrolled so the regex engine never backtracks; the closing quote is
# optional so that an unterminated string is consumed once, not retried from every quote
# inside it (which made a file of escaped quotes quadratic).
_STRING_BODY = r'"[^"\\]*(?:\\.[^"\\]*)*"?'
_STRING = re.compile(_STRING_BODY, re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_TOKEN = re.compile(_STRING_BODY + r"|[\[\]{}]", re.DOTALL)
_CONSTANT = re.compile(_STRING_BODY + r"|-?Infinity|NaN", re.DOTALL)
_LONG_NUMBER = re.compile(r"-?[0-9]{4000}")
_OPEN_CLOSE = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")


class _Flagged(dict):
    """A JSON object that repeated a key; the loader looks for these after parsing."""

    duplicate: str = ""


class _Constant(ValueError):
    pass


def load_json(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Decode one strict JSON document from ``data``.

    Raises WorkflowError (location ``byte N`` or a JSON pointer) for: too many bytes, a
    UTF-16/32 file, invalid UTF-8, nesting deeper than the limit, an over-long string,
    syntax errors, trailing text, two documents, NaN/Infinity and duplicate object keys.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("load_json takes bytes")
    data = bytes(data)
    if len(data) > limits.max_bytes:
        raise WorkflowError(
            f"file is {len(data):,} bytes; the limit is {limits.max_bytes:,}", "byte 0"
        )
    text, base = _decode(data)
    if not text.strip(" \t\r\n"):
        raise WorkflowError("file is empty", f"byte {len(data)}")
    _check_shape(text, base, limits)
    flagged: list[bool] = []

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) == len(pairs):
            return obj
        seen: set[str] = set()
        dup = next(key for key, _ in pairs if key in seen or seen.add(key))
        marked = _Flagged(obj)
        marked.duplicate = dup
        flagged.append(True)
        return marked

    def reject_constant(name: str) -> Any:
        raise _Constant(name)

    try:
        value = json.loads(text, object_pairs_hook=pairs_hook, parse_constant=reject_constant)
    except json.JSONDecodeError as exc:
        raise _syntax_error(exc, text, base) from None
    except _Constant as exc:
        offset = _constant_offset(text)
        raise WorkflowError(
            f"{exc.args[0]} is not valid JSON", f"byte {_byte_offset(text, offset, base)}"
        ) from None
    except RecursionError:
        raise WorkflowError(f"nesting is deeper than {limits.max_depth} levels") from None
    except ValueError:
        # int() refuses numbers past sys.get_int_max_str_digits (4,300 digits).
        match = _LONG_NUMBER.search(_STRING.sub(_blank, text))
        where = f"byte {_byte_offset(text, match.start(), base)}" if match else ""
        raise WorkflowError("a number has too many digits", where) from None
    if flagged:
        pointer, key = _find_duplicate(value)
        raise WorkflowError(f"duplicate object key {key[:80]!r}", pointer)
    return value


def _decode(data: bytes) -> tuple[str, int]:
    for mark, name in _OTHER_BOMS:
        if data.startswith(mark):
            raise WorkflowError(f"file is {name} encoded; n8n exports are UTF-8", "byte 0")
    if len(data) >= 2 and (data[0] == 0) != (data[1] == 0):
        raise WorkflowError("file looks UTF-16 encoded (NUL bytes); exports are UTF-8", "byte 0")
    base = 0
    if data.startswith(_UTF8_BOM):
        data, base = data[3:], 3
    try:
        return data.decode("utf-8"), base
    except UnicodeDecodeError as exc:
        raise WorkflowError("invalid UTF-8", f"byte {exc.start + base}") from None


def _check_shape(text: str, base: int, limits: Limits) -> None:
    """Depth and string-length limits, measured with regexes before json.loads runs."""
    structural = _STRING.sub("", text)
    if len(text) - len(structural) > limits.max_string + 2:
        longest = max(map(len, _STRING.findall(text)))
        if longest - 2 > limits.max_string:
            at = next(m.start() for m in _STRING.finditer(text) if m.end() - m.start() == longest)
            raise WorkflowError(
                f"a string is longer than {limits.max_string:,} characters",
                f"byte {_byte_offset(text, at, base)}",
            )
    brackets = _NOT_BRACKET.sub("", structural).encode("ascii")
    steps = map(int.__sub__, brackets.translate(_OPEN_CLOSE), repeat(1))
    if max(accumulate(steps), default=0) <= limits.max_depth:
        return
    depth = 0
    for match in _TOKEN.finditer(text):
        lexeme = match.group()
        if lexeme in "[{":
            depth += 1
            if depth > limits.max_depth:
                raise WorkflowError(
                    f"nesting is deeper than {limits.max_depth} levels",
                    f"byte {_byte_offset(text, match.start(), base)}",
                )
        elif lexeme in "]}":
            depth -= 1


def _blank(match: re.Match[str]) -> str:
    """A string token replaced by spaces of the same length, so offsets stay put."""
    return " " * (match.end() - match.start())


def _byte_offset(text: str, index: int, base: int) -> int:
    return base + len(text[:index].encode("utf-8", "surrogatepass"))


def _syntax_error(exc: json.JSONDecodeError, text: str, base: int) -> WorkflowError:
    where = f"byte {_byte_offset(text, exc.pos, base)}"
    if exc.msg == "Extra data":
        try:
            json.JSONDecoder().raw_decode(text, exc.pos)
        except (ValueError, RecursionError):
            return WorkflowError("trailing text after the JSON document", where)
        return WorkflowError("two JSON documents in one file; upload one workflow", where)
    return WorkflowError(f"invalid JSON: {exc.msg}", where)


def _constant_offset(text: str) -> int:
    for match in _CONSTANT.finditer(text):
        if not match.group().startswith('"'):
            return match.start()
    return 0


def _find_duplicate(value: Any) -> tuple[str, str]:
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, pointer = stack.pop()
        if isinstance(item, _Flagged):
            return join(pointer, item.duplicate), item.duplicate
        if isinstance(item, dict):
            stack.extend((v, join(pointer, k)) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, join(pointer, i)) for i, v in enumerate(item))
    return "", ""
