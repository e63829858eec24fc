"""``mdio-catalog checksum`` and ``verify`` as real processes: clean, damaged (exit 1, keys named), strict JSON,
no record yet, bad --sample (one line, exit 2); verify never changes a byte of the dataset."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from mdio_catalog.converters.numpy import numpy_to_mdio
from mdio_catalog.settings import get_settings
from tests.reliability.clirun import cli, strict_loads


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()
    }


def test_checksum_then_verify_clean_and_damaged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dataset = tmp_path / "a.mdio"
    monkeypatch.setenv("MDIO_CATALOG_CHECKSUMS", "0")  # as built before checksums existed
    get_settings.cache_clear()
    try:
        numpy_to_mdio(np.arange(8 * 6 * 20, dtype=np.float32).reshape(8, 6, 20), str(dataset), (4, 3, 10))
    finally:
        monkeypatch.delenv("MDIO_CATALOG_CHECKSUMS")
        get_settings.cache_clear()
    code, stdout, _ = cli("verify", str(dataset), cwd=tmp_path)
    assert code == 0
    assert "no checksum record" in stdout
    code, stdout, stderr = cli("checksum", str(dataset), cwd=tmp_path)
    assert code == 0, stderr
    assert "Recorded the checksums of" in stdout
    code, stdout, _ = cli("verify", str(dataset), cwd=tmp_path)
    assert code == 0
    assert "all as recorded" in stdout

    chunk = dataset / "data" / "chunked_012" / "1" / "1" / "0"
    raw = bytearray(chunk.read_bytes())
    raw[-1] ^= 0x10
    chunk.write_bytes(bytes(raw))
    before = digest(dataset)
    code, stdout, _ = cli("verify", str(dataset), "--deep", cwd=tmp_path)
    assert code == 1
    assert "differs: data/chunked_012/1/1/0" in stdout
    assert "DAMAGED" in stdout
    code, stdout, _ = cli("verify", str(dataset), "--json", cwd=tmp_path)
    assert code == 1
    report = strict_loads(stdout)
    assert report["ok"] is False
    (traces,) = [a for a in report["arrays"] if a["path"] == "data/chunked_012"]
    assert traces["differing"] == ["data/chunked_012/1/1/0"]
    assert digest(dataset) == before  # verify wrote nothing


def test_bad_sample_is_one_line(tmp_path: Path) -> None:
    dataset = tmp_path / "a.mdio"
    numpy_to_mdio(np.ones((4, 4, 8), dtype=np.float32), str(dataset), (4, 4, 8))
    code, _, stderr = cli("verify", str(dataset), "--sample", "2", cwd=tmp_path)
    assert code == 2
    assert stderr.strip().startswith("error: --sample")
    assert len(stderr.strip().splitlines()) == 1
