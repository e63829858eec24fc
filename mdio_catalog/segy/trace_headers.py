"""Trace-header words as numpy columns, for every trace, without reading samples.

A header "spec" names a word by its 1-based byte in the 240-byte trace header and its type. Columns are cut
from a strided view of the headers: memory-mapped for local files (only header pages are touched), and for
fsspec files from streamed reads of whole traces (small traces: 8 MiB ranged requests, several in flight, each
byte fetched once) or batched ranged reads of the headers alone (large traces). Everything works in bounded
chunks, so scanning a terabyte file needs memory for the columns only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final, Literal, NamedTuple

import numpy as np

from mdio_catalog.core.headers import TRACE_HEADER_FIELDS, TRACE_HEADER_SIZE
from mdio_catalog.exceptions import HeaderFieldError, did_you_mean
from mdio_catalog.segy.ibm import ibm_to_float
from mdio_catalog.segy.source import READ_PIECE_BYTES, ByteSource

Endian = Literal["big", "little"]

#: Header word types and their on-disk numpy types (``ibm32`` is stored as a 32-bit word, decoded to float32).
HEADER_TYPES: Final[dict[str, str]] = {
    "int8": "i1",
    "uint8": "u1",
    "int16": "i2",
    "uint16": "u2",
    "int32": "i4",
    "uint32": "u4",
    "int64": "i8",
    "uint64": "u8",
    "float16": "f2",
    "float32": "f4",
    "float64": "f8",
    "ibm32": "u4",
}

#: The standard (MDIO v0) trace-header words by name.
STANDARD_FIELDS: Final[dict[str, tuple[int, str]]] = {name: (byte, kind) for name, kind, byte in TRACE_HEADER_FIELDS}

#: Default budget for one chunk of a header scan (mapped or read bytes).
DEFAULT_CHUNK_BYTES: Final = 64 * 1024 * 1024

#: Above this many bytes per trace, remote scans fetch each header with its own range instead of whole traces.
RANGED_READ_THRESHOLD: Final = 64 * 1024


class HeaderField(NamedTuple):
    """One trace-header word: a column name, its 1-based byte in the trace header, and its type."""

    name: str
    byte: int
    type: str = "int32"

    @property
    def disk_dtype(self) -> np.dtype:
        """The word's numpy type without byte order."""
        return np.dtype(HEADER_TYPES[self.type])

    @property
    def dtype(self) -> np.dtype:
        """The native type of the decoded column."""
        return np.dtype(np.float32) if self.type == "ibm32" else self.disk_dtype


def header_field(name: str, byte: int, type: str = "int32") -> HeaderField:
    """Build a validated :class:`HeaderField`; a :class:`HeaderFieldError` names the field that is wrong."""
    kind = str(type).strip().lower()
    if kind not in HEADER_TYPES:
        raise HeaderFieldError(
            f"header field {name!r}: unknown type {type!r}{did_you_mean(kind, HEADER_TYPES)} "
            f"(supported: {', '.join(HEADER_TYPES)})"
        )
    if isinstance(byte, bool) or not isinstance(byte, int | np.integer):
        raise HeaderFieldError(f"header field {name!r}: byte must be an integer, got {byte!r}")
    size = np.dtype(HEADER_TYPES[kind]).itemsize
    first, last = int(byte), int(byte) + size - 1
    if first < 1 or last > TRACE_HEADER_SIZE:
        raise HeaderFieldError(
            f"header field {name!r}: bytes {first}..{last} ({kind}) fall outside the "
            f"{TRACE_HEADER_SIZE}-byte trace header (valid bytes 1..{TRACE_HEADER_SIZE - size + 1} for {kind})"
        )
    return HeaderField(str(name), first, kind)


def standard_field(name: str) -> HeaderField:
    """The standard trace-header word called ``name`` (e.g. ``"inline"`` -> byte 189, int32)."""
    if name not in STANDARD_FIELDS:
        raise HeaderFieldError(f"unknown trace header field {name!r}{did_you_mean(name, STANDARD_FIELDS)}")
    byte, kind = STANDARD_FIELDS[name]
    return HeaderField(name, byte, kind)


HeaderSpecs = Mapping[str, Any] | Iterable[Any]


