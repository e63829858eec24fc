"""ChunkReader on local chunk files against numpy: regions across chunk edges, unwritten chunks, both codecs, and
the cases it must leave to zarr."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import zarr

from mdio_catalog import MDIOReader, numpy_to_mdio
from mdio_catalog.core.chunkfetch import LocalChunkFiles
from mdio_catalog.core.chunkio import ChunkReader


@pytest.fixture(scope="module")
def volume(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    array = np.random.default_rng(4).normal(size=(23, 17, 45)).astype("float32")
    array[:8, :5] = 0  # whole chunks of zeros are not stored: they read back as the fill value
    path = tmp_path_factory.mktemp("chunks") / "v.mdio"
    numpy_to_mdio(array, str(path), (8, 5, 16))
    return path, array


@pytest.mark.parametrize(
    "key",
    [
        (slice(None), slice(None), slice(None)),
        (3, slice(None), slice(None)),
        (slice(None), 16, slice(None)),
        (slice(None), slice(None), 44),
        (slice(5, 19), slice(2, 13), slice(7, 40)),
        (22, 16, slice(None)),
        (0, 0, 0),
        (slice(4, 4), slice(None), slice(None)),
    ],
)
def test_regions_equal_numpy(volume: tuple[Path, np.ndarray], key: tuple) -> None:
    path, array = volume
    reader = MDIOReader(str(path))
    assert reader._chunk_reader is not None
    for parallel in (True, False):
        got = reader.read_region(key, parallel=parallel)
        np.testing.assert_array_equal(got, array[key])
        assert got.dtype == array.dtype


def test_unwritten_chunks_read_as_fill(volume: tuple[Path, np.ndarray]) -> None:
    path, _ = volume
    assert not (path / "data" / "chunked_012" / "0" / "0" / "0").exists()
    assert not MDIOReader(str(path))[:8, :5].any()


def test_lossy_codec_decodes_into_the_buffer(tmp_path: Path) -> None:
    array = np.cumsum(np.random.default_rng(5).normal(size=(9, 9, 64)), axis=-1).astype("float32")
    numpy_to_mdio(array, str(tmp_path / "z.mdio"), (4, 4, 32), lossless=False, compression_tolerance=0.05)
    reader = MDIOReader(str(tmp_path / "z.mdio"))
    via_zarr = np.asarray(reader.trace_array[2:7, 1:8, :])
    np.testing.assert_array_equal(reader.read_region((slice(2, 7), slice(1, 8), slice(None))), via_zarr)
    assert np.max(np.abs(via_zarr - array[2:7, 1:8])) <= 0.05


def test_layouts_it_does_not_handle_fall_back_to_zarr(tmp_path: Path) -> None:
    dotted = zarr.create_array(
        str(tmp_path / "dotted"), shape=(4, 4), chunks=(2, 2), dtype="f4", zarr_format=2,
        chunk_key_encoding={"name": "v2", "separator": "."},
    )  # fmt: skip
    assert ChunkReader.for_array(dotted, LocalChunkFiles(str(tmp_path / "dotted"))) is None
    fortran = zarr.create_array(str(tmp_path / "f"), shape=(4, 4), chunks=(2, 2), dtype="f4", zarr_format=2, order="F")
    assert ChunkReader.for_array(fortran, LocalChunkFiles(str(tmp_path / "f"))) is None
    assert not ChunkReader.supports((slice(0, 4, 2), 1))
    assert not ChunkReader.supports((np.array([1, 2]), 1))
