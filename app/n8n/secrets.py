"""Hard-coded secrets in every string of a document, and redaction; values never leave."""

from __future__ import annotations

import base64
import binascii
import copy
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from app.n8n.pointer import join, resolve, split

# Code nodes reach 154 kB in the corpus; longer strings are scanned up to this many characters.
MAX_SCAN_CHARS = 256_000


@dataclass(frozen=True, slots=True)
class SecretFinding:
    """A secret's place and kind. Deliberately holds no part of the value.

    ``pointer`` is the RFC 6901 pointer of the string leaf. For a secret spelled as a member
    name the pointer names the object holding that member (a pointer to the member would
    spell the secret) and ``member`` is the member's position in that object.
    """

    pointer: str
    kind: str
    confidence: float
    # Character span inside the string (or the member name).
    start: int
    end: int
    member: int | None = None

    @property
    def in_key(self) -> bool:
        return self.member is not None

    def to_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "pointer": self.pointer,
            "kind": self.kind,
            "confidence": self.confidence,
        }
        if self.member is not None:
            record["member"] = self.member
        return record


@dataclass(frozen=True, slots=True)
class _Rule:
    kind: str
    pattern: re.Pattern[str]
    confidence: float
    # ``group`` is the token _vendor_token_ok checks; ``span_group`` the part reported and
    # redacted: a whole "Bearer …" value goes, but only the password of a URL.
    group: int = 0
    span_group: int = 0


