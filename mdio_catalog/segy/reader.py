"""``SegyFile``: read a SEG-Y file's headers and traces, locally or through fsspec, from many threads at once.

Nothing is read eagerly beyond the file header, extended textual headers and the first trace header. Header
columns come from a strided scan that skips samples; traces are read in contiguous blocks (one system call or
one ranged request per run of consecutive traces) and decoded with the vectorised codecs of this package.
Reads share no file position, so one ``SegyFile`` serves concurrent readers, and it pickles by reopening.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from mdio_catalog.core.headers import (
    FILE_HEADER_SIZE,
    TEXT_HEADER_SIZE,
    TRACE_HEADER_SIZE,
    trace_header_dtype,
)
from mdio_catalog.exceptions import SegyTruncatedError
from mdio_catalog.segy.binary_header import parse_binary_header
from mdio_catalog.segy.formats import SampleFormat, decode_samples
from mdio_catalog.segy.layout import SegyLayout, resolve_layout
from mdio_catalog.segy.source import FsspecSource, LocalSource, open_source
from mdio_catalog.segy.text_header import TextEncoding, decode_text_header, detect_text_encoding
from mdio_catalog.segy.trace_headers import (
    DEFAULT_CHUNK_BYTES,
    HeaderSpecs,
    iter_header_blocks,
    read_header_columns,
)

Endian = Literal["big", "little"]


class SegyFile:
    """A SEG-Y file opened for reading.

    ``path`` is a local path or an fsspec URL (``s3://...`` with ``storage_options``). ``endian`` and
    ``sample_format`` override the binary header for mislabelled files. A missing file raises
    :class:`~mdio_catalog.exceptions.MDIONotFoundError`; a size that is not a whole number of traces
    :class:`~mdio_catalog.exceptions.SegyTruncatedError`; zero samples or an unknown format
    :class:`~mdio_catalog.exceptions.SegyFormatError`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        storage_options: Mapping[str, Any] | None = None,
        endian: Endian | None = None,
        sample_format: int | str | None = None,
    ) -> None:
        self._source: LocalSource | FsspecSource = open_source(path, storage_options)
        self._options = {
            "storage_options": dict(storage_options or {}),
            "endian": endian,
            "sample_format": sample_format,
        }
        self._path = path
        try:
            self._file_header = self._source.read(0, FILE_HEADER_SIZE)
            self.layout: SegyLayout = resolve_layout(
                self._file_header,
                self._source.size,
                self._source.read,
                endian=endian,
                sample_format=sample_format,
                url=self._source.url,
            )
        except BaseException:
            self._source.close()
            raise

    # --- identity and layout ---------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The path or URL the file was opened from."""
        return self._source.url

    @property
    def is_remote(self) -> bool:
        """Whether the file is read over a network filesystem (fsspec: object stores, HTTP) rather than locally."""
        return isinstance(self._source, FsspecSource)

    @property
    def size(self) -> int:
        """File size in bytes."""
        return self._source.size

    @property
    def endian(self) -> Endian:
        """Byte order of headers and samples: ``"big"`` or ``"little"``."""
        return self.layout.endian

    @property
    def sample_format(self) -> int:
        """Sample format code as used for decoding (binary header byte 3225 unless overridden)."""
        return self.layout.sample_format.code

    @property
    def format_info(self) -> SampleFormat:
        """The full :class:`SampleFormat` (name, item size, native dtype)."""
        return self.layout.sample_format

    @property
    def n_traces(self) -> int:
        """Number of traces (from the file size)."""
        return self.layout.n_traces

    @property
    def n_samples(self) -> int:
        """Samples per trace."""
        return self.layout.n_samples

    @property
    def sample_interval(self) -> float:
        """Sample interval in microseconds (or metres/feet x 1000 for depth data); 0.0 when unknown."""
        return self.layout.sample_interval

    @property
    def trace_size(self) -> int:
        """Bytes per trace, headers included."""
        return self.layout.trace_size

    @property
    def data_offset(self) -> int:
        """File offset of the first trace."""
        return self.layout.data_offset

    @property
    def notes(self) -> tuple[str, ...]:
        """How the layout was decided, including every fallback taken (for logs and provenance)."""
        return self.layout.notes

    # --- file headers ----------------------------------------------------------------------------------------
    @property
    def raw_text_header(self) -> bytes:
        """The 3200 bytes of the textual header, as stored."""
        return self._file_header[:TEXT_HEADER_SIZE]

    @property
    def raw_binary_header(self) -> bytes:
        """The 400 bytes of the binary header, as stored."""
        return self._file_header[TEXT_HEADER_SIZE:FILE_HEADER_SIZE]

    @property
    def raw_file_header(self) -> bytes:
        """Everything before the first trace: text, binary and extended textual headers."""
        return self._file_header + b"".join(self.layout.extended_text)

    @cached_property
    def text_encoding(self) -> TextEncoding:
        """``"ebcdic"`` or ``"ascii"``, as detected for the main textual header."""
        return detect_text_encoding(self.raw_text_header)

    @cached_property
    def text_header(self) -> list[str]:
        """The textual header as 40 lines of 80 characters (lossless; see ``decode_text_header``)."""
        return decode_text_header(self.raw_text_header, self.text_encoding)

    @cached_property
    def extended_text_headers(self) -> list[list[str]]:
        """Each extended textual header as 40 lines of 80 characters (encoding detected per block)."""
        return [decode_text_header(block) for block in self.layout.extended_text]

    @cached_property
    def binary_header(self) -> dict[str, int | float]:
        """Every binary header field by name, decoded in the file's byte order."""
        return parse_binary_header(self.raw_binary_header, self.endian)

    # --- trace headers ----------------------------------------------------------------------------------------
    def header_columns(
        self,
        specs: HeaderSpecs,
        start: int = 0,
        stop: int | None = None,
        *,
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    ) -> dict[str, np.ndarray]:
        """Trace-header words for traces ``[start, stop)`` as ``{name: column}``, without reading samples."""
        start, stop = self._range(start, stop)
        return read_header_columns(
            self._source,
            specs,
            data_offset=self.data_offset,
            trace_size=self.trace_size,
            n_traces=self.n_traces,
            endian=self.endian,
            start=start,
            stop=stop,
            chunk_bytes=chunk_bytes,
        )

    def raw_trace_headers(self, start: int = 0, stop: int | None = None) -> npt.NDArray[np.uint8]:
        """The standard 240-byte headers of traces ``[start, stop)`` as a ``(n, 240)`` ``uint8`` array."""
        start, stop = self._range(start, stop)
        out = np.empty((stop - start, TRACE_HEADER_SIZE), dtype=np.uint8)
        for first, raw in iter_header_blocks(self._source, self.data_offset, self.trace_size, start, stop):
            out[first - start : first - start + raw.shape[0]] = raw
        return out

    def trace_headers(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Headers of traces ``[start, stop)`` as a structured array with the standard (MDIO v0) field names,
        in native byte order."""
        raw = self.raw_trace_headers(start, stop)
        disk = trace_header_dtype(">" if self.endian == "big" else "<")
        native = trace_header_dtype("<" if sys.byteorder == "little" else ">")
        return raw.view(disk).reshape(-1).astype(native)

    # --- traces ----------------------------------------------------------------------------------------------
    def read_raw_traces(self, start: int = 0, stop: int | None = None) -> npt.NDArray[np.uint8]:
        """Traces ``[start, stop)`` exactly as stored, ``(n, trace_size)`` ``uint8`` (one read)."""
        start, stop = self._range(start, stop)
        buf = np.empty((stop - start, self.trace_size), dtype=np.uint8)
        if buf.size:
            got = self._source.read_into(self.layout.trace_offset(start), buf)
            if got != buf.nbytes:
                raise SegyTruncatedError(
                    f"{self.url}: short read of traces [{start}, {stop}) ({got} of {buf.nbytes} bytes); "
                    "the file changed since it was opened"
                )
        return buf

    def read_traces(
        self, start: int = 0, stop: int | None = None, *, dtype: npt.DTypeLike | None = np.float32
    ) -> tuple[npt.NDArray[np.uint8], np.ndarray]:
        """Traces ``[start, stop)`` as ``(headers (n, 240) uint8, samples (n, n_samples))``.

        Samples are ``float32`` by default; ``dtype=None`` keeps the format's own type (e.g. ``int16``).
        """
        raw = self.read_raw_traces(start, stop)
        return self._split(raw, dtype)

    def read_trace_indices(
        self, indices: npt.ArrayLike, *, dtype: npt.DTypeLike | None = np.float32
    ) -> tuple[npt.NDArray[np.uint8], np.ndarray]:
        """Traces at arbitrary ``indices`` (any order, repeats allowed), returned in the order asked.

        Indices are sorted and grouped into runs of consecutive traces, each read with one request (on object
        stores, runs longer than 8 MiB are cut into pieces, and runs and pieces are requested concurrently).
        """
        raw, where = self._gather(indices)
        headers, samples = self._split(raw, dtype)
        if _ascending(where, raw.shape[0]):  # asked in file order without repeats: no reordering copy
            return headers, samples
        return headers[where], samples[where]

    def read_trace_records(self, indices: npt.ArrayLike) -> npt.NDArray[np.uint8]:
        """Whole trace records (every header, additional rev 2 ones included, and the raw sample bytes) at
        ``indices``, ``(n, trace_size)`` ``uint8`` in the order asked: for byte-exact copies of what the file holds.
        """
        raw, where = self._gather(indices)
        return raw if _ascending(where, raw.shape[0]) else raw[where]

    def _gather(self, indices: npt.ArrayLike) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
        """Raw records of the distinct ``indices`` in ascending order, and where each asked index sits among them."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < 0 or idx.max() >= self.n_traces):
            raise IndexError(f"trace indices must be in [0, {self.n_traces}), got {idx.min()}..{idx.max()}")
        order = np.argsort(idx, kind="stable")
        uniq, inverse = np.unique(idx[order], return_inverse=True)
        raw = np.empty((uniq.size, self.trace_size), dtype=np.uint8)
        runs = _runs(uniq)
        # One read per run of consecutive traces, straight into place; on object stores the runs (cut into
        # pieces of a few MiB) are requested concurrently.
        requests = [(self.layout.trace_offset(int(uniq[lo])), raw[lo:hi]) for lo, hi in runs]
        for (lo, hi), got in zip(runs, self._source.read_many_into(requests), strict=True):
            if got != raw[lo:hi].nbytes:
                first = int(uniq[lo])
                raise SegyTruncatedError(
                    f"{self.url}: short read of traces [{first}, {first + hi - lo}); "
                    "the file changed since it was opened"
                )
        where = np.empty_like(order)
        where[order] = inverse  # position of each requested index within uniq
        return raw, where

    def iter_traces(
        self, block: int = 4096, *, dtype: npt.DTypeLike | None = np.float32
    ) -> Iterator[tuple[int, npt.NDArray[np.uint8], np.ndarray]]:
        """Yield ``(first_trace, headers, samples)`` for consecutive blocks of ``block`` traces."""
        for first in range(0, self.n_traces, block):
            headers, samples = self.read_traces(first, min(first + block, self.n_traces), dtype=dtype)
            yield first, headers, samples

    # --- plumbing ----------------------------------------------------------------------------------------------
    def _split(self, raw: np.ndarray, dtype: npt.DTypeLike | None) -> tuple[npt.NDArray[np.uint8], np.ndarray]:
        headers = np.ascontiguousarray(raw[:, :TRACE_HEADER_SIZE])
        samples = decode_samples(raw[:, self.layout.trace_header_size :], self.format_info, self.endian, dtype)
        return headers, samples.reshape(raw.shape[0], self.n_samples)

    def _range(self, start: int, stop: int | None) -> tuple[int, int]:
        stop = self.n_traces if stop is None else stop
        if not 0 <= start <= stop <= self.n_traces:
            raise IndexError(f"trace range [{start}, {stop}) is outside [0, {self.n_traces})")
        return int(start), int(stop)

    def close(self) -> None:
        """Release the file handle."""
        self._source.close()

    def __enter__(self) -> SegyFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        fmt = self.format_info
        return (
            f"SegyFile({self.url!r}, traces={self.n_traces}, samples={self.n_samples}, "
            f"format={fmt.code} ({fmt.name}), endian={self.endian!r}, dt={self.sample_interval:g} us)"
        )

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self._path, **self._options}

    def __setstate__(self, state: dict[str, Any]) -> None:
        path = state.pop("path")
        self.__init__(path, **state)  # type: ignore[misc]


def _ascending(where: np.ndarray, n_unique: int) -> bool:
    """``where`` (see ``SegyFile._gather``) selects every distinct record once, in order: the identity."""
    return where.size == n_unique and bool(np.all(where[1:] > where[:-1]))


def _runs(sorted_unique: np.ndarray) -> list[tuple[int, int]]:
    """``[lo, hi)`` positions of runs of consecutive integers in a sorted, unique array."""
    if sorted_unique.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(sorted_unique) != 1) + 1
    edges = np.concatenate([[0], breaks, [sorted_unique.size]])
    return list(zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True))
