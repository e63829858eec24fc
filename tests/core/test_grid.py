"""Grid: lookup by name, min/max, shapes, duplicate names, attribute round trips."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mdio_catalog.core.dimension import Dimension
from mdio_catalog.core.grid import Grid
from mdio_catalog.exceptions import DimensionNotFoundError, MDIOError, ShapeError

INLINES = np.array([101, 103, 105, 107, 109])
CROSSLINES = np.array([20, 21, 22, 25])
SAMPLES = np.arange(0, 60, 4)


@pytest.fixture
def grid() -> Grid:
    return Grid([Dimension(INLINES, "inline"), Dimension(CROSSLINES, "crossline"), Dimension(SAMPLES, "sample")])


def test_shapes(grid):
    assert grid.dim_names == ("inline", "crossline", "sample")
    assert grid.shape == (INLINES.size, CROSSLINES.size, SAMPLES.size)
    assert grid.ndim == len(grid) == 3
    assert grid.spatial_shape == (INLINES.size, CROSSLINES.size)
    assert grid.num_cells == INLINES.size * CROSSLINES.size
    assert [d.name for d in grid] == ["inline", "crossline", "sample"]


def test_select_dim(grid):
    xl = grid.select_dim("crossline")
    assert xl.name == "crossline"
    np.testing.assert_array_equal(xl.values, CROSSLINES)
    assert grid.index_of("sample") == 2


@pytest.mark.parametrize(("name", "coords"), [("inline", INLINES), ("crossline", CROSSLINES), ("sample", SAMPLES)])
def test_min_max_match_numpy(grid, name, coords):
    assert grid.get_min(name) == np.min(coords)
    assert grid.get_max(name) == np.max(coords)


def test_unknown_dimension_suggests_near_miss(grid):
    with pytest.raises(DimensionNotFoundError) as info:
        grid.select_dim("inlin")
    err = info.value
    assert isinstance(err, KeyError)
    assert isinstance(err, MDIOError)
    message = str(err)
    assert "did you mean 'inline'" in message
    assert "'inlin'" in message
    assert not message.startswith('"')  # not KeyError's quoted repr


@pytest.mark.parametrize("method", ["get_min", "get_max", "index_of"])
def test_unknown_dimension_without_near_miss(grid, method):
    with pytest.raises(DimensionNotFoundError) as info:
        getattr(grid, method)("azimuth")
    assert "did you mean" not in str(info.value)
    assert "crossline" in str(info.value)  # lists what exists


def test_duplicate_dimension_names_rejected():
    with pytest.raises(ShapeError, match="unique"):
        Grid([Dimension([1, 2], "inline"), Dimension([3, 4], "inline"), Dimension([0, 1], "sample")])


def test_to_attrs_is_json_of_the_coordinates(grid):
    attrs = grid.to_attrs()
    expected = [
        {"name": "inline", "coords": INLINES.tolist()},
        {"name": "crossline", "coords": CROSSLINES.tolist()},
        {"name": "sample", "coords": SAMPLES.tolist()},
    ]
    assert json.loads(json.dumps(attrs)) == expected


def test_from_attrs_round_trip_through_json(grid):
    attrs = json.loads(json.dumps(grid.to_attrs()))
    rebuilt = Grid.from_attrs(attrs)
    assert rebuilt == grid
    assert rebuilt.shape == grid.shape
    for dim, coords in zip(rebuilt, (INLINES, CROSSLINES, SAMPLES), strict=True):
        np.testing.assert_array_equal(dim.values, coords)


def test_from_attrs_rejects_bad_entry():
    with pytest.raises(KeyError):
        Grid.from_attrs([{"name": "inline", "coords": [1], "junk": 0}])


def test_equality_and_hash(grid):
    same = Grid.from_coords(["inline", "crossline", "sample"], [INLINES, CROSSLINES, SAMPLES])
    assert same == grid
    assert hash(same) == hash(grid)
    other = Grid.from_coords(["inline", "crossline", "sample"], [INLINES, CROSSLINES, SAMPLES[:-1]])
    assert other != grid
    assert grid != "grid"


def test_from_coords_length_mismatch():
    with pytest.raises(ValueError, match="shorter"):
        Grid.from_coords(["inline", "sample"], [INLINES])
