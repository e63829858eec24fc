"""Derived datasets: a selection (crop, decimation) of a published dataset, rechunked and/or recompressed.

``derive_mdio`` reads the upstream through its accessor (the version published when it was opened, see
``core/pin.py``) and writes the derived dataset chunk-aligned block by block: each task reads the contiguous
upstream region holding one block of the target (every target chunk it covers is written whole, once), keeps
every ``step``-th value, and writes traces, headers and the live mask; statistics are recomputed from the selected
samples and merged in block order. Lossy output can be asked for by quality (``snr_db``/``psnr_db``): the tolerance
comes from :func:`~mdio_catalog.core.quality.choose_tolerance` on sampled blocks of the selection, and the whole
result is then measured by reading back every block right after writing it; should it miss the target, the traces
are written again with a smaller power of two (ZFP's tolerances are powers of two; each halving gains ~6 dB).
Everything is staged and published atomically like any other write.
Tasks run on local threads or, with ``client=``, on a dask cluster whose workers open both datasets themselves.
"""

from __future__ import annotations

import itertools
import math
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import zarr

from mdio_catalog.api.accessor import MDIOReader
from mdio_catalog.api.convenience import _any_pattern
from mdio_catalog.core import layout
from mdio_catalog.core.chunks import validate_chunks
from mdio_catalog.core.cluster import OperationCache, abandon_operation, operation_task, run_tasks
from mdio_catalog.core.compressors import lossless_compressor, lossy_compressor
from mdio_catalog.core.factory import MDIOCreateConfig, MDIOVariableConfig, _create_hierarchy
from mdio_catalog.core.nodes import get_array
from mdio_catalog.core.quality import choose_tolerance
from mdio_catalog.core.recording import Drained, LiveRecorder, RecordingStore, active_recorder
from mdio_catalog.core.selection import Selection, resolve_selection
from mdio_catalog.core.statistics import SummaryStatistics
from mdio_catalog.core.store import Location, open_root, open_store, staged_write, storage_errors
from mdio_catalog.exceptions import ArgumentError
from mdio_catalog.settings import get_settings

Block = tuple[slice, ...]

#: Attempts at a quality target before giving up (each rewrites the traces with a tighter tolerance).
QUALITY_ATTEMPTS = 3


@dataclass(frozen=True)
class DeriveReport:
    """What a derivation wrote and, for lossy output, the quality it measured on the whole result."""

    shape: tuple[int, ...]
    chunks: tuple[int, ...]
    trace_count: int
    lossless: bool
    tolerance: float | None = None
    metric: str | None = None
    target_db: float | None = None
    snr_db: float | None = None
    psnr_db: float | None = None
    size_ratio: float | None = None  # raw bytes of the selection / stored bytes of its trace chunks
    tolerance_seconds: float = 0.0
    seconds: float = 0.0
    attempts: int = 1


@dataclass(frozen=True)
class DeriveJob:
    """One derivation, as every task (thread or dask worker) opens it again."""

    source: Location
    access_pattern: str
    target: Location
    target_pattern: str
    ranges: tuple[slice, ...]
    token: str
    measure: bool


@dataclass
class BlockResult:
    stats: SummaryStatistics = field(default_factory=SummaryStatistics)
    live: int = 0
    signal: float = 0.0  # sum of squares of the selected values (finite ones)
    noise: float = 0.0  # sum of squared differences after the round trip through the stored chunks
    peak: float = 0.0
    count: int = 0
    checksums: Drained | None = None  # entries a task in another process recorded (core.recording)


@dataclass(frozen=True)
class _Opened:
    reader: MDIOReader
    traces: zarr.Array
    headers: zarr.Array
    live_mask: zarr.Array
    recorder: LiveRecorder | None = None  # a worker's own, when no recording of the target is active there


_OPEN: OperationCache[_Opened] = OperationCache()


