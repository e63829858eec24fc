"""``mdio-catalog versions`` and ``rollback`` as real processes: the table marks the current build, --json is
strict and complete, a rollback swaps the folders and ``status`` then reports the spec mismatch (exit 1); an
unknown build id, a dataset without kept versions and a never-built dataset are one-line errors (exit 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from mdio_catalog.catalog import Catalog
from tests.reliability.clirun import assert_one_line_error, cli, strict_loads


def write(folder: Path, seed: int, chunks: list[int], keep: int = 2) -> Path:
    np.save(folder / "cube.npy", np.random.default_rng(seed).normal(size=(6, 5, 8)).astype(np.float32))
    entry: dict[str, Any] = {"source": {"numpy": "cube.npy"}, "chunks": chunks, "keep": keep}
    data = {"version": 1, "name": "cli-versions", "root": "./out", "datasets": {"cube": entry, "other": entry}}
    path = folder / "catalog.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, list[str]]:
    """Two builds of 'cube' (the first kept); 'other' never built."""
    ids = []
    for seed, chunks in ((0, [2, 5, 8]), (1, [3, 5, 8])):
        catalog = Catalog.from_file(write(tmp_path, seed, chunks))
        catalog.build(["cube"], force=True)
        ids.append(catalog.lock_entry("cube").build_id)  # type: ignore[union-attr]
    return tmp_path, ids


def test_versions_table_and_json(built: tuple[Path, list[str]]) -> None:
    folder, (first, second) = built
    code, out, err = cli("versions", "cube", cwd=folder)
    assert code == 0, err
    assert "1 kept version(s) (keep: 2)" in out
    assert first[:8] in out
    assert "cube.npy" in out
    code, out, err = cli("versions", "cube", "--json", cwd=folder)
    assert code == 0, err
    data = strict_loads(out)
    assert data["dataset"] == "cube"
    assert data["keep"] == 2
    assert [(v["build_id"], v["current"]) for v in data["versions"]] == [(second, True), (first, False)]
    kept = data["versions"][1]
    assert kept["path"].endswith(f"/out/.cube.mdio.versions/{first}")
    assert kept["size_bytes"] > 0
    assert kept["checksums"] is True
    assert kept["verify"] is None
    assert len(kept["spec_hash"]) == 64
    assert kept["source"]["kind"] == "numpy"


def test_rollback_then_status_says_the_spec_changed(built: tuple[Path, list[str]]) -> None:
    folder, (first, second) = built
    code, out, err = cli("rollback", "cube", cwd=folder)
    assert code == 0, err
    assert f"rolled back to {first}" in out
    assert second in out
    code, out, err = cli("status", "cube", "--json", cwd=folder)
    assert code == 1, err
    (cube,) = strict_loads(out)["datasets"]
    assert cube["state"] == "stale"
    assert "spec changed since the build" in cube["reasons"]
    code, out, err = cli("rollback", "cube", "--to", second, "--json", cwd=folder)
    assert code == 0, err
    assert strict_loads(out) | {"kept_path": None} == {
        "dataset": "cube", "from": first, "to": second, "kept_path": None, "spec_hash": strict_loads(out)["spec_hash"]
    }  # fmt: skip
    data = strict_loads(cli("versions", "cube", "--json", cwd=folder)[1])
    assert [(v["build_id"], v["current"]) for v in data["versions"]] == [(second, True), (first, False)]


def test_errors_are_one_line(built: tuple[Path, list[str]]) -> None:
    folder, (first, _) = built
    code, out, err = cli("rollback", "cube", "--to", first[:-1] + "x", cwd=folder)
    line = assert_one_line_error(code, out, err)
    assert "keeps no version" in line
    assert "did you mean" in line
    assert "nothing was changed" in line
    code, out, err = cli("versions", "other", cwd=folder)
    assert "never built" in assert_one_line_error(code, out, err)
    code, out, err = cli("versions", "cubes", cwd=folder)
    assert "did you mean 'cube'" in assert_one_line_error(code, out, err)


def test_gc_prunes_what_a_reader_kept_once_it_is_closed(tmp_path: Path) -> None:
    import gc as garbage

    catalog = Catalog.from_file(write(tmp_path, 0, [2, 5, 8], keep=1))
    catalog.build(["cube"], force=True)
    oldest = catalog.lock_entry("cube").build_id  # type: ignore[union-attr]
    reader = catalog.open("cube")  # this process pins the first build's folder
    for seed, chunks in ((1, [3, 5, 8]), (2, [6, 5, 8])):
        catalog = Catalog.from_file(write(tmp_path, seed, chunks, keep=1))
        catalog.build(["cube"], force=True)
    code, out, err = cli("gc", "--json", cwd=tmp_path)
    assert code == 0, err
    assert strict_loads(out)["versions_in_use"] == {"cube": [oldest]}  # another process's reader counts
    assert strict_loads(out)["versions_pruned"] == {}
    del reader
    garbage.collect()
    code, out, err = cli("gc", "--json", cwd=tmp_path)
    assert code == 0, err
    assert strict_loads(out)["versions_pruned"] == {"cube": [oldest]}
    data = strict_loads(cli("versions", "cube", "--json", cwd=tmp_path)[1])
    assert len(data["versions"]) == 2
