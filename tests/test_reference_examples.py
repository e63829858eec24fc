"""The ``>>>`` examples of the reference document that concern the format core, run with our import path.

Data is generated so that the documented outputs are the right answers: inlines and crosslines start at 2 and
samples step by 2, which makes ``coord_to_index([10, 7, 15], dimensions='inline')`` equal ``[8, 5, 13]`` as printed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mdio_catalog import MDIOReader
from mdio_catalog.converters import numpy_to_mdio
from mdio_catalog.exceptions import ShapeError


@pytest.fixture(scope="module")
def my_3d_seismic(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, np.ndarray]:
    volume = np.random.default_rng(11).normal(size=(30, 20, 260)).astype("float32")
    coords = {"inline": np.arange(30) + 2, "crossline": np.arange(20) + 2, "sample": np.arange(260) * 2}
    path = str(tmp_path_factory.mktemp("doc") / "my_3d_seismic.mdio")
    numpy_to_mdio(volume, path, (16, 16, 64), index_names=list(coords), index_coords=coords)
    return path, volume


def test_accessor_examples(my_3d_seismic: tuple[str, np.ndarray]) -> None:
    path, volume = my_3d_seismic
    mdio = MDIOReader(path)
    inline = mdio[15]  # get the 15th inline
    crossline = mdio[:, 15]
    samples = mdio[..., 250]
    np.testing.assert_array_equal(inline, volume[15])
    np.testing.assert_array_equal(crossline, volume[:, 15])
    np.testing.assert_array_equal(samples, volume[..., 250])

    mdio = MDIOReader(path, return_metadata=True)
    il_live, il_headers, il_traces = mdio[15]
    assert il_live.shape == (20,)
    assert il_live.all()
    assert il_headers.shape == (20,)
    np.testing.assert_array_equal(il_traces, volume[15])


def test_coord_to_index_examples(my_3d_seismic: tuple[str, np.ndarray]) -> None:
    path, volume = my_3d_seismic
    mdio = MDIOReader(path)
    result = mdio.coord_to_index([10, 7, 15], dimensions="inline")
    np.testing.assert_array_equal(result, np.array([8, 5, 13], dtype=np.uint16))
    assert result.dtype == np.uint16
    ils, xls = [10, 7, 15], [5, 10]
    il_idx, xl_idx = mdio.coord_to_index(ils, xls, dimensions=["inline", "crossline"])
    assert il_idx.tolist() == [8, 5, 13]
    assert xl_idx.tolist() == [3, 8]
    # "With the above indices, we can slice the data" (the indices, not the labels, go into the brackets).
    np.testing.assert_array_equal(mdio[il_idx], volume[[8, 5, 13]])
    np.testing.assert_array_equal(mdio[:, xl_idx], volume[:, [3, 8]])
    np.testing.assert_array_equal(mdio[il_idx, xl_idx], volume[[8, 5, 13]][:, [3, 8]])
    every = mdio.coord_to_index(10, 5, [50, 100])
    assert [a.tolist() for a in every] == [[8], [3], [25, 50]]


def test_numpy_to_mdio_local_examples(tmp_path: Path) -> None:
    array = np.random.rand(100, 200, 300)
    numpy_to_mdio(
        array=array,
        mdio_path_or_buffer=str(tmp_path / "output/file.mdio"),
        chunksize=(64, 64, 64),
        index_names=["inline", "crossline", "sample"],
    )
    np.testing.assert_array_equal(MDIOReader(str(tmp_path / "output/file.mdio"))[:], array)

    array_2d = np.random.rand(500, 1000)
    numpy_to_mdio(array=array_2d, mdio_path_or_buffer=str(tmp_path / "output/file_2d.mdio"), chunksize=(512, 512))
    reader = MDIOReader(str(tmp_path / "output/file_2d.mdio"), access_pattern="01")
    np.testing.assert_array_equal(reader[:], array_2d)
    assert reader.chunks == (512, 512)


@pytest.mark.objectstore
def test_numpy_to_mdio_cloud_example_with_custom_coords(s3_bucket: Any) -> None:
    array = np.random.rand(100, 200, 300)
    coords = {
        "inline": np.arange(0, 100, 2),
        "crossline": np.arange(0, 200, 4),
        "sample": np.linspace(0, 0.3, 300),
    }
    kwargs: dict[str, Any] = {
        "chunksize": (32, 32, 128),
        "index_names": ["inline", "crossline", "sample"],
        "lossless": False,
        "compression_tolerance": 0.01,
        "storage_options": s3_bucket.storage_options,
    }
    # As printed, the example gives 50 inline labels for 100 inlines: we refuse it clearly and write nothing.
    url = s3_bucket.url("file.mdio")
    with pytest.raises(ShapeError, match="'inline'"):
        numpy_to_mdio(array=array, mdio_path_or_buffer=url, index_coords=coords, **kwargs)
    assert not s3_bucket.fs.exists(url)
    # With labels that match the array, it writes to the object store and reads back within tolerance.
    coords = {"inline": np.arange(0, 200, 2), "crossline": np.arange(0, 800, 4), "sample": coords["sample"]}
    numpy_to_mdio(array=array, mdio_path_or_buffer=url, index_coords=coords, **kwargs)
    reader = MDIOReader(url, storage_options=s3_bucket.storage_options)
    assert np.max(np.abs(reader[:] - array)) <= 0.01
    np.testing.assert_allclose(reader.grid.select_dim("sample").coords, np.linspace(0, 0.3, 300))
    assert reader.coord_to_index(198, dimensions="inline").tolist() == [99]
