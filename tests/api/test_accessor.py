"""MDIOReader / MDIOWriter against numpy: every read is compared with the array that was written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mdio_catalog import MDIOAccessor, MDIOReader, MDIOWriter, numpy_to_mdio
from mdio_catalog.exceptions import (
    AccessPatternError,
    CoordinateNotFoundError,
    DimensionNotFoundError,
    IndexOutOfRangeError,
    InvalidBackendError,
    InvalidModeError,
    MDIOError,
    MDIONotFoundError,
    MDIOReadOnlyError,
    ShapeError,
)

COORDS = {
    "inline": np.arange(12) * 2 + 10,  # 10, 12, ..., 32
    "crossline": np.arange(9) + 100,
    "sample": np.arange(40) * 4,
}


def snapshot(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def volume() -> np.ndarray:
    return np.random.default_rng(1).normal(size=(12, 9, 40)).astype("float32")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory, volume: np.ndarray) -> Path:
    path = tmp_path_factory.mktemp("acc") / "vol.mdio"
    numpy_to_mdio(volume, str(path), (5, 4, 16), index_names=list(COORDS), index_coords=COORDS)
    return path


@pytest.mark.parametrize(
    "key",
    [
        3,
        -1,
        (slice(None), 4),
        (Ellipsis, 7),
        (slice(2, 9, 3), slice(1, None), slice(5, 30)),
        ([0, 5, 11],),
        ([1, 3], [0, 8]),
        (2, [1, 2], Ellipsis),
        (np.array([4, 1]), slice(None), 0),
        Ellipsis,
    ],
)
def test_zarr_reads_equal_numpy_orthogonal_indexing(dataset: Path, volume: np.ndarray, key: object) -> None:
    expected = volume
    parts = key if isinstance(key, tuple) else (key,)
    if Ellipsis in [p for p in parts if not isinstance(p, list | np.ndarray)]:
        got = MDIOReader(str(dataset))[key]
        np.testing.assert_array_equal(got, volume[key])
        return
    # numpy's fancy indexing is not orthogonal: build the oracle axis by axis.
    expected = volume
    axis = 0
    for part in parts:
        if isinstance(part, int):
            expected = np.take(expected, part, axis=axis)
            continue
        if isinstance(part, slice):
            expected = expected[(slice(None),) * axis + (part,)]
        else:
            expected = np.take(expected, np.asarray(part), axis=axis)
        axis += 1
    np.testing.assert_array_equal(MDIOReader(str(dataset))[key], expected)


def test_dask_backend_with_new_chunks_reads_the_same(dataset: Path, volume: np.ndarray) -> None:
    reader = MDIOReader(str(dataset), backend="dask", new_chunks=(6, 9, 40))
    assert reader.chunks == (6, 9, 40)
    lazy = reader[[1, 3], [0, 8]]
    assert hasattr(lazy, "compute")
    np.testing.assert_array_equal(lazy.compute(), volume[[1, 3]][:, [0, 8]])
    np.testing.assert_array_equal(reader[..., 5].compute(), volume[..., 5])


def test_return_metadata_gives_mask_headers_traces_without_sample_axis(dataset: Path, volume: np.ndarray) -> None:
    live, headers, traces = MDIOReader(str(dataset), return_metadata=True)[4, :, 10:20]
    assert live.shape == (9,)
    assert live.dtype == bool
    assert live.all()
    assert headers.shape == (9,)
    assert headers.dtype.itemsize == 240
    np.testing.assert_array_equal(traces, volume[4, :, 10:20])


def test_properties_match_what_was_written(dataset: Path, volume: np.ndarray) -> None:
    reader = MDIOReader(str(dataset))
    assert reader.shape == volume.shape
    assert reader.n_dim == 3
    assert reader.chunks == (5, 4, 16)
    assert reader.trace_count == 12 * 9
    stats = reader.stats
    as64 = volume.astype(np.float64)
    assert stats["mean"] == pytest.approx(as64.mean(), rel=1e-9)
    assert stats["std"] == pytest.approx(as64.std(), rel=1e-6)
    assert stats["rms"] == pytest.approx(np.sqrt((as64**2).mean()), rel=1e-9)
    assert stats["min"] == pytest.approx(float(volume.min()))
    assert stats["max"] == pytest.approx(float(volume.max()))
    assert len(reader.text_header) == 40
    assert all(len(line) == 80 for line in reader.text_header)
    assert isinstance(reader.binary_header, dict)
    np.testing.assert_array_equal(np.asarray(reader.live_mask[:]), np.ones((12, 9), bool))
    for name, values in COORDS.items():
        np.testing.assert_array_equal(reader.grid.select_dim(name).coords, values)


def test_coord_to_index_one_and_several_dimensions(dataset: Path) -> None:
    reader = MDIOReader(str(dataset))
    ils = [14, 10, 30]
    one = reader.coord_to_index(ils, dimensions="inline")
    np.testing.assert_array_equal(one, [np.flatnonzero(COORDS["inline"] == c)[0] for c in ils])
    _il_idx, xl_idx = reader.coord_to_index(ils, [100, 108], dimensions=["inline", "crossline"])
    np.testing.assert_array_equal(xl_idx, [0, 8])
    every = reader.coord_to_index(12, 101, [0, 156])
    assert [a.tolist() for a in every] == [[1], [1], [0, 39]]
    assert np.issubdtype(one.dtype, np.unsignedinteger)


@pytest.mark.parametrize(
    ("args", "kwargs", "error"),
    [
        (([11],), {"dimensions": "inline"}, CoordinateNotFoundError),
        ((10, 100), {}, ShapeError),
        (([10], [100]), {"dimensions": "inline"}, ShapeError),
        (([10],), {"dimensions": "inlin"}, DimensionNotFoundError),
    ],
)
def test_coord_to_index_errors(dataset: Path, args: tuple, kwargs: dict, error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        MDIOReader(str(dataset)).coord_to_index(*args, **kwargs)
    assert isinstance(info.value, MDIOError)


def test_coord_to_index_error_messages_help_the_user(dataset: Path) -> None:
    reader = MDIOReader(str(dataset))
    with pytest.raises(CoordinateNotFoundError, match=r"\[11\].*'inline'.*10\.\.32"):
        reader.coord_to_index([11], dimensions="inline")
    with pytest.raises(DimensionNotFoundError, match="did you mean 'inline'"):
        reader.coord_to_index([10], dimensions="inlin")


@pytest.mark.parametrize(
    ("key", "fragment"),
    [
        (12, "size 12"),
        ((0, 9), "crossline"),
        ((0, 0, 40), "sample"),
        ([0, 12], r"\[12\]"),
        ((0, 0, 0, 0), "Too many"),
    ],
)
def test_out_of_range_indices_name_the_axis(dataset: Path, key: object, fragment: str) -> None:
    with pytest.raises(IndexOutOfRangeError, match=fragment) as info:
        MDIOReader(str(dataset))[key]
    assert isinstance(info.value, IndexError)


def test_bad_open_arguments_raise_precise_errors(dataset: Path, tmp_path: Path) -> None:
    before = snapshot(dataset)
    with pytest.raises(MDIONotFoundError, match="No MDIO dataset"):
        MDIOReader(str(tmp_path / "missing.mdio"))
    with pytest.raises(AccessPatternError, match=r"'01'.*available: \['012'\]"):
        MDIOReader(str(dataset), access_pattern="01")
    with pytest.raises(InvalidModeError, match="'a'"):
        MDIOAccessor(str(dataset), "a", "012", None, False, None, "zarr", False)
    with pytest.raises(InvalidBackendError, match="did you mean 'dask'"):
        MDIOReader(str(dataset), backend="dusk")
    with pytest.raises(ShapeError):
        MDIOReader(str(dataset), backend="dask", new_chunks=(1, 2))
    assert snapshot(dataset) == before
    assert not (tmp_path / "missing.mdio").exists()


def test_reader_refuses_writes_and_changes_nothing(dataset: Path) -> None:
    before = snapshot(dataset)
    reader = MDIOReader(str(dataset))
    with pytest.raises(MDIOReadOnlyError):
        reader[0] = 1.0
    with pytest.raises(MDIOReadOnlyError):
        reader.stats = {"mean": 1.0}
    with pytest.raises(MDIOReadOnlyError):
        reader.live_mask = np.zeros((12, 9), bool)
    assert snapshot(dataset) == before


def test_writer_setters_persist_and_reconsolidate(tmp_path: Path, volume: np.ndarray) -> None:
    path = tmp_path / "w.mdio"
    numpy_to_mdio(volume, str(path), (5, 4, 16), index_names=list(COORDS), index_coords=COORDS)
    writer = MDIOWriter(str(path))
    writer[2, 3] = np.arange(40, dtype="float32")
    mask = np.ones((12, 9), bool)
    mask[0] = False
    writer.live_mask = mask
    writer.trace_count = int(mask.sum())
    writer.stats = {"mean": 1.5, "std": 2.5, "rms": 3.5, "min": -4.0, "max": 5.0}
    lines = [f"C{i:02d} test".ljust(80) for i in range(1, 41)]
    writer.text_header = lines
    writer.binary_header = {"sample_interval": 4000, "samples_per_trace": 40}

    consolidated = json.loads((path / ".zmetadata").read_text())["metadata"]
    assert consolidated[".zattrs"]["trace_count"] == 99
    assert consolidated[".zattrs"]["max"] == 5.0
    assert consolidated["metadata/.zattrs"]["text_header"] == lines
    reader = MDIOReader(str(path))
    np.testing.assert_array_equal(reader[2, 3], np.arange(40, dtype="float32"))
    np.testing.assert_array_equal(np.asarray(reader.live_mask[:]), mask)
    assert reader.trace_count == 99
    assert reader.stats == {"mean": 1.5, "std": 2.5, "rms": 3.5, "min": -4.0, "max": 5.0}
    assert reader.binary_header == {"sample_interval": 4000, "samples_per_trace": 40}
    with pytest.raises(ShapeError):
        writer.text_header = lines[:39]
    with pytest.raises(ShapeError):
        writer.live_mask = np.ones((3, 3), bool)
    with pytest.raises(ShapeError):
        writer.stats = {"average": 1.0}
