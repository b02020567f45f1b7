"""The command-line contract other tools rely on: ``flask n8n analyse|render|redact``."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from tests.n8n.helpers import FIXTURES
from tests.n8n.secret_samples import fake_secrets, secret_parts, secrets_workflow

RECORD_KEYS = [
    "file",
    "ok",
    "error",
    "nodes",
    "connections",
    "node_types",
    "triggers",
    "credentials",
    "secrets",
    "risk_flags",
    "warnings",
]


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def broken(tmp_path):
    path = tmp_path / "broken.json"
    path.write_bytes(b'{"nodes": [], "connections": {}} trailing')
    return path


@pytest.fixture
def leaky(tmp_path):
    document, _, _ = secrets_workflow()
    path = tmp_path / "leaky.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_analyse_json_prints_one_record_per_file(runner, broken, leaky, tmp_path):
    files = [str(FIXTURES / "editor_download.json"), str(broken), str(leaky)]
    missing = str(tmp_path / "missing.json")
    result = runner.invoke(args=["n8n", "analyse", *files, missing, "--json"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 4
    records = [json.loads(line) for line in lines]
    assert all(list(record) == RECORD_KEYS for record in records)

    good, bad, secret, gone = records
    assert good["file"] == files[0] and good["ok"] is True and good["error"] is None
    assert (good["nodes"], good["connections"]) == (5, 4)
    assert good["node_types"] == sorted(good["node_types"])
    assert "n8n-nodes-base.webhook" in good["node_types"]
    assert [t["kind"] for t in good["triggers"]] == ["webhook"]
    assert good["credentials"] == ["googleSheetsOAuth2Api", "httpHeaderAuth", "slackApi"]
    assert good["secrets"] == [] and good["risk_flags"] == [] and good["warnings"] == []

    assert bad["ok"] is False
    assert bad["error"] == "trailing text after the JSON document (at byte 33)"
    assert bad["nodes"] == 0 and bad["secrets"] == []

    assert secret["ok"] is True
    assert all(set(item) == {"pointer", "kind"} for item in secret["secrets"])
    assert {"pointer": "/nodes/4/parameters/url", "kind": "slack_webhook"} in secret["secrets"]
    assert {f["code"] for f in secret["risk_flags"]} == {"code_execution"}
    assert not any(w["code"] == "no_trigger" for w in secret["warnings"])

    assert gone["ok"] is False and gone["error"].startswith("cannot read file")
    for value in secret_parts(fake_secrets()).values():
        assert value[-12:] not in result.output


def test_analyse_warnings_carry_their_location(runner):
    result = runner.invoke(args=["n8n", "analyse", str(FIXTURES / "findings.json"), "--json"])
    [record] = [json.loads(line) for line in result.stdout.splitlines()]
    [dangling] = [w for w in record["warnings"] if w["code"] == "dangling_source"]
    assert dangling == {
        "severity": "error",
        "code": "dangling_source",
        "message": "connections from a node that does not exist",
        "location": "/connections/Ghost/main",
    }


def test_analyse_without_json_prints_a_summary(runner, broken):
    result = runner.invoke(args=["n8n", "analyse", str(FIXTURES / "risky.json"), str(broken)])
    assert result.exit_code == 0
    assert "risky.json: 9 nodes, 7 connections, 0 secrets, 7 risk flags" in result.stdout
    assert "broken.json: rejected: trailing text" in result.stdout


def test_render_writes_svgs_and_fails_on_rejections(runner, broken, tmp_path):
    out = tmp_path / "out"
    sources = [FIXTURES / "ai_agent.json", FIXTURES / "graph.json"]
    result = runner.invoke(
        args=[
            "n8n",
            "render",
            *map(str, sources),
            str(broken),
            "--out",
            str(out),
            "--theme",
            "dark",
        ]
    )
    assert result.exit_code == 1
    assert sorted(p.name for p in out.iterdir()) == ["ai_agent.svg", "graph.svg"]
    for path in out.iterdir():
        root = ET.fromstring(path.read_text(encoding="utf-8"))
        assert root.get("data-theme") == "dark"
    assert (
        "broken.json: rejected: trailing text after the JSON document (at byte 33)" in result.stderr
    )
    assert "broken" not in result.stdout


def test_render_all_accepted_exits_zero(runner, tmp_path):
    out = tmp_path / "svg"
    result = runner.invoke(args=["n8n", "render", str(FIXTURES / "legacy.json"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    root = ET.fromstring((out / "legacy.svg").read_text(encoding="utf-8"))
    assert root.get("data-theme") == "light"


def test_render_rejects_an_unknown_theme(runner, tmp_path):
    result = runner.invoke(
        args=[
            "n8n",
            "render",
            str(FIXTURES / "legacy.json"),
            "--out",
            str(tmp_path),
            "--theme",
            "x",
        ]
    )
    assert result.exit_code == 2


def test_redact_writes_a_clean_copy(runner, leaky, tmp_path):
    out = tmp_path / "clean.json"
    result = runner.invoke(args=["n8n", "redact", str(leaky), "-o", str(out)])
    assert result.exit_code == 0, result.output
    _, planted, _ = secrets_workflow()
    assert f"{len(planted)} secret(s) redacted" in result.stdout
    text = out.read_text(encoding="utf-8")
    for value in secret_parts(fake_secrets()).values():
        assert value[-12:] not in text
    redacted = json.loads(text)
    assert redacted["nodes"][4]["parameters"]["url"] == "[REDACTED:slack_webhook]"
    assert redacted["name"] == "Leaky workflow"


def test_redact_refuses_a_broken_file(runner, broken, tmp_path):
    out = tmp_path / "clean.json"
    result = runner.invoke(args=["n8n", "redact", str(broken), "-o", str(out)])
    assert result.exit_code == 1
    assert "rejected: trailing text" in result.stderr
    assert not out.exists()
