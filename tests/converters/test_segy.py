"""segy_to_mdio end to end on SEG-Y files generated with segyio.

Oracles: segyio reading the same file (traces, header words, text and binary headers) and the numpy arrays the
files were generated from; never the library's own SEG-Y reader. Grids are derived independently here (numpy
``unique`` per index column) and every trace is checked in its cell.
"""

from __future__ import annotations

import json
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

import mdio_catalog
from mdio_catalog import MDIOReader
from mdio_catalog.converters import segy_blocks
from mdio_catalog.converters.segy import segy_to_mdio
from mdio_catalog.core.geometry import GridSparsityWarning
from mdio_catalog.exceptions import (
    GridOverrideError,
    GridSparsityError,
    GridTraceCountError,
    HeaderFieldError,
    MDIOAlreadyExistsError,
    MDIOError,
    MDIONotFoundError,
    SegyFormatError,
    SegyTruncatedError,
    ShapeError,
)
from mdio_catalog.settings import get_settings
from tests.converters.segy_factory import (
    SEGYIO_WRITABLE_FORMATS,
    V0_BINARY_FIELDS,
    V0_NAME_OF_BYTE,
    chunk_keys,
    expected_grid,
    grid_columns,
    ramp_samples,
    random_samples,
    read_with_segyio,
    shuffled,
    write_segy,
)


# --- helpers ------------------------------------------------------------------------------------------------------
def pattern_of(ndim: int) -> str:
    return "".join(str(i) for i in range(ndim))


def zarray(path: Path, name: str) -> dict[str, Any]:
    return json.loads((path / "data" / name / ".zarray").read_text())


