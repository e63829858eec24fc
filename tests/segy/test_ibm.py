"""IBM float codec: exact against Python fractions, correctly rounded, and round-trip safe."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from mdio_catalog.segy.formats import Endian
from mdio_catalog.segy.ibm import (
    IBM_MAX_WORD,
    decode_ibm_bytes,
    encode_ibm_bytes,
    float_to_ibm,
    ibm_to_float,
    unnormalised_mask,
)

F32 = np.float32


def exact_ibm(word: int) -> Fraction:
    """The exact value of an IBM word, independent of the code under test."""
    sign = -1 if word >> 31 else 1
    exponent = (word >> 24) & 0x7F
    fraction = word & 0xFFFFFF
    return sign * Fraction(fraction, 1 << 24) * Fraction(16) ** (exponent - 64)


def is_nearest_float32(value: np.float32, exact: Fraction) -> bool:
    """True when ``value`` is the float32 nearest to ``exact`` (ties to even), checked against its neighbours."""
    overflow = Fraction(float(np.finfo(F32).max)) + Fraction(2) ** 103  # max + half an ulp rounds to inf
    if np.isinf(value):
        return abs(exact) >= overflow and (exact > 0) == (value > 0)
    if abs(exact) >= overflow:
        return False
    err = abs(Fraction(float(value)) - exact)
    for direction in (-np.inf, np.inf):
        with np.errstate(over="ignore"):
            neighbour = np.nextafter(value, F32(direction))
        if np.isinf(neighbour):
            continue
        n_err = abs(Fraction(float(neighbour)) - exact)
        if n_err < err:
            return False
        if n_err == err:  # a tie: the even significand must win
            bits = int(np.array(value, dtype=F32).view(np.uint32))
            if bits & 1:
                return False
    return True


def special_words() -> np.ndarray:
    """Zeros, dirty zeros, unnormalised fractions, extreme exponents and the float32 edges."""
    words = [0x00000000, 0x80000000, 0x41000000, 0xC1000000, 0x7FFFFFFF, 0xFFFFFFFF, 0x00000001, 0x80000001]
    words += [0x40100000, 0x400CCCCC, 0x3F999998, 0x41100000, 0x42640000, 0xC276A000, 0x00FFFFFF]
    for exponent in (0, 26, 27, 32, 33, 60, 64, 95, 96, 97, 101, 102, 127):
        for fraction in (0x000001, 0x000FFF, 0x0FFFFF, 0x100000, 0x800000, 0xFFFFFF, 0x123456):
            for sign in (0, 1):
                words.append((sign << 31) | (exponent << 24) | fraction)
    return np.array(words, dtype=np.uint32)


def random_words(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 1 << 32, n, dtype=np.uint64).astype(np.uint32)


@pytest.mark.parametrize("words", [special_words(), random_words(6000, seed=1)], ids=["special", "random"])
def test_decode_is_correctly_rounded(words: np.ndarray) -> None:
    decoded32 = ibm_to_float(words)
    decoded64 = ibm_to_float(words, np.float64)
    assert decoded32.dtype == np.float32
    for word, v32, v64 in zip(words.tolist(), decoded32, decoded64, strict=True):
        exact = exact_ibm(word)
        assert Fraction(float(v64)) == exact, hex(word)  # float64 holds every IBM value exactly
        assert is_nearest_float32(v32, exact), hex(word)


def test_decode_keeps_signed_zero_and_overflows_to_inf() -> None:
    out = ibm_to_float(np.array([0x00000000, 0x80000000, 0x7FFFFFFF, 0xFFFFFFFF], dtype=np.uint32))
    assert np.signbit(out).tolist() == [False, True, False, True]
    assert out[2] == np.inf
    assert out[3] == -np.inf


def test_unnormalised_values_decode_exactly() -> None:
    # 0x400CCCCC is an IEEE 0.05 read as IBM: leading hex digit 0, value 0x0CCCCC / 2**24
    assert ibm_to_float(np.array([0x400CCCCC], dtype=np.uint32))[0] == F32(0x0CCCCC / 2**24)
    # the same fraction with a leading zero digit at a smaller exponent is a different, exact number
    assert ibm_to_float(np.array([0x3F0CCCCC], dtype=np.uint32))[0] == F32(0x0CCCCC / 2**28)


def test_known_values() -> None:
    words = np.array([0x41100000, 0xC276A000, 0x42640000, 0x40800000], dtype=np.uint32)
    assert ibm_to_float(words).tolist() == [1.0, -118.625, 100.0, 0.5]
    assert float_to_ibm(np.array([1.0, -118.625, 100.0, 0.5], dtype=F32)).tolist() == words.tolist()


@pytest.mark.parametrize("seed", [2, 3])
def test_encode_inverts_decode_for_normalised_words(seed: int) -> None:
    words = random_words(200_000, seed)
    decoded = ibm_to_float(words)
    normalised = (words & 0x00F00000) != 0
    in_range = np.isfinite(decoded) & (np.abs(decoded) >= np.finfo(F32).tiny)
    keep = normalised & in_range
    assert keep.sum() > 50_000
    assert np.array_equal(float_to_ibm(decoded[keep]), words[keep])


@pytest.mark.parametrize("seed", [4, 5])
def test_decode_encode_decode_is_idempotent_for_every_word(seed: int) -> None:
    words = np.concatenate([random_words(200_000, seed), special_words()])
    decoded = ibm_to_float(words)
    again = ibm_to_float(float_to_ibm(decoded))
    assert np.array_equal(again, decoded)
    assert np.array_equal(np.signbit(again), np.signbit(decoded))


def test_encode_rounds_to_nearest_even() -> None:
    values = np.random.default_rng(6).standard_normal(3000).astype(F32) * F32(1e3)
    for value, word in zip(values, float_to_ibm(values).tolist(), strict=True):
        exact = Fraction(float(value))
        got = exact_ibm(word)
        assert (word >> 20) & 0xF, hex(word)  # normalised
        # no other IBM number with this exponent is closer
        ulp = Fraction(16) ** (((word >> 24) & 0x7F) - 64) / (1 << 24)
        assert abs(got - exact) <= ulp / 2


def test_encode_specials() -> None:
    words = float_to_ibm(np.array([0.0, -0.0, np.inf, -np.inf, np.nan], dtype=F32))
    assert words.tolist() == [0, 0x80000000, IBM_MAX_WORD, 0x80000000 | IBM_MAX_WORD, IBM_MAX_WORD]


def test_encode_float64_out_of_ibm_range_saturates() -> None:
    words = float_to_ibm(np.array([1e-300, -1e-300, 1e300, -1e300]))
    assert words.tolist() == [0, 0x80000000, IBM_MAX_WORD, 0x80000000 | IBM_MAX_WORD]


@pytest.mark.parametrize("endian", ["big", "little"])
def test_byte_level_round_trip(endian: Endian) -> None:
    values = np.random.default_rng(7).standard_normal((5, 9)).astype(F32)
    values = ibm_to_float(float_to_ibm(values))  # representable in IBM
    raw = encode_ibm_bytes(values, endian)
    assert raw.shape == (5, 36)
    assert raw.dtype == np.uint8
    assert np.array_equal(decode_ibm_bytes(raw, endian), values)
    assert np.array_equal(decode_ibm_bytes(raw.tobytes(), endian), values.reshape(-1))
    order = ">" if endian == "big" else "<"
    assert raw.tobytes() == float_to_ibm(values).astype(f"{order}u4").tobytes()


def test_decode_strided_rows() -> None:
    values = ibm_to_float(float_to_ibm(np.arange(1, 31, dtype=F32).reshape(3, 10)))
    block = np.zeros((3, 8 + 40), dtype=np.uint8)
    block[:, 8:] = encode_ibm_bytes(values)
    assert np.array_equal(decode_ibm_bytes(block[:, 8:]), values)


def test_rejects_bad_inputs() -> None:
    with pytest.raises(TypeError):
        ibm_to_float(np.zeros(3, dtype=np.uint16))
    with pytest.raises(TypeError):
        ibm_to_float(np.zeros(3, dtype=np.uint32), np.float16)
    with pytest.raises(ValueError, match="multiple of 4"):
        decode_ibm_bytes(np.zeros((2, 6), dtype=np.uint8))
    with pytest.raises(TypeError):
        float_to_ibm(np.array(["a"]))


def test_shapes_empty_scalar_and_wide_strided_rows() -> None:
    assert ibm_to_float(np.array([], dtype=np.uint32)).shape == (0,)
    assert ibm_to_float(np.zeros((3, 0), dtype=np.uint32)).shape == (3, 0)
    assert ibm_to_float(np.uint32(0x41100000)) == 1.0
    wide = random_words(3 * 70_001, seed=8).reshape(3, -1)  # rows longer than one inner block
    padded = np.zeros((3, 70_003), dtype=np.uint32)
    padded[:, 2:] = wide
    expected = ibm_to_float(wide.reshape(-1)).reshape(3, -1)
    np.testing.assert_array_equal(ibm_to_float(padded[:, 2:]), expected)
    np.testing.assert_array_equal(ibm_to_float(padded[:, 2:].astype(">u4")), expected)


def test_unnormalised_words_are_found_and_counted() -> None:
    """Unnormalised: a non-zero fraction with a leading hex digit 0; zeros (either sign) are not."""
    words = np.array(
        [0, 0x80000000, 0x41100000, 0x410FFFFF, 0x41000001, 0xC1000001, 0x41FFFFFF, 0x7F0FFFFF, 0x00000001],
        dtype=np.uint32,
    )
    expected = [False, False, False, True, True, True, False, True, True]
    assert unnormalised_mask(words).tolist() == expected
    assert unnormalised_mask(words.astype(">u4")).tolist() == expected  # any byte order
    counted: list[int] = []
    decoded = ibm_to_float(np.tile(words, (3, 1)), unnormalised=counted)
    assert counted == [3 * sum(expected)]
    np.testing.assert_array_equal(decoded, np.tile(ibm_to_float(words), (3, 1)))  # decoding is unchanged
    empty: list[int] = []
    ibm_to_float(np.zeros(0, np.uint32), unnormalised=empty)
    assert empty == [0]
