"""Secret scanning and redaction: every vendor kind found, decoys left alone, nothing leaked."""

from __future__ import annotations

import copy
import json
import logging
import time

import pytest

from app.n8n import parse_workflow, redact_document, render_svg, scan_document
from app.n8n.pointer import join, resolve
from app.n8n.secrets import MAX_SCAN_CHARS
from app.n8n.services import inspect_workflow, redact_workflow
from tests.n8n.helpers import load
from tests.n8n.secret_samples import (
    fake_secrets,
    leaks_beyond_parameters,
    pair,
    secret_parts,
    secrets_workflow,
)


def leaves(value, pointer=""):
    """{pointer: leaf} for every scalar of a document."""
    if not isinstance(value, dict | list):
        return {pointer: value}
    out = {}
    for key, item in value.items() if isinstance(value, dict) else enumerate(value):
        out.update(leaves(item, join(pointer, key)))
    return out


def assert_no_value(text: str, secrets: dict[str, str]) -> None:
    for kind, value in secret_parts(secrets).items():
        assert value[-12:] not in text, kind
        assert value[:12] not in text, kind


def test_every_vendor_kind_is_found_and_nothing_else():
    document, planted, decoys = secrets_workflow()
    found = {(f.pointer, f.kind) for f in scan_document(document)}
    assert found == planted
    kinds = {kind for _, kind in planted}
    assert kinds >= {
        "stripe_secret_key",
        "aws_access_key_id",
        "github_token",
        "slack_token",
        "slack_webhook",
        "discord_webhook",
        "openai_api_key",
        "anthropic_api_key",
        "google_api_key",
        "telegram_bot_token",
        "sendgrid_api_key",
        "jwt",
        "private_key",
        "basic_auth",
        "bearer_token",
        "url_credentials",
        "generic_api_key",
        "password",
    }
    flagged = {pointer for pointer, _ in found}
    assert not flagged & set(decoys)


def test_findings_point_at_string_leaves_and_carry_a_confidence():
    document, _, _ = secrets_workflow()
    findings = scan_document(document)
    assert findings
    for finding in findings:
        value = resolve(document, finding.pointer)
        assert isinstance(value, str)
        assert 0 < finding.end - finding.start <= len(value)
        assert 0.5 <= finding.confidence <= 1.0
        assert finding.to_dict() == {
            "pointer": finding.pointer,
            "kind": finding.kind,
            "confidence": finding.confidence,
        }


@pytest.mark.parametrize(
    "value",
    [
        "={{ $json.apiKey }}",
        "={{ $env.STRIPE_SECRET }}",
        "={{ $('Config').item.json.token }}",
        "YOUR_API_KEY",
        "your-api-key-here",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "<token>",
        "<YOUR_BOT_TOKEN>",
        "REPLACE_ME",
        "changeme123",
        "sk-xxxxxxxxxxxxxxxxxxxxxxxx",
        "Bearer {{ $json.token }}",
        "********",
        "my_api_token_name",
        "sheet-2024-export",
        "https://api.example.com/v1/items?limit=100",
    ],
)
def test_expressions_and_placeholders_are_not_secrets(value):
    document = {
        "parameters": {"headerParameters": {"parameters": [{"name": "apiKey", "value": value}]}}
    }
    assert scan_document(document) == []


def test_ids_the_export_always_carries_are_not_secrets():
    for name in ("editor_download.json", "ai_agent.json", "legacy.json", "cli_array.json"):
        assert scan_document(load(name).document) == [], name


def test_credential_references_by_name_are_not_values():
    document = {
        "nodes": [
            {"credentials": {"slackApi": "Xk93hdP2mQz81Lw", "smtp": {"id": "A1b2C3d4E5f6G7h8"}}}
        ]
    }
    assert scan_document(document) == []


def test_secret_split_across_a_concatenation():
    secret = fake_secrets()["openai_api_key"]
    code = f"const key = '{secret[:10]}' + '{secret[10:]}';"
    [finding] = scan_document({"jsCode": code})
    assert finding.kind == "openai_api_key" and finding.pointer == "/jsCode"


