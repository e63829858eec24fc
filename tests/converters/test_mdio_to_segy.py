"""mdio_to_segy end to end: SEG-Y -> MDIO -> SEG-Y.

Oracles: the source file's own bytes (byte comparison, record by record), segyio reading the export, and numpy
(selection masks, grid order by ``np.lexsort`` of the index words read straight from the raw trace headers).
Sources are generated with segyio (``segy_factory``) or are the public files in ``<repo>/../shared/data/segy``.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import segyio

import mdio_catalog
from mdio_catalog import MDIOReader, MDIOWriter, rechunk
from mdio_catalog.converters import numpy_to_mdio
from mdio_catalog.converters.mdio_to_segy import ExportPrecisionWarning, mdio_to_segy
from mdio_catalog.converters.segy import segy_to_mdio
from mdio_catalog.exceptions import (
    AccessPatternError,
    AccessPatternNotFoundError,
    ArgumentError,
    ExportError,
    MDIOError,
    MDIONotFoundError,
    ShapeError,
    StorageError,
)
from mdio_catalog.settings import get_settings
from tests.converters.segy_factory import (
    FORMAT_DTYPES,
    SEGYIO_WRITABLE_FORMATS,
    V0_BINARY_FIELDS,
    correct_segyio_ibm,
    grid_columns,
    ibm_words,
    ramp_samples,
    random_samples,
    shuffled,
    write_segy,
)

#: The module itself (``mdio_catalog.converters.mdio_to_segy`` the attribute is the function of that name).
export_module = importlib.import_module("mdio_catalog.converters.mdio_to_segy")

#: tests/objectstores.py provides the ``s3_bucket`` fixture (a local moto S3 server), registered by tests/conftest.py.
HAVE_OBJECTSTORES = importlib.util.find_spec("tests.objectstores") is not None

#: Bytes per sample of each SEG-Y sample format.
ITEMSIZE = {1: 4, 2: 4, 3: 2, 5: 4, 6: 8, 7: 3, 8: 1, 9: 8, 10: 4, 11: 2, 12: 8, 16: 1}
BYTE_ORDER_CONSTANT = 0x01020304


# --- helpers (numpy on raw bytes; no library code) ---------------------------------------------------------------
def pattern_of(ndim: int) -> str:
    return "".join(str(i) for i in range(ndim))


def split(path: Path, trace_size: int, header_size: int = 3600) -> tuple[bytes, npt.NDArray[np.uint8]]:
    """A fixed-length SEG-Y file as (file header bytes, (n_traces, trace_size) records)."""
    raw = Path(path).read_bytes()
    body = np.frombuffer(raw, dtype=np.uint8, offset=header_size)
    assert body.size % trace_size == 0, f"{path}: {body.size} bytes after the header is not n x {trace_size}"
    return raw[:header_size], body.reshape(-1, trace_size)


def word(records: npt.NDArray[np.uint8], byte: int, endian: str, kind: str = "i4") -> npt.NDArray[np.int64]:
    """A trace-header word of every record (1-based byte), decoded with numpy."""
    size = np.dtype(kind).itemsize
    dt = np.dtype(kind).newbyteorder(">" if endian == "big" else "<")
    return np.ascontiguousarray(records[:, byte - 1 : byte - 1 + size]).view(dt).reshape(-1).astype(np.int64)


def ibm_exact(words: npt.NDArray[np.unsignedinteger]) -> npt.NDArray[np.float64]:
    """IBM single-precision words decoded exactly (24-bit fraction x 16^(e-64) always fits a float64)."""
    w = np.asarray(words, dtype=np.uint64)
    sign = np.where((w >> 31) & 1, -1.0, 1.0)
    exponent = ((w >> 24) & 0x7F).astype(np.int64)
    return sign * np.ldexp((w & 0xFFFFFF).astype(np.float64), 4 * (exponent - 64) - 24)


def unnormalised_ibm(words: npt.NDArray[np.unsignedinteger]) -> npt.NDArray[np.bool_]:
    """IBM words whose fraction is non-zero but starts with a zero hex digit (not the canonical encoding)."""
    w = np.asarray(words, dtype=np.uint64)
    return ((w & 0x00F00000) == 0) & ((w & 0x00FFFFFF) != 0)


def grid_order(records: npt.NDArray[np.uint8], index_bytes: Sequence[int], endian: str) -> npt.NDArray[np.int64]:
    """Permutation that puts the records in grid (C) order: ascending first index, then the next, ..."""
    keys = [word(records, b, endian) for b in index_bytes]
    return np.lexsort(keys[::-1])


def partials(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".partial-" in p.name)


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def segyio_read(path: Path, endian: str, words: Sequence[int] = (189, 193)) -> dict[str, Any]:
    with segyio.open(str(path), ignore_geometry=True, endian=endian) as f:
        return {
            "traces": np.atleast_2d(f.trace.raw[:]),
            "words": {b: np.asarray(f.attributes(b)[:], dtype=np.int64) for b in words},
            "binary": {k: int(f.bin[v]) for k, v in V0_BINARY_FIELDS.items()},
            "format": int(f.format),
            "samples": np.asarray(f.samples),
            "tracecount": f.tracecount,
            "text": bytes(f.text[0]),
        }


def exact_samples(n: int, ns: int, fmt: int, seed: int) -> np.ndarray:
    """Samples of ``fmt``'s type that float32 holds exactly, with the extremes of what is exact included."""
    dtype = FORMAT_DTYPES[fmt]
    rng = np.random.default_rng(seed)
    if fmt in (1, 5):
        return random_samples(n, ns, fmt, seed, zero_fraction=0.1)
    if fmt == 6:  # float64 samples that are float32 values
        return random_samples(n, ns, 5, seed, zero_fraction=0.1).astype(np.float64)
    if fmt in (2, 9):  # int32 / int64: |v| <= 2^24
        values = rng.integers(-(2**24), 2**24, size=(n, ns), endpoint=True).astype(dtype)
        values[0, :2] = (2**24, -(2**24))
    elif fmt in (10, 12):  # uint32 / uint64: v <= 2^24
        values = rng.integers(0, 2**24, size=(n, ns), endpoint=True).astype(dtype)
        values[0, 0] = 2**24
    else:  # int8, int16, uint8, uint16: the whole range is exact in float32
        values = random_samples(n, ns, fmt, seed, zero_fraction=0.1)
        info = np.iinfo(dtype)
        values[0, :2] = (info.min, info.max)
    values[values.shape[0] // 2] = 0  # a live trace of zeros
    return values


def ingest(src: Path, out: Path, index_bytes: Sequence[int], chunks: tuple[int, ...] | None = None) -> Path:
    names = ("inline", "crossline", "offset")[: len(index_bytes)]
    segy_to_mdio(src, out, index_bytes=tuple(index_bytes), index_names=names, chunksize=chunks)
    return out


def make_3d(folder: Path, fmt: int = 1, endian: str = "big", *, order: Any = None, seed: int = 0) -> Path:
    """A 6 x 5 grid, 3 cells missing, 13 samples, in grid order unless ``order`` is given."""
    live = np.ones((6, 5), dtype=bool)
    live[1, 4] = live[3, 0] = live[5, 2] = False
    cols, idx = grid_columns({189: [10, 12, 14, 16, 18, 20], 193: [100, 101, 102, 103, 104]}, live)
    n = len(idx)
    headers = {**cols, 1: np.arange(1, n + 1), 21: 700 + np.arange(n), 37: 25 * np.arange(n), 181: 1000 * idx[:, 0]}
    src = write_segy(folder / "src.sgy", headers, exact_samples(n, 13, fmt, seed), fmt=fmt, endian=endian, order=order)
    return src.path


# --- public import paths -------------------------------------------------------------------------------------------
def test_public_import_paths() -> None:
    from mdio_catalog.converters import mdio_to_segy as converters_level

    assert mdio_catalog.mdio_to_segy is mdio_to_segy
    assert converters_level is mdio_to_segy
    assert "mdio_to_segy" in mdio_catalog.__all__


# --- round trips of generated files ------------------------------------------------------------------------------
@pytest.mark.parametrize("endian", ["big", "little"])
@pytest.mark.parametrize("fmt", SEGYIO_WRITABLE_FORMATS)
def test_generated_file_in_grid_order_round_trips_byte_for_byte(tmp_path: Path, fmt: int, endian: str) -> None:
    """The source with missing traces, in grid order, IS the expected export (dead cells are not written)."""
    src = make_3d(tmp_path, fmt, endian, seed=fmt)
    ingest(src, tmp_path / "a.mdio", (189, 193), chunks=(4, 2, 8))  # blocks straddle rows and the sample axis
    out = tmp_path / "out.sgy"
    with warnings.catch_warnings():
        warnings.simplefilter("error", ExportPrecisionWarning)  # exact values: no precision warning
        mdio_to_segy(tmp_path / "a.mdio", out, endian=endian)
    assert out.read_bytes() == src.read_bytes()
    # segyio reads the export as it reads the source
    got, want = segyio_read(out, endian), segyio_read(src, endian)
    assert got["tracecount"] == 27
    assert got["format"] == fmt
    np.testing.assert_array_equal(got["traces"], want["traces"])
    for byte in (189, 193):
        np.testing.assert_array_equal(got["words"][byte], want["words"][byte])
    assert listing(tmp_path) == ["a.mdio", "out.sgy", "src.sgy"]


def test_shuffled_source_exports_in_grid_order(tmp_path: Path) -> None:
    src = make_3d(tmp_path, 1, order=shuffled(27, seed=5))
    ingest(src, tmp_path / "a.mdio", (189, 193), chunks=(2, 3, 13))
    out = tmp_path / "out.sgy"
    mdio_to_segy(tmp_path / "a.mdio", out)
    trace_size = 240 + 13 * 4
    src_header, src_records = split(src, trace_size)
    out_header, out_records = split(out, trace_size)
    order = grid_order(src_records, (189, 193), "big")
    assert not np.array_equal(order, np.arange(27)), "the source must really be shuffled"
    assert out_header == src_header
    np.testing.assert_array_equal(out_records, src_records[order])
    # trace by trace against segyio reading the source sorted by (inline, crossline)
    want, got = segyio_read(src, "big", (1, 21, 189, 193)), segyio_read(out, "big", (1, 21, 189, 193))
    key = np.lexsort((want["words"][193], want["words"][189]))
    np.testing.assert_array_equal(got["traces"], want["traces"][key])
    for byte in (1, 21, 189, 193):
        np.testing.assert_array_equal(got["words"][byte], want["words"][byte][key], err_msg=str(byte))
    assert np.all(np.diff(got["words"][189] * 1000 + got["words"][193]) > 0)


def test_pre_stack_4d_with_missing_traces_and_decreasing_offsets(tmp_path: Path) -> None:
    live = np.random.default_rng(3).random((3, 4, 3)) > 0.25
    cols, idx = grid_columns({189: [1, 2, 3], 193: [5, 6, 7, 8], 37: [300, 200, 100]}, live)
    n = len(idx)
    src = write_segy(tmp_path / "ps.sgy", cols, ramp_samples(idx, 7), fmt=5)  # offsets written decreasing
    ingest(src.path, tmp_path / "ps.mdio", (189, 193, 37), chunks=(2, 3, 2, 7))
    out = tmp_path / "ps-out.sgy"
    mdio_to_segy(tmp_path / "ps.mdio", out, access_pattern="0123")
    header, records = split(src.path, 240 + 28)
    out_header, out_records = split(out, 240 + 28)
    order = grid_order(records, (189, 193, 37), "big")
    assert out_header == header
    assert out_records.shape[0] == n == int(live.sum())
    np.testing.assert_array_equal(out_records, records[order])
    offsets = word(out_records, 37, "big")
    assert np.any(np.diff(word(records, 37, "big")) < 0)  # the source really has decreasing offsets
    cell = word(out_records, 189, "big") * 100 + word(out_records, 193, "big")
    for key in np.unique(cell):  # within each (inline, crossline), offsets now ascend
        assert np.all(np.diff(offsets[cell == key]) > 0)


# --- precision: exact storage where float32 is not ------------------------------------------------------------
@pytest.mark.parametrize(("fmt", "endian"), [(2, "big"), (10, "little"), (9, "big"), (12, "little")])
def test_integers_beyond_2_24_come_back_exactly(tmp_path: Path, fmt: int, endian: str) -> None:
    """float32 cannot hold them: the sample array takes the format's own dtype and the export is the source."""
    dtype = FORMAT_DTYPES[fmt]
    cols, idx = grid_columns({189: [1, 2, 3], 193: [1, 2]})
    rng = np.random.default_rng(fmt)
    high = int(np.iinfo(dtype).max)
    samples = rng.integers(2**24 + 1, min(high, 2**62), size=(len(idx), 6), endpoint=True).astype(dtype)
    samples[0, 0] = 2**24 + 1  # odd beyond 2^24: float32 cannot hold it
    samples[1, 1] = 0
    samples[2, 2] = high  # the top of the type (float32 would round it past the range)
    if np.iinfo(dtype).min < 0:
        samples[3, 3] = np.iinfo(dtype).min  # and the bottom: all bits count, not only the magnitude
    src = write_segy(tmp_path / "w.sgy", cols, samples, fmt=fmt, endian=endian)
    ingest(src.path, tmp_path / "w.mdio", (189, 193))
    reader = MDIOReader(str(tmp_path / "w.mdio"))
    assert reader.dtype == dtype
    np.testing.assert_array_equal(reader[...].reshape(-1, 6), segyio_read(src.path, endian)["traces"])
    nonzero = samples[samples != 0].astype(np.float64)
    assert reader.stats["min"] == nonzero.min()
    assert reader.stats["max"] == nonzero.max()
    assert reader.stats["mean"] == pytest.approx(nonzero.mean(), rel=1e-12)
    out = tmp_path / "w-out.sgy"
    with warnings.catch_warnings():
        warnings.simplefilter("error", ExportPrecisionWarning)
        mdio_to_segy(tmp_path / "w.mdio", out, endian=endian)
    assert out.read_bytes() == src.path.read_bytes()


@pytest.mark.parametrize("fmt", [2, 9, 10, 12])
def test_integers_float32_holds_stay_float32(tmp_path: Path, fmt: int) -> None:
    """The v0 dtype whenever it is exact: integers up to 2^24 of the wide formats."""
    cols, idx = grid_columns({189: [1, 2, 3], 193: [1, 2]})
    src = write_segy(tmp_path / "n.sgy", cols, exact_samples(len(idx), 7, fmt, seed=fmt), fmt=fmt)
    ingest(src.path, tmp_path / "n.mdio", (189, 193))
    assert MDIOReader(str(tmp_path / "n.mdio")).dtype == np.float32
    mdio_to_segy(tmp_path / "n.mdio", tmp_path / "n-out.sgy")
    assert (tmp_path / "n-out.sgy").read_bytes() == src.path.read_bytes()


def test_lossy_ingestion_keeps_float32_and_warns_on_export(tmp_path: Path) -> None:
    """A lossy dataset is float32 (ZFP) whatever the source: the export warns about the rounding."""
    cols, idx = grid_columns({189: [1, 2, 3], 193: [1, 2]})
    samples = np.random.default_rng(1).integers(2**25, 2**30, size=(len(idx), 8)).astype(np.int32)
    src = write_segy(tmp_path / "l.sgy", cols, samples, fmt=2)
    segy_to_mdio(src.path, tmp_path / "l.mdio", (189, 193), lossless=False, compression_tolerance=1.0)
    assert MDIOReader(str(tmp_path / "l.mdio")).dtype == np.float32
    with pytest.warns(ExportPrecisionWarning, match="float32"):
        mdio_to_segy(tmp_path / "l.mdio", tmp_path / "l-out.sgy")


def test_float64_samples_come_back_exactly(tmp_path: Path) -> None:
    cols, idx = grid_columns({189: [1, 2], 193: [1, 2]})
    samples = np.random.default_rng(0).standard_normal((len(idx), 5)) / 3.0  # not float32 values
    src = write_segy(tmp_path / "d.sgy", cols, samples, fmt=6)
    ingest(src.path, tmp_path / "d.mdio", (189, 193))
    assert MDIOReader(str(tmp_path / "d.mdio")).dtype == np.float64
    mdio_to_segy(tmp_path / "d.mdio", tmp_path / "d-out.sgy")
    got = segyio_read(tmp_path / "d-out.sgy", "big")
    assert got["format"] == 6
    np.testing.assert_array_equal(got["traces"], samples)
    assert (tmp_path / "d-out.sgy").read_bytes() == src.path.read_bytes()


# --- endianness ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", [1, 3, 5, 6])
def test_big_endian_source_exported_little(tmp_path: Path, fmt: int) -> None:
    src = make_3d(tmp_path, fmt, "big", seed=2)
    ingest(src, tmp_path / "a.mdio", (189, 193))
    out = tmp_path / "le.sgy"
    mdio_to_segy(tmp_path / "a.mdio", out, endian="little")
    words = (1, 21, 37, 115, 117, 181, 189, 193)
    want, got = segyio_read(src, "big", words), segyio_read(out, "little", words)
    np.testing.assert_array_equal(got["traces"], want["traces"])
    for byte in words:
        np.testing.assert_array_equal(got["words"][byte], want["words"][byte], err_msg=str(byte))
    assert got["binary"] == want["binary"]
    assert got["text"] == want["text"]
    assert got["format"] == fmt
    np.testing.assert_array_equal(got["samples"], want["samples"])
    raw, out_raw = src.read_bytes(), out.read_bytes()
    assert out_raw[:3200] == raw[:3200]
    assert out_raw[3500:3502] == raw[3500:3502]  # revision bytes
    # trace records: header words and samples byte-swapped
    trace_size = 240 + 13 * ITEMSIZE[fmt]
    _, src_records = split(src, trace_size)
    _, out_records = split(out, trace_size)
    for byte in (1, 189, 193):
        np.testing.assert_array_equal(out_records[:, byte - 1 : byte + 3], src_records[:, byte - 1 : byte + 3][:, ::-1])
    size = ITEMSIZE[fmt]
    samples_src = src_records[:, 240:].reshape(len(src_records), -1, size)
    samples_out = out_records[:, 240:].reshape(len(out_records), -1, size)
    np.testing.assert_array_equal(samples_out, samples_src[:, :, ::-1])


def test_rev2_byte_order_constant_follows_the_export_byte_order(tmp_path: Path) -> None:
    """A big-endian rev 2 source carrying 0x01020304 at byte 3297: exported little-endian, the constant must
    read 0x01020304 in the new byte order (bytes 04 03 02 01), or rev 2 readers would take it for big-endian."""
    src = make_3d(tmp_path, 5, "big", seed=1)
    raw = bytearray(src.read_bytes())
    raw[3296:3300] = BYTE_ORDER_CONSTANT.to_bytes(4, "big")
    raw[3500:3502] = b"\x02\x00"
    src.write_bytes(bytes(raw))
    ingest(src, tmp_path / "a.mdio", (189, 193))
    mdio_to_segy(tmp_path / "a.mdio", tmp_path / "be.sgy", endian="big")
    assert (tmp_path / "be.sgy").read_bytes() == bytes(raw)
    mdio_to_segy(tmp_path / "a.mdio", tmp_path / "le.sgy", endian="little")
    le = (tmp_path / "le.sgy").read_bytes()
    assert le[3296:3300] == BYTE_ORDER_CONSTANT.to_bytes(4, "little")
    assert le[3500:3502] == b"\x02\x00"
    got, want = segyio_read(tmp_path / "le.sgy", "little"), segyio_read(src, "big")
    np.testing.assert_array_equal(got["traces"], want["traces"])
    assert got["binary"] == want["binary"]
    # and back: the little-endian export ingested and exported big is the source again
    ingest(tmp_path / "le.sgy", tmp_path / "b.mdio", (189, 193))
    mdio_to_segy(tmp_path / "b.mdio", tmp_path / "again.sgy", endian="big")
    assert (tmp_path / "again.sgy").read_bytes() == bytes(raw)


def test_dataset_without_stored_header_exported_little_has_the_constant(tmp_path: Path) -> None:
    volume = np.random.default_rng(2).normal(size=(3, 4, 9)).astype(np.float32)
    numpy_to_mdio(volume, str(tmp_path / "n.mdio"), (2, 2, 9))
    mdio_to_segy(tmp_path / "n.mdio", tmp_path / "n.sgy", endian="little")
    raw = (tmp_path / "n.sgy").read_bytes()
    assert raw[3296:3300] == BYTE_ORDER_CONSTANT.to_bytes(4, "little")
    assert raw[3500] == 2  # little-endian SEG-Y is a rev 2 feature
    got = segyio_read(tmp_path / "n.sgy", "little")
    np.testing.assert_array_equal(got["traces"], volume.reshape(-1, 9))


def test_bad_endian_is_refused_before_writing(tmp_path: Path) -> None:
    src = make_3d(tmp_path)
    ingest(src, tmp_path / "a.mdio", (189, 193))
    with pytest.raises(ExportError, match="endian"):
        mdio_to_segy(tmp_path / "a.mdio", tmp_path / "x.sgy", endian="middle")
    assert listing(tmp_path) == ["a.mdio", "src.sgy"]


# --- selection masks -----------------------------------------------------------------------------------------------
@pytest.fixture
def cube(tmp_path: Path) -> tuple[Path, Path, npt.NDArray[np.bool_]]:
    """(source SEG-Y in grid order, its MDIO, live mask)."""
    src = make_3d(tmp_path, 1, seed=7)
    mdio = ingest(src, tmp_path / "a.mdio", (189, 193), chunks=(4, 2, 13))
    live = np.ones((6, 5), dtype=bool)
    live[1, 4] = live[3, 0] = live[5, 2] = False
    return src, mdio, live


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_selection_mask_against_numpy(tmp_path: Path, cube: Any, seed: int) -> None:
    src, mdio, live = cube
    mask = np.random.default_rng(seed).random(live.shape) > 0.5
    mask[3, 0] = True  # selecting a dead cell exports nothing for it
    out = tmp_path / "sel.sgy"
    mdio_to_segy(mdio, out, selection_mask=mask)
    trace_size = 240 + 13 * 4
    header, records = split(src, trace_size)
    out_header, out_records = split(out, trace_size)
    # the source is in grid order: record k belongs to the k-th live cell in C order
    cells = np.argwhere(live)
    keep = mask[tuple(cells.T)]
    assert out_header == header
    np.testing.assert_array_equal(out_records, records[keep])
    got = segyio_read(out, "big")
    assert got["tracecount"] == int((mask & live).sum())
    il = np.array([10, 12, 14, 16, 18, 20])[np.argwhere(mask & live)[:, 0]]
    np.testing.assert_array_equal(got["words"][189], il)


def test_selection_mask_all_true_equals_no_mask(tmp_path: Path, cube: Any) -> None:
    src, mdio, live = cube
    mdio_to_segy(mdio, tmp_path / "all.sgy", selection_mask=np.ones(live.shape, dtype=bool))
    assert (tmp_path / "all.sgy").read_bytes() == src.read_bytes()


@pytest.mark.parametrize(
    ("make_mask", "error", "match"),
    [
        (lambda live: np.ones((5, 6), dtype=bool), ShapeError, "shape"),
        (lambda live: np.ones((*live.shape, 13), dtype=bool), ShapeError, "shape"),
        (lambda live: np.ones(live.size, dtype=bool), ShapeError, "shape"),
        (lambda live: np.zeros(live.shape, dtype=bool), ExportError, "select"),
        (lambda live: ~live, ExportError, "select"),  # only dead cells
    ],
    ids=["transposed", "with-samples", "flat", "nothing", "dead-only"],
)
def test_bad_selection_masks_write_nothing(tmp_path: Path, cube: Any, make_mask: Any, error: type, match: str) -> None:
    _, mdio, live = cube
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(error, match=match):
        mdio_to_segy(mdio, out_dir / "x.sgy", selection_mask=make_mask(live))
    assert listing(out_dir) == []


# --- new_chunks and access patterns --------------------------------------------------------------------------------
@pytest.mark.parametrize("new_chunks", [(1, 1, 13), (6, 5, 13), (4, 3, -1), (None, 2, None), (5, 4, 1)])
def test_new_chunks_give_the_same_bytes(tmp_path: Path, cube: Any, new_chunks: tuple[Any, ...]) -> None:
    src, mdio, _ = cube
    mdio_to_segy(mdio, tmp_path / "c.sgy", new_chunks=new_chunks)
    assert (tmp_path / "c.sgy").read_bytes() == src.read_bytes()


def test_new_chunks_of_the_wrong_length_write_nothing(tmp_path: Path, cube: Any) -> None:
    _, mdio, _ = cube
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(ShapeError, match="new_chunks"):
        mdio_to_segy(mdio, out_dir / "c.sgy", new_chunks=(2, 2))
    assert listing(out_dir) == []


def test_rechunked_access_pattern_gives_the_same_bytes(tmp_path: Path, cube: Any) -> None:
    src, mdio, _ = cube
    rechunk(MDIOWriter(str(mdio)), (1, 5, 4), "fast_il")
    mdio_to_segy(mdio, tmp_path / "fast.sgy", access_pattern="fast_il")
    assert (tmp_path / "fast.sgy").read_bytes() == src.read_bytes()


@pytest.mark.parametrize(
    ("pattern", "error"),
    [("01", AccessPatternNotFoundError), ("xyz", AccessPatternNotFoundError), ("0-1", AccessPatternError)],
)
def test_unknown_access_pattern_writes_nothing(tmp_path: Path, cube: Any, pattern: str, error: type) -> None:
    _, mdio, _ = cube
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(error, match="ccess pattern") as info:
        mdio_to_segy(mdio, out_dir / "x.sgy", access_pattern=pattern)
    assert isinstance(info.value, AccessPatternError)
    assert listing(out_dir) == []


# --- output path, missing input ------------------------------------------------------------------------------------
def test_missing_output_folder(tmp_path: Path, cube: Any) -> None:
    _, mdio, _ = cube
    with pytest.raises(ExportError, match="does not exist"):
        mdio_to_segy(mdio, tmp_path / "nope" / "x.sgy")
    assert not (tmp_path / "nope").exists()


def test_output_folder_is_a_file(tmp_path: Path, cube: Any) -> None:
    _, mdio, _ = cube
    (tmp_path / "plain").write_text("not a folder")
    with pytest.raises(MDIOError):
        mdio_to_segy(mdio, tmp_path / "plain" / "x.sgy")
    assert (tmp_path / "plain").read_text() == "not a folder"


def test_output_name_the_filesystem_refuses(tmp_path: Path, cube: Any) -> None:
    _, mdio, _ = cube
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(ArgumentError, match=r"output name 'x+'\.\.\. is 304 bytes; at most \d+ bytes") as info:
        mdio_to_segy(mdio, out_dir / ("x" * 300 + ".sgy"))  # NAME_MAX is 255, and the staged name is longer
    assert ".partial" not in str(info.value)
    assert listing(out_dir) == []


def test_output_path_is_a_folder(tmp_path: Path, cube: Any) -> None:
    _, mdio, _ = cube
    out_dir = tmp_path / "out"
    (out_dir / "x.sgy").mkdir(parents=True)
    (out_dir / "x.sgy" / "keep.txt").write_text("keep")
    with pytest.raises(ExportError, match=r"x\.sgy.*folder"):
        mdio_to_segy(mdio, out_dir / "x.sgy")
    assert listing(out_dir) == ["x.sgy"]
    assert (out_dir / "x.sgy" / "keep.txt").read_text() == "keep"


def test_unwritable_output_folder(cube: Any) -> None:
    # sysfs refuses new files even to root, so this holds whoever runs the tests (CI runs as root).
    _, mdio, _ = cube
    before = sorted(os.listdir("/sys"))
    with pytest.raises(StorageError, match=r"Cannot write /sys/x\.sgy"):
        mdio_to_segy(mdio, "/sys/x.sgy")
    assert sorted(os.listdir("/sys")) == before


def test_existing_output_is_replaced_when_complete(tmp_path: Path, cube: Any) -> None:
    src, mdio, _ = cube
    out = tmp_path / "x.sgy"
    out.write_bytes(b"old" * 10_000)
    mdio_to_segy(mdio, out)
    assert out.read_bytes() == src.read_bytes()
    assert partials(tmp_path) == []


def test_missing_dataset(tmp_path: Path) -> None:
    with pytest.raises(MDIONotFoundError):
        mdio_to_segy(tmp_path / "nope.mdio", tmp_path / "x.sgy")
    assert listing(tmp_path) == []


# --- interruption and streaming ------------------------------------------------------------------------------------
@pytest.fixture
def many_blocks(tmp_path: Path) -> tuple[Path, Path]:
    """A 10 x 12 cube in 1 x 1 chunks: 120 blocks of work."""
    cols, idx = grid_columns({189: np.arange(10), 193: np.arange(12)})
    src = write_segy(tmp_path / "m.sgy", cols, ramp_samples(idx, 8), fmt=1)
    return src.path, ingest(src.path, tmp_path / "m.mdio", (189, 193), chunks=(1, 1, 8))


@pytest.mark.parametrize("existing", [False, True], ids=["fresh", "existing"])
def test_interrupted_export_leaves_nothing(
    tmp_path: Path, many_blocks: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, existing: bool
) -> None:
    _, mdio = many_blocks
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "x.sgy"
    if existing:
        out.write_bytes(b"previous export")
    original = export_module.export_block
    calls = {"n": 0}
    lock = threading.Lock()

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        with lock:
            calls["n"] += 1
            n = calls["n"]
        if n >= 3:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(export_module, "export_block", interrupted)
    with pytest.raises(KeyboardInterrupt):
        mdio_to_segy(mdio, out)
    assert calls["n"] >= 3
    assert partials(out_dir) == []
    if existing:
        assert listing(out_dir) == ["x.sgy"]
        assert out.read_bytes() == b"previous export"
    else:
        assert listing(out_dir) == []


def test_export_streams_blocks_instead_of_reading_everything_first(
    tmp_path: Path, many_blocks: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    src, mdio = many_blocks
    original_block = export_module.export_block
    original_write = export_module.SegyWriter.write_traces
    state = {"started": 0, "at_first_write": None}
    lock = threading.Lock()

    def counting_block(*args: Any, **kwargs: Any) -> Any:
        with lock:
            state["started"] += 1
        return original_block(*args, **kwargs)

    def first_write(self: Any, first: int, records: Any) -> None:
        with lock:
            if state["at_first_write"] is None:
                state["at_first_write"] = state["started"]
        original_write(self, first, records)

    monkeypatch.setattr(export_module, "export_block", counting_block)
    monkeypatch.setattr(export_module.SegyWriter, "write_traces", first_write)
    mdio_to_segy(mdio, tmp_path / "s.sgy")
    assert state["started"] == 120
    assert state["at_first_write"] is not None
    assert state["at_first_write"] <= get_settings().workers + 2  # bounded number of blocks in flight
    assert (tmp_path / "s.sgy").read_bytes() == src.read_bytes()


# --- datasets made from numpy arrays (no stored SEG-Y header) ------------------------------------------------------
@pytest.mark.parametrize("endian", ["big", "little"])
def test_numpy_dataset_exports_a_valid_ieee_file(tmp_path: Path, endian: str) -> None:
    volume = np.random.default_rng(4).normal(size=(5, 3, 17)).astype(np.float32)
    volume[1, 1] = 0.0
    coords = {"inline": np.arange(5) + 100, "crossline": np.arange(3) * 2, "sample": np.arange(17) * 2}
    numpy_to_mdio(volume, str(tmp_path / "n.mdio"), (2, 2, 8), index_names=list(coords), index_coords=coords)
    out = tmp_path / "n.sgy"
    mdio_to_segy(tmp_path / "n.mdio", out, endian=endian)
    assert out.stat().st_size == 3600 + 15 * (240 + 17 * 4)
    got = segyio_read(out, endian)
    assert got["format"] == 5
    assert got["tracecount"] == 15
    np.testing.assert_array_equal(got["traces"], volume.reshape(-1, 17))
    assert got["binary"]["samples_per_trace"] == 17
    assert got["binary"]["sample_interval"] == 2000
    np.testing.assert_array_equal(got["samples"], np.arange(17) * 2.0)
    with segyio.open(str(out), ignore_geometry=True, endian=endian) as f:
        assert segyio.tools.dt(f) == 2000.0
    text = bytes(got["text"]).decode("latin-1")
    assert len(text) == 3200


def test_numpy_2d_dataset(tmp_path: Path) -> None:
    section = np.random.default_rng(5).normal(size=(7, 11)).astype(np.float32)
    numpy_to_mdio(section, str(tmp_path / "s.mdio"), (3, 11))
    mdio_to_segy(tmp_path / "s.mdio", tmp_path / "s.sgy", access_pattern="01")
    got = segyio_read(tmp_path / "s.sgy", "big")
    np.testing.assert_array_equal(got["traces"], section)
    assert got["format"] == 5


# --- a real dask cluster -------------------------------------------------------------------------------------------
def test_export_on_a_local_cluster(tmp_path: Path, cube: Any) -> None:
    distributed = pytest.importorskip("distributed")
    src, mdio, live = cube
    mask = np.random.default_rng(9).random(live.shape) > 0.3
    mdio_to_segy(mdio, tmp_path / "local.sgy", selection_mask=mask, new_chunks=(2, 2, 13))
    with (
        distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        mdio_to_segy(mdio, tmp_path / "cluster.sgy", client=client)
        mdio_to_segy(mdio, tmp_path / "cluster-sel.sgy", selection_mask=mask, new_chunks=(2, 2, 13), client=client)
        prefixes = client.run_on_scheduler(lambda dask_scheduler: sorted(dask_scheduler.task_prefixes))
    assert any("export_block" in p for p in prefixes), prefixes  # the blocks ran on the cluster
    assert (tmp_path / "cluster.sgy").read_bytes() == src.read_bytes()
    assert (tmp_path / "cluster-sel.sgy").read_bytes() == (tmp_path / "local.sgy").read_bytes()
    assert partials(tmp_path) == []


# --- object store --------------------------------------------------------------------------------------------------
@pytest.mark.objectstore
@pytest.mark.skipif(not HAVE_OBJECTSTORES, reason="tests/objectstores.py (the s3_bucket fixture) does not exist yet")
def test_dataset_on_s3_exports_with_storage_options(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    bucket = request.getfixturevalue("s3_bucket")
    src = make_3d(tmp_path, 5, seed=3)
    local = ingest(src, tmp_path / "cube.mdio", (189, 193), chunks=(4, 2, 13))
    url = bucket.url("cube.mdio")
    bucket.fs.put(str(local), url, recursive=True)  # uploaded with fsspec, so only the export is under test
    assert bucket.fs.exists(f"{url}/.zmetadata")
    out = tmp_path / "from-s3.sgy"
    mdio_to_segy(url, out, storage_options=bucket.storage_options)
    assert out.read_bytes() == src.read_bytes()


# --- the public SEG-Y files --------------------------------------------------------------------------------------
SEGY_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "segy"
MANIFEST: list[dict[str, Any]] = (
    json.loads((SEGY_DATA / "manifest.json").read_text()) if (SEGY_DATA / "manifest.json").is_file() else []
)
BY_NAME = {e["dst"]: e for e in MANIFEST}
NO_DATA = f"public SEG-Y test data not found at {SEGY_DATA} (expected <repo>/../shared/data/segy/manifest.json)"
#: Files with something the v0 layout cannot hold, kept in our own arrays so they too come back byte for byte.
SPECIAL = {
    "segyio/trace-header-extension1.sgy",  # rev 2.1 trace-header extensions
    "segyio/multiformats/Format10lsb.sgy",  # uint32 beyond 2^24
    "segyio/multiformats/Format12lsb.sgy",  # uint64 beyond 2^24
}


def index_bytes_of(entry: dict[str, Any]) -> tuple[int, ...] | None:
    """Index bytes from the manifest: segyio's il/xl[/offset] cube, "cells by bytes", or for the other
    unstructured files the first trace-header word whose values are unique per trace."""
    raw = entry["raw"]
    if entry["api"] not in ("segy", "none") or entry["reader"] == "fail" or raw["bin"]["format_3225"] == 4:
        return None
    expected = entry["expected"]
    if not expected.get("unstructured", True):
        kw = entry.get("kw", {})
        il, xl = kw.get("iline", 189), kw.get("xline", 193)
        return (il, xl, 37) if len(expected["offsets"]) > 1 else (il, xl)
    if "cells" in expected:
        return tuple(expected["cells"]["bytes"])
    for byte, facts in sorted(expected["trace_header_ranges"].items(), key=lambda kv: int(kv[0])):
        if facts["nunique"] == expected["tracecount"]:
            return (int(byte),)
    return None


#: Public IBM files holding unnormalised sample words (found by scanning their bytes; see the round-trip test).
UNNORMALISED_IBM = {"oneseismic/small-iline-5-xline-21.sgy", "obspy/00001034.sgy_first_trace"}
ROUND_TRIP_FILES = [e["dst"] for e in MANIFEST if index_bytes_of(e) is not None]


def real_layout(entry: dict[str, Any]) -> tuple[int, int, str]:
    """(file header size, trace size, endian) of a public file."""
    expected, raw = entry["expected"], entry["raw"]
    header = 3600 + 3200 * int(expected["ext_headers"])
    extra = int(raw["bin"].get("max_add_trhdr_3507_int16", 0)) if raw["bin"]["rev_3501_3502"][:2] in ("02", "03") else 0
    trace = 240 * (1 + extra) + int(expected["n_samples"]) * ITEMSIZE[raw["bin"]["format_3225"]]
    return header, trace, raw["endian"]


def real_round_trip(name: str, folder: Path, endian: str | None = None) -> tuple[Path, Path, tuple[int, ...]]:
    entry = BY_NAME[name]
    index = index_bytes_of(entry)
    assert index is not None
    src = SEGY_DATA / name
    mdio = ingest(src, folder / "a.mdio", index)
    out = folder / "out.sgy"
    mdio_to_segy(mdio, out, endian=endian or entry["raw"]["endian"], access_pattern=pattern_of(len(index) + 1))
    return src, out, index


@pytest.mark.realdata
@pytest.mark.skipif(not MANIFEST, reason=NO_DATA)
def test_public_file_coverage() -> None:
    assert len(ROUND_TRIP_FILES) >= 40
    assert set(ROUND_TRIP_FILES) >= UNNORMALISED_IBM | SPECIAL
    assert {
        "segyio/small.sgy",
        "segyio/f3.sgy",
        "segyio/f3-lsb.sgy",
        "segyio/small-lsb.sgy",
        "segyio/small-ps.sgy",
        "segyio/1xN.sgy",
        "segyio/long.sgy",
        "segyio/decrement.sgy",
        "segysak/volve10-migvel-depth-sub3d.sgy",
        "segysak/test-geometry.sgy",
        "seismic-zfp/padding_5x5.sgy",
        "seismic-zfp/small-irregular.sgy",
        "seismic-zfp/small_reverse_il.sgy",
        "segyio/small-ps-dec-il-xl-off.sgy",
        "segyio/small-ps-dec-il-inc-xl-off.sgy",
        "segyio/multiformats/Format7msb.sgy",
        "segyio/multi-text.sgy",
    } <= set(ROUND_TRIP_FILES)
    for fmt in (1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 16):
        assert f"segyio/multiformats/Format{fmt}{'lsb' if fmt in (2, 6, 10, 12) else 'msb'}.sgy" in ROUND_TRIP_FILES


@pytest.mark.realdata
@pytest.mark.skipif(not MANIFEST, reason=NO_DATA)
@pytest.mark.parametrize("name", ROUND_TRIP_FILES)
def test_public_file_round_trip(name: str, tmp_path: Path) -> None:
    """Export == the source's file header + its trace records stably sorted into grid order; so a source already
    in grid order comes back identical, byte for byte."""
    entry = BY_NAME[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ExportPrecisionWarning)
        src, out, index = real_round_trip(name, tmp_path)
    header_size, trace_size, endian = real_layout(entry)
    src_header, src_records = split(src, trace_size, header_size)
    out_header, out_records = split(out, trace_size, header_size)
    order = grid_order(src_records, index, endian)
    in_grid_order = bool(np.array_equal(order, np.arange(len(order))))
    decreasing = {
        "seismic-zfp/small_reverse_il.sgy",
        "segyio/small-ps-dec-il-xl-off.sgy",
        "segyio/small-ps-dec-il-inc-xl-off.sgy",
        "segyio/decrement.sgy",
        "segyio/shot-gather.sgy",
    }
    assert in_grid_order == (name not in decreasing)
    assert out_header == src_header
    expected = src_records[order]
    if entry["raw"]["bin"]["format_3225"] == 1:
        # unnormalised IBM words (leading hex digit 0, a non-canonical encoding of a value that has a normalised
        # one) come back with their own bits: float32 keeps the value, our side array the bits
        first = trace_size - int(entry["expected"]["n_samples"]) * 4
        src_words = np.ascontiguousarray(expected[:, first:]).view(">u4" if endian == "big" else "<u4")
        assert unnormalised_ibm(src_words).any() == (name in UNNORMALISED_IBM)
    np.testing.assert_array_equal(out_records, expected)
    if in_grid_order:
        assert out.read_bytes() == src.read_bytes()
    # segyio reads the export as it reads the source, sorted into grid order (segyio's fast IBM conversion
    # mis-decodes unnormalised words and sub-normal results: those are decoded exactly, as in the manifest)
    if entry["reader"] == "1.9":
        got, want = segyio_read(out, endian, index), segyio_read(src, endian, index)
        traces, exported = want["traces"], got["traces"]
        if entry["raw"]["bin"]["format_3225"] == 1:  # both readings, with segyio's known IBM errors corrected
            n_samples, ext = entry["expected"]["n_samples"], entry["expected"]["ext_headers"]
            traces = correct_segyio_ibm(traces, ibm_words(src, n_samples, endian, ext))
            exported = correct_segyio_ibm(exported, ibm_words(out, n_samples, endian, ext))
        np.testing.assert_array_equal(exported, traces[order])
        for byte in index:
            np.testing.assert_array_equal(got["words"][byte], want["words"][byte][order])
        assert np.all(np.diff(got["words"][index[0]]) >= 0)
        assert got["binary"] == want["binary"]


@pytest.mark.realdata
@pytest.mark.skipif(not MANIFEST, reason=NO_DATA)
@pytest.mark.parametrize(
    ("source", "twin", "endian"),
    [
        ("segyio/f3.sgy", "segyio/f3-lsb.sgy", "little"),
        ("segyio/f3-lsb.sgy", "segyio/f3.sgy", "big"),
        ("segyio/small.sgy", "segyio/small-lsb.sgy", "little"),
        ("segyio/small-lsb.sgy", "segyio/small.sgy", "big"),
    ],
)
def test_public_file_exported_in_the_other_byte_order_is_its_twin(
    tmp_path: Path, source: str, twin: str, endian: str
) -> None:
    """segyio's test set holds the same files in both byte orders: exporting one in the other order gives the
    other, byte for byte (the rev 2 byte-order word 3297-3300 may be set to 0x01020304 for a little export)."""
    _, out, _ = real_round_trip(source, tmp_path, endian=endian)
    got = np.frombuffer(out.read_bytes(), dtype=np.uint8)
    want = np.frombuffer((SEGY_DATA / twin).read_bytes(), dtype=np.uint8)
    assert got.size == want.size
    differ = np.flatnonzero(got != want)
    assert set(differ.tolist()) <= {3296, 3297, 3298, 3299}, differ[:10]
    assert bytes(got[3296:3300]) in (bytes(want[3296:3300]), BYTE_ORDER_CONSTANT.to_bytes(4, endian))


@pytest.mark.realdata
@pytest.mark.skipif(not MANIFEST, reason=NO_DATA)
@pytest.mark.parametrize("name", ["segyio/multiformats/Format10lsb.sgy", "segyio/multiformats/Format12lsb.sgy"])
def test_public_wide_unsigned_files_are_stored_exactly(name: str, tmp_path: Path) -> None:
    entry = BY_NAME[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ExportPrecisionWarning)
        src, out, _ = real_round_trip(name, tmp_path)
    assert out.read_bytes() == src.read_bytes()
    reader = MDIOReader(str(tmp_path / "a.mdio"))
    assert reader.dtype == FORMAT_DTYPES[entry["raw"]["bin"]["format_3225"]]
    got = segyio_read(src, entry["raw"]["endian"])["traces"]  # segyio reads these files in grid order
    np.testing.assert_array_equal(reader[...].reshape(got.shape), got)


@pytest.mark.realdata
@pytest.mark.skipif(not MANIFEST, reason=NO_DATA)
def test_public_file_with_trace_header_extensions(tmp_path: Path) -> None:
    """The rev 2.1 extension trace header (240 bytes after each standard one) is kept and exported back: the
    export is the source. Exported in the other byte order it is left out (its layout is not ours to swap), and
    the binary header then says so (bytes 3507-3508 = 0), so rev 2 readers (and segy_to_mdio) size traces right."""
    name = "segyio/trace-header-extension1.sgy"
    src, out, _ = real_round_trip(name, tmp_path)
    raw = src.read_bytes()
    assert raw[3506:3508] == b"\x00\x01"  # the source has one extension header per trace
    assert out.read_bytes() == raw
    src_records = np.frombuffer(raw, np.uint8, offset=3600).reshape(6, 240 + 240 + 16)
    with pytest.warns(ExportPrecisionWarning, match="additional 240-byte"):
        mdio_to_segy(tmp_path / "a.mdio", tmp_path / "little.sgy", endian="little")
    out_header, out_records = split(tmp_path / "little.sgy", 240 + 16)
    assert out_records.shape[0] == 6
    assert out_header[3506:3508] == b"\x00\x00", "binary header declares trace-header extensions the export lacks"
    with segyio.open(str(tmp_path / "little.sgy"), ignore_geometry=True, endian="little") as f:
        assert f.tracecount == 6
        assert float(f.trace.raw[:].astype(np.float64).sum()) == pytest.approx(52.92035198, rel=1e-6)
        np.testing.assert_array_equal(f.attributes(189)[:], word(src_records, 189, "big"))
    segy_to_mdio(tmp_path / "little.sgy", tmp_path / "again.mdio", (189, 193), ("inline", "crossline"))
    np.testing.assert_array_equal(
        MDIOReader(str(tmp_path / "again.mdio"))[...], MDIOReader(str(tmp_path / "a.mdio"))[...]
    )
    np.testing.assert_array_equal(
        MDIOReader(str(tmp_path / "again.mdio"))[...], MDIOReader(str(tmp_path / "a.mdio"))[...]
    )
