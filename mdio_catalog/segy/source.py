"""Random-access, thread-safe byte sources for SEG-Y files: local paths and fsspec URLs.

Readers never share a file position: local files are read with ``os.pread`` on one descriptor (safe from any
number of threads, and across ``fork``), fsspec files with stateless ranged reads (``cat_file``). Sources pickle
by reopening, so a reader can be shipped to worker processes.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from mdio_catalog.exceptions import MDIONotFoundError, SegyError


@runtime_checkable
class ByteSource(Protocol):
    """What the SEG-Y reader needs from a file: its size and bytes at any offset."""

    url: str
    size: int
    can_memmap: bool

    def read(self, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes at ``offset``; fewer only where the file ends."""
        ...

    def read_into(self, offset: int, out: np.ndarray) -> int:
        """Fill the contiguous ``uint8`` array ``out`` from ``offset``; return the number of bytes read."""
        ...

    def read_ranges(self, offsets: Sequence[int], length: int) -> list[bytes]:
        """``length`` bytes at each offset (one request batch where the backend allows)."""
        ...

    def memmap(self, offset: int, length: int) -> np.ndarray | None:
        """A read-only ``uint8`` memory map of the range, or ``None`` when the source cannot map."""
        ...

    def close(self) -> None:
        """Release the file; reading afterwards is an error."""
        ...


class LocalSource:
    """A local file read with ``os.pread`` and mapped with ``numpy.memmap``."""

    can_memmap = True

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.url = str(self.path)
        self._fd: int | None = None
        self._open()

    def _open(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except FileNotFoundError:
            raise MDIONotFoundError(f"SEG-Y file not found: {self.url}") from None
        except IsADirectoryError:
            raise SegyError(f"{self.url} is a directory, not a SEG-Y file") from None
        if not os.path.isfile(self.path):
            os.close(fd)
            raise SegyError(f"{self.url} is a directory, not a SEG-Y file")
        self._fd = fd
        self.size = os.fstat(fd).st_size

    @property
    def fd(self) -> int:
        if self._fd is None:
            raise SegyError(f"{self.url} is closed")
        return self._fd

    def read(self, offset: int, length: int) -> bytes:
        chunks: list[bytes] = []
        while length > 0:
            chunk = os.pread(self.fd, length, offset)
            if not chunk:
                break
            chunks.append(chunk)
            offset += len(chunk)
            length -= len(chunk)
        return b"".join(chunks)

    def read_into(self, offset: int, out: np.ndarray) -> int:
        view = memoryview(out.data).cast("B")
        done = 0
        while done < len(view):
            n = os.preadv(self.fd, [view[done:]], offset + done)
            if n == 0:
                break
            done += n
        return done

    def read_ranges(self, offsets: Sequence[int], length: int) -> list[bytes]:
        return [self.read(int(off), length) for off in offsets]

    def memmap(self, offset: int, length: int) -> np.ndarray | None:
        if length <= 0:
            return np.empty(0, dtype=np.uint8)
        return np.memmap(self.path, dtype=np.uint8, mode="r", offset=offset, shape=(length,))

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.path = state["path"]
        self.url = str(self.path)
        self._fd = None
        self._open()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # interpreter shutdown: nothing sensible to do
            self.close()


class FsspecSource:
    """A file behind any fsspec filesystem (s3://, gs://, memory://, http...), read with ranged requests."""

    can_memmap = False

    def __init__(self, url: str, storage_options: Mapping[str, Any] | None = None) -> None:
        import fsspec

        self.url = url
        self.storage_options = dict(storage_options or {})
        self.fs, self.path = fsspec.core.url_to_fs(url, **self.storage_options)
        try:
            info = self.fs.info(self.path)
        except FileNotFoundError:
            raise MDIONotFoundError(f"SEG-Y file not found: {url}") from None
        if info.get("type") == "directory":
            raise SegyError(f"{url} is a directory, not a SEG-Y file")
        self.size = int(info["size"])

    def read(self, offset: int, length: int) -> bytes:
        end = min(offset + length, self.size)
        if end <= offset:
            return b""
        return bytes(self.fs.cat_file(self.path, start=offset, end=end))

    def read_into(self, offset: int, out: np.ndarray) -> int:
        data = self.read(offset, out.nbytes)
        memoryview(out.data).cast("B")[: len(data)] = data
        return len(data)

    def read_ranges(self, offsets: Sequence[int], length: int) -> list[bytes]:
        if not len(offsets):
            return []
        starts = [int(o) for o in offsets]
        ends = [min(s + length, self.size) for s in starts]
        return [bytes(b) for b in self.fs.cat_ranges([self.path] * len(starts), starts, ends)]

    def memmap(self, offset: int, length: int) -> np.ndarray | None:
        return None

    def close(self) -> None:
        """Nothing to release: every read is its own request."""


def open_source(
    path: str | os.PathLike[str], storage_options: Mapping[str, Any] | None = None
) -> LocalSource | FsspecSource:
    """Open a local path (or ``file://`` URL) with :class:`LocalSource`, anything else through fsspec."""
    if isinstance(path, os.PathLike):
        return LocalSource(path)
    text = str(path)
    if text.startswith("file://"):
        return LocalSource(text[len("file://") :])
    if "://" not in text and "::" not in text:
        return LocalSource(text)
    return FsspecSource(text, storage_options)
