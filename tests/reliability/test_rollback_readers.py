"""Readers during rollbacks see the old version or the new one, whole, never nothing and never a mix; a version a
reader has open survives the prune that would otherwise remove it.

Oracles: the two arrays the builds were written from (numpy); every read must equal one of them exactly.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import yaml

from mdio_catalog import MDIOReader
from mdio_catalog.catalog import Catalog
from mdio_catalog.exceptions import DatasetReplacedError

SHAPE = (8, 6, 16)
ARRAYS = [np.full(SHAPE, float(i + 1), dtype=np.float32) + np.arange(16, dtype=np.float32) for i in range(2)]


def build(folder: Path, index: int, chunks: list[int]) -> Catalog:
    np.save(folder / "cube.npy", ARRAYS[index])
    data = {
        "version": 1, "name": "rollback-readers", "root": "./out",
        "datasets": {"cube": {"source": {"numpy": "cube.npy"}, "chunks": chunks, "keep": 1}},
    }  # fmt: skip
    (folder / "catalog.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    catalog = Catalog.from_file(folder / "catalog.yaml")
    catalog.build(force=True)
    return catalog


def test_readers_during_rollbacks_see_old_or_new_never_nothing(tmp_path: Path) -> None:
    build(tmp_path, 0, [4, 3, 16])
    catalog = build(tmp_path, 1, [8, 6, 8])  # another chunking: a mix would not decode as either array
    target = str(tmp_path / "out" / "cube.mdio")
    seen = [0, 0]
    failures: list[BaseException] = []
    stop = threading.Event()

    def read_in_a_loop() -> None:
        while not stop.is_set():
            try:
                values = MDIOReader(target)[...]
            except DatasetReplacedError:
                continue  # the version it opened was swapped away between opening and reading: said, not mixed
            except BaseException as exc:  # "not found", a decoding error, wrong values: all failures
                failures.append(exc)
                return
            matches = [i for i, expected in enumerate(ARRAYS) if np.array_equal(values, expected)]
            if len(matches) != 1:
                failures.append(AssertionError("a read matched neither version"))
                return
            seen[matches[0]] += 1

    readers = [threading.Thread(target=read_in_a_loop) for _ in range(2)]
    for reader in readers:
        reader.start()
    try:
        deadline = time.monotonic() + 60
        rollbacks = 0
        while rollbacks < 40 and time.monotonic() < deadline and not failures:
            catalog.rollback("cube")  # to the other kept build, and back on the next turn
            rollbacks += 1
            time.sleep(0.01)
    finally:
        stop.set()
        for reader in readers:
            reader.join(timeout=60)
    assert not failures, failures[0]
    assert rollbacks == 40
    assert min(seen) > 0, seen
    assert next(v.build_id for v in catalog.versions("cube")) == catalog.lock_entry("cube").build_id  # type: ignore[union-attr]
    np.testing.assert_array_equal(MDIOReader(target)[...], ARRAYS[1])  # an even number of rollbacks


def test_a_reader_of_a_kept_version_keeps_it_from_the_prune(tmp_path: Path) -> None:
    build(tmp_path, 0, [4, 3, 16])
    catalog = build(tmp_path, 1, [8, 6, 8])
    kept = catalog.versions("cube")[1]
    reader = catalog.open("cube", version=kept.build_id)
    catalog = build(tmp_path, 0, [2, 3, 16])  # keep: 1 -> the build the reader has open is beyond keep
    assert kept.build_id in [v.build_id for v in catalog.versions("cube")]
    np.testing.assert_array_equal(reader[...], ARRAYS[0])
    assert Path(kept.path).is_dir()
