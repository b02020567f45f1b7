"""Licence keys: shape, randomness, checksum, and keys as people type them."""

from __future__ import annotations

import random

import pytest

from app.licensing.keys import (
    ALPHABET,
    KEY_LENGTH,
    InvalidKey,
    generate_key,
    is_well_formed,
    normalise_key,
)


def test_a_key_is_prefixed_grouped_and_checks_out():
    key = generate_key()
    groups = key.split("-")
    assert groups[0] == "APM" and len(groups) == 6
    assert all(len(g) == 5 and set(g) <= set(ALPHABET) for g in groups[1:])
    assert len(key) == KEY_LENGTH
    assert normalise_key(key) == key


def test_keys_are_random():
    keys = {generate_key() for _ in range(2000)}
    assert len(keys) == 2000


def test_typed_keys_are_read_as_meant():
    key = generate_key()
    typed = key.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert normalise_key(typed) == key
    assert normalise_key(key.replace("-", "")) == key
    assert normalise_key(f"  {key}\n") == key


def test_every_single_character_typo_is_caught():
    key = generate_key()
    chars = list(key)
    rng = random.Random(15)
    positions = [i for i, c in enumerate(chars) if c != "-" and i >= 4]
    misses = 0
    for i in positions:
        for replacement in ALPHABET:
            if replacement == chars[i]:
                continue
            typo = "".join(chars[:i] + [replacement] + chars[i + 1 :])
            misses += is_well_formed(typo)
    # A 25-bit checksum: a one-character typo passes about once in 33 million.
    assert misses == 0
    swapped = chars[:]
    a, b = rng.sample(positions[:-5], 2)
    if swapped[a] != swapped[b]:
        swapped[a], swapped[b] = swapped[b], swapped[a]
        assert not is_well_formed("".join(swapped))


@pytest.mark.parametrize(
    "typed",
    ["", "APM", "not a key", "APM-AAAAA-AAAAA-AAAAA-AAAAA", "XYZ-" + "A" * 25, "APM-" + "U" * 25],
)
def test_malformed_keys_are_refused(typed):
    with pytest.raises(InvalidKey):
        normalise_key(typed)