def _open(job: DeriveJob) -> _Opened:
    def both() -> _Opened:
        reader = MDIOReader(
            job.source.url, access_pattern=job.access_pattern, storage_options=dict(job.source.storage_options)
        )
        recorder = None
        if get_settings().checksums and active_recorder(job.target.url) is None:  # a worker: record, send back
            recorder = LiveRecorder()
            store = RecordingStore(open_store(job.target, read_only=False), recorder)
            root = zarr.open_group(store, mode="r+", zarr_format=2, use_consolidated=False)
        else:
            root = open_root(job.target, mode="r+")
        traces = get_array(root, layout.data_array_path(job.target_pattern))
        return _Opened(
            reader,
            # Blocks are chunk-aligned and mostly data: zarr's all-fill check per chunk would cost a pass for nothing.
            traces.with_config({"write_empty_chunks": True}),
            get_array(root, layout.header_array_path(job.target_pattern)),
            get_array(root, layout.live_mask_path()),
            recorder,
        )

    return _OPEN.get(job.token, both)


def derive_block(job: DeriveJob, numbered: tuple[int, Block]) -> tuple[int, BlockResult]:
    """Task: one chunk-aligned block of the target (all samples), written whole; its number and statistics back."""
    number, block = numbered
    with operation_task(job.token) as live:
        if not live:
            return number, BlockResult()
        result = _derive_block(job, block)
        recorder = _open(job).recorder
        if recorder is not None:
            result.checksums = recorder.drain() or None
        return number, result


def _derive_block(job: DeriveJob, block: Block) -> BlockResult:
    opened = _open(job)
    source_key = tuple(
        slice(r.start + b.start * r.step, r.start + (b.stop - 1) * r.step + 1)
        for r, b in zip(job.ranges, block, strict=True)
    )
    every = tuple(slice(None, None, r.step) for r in job.ranges)
    mask = np.asarray(
        opened.reader._read_fast(opened.reader._live_reader, opened.reader.live_mask_array, source_key[:-1])
    )
    mask = mask[every[:-1]]
    values = opened.reader.read_region(source_key, parallel=False)[every]
    if not mask.any() and not np.any(values):
        return BlockResult()  # nothing stored there: its chunks stay unwritten (zeros, dead)
    headers = opened.reader.read_header_region(source_key[:-1], parallel=False)[every[:-1]]
    opened.traces[block] = values
    opened.headers[block[:-1]] = headers  # header chunks are the trace chunks without the sample axis
    result = BlockResult(stats=SummaryStatistics.of(values))
    if job.measure:
        stored = np.asarray(opened.traces[block], dtype=np.float64)
        exact = values.astype(np.float64)
        finite = np.isfinite(exact) & np.isfinite(stored)
        if not finite.all():
            exact, stored = exact[finite], stored[finite]
        result.signal = float(np.dot(exact.ravel(), exact.ravel()))
        difference = (exact - stored).ravel()
        result.noise = float(np.dot(difference, difference))
        result.peak = float(np.abs(exact).max()) if exact.size else 0.0
        result.count = int(exact.size)
    return result


def target_blocks(shape: Sequence[int], chunks: Sequence[int]) -> Iterator[Block]:
    """Blocks of one target chunk in every spatial dimension and all samples (chunk-aligned, row-major order)."""
    spatial = [range(0, n, c) for n, c in zip(shape[:-1], chunks[:-1], strict=True)]
    for starts in itertools.product(*spatial):
        spatial_block = tuple(slice(s, min(s + c, n)) for s, c, n in zip(starts, chunks, shape, strict=False))
        yield (*spatial_block, slice(0, shape[-1]))


class _SelectedView:
    """The selection of an upstream reader as an array-like (shape, chunks, indexing) for quality sampling."""

    def __init__(self, reader: MDIOReader, selection: Selection, chunks: tuple[int, ...]) -> None:
        self.reader, self.selection = reader, selection
        self.shape = selection.grid.shape
        self.chunks = chunks
        # The upstream's statistics describe the selection only when it is everything (they calibrate the sample).
        self.stats = reader.stats if selection.is_everything else None

    def __getitem__(self, key: tuple[slice, ...]) -> np.ndarray:
        source = tuple(self.selection.source_indices(axis, k.start, k.stop) for axis, k in enumerate(key))
        every = tuple(slice(None, None, r.step) for r in self.selection.ranges)
        return self.reader.read_region(source)[every]


