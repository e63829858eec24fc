"""Sample formats: every code decodes and encodes in both byte orders, 24-bit included."""

from __future__ import annotations

import numpy as np
import pytest

from mdio_catalog.exceptions import SegyFormatError
from mdio_catalog.segy.formats import (
    SAMPLE_FORMATS,
    Endian,
    decode_samples,
    encode_samples,
    get_format,
    is_known_format,
)
from mdio_catalog.segy.ibm import float_to_ibm, ibm_to_float

ENDIANS = ["big", "little"]
NUMPY_FORMATS = [code for code, f in SAMPLE_FORMATS.items() if f.storage is not None and code != 1]


def sample_values(code: int, shape: tuple[int, int] = (4, 11)) -> np.ndarray:
    fmt = SAMPLE_FORMATS[code]
    rng = np.random.default_rng(code)
    if code == 1:
        return ibm_to_float(float_to_ibm(rng.standard_normal(shape).astype(np.float32) * 100))
    if fmt.dtype.kind == "f":
        return (rng.standard_normal(shape) * 1e3).astype(fmt.dtype)
    if code == 7:
        return rng.integers(-(1 << 23), (1 << 23) - 1, shape, endpoint=True).astype(np.int32)
    if code == 15:
        return rng.integers(0, (1 << 24) - 1, shape, endpoint=True).astype(np.uint32)
    info = np.iinfo(fmt.dtype)
    return rng.integers(info.min, info.max, shape, endpoint=True, dtype=fmt.dtype)


def test_table_covers_the_standard() -> None:
    assert sorted(SAMPLE_FORMATS) == [1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 15, 16]
    assert {c: f.itemsize for c, f in SAMPLE_FORMATS.items()} == {
        1: 4,
        2: 4,
        3: 2,
        5: 4,
        6: 8,
        7: 3,
        8: 1,
        9: 8,
        10: 4,
        11: 2,
        12: 8,
        15: 3,
        16: 1,
    }
    assert is_known_format(4)
    assert not is_known_format(13)


@pytest.mark.parametrize("endian", ENDIANS)
@pytest.mark.parametrize("code", NUMPY_FORMATS)
def test_numpy_formats_match_numpy(code: int, endian: Endian) -> None:
    fmt = SAMPLE_FORMATS[code]
    values = sample_values(code)
    disk = values.astype(fmt.disk_dtype(endian))  # numpy's own encoding is the oracle
    raw = disk.view(np.uint8).reshape(values.shape[0], -1)
    assert np.array_equal(encode_samples(values, code, endian), raw)
    native = decode_samples(raw, code, endian, dtype=None)
    assert native.dtype == fmt.dtype
    assert native.dtype.isnative
    assert np.array_equal(native, values)
    as_f32 = decode_samples(raw, code, endian)
    assert as_f32.dtype == np.float32
    assert np.array_equal(as_f32, values.astype(np.float32))


@pytest.mark.parametrize("endian", ENDIANS)
def test_ibm_format(endian: Endian) -> None:
    values = sample_values(1)
    raw = encode_samples(values, 1, endian)
    assert np.array_equal(decode_samples(raw, 1, endian), values)
    f64 = decode_samples(raw, 1, endian, dtype=np.float64)
    assert f64.dtype == np.float64
    assert np.array_equal(f64, values.astype(np.float64))


@pytest.mark.parametrize("endian", ENDIANS)
@pytest.mark.parametrize("code", [7, 15])
def test_24_bit_formats(code: int, endian: Endian) -> None:
    values = sample_values(code)
    raw = encode_samples(values, code, endian)
    assert raw.shape == (values.shape[0], values.shape[1] * 3)
    # independent 24-bit decode: pad to 32 bits and let numpy do the rest
    triples = raw.reshape(values.shape[0], values.shape[1], 3)
    padded = np.zeros((*triples.shape[:2], 4), dtype=np.uint8)
    if endian == "big":
        padded[..., 1:] = triples
        words = padded.view(">u4")[..., 0].astype(np.int64)
    else:
        padded[..., :3] = triples
        words = padded.view("<u4")[..., 0].astype(np.int64)
    if code == 7:
        words = np.where(words >= 1 << 23, words - (1 << 24), words)
    assert np.array_equal(words, values)
    assert np.array_equal(decode_samples(raw, code, endian, dtype=None), values)


