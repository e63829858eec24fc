"""SEG-Y header tables against independent oracles: the v0 JSON table, segyio's field constants and bytes
written by segyio, and the binary-header key list of mdio-v0-format.md."""

from __future__ import annotations

import itertools
import json
import re
import struct
from pathlib import Path

import numpy as np
import pytest
import segyio

from mdio_catalog.core.headers import (
    BINARY_HEADER_FIELDS,
    BINARY_HEADER_SIZE,
    TEXT_HEADER_SIZE,
    TRACE_HEADER_DTYPE,
    TRACE_HEADER_FIELDS,
    TRACE_HEADER_SIZE,
    V0_BINARY_HEADER_KEYS,
    trace_header_dtype,
)

REFERENCE_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference"
FIELDS_JSON = REFERENCE_DIR / "mdio-v0-trace-header-fields.json"
FORMAT_MD = REFERENCE_DIR / "mdio-v0-format.md"


def _public(cls: type) -> dict[str, int]:
    return {k: int(v) for k, v in vars(cls).items() if not k.startswith("_") and isinstance(v, int)}


SEGYIO_TRACE = _public(segyio.TraceField)  # name -> 1-based byte
SEGYIO_BIN = _public(segyio.BinField)


@pytest.fixture(scope="module")
def json_table() -> list[list]:
    if not FIELDS_JSON.is_file():
        pytest.skip(f"reference table {FIELDS_JSON} is absent (../shared/reference not mounted)")
    return json.loads(FIELDS_JSON.read_text())


def test_sizes():
    assert (TRACE_HEADER_SIZE, TEXT_HEADER_SIZE, BINARY_HEADER_SIZE) == (240, 3200, 400)
    assert TRACE_HEADER_DTYPE.itemsize == 240


def test_trace_table_equals_reference_json(json_table):
    assert len(json_table) == 90
    assert [list(f) for f in TRACE_HEADER_FIELDS] == json_table


def test_trace_dtype_follows_reference_json(json_table):
    dtype = TRACE_HEADER_DTYPE
    assert list(dtype.names) == [name for name, _, _ in json_table]
    for name, type_name, byte in json_table:
        field_dtype, offset = dtype.fields[name][:2]
        assert offset == byte - 1, name
        assert field_dtype == np.dtype(type_name).newbyteorder("<"), name


def test_trace_fields_tile_240_bytes():
    spans = sorted((offset, offset + dt.itemsize) for dt, offset in (v[:2] for v in TRACE_HEADER_DTYPE.fields.values()))
    assert spans[0][0] == 0
    assert spans[-1][1] == 240
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end == start  # no gap, no overlap


def test_trace_positions_and_widths_match_segyio():
    # segyio lists every trace-header word; a word's width is the distance to the next one (240 bytes total).
    starts = sorted(SEGYIO_TRACE.values())
    width = {s: e - s for s, e in zip(starts, [*starts[1:], 241], strict=True)}
    ours = {byte: np.dtype(t).itemsize for _, t, byte in TRACE_HEADER_FIELDS}
    # The v0 table merges segyio's two trailing 4-byte unassigned words into one int64.
    assert SEGYIO_TRACE["UnassignedInt1"] == 233
    assert SEGYIO_TRACE["UnassignedInt2"] == 237
    assert set(ours) == set(width) - {237}
    for byte, size in ours.items():
        expected = 8 if byte == 233 else width[byte]
        assert size == expected, byte


@pytest.mark.parametrize(
    ("segyio_name", "ours"),
    [
        ("INLINE_3D", "inline"),
        ("CROSSLINE_3D", "crossline"),
        ("CDP_X", "cdp_x"),
        ("CDP_Y", "cdp_y"),
        ("offset", "source_to_receiver_distance"),
        ("SourceGroupScalar", "coordinate_scalar"),
        ("TRACE_SAMPLE_COUNT", "samples_per_trace"),
        ("TRACE_SAMPLE_INTERVAL", "sample_interval"),
        ("ShotPoint", "shot_point"),
        ("FieldRecord", "orig_field_record_num"),
        ("CDP", "ensemble_num"),
        ("SourceX", "source_coord_x"),
        ("GroupY", "group_coord_y"),
    ],
)
def test_named_trace_fields_at_segyio_positions(segyio_name, ours):
    assert TRACE_HEADER_DTYPE.fields[ours][1] == SEGYIO_TRACE[segyio_name] - 1


def test_segyio_constants_sanity():
    assert segyio.TraceField.INLINE_3D == 189
    assert segyio.TraceField.CROSSLINE_3D == 193
    assert segyio.BinField.Samples == 3221