def test_secret_in_a_member_name_never_appears_in_a_pointer():
    secret = fake_secrets()["stripe_secret_key"]
    document = {"parameters": {secret: {"inner": "value"}, "other": 1}}
    [finding] = scan_document(document)
    assert finding.pointer == "/parameters" and finding.member == 0 and finding.in_key
    assert secret not in repr(finding)
    redacted = redact_document(document, [finding])
    assert list(redacted["parameters"]) == ["[REDACTED:stripe_secret_key]", "other"]
    assert redacted["parameters"]["[REDACTED:stripe_secret_key]"] == {"inner": "value"}
    assert document["parameters"][secret] == {"inner": "value"}  # the input is untouched


def test_two_secret_member_names_in_one_object_stay_distinct():
    a, b = fake_secrets(1)["github_token"], fake_secrets(2)["github_token"]
    document = {"h": {a: 1, b: {"token": fake_secrets(3)["slack_token"]}}}
    findings = scan_document(document)
    redacted = redact_document(document, findings)
    assert list(redacted["h"]) == ["[REDACTED:github_token]", "[REDACTED:github_token] (2)"]
    # The value under a secret member name is redacted on its own scan.
    assert redacted["h"]["[REDACTED:github_token] (2)"] == {"token": "[REDACTED:slack_token]"}


def test_redaction_replaces_secrets_and_keeps_everything_else_equal():
    document, planted, _ = secrets_workflow()
    original = copy.deepcopy(document)
    findings = scan_document(document)
    redacted = redact_document(document, findings)
    assert document == original
    before, after = leaves(document), leaves(redacted)
    assert before.keys() == after.keys()
    changed = {pointer for pointer in before if before[pointer] != after[pointer]}
    assert changed == {pointer for pointer, _ in planted}
    for pointer, kind in planted:
        assert f"[REDACTED:{kind}]" in after[pointer]
    # Text around a secret survives: the Code node keeps its program.
    assert after["/nodes/2/parameters/jsCode"].startswith(
        "// call the billing API\nconst stripeKey"
    )
    assert "const fromEnv = $env.OPENAI_API_KEY;" in after["/nodes/2/parameters/jsCode"]
    assert scan_document(redacted) == []
    assert_no_value(json.dumps(redacted), fake_secrets())


def test_redact_workflow_service_round_trips_as_json():
    document, planted, _ = secrets_workflow()
    text, count = redact_workflow(json.dumps(document).encode())
    assert count == len(planted)
    redacted = json.loads(text)
    assert redacted["name"] == "Leaky workflow"
    assert_no_value(text, fake_secrets())


def test_values_never_reach_findings_records_svg_or_logs(caplog):
    caplog.set_level(logging.DEBUG)
    document, _, _ = secrets_workflow()
    # Put secrets in node names too: the SVG draws names.
    secrets = fake_secrets()
    document["nodes"][2]["name"] = "Code " + secrets["github_token"]
    document["name"] = "Flow " + secrets["stripe_secret_key"]
    data = json.dumps(document).encode()
    findings = scan_document(parse_workflow(data).document)
    record = inspect_workflow(data, "leaky.json")
    svg = render_svg(parse_workflow(data))
    for text in (repr(findings), json.dumps([f.to_dict() for f in findings]), svg, caplog.text):
        assert_no_value(text, secrets)
    assert_no_value(json.dumps(record["secrets"]), secrets)
    assert "[REDACTED:github_token]" in svg


