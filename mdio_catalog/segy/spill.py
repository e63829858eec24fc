"""A local spill of the remote SEG-Y bytes the header scan streamed, so the chunk writing reads them from disk.

On an object store the header scan has to download whole traces (240 header bytes among thousands of sample
bytes cannot be fetched one by one at a sane request count), and the chunk writing needs the same samples again.
Without a spill every byte of the file crosses the network twice. With it, the scan writes what it streamed to
an anonymous temporary file (unlinked at creation, so the kernel frees it whatever happens to the process,
``kill -9`` included) at the same offsets, and later reads of covered ranges come from there.

The spill is used only when the temporary folder (``TMPDIR``) has room for the whole file plus a margin; otherwise
ingestion downloads twice, as before, and says so in the log. Memory stays bounded: the bytes go through the
page cache, not the heap. On a cluster each worker process spills what it scanned; its write tasks hit that
spill for those spans and fetch the rest.
"""

from __future__ import annotations

import bisect
import logging
import os
import shutil
import tempfile
import threading
from typing import Final

from mdio_catalog.settings import get_settings

logger = logging.getLogger(__name__)

#: Free space the temporary folder keeps beyond the spilled file.
SPILL_MARGIN_BYTES: Final = 1 << 30


class Spill:
    """Byte ranges of one remote file kept in an anonymous local file at their own offsets."""

    def __init__(self, size: int, directory: str | None = None) -> None:
        self.size = int(size)
        self._file = tempfile.TemporaryFile(dir=directory)  # noqa: SIM115 (lives as long as the source)
        self._fd = self._file.fileno()
        self._starts: list[int] = []  # merged, sorted, disjoint [start, end) intervals
        self._ends: list[int] = []
        self._lock = threading.Lock()
        self.bytes_written = 0
        self.bytes_served = 0

    @classmethod
    def create(cls, size: int, url: str) -> Spill | None:
        """A spill for a file of ``size`` bytes, or ``None`` (logged) when the temporary folder lacks room."""
        if not get_settings().segy_spill:
            return None
        directory = tempfile.gettempdir()
        try:
            free = shutil.disk_usage(directory).free
        except OSError:
            return None
        if free < size + SPILL_MARGIN_BYTES:
            logger.info(
                "not spilling %s to %s (%d bytes free, %d needed): its samples are downloaded again for writing",
                url,
                directory,
                free,
                size + SPILL_MARGIN_BYTES,
            )
            return None
        return cls(size, directory)

    def put(self, offset: int, data: bytes | memoryview) -> None:
        """Keep ``data`` (the file's bytes at ``offset``)."""
        length = len(data)
        if not length or self._fd < 0:
            return
        written = 0
        view = memoryview(data).cast("B")
        while written < length:
            written += os.pwrite(self._fd, view[written:], offset + written)
        with self._lock:
            self.bytes_written += length
            self._add(offset, offset + length)

    def _add(self, start: int, end: int) -> None:
        """Merge ``[start, end)`` into the covered intervals (caller holds the lock)."""
        i = bisect.bisect_left(self._ends, start)
        j = i
        while j < len(self._starts) and self._starts[j] <= end:
            start = min(start, self._starts[j])
            end = max(end, self._ends[j])
            j += 1
        self._starts[i:j] = [start]
        self._ends[i:j] = [end]

    def split(self, start: int, end: int) -> list[tuple[int, int, bool]]:
        """``[start, end)`` cut into consecutive ``(lo, hi, in_spill)`` pieces (the scan streams headers up to the
        last one of each request, so a run of traces can straddle a few samples it never fetched)."""
        out: list[tuple[int, int, bool]] = []
        with self._lock:
            i = max(0, bisect.bisect_right(self._starts, start) - 1)
            position = start
            while position < end:
                while i < len(self._starts) and self._ends[i] <= position:
                    i += 1
                if i < len(self._starts) and self._starts[i] <= position:
                    hi = min(end, self._ends[i])
                    out.append((position, hi, True))
                else:
                    hi = min(end, self._starts[i]) if i < len(self._starts) else end
                    out.append((position, hi, False))
                position = hi
        return out

    def read_into(self, offset: int, view: memoryview) -> int:
        """Fill ``view`` from the spill (the range must be covered)."""
        done = 0
        while done < len(view):
            got = os.preadv(self._fd, [view[done:]], offset + done)
            if got <= 0:
                break
            done += got
        with self._lock:
            self.bytes_served += done
        return done

    def close(self) -> None:
        if self._fd >= 0:
            self._fd = -1
            self._file.close()
            if self.bytes_written:
                logger.debug("spill: %d bytes kept, %d served locally", self.bytes_written, self.bytes_served)
