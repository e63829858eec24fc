"""status() and incremental builds: never built -> fresh -> stale (spec, source, output) -> fresh again; build()
rebuilds only what is stale, force rebuilds everything, dry_run builds nothing and writes nothing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from mdio_catalog import MDIOReader, numpy_to_mdio
from mdio_catalog.catalog import Catalog, DatasetStatus
from mdio_catalog.exceptions import ForeignContentError, MDIONotFoundError
from tests.catalog import leftovers, lock_files, post_stack_segy, read_lock, snapshot, stack_entry, write_catalog

DATASETS = {
    "stack": stack_entry(access_patterns={"fast_z": [6, 7, 2]}),
    "velocity": {
        "source": {"numpy": "data/velocity.npy", "index_names": ["inline", "crossline", "sample"]},
        "chunks": [3, 4, 6],
    },
    "grid": {
        "source": {
            "empty": [
                {"name": "inline", "start": 10, "count": 6},
                {"name": "crossline", "start": 20, "count": 7},
                {"name": "sample", "start": 0, "step": 4, "count": 12},
            ]
        },
        "chunks": [3, 4, 6],
    },
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    post_stack_segy(tmp_path / "data" / "stack.sgy")
    np.save(tmp_path / "data" / "velocity.npy", np.linspace(1500, 3000, 6 * 7 * 12, dtype=np.float32).reshape(6, 7, 12))
    write_catalog(tmp_path, DATASETS)
    return tmp_path


def states(catalog: Catalog) -> dict[str, tuple[str, list[str]]]:
    return {s.name: (s.state, s.reasons) for s in catalog.status()}


def reasons_of(catalog: Catalog, name: str) -> str:
    (status,) = catalog.status([name])
    assert isinstance(status, DatasetStatus)
    return "; ".join(status.reasons)


def started(folder: Path) -> dict[str, str]:
    return {name: entry["started"] for name, entry in read_lock(folder)["entries"].items()}


def load(folder: Path) -> Catalog:
    return Catalog.from_file(folder / "catalog.yaml")


def edit(folder: Path, name: str, **changes: object) -> None:
    """Change keys of one dataset entry in catalog.yaml (as a user editing the file would)."""
    path = folder / "catalog.yaml"
    data = yaml.safe_load(path.read_text())
    data["datasets"][name].update(changes)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_never_built_then_fresh(folder: Path) -> None:
    catalog = load(folder)
    before = catalog.status()
    assert [s.name for s in before] == ["stack", "velocity", "grid"]
    assert {s.state for s in before} == {"never built"}
    assert all(s.needs_build for s in before)
    assert lock_files(folder) == {}

    report = catalog.build()
    assert sorted(r.dataset for r in report.built) == ["grid", "stack", "velocity"]
    assert report.skipped == []
    assert states(catalog) == {n: ("fresh", []) for n in ("stack", "velocity", "grid")}
    # a catalog loaded anew from the file agrees
    assert states(load(folder)) == {n: ("fresh", []) for n in ("stack", "velocity", "grid")}
    assert set(read_lock(folder)["entries"]) == {"stack", "velocity", "grid"}
    for name in ("stack", "velocity", "grid"):
        assert (folder / "out" / f"{name}.mdio" / ".zattrs").is_file()
    assert leftovers(folder / "out") == []

    # nothing to do the second time
    again = load(folder).build()
    assert again.built == []
    assert sorted(s.name for s in again.skipped) == ["grid", "stack", "velocity"]


def test_spec_change_makes_only_that_dataset_stale_and_only_it_is_rebuilt(folder: Path) -> None:
    load(folder).build()
    first = started(folder)
    edit(folder, "stack", chunks=[3, 4, 8])
    catalog = load(folder)
    got = states(catalog)
    assert got["stack"][0] == "stale"
    assert "spec changed" in "; ".join(got["stack"][1])
    assert got["velocity"] == ("fresh", [])
    assert got["grid"] == ("fresh", [])

    report = catalog.build()
    assert [r.dataset for r in report.built] == ["stack"]
    assert sorted(s.name for s in report.skipped) == ["grid", "velocity"]
    second = started(folder)
    assert second["velocity"] == first["velocity"]
    assert second["grid"] == first["grid"]
    assert second["stack"] > first["stack"]
    assert read_lock(folder)["entries"]["stack"]["parameters"]["chunks"] == [3, 4, 8]
    assert MDIOReader(str(folder / "out" / "stack.mdio"), access_pattern="012").chunks == (3, 4, 8)
    assert states(catalog)["stack"] == ("fresh", [])


def test_description_and_tags_do_not_make_a_dataset_stale(folder: Path) -> None:
    load(folder).build()
    hashes = {n: e["spec_hash"] for n, e in read_lock(folder)["entries"].items()}
    edit(folder, "stack", description="a new text", tags=["final", "v2"])
    catalog = load(folder)
    assert catalog.get("stack").description == "a new text"
    assert states(catalog)["stack"] == ("fresh", [])
    assert catalog.build().built == []
    assert {n: e["spec_hash"] for n, e in read_lock(folder)["entries"].items()} == hashes


def test_rewritten_source_makes_it_stale(folder: Path) -> None:
    load(folder).build()
    first = started(folder)
    # different content: one more inline and other samples
    post_stack_segy(folder / "data" / "stack.sgy", inlines=range(10, 17), seed=5)
    catalog = load(folder)
    assert catalog.status(["stack"])[0].state == "stale"
    assert "source" in reasons_of(catalog, "stack")
    assert "spec changed" not in reasons_of(catalog, "stack")
    assert states(catalog)["velocity"] == ("fresh", [])

    report = catalog.build()
    assert [r.dataset for r in report.built] == ["stack"]
    assert started(folder)["velocity"] == first["velocity"]
    assert MDIOReader(str(folder / "out" / "stack.mdio"), access_pattern="012").shape == (7, 7, 12)
    assert read_lock(folder)["entries"]["stack"]["shape"] == [7, 7, 12]
    assert states(catalog)["stack"] == ("fresh", [])


def test_same_size_rewrite_with_other_headers_and_old_mtime_is_stale(folder: Path) -> None:
    """Size and modification time as before, trace headers different: the sampled header hash tells."""
    load(folder).build()
    path = folder / "data" / "stack.sgy"
    stat = os.stat(path)
    post_stack_segy(path, crosslines=range(21, 28))  # same trace count and size, other crossline numbers
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert os.path.getsize(path) == stat.st_size
    catalog = load(folder)
    assert catalog.status(["stack"])[0].state == "stale"
    assert "source" in reasons_of(catalog, "stack")


def test_touched_source_makes_it_stale(folder: Path) -> None:
    load(folder).build()
    path = folder / "data" / "stack.sgy"
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5 * 10**9))
    catalog = load(folder)
    assert catalog.status(["stack"])[0].state == "stale"
    assert "source modified" in reasons_of(catalog, "stack")
    assert [r.dataset for r in catalog.build().built] == ["stack"]
    assert states(catalog)["stack"] == ("fresh", [])


def test_touched_numpy_source_makes_it_stale(folder: Path) -> None:
    load(folder).build()
    np.save(folder / "data" / "velocity.npy", np.zeros((6, 7, 12), dtype=np.float32) + 7)
    catalog = load(folder)
    assert catalog.status(["velocity"])[0].state == "stale"
    assert "source" in reasons_of(catalog, "velocity")
    assert [r.dataset for r in catalog.build().built] == ["velocity"]
    reader = catalog.open("velocity")
    np.testing.assert_array_equal(reader[...], np.zeros((6, 7, 12), dtype=np.float32) + 7)


def test_deleted_output_is_stale_output_missing(folder: Path) -> None:
    load(folder).build()
    first = started(folder)
    shutil.rmtree(folder / "out" / "stack.mdio")
    catalog = load(folder)
    assert catalog.status(["stack"])[0].state == "stale"
    assert "output missing" in reasons_of(catalog, "stack")
    assert states(catalog)["grid"] == ("fresh", [])
    assert [r.dataset for r in catalog.build().built] == ["stack"]
    assert started(folder)["grid"] == first["grid"]
    assert (folder / "out" / "stack.mdio").is_dir()
    assert states(catalog)["stack"] == ("fresh", [])


def test_output_overwritten_by_plain_numpy_to_mdio_is_stale(folder: Path) -> None:
    load(folder).build()
    numpy_to_mdio(
        np.ones((6, 7, 12), dtype=np.float32),
        str(folder / "out" / "stack.mdio"),
        chunksize=(4, 4, 8),
        index_names=["inline", "crossline", "sample"],
        overwrite=True,
    )
    catalog = load(folder)
    assert catalog.status(["stack"])[0].state == "stale"
    assert "output was replaced" in reasons_of(catalog, "stack")
    # a dataset the catalog did not build is never replaced by a plain build (issue 15)...
    with pytest.raises(ForeignContentError, match="did not build"):
        catalog.build()
    assert np.all(MDIOReader(str(folder / "out" / "stack.mdio"), access_pattern="012")[...] == 1)
    # ...and --force renames it aside (kept) before building
    report = catalog.build(["stack"], force=True)
    assert [r.dataset for r in report.built] == ["stack"]
    aside = Path(report.moved_aside["stack"])
    assert np.all(MDIOReader(str(aside), access_pattern="012")[...] == 1)
    assert states(catalog)["stack"] == ("fresh", [])
    assert not np.all(catalog.open("stack")[...] == 1)


def test_output_replaced_by_another_build_is_stale(folder: Path) -> None:
    """The output carries provenance, but of another build than the lock records."""
    load(folder).build()
    entry = folder / "catalog.lock.d" / "stack.json"
    lock_before = entry.read_bytes()
    load(folder).build(["stack"], force=True)
    assert entry.read_bytes() != lock_before
    entry.write_bytes(lock_before)  # the lock entry of the earlier build
    catalog = load(folder)
    assert catalog.status(["stack"])[0].state == "stale"
    assert "output was replaced" in reasons_of(catalog, "stack")


def test_force_rebuilds_everything(folder: Path) -> None:
    load(folder).build()
    first = started(folder)
    report = load(folder).build(force=True)
    assert sorted(r.dataset for r in report.built) == ["grid", "stack", "velocity"]
    assert all("forced" in s.reasons for s in report.planned)
    second = started(folder)
    assert all(second[n] > first[n] for n in first)
    assert {s.state for s in load(folder).status()} == {"fresh"}


def test_build_of_chosen_names_only(folder: Path) -> None:
    catalog = load(folder)
    report = catalog.build(["velocity"])
    assert [r.dataset for r in report.built] == ["velocity"]
    assert set(read_lock(folder)["entries"]) == {"velocity"}
    assert states(catalog)["stack"][0] == "never built"
    assert not (folder / "out" / "stack.mdio").exists()


def test_dry_run_on_a_new_catalog_builds_and_writes_nothing(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = load(folder)
    report = catalog.build(dry_run=True)
    assert report.dry_run
    assert [s.name for s in report.planned] == ["stack", "velocity", "grid"]
    assert report.built == []
    assert lock_files(folder) == {}
    assert not (folder / "out").exists()
    data = report.to_data()
    assert [p["name"] for p in data["planned"]] == ["stack", "velocity", "grid"]
    assert {p["state"] for p in data["planned"]} == {"never built"}


def test_dry_run_on_a_stale_catalog_changes_nothing(folder: Path) -> None:
    load(folder).build()
    edit(folder, "stack", chunks=[2, 4, 8])
    lock = lock_files(folder)
    assert set(lock) == {"catalog.lock.d/grid.json", "catalog.lock.d/stack.json", "catalog.lock.d/velocity.json"}
    out = snapshot(folder / "out")
    for force in (False, True):
        report = load(folder).build(dry_run=True, force=force)
        expected = ["stack", "velocity", "grid"] if force else ["stack"]
        assert [s.name for s in report.planned] == expected
        assert report.built == []
        assert lock_files(folder) == lock
        assert snapshot(folder / "out") == out
    assert load(folder).status(["stack"])[0].state == "stale"


def test_deleted_source_makes_it_stale_and_the_build_fails(folder: Path) -> None:
    load(folder).build()
    os.remove(folder / "data" / "stack.sgy")
    catalog = load(folder)
    assert catalog.status(["stack"])[0].state == "stale"
    assert "source" in reasons_of(catalog, "stack")
    assert "stack.sgy" in reasons_of(catalog, "stack")
    assert states(catalog)["velocity"] == ("fresh", [])
    with pytest.raises(MDIONotFoundError):
        catalog.build(["stack"])
    # the previous dataset is still there
    assert MDIOReader(str(folder / "out" / "stack.mdio"), access_pattern="012").shape == (6, 7, 12)


def test_output_with_an_access_pattern_deleted_is_stale(folder: Path) -> None:
    """Removing the arrays of a declared access pattern from the output modifies it."""
    load(folder).build()
    dataset = folder / "out" / "stack.mdio"
    shutil.rmtree(dataset / "data" / "chunked_fast_z")
    shutil.rmtree(dataset / "metadata" / "chunked_fast_z_trace_headers")
    catalog = load(folder)
    assert catalog.status(["stack"])[0].state == "stale"
    assert "output" in reasons_of(catalog, "stack")
