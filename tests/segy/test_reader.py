"""SegyFile against segyio on generated files: every format and byte order, local and fsspec, many threads."""

from __future__ import annotations

import pickle
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import fsspec
import numpy as np
import pytest
import segyio

from mdio_catalog.core.headers import TRACE_HEADER_FIELDS
from mdio_catalog.exceptions import MDIONotFoundError, SegyError, SegyTruncatedError
from mdio_catalog.segy.formats import Endian
from mdio_catalog.segy.reader import SegyFile
from tests.segy.conftest import MakeSegy

SEGYIO_FORMATS = [1, 2, 3, 5, 6, 8, 9, 10, 11, 12, 16]


def segyio_read(path: Path, endian: str) -> tuple[np.ndarray, dict[int, np.ndarray], dict[str, int]]:
    with segyio.open(str(path), ignore_geometry=True, endian=endian) as f:
        samples = f.trace.raw[:]
        words = {b: f.attributes(b)[:] for b in (1, 9, 13, 37, 71, 181, 185, 189, 193, 109, 115, 117)}
        meta = {"n": f.tracecount, "ns": len(f.samples), "fmt": int(f.format)}
    return samples, words, meta


@pytest.mark.parametrize("endian", ["big", "little"])
@pytest.mark.parametrize("fmt", SEGYIO_FORMATS)
def test_matches_segyio(make_segy: MakeSegy, fmt: int, endian: Endian) -> None:
    path = make_segy(fmt=fmt, endian=endian, n_traces=10, n_samples=13, dt=1250)
    samples, words, _ = segyio_read(path, endian)
    with SegyFile(path) as f:
        assert (f.endian, f.sample_format, f.n_traces, f.n_samples) == (endian, fmt, 10, 13)
        assert (f.sample_interval, f.data_offset) == (1250.0, 3600)
        assert f.trace_size == 240 + 13 * f.format_info.itemsize
        headers, native = f.read_traces(dtype=None)
        assert native.dtype == samples.dtype
        np.testing.assert_array_equal(native, samples)
        _, as_f32 = f.read_traces(2, 7)
        assert as_f32.dtype == np.float32
        np.testing.assert_array_equal(as_f32, samples[2:7].astype(np.float32))
        raw = path.read_bytes()
        for i in (0, 9):
            start = 3600 + i * f.trace_size
            assert headers[i].tobytes() == raw[start : start + 240]
        cols = f.header_columns([(str(b), b, "int16" if b in (71, 109, 115, 117) else "int32") for b in words])
        for byte, values in words.items():
            np.testing.assert_array_equal(cols[str(byte)], values, err_msg=str(byte))
        assert f.binary_header["data_sample_format"] == fmt
        assert f.text_header[0].startswith("C 1")
        assert f.text_encoding == "ebcdic"
        np.testing.assert_array_equal(f.raw_trace_headers(3, 6), headers[3:6])


def test_header_views(make_segy: MakeSegy) -> None:
    path = make_segy(fmt=1, endian="little", n_traces=8)
    with SegyFile(path) as f, segyio.open(str(path), ignore_geometry=True, endian="little") as g:
        structured = f.trace_headers(2, 5)
        assert structured.dtype.names == tuple(n for n, _, _ in TRACE_HEADER_FIELDS)
        for k, i in enumerate(range(2, 5)):
            assert structured["inline"][k] == g.header[i][segyio.TraceField.INLINE_3D]
            assert structured["coordinate_scalar"][k] == -100
            assert structured["delay_recording_time"][k] == -12
        assert f.raw_file_header == path.read_bytes()[:3600]
        assert f.raw_binary_header == path.read_bytes()[3200:3600]
        assert f.raw_text_header == path.read_bytes()[:3200]
        assert "traces=8" in repr(f)


def test_scattered_reads(make_segy: MakeSegy) -> None:
    path = make_segy(fmt=3, n_traces=40, n_samples=9)
    with SegyFile(path) as f:
        headers, samples = f.read_traces(dtype=None)
        idx = np.array([39, 0, 5, 6, 7, 5, 20, 21, 38, 39, 1])
        h, s = f.read_trace_indices(idx, dtype=None)
        np.testing.assert_array_equal(s, samples[idx])
        np.testing.assert_array_equal(h, headers[idx])
        h0, s0 = f.read_trace_indices([])
        assert h0.shape == (0, 240)
        assert s0.shape == (0, 9)
        blocks = list(f.iter_traces(block=16))
        assert [b[0] for b in blocks] == [0, 16, 32]
        np.testing.assert_array_equal(np.concatenate([b[2] for b in blocks]), samples.astype(np.float32))
        with pytest.raises(IndexError):
            f.read_trace_indices([40])
        with pytest.raises(IndexError):
            f.read_traces(5, 41)
        with pytest.raises(IndexError):
            f.header_columns(["inline"], -1)


