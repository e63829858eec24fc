"""An interrupted build leaves the previous version readable and unchanged, the lock unchanged, and nothing
half-written beside the datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

import mdio_catalog.catalog.build as build_module
from mdio_catalog import MDIOReader
from mdio_catalog.catalog import Catalog
from tests.catalog import leftovers, lock_files, post_stack_segy, read_lock, snapshot, stack_entry, write_catalog
from tests.converters.segy_factory import SyntheticSegy, expected_grid, read_with_segyio

STEPS = ["provenance_record", "rechunk_batch"]


def interrupt(*args: Any, **kwargs: Any) -> None:
    raise KeyboardInterrupt


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    post_stack_segy(tmp_path / "data" / "stack.sgy")
    write_catalog(tmp_path, {"stack": stack_entry(access_patterns={"fast_z": [6, 7, 2]})})
    return tmp_path


def check_stack(dataset: Path, src_path: Path, chunks: tuple[int, ...]) -> None:
    """The dataset holds the source's traces in their cells (segyio oracle), with the given chunks."""
    view = read_with_segyio(src_path, [189, 193])
    coords, cells = expected_grid([view.words[189], view.words[193]])
    for pattern in ("012", "fast_z"):
        reader = MDIOReader(str(dataset), access_pattern=pattern)
        data = reader[...]
        np.testing.assert_array_equal(data[tuple(cells.T)], view.traces)
        assert reader.shape == (*(c.size for c in coords), view.traces.shape[1])
    assert MDIOReader(str(dataset), access_pattern="012").chunks == chunks


@pytest.mark.parametrize("step", STEPS)
def test_interrupted_rebuild_keeps_the_previous_version(
    folder: Path, step: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    Catalog.from_file(folder / "catalog.yaml").build()
    dataset = folder / "out" / "stack.mdio"
    before = snapshot(dataset)
    lock = lock_files(folder)
    assert list(lock) == ["catalog.lock.d/stack.json"]

    # change the spec, then interrupt the rebuild
    data = yaml.safe_load((folder / "catalog.yaml").read_text())
    data["datasets"]["stack"]["chunks"] = [2, 2, 4]
    (folder / "catalog.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    catalog = Catalog.from_file(folder / "catalog.yaml")
    assert catalog.status()[0].state == "stale"
    monkeypatch.setattr(build_module, step, interrupt)
    with pytest.raises(KeyboardInterrupt):
        catalog.build()

    assert snapshot(dataset) == before
    assert lock_files(folder) == lock
    assert leftovers(folder / "out") == []
    assert sorted(p.name for p in (folder / "out").iterdir()) == ["stack.mdio"]
    check_stack(dataset, folder / "data" / "stack.sgy", (4, 4, 8))
    # still stale for the same reason, and a later build succeeds
    status = catalog.status()[0]
    assert status.state == "stale"
    assert any("spec changed" in r for r in status.reasons)
    monkeypatch.undo()
    assert [r.dataset for r in catalog.build().built] == ["stack"]
    check_stack(dataset, folder / "data" / "stack.sgy", (2, 2, 4))
    assert catalog.status()[0].state == "fresh"


@pytest.mark.parametrize("step", STEPS)
def test_interrupted_first_build_leaves_nothing(folder: Path, step: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build_module, step, interrupt)
    catalog = Catalog.from_file(folder / "catalog.yaml")
    with pytest.raises(KeyboardInterrupt):
        catalog.build()
    assert lock_files(folder) == {}
    assert not (folder / "out" / "stack.mdio").exists()
    assert leftovers(folder / "out") == []
    assert catalog.status()[0].state == "never built"


def test_interruption_in_the_second_dataset_keeps_the_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src: SyntheticSegy = post_stack_segy(tmp_path / "data" / "stack.sgy")
    write_catalog(tmp_path, {"first": stack_entry(), "second": stack_entry()})
    real = build_module.provenance_record
    calls: list[str] = []

    def second_fails(resolved: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(resolved.name)
        if resolved.name == "second":
            raise KeyboardInterrupt
        return real(resolved, *args, **kwargs)

    monkeypatch.setattr(build_module, "provenance_record", second_fails)
    catalog = Catalog.from_file(tmp_path / "catalog.yaml")
    with pytest.raises(KeyboardInterrupt):
        catalog.build()
    assert calls == ["first", "second"]
    assert list(read_lock(tmp_path)["entries"]) == ["first"]
    assert {s.name: s.state for s in catalog.status()} == {"first": "fresh", "second": "never built"}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["first.mdio"]
    check_reader = MDIOReader(str(tmp_path / "out" / "first.mdio"), access_pattern="012")
    assert check_reader.trace_count == src.n_traces
