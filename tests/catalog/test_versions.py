"""Dataset versions (``keep: N``) and rollback, on real folders.

Oracles: the arrays each build was written from (numpy), the files of each version's folder (bytes, read before
and after), the checksum record inside the dataset (``verify``), and the lock entry read with plain ``json``.
"""

from __future__ import annotations

import gc
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from mdio_catalog.catalog import Catalog
from mdio_catalog.core.publish import find_leftovers
from mdio_catalog.core.store import Location
from mdio_catalog.core.verify import verify_dataset
from mdio_catalog.exceptions import (
    ForeignContentError,
    InvalidModeError,
    VersionNotFoundError,
    VersionsUnsupportedError,
)

SHAPE = (6, 5, 8)


def values(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=SHAPE).astype(np.float32)


class Cube:
    """A catalog with one NumPy dataset, rebuilt from new arrays and chunks."""

    def __init__(self, folder: Path, **top: Any) -> None:
        self.folder = folder
        self.top = top
        self.target = folder / "out" / "cube.mdio"
        self.area = folder / "out" / ".cube.mdio.versions"

    def build(self, seed: int, chunks: list[int], keep: int | None = None) -> Catalog:
        np.save(self.folder / "cube.npy", values(seed))
        entry: dict[str, Any] = {"source": {"numpy": "cube.npy"}, "chunks": chunks}
        if keep is not None:
            entry["keep"] = keep
        data = {"version": 1, "name": "versions-test", "root": "./out", **self.top, "datasets": {"cube": entry}}
        (self.folder / "catalog.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
        catalog = Catalog.from_file(self.folder / "catalog.yaml")
        catalog.build(force=True)
        return catalog

    def lock(self) -> dict[str, Any]:
        return json.loads((self.folder / "catalog.lock.d" / "cube.json").read_text(encoding="utf-8"))


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def first_id_build(record: dict[str, Any]) -> str:
    from mdio_catalog.specs.provenance import ProvenanceRecord

    return ProvenanceRecord.from_data(record).build_id


def test_keep_zero_by_default_leaves_no_versions(tmp_path: Path) -> None:
    cube = Cube(tmp_path)
    cube.build(0, [2, 5, 8])
    catalog = cube.build(1, [3, 5, 8])
    assert not cube.area.exists()
    assert sorted(os.listdir(tmp_path / "out")) == ["cube.mdio"]  # nothing beside the dataset
    assert "versions" not in cube.lock()  # the lock entry is as before versions existed
    assert [v.current for v in catalog.versions("cube")] == [True]
    with pytest.raises(VersionNotFoundError, match="keeps no earlier version"):
        catalog.rollback("cube")


def test_keep_is_not_part_of_the_spec_hash(tmp_path: Path) -> None:
    cube = Cube(tmp_path)
    cube.build(0, [2, 5, 8])
    first = cube.lock()["current"]["spec_hash"]
    catalog = cube.build(0, [2, 5, 8], keep=3)
    assert cube.lock()["current"]["spec_hash"] == first
    catalog = Catalog.from_file(tmp_path / "catalog.yaml")
    assert catalog.get("cube").keep == 3
    assert [s.state for s in catalog.status()] == ["fresh"]


def test_defaults_keep_applies_and_the_entry_overrides_it(tmp_path: Path) -> None:
    cube = Cube(tmp_path, defaults={"keep": 2})
    catalog = cube.build(0, [2, 5, 8])
    assert catalog.get("cube").keep == 2
    catalog = cube.build(1, [3, 5, 8], keep=0)
    assert catalog.get("cube").keep == 0
    assert not cube.area.exists() or not os.listdir(cube.area)


def test_rollback_restores_the_earlier_version_byte_for_byte(tmp_path: Path) -> None:
    cube = Cube(tmp_path)
    cube.build(0, [2, 5, 8], keep=2)
    first = files(cube.target)
    first_id = cube.lock()["current"]
    catalog = cube.build(1, [3, 5, 8], keep=2)
    second_id = catalog.lock_entry("cube").build_id  # type: ignore[union-attr]
    (kept,) = cube.lock()["versions"]
    assert kept["build_id"] == catalog.versions("cube")[1].build_id
    assert Path(kept["path"]).parent == cube.area
    assert files(Path(kept["path"])) == first  # moved, not rewritten
    np.testing.assert_array_equal(catalog.open("cube")[...], values(1))

    report = catalog.rollback("cube")
    assert report.to_build == kept["build_id"]
    assert report.from_build == second_id
    assert files(cube.target) == first  # byte-identical, checksum record included
    verdict = verify_dataset(str(cube.target))
    assert verdict.recorded
    assert verdict.ok
    assert sum(a.checked for a in verdict.arrays) > 0
    np.testing.assert_array_equal(catalog.open("cube")[...], values(0))

    lock = cube.lock()
    assert lock["current"] == first_id | {"started": lock["current"]["started"]}
    assert lock["current"]["started"] == first_id["started"]
    assert lock["rolled_back_from"] == second_id
    assert lock["rolled_back_at"]
    assert [v["build_id"] for v in lock["versions"]] == [second_id]  # the displaced build is kept
    assert verify_dataset(lock["versions"][0]["path"]).ok

    (status,) = catalog.status(["cube"])
    assert status.state == "stale"
    assert "spec changed since the build" in status.reasons  # the spec asks for [3, 5, 8] chunks

    catalog = Catalog.from_file(cube.folder / "catalog.yaml")
    catalog.build()  # stale, so rebuilt: the rolled-back build counts as the catalog's own and is kept in turn
    assert {v["build_id"] for v in cube.lock()["versions"]} == {first_id_build(first_id), second_id}
    assert cube.lock().get("rolled_back_from") is None
    third_id = catalog.lock_entry("cube").build_id  # type: ignore[union-attr]
    catalog.rollback("cube", to=second_id)  # and forward again
    assert third_id in [v.build_id for v in catalog.versions("cube")]
    np.testing.assert_array_equal(catalog.open("cube")[...], values(1))
    assert [s.state for s in catalog.status(["cube"])] == ["fresh"]


def test_retention_removes_the_oldest_only(tmp_path: Path) -> None:
    cube = Cube(tmp_path)
    ids = []
    for seed, chunks in enumerate(([1, 5, 8], [2, 5, 8], [3, 5, 8], [6, 5, 8])):
        catalog = cube.build(seed, chunks, keep=2)
        ids.append(catalog.lock_entry("cube").build_id)  # type: ignore[union-attr]
    listed = [v.build_id for v in catalog.versions("cube")]
    assert listed == [ids[3], ids[2], ids[1]]  # current, then the two newest earlier builds
    assert sorted(os.listdir(cube.area)) == sorted([ids[1], ids[2]])
    assert [v["build_id"] for v in cube.lock()["versions"]] == [ids[2], ids[1]]
    np.testing.assert_array_equal(catalog.open("cube", version=ids[1])[...], values(1))


def test_a_version_being_read_is_not_pruned(tmp_path: Path) -> None:
    cube = Cube(tmp_path)
    catalog = cube.build(0, [2, 5, 8], keep=1)
    oldest = catalog.lock_entry("cube").build_id  # type: ignore[union-attr]
    reader = catalog.open("cube")  # pins the folder of the current build
    np.testing.assert_array_equal(reader[0], values(0)[0])
    cube.build(1, [3, 5, 8], keep=1)
    catalog = cube.build(2, [6, 5, 8], keep=1)  # the oldest is beyond keep: 1, but a reader has it open
    listed = [v.build_id for v in catalog.versions("cube")]
    assert oldest in listed
    assert len(listed) == 3
    np.testing.assert_array_equal(reader[...], values(0))  # still whole
    del reader
    gc.collect()
    pruned = catalog.prune_versions(["cube"])["cube"].pruned
    assert pruned == [oldest]
    assert oldest not in [v.build_id for v in catalog.versions("cube")]
    assert len(os.listdir(cube.area)) == 1


def test_open_a_version_read_only(tmp_path: Path) -> None:
    cube = Cube(tmp_path)
    catalog = cube.build(0, [2, 5, 8], keep=1)
    first = catalog.lock_entry("cube").build_id  # type: ignore[union-attr]
    catalog = cube.build(1, [3, 5, 8], keep=1)
    old = catalog.open("cube", version=first)
    np.testing.assert_array_equal(old[...], values(0))
    assert old.chunks == (2, 5, 8)
    np.testing.assert_array_equal(catalog.open("cube")[...], values(1))
    with pytest.raises(InvalidModeError, match="read-only"):
        catalog.open("cube", mode="r+", version=first)
    with pytest.raises(VersionNotFoundError, match="did you mean"):
        catalog.open("cube", version=first[:-1] + ("0" if first[-1] != "0" else "1"))
    with pytest.raises(FileNotFoundError):  # the error tree: also the builtin
        catalog.open("cube", version="20000101T000000Z-00000000")


def test_kept_versions_are_not_leftovers(tmp_path: Path) -> None:
    cube = Cube(tmp_path)
    cube.build(0, [2, 5, 8], keep=2)
    cube.build(1, [3, 5, 8], keep=2)
    cube.build(2, [6, 5, 8], keep=2)
    assert len(os.listdir(cube.area)) == 2
    assert find_leftovers(Location(url=str(tmp_path / "out")), min_age=0) == []


def test_a_link_where_versions_go_is_refused_before_any_work(tmp_path: Path) -> None:
    cube = Cube(tmp_path)
    cube.build(0, [2, 5, 8], keep=1)
    before = files(cube.target)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    cube.area.symlink_to(elsewhere)
    with pytest.raises(ForeignContentError, match="symbolic link"):
        cube.build(1, [3, 5, 8], keep=1)
    assert files(cube.target) == before
    assert os.listdir(elsewhere) == []


def test_object_stores_refuse_keep_and_rollback(tmp_path: Path) -> None:
    from mdio_catalog.catalog.versions import Retention

    data = {
        "version": 1, "name": "remote", "root": "s3://bucket/prefix",
        "datasets": {"cube": {"source": {"numpy": "cube.npy"}, "chunks": [2, 5, 8], "keep": 1}},
    }  # fmt: skip
    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    catalog = Catalog.from_file(tmp_path / "catalog.yaml")
    with pytest.raises(VersionsUnsupportedError, match="local root"):
        Retention(catalog, "cube").check()
    with pytest.raises(VersionsUnsupportedError, match="local root"):
        catalog.rollback("cube")


def test_a_kept_version_the_lock_lost_is_found_by_its_provenance(tmp_path: Path) -> None:
    cube = Cube(tmp_path)
    cube.build(0, [2, 5, 8], keep=2)
    catalog = cube.build(1, [3, 5, 8], keep=2)
    kept = catalog.versions("cube")[1]
    lock = cube.lock()
    lock.pop("versions")  # as after a build killed between keeping the version and writing its lock entry
    (tmp_path / "catalog.lock.d" / "cube.json").write_text(json.dumps(lock), encoding="utf-8")
    assert [v.build_id for v in catalog.versions("cube")][1:] == [kept.build_id]
    renamed = cube.area / "renamed-by-someone"
    os.rename(kept.path, renamed)  # a folder is known by the build it holds, not by its name
    assert [(v.build_id, v.path) for v in catalog.versions("cube")][1:] == [(kept.build_id, str(renamed))]
    catalog.rollback("cube")
    np.testing.assert_array_equal(catalog.open("cube")[...], values(0))


def test_a_rollback_killed_before_its_lock_entry_is_recovered(tmp_path: Path) -> None:
    from mdio_catalog.core.publish.versions import swap_in

    cube = Cube(tmp_path)
    catalog = cube.build(0, [2, 5, 8], keep=2)
    first = catalog.lock_entry("cube").build_id  # type: ignore[union-attr]
    catalog = cube.build(1, [3, 5, 8], keep=2)
    second = catalog.lock_entry("cube").build_id  # type: ignore[union-attr]
    swap_in(str(cube.area / first), str(cube.target))  # the swap of a rollback killed before anything else
    listed = [(v.build_id, v.current) for v in catalog.versions("cube")]
    assert listed == [(first, True), (second, False)]  # the folders say which build is where
    (status,) = catalog.status(["cube"])
    assert "output was replaced by another build" in status.reasons  # the lock is one build behind: said
    catalog.rollback("cube", to=second)
    assert [(v.build_id, v.current) for v in catalog.versions("cube")] == [(second, True), (first, False)]
    assert sorted(os.listdir(cube.area)) == [first]
    np.testing.assert_array_equal(catalog.open("cube")[...], values(1))
    assert [s.state for s in catalog.status(["cube"])] == ["fresh"]


def killed_publish_state(cube: Cube) -> tuple[Catalog, str, str]:
    """The state a publish killed between its folder exchange and keeping the replaced build leaves: the new build
    current on disk, the replaced one under the dead writer's staging name (its owner marker unlocked), and the lock
    still naming the replaced one. Returns the catalog, the replaced build id and the unrecorded new one."""
    catalog = cube.build(0, [2, 5, 8], keep=2)
    replaced = catalog.lock_entry("cube").build_id  # type: ignore[union-attr]
    lock_before = (cube.folder / "catalog.lock.d" / "cube.json").read_text(encoding="utf-8")
    catalog = cube.build(1, [3, 5, 8], keep=2)
    new = catalog.lock_entry("cube").build_id  # type: ignore[union-attr]
    token = "0123456789ab"
    os.rename(cube.area / replaced, cube.target.parent / f".cube.mdio.partial-{token}")
    marker = {"mdio_catalog_owner": 1, "pid": 2**22 + 12345, "host": "gone", "kind": "dataset", "target": "x"}
    (cube.target.parent / f".cube.mdio.owner-{token}").write_text(json.dumps(marker), encoding="utf-8")
    (cube.folder / "catalog.lock.d" / "cube.json").write_text(lock_before, encoding="utf-8")
    return Catalog.from_file(cube.folder / "catalog.yaml"), replaced, new


def test_the_build_a_killed_publish_displaced_is_kept_not_swept(tmp_path: Path) -> None:
    cube = Cube(tmp_path)
    catalog, replaced, new = killed_publish_state(cube)
    (status,) = catalog.status(["cube"])
    assert "output was replaced by another build" in status.reasons
    catalog.build()  # rescues the displaced build before sweeping, then rebuilds (the lock was behind)
    listed = [v.build_id for v in catalog.versions("cube")]
    assert listed[1:] == [new, replaced]
    assert sorted(os.listdir(tmp_path / "out")) == [".cube.mdio.versions", "cube.mdio"]  # marker swept
    catalog.rollback("cube", to=replaced)
    np.testing.assert_array_equal(catalog.open("cube")[...], values(0))


def test_gc_keeps_the_build_a_killed_publish_displaced(tmp_path: Path) -> None:
    cube = Cube(tmp_path)
    catalog, replaced, _ = killed_publish_state(cube)
    pruned = catalog.prune_versions()  # what gc runs before removing leftovers
    assert pruned["cube"].pruned == []
    assert (cube.area / replaced).is_dir()
    assert replaced in os.listdir(cube.area)
