"""IBM System/360 single precision floats <-> IEEE 754, exact and vectorised.

An IBM float is ``(-1)**s * 0.M * 16**(E - 64)``: a sign bit, a 7-bit excess-64 hexadecimal exponent and
a 24-bit fraction. Decoding computes ``M * 2**(4*E - 280)`` in float64, where it is *exact* (a 24-bit integer
times a power of two that float64 holds), then casts once to float32, which rounds to nearest-even exactly
once. That is correct for every bit pattern, including unnormalised fractions (leading hex digit 0) that
shift-based fast paths get wrong, values beyond the float32 range (-> +-inf) and tiny ones (-> subnormal).

Encoding rounds the 24-bit fraction to nearest-even, so a float32 that came from an IBM value whose decoded
float32 is normal (or zero) encodes back to the same normalised IBM word, and decode(encode(decode(w))) equals
decode(w) for every word w.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

import numpy as np
import numpy.typing as npt

#: Elements per inner block: large enough to amortise numpy call overhead, small enough to stay in L2 cache.
_CHUNK: Final = 1 << 16

#: ``(-1)**sign * 2**(4*exponent - 280)`` for every value of the top byte (sign + exponent) of an IBM word.
_SCALE: Final = np.array(
    [(-1.0 if i >> 7 else 1.0) * 2.0 ** (4 * (i & 0x7F) - 280) for i in range(256)], dtype=np.float64
)

#: Largest IBM magnitude (0x7FFFFFFF), used for +-inf and NaN, which IBM cannot represent.
IBM_MAX_WORD: Final = 0x7FFFFFFF


def ibm_to_float(
    words: npt.ArrayLike, dtype: npt.DTypeLike = np.float32, *, unnormalised: list[int] | None = None
) -> npt.NDArray[np.floating]:
    """Decode IBM words (unsigned 32-bit integers in any byte order) to ``float32`` (or exact ``float64``).

    ``words`` holds the *integer values* of the IBM words: pass a ``'>u4'`` view of big-endian bytes, a
    ``'<u4'`` view of little-endian bytes, or native ``uint32``. The result has the shape of ``words``.
    ``unnormalised``: a list that gets the number of unnormalised words appended (counted while the words are
    in cache, so an exact export can keep their bits at little cost).
    """
    w = np.asarray(words)
    if w.dtype.kind not in "ui" or w.dtype.itemsize != 4:
        raise TypeError(f"IBM words must be 32-bit unsigned integers, got {w.dtype}")
    out_dtype = np.dtype(dtype)
    if out_dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"IBM floats decode to float32 or float64, not {out_dtype}")
    if w.size == 0:
        if unnormalised is not None:
            unnormalised.append(0)
        return np.empty(w.shape, dtype=out_dtype)
    # Rows of a 2-D block may be strided (samples sliced out of whole traces): walk it in row groups rather
    # than flattening, which would copy the input first.
    rows = w.reshape(1, -1) if w.ndim < 2 else w.reshape(-1, w.shape[-1])
    out = np.empty(rows.shape, dtype=out_dtype)
    n_chunk = min(_CHUNK, max(rows.size, 1))
    word = np.empty(n_chunk, dtype=np.uint32)
    tmp = np.empty(n_chunk, dtype=np.uint32)
    mant = np.empty(n_chunk, dtype=np.float64)
    scale = np.empty(n_chunk, dtype=np.float64)
    flags = np.empty(n_chunk, dtype=bool) if unnormalised is not None else None
    count = 0
    for src, dst in _blocks(rows, out):
        n = src.size
        wv, tv = word[:n].reshape(src.shape), tmp[:n].reshape(src.shape)
        mv, sv = mant[:n].reshape(src.shape), scale[:n].reshape(src.shape)
        wv[...] = src  # gather and byte swap (if needed) into native uint32
        np.bitwise_and(wv, 0xFFFFFF, out=tv)
        mv[...] = tv  # 24-bit fraction as an exact float64 integer
        if flags is not None:  # unnormalised: fraction 1..0x0FFFFF (0 wraps round to the top)
            np.subtract(tv, np.uint32(1), out=tv)
            count += int(np.count_nonzero(np.less(tv, np.uint32(0xFFFFF), out=flags[:n].reshape(src.shape))))
        np.right_shift(wv, 24, out=tv)
        np.take(_SCALE, tv, out=sv)
        np.multiply(mv, sv, out=mv)  # exact: 24-bit integer times a power of two within float64 range
        with np.errstate(over="ignore"):
            dst[...] = mv  # the only rounding step (float64 -> float32)
    if unnormalised is not None:
        unnormalised.append(count)
    return out.reshape(w.shape)


def _blocks(src: np.ndarray, dst: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Matching 2-D pieces of ``src`` and ``dst`` with at most ``_CHUNK`` elements each."""
    n_rows, n_cols = src.shape
    if n_cols == 0 or n_rows == 0:
        return
    if n_cols <= _CHUNK:
        step = _CHUNK // n_cols
        for r in range(0, n_rows, step):
            yield src[r : r + step], dst[r : r + step]
    else:
        for r in range(n_rows):
            for c in range(0, n_cols, _CHUNK):
                yield src[r : r + 1, c : c + _CHUNK], dst[r : r + 1, c : c + _CHUNK]


