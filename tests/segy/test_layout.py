"""Layout resolution on synthetic files: every fallback, rev 2 extras, and the refusals with their numbers."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pytest

from mdio_catalog.exceptions import SegyFormatError, SegyTruncatedError
from mdio_catalog.segy.binary_header import encode_binary_header
from mdio_catalog.segy.formats import Endian, encode_samples
from mdio_catalog.segy.layout import SegyLayout, resolve_layout
from mdio_catalog.segy.text_header import encode_text_header


def build(
    *,
    endian: Endian = "big",
    fmt: int = 5,
    n_traces: int = 3,
    n_samples: int = 10,
    binary: Mapping[str, int | float] | None = None,
    trace_ns: int = 0,
    trace_dt: int = 0,
    ext_text: tuple[str, ...] = (),
    extra_headers: int = 0,
    trailer: int = 0,
    cut: int = 0,
) -> bytes:
    """A SEG-Y file in memory; ``binary`` entries override the defaults written to the binary header."""
    values: dict[str, int | float] = {
        "data_sample_format": fmt,
        "samples_per_trace": n_samples,
        "sample_interval": 2000,
        "num_extended_text_headers": len(ext_text),
    }
    values.update(binary or {})
    head = encode_text_header("C 1 synthetic") + encode_binary_header(values, endian)
    head += b"".join(encode_text_header(t, "ascii") for t in ext_text)
    order = ">" if endian == "big" else "<"
    traces = []
    for i in range(n_traces):
        header = np.zeros(240 * (1 + extra_headers), dtype=np.uint8)
        header[114:116] = np.array([trace_ns], dtype=f"{order}u2").view(np.uint8)
        header[116:118] = np.array([trace_dt], dtype=f"{order}i2").view(np.uint8)
        header[188:192] = np.array([i + 1], dtype=f"{order}i4").view(np.uint8)
        samples = encode_samples(np.arange(n_samples, dtype=np.float32)[None, :] + i, fmt, endian)
        traces.append(header.tobytes() + samples.tobytes())
    data = head + b"".join(traces) + encode_text_header("((SEG: Trailer))", "ascii") * trailer
    return data[: len(data) - cut] if cut else data


def resolve(data: bytes, **kwargs: object) -> SegyLayout:
    return resolve_layout(data[:3600], len(data), lambda off, n: data[off : off + n], url="mem.sgy", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("endian", ["big", "little"])
def test_plain_file(endian: Endian) -> None:
    layout = resolve(build(endian=endian, fmt=3, n_traces=4, n_samples=9))
    assert (layout.endian, layout.sample_format.code, layout.n_samples, layout.n_traces) == (endian, 3, 9, 4)
    assert (layout.data_offset, layout.trace_size, layout.sample_interval) == (3600, 240 + 18, 2000.0)
    assert layout.trace_offset(2) == 3600 + 2 * 258
    assert layout.extra_trace_headers == 0


def test_samples_from_trace_header_when_binary_says_zero() -> None:
    layout = resolve(build(n_samples=12, binary={"samples_per_trace": 0}, trace_ns=12))
    assert layout.n_samples == 12
    assert any("first trace header byte 115" in note for note in layout.notes)


def test_wrong_binary_count_falls_back_to_the_reading_that_fits() -> None:
    layout = resolve(build(n_samples=12, binary={"samples_per_trace": 15}, trace_ns=12))
    assert layout.n_samples == 12
    assert any("binary header byte 3221 says 15" in note for note in layout.notes)


def test_binary_wins_over_a_disagreeing_trace_header_when_it_fits() -> None:
    layout = resolve(build(n_samples=12, trace_ns=1500))  # viking_small.segy does this
    assert layout.n_samples == 12
    assert any("first trace header byte 115 says 1500" in note for note in layout.notes)


def test_sample_count_above_32767_is_unsigned() -> None:
    layout = resolve(build(n_samples=40000, n_traces=1))
    assert layout.n_samples == 40000


def test_rev2_extended_sample_count_and_interval() -> None:
    binary = {
        "segy_revision_major": 2,
        "samples_per_trace": 0,
        "extended_samples_per_trace": 70000,
        "sample_interval": 0,
        "extended_sample_interval": 0.5,
    }
    layout = resolve(build(n_samples=70000, n_traces=2, binary=binary))
    assert (layout.n_samples, layout.sample_interval, layout.revision) == (70000, 0.5, (2, 0))
    # before rev 2 the extended word is only a last resort
    layout = resolve(build(n_samples=7, binary={"extended_samples_per_trace": 9}))
    assert layout.n_samples == 7


def test_extended_interval_must_agree_with_the_binary_interval() -> None:
    binary = {"byte_order": 0x01020304, "extended_sample_interval": 1.1e15}  # decrement.sgy-style garbage
    assert resolve(build(binary=binary)).sample_interval == 2000.0
    binary = {"byte_order": 0x01020304, "extended_sample_interval": 2000.25}
    assert resolve(build(binary=binary)).sample_interval == 2000.25


def test_interval_from_trace_header_or_unknown() -> None:
    layout = resolve(build(binary={"sample_interval": 0}, trace_dt=500))
    assert layout.sample_interval == 500.0
    layout = resolve(build(binary={"sample_interval": 0}, trace_dt=-25000))
    assert layout.sample_interval == 0.0
    assert any("unknown" in note for note in layout.notes)


def test_rev2_trace_header_extensions_and_trailer() -> None:
    binary = {"segy_revision_major": 2, "segy_revision_minor": 1, "num_data_trailer_stanzas": 2}
    data = build(n_traces=5, n_samples=6, extra_headers=2, trailer=2, binary=binary)
    # the table types 3507 as int32, real rev 2 files write an int16 there: write it as such
    data = data[:3506] + (2).to_bytes(2, "big") + data[3508:]
    layout = resolve(data)
    assert (layout.trace_header_size, layout.extra_trace_headers) == (720, 2)
    assert (layout.n_traces, layout.trailer_size) == (5, 6400)
    assert layout.trace_size == 720 + 24


def test_extended_text_headers_counted_and_variable() -> None:
    data = build(ext_text=("((A))", "((B))"))
    layout = resolve(data)
    assert layout.data_offset == 3600 + 6400
    assert len(layout.extended_text) == 2
    assert layout.n_traces == 3
    variable = build(ext_text=("((A))", "((SEG: EndText))"), binary={"num_extended_text_headers": -1})
    assert resolve(variable).data_offset == 3600 + 6400


def test_overrides() -> None:
    data = build(fmt=5)
    layout = resolve(data, sample_format=2)
    assert layout.sample_format.code == 2
    assert any("sample format 2 (int32) given" in note for note in layout.notes)
    assert resolve(data, endian="big").endian == "big"


def test_undecided_byte_order_is_settled_by_the_file_size() -> None:
    # a little-endian file whose format code is 0 (told by the caller) and whose sample count (512, bytes
    # 00 02) reads smaller big-endian: the weak guess is wrong, the file size is not
    data = build(endian="little", fmt=5, n_samples=512, binary={"data_sample_format": 0, "sample_interval": 0})
    layout = resolve(data, sample_format=5)
    assert (layout.endian, layout.n_samples) == ("little", 512)


def test_zero_traces_is_a_valid_empty_file() -> None:
    layout = resolve(build(n_traces=0))
    assert (layout.n_traces, layout.n_samples) == (0, 10)


def test_refusals() -> None:
    with pytest.raises(SegyTruncatedError, match=r"100 bytes is shorter than the 3600-byte"):
        resolve(build()[:100])
    with pytest.raises(SegyTruncatedError) as info:
        resolve(build(n_traces=3, n_samples=10, cut=7))
    message = str(info.value)
    for number in ("file size 4433 bytes", "833 bytes after byte 3600", "280 bytes per trace", "2 traces + 273"):
        assert number in message
    with pytest.raises(SegyFormatError, match="zero samples per trace"):
        resolve(build(binary={"samples_per_trace": 0}))
    with pytest.raises(SegyFormatError, match=r"sample format code 99.*Seismic Unix"):
        resolve(build(binary={"data_sample_format": 99}))
    with pytest.raises(SegyFormatError, match="fixed point with gain"):
        resolve(build(binary={"data_sample_format": 4}))
    with pytest.raises(SegyTruncatedError, match="extended textual header 2"):
        resolve(build(n_traces=0, ext_text=("((A))",), binary={"num_extended_text_headers": 2}))
