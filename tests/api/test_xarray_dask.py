"""The dask arrays of the xarray view: basic selections read their region directly (one planned read per block of
whole chunks), everything else is dask's own slicing. Oracle: numpy on the array that was written."""

from __future__ import annotations

import pickle
from pathlib import Path

import dask
import numpy as np
import pytest

from mdio_catalog import MDIOReader, numpy_to_mdio, open_dataset
from mdio_catalog.api.xarray_dask import SourceArray, basic_key, region_chunks

SHAPE, CHUNKS = (20, 18, 40), (4, 6, 16)


@pytest.fixture(scope="module")
def cube(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    rng = np.random.default_rng(3)
    array = rng.normal(size=SHAPE).astype(np.float32)
    path = tmp_path_factory.mktemp("xd") / "cube.mdio"
    numpy_to_mdio(array, str(path), CHUNKS, index_names=["inline", "crossline", "time"])
    return path, array


def test_basic_key_normalises_ints_slices_and_ellipsis() -> None:
    shape = (5, 6, 7)
    assert basic_key(2, shape) == (2, slice(0, 6), slice(0, 7))
    assert basic_key((Ellipsis, -1), shape) == (slice(0, 5), slice(0, 6), 6)
    assert basic_key((slice(1, None), np.int64(3)), shape) == (slice(1, 5), 3, slice(0, 7))
    for other in ([1, 2], (slice(0, 5, 2),), (None,), (True,), (5,), (slice(3, 3),), (Ellipsis, Ellipsis)):
        assert basic_key(other, shape) is None, other


def test_region_chunks_group_whole_chunks_up_to_the_limit() -> None:
    key = (slice(10, 130), slice(0, 400), slice(3, 900))
    assert region_chunks(key, (64, 64, 64), 4, limit=2**40) == ((120,), (400,), (897,))
    # one stored chunk along inline per block when a block of two would pass the limit; aligned to chunk edges
    assert region_chunks(key, (64, 64, 64), 4, limit=64 * 400 * 897 * 4) == ((54, 64, 2), (400,), (897,))
    longer = (slice(10, 330), slice(0, 400), slice(3, 900))
    assert region_chunks(longer, (64, 64, 64), 4, limit=128 * 400 * 897 * 4) == ((118, 128, 74), (400,), (897,))
    # a single chunk's slab too large: the next dimension is split as well
    assert region_chunks((2, slice(0, 400), slice(0, 1000)), (64, 64, 64), 4, limit=64 * 1000 * 4) == (
        (64,) * 6 + (16,),
        (1000,),
    )


def test_selections_equal_numpy_and_thin_ones_are_one_task(cube: tuple[Path, np.ndarray]) -> None:
    path, array = cube
    amplitude = open_dataset(path).amplitude
    assert isinstance(amplitude.data, SourceArray)
    assert amplitude.chunks == ((4,) * 5, (6,) * 3, (16, 16, 8))  # one block per stored chunk
    cases = {
        "inline": (amplitude.isel(inline=9), array[9]),
        "crossline": (amplitude.isel(crossline=7), array[:, 7]),
        "time": (amplitude.isel(time=25), array[..., 25]),
        "trace": (amplitude.isel(inline=1, crossline=17), array[1, 17]),
        "box": (amplitude.isel(inline=slice(3, 11), time=slice(5, 39)), array[3:11, :, 5:39]),
        "label": (amplitude.sel(inline=amplitude.inline.values[4]), array[4]),
    }
    for name, (selected, expected) in cases.items():
        assert len(dict(selected.data.__dask_graph__())) == 1, name
        np.testing.assert_array_equal(selected.values, expected, err_msg=name)
    # other selections are dask's own: lists, steps, the whole array
    np.testing.assert_array_equal(amplitude.isel(inline=[1, 5, 9]).values, array[[1, 5, 9]])
    np.testing.assert_array_equal(amplitude.isel(time=slice(0, 40, 7)).values, array[..., ::7])
    assert amplitude[:].chunks == amplitude.chunks
    np.testing.assert_allclose(float(amplitude.isel(inline=slice(2, 17)).mean()), array[2:17].mean(), rtol=1e-5)
    # the mask and the headers select the same way
    ds = open_dataset(path)
    assert ds.isel(inline=3).trace_mask.values.all()
    reader = MDIOReader(path)
    np.testing.assert_array_equal(ds.headers.isel(crossline=2).values, reader.header_array[:, 2])


def test_selections_survive_pickling_and_the_sync_scheduler(cube: tuple[Path, np.ndarray]) -> None:
    path, array = cube
    selected = open_dataset(path).amplitude.isel(crossline=4).data
    again = pickle.loads(pickle.dumps(selected))  # the region reopens its dataset (a cluster's worker does)
    np.testing.assert_array_equal(again.compute(scheduler="sync"), array[:, 4])
    with dask.config.set(scheduler="sync"):
        np.testing.assert_array_equal(selected.compute(), array[:, 4])


def test_values_of_a_one_block_selection_are_read_without_the_scheduler(cube: tuple[Path, np.ndarray]) -> None:
    """``.values`` of a thin selection is one region read in the calling thread; a computation still uses dask."""
    path, array = cube
    ds = open_dataset(str(path), headers="none", cdp_coords=False)
    traces = ds[next(n for n in ds.data_vars if ds[n].ndim == 3)]

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the dask scheduler was used")

    with dask.config.set(scheduler=refuse):
        np.testing.assert_array_equal(traces.isel(time=7).values, array[:, :, 7])
        np.testing.assert_array_equal(np.asarray(traces.isel(inline=3).data), array[3])
        with pytest.raises(AssertionError, match="scheduler was used"):
            _ = traces.isel(inline=3).sum().values  # an operation on it is an ordinary dask graph
