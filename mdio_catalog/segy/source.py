"""Random-access, thread-safe byte sources for SEG-Y files: local paths and fsspec URLs.

Readers never share a file position: local files are read with ``os.pread`` on one descriptor (safe from any
number of threads, and across ``fork``), fsspec files with stateless ranged reads (``cat_file``). Sources pickle
by reopening, so a reader can be shipped to worker processes.

Object stores are streamed: a long range is cut into pieces of :data:`READ_PIECE_BYTES` (8 MiB), and several
pieces are in flight at once (:data:`READS_IN_FLIGHT`) on the filesystem's own event loop, each one ranged GET
(a start and an end are always given, so s3fs sends no HEAD first). Memory is bounded by the pieces in flight.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Final, Protocol, runtime_checkable

import numpy as np

from mdio_catalog.exceptions import MDIONotFoundError, NotRegularFileError, SegyError
from mdio_catalog.localfile import open_regular_file
from mdio_catalog.segy.spill import Spill

#: Largest single ranged request of a streamed read: latency is small against its transfer time, and a few in
#: flight keep memory small.
READ_PIECE_BYTES: Final = 8 * 1024 * 1024

#: Ranged requests in flight at once per streamed read (botocore's connection pool holds 10 by default).
READS_IN_FLIGHT: Final = 8


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

    def read_many_into(self, requests: Sequence[tuple[int, np.ndarray]]) -> list[int]:
        """Fill each contiguous ``uint8`` array from its offset (concurrently where the backend allows); return
        the bytes read into each."""
        ...

    def iter_ranges(self, ranges: Iterable[tuple[int, int]]) -> Iterator[bytes]:
        """The bytes of each ``(offset, length)`` range, in order, with a few ranges fetched ahead."""
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
        # FIFOs, devices and symlink loops are refused before anything is opened (a FIFO would block forever).
        try:
            fd = open_regular_file(self.path, "SEG-Y file")
        except MDIONotFoundError:
            raise MDIONotFoundError(f"SEG-Y file not found: {self.url}") from None
        except NotRegularFileError:
            if os.path.isdir(self.path):
                raise SegyError(f"{self.url} is a directory, not a SEG-Y file") from None
            raise
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

    def read_many_into(self, requests: Sequence[tuple[int, np.ndarray]]) -> list[int]:
        return [self.read_into(offset, out) for offset, out in requests]

    def iter_ranges(self, ranges: Iterable[tuple[int, int]]) -> Iterator[bytes]:
        for offset, length in ranges:
            yield self.read(offset, length)

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
    """A file behind any fsspec filesystem (s3://, gs://, memory://, http...), read with ranged requests.

    On asynchronous filesystems (s3fs, gcsfs, http) long reads are split into pieces of at most
    ``piece_bytes`` with up to ``in_flight`` of them requested at once; other filesystems read piece by piece.
    """

    can_memmap = False

    def __init__(
        self,
        url: str,
        storage_options: Mapping[str, Any] | None = None,
        *,
        piece_bytes: int = READ_PIECE_BYTES,
        in_flight: int = READS_IN_FLIGHT,
    ) -> None:
        import fsspec

        self.url = url
        self.storage_options = dict(storage_options or {})
        self.piece_bytes = max(1, int(piece_bytes))
        self.in_flight = max(1, int(in_flight))
        self.fs, self.path = fsspec.core.url_to_fs(url, **self.storage_options)
        try:
            info = self.fs.info(self.path)
        except FileNotFoundError:
            raise MDIONotFoundError(f"SEG-Y file not found: {url}") from None
        if info.get("type") == "directory":
            raise SegyError(f"{url} is a directory, not a SEG-Y file")
        self.size = int(info["size"])
        self._spill: Spill | None = None
        self._spill_tried = False

    def _spill_for_writing(self) -> Spill | None:
        """The spill that streamed reads fill (created on first use, when the temporary folder has room)."""
        if not self._spill_tried:
            self._spill_tried = True
            self._spill = Spill.create(self.size, self.url)
        return self._spill

    @property
    def _async(self) -> bool:
        """Whether requests can be sent concurrently on the filesystem's event loop."""
        return bool(getattr(self.fs, "async_impl", False)) and not getattr(self.fs, "asynchronous", False)

    def read(self, offset: int, length: int) -> bytes:
        end = min(offset + length, self.size)
        if end <= offset:
            return b""
        return bytes(self.fs.cat_file(self.path, start=offset, end=end))

    def read_into(self, offset: int, out: np.ndarray) -> int:
        return self.read_many_into([(offset, out)])[0]

    def read_ranges(self, offsets: Sequence[int], length: int) -> list[bytes]:
        if not len(offsets):
            return []
        starts = [int(o) for o in offsets]
        ends = [min(s + length, self.size) for s in starts]
        return [bytes(b) for b in self.fs.cat_ranges([self.path] * len(starts), starts, ends)]

    def read_many_into(self, requests: Sequence[tuple[int, np.ndarray]]) -> list[int]:
        pieces: list[tuple[int, int, memoryview]] = []  # (request number, offset, where the bytes go)
        for number, (offset, out) in enumerate(requests):
            view = memoryview(out.data).cast("B") if out.nbytes else memoryview(b"")
            length = max(0, min(len(view), self.size - int(offset)))
            for start in range(0, length, self.piece_bytes):
                pieces.append((number, int(offset) + start, view[start : min(start + self.piece_bytes, length)]))
        done = [0] * len(requests)
        spill = self._spill
        if spill is not None:  # bytes the header scan already downloaded are read from the local spill
            remote = []
            for number, offset, view in pieces:
                for lo, hi, kept in spill.split(offset, offset + len(view)):
                    part = view[lo - offset : hi - offset]
                    if kept:
                        done[number] += spill.read_into(lo, part)
                    else:
                        remote.append((number, lo, part))
            pieces = remote
        if self._async and len(pieces) > 1:
            from fsspec.asyn import sync

            sizes = sync(self.fs.loop, self._fetch_all, pieces)
        else:
            sizes = [self._fetch_into(offset, view) for _, offset, view in pieces]
        for (number, _, _), size in zip(pieces, sizes, strict=True):
            done[number] += size
        return done

    def _fetch_into(self, offset: int, view: memoryview) -> int:
        data = self.read(offset, len(view))
        view[: len(data)] = data
        return len(data)

    async def _fetch_all(self, pieces: Sequence[tuple[int, int, memoryview]]) -> list[int]:
        gate = asyncio.Semaphore(self.in_flight)

        async def fetch(offset: int, view: memoryview) -> int:
            async with gate:
                data = await self.fs._cat_file(self.path, start=offset, end=offset + len(view))
            view[: len(data)] = data
            return len(data)

        return list(await asyncio.gather(*(fetch(offset, view) for _, offset, view in pieces)))

    def iter_ranges(self, ranges: Iterable[tuple[int, int]]) -> Iterator[bytes]:
        if not self._async:
            for offset, length in ranges:
                yield self.read(offset, length)
            return
        spill = self._spill_for_writing()
        todo = iter(ranges)
        ahead: collections.deque[tuple[int, Future[bytes]]] = collections.deque()
        try:
            for offset, length in todo:
                ahead.append((offset, self._submit(offset, length)))
                if len(ahead) >= self.in_flight:
                    yield self._kept(spill, *ahead.popleft())
            while ahead:
                yield self._kept(spill, *ahead.popleft())
        finally:
            for _, future in ahead:  # the consumer stopped early or a read failed: drop what is still coming
                future.cancel()

    @staticmethod
    def _kept(spill: Spill | None, offset: int, future: Future[bytes]) -> bytes:
        """The bytes of a streamed read, also written to the spill when there is one."""
        data = future.result()
        if spill is not None:
            spill.put(offset, data)
        return data

    def _submit(self, offset: int, length: int) -> Future[bytes]:
        end = min(offset + length, self.size)
        if end <= offset:
            done: Future[bytes] = Future()
            done.set_result(b"")
            return done
        return asyncio.run_coroutine_threadsafe(self.fs._cat_file(self.path, start=offset, end=end), self.fs.loop)

    def memmap(self, offset: int, length: int) -> np.ndarray | None:
        return None

    def close(self) -> None:
        """Drop the spill (every read is its own request: nothing else to release)."""
        if self._spill is not None:
            self._spill.close()
            self._spill = None


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
