"""``status`` with the last verify result and the git warning, ``verify NAME`` recording its result, and
``build --require-clean``, as real processes on real small builds (and, for git, a real temporary repository)."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mdio_catalog.catalog.lockfile import LockStore
from mdio_catalog.catalog.verifystate import last_verify
from tests.catalog import write_catalog
from tests.reliability.clirun import assert_one_line_error, cli, strict_loads

HAS_GIT = subprocess.run(["git", "--version"], check=False, capture_output=True).returncode == 0


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


def numpy_catalog(folder: Path) -> Path:
    """Two small NumPy datasets, ``vel`` and ``old``."""
    (folder / "data").mkdir(parents=True, exist_ok=True)
    np.save(folder / "data" / "vel.npy", np.arange(8 * 6 * 20, dtype=np.float32).reshape(8, 6, 20) + 1)
    np.save(folder / "data" / "old.npy", np.ones((4, 5, 6), dtype=np.float32))
    index = {"index_names": ["inline", "crossline", "sample"]}
    return write_catalog(
        folder,
        {
            "vel": {"source": {"numpy": "data/vel.npy", **index}, "chunks": [4, 3, 10]},
            "old": {"source": {"numpy": "data/old.npy", **index}, "chunks": [2, 5, 6]},
        },
    )


def status_json(folder: Path, code: int = 0) -> dict[str, Any]:
    done, out, err = cli("status", "-c", "catalog.yaml", "--json", cwd=folder)
    assert done == code, (out, err)
    data = strict_loads(out)
    assert isinstance(data, dict)
    return data


def by_name(status: dict[str, Any]) -> dict[str, Any]:
    return {d["name"]: d for d in status["datasets"]}


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*")
            if p.is_file()}  # fmt: skip


def test_status_shows_the_last_verify_its_date_and_when_it_is_outdated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = numpy_catalog(tmp_path)
    monkeypatch.setenv("MDIO_CATALOG_CHECKSUMS", "0")  # "old" is built as before checksums existed
    assert cli("build", "-c", "catalog.yaml", "old", cwd=tmp_path)[0] == 0
    monkeypatch.delenv("MDIO_CATALOG_CHECKSUMS")
    assert cli("build", "-c", "catalog.yaml", "vel", cwd=tmp_path)[0] == 0
    status = status_json(tmp_path)
    assert status["git"] is None
    assert status["warnings"] == []
    assert {n: d["verify"] for n, d in by_name(status).items()} == {"vel": None, "old": None}
    code, out, _ = cli("status", "-c", "catalog.yaml", cwd=tmp_path)
    assert code == 0
    assert "verified" in out
    assert out.count("never") == 2

    dataset = tmp_path / "out" / "vel.mdio"
    before = digest(dataset)
    code, out, err = cli("verify", "vel", "-c", "catalog.yaml", cwd=tmp_path)
    assert code == 0, (out, err)
    assert "all as recorded" in out
    assert digest(dataset) == before  # verify never modifies the dataset
    assert LockStore(catalog, "test-catalog").names() == ["old", "vel"]  # not taken for a lock entry
    lock = json.loads((tmp_path / "catalog.lock.d" / "vel.json").read_text())["current"]
    state = by_name(status_json(tmp_path))["vel"]["verify"]
    assert state["state"] == "ok"
    assert state["ok"] is True
    assert state["problems"] == 0
    assert state["build"] == lock["started"]
    assert state["spec_hash"] == lock["spec_hash"]
    assert state["chunks_checked"] == state["chunks_recorded"] > 0
    assert state["sample"] is None
    code, out, _ = cli("status", "-c", "catalog.yaml", "vel", cwd=tmp_path)
    assert code == 0
    assert "ok 20" in out
    assert "UTC" in out
    code, out, _ = cli("show", "vel", "-c", "catalog.yaml", "--json", cwd=tmp_path)
    assert strict_loads(out)["verify"]["state"] == "ok"

    # a sampled, deep verify of a damaged chunk: recorded as damaged, with its counts
    chunk = dataset / "data" / "chunked_012" / "1" / "1" / "0"
    raw = bytearray(chunk.read_bytes())
    raw[-1] ^= 0x10
    chunk.write_bytes(bytes(raw))
    code, out, _ = cli("verify", "vel", "-c", "catalog.yaml", "--deep", cwd=tmp_path)
    assert code == 1
    state = by_name(status_json(tmp_path))["vel"]["verify"]  # status itself is still fresh: exit 0
    assert state["state"] == "damaged"
    assert state["differing"] == 1
    assert state["deep"] is True
    assert state["problems"] >= 1
    code, out, _ = cli("status", "-c", "catalog.yaml", "vel", cwd=tmp_path)
    assert "DAMAGED (" in out
    saved = last_verify(catalog, "vel")
    assert saved is not None
    assert saved.outcome == "damaged"
    assert saved.differing == 1

    # a rebuild: the result describes another build now
    assert cli("build", "-c", "catalog.yaml", "vel", "--force", cwd=tmp_path)[0] == 0
    state = by_name(status_json(tmp_path))["vel"]["verify"]
    assert state["state"] == "outdated"
    assert state["ok"] is False
    code, out, _ = cli("status", "-c", "catalog.yaml", "vel", cwd=tmp_path)
    assert "outdated (DAMAGED" in out
    code, out, _ = cli("verify", "vel", "-c", "catalog.yaml", "--sample", "0.5", cwd=tmp_path)
    assert code == 0
    state = by_name(status_json(tmp_path))["vel"]["verify"]
    assert state["state"] == "ok"
    assert state["sample"] == 0.5
    assert state["chunks_checked"] < state["chunks_recorded"]

    # built before checksums existed: verify says so, status shows it and does not fail
    code, out, _ = cli("verify", "old", "-c", "catalog.yaml", cwd=tmp_path)
    assert code == 0
    assert "no checksum record" in out
    state = by_name(status_json(tmp_path))["old"]["verify"]
    assert state["state"] == "no checksums"
    assert state["recorded"] is False
    code, out, _ = cli("status", "-c", "catalog.yaml", "old", cwd=tmp_path)
    assert code == 0
    assert "no checksums 20" in out


@pytest.mark.skipif(not HAS_GIT, reason="no git")
def test_status_warns_and_require_clean_refuses_when_the_spec_is_dirty(tmp_path: Path) -> None:
    numpy_catalog(tmp_path)
    (tmp_path / ".gitignore").write_text("data/\nout/\ncatalog.lock.d/\n.mdio-catalog/\n")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "first")
    code, out, err = cli("build", "-c", "catalog.yaml", "vel", "--require-clean", cwd=tmp_path)
    assert code == 0, (out, err)
    status = status_json(tmp_path, code=1)  # "old" never built
    assert status["git"] == {"root": str(tmp_path.resolve()), "dirty": False, "dirty_files": []}
    assert status["warnings"] == []
    assert by_name(status)["vel"]["spec_dirty_files"] == []

    text = (tmp_path / "catalog.yaml").read_text()
    (tmp_path / "catalog.yaml").write_text(text.replace("name: test-catalog", "name: test-catalog\ndescription: x"))
    status = status_json(tmp_path, code=1)
    assert status["git"]["dirty"] is True
    assert status["git"]["dirty_files"] == ["catalog.yaml"]
    assert len(status["warnings"]) == 1
    assert "catalog.yaml" in status["warnings"][0]
    assert by_name(status)["vel"]["spec_dirty_files"] == ["catalog.yaml"]
    code, out, err = cli("status", "-c", "catalog.yaml", "vel", cwd=tmp_path)
    assert code == 0  # a warning, not a failure: the dataset is fresh
    assert "warning: the spec has uncommitted changes (catalog.yaml)" in err

    entry = (tmp_path / "catalog.lock.d" / "vel.json").read_bytes()
    code, out, err = cli("build", "-c", "catalog.yaml", "--force", "--require-clean", cwd=tmp_path)
    line = assert_one_line_error(code, out, err, "uncommitted", "catalog.yaml", "--require-clean")
    assert "Nothing was built" in line
    assert (tmp_path / "catalog.lock.d" / "vel.json").read_bytes() == entry
    assert not (tmp_path / "out" / "old.mdio").exists()

    code, out, err = cli("build", "-c", "catalog.yaml", "old", cwd=tmp_path)  # without the flag: built, recorded
    assert code == 0, err
    recorded = json.loads((tmp_path / "catalog.lock.d" / "old.json").read_text())["current"]["git"]
    assert recorded["dirty"] is True
    assert recorded["dirty_files"] == ["catalog.yaml"]
    git(tmp_path, "commit", "-q", "-am", "describe")
    code, out, err = cli("build", "-c", "catalog.yaml", "--force", "--require-clean", cwd=tmp_path)
    assert code == 0, err
    recorded = json.loads((tmp_path / "catalog.lock.d" / "old.json").read_text())["current"]["git"]
    assert recorded["dirty"] is False
    assert recorded["commit"] == git(tmp_path, "rev-parse", "HEAD")
    status = status_json(tmp_path)
    assert status["warnings"] == []
    assert status["fresh"] is True
    code, out, _ = cli("show", "old", "-c", "catalog.yaml", cwd=tmp_path)
    assert code == 0
    assert "dirty: false" in out
    assert "last_verify: never" in out
