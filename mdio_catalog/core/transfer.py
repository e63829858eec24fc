"""Task functions of dataset-wide copies: stored objects copied as bytes, and blocks copied into new chunkings.

``copy_mdio`` and ``rechunk_batch`` (in ``api/``) plan the work; the functions here do one piece of it, on a thread
of this process or on a dask worker (both through :func:`mdio_catalog.core.cluster.run_tasks`). Each piece opens
what it needs from URLs and storage options, once per operation and process, writes straight into the target
store and returns a small result (a byte count, whether a block held data).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import zarr

from mdio_catalog.core import layout
from mdio_catalog.core.checksums import entry
from mdio_catalog.core.cluster import OperationCache, operation_task
from mdio_catalog.core.nodes import get_array
from mdio_catalog.core.recording import METADATA_KEYS, Drained, LiveRecorder, RecordingStore, active_recorder
from mdio_catalog.core.store import Location, open_root, open_store, storage_errors
from mdio_catalog.settings import get_settings

Block = tuple[slice, ...]

#: Most bytes and objects one copy task carries (it holds its objects in memory between reading and writing).
COPY_TASK_BYTES = 64 * 2**20
COPY_TASK_KEYS = 256


# --- copying stored objects -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CopyJob:
    """One copy of stored objects between two roots (picklable: shipped once to every worker)."""

    source: Location
    target: Location
    token: str


@dataclass(frozen=True)
class _Filesystems:
    source: Any
    source_root: str
    target: Any
    target_root: str


_FILESYSTEMS: OperationCache[_Filesystems] = OperationCache()


def _filesystems(job: CopyJob) -> _Filesystems:
    def open_both() -> _Filesystems:
        src_fs, src_root = job.source.filesystem()
        dst_fs, dst_root = job.target.filesystem()
        return _Filesystems(src_fs, src_root.rstrip("/"), dst_fs, dst_root.rstrip("/"))

    return _FILESYSTEMS.get(job.token, open_both)


def prepare_copy(job: CopyJob) -> None:
    """Create the target root (object stores: nothing per key, or the bucket when it is missing) and remember the
    filesystems of this process for the local threads."""
    fs = _filesystems(job)
    fs.target.makedirs(fs.target_root, exist_ok=True)


def finish_copy(job: CopyJob) -> None:
    """Forget the filesystems of ``job`` in this process."""
    _FILESYSTEMS.drop(job.token)


@dataclass(frozen=True)
class CopyResult:
    """What a copy task did: bytes copied, and (a task in a process that does not record the target: a cluster
    worker) the checksum entry of each chunk object and the ``.zarray`` of each array it copied, for the driver's
    recorder."""

    copied: int
    entries: dict[str, int] | None = None
    arrays: dict[str, bytes] | None = None


def copy_objects(job: CopyJob, keys: Sequence[str]) -> CopyResult:
    """Copy the objects ``keys`` (relative to the roots) byte for byte.

    Object stores get the whole batch at once (fsspec sends the requests concurrently); local targets get their
    folders created once per folder. A task of an abandoned copy (another task failed) copies nothing.
    """
    with operation_task(job.token) as live:
        if not live:
            return CopyResult(0)
        recorder = active_recorder(job.target.url)
        if recorder is not None or not get_settings().checksums:
            return CopyResult(_copy_objects(job, keys, recorder.copied if recorder is not None else None))
        entries: dict[str, int] = {}
        arrays: dict[str, bytes] = {}

        def note(key: str, data: bytes) -> None:
            name = key.rsplit("/", 1)[-1]
            if name == ".zarray":
                arrays[key.rpartition("/")[0]] = bytes(data)
            elif name not in METADATA_KEYS:
                entries[key] = entry(data)

        return CopyResult(_copy_objects(job, keys, note), entries, arrays)


def record_copy(job: CopyJob, result: CopyResult) -> None:
    """Hand what a copy task recorded elsewhere to the recorder of ``job``'s target in this process."""
    recorder = active_recorder(job.target.url)
    if recorder is None:
        return
    for path, metadata in (result.arrays or {}).items():
        recorder.array_defined(path, metadata)
    for key, value in (result.entries or {}).items():
        recorder.add(key, value)


def _copy_objects(job: CopyJob, keys: Sequence[str], note: Callable[[str, bytes], None] | None) -> int:
    fs = _filesystems(job)
    if job.target.is_local:
        for parent in sorted({key.rpartition("/")[0] for key in keys if "/" in key}):
            fs.target.makedirs(f"{fs.target_root}/{parent}", exist_ok=True)
    sources = [f"{fs.source_root}/{key}" for key in keys]
    targets = [f"{fs.target_root}/{key}" for key in keys]
    if len(keys) > 1 and (_is_async(fs.source) or _is_async(fs.target)):
        blobs = _read_all(fs.source, sources)
        if _is_async(fs.target):
            fs.target.pipe(dict(zip(targets, blobs, strict=True)))  # concurrent requests
        else:
            for path, data in zip(targets, blobs, strict=True):
                fs.target.pipe_file(path, data)
        if note is not None:
            for key, data in zip(keys, blobs, strict=True):
                note(key, data)
        return sum(len(data) for data in blobs)
    copied = 0
    for key, source, target in zip(keys, sources, targets, strict=True):  # one at a time: it stays in the CPU cache
        data = fs.source.cat_file(source)
        fs.target.pipe_file(target, data)
        if note is not None:
            note(key, data)
        copied += len(data)
    return copied