# Vendor formats. Each pattern is linear: bounded classes, no nested quantifiers.
_RULES = (
    _Rule(
        "private_key",
        re.compile(
            r"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY(?: BLOCK)?-----"
            r"(?:[A-Za-z0-9+/=\s]|\\n|\\r)*(?:-----END \1PRIVATE KEY(?: BLOCK)?-----)?"
        ),
        0.99,
    ),
    _Rule(
        "slack_webhook",
        re.compile(
            r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/-]{20,200}"
        ),
        0.99,
    ),
    _Rule(
        "discord_webhook",
        re.compile(
            r"https://(?:(?:canary|ptb)\.)?discord(?:app)?\.com/api/webhooks/\d{5,25}/[A-Za-z0-9_-]{20,100}"
        ),
        0.99,
    ),
    _Rule("stripe_secret_key", re.compile(r"(?<![A-Za-z0-9])[sr]k_live_[0-9A-Za-z]{16,247}"), 0.99),
    _Rule("stripe_secret_key", re.compile(r"(?<![A-Za-z0-9])[sr]k_test_[0-9A-Za-z]{16,247}"), 0.8),
    _Rule("stripe_webhook_secret", re.compile(r"(?<![A-Za-z0-9])whsec_[A-Za-z0-9]{24,64}"), 0.95),
    _Rule(
        "aws_access_key_id",
        re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}(?![A-Z0-9])"),
        0.95,
    ),
    _Rule("github_token", re.compile(r"(?<![A-Za-z0-9])gh[pousr]_[A-Za-z0-9]{36,251}"), 0.99),
    _Rule("github_token", re.compile(r"(?<![A-Za-z0-9])github_pat_[A-Za-z0-9_]{22,255}"), 0.99),
    _Rule("slack_token", re.compile(r"(?<![A-Za-z0-9])xox[abposre]-[A-Za-z0-9-]{10,250}"), 0.97),
    _Rule(
        "anthropic_api_key",
        re.compile(r"(?<![A-Za-z0-9])sk-ant-[A-Za-z0-9]{2,10}-[A-Za-z0-9_-]{32,200}"),
        0.99,
    ),
    _Rule(
        "openai_api_key",
        re.compile(r"(?<![A-Za-z0-9])sk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,250}"),
        0.95,
    ),
    _Rule("google_api_key", re.compile(r"(?<![A-Za-z0-9])AIza[0-9A-Za-z_-]{35}"), 0.97),
    _Rule(
        "telegram_bot_token",
        re.compile(r"(?<![0-9])[0-9]{8,10}:AA[A-Za-z0-9_-]{30,40}(?![A-Za-z0-9_-])"),
        0.97,
    ),
    _Rule(
        "sendgrid_api_key",
        re.compile(r"(?<![A-Za-z0-9])SG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64}"),
        0.99,
    ),
    _Rule(
        "jwt",
        re.compile(
            r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,2000}\.eyJ[A-Za-z0-9_-]{8,4000}\.[A-Za-z0-9_-]{8,1000}"
        ),
        0.9,
    ),
    _Rule(
        "bearer_token", re.compile(r"(?i)\bbearer\s+([A-Za-z0-9._~+/-]{16,2000}=*)"), 0.85, group=1
    ),
    _Rule("basic_auth", re.compile(r"(?i)\bbasic\s+([A-Za-z0-9+/]{8,1000}={0,2})"), 0.9, group=1),
    _Rule(
        "url_credentials",
        re.compile(
            r"(?i)\b[a-z][a-z0-9+.-]{1,15}://[^\s:/@'\"<>{}]{1,64}:([^\s/@'\"<>{}]{1,128})@[A-Za-z0-9\[]"
        ),
        0.9,
        group=1,
        span_group=1,
    ),
)
# Cheap gate: a string with none of these cannot match a vendor rule.
_ANCHOR = re.compile(
    r"PRIVATE KEY|hooks\.slack|discord|[sr]k_|whsec_|AKIA|ASIA|ABIA|ACCA|gh[pousr]_|github_pat_"
    r"|xox|sk-|AIza|[0-9]:AA|SG\.|eyJ|(?i:bearer|basic)\s|://[^\s/]*@"
)
# key = 'literal' in code and prose; the name must look sensitive and the literal random.
_ASSIGNMENT = re.compile(
    r"""(?i)(?<![\w$-])([A-Za-z_$][\w$-]{0,60})['"]?\s*[:=]\s*(['"`])([^'"`\s\\]{8,256})\2"""
)
_QUERY_PARAM = re.compile(r"[?&]([A-Za-z_][\w.-]{0,40})=([^&#\s'\"<>{}]{8,256})")
_KEYWORD = re.compile(r"(?i)key|secret|token|pass|pwd|auth|sig")
_CONCAT = re.compile(r"""['"`]\s*\+\s*['"`]""")
_NAME_WORDS = re.compile(r"[^a-z0-9]")
_SEPARATORS = re.compile(r"[_\-.:/]")
_SENSITIVE_EXACT = frozenset(
    {
        "key",
        "auth",
        "token",
        "secret",
        "password",
        "pass",
        "pwd",
        "passwd",
        "authorization",
        "apikey",
        "xapikey",
        "xauthtoken",
        "bearer",
        "sig",
        "signature",
    }
)
_SENSITIVE_PARTS = (
    "apikey",
    "apitoken",
    "apisecret",
    "secret",
    "password",
    "passwd",
    "passphrase",
    "accesskey",
    "secretkey",
    "privatekey",
    "signingkey",
    "authkey",
    "licensekey",
    "subscriptionkey",
    "masterkey",
    "authtoken",
    "accesstoken",
    "refreshtoken",
    "bottoken",
    "bearertoken",
    "clienttoken",
    "sessiontoken",
    "idtoken",
    "webhooksecret",
)
_PLACEHOLDER_WORDS = (
    "xxxx",
    "your",
    "example",
    "placeholder",
    "replace",
    "changeme",
    "change_me",
    "dummy",
    "sample",
    "insert",
    "redacted",
    "<",
    ">",
    "{{",
    "}}",
    "${",
    "***",
    "...",
    "todo",
    "here",
    "enter",
    "fake",
    "test123",
    "secret_key",
    "api_key",
    "apikey",
    "token_",
)
_PLACEHOLDER_PASSWORDS = frozenset(
    {"password", "pass", "pwd", "secret", "changeme", "admin", "root", "test", "user", "guest"}
)


def scan_document(document: Any) -> list[SecretFinding]:
    """Findings for every string leaf and member name in a decoded JSON document.

    Iterative (no recursion, whatever the nesting). For n8n's name/value pairs (headers,
    query parameters, Set fields) a value is judged by its sibling ``name``, where the meaning
    lives. A member name that is itself a secret is reported once for the whole member and
    not descended into, so no reported pointer ever spells it.
    """
    if isinstance(document, str):
        return [SecretFinding("", *hit) for hit in _scan_string(document, "")]
    findings: list[SecretFinding] = []
    if not isinstance(document, dict | list):
        return findings
    # (container, its pointer, the field name its strings are judged by, a credentials map?)
    stack: list[tuple[Any, str, str, bool]] = [(document, "", "", False)]
    while stack:
        value, pointer, field, credential_map = stack.pop()
        children: list[tuple[Any, str, str, bool]] = []
        if isinstance(value, dict):
            label = value.get("name")
            if not isinstance(label, str):
                key_label = value.get("key")
                label = key_label if isinstance(key_label, str) else ""
            for position, (key, item) in enumerate(value.items()):
                if len(key) >= 8 and _ANCHOR.search(key):
                    hits = _scan_string(key, "", vendor_only=True)
                    if hits:
                        findings.extend(SecretFinding(pointer, *hit, position) for hit in hits)
                        continue
                name = label if key == "value" and label else key
                if isinstance(item, str) and len(item) >= 8:
                    # A credential reference by name ({"slackApi": "My Slack"}) is no value.
                    hits = _scan_string(item, name, vendor_only=credential_map)
                    findings.extend(SecretFinding(join(pointer, key), *hit) for hit in hits)
                elif isinstance(item, dict | list) and item:
                    children.append((item, join(pointer, key), name, key == "credentials"))
        else:
            for index, item in enumerate(value):
                if isinstance(item, str) and len(item) >= 8:
                    hits = _scan_string(item, field)
                    findings.extend(SecretFinding(f"{pointer}/{index}", *hit) for hit in hits)
                elif isinstance(item, dict | list) and item:
                    children.append((item, f"{pointer}/{index}", field, False))
        # Reversed so that containers are visited in document order.
        stack.extend(reversed(children))
    return findings


