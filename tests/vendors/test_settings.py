"""The payout settings: defaults, refusals, and each one documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from app.config import Config, ConfigError


def _config(tmp_path, **env):
    return Config.from_env({"APP_ENV": "test", "SECRET_KEY": "k" * 40, **env}, str(tmp_path))


def test_defaults(tmp_path):
    config = _config(tmp_path)
    assert (config.payout_hold_days, config.payout_minimum_cents) == (14, 5000)
    assert config.payout_encryption_key is None


def test_values_and_refusals(tmp_path):
    key = Fernet.generate_key().decode()
    config = _config(
        tmp_path, PAYOUT_HOLD_DAYS="0", PAYOUT_MINIMUM_CENTS="100", PAYOUT_ENCRYPTION_KEY=key
    )
    assert (config.payout_hold_days, config.payout_minimum_cents) == (0, 100)
    assert config.payout_encryption_key == key
    with pytest.raises(ConfigError, match="PAYOUT_HOLD_DAYS"):
        _config(tmp_path, PAYOUT_HOLD_DAYS="-1")
    with pytest.raises(ConfigError, match="PAYOUT_MINIMUM_CENTS"):
        _config(tmp_path, PAYOUT_MINIMUM_CENTS="lots")
    with pytest.raises(ConfigError, match="Fernet key"):
        _config(tmp_path, PAYOUT_ENCRYPTION_KEY="not-a-key")


def test_every_payout_setting_is_documented():
    root = Path(__file__).resolve().parents[2]
    source = (root / "app" / "config.py").read_text()
    names = set(re.findall(r'"(PAYOUT_[A-Z_]+)"', source))
    assert names == {"PAYOUT_HOLD_DAYS", "PAYOUT_MINIMUM_CENTS", "PAYOUT_ENCRYPTION_KEY"}
    readme = (root / "README.md").read_text()
    example = (root / ".env.example").read_text()
    for name in names:
        assert f"`{name}`" in readme, f"{name} is not in the README's configuration table"
        assert f"\n{name}=" in example, f"{name} is not in .env.example"
