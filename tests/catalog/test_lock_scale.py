"""The lock that scales (issue 15, item 6): one entry file per dataset in ``catalog.lock.d/``, written atomically,
reads that touch only what they show, old single-file locks read and migrated, and concurrent builds of different
datasets (real processes) all recorded. The oracles are plain ``json`` / ``yaml`` on the files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from mdio_catalog.catalog import Catalog
from mdio_catalog.cli.app import app
from mdio_catalog.exceptions import SpecValidationError
from mdio_catalog.specs.provenance import LockFile
from tests.catalog import REPO, lock_files, read_lock, root_attrs, write_catalog

runner = CliRunner()


def empty(count: int = 4) -> dict[str, Any]:
    """A tiny ``empty:`` dataset entry (metadata only: cheap to build)."""
    return {"source": {"empty": [{"name": "inline", "start": 1, "count": count},
                                 {"name": "crossline", "start": 1, "count": 3},
                                 {"name": "sample", "start": 0, "step": 4, "count": 8}]}}  # fmt: skip


def catalog_of(folder: Path, names: list[str]) -> Path:
    return write_catalog(folder, {name: empty() for name in names})


def make_legacy(folder: Path) -> dict[str, Any]:
    """Turn the catalog's entry files into one old-style ``catalog.lock`` (as the previous version wrote it:
    ``LockFile.to_yaml``), remove the folder; return the entries as plain data."""
    catalog = Catalog.from_file(folder / "catalog.yaml")
    lock = LockFile(version=1, catalog=catalog.name, entries=catalog.lock().entries)
    (folder / "catalog.lock").write_text(lock.to_yaml(), encoding="utf-8")
    for path in (folder / "catalog.lock.d").iterdir():
        path.unlink()
    (folder / "catalog.lock.d").rmdir()
    return yaml.safe_load((folder / "catalog.lock").read_text())["entries"]


def test_one_entry_file_per_dataset_and_a_rebuild_rewrites_only_its_own(tmp_path: Path) -> None:
    catalog_of(tmp_path, ["a", "b", "c"])
    Catalog.from_file(tmp_path / "catalog.yaml").build()
    files = lock_files(tmp_path)
    assert sorted(files) == ["catalog.lock.d/a.json", "catalog.lock.d/b.json", "catalog.lock.d/c.json"]
    for name in "abc":
        entry = json.loads(files[f"catalog.lock.d/{name}.json"])
        assert entry["version"] == 1
        assert entry["catalog"] == "test-catalog"
        assert entry["current"]["dataset"] == name
        # the entry and the provenance stored in the dataset agree
        stored = root_attrs(tmp_path / "out" / f"{name}.mdio")["mdio_catalog"]["provenance"]
        assert stored["started"] == entry["current"]["started"]
        assert stored["spec_hash"] == entry["current"]["spec_hash"]

    Catalog.from_file(tmp_path / "catalog.yaml").build(["b"], force=True)
    after = lock_files(tmp_path)
    assert after["catalog.lock.d/a.json"] == files["catalog.lock.d/a.json"]
    assert after["catalog.lock.d/c.json"] == files["catalog.lock.d/c.json"]
    assert after["catalog.lock.d/b.json"] != files["catalog.lock.d/b.json"]
    assert sorted(after) == sorted(files)  # no temporary file left beside the entries
    # short lines: a list of numbers stays on one line, so a rebuild's diff is a few lines
    text = after["catalog.lock.d/b.json"].decode()
    assert '"shape": [4, 3, 8]' in text
    assert len(text.splitlines()) < 120


def test_show_reads_only_its_own_entry(tmp_path: Path) -> None:
    """``show a`` works while b's entry is garbage (it never reads it); b's own commands fail with a typed,
    one-line error naming the file."""
    catalog_of(tmp_path, ["a", "b"])
    Catalog.from_file(tmp_path / "catalog.yaml").build()
    broken = tmp_path / "catalog.lock.d" / "b.json"
    broken.write_text("{not json")
    c = str(tmp_path / "catalog.yaml")

    result = runner.invoke(app, ["show", "a", "-c", c, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["provenance"]["dataset"] == "a"
    assert Catalog.from_file(c).status(["a"])[0].state == "fresh"

    result = runner.invoke(app, ["show", "b", "-c", c])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert "b.json" in result.output
    with pytest.raises(SpecValidationError, match=r"b\.json"):
        Catalog.from_file(c).lock_entry("b")


def test_an_entry_that_is_not_a_regular_file_is_refused_at_once(tmp_path: Path) -> None:
    catalog_of(tmp_path, ["a"])
    Catalog.from_file(tmp_path / "catalog.yaml").build()
    entry = tmp_path / "catalog.lock.d" / "a.json"
    entry.unlink()
    os.mkfifo(entry)
    started = time.monotonic()
    with pytest.raises(SpecValidationError, match="regular file"):
        Catalog.from_file(tmp_path / "catalog.yaml").lock_entry("a")
    assert time.monotonic() - started < 5


def test_an_entry_naming_another_dataset_is_refused(tmp_path: Path) -> None:
    catalog_of(tmp_path, ["a", "b"])
    Catalog.from_file(tmp_path / "catalog.yaml").build()
    folder = tmp_path / "catalog.lock.d"
    (folder / "b.json").write_bytes((folder / "a.json").read_bytes())
    with pytest.raises(SpecValidationError, match="records dataset 'a'"):
        Catalog.from_file(tmp_path / "catalog.yaml").lock_entry("b")


def test_old_single_file_lock_is_read_then_migrated_on_the_first_write(tmp_path: Path) -> None:
    catalog_of(tmp_path, ["a", "b", "c"])
    Catalog.from_file(tmp_path / "catalog.yaml").build()
    old_entries = make_legacy(tmp_path)
    old_text = (tmp_path / "catalog.lock").read_bytes()

    # reading never writes: status, show and list work from the old file and leave it as it is
    catalog = Catalog.from_file(tmp_path / "catalog.yaml")
    assert {s.name: s.state for s in catalog.status()} == {"a": "fresh", "b": "fresh", "c": "fresh"}
    c = str(tmp_path / "catalog.yaml")
    shown = json.loads(runner.invoke(app, ["show", "c", "-c", c, "--json"]).output)
    assert shown["provenance"]["started"] == old_entries["c"]["started"]
    assert runner.invoke(app, ["list", "-c", c]).exit_code == 0
    assert lock_files(tmp_path) == {"catalog.lock": old_text}

    # the first write moves every entry into the folder and removes the old file
    Catalog.from_file(tmp_path / "catalog.yaml").build(["b"], force=True)
    assert not (tmp_path / "catalog.lock").exists()
    lock = read_lock(tmp_path)
    assert sorted(lock["entries"]) == ["a", "b", "c"]
    assert lock["entries"]["a"] == old_entries["a"]
    assert lock["entries"]["c"] == old_entries["c"]
    assert lock["entries"]["b"]["started"] > old_entries["b"]["started"]
    assert {s.state for s in Catalog.from_file(tmp_path / "catalog.yaml").status()} == {"fresh"}


def test_an_interrupted_migration_keeps_the_newer_entries(tmp_path: Path) -> None:
    """A crash after some entries were moved leaves both places: an entry in the folder wins over the old file,
    one only in the old file is still read, and the next write finishes the move without overwriting."""
    catalog_of(tmp_path, ["a", "b"])
    Catalog.from_file(tmp_path / "catalog.yaml").build()
    old_entries = make_legacy(tmp_path)
    old_text = (tmp_path / "catalog.lock").read_bytes()
    Catalog.from_file(tmp_path / "catalog.yaml").build(["a"], force=True)  # migrates, then records a newer "a"
    newer_a = read_lock(tmp_path)["entries"]["a"]
    assert newer_a["started"] > old_entries["a"]["started"]
    # as if the migration had stopped after linking "a" only: the old file is back, b's entry not yet moved
    (tmp_path / "catalog.lock").write_bytes(old_text)
    (tmp_path / "catalog.lock.d" / "b.json").unlink()

    catalog = Catalog.from_file(tmp_path / "catalog.yaml")
    record_a, record_b = catalog.lock_entry("a"), catalog.lock_entry("b")
    assert record_a is not None
    assert record_b is not None
    assert record_a.to_data()["started"] == newer_a["started"]  # the folder wins
    assert record_b.to_data()["started"] == old_entries["b"]["started"]  # still read from the old file
    assert {s.state for s in catalog.status()} == {"fresh"}

    catalog.build(["a"], force=True)  # the next write finishes the migration
    assert not (tmp_path / "catalog.lock").exists()
    entries = read_lock(tmp_path)["entries"]
    assert entries["b"] == old_entries["b"]
    assert entries["a"]["started"] > newer_a["started"]


BUILDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from mdio_catalog.catalog import Catalog

    catalog, barrier, names = sys.argv[1], Path(sys.argv[2]), sys.argv[3].split(",")
    deadline = time.monotonic() + 120
    while not barrier.exists():
        if time.monotonic() > deadline:
            sys.exit("no start signal")
        time.sleep(0.005)
    for name in names:  # one build per dataset: many lock writes from each process
        Catalog.from_file(catalog).build([name])
    """
)


