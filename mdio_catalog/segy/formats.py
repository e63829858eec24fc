"""SEG-Y sample formats (binary header byte 3225): one table, one decoder, one encoder.

Trace samples arrive as a ``(n_traces, n_samples * itemsize)`` block of raw bytes; :func:`decode_samples`
turns it into numbers in either byte order and :func:`encode_samples` does the reverse for export. Keeping
both directions next to the table means a format is supported for reading exactly when it is for writing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from mdio_catalog.exceptions import SegyFormatError
from mdio_catalog.segy.ibm import decode_ibm_bytes, encode_ibm_bytes

Endian = Literal["big", "little"]


@dataclass(frozen=True)
class SampleFormat:
    """One SEG-Y sample format.

    ``storage`` is the numpy type of one sample on disk (without byte order), or ``None`` for the 3-byte
    formats numpy has no type for; ``dtype`` is the native type samples decode to without conversion.
    """

    code: int
    name: str
    itemsize: int
    dtype: np.dtype
    storage: str | None

    def disk_dtype(self, endian: Endian) -> np.dtype:
        """The on-disk numpy dtype in ``endian`` byte order (3-byte formats have none)."""
        if self.storage is None:
            raise SegyFormatError(f"sample format {self.code} ({self.name}) has no numpy storage type")
        return np.dtype(self.storage).newbyteorder(_order(endian))


def _fmt(code: int, name: str, itemsize: int, dtype: str, storage: str | None) -> SampleFormat:
    return SampleFormat(code, name, itemsize, np.dtype(dtype), storage)


#: Every sample format this package reads and writes, by binary-header code (SEG-Y rev 2.0 table).
SAMPLE_FORMATS: Final[dict[int, SampleFormat]] = {
    1: _fmt(1, "ibm32", 4, "float32", "u4"),
    2: _fmt(2, "int32", 4, "int32", "i4"),
    3: _fmt(3, "int16", 2, "int16", "i2"),
    5: _fmt(5, "float32", 4, "float32", "f4"),
    6: _fmt(6, "float64", 8, "float64", "f8"),
    7: _fmt(7, "int24", 3, "int32", None),
    8: _fmt(8, "int8", 1, "int8", "i1"),
    9: _fmt(9, "int64", 8, "int64", "i8"),
    10: _fmt(10, "uint32", 4, "uint32", "u4"),
    11: _fmt(11, "uint16", 2, "uint16", "u2"),
    12: _fmt(12, "uint64", 8, "uint64", "u8"),
    15: _fmt(15, "uint24", 3, "uint32", None),
    16: _fmt(16, "uint8", 1, "uint8", "u1"),
}

#: Codes known to the standard but deliberately not decoded, with the reason shown to the user.
UNSUPPORTED_FORMATS: Final[dict[int, str]] = {
    4: (
        "sample format 4 (4-byte fixed point with gain) is obsolete and not supported; files labelled 4 "
        "usually hold another 4-byte format - check the samples and open the file with sample_format=5 "
        "(IEEE float), 1 (IBM float) or 2 (int32)"
    ),
}

#: Sample format codes by name, for specs that say ``format: ibm32``.
FORMAT_CODES: Final[dict[str, int]] = {f.name: code for code, f in SAMPLE_FORMATS.items()}


def is_known_format(code: int) -> bool:
    """True for every code of the standard, supported or not (used to guess byte order)."""
    return code in SAMPLE_FORMATS or code in UNSUPPORTED_FORMATS


def get_format(code: int | str | SampleFormat) -> SampleFormat:
    """The :class:`SampleFormat` for a code or name; a clear :class:`SegyFormatError` for anything else."""
    if isinstance(code, SampleFormat):
        return code
    if isinstance(code, str):
        key = code.strip().lower()
        if key in FORMAT_CODES:
            return SAMPLE_FORMATS[FORMAT_CODES[key]]
        if key.isdigit():
            return get_format(int(key))
        from mdio_catalog.exceptions import did_you_mean

        raise SegyFormatError(f"unknown sample format {code!r}{did_you_mean(key, FORMAT_CODES)}")
    code_int = int(code)
    if code_int in SAMPLE_FORMATS:
        return SAMPLE_FORMATS[code_int]
    if code_int in UNSUPPORTED_FORMATS:
        raise SegyFormatError(UNSUPPORTED_FORMATS[code_int])
    supported = ", ".join(f"{c} ({f.name})" for c, f in SAMPLE_FORMATS.items())
    raise SegyFormatError(f"unknown sample format code {code_int}; supported: {supported}")


def decode_samples(
    raw: npt.ArrayLike,
    fmt: int | str | SampleFormat,
    endian: Endian = "big",
    dtype: npt.DTypeLike | None = np.float32,
) -> np.ndarray:
    """Decode raw sample bytes ``(..., n_samples * itemsize)`` to ``(..., n_samples)`` numbers.

    ``dtype=None`` keeps the format's own type (``int16`` for code 3, ``int32`` for int24, ...); any other
    dtype converts, and for IBM floats ``float64`` is decoded exactly rather than through float32. Rows may be
    strided (samples sliced out of whole traces); a non-contiguous last axis is copied first.
    """
    sf = get_format(fmt)
    arr = _as_byte_rows(raw, sf.itemsize)
    out_dtype = (sf.dtype if dtype is None else np.dtype(dtype)).newbyteorder("=")
    if sf.code == 1:
        ibm_dtype = np.float64 if out_dtype == np.float64 else np.float32
        return decode_ibm_bytes(arr, endian, ibm_dtype).astype(out_dtype, copy=False)
    if sf.storage is None:
        return _decode_24bit(arr, endian, signed=sf.code == 7).astype(out_dtype, copy=False)
    # astype byte-swaps to native order and copies, so the result never aliases the caller's buffer
    return arr.view(sf.disk_dtype(endian)).astype(out_dtype, copy=True)


def encode_samples(
    values: npt.ArrayLike, fmt: int | str | SampleFormat, endian: Endian = "big", *, clip: bool = False
) -> npt.NDArray[np.uint8]:
    """Encode numbers ``(..., n_samples)`` to raw sample bytes ``(..., n_samples * itemsize)`` as ``uint8``.

    Floats written to an integer format are rounded to nearest; NaN or values outside the format's range raise
    :class:`SegyFormatError` unless ``clip=True`` (then NaN -> 0 and the rest saturate).
    """
    sf = get_format(fmt)
    vals = np.atleast_1d(np.asarray(values))
    if sf.code == 1:
        return encode_ibm_bytes(vals, endian)
    if sf.dtype.kind in "iu":
        vals = _to_integer(vals, sf, clip=clip)
    if sf.storage is None:
        return _encode_24bit(vals.astype(np.int64), endian)
    disk = np.ascontiguousarray(vals, dtype=sf.disk_dtype(endian))
    return disk.view(np.uint8).reshape(*vals.shape[:-1], vals.shape[-1] * sf.itemsize)


# --- helpers ---------------------------------------------------------------------------------------------
def _order(endian: str) -> Literal[">", "<"]:
    if endian not in ("big", "little"):
        raise ValueError(f"endian must be 'big' or 'little', not {endian!r}")
    return ">" if endian == "big" else "<"


def _as_byte_rows(raw: npt.ArrayLike, itemsize: int) -> np.ndarray:
    buffer_types = bytes | bytearray | memoryview
    arr = np.frombuffer(raw, dtype=np.uint8) if isinstance(raw, buffer_types) else np.asarray(raw)
    if arr.dtype != np.uint8:
        raise TypeError(f"raw samples must be uint8 bytes, got {arr.dtype}")
    arr = np.atleast_1d(arr)
    if arr.shape[-1] % itemsize:
        raise SegyFormatError(f"{arr.shape[-1]} bytes per row is not a whole number of {itemsize}-byte samples")
    if arr.strides[-1] != 1:
        arr = np.ascontiguousarray(arr)
    return arr


def _decode_24bit(arr: np.ndarray, endian: Endian, *, signed: bool) -> np.ndarray:
    b = arr.reshape(*arr.shape[:-1], arr.shape[-1] // 3, 3).astype(np.uint32)
    hi, mid, lo = (b[..., 0], b[..., 1], b[..., 2]) if endian == "big" else (b[..., 2], b[..., 1], b[..., 0])
    word = (hi << 16) | (mid << 8) | lo
    if not signed:
        return word
    return (word.astype(np.int32) ^ 0x800000) - 0x800000  # sign-extend bit 23


def _encode_24bit(vals: np.ndarray, endian: Endian) -> np.ndarray:
    word = (vals & 0xFFFFFF).astype(np.uint32)
    parts = [(word >> 16) & 0xFF, (word >> 8) & 0xFF, word & 0xFF]
    if endian == "little":
        parts.reverse()
    out = np.stack(parts, axis=-1).astype(np.uint8)
    return out.reshape(*vals.shape[:-1], vals.shape[-1] * 3)


_INT24_RANGE: Final = {7: (-(1 << 23), (1 << 23) - 1), 15: (0, (1 << 24) - 1)}


def _to_integer(vals: np.ndarray, sf: SampleFormat, *, clip: bool) -> np.ndarray:
    lo, hi = _INT24_RANGE.get(sf.code) or (int(np.iinfo(sf.dtype).min), int(np.iinfo(sf.dtype).max))
    if vals.dtype.kind in "iu":
        if vals.size and (int(vals.min()) < lo or int(vals.max()) > hi):
            if not clip:
                raise SegyFormatError(f"values outside the {sf.name} range [{lo}, {hi}] for sample format {sf.code}")
            vals = np.clip(vals, lo, hi)
        return vals
    f = np.rint(np.asarray(vals, dtype=np.float64))
    hi_f = float(hi) if int(float(hi)) <= hi else float(np.nextafter(float(hi), 0.0))  # 64-bit: 2**63 > hi
    bad = np.isnan(f) | (f < lo) | (f > hi_f)
    if bad.any():
        if not clip:
            raise SegyFormatError(
                f"{int(bad.sum())} value(s) are NaN or outside the {sf.name} range [{lo}, {hi}] "
                f"for sample format {sf.code}; pass clip=True to saturate"
            )
        high = f > hi_f
        f = np.clip(np.nan_to_num(f, nan=0.0), lo, hi_f)
        out = f.astype(sf.dtype if sf.storage else np.int64)
        out[high] = hi
        return out
    return f.astype(sf.dtype if sf.storage else np.int64)