def float_to_ibm(values: npt.ArrayLike) -> npt.NDArray[np.uint32]:
    """Encode floats to IBM words (native ``uint32`` values), rounding the fraction to nearest-even.

    Every finite float32 fits the IBM exponent range. ``+-inf`` and NaN, which IBM lacks, become the largest
    IBM magnitude (NaN as positive), so that :func:`ibm_to_float` maps them back to ``+-inf`` rather than to a
    plausible number. Zeros keep their sign (``-0.0`` -> ``0x80000000``).
    """
    x = np.asarray(values)
    if x.dtype.kind not in "fiu":
        raise TypeError(f"cannot encode {x.dtype} values as IBM floats")
    if x.dtype == np.float32:
        return _float32_to_ibm(x)
    flat = np.asarray(x, dtype=np.float64).reshape(-1)
    out = np.empty(flat.size, dtype=np.uint32)
    with np.errstate(invalid="ignore"):  # NaN/inf lanes are computed, then replaced below
        _encode_float64(flat, out)
    return out.reshape(x.shape)


def _encode_float64(flat: npt.NDArray[np.float64], out: npt.NDArray[np.uint32]) -> None:
    for start in range(0, flat.size, _CHUNK):
        v = flat[start : start + _CHUNK]
        sign = np.signbit(v).astype(np.uint32) << np.uint32(31)
        a = np.abs(v)
        finite = np.isfinite(a)
        a = np.where(finite, a, 0.0)
        frac, exp2 = np.frexp(a)  # a = frac * 2**exp2, frac in [0.5, 1) (0 for zero)
        exp16 = -((-exp2) // 4)  # ceil(exp2 / 4): a = F * 16**exp16 with F in [1/16, 1)
        mant = np.rint(np.ldexp(frac, 24 - (4 * exp16 - exp2)))  # 24-bit fraction, round half to even
        carry = mant >= 2.0**24  # rounding overflowed the fraction: renormalise
        mant = np.where(carry, 2.0**20, mant)
        exp16 = exp16 + carry
        biased = exp16 + 64
        # float64 input may leave the IBM range: too small -> signed zero, too large -> largest magnitude
        tiny = (mant == 0) | (biased < 0)
        huge = ~finite | (biased > 127)
        word = sign | (np.clip(biased, 0, 127).astype(np.uint32) << np.uint32(24)) | mant.astype(np.uint32)
        word = np.where(tiny, sign, word)
        word = np.where(huge, sign | np.uint32(IBM_MAX_WORD), word)
        word = np.where(np.isnan(v), np.uint32(IBM_MAX_WORD), word)
        out[start : start + v.size] = word


# --- float32 -> IBM with integer passes ---------------------------------------------------------------------------
# A normal float32 is m * 2**(e - 150) with m = 1.f in 24 bits and e its biased exponent. Its IBM form is
# M * 2**(4*E - 280) with M = round_half_even(m / 2**s), s = (2 - e) & 3 and E = (e + s + 130) / 4. The float32
# whose fraction bits are f and whose exponent field is 150 - s is exactly m / 2**s (in [2**20, 2**24)), so a
# hardware np.rint on it rounds like the float64 path above: same words, about 3x faster per core. Zeros,
# subnormals, inf and NaN (biased exponent 0 or 255) go through the float64 path.


def _float32_to_ibm(x: npt.NDArray[np.float32]) -> npt.NDArray[np.uint32]:
    flat = np.ascontiguousarray(x).reshape(-1)
    bits = flat.view(np.uint32)
    out = np.empty(bits.size, dtype=np.uint32)
    n = min(_CHUNK, bits.size)
    exponent = np.empty(n, np.uint32)
    shift = np.empty(n, np.uint32)
    scaled = np.empty(n, np.uint32)
    high = np.empty(n, np.uint32)
    for start in range(0, bits.size, _CHUNK):
        word = bits[start : start + _CHUNK]
        k = word.size
        e, s, y, h = exponent[:k], shift[:k], scaled[:k], high[:k]
        np.right_shift(word, 23, out=e)
        np.bitwise_and(e, 0xFF, out=e)  # biased float32 exponent
        np.subtract(258, e, out=s)  # (2 - e) mod 4, kept non-negative
        np.bitwise_and(s, 3, out=s)
        # y: the float32 m / 2**s (exponent field 150 - s, the same fraction bits)
        np.subtract(150, s, out=y)
        np.left_shift(y, 23, out=y)
        np.bitwise_or(y, word & np.uint32(0x7FFFFF), out=y)
        # h: IBM sign bit and exponent byte (e + s + 130) / 4
        np.add(e, s, out=h)
        np.add(h, 130, out=h)
        np.right_shift(h, 2, out=h)
        np.left_shift(h, 24, out=h)
        np.bitwise_or(h, word & np.uint32(0x80000000), out=h)
        as_float = y.view(np.float32)
        np.rint(as_float, out=as_float)
        result = out[start : start + k]
        with np.errstate(invalid="ignore"):  # NaN/inf lanes are replaced just below
            result[...] = as_float  # exact integers below 2**24
        np.bitwise_or(result, h, out=result)
        if e.min() == 0 or e.max() == 255:  # zeros, subnormals, inf, NaN: the float64 path
            where = np.flatnonzero((e == 0) | (e == 255))
            result[where] = float_to_ibm(flat[start + where].astype(np.float64))
    return out.reshape(x.shape)


def unnormalised_mask(words: npt.NDArray[np.unsignedinteger]) -> npt.NDArray[np.bool_]:
    """True where an IBM word (integer values, any byte order) is unnormalised: a non-zero fraction whose leading
    hex digit is 0. Its value has a normalised encoding too, which is what re-encoding a decoded value gives."""
    fraction = np.bitwise_and(words, np.uint32(0xFFFFFF), dtype=np.uint32)
    np.subtract(fraction, np.uint32(1), out=fraction)  # 0 wraps round to the top: only 1..0x0FFFFF stay below
    return fraction < np.uint32(0xFFFFF)


def decode_ibm_bytes(
    raw: npt.ArrayLike, endian: str = "big", dtype: npt.DTypeLike = np.float32
) -> npt.NDArray[np.floating]:
    """Decode a byte buffer (or a ``uint8`` array whose last axis is a multiple of 4) of IBM floats."""
    words = _as_words(raw, endian)
    return ibm_to_float(words, dtype)


def encode_ibm_bytes(values: npt.ArrayLike, endian: str = "big") -> npt.NDArray[np.uint8]:
    """Encode floats as IBM words laid out in ``endian`` byte order; the last axis grows fourfold as bytes."""
    words = np.atleast_1d(float_to_ibm(values))
    swapped = np.ascontiguousarray(words, dtype=">u4" if endian == "big" else "<u4")
    return swapped.view(np.uint8).reshape(*words.shape[:-1], words.shape[-1] * 4)


def _as_words(raw: npt.ArrayLike, endian: str) -> np.ndarray:
    order = ">" if endian == "big" else "<"
    if isinstance(raw, bytes | bytearray | memoryview):
        return np.frombuffer(raw, dtype=f"{order}u4")
    arr = np.asarray(raw)
    if arr.dtype != np.uint8:
        raise TypeError(f"expected raw bytes as uint8, got {arr.dtype}")
    if arr.ndim == 0 or arr.shape[-1] % 4:
        raise ValueError(f"the last axis ({arr.shape[-1] if arr.ndim else 0} bytes) is not a multiple of 4")
    if arr.strides[-1] != 1:
        arr = np.ascontiguousarray(arr)
    return arr.view(f"{order}u4")