def snapshot(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def chunk_files(array_dir: Path) -> set[tuple[int, ...]]:
    """Chunk keys present on disk (``a/b/c`` files, metadata files excluded)."""
    return {
        tuple(int(x) for x in p.relative_to(array_dir).parts)
        for p in array_dir.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    }


def nonzero_chunks(dense: np.ndarray, chunks: Sequence[int]) -> set[tuple[int, ...]]:
    """Chunk keys whose region of ``dense`` holds anything non-zero."""
    keys = set()
    for key in chunk_keys(dense.shape, chunks):
        region = tuple(slice(k * c, (k + 1) * c) for k, c in zip(key, chunks, strict=True))
        if dense[region].any():
            keys.add(key)
    return keys


def nonzero_stats(traces: np.ndarray) -> dict[str, float]:
    values = np.asarray(traces, dtype=np.float32).astype(np.float64)
    nz = values[values != 0]
    if nz.size == 0:  # documented: zeros instead of the reference's crash
        return dict.fromkeys(("mean", "std", "rms", "min", "max"), 0.0)
    return {
        "mean": float(nz.mean()),
        "std": float(nz.std()),
        "rms": float(np.sqrt(np.mean(nz**2))),
        "min": float(nz.min()),
        "max": float(nz.max()),
    }


def check_grid(
    path: Path,
    names: Sequence[str],
    columns: Sequence[npt.ArrayLike],
    traces: np.ndarray,
    sample_coords: npt.ArrayLike | None = None,
) -> tuple[MDIOReader, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Open ``path`` and check names, coordinates, shape, live mask, trace count and every trace in its cell.

    ``columns`` are the expected index values of every trace in file order (after any override semantics),
    ``traces`` segyio's samples in file order. Returns the reader, live mask, headers, data and trace cells.
    """
    coords, index = expected_grid(columns)
    reader = MDIOReader(str(path), access_pattern=pattern_of(len(names) + 1), return_metadata=True)
    assert reader.grid.dim_names == (*names, "sample")
    for dim, expected in zip(reader.grid.dims[:-1], coords, strict=True):
        np.testing.assert_array_equal(dim.coords, expected, err_msg=dim.name)
    if sample_coords is not None:
        np.testing.assert_array_equal(reader.grid.dims[-1].coords, sample_coords)
    shape = (*(c.size for c in coords), traces.shape[1])
    assert reader.shape == shape
    live, headers, data = reader[...]
    cells = tuple(index.T)
    expected_live = np.zeros(shape[:-1], dtype=bool)
    expected_live[cells] = True
    np.testing.assert_array_equal(live, expected_live)
    # float32 whenever it holds every sample exactly (the v0 dtype); the samples' own dtype otherwise
    traces = np.asarray(traces)
    with np.errstate(invalid="ignore", over="ignore"):
        exact32 = traces.dtype == np.float32 or np.array_equal(traces.astype(np.float32).astype(traces.dtype), traces)
    assert data.dtype == (np.float32 if exact32 else traces.dtype)
    np.testing.assert_array_equal(data[cells], traces.astype(data.dtype))
    assert not data[~expected_live].any(), "dead cells must be zero"
    assert reader.trace_count == len(index)
    assert isinstance(reader.trace_count, int)
    return reader, live, headers, data, index


def siblings(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir())


# --- imports ------------------------------------------------------------------------------------------------------
def test_public_import_paths() -> None:
    from mdio_catalog import segy_to_mdio as top_level
    from mdio_catalog.converters import segy_to_mdio as converters_level

    assert top_level is segy_to_mdio
    assert converters_level is segy_to_mdio
    assert "segy_to_mdio" in mdio_catalog.__all__


# --- post-stack ---------------------------------------------------------------------------------------------------
def test_post_stack_3d_missing_traces_shuffled_everything_checked(tmp_path: Path) -> None:
    inlines, crosslines = [10, 12, 14, 16, 18], [100, 101, 102, 103]
    live = np.ones((5, 4), dtype=bool)
    live[2, 2] = live[4, 0] = live[0, 3] = False
    cols, idx = grid_columns({189: inlines, 193: crosslines}, live)
    n = len(idx)
    samples = ramp_samples(idx, 20)
    samples[3, :5] = 0.0  # zeros inside a live trace do not count in the statistics
    samples[7] = 0.0  # a live trace of zeros
    headers = {
        **cols,
        1: np.arange(1, n + 1),
        9: 5000 + np.arange(n) // 4,
        13: np.arange(n) % 4 + 1,
        21: 700 + np.arange(n),
        37: -250 + 25 * np.arange(n),
        71: np.full(n, -100),
        181: 43_000_000 + 1250 * np.arange(n),
        185: 647_000_000 - 977 * np.arange(n),
        197: 3000 + 2 * np.arange(n),
    }
    src = write_segy(tmp_path / "post.sgy", headers, samples, fmt=1, order=shuffled(n, 3))
    words = [1, 9, 13, 21, 37, 71, 115, 117, 181, 185, 189, 193, 197]
    view = read_with_segyio(src.path, words)
    out = tmp_path / "post.mdio"
    segy_to_mdio(src.path, out, index_bytes=(189, 193), index_names=("inline", "crossline"), chunksize=(2, 2, 8))

    reader, live_mask, stored, _data, index = check_grid(
        out, ("inline", "crossline"), [view.words[189], view.words[193]], view.traces, np.arange(20) * 4
    )
    np.testing.assert_array_equal(reader.grid.dims[0].coords, inlines)
    assert reader.trace_count == n == 17
    # trace headers: stored values equal segyio's for the words set above (file order -> cells)
    cells = tuple(index.T)
    for byte in words:
        np.testing.assert_array_equal(stored[V0_NAME_OF_BYTE[byte]][cells], view.words[byte], err_msg=str(byte))
    assert stored.dtype.itemsize == 240
    assert not stored[~live_mask].view(np.uint8).any(), "dead cells have all-zero header records"
    # text header: 40 lines of 80 characters equal to segyio's decoding (and to what the factory wrote)
    assert reader.text_header == view.text == src.text
    assert all(len(line) == 80 for line in reader.text_header)
    assert len(reader.text_header) == 40
    # binary header: the 36 v0 keys, as integers, equal to segyio's fields and the raw revision bytes
    binary = reader.binary_header
    assert len(binary) == 36
    for key, field in V0_BINARY_FIELDS.items():
        assert binary[key] == view.binary[field], key
        assert type(binary[key]) is int
    assert (binary["segy_revision_major"], binary["segy_revision_minor"]) == tuple(view.raw_binary[300:302])
    assert binary["job_id"] == 7
    assert binary["data_sample_format"] == 1
    assert binary["samples_per_trace"] == 20
    # statistics over the non-zero samples, against numpy
    stats = reader.stats
    for key, value in nonzero_stats(view.traces).items():
        assert stats[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key
    assert stats["min"] > 0  # the zeros (dead cells, zero samples) are not counted
    # root attributes as written on disk
    attrs = json.loads((out / ".zattrs").read_text())
    assert attrs["dimension"][0] == {"name": "inline", "coords": inlines}
    assert attrs["dimension"][2]["coords"] == list(range(0, 80, 4))
    assert attrs["trace_count"] == 17
    # coordinates to indices
    np.testing.assert_array_equal(reader.coord_to_index([18, 10, 14], dimensions="inline"), [4, 0, 2])
    il, xl = reader.coord_to_index([12], [103, 100], dimensions=["inline", "crossline"])
    assert (il.tolist(), xl.tolist()) == ([1], [3, 0])
    assert np.issubdtype(il.dtype, np.unsignedinteger)
    i, j, k = reader.coord_to_index(16, 101, [0, 8, 76])
    assert (i.tolist(), j.tolist(), k.tolist()) == ([3], [1], [0, 2, 19])
    plain = MDIOReader(str(out))
    np.testing.assert_array_equal(plain[3, 1], view.traces[np.flatnonzero((index == (3, 1)).all(1))[0]])
    with pytest.raises(ValueError, match="11"):
        reader.coord_to_index([11], dimensions="inline")


def test_post_stack_2d_cdp_default_chunks(tmp_path: Path) -> None:
    cdps = np.arange(1001, 1301, 3)
    cols, idx = grid_columns({21: cdps})
    src = write_segy(tmp_path / "line.sgy", {**cols, 37: np.zeros(len(idx))}, ramp_samples(idx, 33), fmt=5)
    view = read_with_segyio(src.path, [21])
    out = tmp_path / "line.mdio"
    segy_to_mdio(str(src.path), str(out), index_bytes=(21,), index_names=("cdp",))
    reader, live, _, _, _ = check_grid(out, ("cdp",), [view.words[21]], view.traces, np.arange(33) * 4)
    assert live.all()
    assert reader.shape == (100, 33)
    assert zarray(out, "chunked_01")["chunks"] == [512, 512]  # the reference's 2-D default, not clipped
    assert reader.coord_to_index([1001, 1298], dimensions="cdp").tolist() == [0, 99]


def test_default_names_are_dim_n(tmp_path: Path) -> None:
    cols, idx = grid_columns({189: [1, 2, 3], 193: [7, 8]})
    src = write_segy(tmp_path / "s.sgy", cols, ramp_samples(idx, 5))
    segy_to_mdio(src.path, tmp_path / "s.mdio", index_bytes=(189, 193))
    reader = MDIOReader(str(tmp_path / "s.mdio"))
    assert reader.grid.dim_names == ("dim_0", "dim_1", "sample")


# --- every sample format segyio writes, both byte orders ----------------------------------------------------------
@pytest.mark.parametrize("endian", ["big", "little"])
@pytest.mark.parametrize("fmt", SEGYIO_WRITABLE_FORMATS)
def test_sample_formats_and_byte_orders(tmp_path: Path, fmt: int, endian: str) -> None:
    live = np.ones((4, 3), dtype=bool)
    live[1, 2] = False
    cols, idx = grid_columns({189: [5, 6, 7, 8], 193: [-2, 0, 2]}, live)
    samples = random_samples(len(idx), 11, fmt, seed=fmt, zero_fraction=0.1)
    src = write_segy(
        tmp_path / "f.sgy", {**cols, 181: 1000 * np.arange(len(idx))}, samples, fmt=fmt, endian=endian, dt=2000
    )
    view = read_with_segyio(src.path, [181, 189, 193], endian=endian)
    if fmt != 1:  # IBM rounds; every other format stores the generating values exactly
        np.testing.assert_array_equal(view.traces, samples)
    out = tmp_path / "f.mdio"
    segy_to_mdio(src.path, out, index_bytes=(189, 193), index_names=("inline", "crossline"), chunksize=(2, 2, 4))
    reader, _, headers, _, index = check_grid(
        out, ("inline", "crossline"), [view.words[189], view.words[193]], view.traces, np.arange(11) * 2
    )
    np.testing.assert_array_equal(headers["cdp_x"][tuple(index.T)], view.words[181])
    np.testing.assert_array_equal(headers["crossline"][tuple(index.T)], view.words[193])
    assert reader.binary_header["data_sample_format"] == fmt
    for key, value in nonzero_stats(view.traces).items():
        assert reader.stats[key] == pytest.approx(value, rel=1e-7), key


def test_shuffled_file_gives_the_same_dataset(tmp_path: Path) -> None:
    live = np.random.default_rng(1).random((6, 5)) > 0.2
    cols, idx = grid_columns({189: np.arange(20, 26), 193: np.arange(300, 305)}, live)
    samples = random_samples(len(idx), 9, 5, seed=4)
    headers = {**cols, 37: np.arange(len(idx)) * 10}
    write_segy(tmp_path / "sorted.sgy", headers, samples)
    write_segy(tmp_path / "shuffled.sgy", headers, samples, order=shuffled(len(idx), 9))
    for name in ("sorted", "shuffled"):
        segy_to_mdio(tmp_path / f"{name}.sgy", tmp_path / f"{name}.mdio", (189, 193), ("inline", "crossline"))
    a = MDIOReader(str(tmp_path / "sorted.mdio"), return_metadata=True)[...]
    b = MDIOReader(str(tmp_path / "shuffled.mdio"), return_metadata=True)[...]
    for left, right in zip(a, b, strict=True):
        np.testing.assert_array_equal(left, right)
    np.testing.assert_array_equal(a[2][tuple(idx.T)], samples)


# --- sample axis ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("dt", "ns", "kind"),
    [(4000, 5, int), (500, 5, float), (1999, 50, float), (250, 7, float)],
)
def test_sample_coordinates_in_ms(tmp_path: Path, dt: int, ns: int, kind: type) -> None:
    """``arange(0, dt * n, dt) / 1000`` as the reference computes it (so 5 x 1999 us is exactly 9.995 ms), ints
    when integral; the trace-header delay (100 ms here) is ignored."""
    expected = np.arange(0, dt * ns, dt, dtype=np.int32) / 1000
    cols, idx = grid_columns({189: [1, 2], 193: [1, 2]})
    src = write_segy(tmp_path / "t.sgy", {**cols, 109: np.full(len(idx), 100)}, ramp_samples(idx, ns), dt=dt)
    segy_to_mdio(src.path, tmp_path / "t.mdio", (189, 193), ("inline", "crossline"))
    coords = json.loads((tmp_path / "t.mdio" / ".zattrs").read_text())["dimension"][-1]
    assert coords["name"] == "sample"
    assert all(type(c) is kind for c in coords["coords"])  # JSON ints when integral, floats otherwise
    assert coords["coords"] == expected.tolist()
    reader = MDIOReader(str(tmp_path / "t.mdio"))
    read = reader.grid.dims[-1].coords
    assert read.dtype.kind == ("i" if kind is int else "f")
    # the nominal times can be looked up
    np.testing.assert_array_equal(reader.coord_to_index(expected.tolist(), dimensions="sample"), np.arange(ns))


# --- chunks and chunk files -----------------------------------------------------------------------------------------
def test_chunk_files_written_only_where_there_is_data(tmp_path: Path) -> None:
    """4x4 grid, chunks (2,2,8), 16 samples: cells il>=2 & xl>=2 missing, cells il<2 & xl>=2 all-zero traces,
    and in the live block il>=2 & xl<2 the second sample chunk is all zero."""
    live = np.ones((4, 4), dtype=bool)
    live[2:, 2:] = False
    cols, idx = grid_columns({189: [1, 2, 3, 4], 193: [1, 2, 3, 4]}, live)
    samples = ramp_samples(idx, 16)
    zero_traces = (idx[:, 0] < 2) & (idx[:, 1] >= 2)
    samples[zero_traces] = 0.0
    samples[(idx[:, 0] >= 2) & (idx[:, 1] < 2), 8:] = 0.0
    src = write_segy(tmp_path / "c.sgy", cols, samples, fmt=5)
    out = tmp_path / "c.mdio"
    segy_to_mdio(src.path, out, (189, 193), ("inline", "crossline"), chunksize=(2, 2, 8))
    data_array = zarray(out, "chunked_012")
    assert data_array["chunks"] == [2, 2, 8]
    # Blosc/zstd with byte shuffle as the reference (level and block size are a documented, tunable choice)
    assert {k: data_array["compressor"][k] for k in ("id", "cname", "shuffle")} == {
        "id": "blosc",
        "cname": "zstd",
        "shuffle": 1,
    }
    assert data_array["dtype"] == "<f4"
    assert data_array["fill_value"] == 0.0
    assert data_array["dimension_separator"] == "/"
    dense = np.zeros((4, 4, 16), dtype=np.float32)
    dense[tuple(idx.T)] = samples
    expected_data = nonzero_chunks(dense, (2, 2, 8))
    assert expected_data == {(0, 0, 0), (0, 0, 1), (1, 0, 0)}
    assert chunk_files(out / "data" / "chunked_012") == expected_data
    assert chunk_files(out / "metadata" / "chunked_012_trace_headers") == nonzero_chunks(live, (2, 2))
    assert nonzero_chunks(live, (2, 2)) == {(0, 0), (0, 1), (1, 0)}
    assert chunk_files(out / "metadata" / "live_mask") == {(0, 0)}
    headers = json.loads((out / "metadata" / "chunked_012_trace_headers" / ".zarray").read_text())
    assert headers["chunks"] == [2, 2]
    reader, *_ = check_grid(out, ("inline", "crossline"), [cols[189], cols[193]], samples)
    assert reader.chunks == (2, 2, 8)


def test_default_3d_chunks_are_not_clipped(tmp_path: Path) -> None:
    cols, idx = grid_columns({189: [1, 2, 3], 193: [4, 5]})
    src = write_segy(tmp_path / "d.sgy", cols, ramp_samples(idx, 7))
    segy_to_mdio(src.path, tmp_path / "d.mdio", (189, 193), ("inline", "crossline"))
    assert zarray(tmp_path / "d.mdio", "chunked_012")["chunks"] == [64, 64, 64]


def test_pre_stack_4d_default_chunks_are_a_few_mib(tmp_path: Path) -> None:
    """The reference refuses default chunks in 4-D; ours chooses ~1-4 MiB chunks keeping the sample axis."""
    live = np.ones((32, 32, 8), dtype=bool)
    live[5, :, 3] = False
    cols, idx = grid_columns({189: np.arange(1, 33), 193: np.arange(501, 533), 37: np.arange(100, 900, 100)}, live)
    samples = ramp_samples(idx, 128)
    src = write_segy(tmp_path / "ps.sgy", cols, samples, fmt=5)
    out = tmp_path / "ps.mdio"
    segy_to_mdio(src.path, out, (189, 193, 37), ("inline", "crossline", "offset"))
    chunks = zarray(out, "chunked_0123")["chunks"]
    assert len(chunks) == 4
    assert chunks[-1] == 128
    assert 1 * 2**20 <= int(np.prod(chunks)) * 4 <= 4 * 2**20, chunks
    assert all(c <= s for c, s in zip(chunks, (32, 32, 8, 128), strict=True))
    view = read_with_segyio(src.path, [189, 193, 37])
    reader, *_ = check_grid(
        out, ("inline", "crossline", "offset"), [view.words[189], view.words[193], view.words[37]], view.traces
    )
    assert reader.coord_to_index([800], dimensions="offset").tolist() == [7]


def test_streamer_shots_default_chunks(tmp_path: Path) -> None:
    cols, idx = grid_columns({17: [101, 102, 103], 137: [1, 2, 3, 4], 13: np.arange(1, 25)})
    src = write_segy(tmp_path / "sh.sgy", cols, ramp_samples(idx, 50), fmt=1, order=shuffled(len(idx), 2))
    view = read_with_segyio(src.path, [17, 137, 13])
    out = tmp_path / "sh.mdio"
    segy_to_mdio(
        src.path, out, (17, 137, 13), ("shot_point", "cable", "channel"), index_types=("int32", "int16", "int32")
    )
    check_grid(out, ("shot_point", "cable", "channel"), [view.words[17], view.words[137], view.words[13]], view.traces)
    chunks = zarray(out, "chunked_0123")["chunks"]
    assert len(chunks) == 4
    assert chunks[-1] == 50


def test_lossy_compression(tmp_path: Path) -> None:
    cols, idx = grid_columns({189: np.arange(8), 193: np.arange(8)})
    smooth = np.cumsum(np.random.default_rng(0).normal(size=(len(idx), 64)), axis=1).astype(np.float32)
    src = write_segy(tmp_path / "z.sgy", cols, smooth, fmt=5)
    out = tmp_path / "z.mdio"
    segy_to_mdio(src.path, out, (189, 193), ("inline", "crossline"), lossless=False, compression_tolerance=0.05)
    compressor = zarray(out, "chunked_012")["compressor"]
    assert compressor["id"] == "zfpy"
    assert compressor["tolerance"] == 0.05
    data = MDIOReader(str(out))[...]
    assert np.max(np.abs(data[tuple(idx.T)] - smooth)) <= 0.05


def test_all_zero_file_gets_zero_statistics(tmp_path: Path) -> None:
    cols, idx = grid_columns({189: [1, 2], 193: [1, 2, 3]})
    src = write_segy(tmp_path / "zero.sgy", cols, np.zeros((len(idx), 6), np.float32))
    segy_to_mdio(src.path, tmp_path / "zero.mdio", (189, 193), ("inline", "crossline"))
    reader = MDIOReader(str(tmp_path / "zero.mdio"))
    assert reader.stats == {"mean": 0.0, "std": 0.0, "rms": 0.0, "min": 0.0, "max": 0.0}
    assert reader.trace_count == 6
    assert MDIOReader(str(tmp_path / "zero.mdio"), return_metadata=True)[...][0].all()


# --- the reference document's examples (local paths) ------------------------------------------------------------
def test_reference_example_3d_post_stack_default_chunks(tmp_path: Path) -> None:
    (tmp_path / "prefix1").mkdir()
    cols, idx = grid_columns({189: np.arange(100, 140, 2), 193: np.arange(2000, 2015)})
    write_segy(tmp_path / "prefix1" / "file.segy", cols, ramp_samples(idx, 40), fmt=1)
    view = read_with_segyio(tmp_path / "prefix1" / "file.segy", [189, 193])
    from mdio_catalog import segy_to_mdio as top_level

    top_level(
        segy_path=str(tmp_path / "prefix1/file.segy"),
        mdio_path_or_buffer=str(tmp_path / "prefix2/file.mdio"),
        index_bytes=(189, 193),
        index_names=("inline", "crossline"),
    )
    out = tmp_path / "prefix2" / "file.mdio"
    check_grid(out, ("inline", "crossline"), [view.words[189], view.words[193]], view.traces)
    assert zarray(out, "chunked_012")["chunks"] == [64, 64, 64]


def test_reference_example_3d_chunksize(tmp_path: Path) -> None:
    live = np.ones((10, 12), dtype=bool)
    live[::3, 5] = False
    cols, idx = grid_columns({189: np.arange(10), 193: np.arange(12)}, live)
    write_segy(tmp_path / "file.segy", cols, ramp_samples(idx, 30))
    view = read_with_segyio(tmp_path / "file.segy", [189, 193])
    segy_to_mdio(
        segy_path=str(tmp_path / "file.segy"),
        mdio_path_or_buffer=str(tmp_path / "file.mdio"),
        index_bytes=(189, 193),
        index_names=("inline", "crossline"),
        chunksize=(64, 64, 512),
    )
    check_grid(tmp_path / "file.mdio", ("inline", "crossline"), [view.words[189], view.words[193]], view.traces)
    assert zarray(tmp_path / "file.mdio", "chunked_012")["chunks"] == [64, 64, 512]
    headers = json.loads((tmp_path / "file.mdio/metadata/chunked_012_trace_headers/.zarray").read_text())
    assert headers["chunks"] == [64, 64]


def test_reference_example_4d_pre_stack(tmp_path: Path) -> None:
    live = np.ones((6, 5, 4), dtype=bool)
    live[0, 0, :] = False  # a missing gather
    live[3, 2, 1] = False  # a missing offset
    cols, idx = grid_columns({189: np.arange(20, 26), 193: np.arange(40, 45), 37: [150, 300, 450, 600]}, live)
    write_segy(
        tmp_path / "file.segy",
        {**cols, 21: np.arange(len(idx))},
        ramp_samples(idx, 25),
        fmt=1,
        order=shuffled(len(idx), 5),
    )
    view = read_with_segyio(tmp_path / "file.segy", [189, 193, 37, 21])
    segy_to_mdio(
        segy_path=str(tmp_path / "file.segy"),
        mdio_path_or_buffer=str(tmp_path / "file.mdio"),
        index_bytes=(189, 193, 37),
        index_names=("inline", "crossline", "offset"),
        chunksize=(16, 16, 16, 512),
    )
    out = tmp_path / "file.mdio"
    reader, _, headers, _, index = check_grid(
        out, ("inline", "crossline", "offset"), [view.words[189], view.words[193], view.words[37]], view.traces
    )
    assert zarray(out, "chunked_0123")["chunks"] == [16, 16, 16, 512]
    np.testing.assert_array_equal(headers["source_to_receiver_distance"][tuple(index.T)], view.words[37])
    np.testing.assert_array_equal(headers["ensemble_num"][tuple(index.T)], view.words[21])
    assert reader.trace_count == 6 * 5 * 4 - 5


# --- bad input: precise errors, nothing left behind, an existing dataset untouched ---------------------------------
@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    cols, idx = grid_columns({189: [1, 2, 3, 4, 5], 193: [10, 11, 12, 13]})
    path = tmp_path / "src" / "small.sgy"
    path.parent.mkdir()
    write_segy(
        path,
        {**cols, 37: np.full(len(idx), 7), 181: 10 * np.arange(len(idx)), 185: np.arange(len(idx))},
        ramp_samples(idx, 12),
        fmt=1,
    )
    return path


def patched_copy(src: Path, dst: Path, edit: Callable[[bytearray], bytearray]) -> Path:
    dst.write_bytes(bytes(edit(bytearray(src.read_bytes()))))
    return dst


def set_word(raw: bytearray, offset: int, value: int, size: int = 2) -> bytearray:
    raw[offset : offset + size] = int(value).to_bytes(size, "big", signed=True)
    return raw


BadCase = tuple[str, Callable[[Path, Path], Any], type[BaseException], str]


def _truncated(src: Path, out: Path) -> Any:
    bad = patched_copy(src, src.with_name("cut.sgy"), lambda b: b[:-37])
    return segy_to_mdio(bad, out, (189, 193), ("inline", "crossline"), overwrite=True)


def _format(code: int) -> Callable[[Path, Path], Any]:
    def run(src: Path, out: Path) -> Any:
        bad = patched_copy(src, src.with_name(f"fmt{code}.sgy"), lambda b: set_word(b, 3224, code))
        return segy_to_mdio(bad, out, (189, 193), ("inline", "crossline"), overwrite=True)

    return run


def _zero_samples(src: Path, out: Path) -> Any:
    def edit(b: bytearray) -> bytearray:
        n = (len(b) - 3600) // (240 + 12 * 4)
        traces = [b[3600 + i * 288 : 3600 + i * 288 + 240] for i in range(n)]
        head = set_word(b[:3600], 3220, 0)
        for t in traces:
            set_word(t, 114, 0)
        return head + b"".join(traces)

    bad = patched_copy(src, src.with_name("ns0.sgy"), edit)
    return segy_to_mdio(bad, out, (189, 193), ("inline", "crossline"), overwrite=True)


def _call(*args: Any, **kwargs: Any) -> Callable[[Path, Path], Any]:
    return lambda src, out: segy_to_mdio(src, out, *args, overwrite=True, **kwargs)


BAD_INPUTS: list[BadCase] = [
    ("truncated", _truncated, SegyTruncatedError, "truncated"),
    ("format 4", _format(4), SegyFormatError, "format 4"),
    ("format 13", _format(13), SegyFormatError, "13"),
    ("zero samples", _zero_samples, SegyFormatError, "zero samples"),
    ("byte 239", _call((239, 193), ("inline", "crossline")), HeaderFieldError, "239"),
    ("byte 0", _call((0, 193), ("inline", "crossline")), HeaderFieldError, "bytes 0"),
    (
        "byte 241 int16",
        _call((189, 241), ("inline", "crossline"), index_types=("int32", "int16")),
        HeaderFieldError,
        "241",
    ),
    (
        "bad index type",
        _call((189, 193), ("inline", "crossline"), index_types=("int32", "int128")),
        HeaderFieldError,
        "int128",
    ),
    ("duplicates", _call((189, 37), ("inline", "offset")), GridTraceCountError, r"inline=1, offset=7"),
    ("sparse", _call((181, 185), ("x", "y")), GridSparsityError, "20 traces"),
    ("chunks too short", _call((189, 193), ("inline", "crossline"), chunksize=(4, 4)), ShapeError, "chunksize"),
    ("chunks too long", _call((189, 193), ("inline", "crossline"), chunksize=(4, 4, 4, 4)), ShapeError, "4 entries"),
    ("chunk zero", _call((189, 193), ("inline", "crossline"), chunksize=(4, 0, 4)), ShapeError, "positive"),
    ("names length", _call((189, 193), ("inline",)), ShapeError, "index_names"),
    (
        "unknown override",
        _call((189, 193), ("inline", "crossline"), grid_overrides={"ChanelWrap": True}),
        GridOverrideError,
        "ChannelWrap",
    ),
    (
        "missing parameter",
        _call((189, 193), ("cable", "channel"), grid_overrides={"ChannelWrap": True}),
        GridOverrideError,
        "ChannelsPerCable",
    ),
    (
        "incompatible",
        _call(
            (189, 193),
            ("cable", "channel"),
            grid_overrides={"ChannelWrap": True, "ChannelsPerCable": 4, "AutoChannelWrap": True},
        ),
        GridOverrideError,
        "AutoChannelWrap",
    ),
    (
        "duplicates+nonbinned",
        _call(
            (189, 193),
            ("inline", "crossline"),
            grid_overrides={"HasDuplicates": True, "NonBinned": True, "chunksize": 4},
        ),
        GridOverrideError,
        "NonBinned",
    ),
    (
        "nonbinned without chunksize",
        _call((189,), ("inline",), grid_overrides={"NonBinned": True}),
        GridOverrideError,
        "chunksize",
    ),
    (
        "override needs names",
        _call((189, 193), ("inline", "crossline"), grid_overrides={"ChannelWrap": True, "ChannelsPerCable": 4}),
        GridOverrideError,
        "cable",
    ),
    ("computed index without CalculateCable", _call((189, None), ("inline", "crossline")), GridOverrideError, "byte"),
    (
        "overrides not a dict",
        _call((189, 193), ("inline", "crossline"), grid_overrides=["ChannelWrap"]),
        GridOverrideError,
        "mapping",
    ),
    (
        "wrong value type",
        _call((189, 193), ("cable", "channel"), grid_overrides={"ChannelWrap": True, "ChannelsPerCable": "800"}),
        GridOverrideError,
        "ChannelsPerCable",
    ),
    (
        "missing source",
        lambda src, out: segy_to_mdio(src.with_name("nope.sgy"), out, (189, 193), overwrite=True),
        MDIONotFoundError,
        "nope.sgy",
    ),
]


@pytest.mark.parametrize("existing", [False, True], ids=["fresh", "existing"])
@pytest.mark.parametrize(("name", "run", "error", "match"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_raises_and_leaves_nothing(
    tmp_path: Path,
    small_file: Path,
    name: str,
    run: Callable[[Path, Path], Any],
    error: type[BaseException],
    match: str,
    existing: bool,
) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "target.mdio"
    before: dict[str, bytes] = {}
    if existing:
        segy_to_mdio(small_file, out, (189, 193), ("inline", "crossline"), chunksize=(2, 2, 4))
        before = snapshot(out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GridSparsityWarning)
        with pytest.raises(error, match=match) as info:
            run(small_file, out)
    assert isinstance(info.value, MDIOError)
    if existing:
        assert snapshot(out) == before, "the previous dataset must be unchanged"
        assert siblings(out_dir) == ["target.mdio"]
        MDIOReader(str(out))  # still opens
    else:
        assert siblings(out_dir) == [], "nothing may be left at (or beside) the output path"


def test_duplicate_error_names_the_colliding_tuple(tmp_path: Path) -> None:
    cols, idx = grid_columns({189: [1, 2], 193: [5, 6], 37: [100, 200]})
    src = write_segy(tmp_path / "ps.sgy", cols, ramp_samples(idx, 4))
    with pytest.raises(GridTraceCountError) as info:
        segy_to_mdio(src.path, tmp_path / "o.mdio", (189, 193), ("inline", "crossline"))
    message = str(info.value)
    for pair in ("inline=1, crossline=5", "inline=1, crossline=6", "inline=2, crossline=5", "inline=2, crossline=6"):
        assert pair in message
    assert "8" in message
    assert "4" in message
    assert not (tmp_path / "o.mdio").exists()


def test_sparsity_warning_between_2x_and_10x(tmp_path: Path) -> None:
    live = np.eye(6, dtype=bool) | np.eye(6, k=1, dtype=bool)  # 11 traces on 36 cells: ratio 3.3
    cols, idx = grid_columns({189: np.arange(6), 193: np.arange(6)}, live)
    src = write_segy(tmp_path / "band.sgy", cols, ramp_samples(idx, 5))
    view = read_with_segyio(src.path, [189, 193])
    with pytest.warns(GridSparsityWarning, match="36 cells for 11 traces"):
        segy_to_mdio(src.path, tmp_path / "band.mdio", (189, 193), ("inline", "crossline"))
    check_grid(tmp_path / "band.mdio", ("inline", "crossline"), [view.words[189], view.words[193]], view.traces)


def test_sparsity_limit_is_a_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    live = np.eye(12, dtype=bool)  # 12 traces on 144 cells: ratio 12
    cols, idx = grid_columns({189: np.arange(12), 193: np.arange(12)}, live)
    src = write_segy(tmp_path / "diag.sgy", cols, ramp_samples(idx, 5))
    get_settings.cache_clear()
    try:
        with pytest.raises(GridSparsityError):
            segy_to_mdio(src.path, tmp_path / "diag.mdio", (189, 193))
        assert not (tmp_path / "diag.mdio").exists()
        monkeypatch.setenv("MDIO_CATALOG_SPARSITY__ERROR_RATIO", "20")
        get_settings.cache_clear()
        with pytest.warns(GridSparsityWarning):
            segy_to_mdio(src.path, tmp_path / "diag.mdio", (189, 193))
        assert MDIOReader(str(tmp_path / "diag.mdio")).trace_count == 12
    finally:
        monkeypatch.delenv("MDIO_CATALOG_SPARSITY__ERROR_RATIO", raising=False)
        get_settings.cache_clear()


def test_existing_target_without_overwrite(tmp_path: Path, small_file: Path) -> None:
    out = tmp_path / "t.mdio"
    segy_to_mdio(small_file, out, (189, 193), ("inline", "crossline"))
    before = snapshot(out)
    with pytest.raises(MDIOAlreadyExistsError):
        segy_to_mdio(small_file, out, (189, 193), ("inline", "crossline"), chunksize=(1, 1, 4))
    assert snapshot(out) == before
    # a non-empty folder that is not a dataset is protected too
    other = tmp_path / "notes"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(MDIOAlreadyExistsError):
        segy_to_mdio(small_file, other, (189, 193))
    assert (other / "keep.txt").read_text() == "mine"
    assert siblings(other) == ["keep.txt"]
    # overwrite=True replaces it
    segy_to_mdio(small_file, out, (189, 193), ("inline", "crossline"), chunksize=(1, 1, 4), overwrite=True)
    assert MDIOReader(str(out)).chunks == (1, 1, 4)


@pytest.mark.parametrize("existing", [False, True], ids=["fresh", "existing"])
def test_interruption_mid_write_leaves_nothing(
    tmp_path: Path, small_file: Path, monkeypatch: pytest.MonkeyPatch, existing: bool
) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "t.mdio"
    before: dict[str, bytes] = {}
    if existing:
        segy_to_mdio(small_file, out, (189, 193), ("inline", "crossline"))
        before = snapshot(out)
    original = segy_blocks.BlockWriter.write
    calls = {"n": 0}
    lock = threading.Lock()

    def interrupted(self: segy_blocks.BlockWriter, block: Any) -> Any:
        with lock:
            calls["n"] += 1
            n = calls["n"]
        if n == 3:
            raise KeyboardInterrupt
        return original(self, block)

    monkeypatch.setattr(segy_blocks.BlockWriter, "write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        segy_to_mdio(small_file, out, (189, 193), ("inline", "crossline"), chunksize=(1, 1, 4), overwrite=True)
    assert calls["n"] >= 3
    if existing:
        assert snapshot(out) == before
        assert siblings(out_dir) == ["t.mdio"]
    else:
        assert siblings(out_dir) == []
