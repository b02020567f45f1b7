"""Fixtures for the n8n engine tests: the shared corpus, skipped with a reason when absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.n8n.helpers import CORPUS, PLANTED


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not (CORPUS / "MANIFEST.tsv").is_file():
        pytest.skip(f"the shared n8n corpus is not at {CORPUS} (only in the project workspace)")
    return CORPUS


@pytest.fixture(scope="session")
def planted_dir() -> Path:
    if not (PLANTED / "labels.jsonl").is_file():
        pytest.skip(f"the planted-secrets corpus is not at {PLANTED}")
    return PLANTED
