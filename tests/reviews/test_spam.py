"""The spam rules' text functions against plain reference implementations on random inputs."""

from __future__ import annotations

import random
import re
from fractions import Fraction
from pathlib import Path

import pytest

from app.reviews.spam import (
    MIN_DUPLICATE_WORDS,
    SHINGLE_WORDS,
    has_links,
    is_near_duplicate,
    jaccard,
    shingles,
)

VOCABULARY = ("the agent works great setup took minutes invoice email sync crm leads fast").split()  # noqa: SIM905 - one line of words reads better than a list


def reference_tokens(text: str) -> list[str]:
    """Runs of letters, digits and underscores, lower-cased, read one character at a time."""
    tokens = []
    word = ""
    for char in text.lower():
        if char.isalnum() or char == "_":
            word += char
        elif word:
            tokens.append(word)
            word = ""
    if word:
        tokens.append(word)
    return tokens


def reference_shingles(text: str, size: int = SHINGLE_WORDS) -> set[tuple[str, ...]]:
    """Word n-grams as tuples of words, by the definition: no hashing, no shortcuts."""
    tokens = reference_tokens(text)
    if not tokens:
        return set()
    if len(tokens) < size:
        return {tuple(tokens)}
    grams = set()
    for start in range(len(tokens) - size + 1):
        grams.add(tuple(tokens[start : start + size]))
    return grams


def reference_jaccard(a: set, b: set) -> Fraction:
    union = a | b
    return Fraction(len(a & b), len(union)) if union else Fraction(0)


def reference_near_duplicate(text: str, others: list[str], percent: int) -> bool:
    if len(reference_tokens(text)) < MIN_DUPLICATE_WORDS:
        return False
    mine = reference_shingles(text)
    return any(
        reference_jaccard(mine, reference_shingles(o)) >= Fraction(percent, 100) for o in others
    )


def _random_text(rng: random.Random) -> str:
    n = rng.choice([0, 1, 2, 5, 8, 12, 20, 40])
    separators = [" ", "  ", ", ", ". ", "\n", "! "]
    words = [
        rng.choice(VOCABULARY).capitalize() if rng.random() < 0.2 else rng.choice(VOCABULARY)
        for _ in range(n)
    ]
    return "".join(w + rng.choice(separators) for w in words)


def _mutated(rng: random.Random, text: str) -> str:
    words = text.split()
    for _ in range(rng.randint(0, 4)):
        if words and rng.random() < 0.5:
            words[rng.randrange(len(words))] = rng.choice(VOCABULARY)
        else:
            words.insert(rng.randint(0, len(words)), rng.choice(VOCABULARY))
    return " ".join(words)


def test_shingles_and_jaccard_match_the_reference_on_random_texts():
    rng = random.Random(20261202)
    for _ in range(2_000):
        a = _random_text(rng)
        b = _mutated(rng, a) if rng.random() < 0.6 else _random_text(rng)
        ref_a, ref_b = reference_shingles(a), reference_shingles(b)
        assert len(shingles(a)) == len(ref_a)
        assert jaccard(shingles(a), shingles(b)) == pytest.approx(
            float(reference_jaccard(ref_a, ref_b)), abs=1e-12
        )


def test_near_duplicate_decisions_match_the_reference_on_random_inputs():
    rng = random.Random(7)
    decided = {True: 0, False: 0}
    for _ in range(1_500):
        text = _random_text(rng)
        others = [
            _mutated(rng, text) if rng.random() < 0.5 else _random_text(rng)
            for _ in range(rng.randint(0, 5))
        ]
        percent = rng.choice([1, 30, 50, 60, 67, 75, 100])
        expected = reference_near_duplicate(text, others, percent)
        assert is_near_duplicate(text, others, percent) is expected, (text, others, percent)
        decided[expected] += 1
    # The inputs exercise both answers, not just one.
    assert min(decided.values()) > 100


def test_exact_threshold_counts_as_a_duplicate():
    # 10 bigrams each, 8 in common: 8 of 12 in the union is 2/3 (66.67 %).
    text = "one two three four five six seven eight nine ten eleven"
    same_but_end = "one two three four five six seven eight nine xx yy"
    ratio = reference_jaccard(reference_shingles(text), reference_shingles(same_but_end))
    assert ratio == Fraction(2, 3)
    assert is_near_duplicate(text, [same_but_end], 66)
    assert not is_near_duplicate(text, [same_but_end], 67)


def test_short_texts_are_never_duplicates():
    assert not is_near_duplicate("Works great, thanks!", ["Works great, thanks!"], 1)
    assert is_near_duplicate(" ".join(VOCABULARY), [" ".join(VOCABULARY)], 100)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("see http://x.test", True),
        ("HTTPS://EXAMPLE.ORG/a", True),
        ("go to www.something", True),
        ("cheap at deals.shop today", True),
        ("[click](here)", True),
        ("version 1.2.3 works with n8n 1.40", False),
        ("the e.g. and i.e. of it", False),
        ("a plain review with no address", False),
        ("", False),
    ],
)
def test_links(text, expected):
    assert has_links(text) is expected


def test_every_review_setting_is_documented():
    root = Path(__file__).resolve().parents[2]
    names = set(re.findall(r'"(REVIEW_[A-Z_]+)"', (root / "app" / "config.py").read_text()))
    assert len(names) == 4, names
    readme = (root / "README.md").read_text()
    example = (root / ".env.example").read_text()
    for name in names:
        assert f"`{name}`" in readme, f"{name} is not in the README's configuration table"
        assert f"\n{name}=" in example, f"{name} is not in .env.example"