def test_concurrent_reads_from_many_threads(make_segy: MakeSegy) -> None:
    path = make_segy(fmt=1, n_traces=300, n_samples=64)
    with SegyFile(path) as f:
        _, everything = f.read_traces()
        rng = np.random.default_rng(3)
        ranges = [tuple(sorted(rng.integers(0, 301, 2))) for _ in range(400)]

        def job(r: tuple[int, int]) -> bool:
            lo, hi = int(r[0]), int(r[1])
            _, s = f.read_traces(lo, hi)
            cols = f.header_columns(["trace_seq_num_line"], lo, hi)
            return np.array_equal(s, everything[lo:hi]) and cols["trace_seq_num_line"].tolist() == list(
                range(lo + 1, hi + 1)
            )

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert all(pool.map(job, ranges))


def test_pickle_reopens(make_segy: MakeSegy) -> None:
    path = make_segy(fmt=5, n_traces=4)
    with SegyFile(path, sample_format=5) as f:
        clone = pickle.loads(pickle.dumps(f))
        np.testing.assert_array_equal(clone.read_traces()[1], f.read_traces()[1])
        assert clone.layout == f.layout
        clone.close()


def test_fsspec_urls(make_segy: MakeSegy) -> None:
    path = make_segy(fmt=1, endian="little", n_traces=11, n_samples=7, ext_headers=2)
    with SegyFile(path) as local:
        expected = local.read_traces()
        columns = local.header_columns(["inline", "crossline"])
        assert local.data_offset == 3600 + 2 * 3200
        assert len(local.extended_text_headers) == 2
        assert all(len(block) == 40 for block in local.extended_text_headers)
    url = "memory://segy-reader/file.sgy"
    with fsspec.open(url, "wb") as fh:
        fh.write(path.read_bytes())
    for source in (url, f"file://{path}", str(path)):
        with SegyFile(source, storage_options={}) as f:
            assert f.n_traces == 11
            got = f.read_traces()
            np.testing.assert_array_equal(got[0], expected[0])
            np.testing.assert_array_equal(got[1], expected[1])
            cols = f.header_columns(["inline", "crossline"])
            assert all(np.array_equal(cols[k], columns[k]) for k in columns)
            np.testing.assert_array_equal(f.read_trace_indices([10, 2])[1], expected[1][[10, 2]])
    fsspec.filesystem("memory").rm(url)


def test_missing_and_wrong_paths(tmp_path: Path) -> None:
    with pytest.raises(MDIONotFoundError, match="not found"):
        SegyFile(tmp_path / "nope.sgy")
    with pytest.raises(FileNotFoundError):
        SegyFile(str(tmp_path / "nope.sgy"))
    with pytest.raises(MDIONotFoundError):
        SegyFile("memory://segy-reader/missing.sgy")
    with pytest.raises(SegyError, match="directory"):
        SegyFile(tmp_path)
    short = tmp_path / "short.sgy"
    short.write_bytes(b"\x40" * 1000)
    with pytest.raises(SegyTruncatedError, match="1000 bytes is shorter"):
        SegyFile(short)


def test_truncated_generated_file(make_segy: MakeSegy, tmp_path: Path) -> None:
    path = make_segy(fmt=1, n_traces=5, n_samples=10)
    cut = tmp_path / "cut.sgy"
    cut.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(SegyTruncatedError, match=r"4 traces \+ 277 bytes"):
        SegyFile(cut)


def test_file_changed_after_open(make_segy: MakeSegy) -> None:
    path = make_segy(fmt=1, n_traces=5, n_samples=10)
    with SegyFile(path) as f:
        path.write_bytes(path.read_bytes()[:-280])
        with pytest.raises(SegyTruncatedError, match="short read"):
            f.read_traces()
        with pytest.raises(SegyTruncatedError, match="short read"):
            f.read_trace_indices([4])


def test_file_with_headers_only(tmp_path: Path) -> None:
    from mdio_catalog.segy.binary_header import encode_binary_header
    from mdio_catalog.segy.text_header import encode_text_header

    path = tmp_path / "empty.sgy"
    path.write_bytes(
        encode_text_header("C 1 no traces") + encode_binary_header({"data_sample_format": 1, "samples_per_trace": 5})
    )
    with SegyFile(path) as f:
        assert (f.n_traces, f.n_samples) == (0, 5)
        headers, samples = f.read_traces()
        assert headers.shape == (0, 240)
        assert samples.shape == (0, 5)
        assert f.header_columns(["inline"])["inline"].shape == (0,)