@pytest.fixture(scope="module")
def segy_bytes(tmp_path_factory) -> tuple[bytes, dict[int, int], dict[int, int], int]:
    """A tiny SEG-Y written by segyio with a distinct value in every header word."""
    path = tmp_path_factory.mktemp("segy") / "headers.sgy"
    spec = segyio.spec()
    spec.format = 5
    spec.samples = list(range(4))
    spec.tracecount = 2
    spec.iline, spec.xline = 189, 193
    trace_values = {byte: (i + 1) * 3 - 200 for i, byte in enumerate(sorted(SEGYIO_TRACE.values()))}
    bin_values = {
        byte: 10 + i
        for i, (name, byte) in enumerate(sorted(SEGYIO_BIN.items(), key=lambda kv: kv[1]))
        if not name.startswith("Unassigned") and name not in ("Samples", "Format")
    }
    with segyio.create(str(path), spec) as f:
        for t in range(spec.tracecount):
            f.header[t] = {byte: value * (t + 1) for byte, value in trace_values.items()}
            f.trace[t] = np.zeros(4, dtype=np.float32)
        f.bin.update(bin_values)
    return path.read_bytes(), trace_values, bin_values, 4


def test_big_endian_dtype_reads_segyio_trace_headers(segy_bytes):
    raw, trace_values, _, nsamples = segy_bytes
    trace_size = TRACE_HEADER_SIZE + 4 * nsamples
    for t in range(2):
        start = 3600 + t * trace_size
        header = np.frombuffer(raw[start : start + 240], dtype=trace_header_dtype(">"))[0]
        for name, _, byte in TRACE_HEADER_FIELDS:
            if name == "unassigned":
                expected = (trace_values[233] * (t + 1) << 32) + trace_values[237] * (t + 1)
            else:
                expected = trace_values[byte] * (t + 1)
            assert int(header[name]) == expected, (t, name)


def test_little_endian_dtype_is_byte_swapped_big_endian(segy_bytes):
    raw, _, _, _ = segy_bytes
    big = np.frombuffer(raw[3600:3840], dtype=trace_header_dtype(">"))
    little = big.astype(TRACE_HEADER_DTYPE)
    assert TRACE_HEADER_DTYPE.fields["inline"][0].byteorder in ("<", "=")
    assert little.tobytes() != big.tobytes()
    assert int(little["inline"][0]) == struct.unpack(">i", raw[3600 + 188 : 3600 + 192])[0]
    assert struct.unpack("<i", little.tobytes()[188:192])[0] == int(little["inline"][0])


def test_binary_fields_at_segyio_positions_decode_segyio_values(segy_bytes):
    raw, _, bin_values, nsamples = segy_bytes
    ours = {byte: (name, np.dtype(t)) for name, t, byte in BINARY_HEADER_FIELDS}
    bin_values = {**bin_values, segyio.BinField.Samples: nsamples, segyio.BinField.Format: 5}
    for byte, value in bin_values.items():
        assert byte in ours, f"no binary field at byte {byte}"
        name, dtype = ours[byte]
        decoded = np.frombuffer(raw[byte - 1 : byte - 1 + dtype.itemsize], dtype=dtype.newbyteorder(">"))[0]
        assert int(decoded) == value, name


@pytest.mark.parametrize(
    ("segyio_name", "ours"),
    [
        ("JobID", "job_id"),
        ("Interval", "sample_interval"),
        ("Samples", "samples_per_trace"),
        ("Format", "data_sample_format"),
        ("SortingCode", "trace_sorting_code"),
        ("MeasurementSystem", "measurement_system_code"),
        ("ExtSamples", "extended_samples_per_trace"),
        ("SEGYRevision", "segy_revision_major"),
        ("SEGYRevisionMinor", "segy_revision_minor"),
        ("TraceFlag", "fixed_length_trace_flag"),
        ("ExtendedHeaders", "num_extended_text_headers"),
    ],
)
def test_named_binary_fields(segyio_name, ours):
    positions = {name: byte for name, _, byte in BINARY_HEADER_FIELDS}
    assert positions[ours] == SEGYIO_BIN[segyio_name]


def test_binary_fields_do_not_overlap_and_fit():
    spans = sorted((byte, byte + np.dtype(t).itemsize) for _, t, byte in BINARY_HEADER_FIELDS)
    assert spans[0][0] >= TEXT_HEADER_SIZE + 1
    assert spans[-1][1] <= TEXT_HEADER_SIZE + BINARY_HEADER_SIZE + 1
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end <= start
    names = [name for name, _, _ in BINARY_HEADER_FIELDS]
    assert len(set(names)) == len(names)


def test_v0_binary_keys_match_format_document():
    if not FORMAT_MD.is_file():
        pytest.skip(f"format document {FORMAT_MD} is absent (../shared/reference not mounted)")
    text = FORMAT_MD.read_text()
    section = text[text.index("`binary_header` = dict") : text.index("- The trace-header dtype")]
    documented = re.findall(r"`([a-z_]+)`", section)
    documented = [k for k in documented if k != "binary_header"]
    assert tuple(documented) == V0_BINARY_HEADER_KEYS
    names = {name for name, _, _ in BINARY_HEADER_FIELDS}
    assert set(V0_BINARY_HEADER_KEYS) <= names
