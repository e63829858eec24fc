"""The 400-byte binary file header: parse to a dict, encode back, and tell the file's byte order.

Fields come from :data:`mdio_catalog.core.headers.BINARY_HEADER_FIELDS`, so the names match what MDIO stores.
Encoding starts from the original 400 bytes when given, so unassigned and vendor bytes survive a round trip.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Final, Literal

import numpy as np

from mdio_catalog.core.headers import BINARY_HEADER_FIELDS, BINARY_HEADER_SIZE, TEXT_HEADER_SIZE
from mdio_catalog.exceptions import HeaderFieldError, SegyFormatError, did_you_mean
from mdio_catalog.segy.formats import is_known_format

Endian = Literal["big", "little"]

#: SEG-Y rev 2 byte-order constant (binary header byte 3297), written in the file's own byte order.
BYTE_ORDER_CONSTANT: Final = 0x01020304

_FIELDS: Final = {name: (kind, byte) for name, kind, byte in BINARY_HEADER_FIELDS}


def _order(endian: str) -> Literal[">", "<"]:
    if endian not in ("big", "little"):
        raise ValueError(f"endian must be 'big' or 'little', not {endian!r}")
    return ">" if endian == "big" else "<"


@cache
def binary_header_dtype(endian: Endian = "big") -> np.dtype:
    """Structured dtype of the 400-byte binary header with every named field at its standard offset."""
    order = _order(endian)
    return np.dtype(
        {
            "names": [n for n, _, _ in BINARY_HEADER_FIELDS],
            "formats": [np.dtype(k).newbyteorder(order) for _, k, _ in BINARY_HEADER_FIELDS],
            "offsets": [b - TEXT_HEADER_SIZE - 1 for _, _, b in BINARY_HEADER_FIELDS],
            "itemsize": BINARY_HEADER_SIZE,
        }
    )


def parse_binary_header(raw: bytes, endian: Endian = "big") -> dict[str, int | float]:
    """Every field of the binary header as Python numbers, typed as the field table says."""
    rec = np.frombuffer(_check(raw), dtype=binary_header_dtype(endian))[0]
    return {name: rec[name].item() for name in _FIELDS}


def encode_binary_header(
    values: Mapping[str, int | float], endian: Endian = "big", original: bytes | None = None
) -> bytes:
    """Write ``values`` into a 400-byte binary header (over ``original`` when given, else over zeros).

    Integer fields accept both their signed and unsigned spelling (``samples_per_trace=60000`` is written as
    the unsigned 16-bit word it is on disk). Unknown names and values that do not fit raise
    :class:`HeaderFieldError`.
    """
    buf = bytearray(_check(original) if original is not None else bytes(BINARY_HEADER_SIZE))
    for name, value in values.items():
        if name not in _FIELDS:
            raise HeaderFieldError(f"unknown binary header field {name!r}{did_you_mean(name, _FIELDS)}")
        kind, byte = _FIELDS[name]
        start = byte - TEXT_HEADER_SIZE - 1
        dt = np.dtype(kind).newbyteorder(_order(endian))
        buf[start : start + dt.itemsize] = _encode_word(name, value, dt)
    return bytes(buf)


def read_word(raw: bytes, byte: int, kind: str, endian: Endian) -> int | float:
    """One word of the binary header by its 1-based *file* byte (3201..3600) and numpy type name.

    For the fields whose type the table and real files disagree on (unsigned sample counts, the rev 2 int16
    at 3507) the layout code reads the word it needs with this.
    """
    dt = np.dtype(kind).newbyteorder(_order(endian))
    start = byte - TEXT_HEADER_SIZE - 1
    if start < 0 or start + dt.itemsize > BINARY_HEADER_SIZE:
        raise HeaderFieldError(f"binary header byte {byte} ({kind}) is outside bytes 3201..3600")
    return np.frombuffer(_check(raw), dtype=dt, count=1, offset=start)[0].item()


def endian_scores(raw: bytes) -> dict[Endian, int]:
    """How plausible the binary header looks when read big- and little-endian (higher is better).

    The rev 2 byte-order constant settles it outright; otherwise a known sample format code is strong evidence,
    and small sample counts, intervals and extended-header counts are weak evidence.
    """
    raw = _check(raw)
    marker = raw[96:100]
    if marker == BYTE_ORDER_CONSTANT.to_bytes(4, "big"):
        return {"big": 100, "little": 0}
    if marker == BYTE_ORDER_CONSTANT.to_bytes(4, "little"):
        return {"big": 0, "little": 100}
    scores: dict[Endian, int] = {}
    for endian in ("big", "little"):
        fmt = int(read_word(raw, 3225, "int16", endian))
        scores[endian] = 10 * is_known_format(fmt)
    for byte in (3217, 3221, 3505):  # sample interval, samples per trace, extended textual headers
        big, little = (int(read_word(raw, byte, "uint16", e)) for e in ("big", "little"))
        if big != little:
            scores["big" if big < little else "little"] += 1
    return scores


def detect_endian(raw: bytes) -> Endian:
    """The byte order of a file from its binary header; big-endian (the standard) when nothing tells."""
    scores = endian_scores(raw)
    return "little" if scores["little"] > scores["big"] else "big"


def _check(raw: bytes | None) -> bytes:
    data = bytes(raw or b"")
    if len(data) != BINARY_HEADER_SIZE:
        raise SegyFormatError(f"a binary header has {BINARY_HEADER_SIZE} bytes, got {len(data)}")
    return data


def _encode_word(name: str, value: int | float, dt: np.dtype) -> bytes:
    if dt.kind == "f":
        return np.array(value, dtype=dt).tobytes()
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise HeaderFieldError(f"binary header field {name!r} needs an integer, got {value!r}") from None
    if number != value:
        raise HeaderFieldError(f"binary header field {name!r} needs an integer, got {value!r}")
    bits = 8 * dt.itemsize
    lo = -(1 << (bits - 1)) if dt.kind == "i" else 0
    if not lo <= number < (1 << bits):  # signed fields also take their unsigned spelling
        raise HeaderFieldError(f"binary header field {name!r} = {value} does not fit {bits} bits")
    unsigned = np.dtype(f"u{dt.itemsize}").newbyteorder(dt.byteorder)
    return np.array(number % (1 << bits), dtype=unsigned).tobytes()
