"""n8n engine benchmark: the real corpus end to end, and secret detection against detect-secrets.

Run: .venv/bin/python tests/bench/bench_n8n.py [--rounds 5]
Prints `name: value unit` lines. Reads ../shared/corpus (the project workspace only).

* corpus: every file of corpus/n8n through the upload pipeline (parse, validate, analyse,
  secret scan, render SVG), bytes already in memory; the first pass in the process is
  reported on its own (``cold``), then p50/p95 per workflow over ``--rounds`` passes, the
  SVG bytes, and the ratio to a plain ``json.loads`` of the same bytes.
* secrets: corpus/n8n-planted-secrets against labels.jsonl. A finding counts at the labelled
  string leaf (JSON pointer); decoys and unlabelled leaves that are flagged are false
  positives. detect-secrets (default plugins and filters) scans the same string leaves, one
  ``"name": "value"`` line each, so its keyword plugin sees the same field names ours does.
  Both also run on the clean corpus, where every finding is a false alarm.
* leaks: the project's own planted cases beyond tidy parameters
  (tests/n8n/secret_samples.py leaks_beyond_parameters, ``--seeds`` random draws): values
  pinned from real runs, inline credential values, passwords in connection strings and
  URLs, Authorization and Cookie headers, with their decoys; scored the same way.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from app.n8n import (  # noqa: E402
    WorkflowError,
    analyse,
    parse_workflow,
    render_svg,
    scan_document,
    validate,
)
from app.n8n.pointer import join  # noqa: E402
from tests.n8n.helpers import CORPUS, PLANTED  # noqa: E402
from tests.n8n.secret_samples import leaks_beyond_parameters  # noqa: E402


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def pipeline(data: bytes) -> tuple[str | None, dict[str, float]]:
    """The SVG (None when rejected) and the seconds spent in each stage."""
    stages: dict[str, float] = {}
    start = time.perf_counter()
    try:
        workflow = parse_workflow(data)
    except WorkflowError:
        stages["parse"] = time.perf_counter() - start
        return None, stages
    mark = time.perf_counter()
    stages["parse"] = mark - start
    validate(workflow)
    analyse(workflow)
    now = time.perf_counter()
    stages["analyse"], mark = now - mark, now
    scan_document(workflow.document)
    now = time.perf_counter()
    stages["secrets"], mark = now - mark, now
    svg = render_svg(workflow)
    stages["render"] = time.perf_counter() - mark
    return svg, stages


def bench_corpus(rounds: int) -> None:
    files = [path.read_bytes() for path in sorted(CORPUS.glob("*.json"))]
    print(f"corpus_files: {len(files)} files")
    print(f"corpus_bytes: {sum(map(len, files)) / 1e6:.2f} MB")

    start = time.perf_counter()
    for data in files:
        pipeline(data)
    print(f"corpus_total_cold: {time.perf_counter() - start:.3f} s")

    totals, per_workflow = [], []
    stage_totals: dict[str, float] = defaultdict(float)
    svg_sizes: list[int] = []
    rejected = 0
    for round_number in range(rounds):
        round_start = time.perf_counter()
        for data in files:
            start = time.perf_counter()
            svg, stages = pipeline(data)
            per_workflow.append((time.perf_counter() - start) * 1000)
            for name, seconds in stages.items():
                stage_totals[name] += seconds / rounds
            if round_number == 0:
                if svg is None:
                    rejected += 1
                else:
                    svg_sizes.append(len(svg.encode("utf-8")))
        totals.append(time.perf_counter() - round_start)

    loads = []
    for _ in range(rounds):
        start = time.perf_counter()
        for data in files:
            with contextlib.suppress(ValueError):
                json.loads(data)
        loads.append(time.perf_counter() - start)

    total = statistics.median(totals)
    print(f"corpus_total: {total:.3f} s")
    print(f"corpus_rejected: {rejected} files")
    for name in ("parse", "analyse", "secrets", "render"):
        print(f"stage_{name}_total: {stage_totals[name] * 1000:.0f} ms")
    print(f"workflow_p50: {statistics.median(per_workflow):.2f} ms")
    print(f"workflow_p95: {pct(per_workflow, 95):.2f} ms")
    print(f"workflow_max: {max(per_workflow):.2f} ms")
    print(f"svg_bytes_total: {sum(svg_sizes) / 1e6:.2f} MB")
    print(f"svg_bytes_p50: {statistics.median(svg_sizes) / 1000:.1f} kB")
    print(f"svg_bytes_max: {max(svg_sizes) / 1000:.1f} kB")
    print(f"json_loads_total: {statistics.median(loads) * 1000:.1f} ms")
    print(f"ratio_to_json_loads: {total / statistics.median(loads):.1f} x")


def string_leaves(value: Any) -> Iterator[tuple[str, str, str]]:
    """(pointer, field name, text) per string leaf; a name/value pair's value goes by its name."""
    stack: list[tuple[Any, str, str]] = [(value, "", "")]
    while stack:
        item, pointer, field = stack.pop()
        if isinstance(item, str):
            yield pointer, field, item
        elif isinstance(item, dict):
            label = item.get("name") if isinstance(item.get("name"), str) else ""
            for key, child in item.items():
                name = label if key == "value" and label else key
                stack.append((child, join(pointer, key), name))
        elif isinstance(item, list):
            stack.extend((child, join(pointer, i), field) for i, child in enumerate(item))


