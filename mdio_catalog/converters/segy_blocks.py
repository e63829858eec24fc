"""Writing SEG-Y traces into MDIO chunk by chunk: the unit of parallel work of ``segy_to_mdio``.

A work unit is one chunk of the spatial grid (all its sample chunks and its header chunk). Its traces are read in
runs of consecutive trace numbers, decoded, placed into a dense block and written with one zarr call; a unit whose
cells are all dead writes nothing. Units are independent, so they run on a thread pool: reading (``pread``),
decoding (numpy) and compression (Blosc/ZFP) release the GIL.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import zarr

from mdio_catalog.core.headers import TRACE_HEADER_DTYPE, trace_header_dtype
from mdio_catalog.core.progress import progress
from mdio_catalog.core.statistics import SummaryStatistics
from mdio_catalog.segy.reader import SegyFile

Block = tuple[slice, ...]


def spatial_blocks(shape: Sequence[int], chunks: Sequence[int]) -> Iterator[Block]:
    """Chunk-aligned blocks of the spatial grid in C order (so reads follow a grid-sorted file)."""
    ranges = [range(0, size, chunk) for size, chunk in zip(shape, chunks, strict=True)]
    for starts in itertools.product(*ranges):
        yield tuple(slice(s, min(s + c, n)) for s, c, n in zip(starts, chunks, shape, strict=True))


@dataclass
class BlockWriter:
    """Reads the traces of one spatial block from ``segy`` and writes them to ``data`` and ``headers``."""

    segy: SegyFile
    trace_of_cell: npt.NDArray[np.int64]
    data: zarr.Array
    headers: zarr.Array

    def __post_init__(self) -> None:
        # Chunks that are all zero are not stored (as the reference does). zarr finds them by comparing every
        # chunk with the fill value, an extra pass that costs more than the compression; a bitwise OR over each
        # sample-chunk slab finds them ~10x faster, so the zarr check is turned off and empty slabs skipped here.
        self._unchecked = self.data.with_config({"write_empty_chunks": True})
        self._sample_chunk = int(self.data.chunks[-1])
        self._disk_headers = trace_header_dtype(">" if self.segy.endian == "big" else "<")
        native = self.segy.format_info.dtype
        # float32 holds int8/16/24 and float32 exactly; wider integers and float64 are checked sample by sample.
        self._check_exact = native == np.float64 or (native.kind in "iu" and native.itemsize >= 4 and
                                                     self.segy.format_info.storage is not None)  # fmt: skip
        self._lock = threading.Lock()
        self.inexact_samples = 0

    def _read(self, traces: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32]]:
        if not self._check_exact:
            return self.segy.read_trace_indices(traces)
        raw_headers, native = self.segy.read_trace_indices(traces, dtype=None)
        samples = native.astype(np.float32)
        with np.errstate(invalid="ignore", over="ignore"):  # values past the type's range come back wrong: inexact
            inexact = int(np.count_nonzero(samples.astype(native.dtype) != native))
        if inexact:
            with self._lock:
                self.inexact_samples += inexact
        return raw_headers, samples

    def write(self, block: Block) -> SummaryStatistics:
        traces = self.trace_of_cell[block]
        live = traces >= 0
        if not live.any():
            return SummaryStatistics()
        wanted = traces[live]
        raw_headers, samples = self._read(wanted)
        decoded_headers = raw_headers.view(self._disk_headers).reshape(-1).astype(TRACE_HEADER_DTYPE)
        if live.all():  # the common case: use the decoded arrays as they are, no scatter copy
            values = samples.reshape(*traces.shape, self.segy.n_samples)
            headers = decoded_headers.reshape(traces.shape)
        else:
            values = np.zeros((*traces.shape, self.segy.n_samples), dtype=self.data.dtype)
            values[live] = samples
            headers = np.zeros(traces.shape, dtype=TRACE_HEADER_DTYPE)
            headers[live] = decoded_headers
        stats = SummaryStatistics.of(samples)
        if bool(live.all()) and stats.count == samples.size:  # no zero sample: no empty chunk possible
            self._unchecked[(*block, slice(None))] = values
        else:
            for window in _nonzero_sample_runs(values, self._sample_chunk):
                self._unchecked[(*block, window)] = values[..., window]
        self.headers[block] = headers
        return stats


def _nonzero_sample_runs(values: np.ndarray, sample_chunk: int) -> list[slice]:
    """Sample ranges, whole chunks wide, of the runs of sample-chunk slabs that hold a non-zero value."""
    bits = values.view(np.uint32) if values.dtype.itemsize == 4 else values.view(np.uint64)
    magnitude = np.array(0x7FFFFFFF if values.dtype.itemsize == 4 else 0x7FFFFFFFFFFFFFFF, dtype=bits.dtype)
    n = values.shape[-1]
    runs: list[slice] = []
    for start in range(0, n, sample_chunk):
        slab = bits[..., start : start + sample_chunk]
        if not np.bitwise_or.reduce(slab, axis=None) & magnitude:  # only +0.0 / -0.0 in this slab
            continue
        stop = min(start + sample_chunk, n)
        if runs and runs[-1].stop == start:
            runs[-1] = slice(runs[-1].start, stop)
        else:
            runs.append(slice(start, stop))
    return runs


def write_blocks(writer: BlockWriter, chunks: Sequence[int], workers: int, description: str) -> SummaryStatistics:
    """Run ``writer`` over every spatial block with ``workers`` threads, keeping at most workers + 1 in flight
    (bounded memory), and return the merged statistics."""
    shape = writer.trace_of_cell.shape
    blocks = spatial_blocks(shape, chunks)
    total = int(np.prod([-(-n // c) for n, c in zip(shape, chunks, strict=True)]))
    stats = SummaryStatistics()
    with progress(total, description, unit="chunk") as bar, ThreadPoolExecutor(max_workers=workers) as pool:
        pending: set[Future[SummaryStatistics]] = set()
        try:
            for block in blocks:
                pending.add(pool.submit(writer.write, block))
                if len(pending) > workers:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        stats = stats + future.result()
                        bar.update()
            for future in pending:
                stats = stats + future.result()
                bar.update()
        except BaseException:
            for future in pending:
                future.cancel()
            raise
    return stats