def _scan_string(
    text: str, field: str, *, vendor_only: bool = False
) -> list[tuple[str, float, int, int]]:
    """(kind, confidence, start, end) per secret in ``text``, judged by the ``field`` it sits in.

    ``vendor_only`` (member names, credential references) applies the vendor rules alone.
    """
    if len(text) < 8:
        return []
    text = text[:MAX_SCAN_CHARS]
    hits: list[tuple[str, float, int, int]] = []
    if _ANCHOR.search(text):
        hits += _vendor_hits(text)
    if vendor_only:
        return _dedupe(hits)
    if not hits and _is_sensitive(field) and _looks_random(text):
        hits.append((_generic_kind(text), _generic_confidence(text), 0, len(text)))
    if ("=" in text or ":" in text) and _KEYWORD.search(text):
        hits += _assignment_hits(text)
    if "+" in text:
        hits += _concatenation_hits(text)
    return _dedupe(hits) if len(hits) > 1 else hits


def _vendor_hits(text: str) -> list[tuple[str, float, int, int]]:
    hits = []
    for rule in _RULES:
        for match in rule.pattern.finditer(text):
            token = match.group(rule.group)
            if not _vendor_token_ok(rule.kind, token):
                continue
            start, end = match.span(rule.span_group)
            hits.append((rule.kind, rule.confidence, start, end))
    return hits