def test_scanner_is_linear_on_pathological_strings():
    # CPU time, not wall time: other processes on a shared machine stretch the wall clock,
    # while a quadratic regex would burn minutes of CPU, not one second.
    size = MAX_SCAN_CHARS
    shapes = [
        "a" * size,
        "eyJ" * (size // 3),
        "bearer " * (size // 7),
        "key='" * (size // 5),
        "http://a:b@" * (size // 11),
        "?a=b&" * (size // 5),
        "'sk-'+'" * (size // 7),
        "-----BEGIN PRIVATE KEY-----" * (size // 27),
        "key" + " " * size + "=",
        "x" * (size * 4),  # longer than the scan cap
    ]
    for text in shapes:
        start = time.process_time()
        scan_document({"parameters": {"apiKey": text, "jsCode": text}})
        assert time.process_time() - start < 1.0, text[:20]
    # The pair rules, cookies, pinned values and inline credentials on their own patterns.
    for text in (
        "a=b;" * (size // 4),
        "-u a:b " * (size // 7),
        "btoa('a:b') " * (size // 12),
        "sid=0123456789abcdef; " * (size // 22),
    ):
        start = time.process_time()
        scan_document(
            {
                "parameters": {"Cookie": text},
                "pinData": {"Run": [{"json": {"session": text}}]},
                "credentials": {"custom": {"pw": text}},
            }
        )
        assert time.process_time() - start < 1.0, text[:20]


def test_iterative_walk_survives_deep_documents():
    deep: object = "x"
    for _ in range(5000):
        deep = [deep]
    token = fake_secrets()["github_token"]
    deep = {"k": deep, "token": token}
    [finding] = scan_document(deep)
    assert finding.pointer == "/token"


# Beyond tidy apiKey parameters: pinData, inline credentials, connection strings, headers.


def test_leaks_beyond_parameters_are_found_and_decoys_are_not():
    document, planted, decoys = leaks_beyond_parameters()
    found = {(f.pointer, f.kind) for f in scan_document(document)}
    assert found == planted
    assert not {pointer for pointer, _ in found} & set(decoys)
    for pointer, value in decoys.items():
        assert resolve(document, pointer) == value, pointer


@pytest.mark.parametrize("seed", range(20))
def test_leaks_are_found_whatever_the_random_values(seed):
    document, planted, _ = leaks_beyond_parameters(seed)
    assert {(f.pointer, f.kind) for f in scan_document(document)} == planted


def test_leaks_are_redacted_and_their_values_never_survive():
    document, planted, _ = leaks_beyond_parameters()
    findings = scan_document(document)
    values = [resolve(document, f.pointer)[f.start : f.end] for f in findings]
    redacted = redact_document(document, findings)
    text = json.dumps(redacted)
    for value in values:
        assert value not in text
    for pointer, kind in planted:
        assert f"[REDACTED:{kind}]" in resolve(redacted, pointer)
    assert scan_document(redacted) == []
    # Only the secret part goes: the host of a connection string stays.
    assert "cache.internal:6379" in text and "Server=tcp:sql.example.test" in text


def test_a_pinned_real_run_without_secrets_is_clean():
    """A contact-form run as n8n pins it: headers, ids, hashes, emails, a masked password,
    harmless cookies, and credentials that are references or placeholders."""
    assert scan_document(load("pinned_run.json").document) == []


def _pinned(**fields: str) -> dict:
    return {"nodes": [], "pinData": {"Form": [{"json": fields}]}}


@pytest.mark.parametrize(
    ("fields", "kind"),
    [
        ({"password": "orbit maple copper 42"}, "password"),
        ({"pass": "Summer in Lisbon"}, "password"),
        ({"session": "s%3AQk2mP9xLw4Rz7Tn1Vb5Yc8Hd3Jf6Gs0.Ae9Bi2Cu5Dv"}, "session_token"),
        ({"sid": "9f3c2b7e1a4d8f6c0e5b9a2d7c4f1e8b"}, "session_token"),
        ({"PHPSESSID": "q8r2m5n9v3k7x1z4c6b0t2y8"}, "session_token"),
        ({"token": "Zx81Lq2Pw7Rt4Yu9Io3As6Df"}, "generic_api_key"),
    ],
)
def test_pinned_values_from_real_runs(fields, kind):
    [finding] = scan_document(_pinned(**fields))
    assert finding.kind == kind and finding.pointer.startswith("/pinData/Form/0/json/")


@pytest.mark.parametrize(
    "fields",
    [
        {"password": "********"},
        {"password": "password"},
        {"password": "={{ $json.password }}"},
        {"password": "$FORM_PASSWORD"},
        {"session": "active"},
        {"sessionState": "submitted"},
        {"sid": "S-1-5-21-1004"},  # a Windows security identifier, not a session
        {"id": "18f2c3d4e5a6b7c8", "threadId": "18f2c3d4e5a6b7c8", "historyId": "9173846"},
        {"x-request-id": "7c0f3e9a1b5d4c2e8f6a0b9d3e7c1f5a"},
        {"sha256": "3f6a9c2e5b8d1f4a7c0e3b6d9f2a5c8e1b4d7f0a3c6e9b2d5f8a1c4e7b0d3f6a"},
        {"cookie": "theme=dark; lang=en-GB; consent=analytics"},
    ],
)
def test_pinned_values_that_are_not_secrets(fields):
    assert scan_document(_pinned(**fields)) == []


def test_a_typed_password_counts_only_where_a_run_pinned_it():
    """A passphrase in parameters looks like prose; in pinData it is what someone typed."""
    assert scan_document({"parameters": {"password": "orbit maple copper 42"}}) == []
    assert scan_document(_pinned(password="orbit maple copper 42"))


@pytest.mark.parametrize(
    ("entry", "field", "kind"),
    [
        ({"user": "mailer", "pw": "k9Lm2Qx7Zt"}, "pw", "credential_value"),
        (
            {"id": "1", "name": "Custom", "data": "U2FsdGVkX1+abcDEF123ghiJKL"},
            "data",
            "credential_value",
        ),
        (
            {"clientId": "app-123", "clientSecret": "Qw8Er2Ty6Ui0Op4As7Df"},
            "clientSecret",
            "password",
        ),
        ({"name": "X-API-Key", "value": "kxT7 2Lmq 9Pzr"}, "value", "credential_value"),
    ],
)
def test_inline_values_in_a_credentials_object(entry, field, kind):
    document = {"nodes": [{"name": "A", "credentials": {"custom": entry}}]}
    [finding] = scan_document(document)
    assert finding.pointer == f"/nodes/0/credentials/custom/{field}" and finding.kind == kind


@pytest.mark.parametrize(
    "credentials",
    [
        {"slackApi": {"id": "Xk93hdP2mQz81Lw", "name": "Slack account 2"}},
        {"postgres": {"id": None, "name": "Contacts DB"}},
        {"smtp": "Office mail credentials"},
        {"httpBasicAuth": {"user": "admin@example.test", "password": "password"}},
        {"httpBasicAuth": {"user": "user", "password": "<your password>"}},
        {"httpHeaderAuth": {"name": "X-API-Key", "value": "={{ $env.API_KEY }}"}},
        {"postgres": {"host": "db.internal", "database": "contacts", "user": "contacts_rw"}},
        {"aws": {"region": "eu-west-1", "accountId": "123456789012"}},
    ],
)
def test_credential_references_identities_and_placeholders_are_not_values(credentials):
    assert scan_document({"nodes": [{"name": "A", "credentials": credentials}]}) == []


@pytest.mark.parametrize(
    ("value", "kind", "secret"),
    [
        ("redis://:Hq7Lx2Pv9Mz4Tk1Wr6@cache:6379/0", "url_credentials", "Hq7Lx2Pv9Mz4Tk1Wr6"),
        ("postgres://app:pa@ss-Wq7z@db.internal/app", "url_credentials", "pa@ss-Wq7z"),
        ("https://deploy:Xk2Lp9Qw7Vm3@git.example.test/r.git", "url_credentials", "Xk2Lp9Qw7Vm3"),
        (
            "Server=tcp:sql.test,1433;Database=app;User ID=svc;Password=Gx7kq2Lm9!z;",
            "connection_string",
            "Gx7kq2Lm9!z",
        ),
        (
            "Data Source=db;Initial Catalog=x;uid=sa;pwd=Tr0ub4dor&3;",
            "connection_string",
            "Tr0ub4dor&3",
        ),
        (
            "Endpoint=sb://bus.servicebus.windows.net/;SharedAccessKeyName=Root;"
            "SharedAccessKey=q1W2e3R4t5Y6u7I8o9P0aSdFgHjKl=",
            "connection_string",
            "q1W2e3R4t5Y6u7I8o9P0aSdFgHjKl=",
        ),
        ("curl -s -u ci:Zq8-Wm3-Lp6 https://ci.test/hook", "basic_auth", "Zq8-Wm3-Lp6"),
        ("curl --user=ci:Zq8-Wm3-Lp6 https://ci.test", "basic_auth", "Zq8-Wm3-Lp6"),
        ("const a = 'Basic ' + btoa('reporter:Vt5Nq8Lw2Xs4');", "basic_auth", "Vt5Nq8Lw2Xs4"),
        ("Buffer.from(`svc:Vt5Nq8Lw2Xs4`).toString('base64')", "basic_auth", "Vt5Nq8Lw2Xs4"),
        (
            "headers = {'Authorization': b64encode(b'svc:Vt5Nq8Lw2Xs4')}",
            "basic_auth",
            "Vt5Nq8Lw2Xs4",
        ),
    ],
)
def test_passwords_beside_their_user_or_server(value, kind, secret):
    [finding] = scan_document({"parameters": {"text": value}})
    assert finding.kind == kind
    assert value[finding.start : finding.end] == secret


@pytest.mark.parametrize(
    "value",
    [
        "amqp://guest:guest@localhost:5672/",
        "postgres://user:password@localhost/db",
        "postgres://app:$DB_PASSWORD@db/app",
        "postgres://app:${DB_PASSWORD}@db/app",
        "postgres://app:{{ $json.pw }}@db/app",
        "mailto:someone@example.test",
        "https://user@example.test/path",
        "Server=.;Database=app;Password=;",
        "Server=.;Database=app;Password={{ $json.pw }};",
        "Server=.;Database=app;Password=%DB_PASSWORD%;",
        "Server=.;Database=app;Password=<password>;",
        "curl -u $CI_USER:$CI_PASSWORD https://ci.test",
        "curl -u user:password https://ci.test",
        "curl -X POST -H 'x-user: me' https://ci.test",
        "btoa(user + ':' + pass)",
        "btoa('user:' + $json.password)",
    ],
)
def test_passwords_that_are_placeholders_or_references_are_not_secrets(value):
    assert scan_document({"parameters": {"text": value}}) == []


@pytest.mark.parametrize(
    ("header", "value", "kind", "secret"),
    [
        ("Authorization", "Token 9f8e7d6c5b4a39281706f5e4d3c2b1a0", "authorization_header", None),
        (
            "authorization",
            "Bot MTA5ODc2NTQzMjEwOTg3NjU0.Gx7Lm2.Qw8Er2Ty6Ui0",
            "authorization_header",
            None,
        ),
        ("Proxy-Authorization", "SSWS 00Qw8Er2Ty6Ui0Op4As7DfGh", "authorization_header", None),
        # Basic with its padding dropped, and an API key sent as the user with no password;
        # a Basic finding spans the whole value, scheme included.
        ("Authorization", "Basic c3ZjLXJlcG9ydDpYN2txMkxtOXBaNHc", "basic_auth", "*"),
        ("Authorization", "Basic c2tfdGVzdF9aeDgxTHEyUHc3UnQ0WXU5SW8zOg==", "basic_auth", "*"),
        (
            "Cookie",
            "theme=dark; connect.sid=s%3AQk2mP9xLw4Rz7Tn1Vb5Y.Ae9Bi2Cu5Dv",
            "session_token",
            "s%3AQk2mP9xLw4Rz7Tn1Vb5Y.Ae9Bi2Cu5Dv",
        ),
        (
            "Set-Cookie",
            "SESSIONID=Wq7Lm2Xp9RkT4vWsZx81Lq2P; Path=/; HttpOnly",
            "session_token",
            "Wq7Lm2Xp9RkT4vWsZx81Lq2P",
        ),
    ],
)
def test_authorization_and_cookie_headers(header, value, kind, secret):
    document = {"parameters": {"headerParameters": {"parameters": [pair(header, value)]}}}
    [finding] = scan_document(document)
    assert finding.kind == kind
    expected = {None: value.split(" ", 1)[1], "*": value}.get(secret, secret)
    assert value[finding.start : finding.end] == expected


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("Authorization", "Token YOUR_TOKEN"),
        ("Authorization", "Token {{ $json.token }}"),
        ("Authorization", 'Digest username="ada", realm="api"'),
        ("Authorization", "Basic {{ $json.basic }}"),
        ("Authorization", "Basic dXNlcjpwYXNzd29yZA"),  # user:password
        ("Cookie", "theme=dark; lang=en"),
        ("Set-Cookie", "consent=yes; Path=/; Max-Age=31536000; SameSite=Lax"),
    ],
)
def test_headers_that_carry_no_secret(header, value):
    document = {"parameters": {"headerParameters": {"parameters": [pair(header, value)]}}}
    assert scan_document(document) == []