def normalize_fields(specs: HeaderSpecs) -> tuple[HeaderField, ...]:
    """Turn the spec shapes callers use into validated :class:`HeaderField` tuples.

    Accepted: a mapping ``name -> byte | (byte, type) | {"byte":, "type":}``, or an iterable of
    :class:`HeaderField`, ``(name, byte[, type])`` tuples, ``{"name":, "byte":, "type":}`` dicts, objects with
    ``name``/``byte``/``type`` attributes (pydantic specs), or bare standard names like ``"inline"``.
    """
    items: list[HeaderField] = []
    if isinstance(specs, Mapping):
        for name, spec in specs.items():
            items.append(_from_mapping_value(str(name), spec))
    else:
        for spec in specs:
            items.append(_from_item(spec))
    seen: set[str] = set()
    for item in items:
        if item.name in seen:
            raise HeaderFieldError(f"header field {item.name!r} is given twice")
        seen.add(item.name)
    return tuple(items)


def _from_mapping_value(name: str, spec: Any) -> HeaderField:
    if isinstance(spec, int | np.integer) and not isinstance(spec, bool):
        return header_field(name, int(spec))
    if isinstance(spec, Mapping):
        return header_field(name, spec.get("byte"), spec.get("type", "int32"))  # type: ignore[arg-type]
    if isinstance(spec, tuple | list) and len(spec) in (1, 2):
        return header_field(name, *spec)
    if hasattr(spec, "byte"):
        return header_field(name, spec.byte, getattr(spec, "type", "int32"))
    raise HeaderFieldError(f"header field {name!r}: cannot read a byte and type from {spec!r}")


def _from_item(spec: Any) -> HeaderField:
    if isinstance(spec, str):
        return standard_field(spec)
    if isinstance(spec, HeaderField):
        return header_field(*spec)
    if isinstance(spec, Mapping):
        if "name" not in spec:
            raise HeaderFieldError(f"header spec {dict(spec)!r} has no 'name'")
        return header_field(spec["name"], spec.get("byte"), spec.get("type", "int32"))  # type: ignore[arg-type]
    if isinstance(spec, tuple | list) and len(spec) in (2, 3):
        return header_field(*spec)
    if hasattr(spec, "name") and hasattr(spec, "byte"):
        return header_field(spec.name, spec.byte, getattr(spec, "type", "int32"))
    raise HeaderFieldError(f"cannot read a header field (name, byte, type) from {spec!r}")


def columns_from_raw(raw: np.ndarray, fields: HeaderSpecs, endian: Endian = "big") -> dict[str, np.ndarray]:
    """Columns from raw headers, a ``uint8`` array ``(n, >= 240)`` whose rows may be strided (e.g. a map)."""
    resolved = normalize_fields(fields)
    arr = np.asarray(raw)
    if arr.dtype != np.uint8 or arr.ndim != 2 or arr.shape[1] < TRACE_HEADER_SIZE:
        raise ValueError(f"raw trace headers must be uint8 of shape (n, >= 240), got {arr.dtype} {arr.shape}")
    if arr.strides[1] != 1:
        arr = np.ascontiguousarray(arr)
    return {f.name: _column(arr, f, endian) for f in resolved}


def _words(arr: np.ndarray, field: HeaderField, endian: Endian) -> np.ndarray:
    """The raw words of one field as a strided view (no copy) in the file's byte order."""
    start = field.byte - 1
    disk = field.disk_dtype.newbyteorder(">" if endian == "big" else "<")
    return arr[:, start : start + disk.itemsize].view(disk)[:, 0]


def _column(arr: np.ndarray, field: HeaderField, endian: Endian) -> np.ndarray:
    words = _words(arr, field, endian)
    if field.type == "ibm32":
        return ibm_to_float(words)
    return words.astype(field.dtype)  # byte swap to native order, and a copy off the map