def _is_async(fs: Any) -> bool:
    return bool(getattr(fs, "async_impl", False))


def _read_all(fs: Any, paths: list[str]) -> list[bytes]:
    """The bytes of every path, in order: concurrent requests on asynchronous (object-store) filesystems."""
    if not _is_async(fs):
        return [fs.cat_file(path) for path in paths]
    found = fs.cat(paths, on_error="raise")
    return [found[path] if path in found else found[fs._strip_protocol(path)] for path in paths]


def copy_batches(sizes: Iterable[tuple[str, int]], parallel: int) -> list[tuple[str, ...]]:
    """Group ``(key, size)`` pairs (in order) into tasks: about eight per parallel slot so the work balances, but
    none larger than :data:`COPY_TASK_BYTES` or :data:`COPY_TASK_KEYS` (a single larger object gets its own)."""
    items = list(sizes)
    if not items:
        return []
    per_task = max(1, min(COPY_TASK_KEYS, math.ceil(len(items) / (8 * max(1, parallel)))))
    batches: list[tuple[str, ...]] = []
    current: list[str] = []
    current_bytes = 0
    for key, size in items:
        if current and (len(current) >= per_task or current_bytes + size > COPY_TASK_BYTES):
            batches.append(tuple(current))
            current, current_bytes = [], 0
        current.append(key)
        current_bytes += size
    batches.append(tuple(current))
    return batches


# --- rechunking -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RechunkJob:
    """One pass of a rechunk: the source pattern of a dataset copied into the new patterns ``suffixes``."""

    location: Location
    access_pattern: str
    suffixes: tuple[str, ...]
    token: str


@dataclass(frozen=True)
class RechunkArrays:
    """The open arrays of a rechunk pass: source traces, headers and live mask, and (data, headers) per target."""

    traces: zarr.Array
    headers: zarr.Array
    live_mask: zarr.Array
    targets: tuple[tuple[zarr.Array, zarr.Array], ...]
    recorder: LiveRecorder | None = None  # a worker's own, when no recording of the dataset is active there


@dataclass(frozen=True)
class RechunkResult:
    """What a rechunk task did: whether it wrote, and the checksum entries it took in another process."""

    written: bool
    checksums: Drained | None = None


_RECHUNK_ARRAYS: OperationCache[RechunkArrays] = OperationCache()


def open_rechunk_arrays(job: RechunkJob) -> RechunkArrays:
    """Open the arrays of ``job`` from its URL (live metadata: the new patterns are not consolidated yet). In a
    process that does not record the dataset (a cluster worker) the writes are recorded here and sent back."""
    recorder = None
    if get_settings().checksums and active_recorder(job.location.url) is None:
        recorder = LiveRecorder()
        store = RecordingStore(open_store(job.location, read_only=False), recorder)
        with storage_errors(job.location):
            root = zarr.open_group(store, mode="r+", zarr_format=2, use_consolidated=False)
    else:
        root = open_root(job.location, mode="r+")
    return RechunkArrays(
        traces=get_array(root, layout.data_array_path(job.access_pattern)),
        headers=get_array(root, layout.header_array_path(job.access_pattern)),
        live_mask=get_array(root, layout.live_mask_path()),
        targets=tuple(
            (get_array(root, layout.data_array_path(s)), get_array(root, layout.header_array_path(s)))
            for s in job.suffixes
        ),
        recorder=recorder,
    )


def use_rechunk_arrays(job: RechunkJob, arrays: RechunkArrays) -> None:
    """Hand the arrays the caller already opened to the tasks of ``job`` run in this process."""
    _RECHUNK_ARRAYS.put(job.token, arrays)


def finish_rechunk(job: RechunkJob) -> None:
    """Forget the arrays of ``job`` in this process."""
    _RECHUNK_ARRAYS.drop(job.token)


def rechunk_block(job: RechunkJob, region: Block) -> RechunkResult:
    """Copy one block of the source (aligned to every chunking involved) into every target: each target chunk it
    covers is written whole, once. Blocks without data or live traces are skipped (their chunks stay unwritten
    and read back as zeros). Says whether the block was written (a task of an abandoned pass writes nothing)."""
    with operation_task(job.token) as live:
        if not live:
            return RechunkResult(False)
        arrays = _RECHUNK_ARRAYS.get(job.token, lambda: open_rechunk_arrays(job))
        written = _rechunk_block(arrays, region)
        drained = arrays.recorder.drain() if arrays.recorder is not None else None
        return RechunkResult(written, drained or None)


def record_rechunk(job: RechunkJob, result: RechunkResult) -> None:
    """Hand the entries a rechunk task took in another process to the recorder of the dataset in this one."""
    recorder = active_recorder(job.location.url)
    if recorder is not None and result.checksums:
        recorder.merge(result.checksums)


def _rechunk_block(arrays: RechunkArrays, region: Block) -> bool:
    values = arrays.traces[region]
    if not np.any(values) and not np.any(arrays.live_mask[region[:-1]]):
        return False
    headers = arrays.headers[region[:-1]] if region[-1].start == 0 else None
    for data, header_array in arrays.targets:
        data[region] = values
        if headers is not None:
            header_array[region[:-1]] = headers
    return True
