"""The trace headers a scan looks at: every trace of small files, evenly spaced blocks of large ones.

Kept apart from the summaries and the geometry search so those stay pure functions of a :class:`HeaderSample`,
which tests build from plain arrays (:meth:`HeaderSample.from_words`) without a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from mdio_catalog.core.headers import TRACE_HEADER_SIZE
from mdio_catalog.segy.reader import SegyFile
from mdio_catalog.segy.trace_headers import columns_from_raw

Endian = Literal["big", "little"]

#: Traces read at most by a scan; larger files are sampled.
DEFAULT_MAX_TRACES: Final = 200_000
#: Consecutive traces per sampled block (whole lines and records stay together, reads stay sequential).
SAMPLE_BLOCK: Final = 1000


@dataclass(frozen=True, eq=False)
class HeaderSample:
    """Raw standard trace headers of the scanned traces (file order) and their columns on demand.

    ``raw`` is ``(m, 240)`` ``uint8``; ``block_starts`` are the rows where a new run of consecutive traces
    starts (row 0 always), so that sort-order checks do not count the jumps between sampled blocks.
    """

    raw: npt.NDArray[np.uint8]
    endian: Endian
    n_traces: int
    block_starts: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(1, np.int64))
    _columns: dict[tuple[int, str], np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def size(self) -> int:
        """Number of scanned traces."""
        return int(self.raw.shape[0])

    @property
    def sampled(self) -> bool:
        """True when only part of the file was scanned."""
        return self.size < self.n_traces

    def column(self, byte: int, kind: str = "int32") -> np.ndarray:
        """The word at 1-based ``byte`` of type ``kind`` for every scanned trace (cached)."""
        key = (int(byte), kind)
        if key not in self._columns:
            self._columns[key] = columns_from_raw(self.raw, [("w", int(byte), kind)], self.endian)["w"]
        return self._columns[key]

    @classmethod
    def from_words(
        cls,
        words: Mapping[int, npt.ArrayLike],
        *,
        types: Mapping[int, str] | None = None,
        endian: Endian = "big",
        n_traces: int | None = None,
    ) -> HeaderSample:
        """Headers holding ``words`` (``{byte: values}``, int32 unless ``types`` says int16) and zeros elsewhere:
        for working out geometries without a file."""
        cols = {int(b): np.asarray(v).reshape(-1) for b, v in words.items()}
        m = max((c.size for c in cols.values()), default=0)
        raw = np.zeros((m, TRACE_HEADER_SIZE), dtype=np.uint8)
        for byte, values in cols.items():
            kind = (types or {}).get(byte, "int32")
            dtype = np.dtype(kind).newbyteorder(">" if endian == "big" else "<")
            raw[:, byte - 1 : byte - 1 + dtype.itemsize] = values.astype(dtype).view(np.uint8).reshape(m, -1)
        return cls(raw=raw, endian=endian, n_traces=m if n_traces is None else n_traces)


def read_header_sample(segy: SegyFile, max_traces: int = DEFAULT_MAX_TRACES) -> HeaderSample:
    """Every trace header when the file has at most ``max_traces`` traces, else evenly spaced blocks of
    :data:`SAMPLE_BLOCK` consecutive traces adding up to about ``max_traces``."""
    n = segy.n_traces
    if max_traces < 1:
        raise ValueError(f"max_traces must be at least 1, got {max_traces}")
    if n <= max_traces:
        return HeaderSample(raw=segy.raw_trace_headers(0, n), endian=segy.endian, n_traces=n)
    block = max(1, min(SAMPLE_BLOCK, max_traces // 16))
    n_blocks = max(1, max_traces // block)
    starts = np.unique(np.linspace(0, n - block, n_blocks).round().astype(np.int64))
    raw = np.concatenate([segy.raw_trace_headers(int(s), int(s) + block) for s in starts])
    return HeaderSample(
        raw=raw, endian=segy.endian, n_traces=n, block_starts=np.arange(starts.size, dtype=np.int64) * block
    )
