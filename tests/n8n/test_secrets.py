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
from tests.n8n.secret_samples import fake_secrets, secret_parts, secrets_workflow


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
        start = time.perf_counter()
        scan_document({"parameters": {"apiKey": text, "jsCode": text}})
        assert time.perf_counter() - start < 1.0, text[:20]


def test_iterative_walk_survives_deep_documents():
    deep: object = "x"
    for _ in range(5000):
        deep = [deep]
    token = fake_secrets()["github_token"]
    deep = {"k": deep, "token": token}
    [finding] = scan_document(deep)
    assert finding.pointer == "/token"
