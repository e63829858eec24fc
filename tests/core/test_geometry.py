"""Grid building from index columns: coordinates, cells, live mask, duplicate and sparsity checks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from mdio_catalog.core.geometry import (
    GridSparsityWarning,
    build_geometry,
    check_density,
    check_unique_cells,
)
from mdio_catalog.exceptions import GridSparsityError, GridTraceCountError


def test_cells_and_live_mask_from_shuffled_columns() -> None:
    rng = np.random.default_rng(4)
    ils, xls = np.arange(100, 110, 2), np.arange(7, 0, -1)
    il, xl = (a.ravel() for a in np.meshgrid(ils, xls, indexing="ij"))
    keep = rng.random(il.size) > 0.2
    order = rng.permutation(int(keep.sum()))
    columns = {"inline": il[keep][order], "crossline": xl[keep][order]}
    geometry = build_geometry(columns, ("inline", "crossline"), np.arange(11) * 4)
    assert geometry.grid.dim_names == ("inline", "crossline", "sample")
    np.testing.assert_array_equal(geometry.grid.dims[0].coords, np.sort(ils))
    np.testing.assert_array_equal(geometry.grid.dims[1].coords, np.sort(xls))
    # Every trace's cell holds its own inline/crossline values.
    i, j = np.unravel_index(geometry.cells, geometry.spatial_shape)
    np.testing.assert_array_equal(geometry.grid.dims[0].coords[i], columns["inline"])
    np.testing.assert_array_equal(geometry.grid.dims[1].coords[j], columns["crossline"])
    mask = geometry.live_mask()
    assert mask.sum() == keep.sum()
    lookup = geometry.trace_of_cell()
    assert (lookup >= 0).sum() == keep.sum()
    np.testing.assert_array_equal(lookup.ravel()[geometry.cells], np.arange(geometry.cells.size))
    check_unique_cells(geometry, columns, ("inline", "crossline"))


def test_duplicates_are_named() -> None:
    columns = {"shot": np.array([1, 1, 2, 2, 2]), "chan": np.array([1, 2, 1, 1, 1])}
    geometry = build_geometry(columns, ("shot", "chan"), np.arange(3))
    with pytest.raises(GridTraceCountError, match=r"5 traces but only 3 .*\(shot=2, chan=1\) x3.*HasDuplicates"):
        check_unique_cells(geometry, columns, ("shot", "chan"))


def test_density_warns_and_refuses() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_density(100, 100) == 1.0
    with pytest.warns(GridSparsityWarning, match="3.0 cells per trace"):
        check_density(300, 100)
    with pytest.raises(GridSparsityError, match="index bytes are likely wrong"):
        check_density(1001, 100)
    with pytest.raises(GridSparsityError):
        check_density(300, 100, warn_ratio=1.5, error_ratio=2.5)
