"""Catalog.list / get / open: accessors by dataset name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mdio_catalog import MDIOReader, MDIOWriter
from mdio_catalog.catalog import Catalog
from mdio_catalog.exceptions import (
    DatasetNotFoundError,
    InvalidModeError,
    MDIONotFoundError,
    MDIOReadOnlyError,
)
from mdio_catalog.specs.resolve import ResolvedDataset
from tests.catalog import post_stack_segy, stack_entry, write_catalog
from tests.converters.segy_factory import SyntheticSegy, expected_grid


@pytest.fixture
def catalog(tmp_path: Path) -> tuple[Catalog, SyntheticSegy]:
    src = post_stack_segy(tmp_path / "data" / "stack.sgy")
    write_catalog(
        tmp_path,
        {
            "stack": stack_entry(access_patterns={"fast_z": [6, 7, 2]}),
            "grid": {
                "source": {
                    "empty": [
                        {"name": "inline", "start": 1, "count": 3},
                        {"name": "crossline", "start": 1, "count": 4},
                        {"name": "sample", "start": 0, "step": 2, "count": 5},
                    ]
                },
                "chunks": [2, 2, 5],
            },
        },
    )
    return Catalog.from_file(tmp_path / "catalog.yaml"), src


def test_list_and_get(catalog: tuple[Catalog, SyntheticSegy]) -> None:
    cat, _ = catalog
    assert cat.list() == ["stack", "grid"]
    resolved = cat.get("stack")
    assert isinstance(resolved, ResolvedDataset)
    assert resolved.template == "PostStack3DTime"
    assert resolved.dimensions == ("inline", "crossline", "sample")
    assert [(f.name, f.byte) for f in resolved.index] == [("inline", 189), ("crossline", 193)]
    assert resolved.chunks == (4, 4, 8)
    assert resolved.access_patterns == {"fast_z": (6, 7, 2)}
    assert cat.get("grid").kind == "empty"


def test_open_modes(catalog: tuple[Catalog, SyntheticSegy]) -> None:
    cat, src = catalog
    cat.build()
    reader = cat.open("stack")
    assert isinstance(reader, MDIOReader)
    assert not isinstance(reader, MDIOWriter)
    coords, cells = expected_grid([src.column(189), src.column(193)])
    data = reader[...]
    np.testing.assert_array_equal(data[tuple(cells.T)], src.samples)
    with pytest.raises(MDIOReadOnlyError):
        reader[0, 0] = np.zeros(src.n_samples, dtype=np.float32)

    writer = cat.open("stack", "r+")
    assert isinstance(writer, MDIOWriter)
    writer[0, 0] = np.full(src.n_samples, 5.0, dtype=np.float32)
    np.testing.assert_array_equal(cat.open("stack")[0, 0], np.full(src.n_samples, 5.0, dtype=np.float32))

    # accessor options pass through
    fast_z = cat.open("stack", access_pattern="fast_z")
    assert fast_z.chunks == (6, 7, 2)
    with_meta = cat.open("stack", return_metadata=True)
    live, headers, traces = with_meta[...]
    assert traces.shape == (*live.shape, src.n_samples)
    assert headers.shape == live.shape
    assert live.shape == (coords[0].size, coords[1].size)
    assert int(live.sum()) == src.n_traces

    grid = cat.open("grid")
    assert isinstance(grid, MDIOReader)
    assert grid.shape == (3, 4, 5)
    assert grid.chunks == (2, 2, 5)
    assert grid.trace_count == 0

    with pytest.raises(InvalidModeError):
        cat.open("stack", "x")


def test_open_unknown_name_suggests_the_closest(catalog: tuple[Catalog, SyntheticSegy]) -> None:
    cat, _ = catalog
    cat.build()
    with pytest.raises(DatasetNotFoundError) as info:
        cat.open("stak")
    assert "did you mean 'stack'" in str(info.value)
    with pytest.raises(DatasetNotFoundError):
        cat.get("nothing-like-it")
    with pytest.raises(DatasetNotFoundError):
        cat.status(["stak"])
    with pytest.raises(DatasetNotFoundError):
        cat.build(["stak"])


def test_open_before_build_is_not_found(catalog: tuple[Catalog, SyntheticSegy]) -> None:
    cat, _ = catalog
    with pytest.raises(MDIONotFoundError):
        cat.open("stack")
    assert not (Path(cat.output_url("stack"))).exists()
