"""Publishing under concurrency: readers during rebuilds see the old or the new version (never an error, never
"not found"), two builds of one dataset are serialised or refused with DatasetBusyError, and the atomic swap."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from mdio_catalog import MDIOReader
from mdio_catalog.catalog import Catalog
from mdio_catalog.core.publish import exchange, staged_write, target_lock
from mdio_catalog.core.store import Location
from mdio_catalog.exceptions import DatasetBusyError, DatasetReplacedError
from tests.catalog import post_stack_segy, stack_entry, write_catalog
from tests.reliability import finish, go, leftover_paths, spawn

SHAPE = {"inlines": range(10, 22), "crosslines": range(20, 32), "n_samples": 24}


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    post_stack_segy(tmp_path / "data" / "a.sgy", seed=0, **SHAPE)  # type: ignore[arg-type]
    post_stack_segy(tmp_path / "data" / "b.sgy", seed=1, **SHAPE)  # type: ignore[arg-type]
    shutil.copyfile(tmp_path / "data" / "a.sgy", tmp_path / "data" / "stack.sgy")
    write_catalog(tmp_path, {"stack": stack_entry("data/stack.sgy", chunks=[4, 4, 8])})
    return tmp_path


def _started(dataset: Path) -> str:
    return str(json.loads((dataset / ".zattrs").read_text())["mdio_catalog"]["provenance"]["started"])


class ReaderLoop(threading.Thread):
    """Opens the dataset and reads it whole, again and again, until stopped; sorts what it saw."""

    def __init__(self, dataset: Path, versions: list[np.ndarray]) -> None:
        super().__init__(daemon=True)
        self.dataset, self.versions = dataset, versions
        self.stop = threading.Event()
        self.reads = self.straddles = self.mixes = 0
        self.errors: list[str] = []

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                reader = MDIOReader(str(self.dataset), access_pattern="012")
                before = reader.root.attrs["mdio_catalog"]["provenance"]["started"]  # type: ignore[index,call-overload]
                data = reader[...]
                if _started(self.dataset) != before:
                    self.straddles += 1  # a publish happened during this read: the reader must re-open
                    continue
                self.reads += 1
                if not any(np.array_equal(data, v) for v in self.versions):
                    self.mixes += 1
            except DatasetReplacedError:
                # The version this reader opened was deleted under it (its pin saw the folder go): the documented
                # answer is "open it again", never a mix or a dataset that is not there. Counted, not an error.
                self.straddles += 1
            except Exception as exc:  # every other failure counts: none may happen
                self.errors.append(f"{type(exc).__name__}: {exc}")


def test_exchange_swaps_two_folders(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one").write_text("1")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "two").write_text("2")
    assert exchange(str(tmp_path / "a"), str(tmp_path / "b"))  # Linux with a renameat2 libc: the CI machines
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["two"]
    assert [p.name for p in (tmp_path / "b").iterdir()] == ["one"]


def test_readers_during_rebuilds_see_old_or_new(catalog: Path) -> None:
    dataset = catalog / "out" / "stack.mdio"
    cat = Catalog.from_file(catalog / "catalog.yaml")
    cat.build()
    version_a = MDIOReader(str(dataset), access_pattern="012")[...]
    shutil.copyfile(catalog / "data" / "b.sgy", catalog / "data" / "stack.sgy")
    cat.build()
    version_b = MDIOReader(str(dataset), access_pattern="012")[...]
    assert not np.array_equal(version_a, version_b)

    rebuilds = 12
    loop = ReaderLoop(dataset, [version_a, version_b])
    loop.start()
    actor = spawn(
        "rebuild-loop",
        catalog=str(catalog / "catalog.yaml"),
        source=str(catalog / "data" / "stack.sgy"),
        variants=[str(catalog / "data" / "a.sgy"), str(catalog / "data" / "b.sgy")],
        count=rebuilds,
    )
    code, out, err = finish(actor)
    loop.stop.set()
    loop.join()
    print(f"\npublish gap: {rebuilds} rebuilds, {loop.reads} whole reads, {loop.straddles} straddled a publish, "
          f"{loop.mixes} mixes, {len(loop.errors)} errors")  # fmt: skip
    assert code == 0, err
    assert out.count("built") == rebuilds
    assert loop.errors == []
    assert loop.mixes == 0
    assert loop.reads > rebuilds
    assert leftover_paths(catalog / "out") == []


def test_two_builds_at_once_are_refused_or_serialised_and_readers_see_no_error(catalog: Path) -> None:
    dataset = catalog / "out" / "stack.mdio"
    Catalog.from_file(catalog / "catalog.yaml").build()
    version = MDIOReader(str(dataset), access_pattern="012")[...]
    loop = ReaderLoop(dataset, [version])
    loop.start()
    outcomes: list[str] = []
    for _ in range(4):
        first = spawn("build", catalog=str(catalog / "catalog.yaml"), force=True, go=True)
        second = spawn("build", catalog=str(catalog / "catalog.yaml"), force=True, go=True)
        go(first, second)
        for code, _, err in (finish(first), finish(second)):
            if code == 0:
                outcomes.append("built")
            else:
                assert "DatasetBusyError" in err, err
                assert "is being written by another process" in err
                outcomes.append("refused")
        assert "built" in outcomes[-2:]
    loop.stop.set()
    loop.join()
    print(f"\nconcurrent builds: {outcomes}; reader: {loop.reads} reads, {len(loop.errors)} errors, "
          f"{loop.mixes} mixes")  # fmt: skip
    assert loop.errors == []
    assert loop.mixes == 0
    assert Catalog.from_file(catalog / "catalog.yaml").status()[0].state == "fresh"
    assert leftover_paths(catalog / "out") == []


def test_the_lock_refuses_a_second_writer_and_names_the_first(tmp_path: Path) -> None:
    target = Location.of(tmp_path / "x.mdio")
    with target_lock(target):
        busy = r"x\.mdio is being written by another process \(pid \d+"
        with pytest.raises(DatasetBusyError, match=busy), target_lock(target):
            pass
        with pytest.raises(DatasetBusyError), staged_write(target, overwrite=True):
            pass
    with target_lock(target):  # released: free again, and the lock file is gone afterwards
        pass
    assert list(tmp_path.iterdir()) == []


def test_a_waiting_writer_is_serialised(tmp_path: Path) -> None:
    target = Location.of(tmp_path / "x.mdio")
    order: list[str] = []

    def second() -> None:
        with target_lock(target, wait=10):
            order.append("second")

    with target_lock(target):
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.3)
        order.append("first")
    thread.join()
    assert order == ["first", "second"]