def detect_secrets_pointers(documents: dict[str, Any], workdir: Path) -> dict[str, set[str]]:
    """Pointers detect-secrets flags, per file, scanning one line per string leaf."""
    from detect_secrets.core.scan import scan_file
    from detect_secrets.settings import default_settings

    flagged: dict[str, set[str]] = defaultdict(set)
    with default_settings():
        for name, document in documents.items():
            leaves = list(string_leaves(document))
            path = workdir / f"{Path(name).stem}.json"
            lines = [f"{json.dumps(field)}: {json.dumps(text)}" for _, field, text in leaves]
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            for secret in scan_file(str(path)):
                flagged[name].add(leaves[secret.line_number - 1][0])
    return flagged


def ours_pointers(documents: dict[str, Any]) -> dict[str, set[str]]:
    return {
        name: {finding.pointer for finding in scan_document(document)}
        for name, document in documents.items()
    }


def score(flagged: dict[str, set[str]], labels: dict[str, dict[str, bool]]) -> dict[str, float]:
    tp = fp = fn = 0
    for name, by_pointer in labels.items():
        found = flagged.get(name, set())
        positives = {p for p, decoy in by_pointer.items() if not decoy}
        tp += len(found & positives)
        fn += len(positives - found)
        fp += len(found - positives)
    for name in set(flagged) - set(labels):
        fp += len(flagged[name])
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "precision": tp / (tp + fp) if tp + fp else 1.0,
    }


def load_documents(paths: list[Path]) -> dict[str, Any]:
    documents = {}
    for path in paths:
        try:
            documents[path.name] = parse_workflow(path.read_bytes()).document
        except WorkflowError:
            continue
    return documents


def bench_secrets() -> None:
    labels: dict[str, dict[str, bool]] = defaultdict(dict)
    kinds: dict[tuple[str, str], str] = {}
    for line in (PLANTED / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        label = json.loads(line)
        labels[label["file"]][label["pointer"]] = label["decoy"]
        kinds[(label["file"], label["pointer"])] = label["kind"]
    planted = load_documents(sorted(PLANTED.glob("planted-*.json")))
    for name in planted:
        labels.setdefault(name, {})
    clean = load_documents(sorted(CORPUS.glob("*.json")))
    positives = sum(not decoy for by in labels.values() for decoy in by.values())
    decoys = sum(decoy for by in labels.values() for decoy in by.values())
    print(f"planted_files: {len(planted)} files")
    print(f"planted_secrets: {positives} secrets")
    print(f"planted_decoys: {decoys} decoys")

    start = time.perf_counter()
    found = {name: scan_document(document) for name, document in planted.items()}
    ours_seconds = time.perf_counter() - start
    ours = {name: {finding.pointer for finding in findings} for name, findings in found.items()}
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        baseline = detect_secrets_pointers(planted, Path(tmp))
        baseline_seconds = time.perf_counter() - start
        baseline_clean = detect_secrets_pointers(clean, Path(tmp))
    ours_clean = ours_pointers(clean)

    right_kind = sum(
        kinds.get((name, finding.pointer)) == finding.kind
        for name, findings in found.items()
        for finding in findings
    )
    for label, flagged, seconds, on_clean in (
        ("ours", ours, ours_seconds, ours_clean),
        ("detect_secrets", baseline, baseline_seconds, baseline_clean),
    ):
        result = score(flagged, labels)
        print(f"secrets_{label}_recall: {result['recall']:.3f} ratio")
        print(f"secrets_{label}_precision: {result['precision']:.3f} ratio")
        print(f"secrets_{label}_true_positives: {result['tp']} leaves")
        print(f"secrets_{label}_false_positives: {result['fp']} leaves")
        print(f"secrets_{label}_false_negatives: {result['fn']} leaves")
        print(f"secrets_{label}_clean_corpus_findings: {sum(map(len, on_clean.values()))} leaves")
        print(f"secrets_{label}_planted_scan: {seconds * 1000:.0f} ms")
    print(f"secrets_ours_kind_accuracy: {right_kind / positives:.3f} ratio")


def bench_leaks(seeds: int) -> None:
    documents: dict[str, Any] = {}
    labels: dict[str, dict[str, bool]] = {}
    for seed in range(seeds):
        document, planted, decoys = leaks_beyond_parameters(seed)
        name = f"leaks-{seed:03d}.json"
        documents[name] = document
        labels[name] = {pointer: False for pointer, _ in planted} | dict.fromkeys(decoys, True)
    print(f"leaks_documents: {len(documents)} files")
    print(f"leaks_secrets: {sum(not d for by in labels.values() for d in by.values())} secrets")
    print(f"leaks_decoys: {sum(d for by in labels.values() for d in by.values())} decoys")
    with tempfile.TemporaryDirectory() as tmp:
        baseline = detect_secrets_pointers(documents, Path(tmp))
    for label, flagged in (("ours", ours_pointers(documents)), ("detect_secrets", baseline)):
        result = score(flagged, labels)
        print(f"leaks_{label}_recall: {result['recall']:.3f} ratio")
        print(f"leaks_{label}_precision: {result['precision']:.3f} ratio")
        print(f"leaks_{label}_false_positives: {result['fp']} leaves")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    if not (CORPUS / "MANIFEST.tsv").is_file() or not (PLANTED / "labels.jsonl").is_file():
        sys.exit(f"the shared corpus is not at {CORPUS.parent} (only in the project workspace)")
    bench_corpus(args.rounds)
    bench_secrets()
    bench_leaks(args.seeds)


if __name__ == "__main__":
    main()
