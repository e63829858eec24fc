"""Settings from MDIO_CATALOG_* environment variables (get_settings is cached: the fixture clears it)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from mdio_catalog.settings import MDIOSettings, get_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.upper().startswith("MDIO_CATALOG_") or name.upper() in ("WARN_RATIO", "ERROR_RATIO"):
            monkeypatch.delenv(name)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    settings = get_settings()
    assert settings.workers == max(1, os.cpu_count() or 1)
    assert settings.cache_dir == tmp_path / ".cache" / "mdio_catalog"
    assert settings.progress is True
    assert settings.catalog is None
    assert settings.target_chunk_mib == 2.0
    # mdio-v0-format.md: cells / traces > 2 warns, > 10 raises.
    assert settings.sparsity.warn_ratio == 2.0
    assert settings.sparsity.error_ratio == 10.0


def test_workers_from_env(monkeypatch):
    monkeypatch.setenv("MDIO_CATALOG_WORKERS", "3")
    assert get_settings().workers == 3


def test_nested_sparsity_from_env(monkeypatch):
    monkeypatch.setenv("MDIO_CATALOG_SPARSITY__WARN_RATIO", "5.5")
    settings = get_settings()
    assert settings.sparsity.warn_ratio == 5.5
    assert settings.sparsity.error_ratio == 10.0


def test_other_fields_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("MDIO_CATALOG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("MDIO_CATALOG_PROGRESS", "false")
    monkeypatch.setenv("MDIO_CATALOG_CATALOG", str(tmp_path / "catalog.yaml"))
    monkeypatch.setenv("MDIO_CATALOG_TARGET_CHUNK_MIB", "4")
    settings = get_settings()
    assert settings.cache_dir == Path(tmp_path / "cache")
    assert settings.progress is False
    assert settings.catalog == tmp_path / "catalog.yaml"
    assert settings.target_chunk_mib == 4.0


def test_unprefixed_variables_are_ignored(monkeypatch):
    # Only MDIO_CATALOG_* variables configure the package; a stray WARN_RATIO must not.
    monkeypatch.setenv("WORKERS", "99")
    monkeypatch.setenv("WARN_RATIO", "7")
    monkeypatch.setenv("ERROR_RATIO", "70")
    settings = get_settings()
    assert settings.workers != 99
    assert settings.sparsity.warn_ratio == 2.0
    assert settings.sparsity.error_ratio == 10.0


def test_get_settings_is_cached_until_cleared(monkeypatch):
    first = get_settings()
    assert get_settings() is first
    monkeypatch.setenv("MDIO_CATALOG_WORKERS", "2")
    assert get_settings().workers == first.workers  # still the cached object
    get_settings.cache_clear()
    assert get_settings().workers == 2


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MDIO_CATALOG_WORKERS", "0"),
        ("MDIO_CATALOG_WORKERS", "many"),
        ("MDIO_CATALOG_SPARSITY__WARN_RATIO", "-1"),
        ("MDIO_CATALOG_TARGET_CHUNK_MIB", "0"),
    ],
)
def test_invalid_values_rejected(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        MDIOSettings()
