"""An open reader across a rebuild: it reads the version it opened, or gets DatasetReplacedError once that
version is deleted -- never the new version's chunks under the old metadata (a mix), never silent fill values.

Oracles: the arrays each version was written from (numpy), and the folder exchange the publish itself uses.
"""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from mdio_catalog import MDIOReader
from mdio_catalog.converters.numpy import numpy_to_mdio
from mdio_catalog.core.publish import exchange
from mdio_catalog.exceptions import DatasetReplacedError

OLD = np.arange(12 * 10 * 16, dtype=np.float32).reshape(12, 10, 16)
NEW = -np.arange(16 * 10 * 16, dtype=np.float32).reshape(16, 10, 16)  # another shape, another chunking


def write(path: Path, values: np.ndarray, chunks: tuple[int, int, int], overwrite: bool = False) -> None:
    numpy_to_mdio(values, str(path), chunks, overwrite=overwrite)


def test_a_reader_keeps_reading_the_version_it_opened_while_it_exists(tmp_path: Path) -> None:
    target = tmp_path / "stack.mdio"
    write(target, OLD, (4, 4, 8))
    write(tmp_path / "next.mdio", NEW, (8, 5, 16))
    reader = MDIOReader(str(target))
    np.testing.assert_array_equal(reader[0], OLD[0])
    # What a publish does: the new version takes the name, the old one is moved aside (deleted later).
    assert exchange(str(tmp_path / "next.mdio"), str(target))
    np.testing.assert_array_equal(reader[...], OLD)  # every chunk from the version it opened
    np.testing.assert_array_equal(reader[:, 3], OLD[:, 3])
    np.testing.assert_array_equal(MDIOReader(str(target))[...], NEW)  # a new reader sees the new version


def test_once_its_version_is_deleted_the_reader_says_so(tmp_path: Path) -> None:
    target = tmp_path / "stack.mdio"
    write(target, OLD, (4, 4, 8))
    reader = MDIOReader(str(target))
    np.testing.assert_array_equal(reader[1], OLD[1])
    write(target, NEW, (8, 5, 16), overwrite=True)  # a real rebuild: publish, then the old version is deleted
    with pytest.raises(DatasetReplacedError, match="open it again"):
        reader[...]
    np.testing.assert_array_equal(MDIOReader(str(target))[...], NEW)


def test_a_deleted_dataset_is_not_read_as_fill_values(tmp_path: Path) -> None:
    import shutil

    target = tmp_path / "stack.mdio"
    write(target, OLD, (4, 4, 8))
    reader = MDIOReader(str(target))
    shutil.rmtree(target)
    with pytest.raises(DatasetReplacedError):
        reader[2]


def test_a_sparse_dataset_still_reads_fill_values_for_chunks_never_written(tmp_path: Path) -> None:
    target = tmp_path / "stack.mdio"
    write(target, OLD, (4, 4, 8))
    chunk = target / "data" / "chunked_012" / "0" / "0" / "0"
    chunk.unlink()  # a chunk that was never written (all fill): no rebuild happened, so no error
    values = MDIOReader(str(target))[...]
    assert (values[:4, :4, :8] == 0).all()
    np.testing.assert_array_equal(values[4:], OLD[4:])


def test_readers_held_open_across_rebuilds_never_see_a_mix(tmp_path: Path) -> None:
    """Readers opened at random moments during a series of rebuilds, each reading several times: every read is
    exactly one version (the one its reader opened), or DatasetReplacedError; nothing else."""
    target = tmp_path / "stack.mdio"
    versions = [OLD, NEW, OLD + 1, NEW - 1]
    chunkings = [(4, 4, 8), (8, 5, 16), (3, 10, 4), (16, 2, 16)]
    write(target, versions[0], chunkings[0])
    stop = threading.Event()
    outcomes = {"version": 0, "replaced": 0}
    problems: list[str] = []

    def read_loop() -> None:
        while not stop.is_set():
            try:
                reader = MDIOReader(str(target))
                first = reader[...]
                matches = [i for i, v in enumerate(versions) if v.shape == first.shape and np.array_equal(first, v)]
                if not matches:
                    problems.append("a first read matched no version")
                    continue
                for _ in range(3):
                    time.sleep(random.uniform(0, 0.05))  # hold the reader open while rebuilds go on
                    again = reader[...]
                    if not np.array_equal(again, first):
                        problems.append("a reader's later read differs from its first (mix)")
                    outcomes["version"] += 1
            except DatasetReplacedError:
                outcomes["replaced"] += 1
            except Exception as exc:  # any other error is a failure of the publish/pin design
                problems.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=read_loop, daemon=True) for _ in range(2)]
    for thread in threads:
        thread.start()
    for round_ in range(1, 13):
        write(target, versions[round_ % 4], chunkings[round_ % 4], overwrite=True)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    assert all(not thread.is_alive() for thread in threads)
    assert problems == []
    print("pinned readers:", outcomes)
    assert outcomes["version"] > 0
