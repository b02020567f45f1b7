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
from itertools import islice
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
)
# scheme://user:password@host: the authority is the text up to the path; its userinfo ends at
# the last "@" (an unencoded "@" in a password is common) and the password after the first ":".
_URL_AUTHORITY = re.compile(r"(?i)\b[a-z][a-z0-9+.-]{1,15}://([^\s/?#'\"<>{}`\\]{3,320})")
# Server=...;User ID=...;Password=...; (ADO.NET, ODBC) and Azure's AccountKey=/SharedAccessKey=.
_CONNECTION_STRING = re.compile(
    r"(?i)(?:^|[;\s'\"])(password|pwd|accountkey|sharedaccesskey)\s*=\s*([^;'\"\s]{6,256})"
)
# curl -u user:password, and Basic credentials built in code from a literal "user:password".
_CURL_USER = re.compile(r"""(?:^|\s)(?:-u|--user)(?:\s+|=)['"]?([^\s:'"]{1,64}):([^\s'"]{1,128})""")
_ENCODED_PAIR = re.compile(
    r"""(?:\bbtoa|\bBuffer\.from|\bb64encode)\(\s*b?(['"`])([^'"`\s:]{1,64}):([^'"`\s]{1,128})\1"""
)
# Authorization: <scheme> <credentials> for schemes other than Bearer and Basic (Token, Bot,
# SSWS, ...), judged where the field names the header.
_AUTH_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_-]{1,20})\s+(\S{8,2000})\s*$")
_COOKIE_ATTRIBUTES = frozenset(
    {"path", "domain", "expires", "max-age", "samesite", "httponly", "secure", "priority"}
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
# pinData holds what real runs returned: there a session id or a typed password is a value.
_SESSION_EXACT = frozenset(
    {"sid", "sessid", "jsessionid", "phpsessid", "connectsid", "csrf", "csrftoken", "xsrftoken"}
)
_PASSWORD_PARTS = ("password", "passwd", "passphrase", "pwd", "pass")
# In a credentials object these name the account, not its secret.
_IDENTITY_FIELDS = frozenset(
    {
        "id",
        "name",
        "user",
        "username",
        "userid",
        "login",
        "email",
        "mail",
        "host",
        "hostname",
        "server",
        "domain",
        "region",
        "port",
        "database",
        "db",
        "schema",
        "account",
        "accountid",
        "accountname",
        "tenant",
        "tenantid",
        "clientid",
        "appid",
        "applicationid",
        "url",
        "baseurl",
        "endpoint",
        "protocol",
        "ssl",
        "sslmode",
        "authtype",
        "authentication",
        "scope",
        "scopes",
        "environment",
        "realm",
        "organization",
        "org",
        "orgid",
        "project",
        "projectid",
        "type",
        "version",
        "sender",
        "from",
    }
)

# Where a string sits decides how it is judged.
_PLAIN = "plain"
# A node's ``credentials`` object: its string values are references by name.
_REFERENCES = "references"
# Inside one credential entry: anything but the {id, name} reference is a hard-coded value.
_CREDENTIAL = "credential"
# pinData: data pinned from real runs.
_PINNED = "pinned"


def scan_document(document: Any) -> list[SecretFinding]:
    """Findings for every string leaf and member name in a decoded JSON document.

    Iterative (no recursion, whatever the nesting). For n8n's name/value pairs (headers,
    query parameters, Set fields) a value is judged by its sibling ``name``, where the meaning
    lives. A member name that is itself a secret is reported once for the whole member and
    not descended into, so no reported pointer ever spells it.

    Where a string sits matters too. Under ``pinData`` (what real runs returned) session ids
    and typed passwords count as secrets. Under a node's ``credentials``, string values are
    references by name, and inside one credential entry every value but the ``{id, name}``
    reference and the account's identity (user, host, ...) is a hard-coded secret.
    """
    if isinstance(document, str):
        return [SecretFinding("", *hit) for hit in _scan_string(document, "")]
    findings: list[SecretFinding] = []
    if not isinstance(document, dict | list):
        return findings
    # (container, its pointer, the field name its strings are judged by, where it sits)
    stack: list[tuple[Any, str, str, str]] = [(document, "", "", _PLAIN)]
    while stack:
        value, pointer, field, place = stack.pop()
        children: list[tuple[Any, str, str, str]] = []
        if isinstance(value, dict):
            label = value.get("name")
            if not isinstance(label, str):
                key_label = value.get("key")
                label = key_label if isinstance(key_label, str) else ""
            for position, (key, item) in enumerate(value.items()):
                if len(key) >= 8 and _ANCHOR.search(key):
                    hits = _scan_string(key, "", place=_REFERENCES)
                    if hits:
                        findings.extend(SecretFinding(pointer, *hit, position) for hit in hits)
                        continue
                name = label if key == "value" and label else key
                if isinstance(item, str) and len(item) >= _MIN_LENGTH[place]:
                    hits = _scan_string(item, name, place=place)
                    findings.extend(SecretFinding(join(pointer, key), *hit) for hit in hits)
                elif isinstance(item, dict | list) and item:
                    inner = place if place == _PINNED else _inner(place, key, item)
                    children.append((item, join(pointer, key), name, inner))
        else:
            for index, item in enumerate(value):
                if isinstance(item, str) and len(item) >= _MIN_LENGTH[place]:
                    hits = _scan_string(item, field, place=place)
                    findings.extend(SecretFinding(f"{pointer}/{index}", *hit) for hit in hits)
                elif isinstance(item, dict | list) and item:
                    children.append((item, f"{pointer}/{index}", field, place))
        # Reversed so that containers are visited in document order.
        stack.extend(reversed(children))
    return findings


# The pair rules look at this many matches per string: real strings hold a handful, and a
# hostile one repeating a pattern thousands of times must not cost a Python loop per copy.
_MAX_PAIRS = 64

# Shorter strings are never judged; a hard-coded credential value may be shorter than a key.
_MIN_LENGTH = {_PLAIN: 8, _REFERENCES: 8, _CREDENTIAL: 6, _PINNED: 6}


def _inner(place: str, key: str, item: Any) -> str:
    """Where the members of ``item``, found under ``key`` in a container at ``place``, sit."""
    if place == _PLAIN:
        if key == "pinData":
            return _PINNED
        if key == "credentials" and isinstance(item, dict):
            return _REFERENCES
        return _PLAIN
    if place == _REFERENCES:
        return _CREDENTIAL
    return place


def _scan_string(
    text: str, field: str, *, place: str = _PLAIN
) -> list[tuple[str, float, int, int]]:
    """(kind, confidence, start, end) per secret in ``text``, judged by the ``field`` it sits
    in and the ``place`` of its container (see scan_document).

    References (member names, credential references by name) and a credential's identity
    fields (user, host, ...) get the vendor rules alone.
    """
    if len(text) < _MIN_LENGTH[place]:
        return []
    text = text[:MAX_SCAN_CHARS]
    hits: list[tuple[str, float, int, int]] = []
    if _ANCHOR.search(text):
        hits += _vendor_hits(text)
    if ";" in text and "=" in text or "-u" in text or "(" in text and _has_encoder(text):
        hits += _pair_hits(text)
    if place == _REFERENCES:
        return _dedupe(hits)
    traits = _traits(field)
    if place == _CREDENTIAL and traits & _IDENTITY:
        return _dedupe(hits)
    if traits & _COOKIE:
        hits += _cookie_hits(text)
    if not hits and (traits & _JUDGED or place in (_CREDENTIAL, _PINNED)):
        hits += _field_hits(text, traits, place)
    if ("=" in text or ":" in text) and _KEYWORD.search(text):
        hits += _assignment_hits(text)
    if "+" in text:
        hits += _concatenation_hits(text)
    return _dedupe(hits) if len(hits) > 1 else hits


def _field_hits(text: str, traits: int, place: str) -> list[tuple[str, float, int, int]]:
    """A whole value that is a secret because of the field it fills (``traits``)."""
    whole = len(text)
    if traits & _SENSITIVE and _looks_random(text):
        return [(_generic_kind(text), _generic_confidence(text), 0, whole)]
    if place == _PINNED:
        if traits & _SESSION and _looks_like_session(text):
            return [("session_token", 0.8, 0, whole)]
        if traits & _PASSWORD and _is_typed_password(text):
            return [("password", 0.8, 0, whole)]
    if traits & _AUTHORIZATION:
        match = _AUTH_SCHEME.match(text)
        scheme = match.group(1).lower() if match else "bearer"
        if match and scheme not in ("bearer", "basic") and _looks_random(match.group(2)):
            return [("authorization_header", 0.85, *match.span(2))]
    if place == _CREDENTIAL and _is_typed_password(text):
        return [("credential_value", 0.85, 0, whole)]
    return []


def _cookie_hits(text: str) -> list[tuple[str, float, int, int]]:
    """Session values in a Cookie or Set-Cookie header: ``name=value`` pairs split by ";"."""
    hits = []
    offset = 0
    for part in text.split(";", _MAX_PAIRS)[:_MAX_PAIRS]:
        name, sep, value = part.partition("=")
        start = offset + len(name) + len(sep)
        offset += len(part) + 1
        name = name.strip().lower()
        if not sep or not name or name in _COOKIE_ATTRIBUTES:
            continue
        stripped = value.strip().strip('"')
        if len(stripped) >= 16 and _looks_like_session(stripped):
            start += value.index(stripped)
            hits.append(("session_token", 0.8, start, start + len(stripped)))
    return hits


def _vendor_hits(text: str) -> list[tuple[str, float, int, int]]:
    hits = []
    for rule in _RULES:
        for match in rule.pattern.finditer(text):
            token = match.group(rule.group)
            if not _vendor_token_ok(rule.kind, token):
                continue
            start, end = match.span(rule.span_group)
            hits.append((rule.kind, rule.confidence, start, end))
    if "://" in text:
        hits += _url_credential_hits(text)
    return hits


def _pair_hits(text: str) -> list[tuple[str, float, int, int]]:
    """Passwords written beside their user or server: connection strings, ``curl -u``, Basic
    credentials encoded in code. Gated by plain substring tests, which cost next to nothing."""
    hits = []
    if ";" in text and "=" in text:
        for match in islice(_CONNECTION_STRING.finditer(text), _MAX_PAIRS):
            if _is_literal_password(match.group(2)):
                hits.append(("connection_string", 0.85, *match.span(2)))
    if "-u" in text:
        for match in islice(_CURL_USER.finditer(text), _MAX_PAIRS):
            if _is_literal_password(match.group(2)):
                hits.append(("basic_auth", 0.85, *match.span(2)))
    if _has_encoder(text):
        for match in islice(_ENCODED_PAIR.finditer(text), _MAX_PAIRS):
            if _is_literal_password(match.group(3)):
                hits.append(("basic_auth", 0.85, *match.span(3)))
    return hits


def _has_encoder(text: str) -> bool:
    return "btoa(" in text or "Buffer.from(" in text or "b64encode(" in text


def _url_credential_hits(text: str) -> list[tuple[str, float, int, int]]:
    hits = []
    for match in islice(_URL_AUTHORITY.finditer(text), _MAX_PAIRS):
        authority = match.group(1)
        at = authority.rfind("@")
        colon = authority.find(":", 0, max(at, 0))
        host = authority[at + 1 :]
        if at <= 0 or colon < 0 or not host or not (host[0].isalnum() or host[0] == "["):
            continue
        password = authority[colon + 1 : at]
        if _is_literal_password(password):
            start = match.start(1) + colon + 1
            hits.append(("url_credentials", 0.9, start, start + len(password)))
    return hits


def _is_literal_password(value: str) -> bool:
    """Not empty, not a placeholder, not a reference to a variable ($DB_PASS, %PASS%)."""
    if not value or value.startswith(("$", "=")) or value.startswith("%") and value.endswith("%"):
        return False
    return value.lower() not in _PLACEHOLDER_PASSWORDS and not _is_placeholder(value)


def _vendor_token_ok(kind: str, token: str) -> bool:
    if kind == "private_key":
        body = token.split("-----")[2] if token.count("-----") >= 2 else ""
        return sum(c.isalnum() for c in body) >= 40
    if kind == "basic_auth":
        # Padding is often dropped when the header is written by hand.
        padded = token + "=" * (-len(token) % 4)
        try:
            decoded = base64.b64decode(padded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return False
        user, sep, password = decoded.partition(":")
        if not sep:
            return False
        # An API key sent as the user name with an empty password (Stripe, Mailgun style).
        return _is_literal_password(password) if password else _looks_random(user)
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


# What a field's name says about the strings in it (see _traits).
_SENSITIVE, _SESSION, _PASSWORD, _IDENTITY, _COOKIE, _AUTHORIZATION = (1, 2, 4, 8, 16, 32)
# Traits that make a field's value worth judging on its own.
_JUDGED = _SENSITIVE | _AUTHORIZATION


@lru_cache(maxsize=4096)
def _traits(field: str) -> int:
    """A bit set of what ``field`` names: a secret, a session, a password, an account's
    identity (user, host, ...), a cookie header, an Authorization header. Looked up once
    per string, so kept in one cached function."""
    if not field or len(field) > 80:
        return 0
    name = _NAME_WORDS.sub("", field.lower())
    traits = _SENSITIVE if _is_sensitive(field) else 0
    if name in _SESSION_EXACT or "session" in name:
        traits |= _SESSION
    if any(part in name for part in _PASSWORD_PARTS):
        traits |= _PASSWORD
    if name in _IDENTITY_FIELDS:
        traits |= _IDENTITY
    if "cookie" in name:
        traits |= _COOKIE
    if name in ("authorization", "proxyauthorization"):
        traits |= _AUTHORIZATION
    return traits


_HEX = re.compile(r"[0-9a-fA-F]{16,512}")


def _looks_like_session(value: str) -> bool:
    """A session id: random-looking, or hex of 16+ digits (which random draws often leave
    below the entropy bar that keeps words out of _looks_random)."""
    if _looks_random(value):
        return True
    return bool(_HEX.fullmatch(value)) and not value.isdigit() and not value.isalpha()


def _is_typed_password(value: str) -> bool:
    """A value someone typed as a secret: a passphrase may have spaces and no digits, but it
    is no expression, placeholder, mask or reference to a variable."""
    if not 6 <= len(value) <= 1024 or value.startswith(("=", "$")):
        return False
    return value.lower() not in _PLACEHOLDER_PASSWORDS and not _is_placeholder(value)


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