@pytest.mark.parametrize("start", ["new", "old lock file"])
def test_concurrent_builds_of_different_datasets_are_all_recorded(tmp_path: Path, start: str) -> None:
    """Two processes build disjoint sets of datasets of one catalog at the same time (released together); every
    entry is recorded and matches the dataset's own provenance. From an old ``catalog.lock`` both processes
    migrate at once and the entries it held survive."""
    first = [f"p{i}" for i in range(6)]
    second = [f"q{i}" for i in range(6)]
    earlier = ["e0", "e1"]
    path = catalog_of(tmp_path, [*earlier, *first, *second])
    Catalog.from_file(path).build(earlier)
    old = make_legacy(tmp_path) if start == "old lock file" else read_lock(tmp_path)["entries"]

    barrier = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", BUILDER, str(path), str(barrier), ",".join(names)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for names in (first, second)
    ]
    time.sleep(1.0)  # both started (imports done or nearly)
    barrier.touch()
    for process in processes:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err

    assert not (tmp_path / "catalog.lock").exists()
    entries = read_lock(tmp_path)["entries"]
    assert sorted(entries) == sorted([*earlier, *first, *second])
    for name in [*first, *second]:
        stored = root_attrs(tmp_path / "out" / f"{name}.mdio")["mdio_catalog"]["provenance"]
        assert entries[name]["started"] == stored["started"]
    for name in earlier:
        assert entries[name] == old[name]
    assert [p.name for p in (tmp_path / "catalog.lock.d").iterdir() if p.name.startswith(".")] == []
    assert {s.state for s in Catalog.from_file(path).status()} == {"fresh"}