def _vendor_token_ok(kind: str, token: str) -> bool:
    if kind == "private_key":
        body = token.split("-----")[2] if token.count("-----") >= 2 else ""
        return sum(c.isalnum() for c in body) >= 40
    if kind == "basic_auth":
        try:
            decoded = base64.b64decode(token, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return False
        user, sep, password = decoded.partition(":")
        return bool(sep and password) and not _is_placeholder(password)
    if kind == "url_credentials":
        return token.lower() not in _PLACEHOLDER_PASSWORDS and not _is_placeholder(token)
    if kind == "bearer_token":
        return _looks_random(token)
    return not _is_placeholder(token)


def _assignment_hits(text: str) -> list[tuple[str, float, int, int]]:
    hits = []
    for match in _ASSIGNMENT.finditer(text):
        if _is_sensitive(match.group(1)) and _looks_random(match.group(3)):
            start, end = match.span(3)
            hits.append((_generic_kind(match.group(3)), 0.75, start, end))
    if "?" in text or "&" in text:
        for match in _QUERY_PARAM.finditer(text):
            if _is_sensitive(match.group(1)) and _looks_random(match.group(2)):
                start, end = match.span(2)
                hits.append((_generic_kind(match.group(2)), 0.75, start, end))
    return hits


def _concatenation_hits(text: str) -> list[tuple[str, float, int, int]]:
    """'sk-' + 'abc…' in code and expressions: a hit only visible once the pieces are joined."""
    joined = _CONCAT.sub("", text)
    if joined == text or not _ANCHOR.search(joined):
        return []
    return [(kind, conf * 0.9, 0, len(text)) for kind, conf, _, _ in _vendor_hits(joined)][:1]


def _dedupe(hits: list[tuple[str, float, int, int]]) -> list[tuple[str, float, int, int]]:
    """Keep the widest of overlapping spans; the rule order breaks ties."""
    ordered = sorted(hits, key=lambda h: (h[2], -(h[3] - h[2])))
    kept: list[tuple[str, float, int, int]] = []
    for hit in ordered:
        if kept and hit[2] < kept[-1][3]:
            continue
        kept.append(hit)
    return kept


@lru_cache(maxsize=4096)
def _is_sensitive(field: str) -> bool:
    if not field or len(field) > 80:
        return False
    name = _NAME_WORDS.sub("", field.lower())
    return name in _SENSITIVE_EXACT or any(part in name for part in _SENSITIVE_PARTS)


def _is_placeholder(token: str) -> bool:
    lowered = token.lower()
    if any(word in lowered for word in _PLACEHOLDER_WORDS):
        return True
    return len(set(lowered)) < 6


def _looks_random(value: str) -> bool:
    """A literal that could be a key or password: no spaces, mixed characters, high entropy."""
    if not 8 <= len(value) <= 512 or value.startswith("=") or _is_placeholder(value):
        return False
    if any(c.isspace() for c in value) or "://" in value or "@" in value and "." in value:
        return False
    if _is_identifier(value):
        return False
    has_digit = any(c.isdigit() for c in value)
    has_alpha = any(c.isalpha() for c in value)
    if not (has_digit and has_alpha) and not _mixed_case_noise(value):
        return False
    return _entropy(value) >= (3.0 if len(value) < 20 else 3.5)


def _is_identifier(value: str) -> bool:
    """Names like ``mcp_n8n_tools`` or ``sheet-2024-export``: words with few digits."""
    parts = _SEPARATORS.split(value)
    if len(parts) < 2 or not all(part.isalnum() for part in parts if part):
        return False
    return sum(c.isdigit() for c in value) <= 2 or all(
        part.isdigit() or part.isalpha() for part in parts if part
    )


def _mixed_case_noise(value: str) -> bool:
    """Random mixed-case letters switch case often; camelCase words rarely do."""
    letters = [c for c in value if c.isalpha()]
    if len(letters) < 12:
        return False
    switches = sum(a.isupper() != b.isupper() for a, b in zip(letters, letters[1:], strict=False))
    return switches / len(letters) > 0.35


def _entropy(value: str) -> float:
    counts = Counter(value)
    total = len(value)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def _generic_kind(value: str) -> str:
    return "password" if len(value) <= 20 else "generic_api_key"


def _generic_confidence(value: str) -> float:
    return round(min(0.9, 0.5 + _entropy(value) / 10), 2)


def redact_text(text: str) -> str:
    """Free text (a node name, a sticky note) with every secret the rules see replaced."""
    return _replace_spans(text, [SecretFinding("", *hit) for hit in _scan_string(text, "")])


def redact_document(document: Any, findings: list[SecretFinding]) -> Any:
    """A deep copy of ``document`` with each finding replaced by ``[REDACTED:<kind>]``.

    Everything else is left equal. A member whose name is a secret keeps its place with the
    name redacted (numbered if two would collide) and its value redacted on its own scan.
    """
    redacted = copy.deepcopy(document)
    values: dict[str, list[SecretFinding]] = {}
    members: dict[str, dict[int, list[SecretFinding]]] = {}
    for finding in findings:
        if finding.member is None:
            values.setdefault(finding.pointer, []).append(finding)
        else:
            members.setdefault(finding.pointer, {}).setdefault(finding.member, []).append(finding)
    # Value pointers never pass through a secret member name, so they resolve as they are.
    for pointer, group in values.items():
        if pointer == "":
            redacted = _replace_spans(redacted, group)
            continue
        parent_pointer, _, last = pointer.rpartition("/")
        parent = resolve(redacted, parent_pointer)
        slot: int | str = int(last) if isinstance(parent, list) else split("/" + last)[0]
        parent[slot] = _replace_spans(parent[slot], group)
    for pointer, by_position in members.items():
        holder = resolve(redacted, pointer)
        items = list(holder.items())
        used = {key for position, (key, _) in enumerate(items) if position not in by_position}
        holder.clear()
        for position, (key, item) in enumerate(items):
            if position in by_position:
                key = _unique(_replace_spans(key, by_position[position]), used)
                item = redact_document(item, scan_document(item))
            holder[key] = item
    return redacted


def _unique(key: str, used: set[str]) -> str:
    candidate, number = key, 1
    while candidate in used:
        number += 1
        candidate = f"{key} ({number})"
    used.add(candidate)
    return candidate


def _replace_spans(text: str, findings: list[SecretFinding]) -> str:
    for finding in sorted(findings, key=lambda f: f.start, reverse=True):
        text = text[: finding.start] + f"[REDACTED:{finding.kind}]" + text[finding.end :]
    return text
