"""numpy_to_mdio: values, coordinates, statistics, compression and refusals, checked with numpy and on disk."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mdio_catalog import MDIOReader, numpy_to_mdio
from mdio_catalog.exceptions import MDIOAlreadyExistsError, ShapeError


def snapshot(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def test_defaults_names_coords_live_mask_and_trace_count(tmp_path: Path) -> None:
    array = np.random.default_rng(0).random((6, 7, 11)).astype("float32")
    path = tmp_path / "a.mdio"
    numpy_to_mdio(array, str(path), chunksize=(4, 4, 8))
    reader = MDIOReader(str(path), return_metadata=True)
    assert reader.grid.dim_names == ("dim_0", "dim_1", "sample")
    for dim, size in zip(reader.grid.dims, array.shape, strict=True):
        np.testing.assert_array_equal(dim.coords, np.arange(size))
    live, _headers, traces = reader[...]
    np.testing.assert_array_equal(traces, array)
    assert live.all()
    assert reader.trace_count == 42  # the reference leaves 0 here
    zarray = json.loads((path / "data" / "chunked_012" / ".zarray").read_text())
    assert zarray["chunks"] == [4, 4, 8]
    assert zarray["compressor"] == {"id": "blosc", "cname": "zstd", "clevel": 1, "shuffle": 1, "blocksize": 2**20}
    assert zarray["dimension_separator"] == "/"
    assert zarray["zarr_format"] == 2


def test_2d_array_and_float64_input(tmp_path: Path) -> None:
    array = np.random.default_rng(2).random((50, 100))
    path = tmp_path / "b.mdio"
    numpy_to_mdio(array, str(path), chunksize=(16, 32))
    got = MDIOReader(str(path), access_pattern="01")[:]
    np.testing.assert_array_equal(got, array)
    assert MDIOReader(str(path), access_pattern="01").trace_count == 50


def test_lossy_zfp_respects_tolerance_and_compresses(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    smooth = np.cumsum(rng.normal(size=(32, 32, 256)), axis=-1).astype("float32")
    lossless, lossy = tmp_path / "lossless.mdio", tmp_path / "lossy.mdio"
    numpy_to_mdio(smooth, str(lossless), chunksize=(16, 16, 64))
    numpy_to_mdio(smooth, str(lossy), chunksize=(16, 16, 64), lossless=False, compression_tolerance=0.1)
    got = MDIOReader(str(lossy))[:]
    assert np.max(np.abs(got - smooth)) <= 0.1
    size = lambda p: sum(f.stat().st_size for f in p.rglob("*") if f.is_file())  # noqa: E731
    assert size(lossy) < 0.6 * size(lossless)
    compressor = json.loads((lossy / "data" / "chunked_012" / ".zarray").read_text())["compressor"]
    assert compressor["id"] == "zfpy"
    assert compressor["tolerance"] == 0.1


def test_custom_header_dtype_is_used(tmp_path: Path) -> None:
    header_dtype = np.dtype([("inline", "<i4"), ("crossline", "<i4")])
    path = tmp_path / "h.mdio"
    numpy_to_mdio(np.ones((3, 4, 5), "float32"), str(path), (3, 4, 5), header_dtype=header_dtype)
    _, headers, _ = MDIOReader(str(path), return_metadata=True)[0]
    assert headers.dtype == header_dtype


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"chunksize": (4, 4)}, "has 2 entries"),
        ({"chunksize": (4, 0, 4)}, "positive"),
        ({"chunksize": (4, 4, 4), "index_names": ["a", "b"]}, "index_names"),
        (
            {"chunksize": (4, 4, 4), "index_names": ["a", "b", "c"], "index_coords": {"a": np.arange(6)}},
            "lacks",
        ),
        (
            {
                "chunksize": (4, 4, 4),
                "index_names": ["a", "b", "c"],
                "index_coords": {"a": np.arange(5), "b": np.arange(7), "c": np.arange(11)},
            },
            "'a'",
        ),
        (
            {
                "chunksize": (4, 4, 4),
                "index_names": ["a", "b", "c"],
                "index_coords": {"a": np.arange(6), "b": np.arange(7), "c": np.arange(11), "z": [1]},
            },
            "'z'",
        ),
    ],
)
def test_invalid_arguments_raise_shape_errors_and_write_nothing(tmp_path: Path, kwargs: dict, fragment: str) -> None:
    path = tmp_path / "bad.mdio"
    with pytest.raises(ShapeError, match=fragment):
        numpy_to_mdio(np.zeros((6, 7, 11), "float32"), str(path), **kwargs)
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_overwrite_false_refuses_and_keeps_the_old_dataset(tmp_path: Path) -> None:
    path = tmp_path / "keep.mdio"
    first = np.full((4, 4, 8), 1.0, "float32")
    numpy_to_mdio(first, str(path), (2, 2, 8))
    before = snapshot(path)
    with pytest.raises(MDIOAlreadyExistsError, match="overwrite=True"):
        numpy_to_mdio(np.zeros((4, 4, 8), "float32"), str(path), (2, 2, 8))
    assert snapshot(path) == before
    second = np.full((4, 4, 8), 2.0, "float32")
    numpy_to_mdio(second, str(path), (2, 2, 8), overwrite=True)
    np.testing.assert_array_equal(MDIOReader(str(path))[:], second)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.mdio"]


def test_a_failing_write_leaves_no_dataset_and_keeps_the_previous_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "v.mdio"
    original = np.arange(4 * 4 * 8, dtype="float32").reshape(4, 4, 8)
    numpy_to_mdio(original, str(path), (2, 2, 8))

    import mdio_catalog.converters.numpy as module

    calls = []
    real = module.SummaryStatistics.of

    def interrupted_after_first_block(block: np.ndarray, nonzero_only: bool = True) -> object:
        calls.append(1)
        if len(calls) == 2:  # the user presses Ctrl-C half-way through the write
            raise KeyboardInterrupt
        return real(block, nonzero_only=nonzero_only)

    monkeypatch.setattr(module.SummaryStatistics, "of", staticmethod(interrupted_after_first_block))
    with pytest.raises(KeyboardInterrupt):
        numpy_to_mdio(np.zeros((4, 4, 8), "float32"), str(path), (2, 2, 8), overwrite=True)
    assert len(calls) == 2
    np.testing.assert_array_equal(MDIOReader(str(path))[:], original)
    assert [p.name for p in tmp_path.iterdir()] == ["v.mdio"]