def derive_mdio(
    source: str,
    target: str,
    *,
    select: Mapping[str, Sequence[Any]] | None = None,
    step: Mapping[str, int] | None = None,
    chunks: Sequence[int] | None = None,
    lossless: bool = True,
    compression_tolerance: float | None = None,
    snr_db: float | None = None,
    psnr_db: float | None = None,
    access_pattern: str | None = None,
    storage_options_input: dict[str, Any] | None = None,
    storage_options_output: dict[str, Any] | None = None,
    overwrite: bool = False,
    client: Any = None,
) -> DeriveReport:
    """Write the selection ``select``/``step`` of the dataset ``source`` as a new dataset at ``target``.

    ``select``: inclusive coordinate values per dimension; ``step``: decimation per dimension; ``chunks``: the
    target's chunks (default: the upstream's, clipped). Lossless by default; ``lossless=False`` with
    ``compression_tolerance`` (ZFP absolute error) or a quality target ``snr_db``/``psnr_db`` (the tolerance is
    chosen, and the result measured, see the module docstring).
    """
    started = time.perf_counter()
    if snr_db is not None and psnr_db is not None:
        raise ArgumentError("give at most one quality target: snr_db or psnr_db")
    quality_target = snr_db if snr_db is not None else psnr_db
    if lossless and (quality_target is not None or compression_tolerance is not None):
        raise ArgumentError("a tolerance or quality target needs lossless=False")
    if not lossless and quality_target is None and compression_tolerance is None:
        raise ArgumentError("lossless=False needs compression_tolerance or a quality target (snr_db/psnr_db)")
    pattern_in = access_pattern or _any_pattern(source, storage_options_input)
    reader = MDIOReader(source, access_pattern=pattern_in, storage_options=storage_options_input)
    selection = resolve_selection(reader.grid, select, step)
    shape = selection.grid.shape
    if 0 in shape:
        raise ArgumentError(f"the selection of {source} is empty (shape {shape})")
    wanted = (
        tuple(chunks) if chunks is not None else tuple(min(c, n) for c, n in zip(reader.chunks, shape, strict=True))
    )
    target_chunks = validate_chunks(wanted, shape, itemsize=reader.dtype.itemsize)
    metric = "snr" if snr_db is not None else "psnr" if psnr_db is not None else None
    tolerance = compression_tolerance
    tolerance_seconds = 0.0
    if quality_target is not None:
        view = _SelectedView(reader, selection, target_chunks)
        choice = choose_tolerance(view, snr_db=snr_db, psnr_db=psnr_db, blocks=8)
        tolerance, tolerance_seconds = choice.tolerance, choice.seconds
    pattern = layout.default_access_pattern(len(shape))
    location = Location.of(target, storage_options_output)
    threads = max(2, get_settings().workers + 1)
    attempts = 0
    with staged_write(location, overwrite) as staging:
        while True:
            attempts += 1
            result = _write(
                reader, selection, staging, pattern, target_chunks, tolerance, metric is not None, client, threads
            )
            measured = _quality(result)
            achieved = measured.get(metric) if metric else None
            if metric is None or achieved is None or achieved >= float(quality_target) or attempts >= QUALITY_ATTEMPTS:  # type: ignore[arg-type]
                break
            assert tolerance is not None
            tolerance /= 2 ** max(1, math.ceil((float(quality_target) - achieved) / 6.02))  # type: ignore[arg-type]
        stored = _stored_bytes(staging, layout.data_array_path(pattern))
    raw = math.prod(shape) * reader.dtype.itemsize
    return DeriveReport(
        shape=shape,
        chunks=target_chunks,
        trace_count=result.live,
        lossless=lossless,
        tolerance=tolerance,
        metric=metric,
        target_db=quality_target,
        snr_db=measured.get("snr"),
        psnr_db=measured.get("psnr"),
        size_ratio=raw / stored if stored else None,
        tolerance_seconds=tolerance_seconds,
        seconds=time.perf_counter() - started,
        attempts=attempts,
    )