def test_int24_sign_extension() -> None:
    raw = np.array([[0x80, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0xFF, 0x00, 0x00, 0x01]], dtype=np.uint8)
    assert decode_samples(raw, 7, "big", dtype=None).tolist() == [[-(1 << 23), -1, (1 << 23) - 1, 1]]
    assert decode_samples(raw, 15, "big", dtype=None).tolist() == [[1 << 23, (1 << 24) - 1, (1 << 23) - 1, 1]]


def test_decode_strided_rows_and_bytes() -> None:
    values = sample_values(3)
    trace = np.zeros((values.shape[0], 240 + values.shape[1] * 2), dtype=np.uint8)
    trace[:, 240:] = encode_samples(values, 3, "little")
    assert np.array_equal(decode_samples(trace[:, 240:], 3, "little", dtype=None), values)
    assert np.array_equal(decode_samples(trace[0, 240:].tobytes(), 3, "little", dtype=None), values[0])


def test_decode_does_not_alias_input() -> None:
    raw = encode_samples(np.arange(4, dtype=np.uint8)[None, :], 16, "big")
    out = decode_samples(raw, 16, "big", dtype=None)
    out[0, 0] = 99
    assert raw[0, 0] == 0


def test_encode_rounds_and_checks_range() -> None:
    assert decode_samples(encode_samples(np.array([[1.4, 1.6, -2.5]]), 3), 3, dtype=None).tolist() == [[1, 2, -2]]
    with pytest.raises(SegyFormatError, match="outside the int16 range"):
        encode_samples(np.array([[40000.0]]), 3)
    with pytest.raises(SegyFormatError, match="NaN"):
        encode_samples(np.array([[np.nan]]), 2)
    with pytest.raises(SegyFormatError, match="int8 range"):
        encode_samples(np.array([[300]], dtype=np.int64), 8)
    clipped = encode_samples(np.array([[40000.0, -1e9, np.nan]]), 3, clip=True)
    assert decode_samples(clipped, 3, dtype=None).tolist() == [[32767, -32768, 0]]
    big = encode_samples(np.array([[1e30, -1e30]]), 9, clip=True)
    assert decode_samples(big, 9, dtype=None).tolist() == [[2**63 - 1, -(2**63)]]
    u24 = encode_samples(np.array([[2.0**25]]), 15, clip=True)
    assert decode_samples(u24, 15, dtype=None).tolist() == [[(1 << 24) - 1]]


def test_format_4_and_unknown_codes_are_clear_errors() -> None:
    with pytest.raises(SegyFormatError, match=r"fixed point with gain.*sample_format=5"):
        get_format(4)
    with pytest.raises(SegyFormatError, match="unknown sample format code 13; supported"):
        get_format(13)
    with pytest.raises(SegyFormatError, match="did you mean 'ibm32'"):
        get_format("ibm23")
    assert get_format("ibm32").code == 1
    assert get_format("5").code == 5
    assert get_format(get_format(3)).code == 3
    with pytest.raises(SegyFormatError):
        encode_samples(np.zeros((1, 2)), 4)


def test_bad_raw_inputs() -> None:
    with pytest.raises(SegyFormatError, match="whole number of 4-byte samples"):
        decode_samples(np.zeros((2, 6), dtype=np.uint8), 5)
    with pytest.raises(TypeError):
        decode_samples(np.zeros((2, 8), dtype=np.int16), 5)
    with pytest.raises(ValueError, match="endian"):
        decode_samples(np.zeros((2, 8), dtype=np.uint8), 5, "middle")  # type: ignore[arg-type]
