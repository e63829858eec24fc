"""Trace-header columns: spec validation, every standard word against segyio, and all three scan paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import fsspec
import numpy as np
import pytest
import segyio

from mdio_catalog.core.headers import TRACE_HEADER_FIELDS
from mdio_catalog.exceptions import HeaderFieldError
from mdio_catalog.segy import trace_headers
from mdio_catalog.segy.formats import Endian
from mdio_catalog.segy.ibm import float_to_ibm, ibm_to_float
from mdio_catalog.segy.source import FsspecSource, LocalSource
from mdio_catalog.segy.trace_headers import (
    HeaderField,
    columns_from_raw,
    header_field,
    normalize_fields,
    read_header_columns,
    standard_field,
)
from tests.segy.conftest import MakeSegy

# segyio has no 8-byte word at 233; everything else of the v0 table is a standard segyio word
SEGYIO_COMPARABLE = [(n, t, b) for n, t, b in TRACE_HEADER_FIELDS if t != "int64"]


def test_header_field_validation_names_the_field() -> None:
    assert header_field("inline", 189) == HeaderField("inline", 189, "int32")
    assert header_field("x", 239, "int16").byte == 239
    assert header_field("y", 240, "INT8").type == "int8"
    with pytest.raises(HeaderFieldError, match=r"'late': bytes 239\.\.242 \(int32\)"):
        header_field("late", 239, "int32")
    with pytest.raises(HeaderFieldError, match=r"'zero': bytes 0\.\.1"):
        header_field("zero", 0, "int16")
    with pytest.raises(HeaderFieldError, match="'il': unknown type 'int33', did you mean 'int32'"):
        header_field("il", 189, "int33")
    with pytest.raises(HeaderFieldError, match="'il': byte must be an integer"):
        header_field("il", "189", "int32")  # type: ignore[arg-type]
    with pytest.raises(HeaderFieldError, match="'il': byte must be an integer"):
        header_field("il", True, "int32")


def test_normalize_accepts_every_spec_shape() -> None:
    class Spec:  # stands in for a pydantic model with name/byte/type
        name, byte, type = "cdp_x", 181, "int32"

    fields = normalize_fields(
        [
            "inline",
            ("crossline", 193),
            ("offset", 37, "int32"),
            {"name": "scalar", "byte": 71, "type": "int16"},
            HeaderField("ibm", 1, "ibm32"),
            Spec(),
        ]
    )
    assert [f.name for f in fields] == ["inline", "crossline", "offset", "scalar", "ibm", "cdp_x"]
    assert fields[0] == HeaderField("inline", 189, "int32")
    mapped = normalize_fields({"il": 189, "xl": (193, "int32"), "sc": {"byte": 71, "type": "int16"}})
    assert mapped == (HeaderField("il", 189), HeaderField("xl", 193), HeaderField("sc", 71, "int16"))
    with pytest.raises(HeaderFieldError, match="given twice"):
        normalize_fields(["inline", ("inline", 9)])
    with pytest.raises(HeaderFieldError, match="did you mean 'crossline'"):
        normalize_fields(["crosline"])
    with pytest.raises(HeaderFieldError, match="no 'name'"):
        normalize_fields([{"byte": 9}])
    with pytest.raises(HeaderFieldError, match="cannot read"):
        normalize_fields([3.5])
    with pytest.raises(HeaderFieldError, match="cannot read a byte"):
        normalize_fields({"x": object()})
    assert standard_field("samples_per_trace") == HeaderField("samples_per_trace", 115, "int16")


@pytest.mark.parametrize("endian", ["big", "little"])
def test_every_standard_word_matches_segyio(make_segy: MakeSegy, endian: Endian) -> None:
    path = make_segy(fmt=1, endian=endian, n_traces=9, n_samples=5)
    source = LocalSource(path)
    fields = [(n, b, t) for n, t, b in SEGYIO_COMPARABLE]
    cols = read_header_columns(source, fields, data_offset=3600, trace_size=240 + 20, n_traces=9, endian=endian)
    with segyio.open(str(path), ignore_geometry=True, endian=endian) as f:
        for name, _, byte in SEGYIO_COMPARABLE:
            np.testing.assert_array_equal(cols[name], f.attributes(byte)[:], err_msg=name)
    assert cols["inline"].dtype == np.int32
    assert cols["trace_id_code"].dtype == np.int16
    assert cols["source_to_receiver_distance"].tolist() == [-500 + 37 * i for i in range(9)]
    source.close()


def synthetic_headers(n: int, endian: Endian) -> tuple[np.ndarray, list[Any], dict[str, np.ndarray]]:
    """Raw headers holding known values of every supported type at odd (unaligned) bytes."""
    order: Literal[">", "<"] = ">" if endian == "big" else "<"
    rng = np.random.default_rng(11)
    raw = rng.integers(0, 256, (n, 240), dtype=np.uint8)
    expected: dict[str, tuple[int, np.ndarray]] = {
        "i8": (3, rng.integers(-128, 127, n).astype(np.int8)),
        "u8": (4, rng.integers(0, 255, n).astype(np.uint8)),
        "i16": (5, rng.integers(-(2**15), 2**15 - 1, n).astype(np.int16)),
        "u16": (7, rng.integers(0, 2**16 - 1, n).astype(np.uint16)),
        "i32": (9, rng.integers(-(2**31), 2**31 - 1, n).astype(np.int32)),
        "u32": (13, rng.integers(0, 2**32 - 1, n).astype(np.uint32)),
        "i64": (17, rng.integers(-(2**62), 2**62, n).astype(np.int64)),
        "u64": (25, rng.integers(0, 2**63, n).astype(np.uint64)),
        "f16": (33, rng.standard_normal(n).astype(np.float16)),
        "f32": (35, rng.standard_normal(n).astype(np.float32)),
        "f64": (39, rng.standard_normal(n).astype(np.float64)),
        "ibm": (233, ibm_to_float(float_to_ibm(np.linspace(-3, 3, n)))),
    }
    types = {"i8": "int8", "u8": "uint8", "i16": "int16", "u16": "uint16", "i32": "int32", "u32": "uint32"}
    types |= {"i64": "int64", "u64": "uint64", "f16": "float16", "f32": "float32", "f64": "float64"}
    types["ibm"] = "ibm32"
    for key, (byte, values) in expected.items():
        disk = (
            float_to_ibm(values).astype(f"{order}u4")
            if key == "ibm"
            else values.astype(values.dtype.newbyteorder(order))
        )
        raw[:, byte - 1 : byte - 1 + disk.itemsize] = disk.view(np.uint8).reshape(n, -1)
    specs = [(key, byte, types[key]) for key, (byte, _) in expected.items()]
    return raw, specs, {k: v for k, (_, v) in expected.items()}


@pytest.mark.parametrize("endian", ["big", "little"])
def test_columns_of_every_type(endian: Endian) -> None:
    raw, specs, expected = synthetic_headers(50, endian)
    cols = columns_from_raw(raw, specs, endian)
    for key, values in expected.items():
        assert cols[key].dtype == values.dtype, key
        assert cols[key].dtype.isnative, key
        np.testing.assert_array_equal(cols[key], values, err_msg=key)
    # rows may be strided, as in a memory map of whole traces
    wide = np.zeros((50, 400), dtype=np.uint8)
    wide[:, :240] = raw
    strided = columns_from_raw(wide[:, :240], specs, endian)
    assert all(np.array_equal(strided[k], cols[k]) for k in cols)
    with pytest.raises(ValueError, match="shape"):
        columns_from_raw(raw[:, :100], specs, endian)


def test_scan_paths_agree(make_segy: MakeSegy, monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_segy(fmt=5, endian="little", n_traces=37, n_samples=11)
    fields = ["inline", "crossline", "cdp_x", "coordinate_scalar", ("ibm_at_1", 1, "ibm32")]
    layout = {"data_offset": 3600, "trace_size": 240 + 44, "n_traces": 37, "endian": "little"}
    local = LocalSource(path)
    reference = read_header_columns(local, fields, **layout)  # type: ignore[arg-type]
    url = f"memory://scan/{path.name}"
    with fsspec.open(url, "wb") as fh:
        fh.write(Path(path).read_bytes())
    remote = FsspecSource(url)
    for chunk in (1, 300, 10_000, 1 << 26):  # chunks of 1 trace, a few traces, and everything
        for source in (local, remote):
            got = read_header_columns(source, fields, chunk_bytes=chunk, **layout)  # type: ignore[arg-type]
            assert all(np.array_equal(got[k], reference[k]) for k in reference), (source, chunk)
        part = read_header_columns(local, fields, start=5, stop=29, chunk_bytes=chunk, **layout)  # type: ignore[arg-type]
        assert all(np.array_equal(part[k], reference[k][5:29]) for k in reference)
    monkeypatch.setattr(trace_headers, "RANGED_READ_THRESHOLD", 100)  # force one ranged read per header
    ranged = read_header_columns(remote, fields, chunk_bytes=1000, **layout)  # type: ignore[arg-type]
    assert all(np.array_equal(ranged[k], reference[k]) for k in reference)
    assert reference["inline"].tolist() == [100 + i // 4 for i in range(37)]
    empty = read_header_columns(local, fields, start=7, stop=7, **layout)  # type: ignore[arg-type]
    assert all(v.size == 0 for v in empty.values())
    with pytest.raises(IndexError):
        read_header_columns(local, fields, start=30, stop=40, **layout)  # type: ignore[arg-type]
    local.close()
    fsspec.filesystem("memory").rm(url)
