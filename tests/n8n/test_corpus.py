"""The shared corpus of 300 real workflows and 100 with planted secrets (skipped when absent)."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import pytest

from app.n8n import (
    WorkflowError,
    analyse,
    parse_workflow,
    redact_document,
    render_svg,
    scan_document,
    validate,
)
from app.n8n.pointer import resolve
from tests.n8n.helpers import assert_safe_svg, drawn, expected_edges

pytestmark = pytest.mark.corpus

# The manifest's formats for files that are deliberately not valid JSON.
BROKEN_FORMATS = {"trailing-garbage", "concatenated-json", "empty"}
BROKEN_MESSAGES = ("trailing text after the JSON document", "two JSON documents", "file is empty")


def manifest(corpus_dir: Path) -> list[dict[str, str]]:
    with (corpus_dir / "MANIFEST.tsv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_every_corpus_file_renders_or_is_rejected_clearly(corpus_dir):
    rows = manifest(corpus_dir)
    assert len(rows) == 300
    rejected = []
    for row in rows:
        data = (corpus_dir / row["file"]).read_bytes()
        try:
            workflow = parse_workflow(data)
        except WorkflowError as exc:
            rejected.append(row["file"])
            assert row["format"] in BROKEN_FORMATS, (row["file"], str(exc))
            assert exc.message.startswith(BROKEN_MESSAGES), (row["file"], str(exc))
            assert exc.location.startswith("byte "), row["file"]
            continue
        assert row["format"] not in BROKEN_FORMATS, row["file"]
        validate(workflow)
        analysis = analyse(workflow)
        svg = render_svg(workflow)
        root = assert_safe_svg(svg)
        active = [n for n in workflow.nodes if not n.is_sticky]
        assert analysis.node_count == len(active)
        assert len(drawn(root, "n8n-node")) == len(active), row["file"]
        assert len(drawn(root, "n8n-edge")) == expected_edges(workflow), row["file"]
        assert len(drawn(root, "n8n-sticky")) == len(workflow.nodes) - len(active), row["file"]
        # The manifest counts every node and every connection in the file.
        assert len(workflow.nodes) == int(row["node_count"]), row["file"]
    assert len(rejected) == sum(row["format"] in BROKEN_FORMATS for row in rows)


def test_manifest_oddities_are_reported(corpus_dir):
    checked = 0
    for row in manifest(corpus_dir):
        flags = set(row["flags"].split(";"))
        expected = []
        if "dangling-connections" in flags:
            expected.append({"dangling_source", "dangling_target"})
        if "duplicate-names" in flags:
            expected.append({"duplicate_name"})
        if "nonstandard-connection-type" in flags:
            expected.append({"unknown_connection_type"})
        if not expected and "disabled-nodes" not in flags:
            continue
        checked += 1
        workflow = parse_workflow((corpus_dir / row["file"]).read_bytes())
        codes = {f.code for f in validate(workflow)}
        for wanted in expected:
            assert wanted & codes, (row["file"], wanted)
        if "disabled-nodes" in flags:
            disabled = [n for n in workflow.nodes if n.disabled]
            assert disabled, row["file"]
            # A disabled sticky note (e522e487 has one) changes nothing and is not reported.
            if any(not n.is_sticky for n in disabled):
                assert "disabled_node" in codes, row["file"]
    assert checked > 0


def test_the_clean_corpus_holds_no_secrets(corpus_dir):
    # Files that looked like they held real credentials were left out of the corpus, and the
    # scanner finds nothing in the rest: no finding needs explaining.
    findings = {}
    for row in manifest(corpus_dir):
        if row["format"] in BROKEN_FORMATS:
            continue
        document = parse_workflow((corpus_dir / row["file"]).read_bytes()).document
        found = scan_document(document)
        if found:
            findings[row["file"]] = [(f.pointer, f.kind) for f in found]
    assert findings == {}


def planted_labels(planted_dir: Path) -> dict[str, list[dict]]:
    labels: dict[str, list[dict]] = defaultdict(list)
    with (planted_dir / "labels.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            label = json.loads(line)
            labels[label["file"]].append(label)
    return labels


def test_planted_secrets_are_found_and_decoys_are_not(planted_dir):
    labels = planted_labels(planted_dir)
    files = sorted(planted_dir.glob("planted-*.json"))
    assert len(files) == 100
    missed, wrong_kind, false_alarms = [], [], []
    for path in files:
        document = parse_workflow(path.read_bytes()).document
        found: dict[str, set[str]] = defaultdict(set)
        for finding in scan_document(document):
            found[finding.pointer].add(finding.kind)
        expected = {label["pointer"]: label for label in labels.get(path.name, [])}
        for pointer, label in expected.items():
            if label["decoy"]:
                if pointer in found:
                    false_alarms.append((path.name, pointer, "decoy"))
            elif pointer not in found:
                missed.append((path.name, pointer, label["kind"]))
            elif label["kind"] not in found[pointer]:
                wrong_kind.append((path.name, pointer, label["kind"], sorted(found[pointer])))
        false_alarms += [(path.name, p, "unlabelled") for p in found if p not in expected]
    assert missed == []
    assert false_alarms == []
    assert wrong_kind == []


def test_redacting_the_planted_set_leaves_nothing(planted_dir):
    labels = planted_labels(planted_dir)
    for path in sorted(planted_dir.glob("planted-*.json"))[:25]:
        document = parse_workflow(path.read_bytes()).document
        redacted = redact_document(document, scan_document(document))
        assert scan_document(redacted) == []
        for label in labels.get(path.name, []):
            before, after = resolve(document, label["pointer"]), resolve(redacted, label["pointer"])
            if label["decoy"]:
                assert after == before
            else:
                assert "[REDACTED:" in after and after != before
