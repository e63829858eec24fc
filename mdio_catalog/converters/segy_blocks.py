"""Writing SEG-Y traces into MDIO chunk by chunk: the unit of parallel work of ``segy_to_mdio``.

A work unit is a chunk-aligned region of the spatial grid (one chunk, or for a SEG-Y on an object store a few
chunks side by side along the fastest axis, so that its runs of consecutive traces are long requests) with all
its sample chunks and its header chunks. Its traces are read in runs of consecutive trace numbers (concurrently
on object stores), decoded, placed into a dense block and written with one zarr call per sample-chunk run; a
unit whose cells are all dead writes nothing. Units are independent: they run on this process's threads
(reading, decoding and compression release the GIL) or as tasks on a dask cluster, through the same
:func:`write_unit`. A task receives the plan (scattered once) and its unit (the region and the trace number of
each of its cells, a few KiB), opens the SEG-Y and the staged arrays once per ingestion and process, writes
whole chunks straight to the target store, and returns its statistics and inexact-sample count.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import zarr

from mdio_catalog.converters import segy_exact
from mdio_catalog.converters.segy_exact import IbmWords
from mdio_catalog.core.cluster import OperationCache, operation_task, run_tasks
from mdio_catalog.core.headers import TRACE_HEADER_DTYPE, TRACE_HEADER_SIZE, trace_header_dtype
from mdio_catalog.core.recording import Drained, LiveRecorder, RecordingStore, active_recorder
from mdio_catalog.core.statistics import SummaryStatistics
from mdio_catalog.core.store import Location, open_store, storage_errors
from mdio_catalog.segy.formats import decode_samples
from mdio_catalog.segy.header_scan import SegyRef
from mdio_catalog.segy.ibm import ibm_to_float
from mdio_catalog.segy.reader import SegyFile
from mdio_catalog.segy.source import READ_PIECE_BYTES
from mdio_catalog.settings import get_settings

Block = tuple[slice, ...]


def spatial_blocks(shape: Sequence[int], chunks: Sequence[int]) -> Iterator[Block]:
    """Chunk-aligned blocks of the spatial grid in C order (so reads follow a grid-sorted file)."""
    ranges = [range(0, size, chunk) for size, chunk in zip(shape, chunks, strict=True)]
    for starts in itertools.product(*ranges):
        yield tuple(slice(s, min(s + c, n)) for s, c, n in zip(starts, chunks, shape, strict=True))


#: Longest run of consecutive traces a unit of a SEG-Y on an object store is grown to (one ranged request).
TARGET_RUN_BYTES: Final = READ_PIECE_BYTES

#: Memory a write task may use (raw traces, decoded samples, compression), which bounds how many chunks a unit
#: of a SEG-Y on an object store groups.
TASK_MEMORY_BYTES: Final = 256 * 1024 * 1024

#: Bytes held per byte of raw traces while a unit is written: the raw traces, float32 samples, chunk buffers.
_MEMORY_PER_RAW_BYTE: Final = 2.5


@dataclass(frozen=True)
class WriteUnit:
    """One task: a chunk-aligned region of the spatial grid and the trace number of each of its cells (-1: dead).

    ``index`` is the unit's rank in C order, so results are merged in the same order however they complete.
    """

    index: int
    region: Block
    traces: npt.NDArray[np.int64]


@dataclass(frozen=True)
class UnitResult:
    """What a task sends back: the statistics of each chunk block of its region (C order), inexact samples, and
    the unnormalised IBM words it met."""

    index: int
    stats: tuple[SummaryStatistics, ...]
    inexact: int = 0
    ibm: IbmWords | None = None
    checksums: Drained | None = None  # entries a task in another process recorded (core.recording)


@dataclass(frozen=True)
class IngestResult:
    """Everything the write tasks of an ingestion found, merged in C order of their units."""

    stats: SummaryStatistics
    inexact: int
    ibm: IbmWords


@dataclass
class BlockWriter:
    """Reads the traces of a unit from ``segy`` and writes them to ``data`` and ``headers`` (and the rev 2
    additional trace headers to ``extra`` when the file has them)."""

    segy: SegyFile
    data: zarr.Array
    headers: zarr.Array
    extra: zarr.Array | None = None
    recorder: LiveRecorder | None = None  # a worker's own, when no recording of the target is active there

    def __post_init__(self) -> None:
        # Chunks that are all zero are not stored (as the reference does). zarr finds them by comparing every
        # chunk with the fill value, an extra pass that costs more than the compression; a bitwise OR over each
        # sample-chunk slab finds them ~10x faster, so the zarr check is turned off and empty slabs skipped here.
        self._unchecked = self.data.with_config({"write_empty_chunks": True})
        self._sample_chunk = int(self.data.chunks[-1])
        self._block_width = int(self.data.chunks[-2])
        self._disk_headers = trace_header_dtype(">" if self.segy.endian == "big" else "<")
        native = self.segy.format_info.dtype
        # float32 holds int8/16/24 and float32 exactly; wider integers and float64 are checked sample by sample.
        self._check_exact = native == np.float64 or (native.kind in "iu" and native.itemsize >= 4 and
                                                     self.segy.format_info.storage is not None)  # fmt: skip
        # A sample array in the format's own dtype (created after float32 proved inexact) takes samples as they are.
        self._exact = self.data.dtype == native and native != np.float32
        # IBM words are checked for unnormalised ones and additional headers kept: both need the raw records.
        self._ibm = self.segy.sample_format == 1
        self._records = self._ibm or self.extra is not None
        self._grid_shape = tuple(int(n) for n in self.data.shape)

    def _read(
        self, traces: npt.NDArray[np.int64], region: Block, live: npt.NDArray[np.bool_]
    ) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8] | None, np.ndarray, int, IbmWords | None]:
        """Standard headers, additional headers, samples, inexact samples and unnormalised IBM words of ``traces``."""
        dtype = None if self._exact or self._check_exact else np.float32
        extra = ibm = None
        if self._records:
            raw = self.segy.read_trace_records(traces)
            size = self.segy.layout.trace_header_size
            raw_headers = raw[:, :TRACE_HEADER_SIZE]
            extra = raw[:, TRACE_HEADER_SIZE:size] if self.extra is not None else None
            if self._ibm:  # decoded here to count unnormalised words on the way (their bits are kept)
                words = raw[:, size:].view(">u4" if self.segy.endian == "big" else "<u4")
                counted: list[int] = []
                native = ibm_to_float(words, np.float32, unnormalised=counted)
                if counted[0]:
                    ibm = IbmWords.in_block(words, live, region, self._grid_shape)
            else:
                native = decode_samples(raw[:, size:], self.segy.format_info, self.segy.endian, dtype)
        else:
            raw_headers, native = self.segy.read_trace_indices(traces, dtype=dtype)
        if self._exact or not self._check_exact:
            return raw_headers, extra, native, 0, ibm
        samples = native.astype(np.float32)
        with np.errstate(invalid="ignore", over="ignore"):  # values past the type's range come back wrong: inexact
            inexact = int(np.count_nonzero(samples.astype(native.dtype) != native))
        return raw_headers, extra, samples, inexact, ibm

    def write(self, unit: WriteUnit) -> UnitResult:
        traces = unit.traces
        live = traces >= 0
        widths = _block_widths(traces.shape[-1], self._block_width)
        if not live.any():
            return UnitResult(unit.index, tuple(SummaryStatistics() for _ in widths))
        wanted = traces[live]
        raw_headers, extra, samples, inexact, ibm = self._read(wanted, unit.region, live)
        decoded_headers = raw_headers.view(self._disk_headers).reshape(-1).astype(TRACE_HEADER_DTYPE)
        all_live = bool(live.all())
        if all_live:  # the common case: use the decoded arrays as they are, no scatter copy
            values = samples.reshape(*traces.shape, self.segy.n_samples)
            headers = decoded_headers.reshape(traces.shape)
        else:
            values = np.zeros((*traces.shape, self.segy.n_samples), dtype=self.data.dtype)
            values[live] = samples
            headers = np.zeros(traces.shape, dtype=TRACE_HEADER_DTYPE)
            headers[live] = decoded_headers
        stats = _block_stats(samples, values, live, widths)
        block = unit.region
        if all_live and sum(s.count for s in stats) == samples.size:  # no zero sample: no empty chunk possible
            self._unchecked[(*block, slice(None))] = values
        else:  # chunk block by chunk block, so a unit stores the same chunks whatever its width
            first = block[-1].start
            for width in widths:
                part = values[..., width, :]
                columns = slice(first + width.start, first + width.stop)
                for window in _nonzero_sample_runs(part, self._sample_chunk):
                    self._unchecked[(*block[:-1], columns, window)] = part[..., window]
        self.headers[block] = headers
        if self.extra is not None and extra is not None:
            rows = np.zeros((*traces.shape, extra.shape[-1]), dtype=np.uint8)
            rows[live] = extra
            self.extra[block] = rows
        drained = self.recorder.drain() if self.recorder is not None else None
        return UnitResult(unit.index, stats, inexact, ibm, drained or None)


def _block_widths(width: int, block: int) -> list[slice]:
    """The chunk blocks of a unit along the fastest spatial axis."""
    return [slice(start, min(start + block, width)) for start in range(0, width, block)]


def _block_stats(
    samples: npt.NDArray[np.float32], values: np.ndarray, live: npt.NDArray[np.bool_], widths: list[slice]
) -> tuple[SummaryStatistics, ...]:
    """Statistics of each chunk block of a unit, each over its live traces in C order: the same numbers whether
    a unit holds one block or several (so grouping does not change the merged result by a rounding)."""
    if len(widths) == 1:
        return (SummaryStatistics.of(samples),)
    out = []
    for width in widths:
        part_live = live[..., width]
        part = values[..., width, :]
        out.append(SummaryStatistics.of(part if part_live.all() else part[part_live]))
    return tuple(out)


def _nonzero_sample_runs(values: np.ndarray, sample_chunk: int) -> list[slice]:
    """Sample ranges, whole chunks wide, of the runs of sample-chunk slabs that hold a non-zero value."""
    bits = values.view(np.uint32) if values.dtype.itemsize == 4 else values.view(np.uint64)
    # floats: the sign bit alone (-0.0) is still zero; integers: every bit counts
    top = (1 << (8 * values.dtype.itemsize)) - 1
    magnitude = np.array(top if values.dtype.kind in "iu" else top >> 1, dtype=bits.dtype)
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


def units_per_task(
    shape: Sequence[int], chunks: Sequence[int], trace_size: int, remote: bool, memory: int = TASK_MEMORY_BYTES
) -> int:
    """How many chunk blocks side by side along the fastest spatial axis one unit holds.

    One for a local SEG-Y (reads are cheap). For an object store, enough that a run of consecutive traces (a
    grid row in a file sorted like the grid) reaches :data:`TARGET_RUN_BYTES`, as far as ``memory`` allows.
    """
    if not remote or not shape:
        return 1
    row_bytes = int(chunks[-1]) * trace_size
    wanted = -(-TARGET_RUN_BYTES // max(1, row_bytes))
    block_bytes = math.prod(int(c) for c in chunks) * trace_size * _MEMORY_PER_RAW_BYTE
    affordable = int(memory // max(1.0, block_bytes))
    along = -(-int(shape[-1]) // int(chunks[-1]))
    group = max(1, min(wanted, affordable, along))
    return -(-along // -(-along // group))  # units of even width: 7 blocks by at most 6 make 4 + 3, not 6 + 1


@dataclass(frozen=True)
class IngestPlan:
    """What a write task needs to open, from any process: the SEG-Y and the staged arrays (small, picklable)."""

    token: str
    segy: SegyRef
    target: Location
    data_path: str
    header_path: str
    extra_path: str | None = None


_WRITERS: OperationCache[BlockWriter] = OperationCache()


def _open_writer(plan: IngestPlan) -> BlockWriter:
    store = open_store(plan.target, read_only=False)
    recorder = None
    if get_settings().checksums and active_recorder(plan.target.url) is None:  # a worker process: report back
        recorder = LiveRecorder()
        store = RecordingStore(store, recorder)
    with storage_errors(plan.target):
        data = zarr.open_array(store, path=plan.data_path, mode="r+", zarr_format=2)
        headers = zarr.open_array(store, path=plan.header_path, mode="r+", zarr_format=2)
        extra = zarr.open_array(store, path=plan.extra_path, mode="r+", zarr_format=2) if plan.extra_path else None
    return BlockWriter(plan.segy.open(), data, headers, extra, recorder)


def share_writer(plan: IngestPlan, writer: BlockWriter) -> None:
    """Let tasks of ``plan`` run in this process use ``writer`` (already open) instead of opening their own."""
    _WRITERS.put(plan.token, writer)


def release_writer(token: str) -> None:
    """Forget the writer of an ingestion in this process."""
    _WRITERS.drop(token)


def write_unit(plan: IngestPlan, unit: WriteUnit) -> UnitResult:
    """Task: read, decode and write the traces of one unit; return its per-block statistics. A late task of a
    failed ingestion (see ``core.cluster.abandon_operation``) writes nothing."""
    with operation_task(plan.token) as live:
        if not live:
            return UnitResult(unit.index, ())
        with storage_errors(plan.target):
            return _WRITERS.get(plan.token, lambda: _open_writer(plan)).write(unit)


def write_units(
    plan: IngestPlan,
    trace_of_cell: npt.NDArray[np.int64],
    chunks: Sequence[int],
    *,
    group: int = 1,
    client: Any = None,
    workers: int = 1,
    description: str = "Writing traces",
) -> IngestResult:
    """Write every unit (``group`` chunk blocks wide along the fastest axis) on ``workers`` threads or on the
    cluster of ``client``, with bounded work in flight; return the merged statistics, inexact samples and
    unnormalised IBM words.

    Block statistics are merged in C order of the blocks whatever order the tasks finish in (results that come
    early wait, at most the tasks in flight), so local and cluster runs give the same numbers to the last bit.
    """
    shape = trace_of_cell.shape
    unit_chunks = (*chunks[:-1], int(chunks[-1]) * group)
    total = math.prod(-(-int(n) // int(c)) for n, c in zip(shape, unit_chunks, strict=True))

    def units() -> Iterator[WriteUnit]:
        for index, region in enumerate(spatial_blocks(shape, unit_chunks)):
            traces = trace_of_cell[region]
            # A cluster task gets a compact copy of its slice, never the grid's whole array.
            yield WriteUnit(index, region, traces.copy() if client is not None else traces)

    recorder = active_recorder(plan.target.url)
    stats = SummaryStatistics()
    inexact = 0
    ibm_parts: list[IbmWords] = []  # merged once at the end; only counted once there are too many to keep
    early: dict[int, UnitResult] = {}
    following = 0
    for result in run_tasks(
        write_unit,
        units(),
        shared=(plan,),
        client=client,
        workers=workers,
        total=total,
        description=description,
        unit="unit" if group > 1 else "chunk",
    ):
        early[result.index] = result
        if result.checksums and recorder is not None:
            recorder.merge(result.checksums)
        while following in early:
            done = early.pop(following)
            for block in done.stats:
                stats = stats + block
            inexact += done.inexact
            if done.ibm is not None and done.ibm.count:
                ibm_parts.append(done.ibm)
                if sum(p.count for p in ibm_parts) > segy_exact.MAX_KEPT_WORDS:  # too many to keep: count them only
                    ibm_parts = [IbmWords.merge(ibm_parts)]
            following += 1
    return IngestResult(stats, inexact, IbmWords.merge(ibm_parts))