def test_status_does_not_open_datasets_it_reports_on(tmp_path: Path) -> None:
    """``status`` judges an output from its small metadata files: a dataset whose chunk data are unreadable is
    still fresh (that is verify's job), while a missing access pattern and a changed shape are still caught."""
    catalog_of(tmp_path, ["a", "b", "c"])
    Catalog.from_file(tmp_path / "catalog.yaml").build()
    folder = tmp_path / "out"
    (folder / "a.mdio" / "metadata" / "live_mask" / ".zattrs").write_text("not json")
    zarray = folder / "b.mdio" / "data" / "chunked_012" / ".zarray"
    meta = json.loads(zarray.read_text())
    meta["shape"] = [5, 3, 8]
    zarray.write_text(json.dumps(meta))
    (folder / "c.mdio" / "data" / "chunked_012" / ".zarray").unlink()
    states = {s.name: (s.state, s.reasons) for s in Catalog.from_file(tmp_path / "catalog.yaml").status()}
    assert states["a"] == ("fresh", [])
    assert states["b"] == ("stale", ["output modified: shape or trace count differ from the build"])
    assert states["c"] == ("stale", ["output modified: access patterns ['012'] missing"])


def test_gc_removes_unrenamed_lock_entries_of_dead_writers_only(tmp_path: Path) -> None:
    catalog_of(tmp_path, ["a"])
    Catalog.from_file(tmp_path / "catalog.yaml").build()
    folder = tmp_path / "catalog.lock.d"
    dead = folder / ".a.json.tmp-0123456789ab"
    young = folder / ".a.json.tmp-ba9876543210"
    dead.write_text("{")
    young.write_text("{")
    os.utime(dead, (time.time() - 7200, time.time() - 7200))
    c = str(tmp_path / "catalog.yaml")

    result = runner.invoke(app, ["gc", "-c", c, "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    listed = {Path(item["path"]).name: item["dead"] for item in json.loads(result.output)["leftovers"]}
    assert listed == {dead.name: True, young.name: False}
    assert dead.exists()

    result = runner.invoke(app, ["gc", "-c", c, "--json"])
    assert result.exit_code == 0, result.output
    assert not dead.exists()
    assert young.exists()
    assert (folder / "a.json").is_file()
    assert Catalog.from_file(c).status()[0].state == "fresh"
