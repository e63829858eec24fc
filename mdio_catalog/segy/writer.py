"""A SEG-Y file written out of order, in place, and made visible only when complete.

The exporter knows the position of every trace before writing any (the rank of its cell among the selected live
cells), so independent workers write their blocks with ``os.pwrite`` at the right offsets. The file is written
under a temporary name beside the target and renamed into place by :meth:`SegyWriter.commit`; an interrupted
export leaves no file that looks complete.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from types import TracebackType

import numpy as np
import numpy.typing as npt

from mdio_catalog.core.publish import OwnerMarker, new_token, owner_name, staging_name, sweep
from mdio_catalog.core.store import Location
from mdio_catalog.exceptions import ExportError, StorageError


class SegyWriter:
    """Preallocated output: ``file_header`` then ``n_traces`` records of ``trace_size`` bytes."""

    def __init__(self, path: str | os.PathLike[str], file_header: bytes, trace_size: int, n_traces: int) -> None:
        self.path = Path(path)
        self.file_header_size = len(file_header)
        self.trace_size = int(trace_size)
        self.n_traces = int(n_traces)
        if not self.path.parent.is_dir():
            raise ExportError(f"Cannot write {self.path}: folder {self.path.parent} does not exist.")
        if os.path.isdir(self.path):  # (os.path does not raise on names the filesystem refuses)
            raise ExportError(f"Cannot write {self.path}: it is a folder; give a file name.")
        token = new_token()
        self.partial = self.path.with_name(staging_name(self.path.name, token))
        target = Location(url=str(self.path.absolute()))
        try:
            sweep(target)  # partial files of dead exports to this path
            # An owner marker (locked while this writer lives) says the partial file is in use: see core/publish.
            self._marker: OwnerMarker | None = OwnerMarker(
                target.sibling(owner_name(self.path.name, token)), token, "segy export", target.url
            )
        except OSError as exc:
            raise StorageError(f"Cannot write {self.path}: {exc.strerror or exc}.") from exc
        try:
            self._fd = os.open(self.partial, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        except OSError as exc:
            self._release_marker()
            raise StorageError(f"Cannot write {self.path}: {exc.strerror or exc}.") from exc
        self._closed = False
        try:
            os.ftruncate(self._fd, self.file_header_size + self.trace_size * self.n_traces)
            self._pwrite(file_header, 0)
        except BaseException:
            self.abort()
            raise

    def _pwrite(self, data: bytes | memoryview, offset: int) -> None:
        view = memoryview(data)
        while view.nbytes:
            written = os.pwrite(self._fd, view, offset)
            view = view[written:]
            offset += written

    def write_traces(self, first: int, records: npt.NDArray[np.uint8]) -> None:
        """Write consecutive trace records (``(n, trace_size)`` bytes) starting at trace number ``first``."""
        if records.ndim != 2 or records.shape[1] != self.trace_size or records.dtype.itemsize != 1:
            raise ExportError(
                f"Trace records must be (n, {self.trace_size}) bytes, got {records.shape} of {records.dtype}."
            )
        if first < 0 or first + records.shape[0] > self.n_traces:
            raise ExportError(f"Traces {first}..{first + records.shape[0]} fall outside 0..{self.n_traces}.")
        self._pwrite(np.ascontiguousarray(records).data, self.file_header_size + first * self.trace_size)

    def commit(self) -> Path:
        """Flush and move the complete file into place (replacing an older file of that name)."""
        os.fsync(self._fd)
        os.close(self._fd)
        self._closed = True
        os.replace(self.partial, self.path)
        self._release_marker()
        return self.path

    def _release_marker(self) -> None:
        if self._marker is not None:
            self._marker.release()
            self._marker = None

    def abort(self) -> None:
        """Drop the partial file."""
        if not self._closed:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._closed = True
        with contextlib.suppress(FileNotFoundError):
            self.partial.unlink()
        self._release_marker()

    def __enter__(self) -> SegyWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if kind is not None:
            self.abort()