def iter_header_blocks(
    source: ByteSource,
    data_offset: int,
    trace_size: int,
    start: int,
    stop: int,
    *,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(first_trace, raw)`` with ``raw`` a ``uint8`` ``(k, 240)`` view of consecutive trace headers.

    The views are only valid until the next item (they may point into a map or a reused buffer).
    """
    if stop <= start:
        return
    if source.can_memmap:
        per_chunk = max(1, chunk_bytes // trace_size)
        for first in range(start, stop, per_chunk):
            k = min(per_chunk, stop - first)
            length = (k - 1) * trace_size + TRACE_HEADER_SIZE  # stop at the last header: no samples needed
            mm = source.memmap(data_offset + first * trace_size, length)
            if mm is None:  # pragma: no cover - can_memmap promised a map
                raise RuntimeError(f"{source.url}: memory map failed")
            yield (
                first,
                np.lib.stride_tricks.as_strided(
                    mm, shape=(k, TRACE_HEADER_SIZE), strides=(trace_size, 1), writeable=False
                ),
            )
            del mm
    elif trace_size <= RANGED_READ_THRESHOLD:
        # Streamed: consecutive pieces of whole traces, each one request, a few in flight; a piece stops at its
        # last header, so no byte is fetched twice and the samples after the last header are not fetched at all.
        piece = min(chunk_bytes, int(getattr(source, "piece_bytes", READ_PIECE_BYTES)))
        pieces = scan_pieces(data_offset, trace_size, start, stop, piece)
        ranges = ((offset, length) for _, _, offset, length in pieces)
        for (first, k, _, length), data in zip(pieces, source.iter_ranges(ranges), strict=True):
            _check_read(source, len(data), length, first)
            buf = np.frombuffer(data, dtype=np.uint8)
            yield (
                first,
                np.lib.stride_tricks.as_strided(
                    buf, shape=(k, TRACE_HEADER_SIZE), strides=(trace_size, 1), writeable=False
                ),
            )
    else:
        per_chunk = max(1, min(4096, chunk_bytes // TRACE_HEADER_SIZE))
        for first in range(start, stop, per_chunk):
            k = min(per_chunk, stop - first)
            offsets = [data_offset + (first + i) * trace_size for i in range(k)]
            blobs = source.read_ranges(offsets, TRACE_HEADER_SIZE)
            raw = np.frombuffer(b"".join(blobs), dtype=np.uint8)
            _check_read(source, raw.size, k * TRACE_HEADER_SIZE, first)
            yield first, raw.reshape(k, TRACE_HEADER_SIZE)


def scan_pieces(
    data_offset: int, trace_size: int, start: int, stop: int, piece_bytes: int
) -> list[tuple[int, int, int, int]]:
    """``(first trace, traces, offset, length)`` of the requests of a streamed scan of traces ``[start, stop)``:
    whole traces, at most ``piece_bytes`` each (at least one trace), consecutive and disjoint, each ending with
    its last trace's header (the samples after it are not fetched)."""
    per_piece = max(1, piece_bytes // trace_size)
    return [
        (first, k, data_offset + first * trace_size, (k - 1) * trace_size + TRACE_HEADER_SIZE)
        for first in range(start, stop, per_piece)
        for k in (min(per_piece, stop - first),)
    ]


def read_header_columns(
    source: ByteSource,
    fields: HeaderSpecs,
    *,
    data_offset: int,
    trace_size: int,
    n_traces: int,
    endian: Endian = "big",
    start: int = 0,
    stop: int | None = None,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
) -> dict[str, np.ndarray]:
    """Columns of trace-header words for traces ``[start, stop)`` of a file laid out as given."""
    resolved = normalize_fields(fields)
    stop = n_traces if stop is None else stop
    if not 0 <= start <= stop <= n_traces:
        raise IndexError(f"trace range [{start}, {stop}) is outside [0, {n_traces})")
    out = {f.name: np.empty(stop - start, dtype=f.dtype) for f in resolved}
    for first, raw in iter_header_blocks(source, data_offset, trace_size, start, stop, chunk_bytes=chunk_bytes):
        lo, hi = first - start, first - start + raw.shape[0]
        for f in resolved:
            if f.type == "ibm32":
                out[f.name][lo:hi] = ibm_to_float(_words(raw, f, endian))
            else:
                out[f.name][lo:hi] = _words(raw, f, endian)  # one pass: gather, byte swap, store
    return out


def _check_read(source: ByteSource, got: int, wanted: int, first: int) -> None:
    if got != wanted:
        from mdio_catalog.exceptions import SegyTruncatedError

        raise SegyTruncatedError(
            f"{source.url}: short read at trace {first} ({got} of {wanted} bytes); the file changed or is cut"
        )