def _write(
    reader: MDIOReader,
    selection: Selection,
    staging: Location,
    pattern: str,
    chunks: tuple[int, ...],
    tolerance: float | None,
    measure: bool,
    client: Any,
    threads: int,
) -> BlockResult:
    """Create the staged hierarchy (again, when a quality retry rewrites it) and fill it block by block."""
    codec = lossless_compressor() if tolerance is None else lossy_compressor(tolerance)
    variable = MDIOVariableConfig(
        name=layout.data_array_name(pattern),
        dtype=str(reader.dtype),
        chunks=chunks,
        compressors=codec,
        header_dtype=reader.header_array.dtype,
    )
    root = _create_hierarchy(
        staging, MDIOCreateConfig(path=staging.url, grid=selection.grid, variables=[variable]), False
    )
    binary = dict(reader.binary_header)
    samples = selection.ranges[-1]
    if "samples_per_trace" in binary:
        binary["samples_per_trace"] = selection.grid.shape[-1]
    if binary.get("sample_interval"):
        binary["sample_interval"] = int(binary["sample_interval"]) * samples.step
    with storage_errors(staging):
        root[layout.METADATA_GROUP].attrs.update(
            {layout.ATTR_TEXT_HEADER: list(reader.text_header), layout.ATTR_BINARY_HEADER: binary}
        )
    job = DeriveJob(
        source=Location.of(reader.url, reader.storage_options),
        access_pattern=reader.access_pattern,
        target=staging,
        target_pattern=pattern,
        ranges=selection.ranges,
        token=uuid.uuid4().hex,
        measure=measure,
    )
    blocks = list(enumerate(target_blocks(selection.grid.shape, chunks)))
    try:
        with storage_errors(staging):
            results = dict(
                run_tasks(
                    derive_block, blocks, shared=(job,), client=client, workers=threads, total=len(blocks),
                    description="Deriving", unit="block",
                )
            )  # fmt: skip
    except BaseException:
        abandon_operation(client, job.token)
        raise
    finally:
        _OPEN.drop(job.token)
    total = BlockResult()
    recorder = active_recorder(staging.url)
    for number in range(len(blocks)):  # merged in block order: the same statistics whatever finished first
        part = results[number]
        if part.checksums and recorder is not None:
            recorder.merge(part.checksums)
        total.stats = total.stats + part.stats
        total.live += part.live
        total.signal += part.signal
        total.noise += part.noise
        total.peak = max(total.peak, part.peak)
        total.count += part.count
    with storage_errors(staging):
        total.live = _write_live_mask(reader, selection, get_array(root, layout.live_mask_path()))
        root.attrs.update({**total.stats.to_dict(), layout.ATTR_TRACE_COUNT: total.live})
        zarr.consolidate_metadata(root.store)
    return total


def _write_live_mask(reader: MDIOReader, selection: Selection, mask: zarr.Array) -> int:
    """Copy the selected live mask chunk by chunk of its own chunking (which is not the traces': the tasks must
    not share a mask chunk); return the live traces."""
    every = tuple(slice(None, None, r.step) for r in selection.ranges[:-1])
    live = 0
    for spatial in itertools.product(*(range(0, n, c) for n, c in zip(mask.shape, mask.chunks, strict=True))):
        block = tuple(slice(s, min(s + c, n)) for s, c, n in zip(spatial, mask.chunks, mask.shape, strict=True))
        source = tuple(selection.source_indices(axis, b.start, b.stop) for axis, b in enumerate(block))
        part = np.asarray(reader._read_fast(reader._live_reader, reader.live_mask_array, source))[every]
        mask[block] = part
        live += int(np.count_nonzero(part))
    return live


def _quality(result: BlockResult) -> dict[str, float]:
    if not result.count:
        return {}
    snr = (
        math.inf if result.noise == 0 else 10 * math.log10(result.signal / result.noise) if result.signal else -math.inf
    )
    mse = result.noise / result.count
    psnr = math.inf if mse == 0 else 10 * math.log10(result.peak**2 / mse) if result.peak else -math.inf
    return {"snr": snr, "psnr": psnr}


def _stored_bytes(location: Location, array_path: str) -> int:
    fs, root = location.filesystem()
    try:
        return int(fs.du(f"{root.rstrip('/')}/{array_path}"))
    except (OSError, ValueError):
        return 0
