"""Binary header: every field against segyio, byte-exact re-encoding, byte-order detection."""

from __future__ import annotations

import numpy as np
import pytest
import segyio

from mdio_catalog.core.headers import BINARY_HEADER_FIELDS
from mdio_catalog.exceptions import HeaderFieldError, SegyFormatError
from mdio_catalog.segy.binary_header import (
    detect_endian,
    encode_binary_header,
    endian_scores,
    parse_binary_header,
    read_word,
)
from mdio_catalog.segy.formats import Endian
from tests.segy.conftest import MakeSegy

# segyio's names for words whose types agree between segyio and the table (rev 1 part of the header)
SEGYIO_WORDS = {
    "job_id": segyio.BinField.JobID,
    "line_num": segyio.BinField.LineNumber,
    "reel_num": segyio.BinField.ReelNumber,
    "data_traces_per_ensemble": segyio.BinField.Traces,
    "sample_interval": segyio.BinField.Interval,
    "samples_per_trace": segyio.BinField.Samples,
    "data_sample_format": segyio.BinField.Format,
    "ensemble_fold": segyio.BinField.EnsembleFold,
    "trace_sorting_code": segyio.BinField.SortingCode,
    "measurement_system_code": segyio.BinField.MeasurementSystem,
    "fixed_length_trace_flag": segyio.BinField.TraceFlag,
    "num_extended_text_headers": segyio.BinField.ExtendedHeaders,
}


def random_header(seed: int = 0) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, 400, dtype=np.uint8).tobytes()


@pytest.mark.parametrize("endian", ["big", "little"])
def test_parse_matches_segyio(make_segy: MakeSegy, endian: Endian) -> None:
    path = make_segy(fmt=5, endian=endian, n_samples=23, dt=1500)
    with segyio.open(str(path), ignore_geometry=True, endian=endian) as f:
        f.bin  # noqa: B018 - segyio reads the header lazily
        expected = {name: f.bin[key] for name, key in SEGYIO_WORDS.items()}
    raw = path.read_bytes()[3200:3600]
    parsed = parse_binary_header(raw, endian)
    assert set(parsed) == {name for name, _, _ in BINARY_HEADER_FIELDS}
    assert {name: parsed[name] for name in SEGYIO_WORDS} == expected
    assert parsed["samples_per_trace"] == 23
    assert parsed["sample_interval"] == 1500
    assert parsed["data_sample_format"] == 5


@pytest.mark.parametrize("endian", ["big", "little"])
def test_encode_round_trip_keeps_unknown_bytes(endian: Endian) -> None:
    raw = random_header(1)
    values = parse_binary_header(raw, endian)
    assert encode_binary_header(values, endian, original=raw) == raw
    # the named fields alone rebuild every named byte; unnamed bytes come back as zeros
    rebuilt = encode_binary_header(values, endian)
    assert parse_binary_header(rebuilt, endian) == values
    # unassigned bytes 3533..3600 survive edits when the original is given
    edited = encode_binary_header({"samples_per_trace": 60000}, endian, original=raw)
    assert edited[332:] == raw[332:]
    assert read_word(edited, 3221, "uint16", endian) == 60000
    assert parse_binary_header(edited, endian)["samples_per_trace"] == 60000  # unsigned, as counts are


def test_encode_errors() -> None:
    with pytest.raises(HeaderFieldError, match="did you mean 'samples_per_trace'"):
        encode_binary_header({"samples_per_trac": 10})
    with pytest.raises(HeaderFieldError, match="does not fit 16 bits"):
        encode_binary_header({"samples_per_trace": 70000})
    with pytest.raises(HeaderFieldError, match="needs an integer"):
        encode_binary_header({"sample_interval": 2.5})
    with pytest.raises(HeaderFieldError, match="needs an integer"):
        encode_binary_header({"sample_interval": "x"})  # type: ignore[dict-item]
    with pytest.raises(SegyFormatError, match="400 bytes"):
        parse_binary_header(b"short")
    with pytest.raises(HeaderFieldError, match=r"outside bytes 3201\.\.3600"):
        read_word(bytes(400), 3599, "int32", "big")


def test_float_and_uint8_fields() -> None:
    raw = encode_binary_header(
        {"extended_sample_interval": 0.25, "segy_revision_major": 2, "segy_revision_minor": 1}, "little"
    )
    parsed = parse_binary_header(raw, "little")
    assert parsed["extended_sample_interval"] == 0.25
    assert (parsed["segy_revision_major"], parsed["segy_revision_minor"]) == (2, 1)
    assert raw[300:302] == b"\x02\x01"


def _header(endian: Endian, **values: int) -> bytes:
    return encode_binary_header(values, endian)


@pytest.mark.parametrize("endian", ["big", "little"])
def test_detect_endian(endian: Endian) -> None:
    other: Endian = "little" if endian == "big" else "big"
    # the rev 2 constant wins even against a format code that reads valid the other way
    assert detect_endian(_header(endian, byte_order=0x01020304, data_sample_format=0)) == endian
    raw = bytearray(_header(other, data_sample_format=5))
    raw[96:100] = _header(endian, byte_order=0x01020304)[96:100]
    assert detect_endian(bytes(raw)) == endian
    # a format code valid in one byte order only
    assert detect_endian(_header(endian, data_sample_format=1, samples_per_trace=1500)) == endian
    # no format code: small sample counts and intervals decide
    assert detect_endian(_header(endian, samples_per_trace=751, sample_interval=2000)) == endian


def test_detect_endian_defaults_to_big() -> None:
    assert detect_endian(bytes(400)) == "big"
    assert endian_scores(bytes(400)) == {"big": 0, "little": 0}
