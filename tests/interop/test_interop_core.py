"""Both directions between us and the reference (multidimio 0.9.3): values, coordinates, live mask, statistics,
text and binary headers, trace headers and trace count.

Oracles: numpy (the arrays that were written) and segyio (the SEG-Y the reference ingested); each side's reader is
only ever compared with those, never with itself.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import segyio

from mdio_catalog import (
    Dimension,
    Grid,
    MDIOCreateConfig,
    MDIOReader,
    MDIOVariableConfig,
    MDIOWriter,
    create_empty,
    create_empty_like,
    numpy_to_mdio,
)
from mdio_catalog.core.headers import TRACE_HEADER_DTYPE

pytestmark = pytest.mark.interop

RunReference = Callable[..., Any]
ReadReference = Callable[..., dict[str, Any]]


def numpy_stats(values: np.ndarray) -> dict[str, float]:
    as64 = values.astype(np.float64).ravel()
    return {
        "mean": as64.mean(),
        "std": as64.std(),
        "rms": np.sqrt(np.mean(as64**2)),
        "min": as64.min(),
        "max": as64.max(),
    }


def assert_stats(got: dict[str, float], expected: dict[str, float]) -> None:
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-5, abs=1e-6), key


@pytest.mark.parametrize("shape_chunks", [((9, 7, 33), (4, 4, 16)), ((20, 50), (8, 16)), ((3, 4, 5, 6), (2, 2, 2, 6))])
def test_reference_reads_what_numpy_to_mdio_writes(
    read_with_reference: ReadReference, tmp_path: Path, shape_chunks: tuple[tuple[int, ...], tuple[int, ...]]
) -> None:
    shape, chunks = shape_chunks
    array = np.random.default_rng(5).normal(size=shape).astype("float32")
    names = [*(f"axis{i}" for i in range(len(shape) - 1)), "sample"]
    coords = {name: np.arange(n) * (i + 2) + 10 * i for i, (name, n) in enumerate(zip(names, shape, strict=True))}
    store = tmp_path / "ours.mdio"
    numpy_to_mdio(array, str(store), chunks, index_names=names, index_coords=coords)

    pattern = "".join(str(i) for i in range(len(shape)))
    dump = read_with_reference(store, pattern)
    np.testing.assert_array_equal(dump["traces"], array)
    assert dump["live_mask"].shape == shape[:-1]
    assert dump["live_mask"].all()
    for name in names:
        np.testing.assert_array_equal(dump["coords"][name], coords[name])
    info = dump["info"]
    assert info["dim_names"] == names
    assert info["chunks"] == list(chunks)
    assert info["trace_count"] == int(np.prod(shape[:-1]))
    assert_stats(info["stats"], numpy_stats(array))
    assert len(info["text_header"]) == 40
    assert info["binary_header"]["samples_per_trace"] == shape[-1]
    assert dump["headers"].dtype.itemsize == 240


def test_reference_reads_a_dataset_filled_through_our_writer(
    read_with_reference: ReadReference, tmp_path: Path
) -> None:
    rng = np.random.default_rng(8)
    grid = Grid(
        [
            Dimension(np.arange(5) + 100, "inline"),
            Dimension(np.arange(6) * 2, "crossline"),
            Dimension(np.arange(24) * 4, "sample"),
        ]
    )
    path = tmp_path / "filled.mdio"
    create_empty(MDIOCreateConfig(str(path), grid, [MDIOVariableConfig("chunked_012", "float32", (2, 4, 8))]))
    traces = rng.normal(size=(5, 6, 24)).astype("float32")
    mask = rng.random((5, 6)) > 0.3
    traces[~mask] = 0
    headers = np.zeros((5, 6), TRACE_HEADER_DTYPE)
    il, xl = np.meshgrid(grid.dims[0].coords, grid.dims[1].coords, indexing="ij")
    headers["inline"], headers["crossline"] = il, xl
    headers["cdp_x"] = il * 1000 + xl
    text = [f"C{i + 1:02d} interop line {i}".ljust(80) for i in range(40)]
    binary = {"sample_interval": 4000, "samples_per_trace": 24, "data_sample_format": 5, "segy_revision_major": 1}

    writer = MDIOWriter(str(path))
    writer[:] = traces
    writer._headers_zarr[:] = headers
    writer.live_mask = mask
    writer.trace_count = int(mask.sum())
    writer.stats = {k: float(v) for k, v in numpy_stats(traces[mask]).items()}
    writer.text_header = text
    writer.binary_header = binary

    dump = read_with_reference(path)
    np.testing.assert_array_equal(dump["traces"], traces)
    np.testing.assert_array_equal(dump["live_mask"], mask)
    np.testing.assert_array_equal(dump["headers"]["inline"], il)
    np.testing.assert_array_equal(dump["headers"]["cdp_x"], il * 1000 + xl)
    info = dump["info"]
    assert info["trace_count"] == int(mask.sum())
    assert_stats(info["stats"], numpy_stats(traces[mask]))
    assert info["text_header"] == text
    assert info["binary_header"] == binary

    like = tmp_path / "like.mdio"
    create_empty_like(str(path), str(like))
    dump_like = read_with_reference(like)
    assert not dump_like["traces"].any()
    assert not dump_like["live_mask"].any()
    assert dump_like["info"]["text_header"] == text
    assert dump_like["info"]["chunks"] == [2, 4, 8]


def test_we_read_what_the_reference_numpy_to_mdio_writes(run_reference: RunReference, tmp_path: Path) -> None:
    array = np.random.default_rng(9).normal(size=(7, 5, 19)).astype("float32")
    coords = {"inline": np.arange(7) * 3 + 1, "crossline": np.arange(5) + 40, "sample": np.arange(19) * 2}
    npz = tmp_path / "in.npz"
    np.savez(
        npz,
        array=array,
        chunks=np.array([4, 4, 8]),
        names=np.array(list(coords)),
        **{f"coord_{k}": v for k, v in coords.items()},
    )
    store = tmp_path / "reference.mdio"
    run_reference("write-numpy", "--out", store, "--npz", npz)

    reader = MDIOReader(str(store), return_metadata=True)
    live, headers, traces = reader[...]
    np.testing.assert_array_equal(traces, array)
    assert live.all()
    assert headers.dtype.itemsize == 240
    for name, values in coords.items():
        np.testing.assert_array_equal(reader.grid.select_dim(name).coords, values)
    assert_stats(reader.stats, numpy_stats(array))
    assert reader.chunks == (4, 4, 8)
    plain = MDIOReader(str(store))
    np.testing.assert_array_equal(plain[plain.coord_to_index(4, dimensions="inline")], array[[1]])


@pytest.fixture
def small_segy(tmp_path: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    """5 inlines x 4 crosslines x 20 IBM samples with the trace (il=14, xl=101) missing."""
    path = tmp_path / "small.sgy"
    ils, xls = np.arange(10, 20, 2), np.arange(100, 104)
    cells = [(il, xl) for il in ils for xl in xls if (il, xl) != (14, 101)]
    spec = segyio.spec()
    spec.format = 1
    spec.samples = list(range(20))
    spec.tracecount = len(cells)
    rng = np.random.default_rng(12)
    data = np.zeros((5, 4, 20), "float32")
    with segyio.create(str(path), spec) as f:
        f.bin.update({segyio.BinField.Interval: 4000, segyio.BinField.Samples: 20})
        for i, (il, xl) in enumerate(cells):
            trace = rng.normal(size=20).astype("float32")
            data[list(ils).index(il), list(xls).index(xl)] = trace
            f.header[i] = {
                segyio.TraceField.INLINE_3D: int(il),
                segyio.TraceField.CROSSLINE_3D: int(xl),
                segyio.TraceField.CDP_X: int(il * 10),
                segyio.TraceField.TRACE_SAMPLE_COUNT: 20,
                segyio.TraceField.TRACE_SAMPLE_INTERVAL: 4000,
            }
            f.trace[i] = trace
    mask = np.ones((5, 4), bool)
    mask[2, 1] = False
    return path, data, mask


def test_we_read_what_the_reference_segy_to_mdio_writes(
    run_reference: RunReference, tmp_path: Path, small_segy: tuple[Path, np.ndarray, np.ndarray]
) -> None:
    path, _, mask = small_segy
    store = tmp_path / "reference_segy.mdio"
    run_reference(
        "ingest-segy", "--segy", path, "--out", store, "--index-bytes", "189", "193",
        "--index-names", "inline", "crossline", "--chunks", "2", "2", "16",
    )  # fmt: skip
    reader = MDIOReader(str(store), return_metadata=True)
    live, headers, traces = reader[:]
    with segyio.open(str(path), ignore_geometry=True) as f:
        expected = np.zeros((5, 4, 20), "float32")
        for i in range(f.tracecount):
            h = f.header[i]
            expected[(h[segyio.TraceField.INLINE_3D] - 10) // 2, h[segyio.TraceField.CROSSLINE_3D] - 100] = f.trace[i]
        binary_interval = f.bin[segyio.BinField.Interval]
    np.testing.assert_array_equal(traces, expected)  # IBM of normal draws is normalised: segyio decodes exactly
    np.testing.assert_array_equal(live, mask)
    np.testing.assert_array_equal(headers["inline"][mask], np.repeat(np.arange(10, 20, 2), 4).reshape(5, 4)[mask])
    np.testing.assert_array_equal(headers["cdp_x"][mask], headers["inline"][mask] * 10)
    assert reader.trace_count == 19
    np.testing.assert_array_equal(reader.grid.select_dim("sample").coords, np.arange(20) * 4)
    assert_stats(reader.stats, numpy_stats(expected[expected != 0]))
    assert reader.binary_header["sample_interval"] == binary_interval
    assert reader.binary_header["samples_per_trace"] == 20
    assert len(reader.text_header) == 40


def test_reference_reads_our_lossy_zfp_dataset(read_with_reference: ReadReference, tmp_path: Path) -> None:
    smooth = np.cumsum(np.random.default_rng(21).normal(size=(6, 5, 64)), axis=-1).astype("float32")
    store = tmp_path / "lossy.mdio"
    numpy_to_mdio(smooth, str(store), (3, 5, 32), lossless=False, compression_tolerance=0.05)
    dump = read_with_reference(store)
    assert np.max(np.abs(dump["traces"] - smooth)) <= 0.05
    np.testing.assert_array_equal(dump["traces"], MDIOReader(str(store))[:])  # both decode the same ZFP stream


def test_reference_exports_what_we_ingested_back_to_the_source(
    run_reference: RunReference, tmp_path: Path, small_segy: tuple[Path, np.ndarray, np.ndarray]
) -> None:
    from mdio_catalog import segy_to_mdio

    path, _, _ = small_segy
    store = tmp_path / "ours.mdio"
    segy_to_mdio(path, store, (189, 193), ("inline", "crossline"), chunksize=(2, 2, 16))
    out = tmp_path / "by_reference.sgy"
    run_reference("export-segy", "--mdio", store, "--out", out)
    with (
        segyio.open(str(out), ignore_geometry=True) as exported,
        segyio.open(str(path), ignore_geometry=True) as source,
    ):
        assert exported.tracecount == source.tracecount
        np.testing.assert_array_equal(exported.trace.raw[:], source.trace.raw[:])
        for i in range(source.tracecount):
            assert exported.header[i][segyio.TraceField.INLINE_3D] == source.header[i][segyio.TraceField.INLINE_3D]
            assert (
                exported.header[i][segyio.TraceField.CROSSLINE_3D] == source.header[i][segyio.TraceField.CROSSLINE_3D]
            )
