"""``verify``: re-read a dataset's chunk objects and compare them with the checksum record; never writes.

Per recorded array it reports chunks whose object is missing, chunks whose bytes differ from what was recorded (size
or CRC32C), and unexpected objects (present but not recorded: a stray upload, a chunk of another version). The
objects are fetched on the same chunk path as reads (local files with ``pread`` on a thread pool; S3/GCS with one GET
per object and many in flight), so a verify costs about what reading the stored bytes costs. ``sample`` checks a
random share of the recorded chunks (the listing stays complete); ``deep`` also decodes the traces and recomputes
the statistics and the live-trace count against the dataset's attributes. A dataset built before checksums existed
is reported as such (``recorded=False``), not as damaged.

:func:`record_existing` writes the record of such a dataset from its objects as they are now.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import zarr

from mdio_catalog.core import layout
from mdio_catalog.core.checksums import GROUP, ChecksumRecorder, entry, read_record, stored_arrays
from mdio_catalog.core.chunkfetch import ChunkTask, chunk_objects, decode_pool
from mdio_catalog.core.nodes import get_array
from mdio_catalog.core.recording import LiveRecorder
from mdio_catalog.core.statistics import SummaryStatistics
from mdio_catalog.core.store import Location, open_root, storage_errors
from mdio_catalog.exceptions import MDIOError
from mdio_catalog.settings import get_settings

#: Why an MDIO v1 dataset has no checksum record (reported by verify instead of "built before checksums").
V1_NOTE = "an MDIO v1 dataset (Zarr v3): checksums are recorded for v0 datasets only, nothing to compare"

#: Stored keys of an array folder that are metadata, not chunk objects.
_METADATA = (".zarray", ".zattrs", ".zgroup", "zarr.json")


@dataclass
class ArrayVerdict:
    """What verify found for one array."""

    path: str
    recorded: int = 0  # chunks with an object in the record
    checked: int = 0  # of those, read and compared
    missing: list[str] = field(default_factory=list)
    differing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.differing or self.unexpected)


@dataclass
class VerifyReport:
    """The verdict on one dataset."""

    url: str
    recorded: bool
    arrays: list[ArrayVerdict] = field(default_factory=list)
    deep: dict[str, Any] | None = None
    objects_read: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    note: str = ""  # why there is no record, when it is not "built before checksums existed"

    @property
    def ok(self) -> bool:
        deep_ok = self.deep is None or bool(self.deep.get("ok"))
        return self.recorded and all(a.ok for a in self.arrays) and deep_ok

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "recorded": self.recorded,
            "ok": self.ok,
            "arrays": [
                {
                    "path": a.path,
                    "recorded": a.recorded,
                    "checked": a.checked,
                    "missing": a.missing,
                    "differing": a.differing,
                    "unexpected": a.unexpected,
                }
                for a in self.arrays
            ],
            "deep": self.deep,
            "objects_read": self.objects_read,
            "bytes_read": self.bytes_read,
            "seconds": self.seconds,
            **({"note": self.note} if self.note else {}),
        }


def _key(index: tuple[int, ...]) -> str:
    return "/".join(map(str, index))


def _fetch(location: Location, array_path: str, indexes: list[tuple[int, ...]]) -> dict[tuple[int, ...], int | None]:
    """The record entry of each chunk object now stored (None: no object), fetched concurrently."""
    if location.is_local:
        return _fetch_local(os.path.join(location.url, array_path), indexes)
    objects = chunk_objects(location.url, dict(location.storage_options), location.is_local, array_path)
    found: dict[tuple[int, ...], int | None] = {}
    if objects is None:  # a filesystem without our chunk path: one object at a time through fsspec
        fs, root = location.filesystem()
        for index in indexes:
            try:
                found[index] = entry(fs.cat_file(f"{root.rstrip('/')}/{array_path}/{_key(index)}"))
            except FileNotFoundError:
                found[index] = None
        return found
    tasks = [ChunkTask(index=index, inside=(), target=()) for index in indexes]

    def handle(task: ChunkTask, raw: memoryview | bytes | None) -> None:
        found[task.index] = None if raw is None else entry(raw)

    objects.fetch(tasks, handle)
    return found


#: Chunk objects one cluster task fetches and checks.
CLUSTER_BATCH = 256


def fetch_entries(
    location: Location, array_path: str, indexes: list[tuple[int, ...]]
) -> dict[tuple[int, ...], int | None]:
    """Task: the record entries of the objects ``indexes`` of one array as stored now (None: no object)."""
    with storage_errors(location):
        return _fetch(location, array_path, indexes)


def _fetch_on(
    client: Any, location: Location, array_path: str, indexes: list[tuple[int, ...]]
) -> dict[tuple[int, ...], int | None]:
    """:func:`_fetch` here, or in batches on the workers of ``client`` (only the entries travel back)."""
    if client is None or not indexes:
        return _fetch(location, array_path, indexes)
    from mdio_catalog.core.cluster import run_tasks

    batches = [indexes[i : i + CLUSTER_BATCH] for i in range(0, len(indexes), CLUSTER_BATCH)]
    found: dict[tuple[int, ...], int | None] = {}
    for part in run_tasks(fetch_entries, batches, shared=(location, array_path), client=client, total=len(batches),
                          description=f"Verifying {array_path}", unit="batch"):  # fmt: skip
        found.update(part)
    return found


def _fetch_local(folder: str, indexes: list[tuple[int, ...]]) -> dict[tuple[int, ...], int | None]:
    """Local files read whole into ``bytes`` on the chunk pool (the CRC wants a read-only buffer: no extra copy)."""

    def one(index: tuple[int, ...]) -> int | None:
        try:
            fd = os.open(os.path.join(folder, *map(str, index)), os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        try:
            return entry(os.pread(fd, os.fstat(fd).st_size, 0))
        finally:
            os.close(fd)

    return dict(zip(indexes, decode_pool(get_settings().workers + 1).map(one, indexes), strict=True))


def _listed(location: Location, array_path: str) -> set[str]:
    """Chunk keys stored below the array (relative, '/'-separated), metadata files left out."""
    if location.is_local:  # os.walk: several times faster than fsspec's find on thousands of files
        base = os.path.join(location.url, array_path)
        out: set[str] = set()
        for directory, _, files in os.walk(base):
            prefix = os.path.relpath(directory, base).replace(os.sep, "/")
            out.update(f"{prefix}/{name}" if prefix != "." else name for name in files if name not in _METADATA)
        return out
    fs, root = location.filesystem()
    base = f"{root.rstrip('/')}/{array_path}"
    fs.invalidate_cache(base)  # a listing cached by this process must not hide what changed in the store
    try:
        paths = fs.find(base)
    except FileNotFoundError:
        return set()
    out = set()
    for path in paths:
        relative = (
            str(path)[len(base) :].lstrip("/")
            if str(path).startswith(base)
            else str(path).rsplit(array_path + "/", 1)[-1]
        )
        if relative and relative.rsplit("/", 1)[-1] not in _METADATA:
            out.add(relative)
    return out


def verify_dataset(
    path_or_url: str,
    storage_options: dict[str, Any] | None = None,
    *,
    sample: float | None = None,
    deep: bool = False,
    seed: int = 0,
    client: Any = None,
) -> VerifyReport:
    """Compare the stored chunk objects of a dataset with its checksum record (see the module docstring); with
    ``client`` (a ``distributed.Client``) the objects are fetched and checked on its workers."""
    started = time.perf_counter()
    location = Location.of(path_or_url, storage_options)
    try:
        root = open_root(location)
    except MDIOError:
        from mdio_catalog.v1.reader import v1_access_pattern

        if v1_access_pattern(location) is None:
            raise
        return VerifyReport(url=location.url, recorded=False, note=V1_NOTE)  # (Zarr v3: no record of ours)
    report = VerifyReport(url=location.url, recorded=False)
    with storage_errors(location):
        record = read_record(root)
    if record is None:
        report.seconds = time.perf_counter() - started
        return report
    report.recorded = True
    rng = np.random.default_rng(seed)
    for path, grid in sorted(record.items()):
        verdict = ArrayVerdict(path=path)
        recorded = [tuple(int(i) for i in idx) for idx in np.argwhere(grid)]
        verdict.recorded = len(recorded)
        with storage_errors(location):
            listed = _listed(location, path)
        expected_keys = {_key(index) for index in recorded}
        verdict.unexpected = sorted(f"{path}/{k}" for k in listed - expected_keys)
        verdict.missing = sorted(f"{path}/{k}" for k in expected_keys - listed)
        present = [index for index in recorded if _key(index) in listed]
        if sample is not None and 0 < sample < 1 and present:
            count = max(1, math.ceil(sample * len(present)))
            present = [present[i] for i in sorted(rng.choice(len(present), size=count, replace=False))]
        with storage_errors(location):
            found = _fetch_on(client, location, path, present)
        for index in present:
            now = found.get(index)
            if now is None:
                verdict.missing.append(f"{path}/{_key(index)}")
                continue
            report.objects_read += 1
            report.bytes_read += (now >> 32) - 1
            if now != int(grid[index]):
                verdict.differing.append(f"{path}/{_key(index)}")
        verdict.checked = len(present)
        verdict.missing.sort()
        report.arrays.append(verdict)
    if deep:
        report.deep = _deep(root)
    report.seconds = time.perf_counter() - started
    return report


def _deep(root: zarr.Group) -> dict[str, Any]:
    """Decode every access pattern's traces block by block; statistics and live traces against the attributes."""
    attrs = dict(root.attrs)
    live_mask = get_array(root, layout.live_mask_path())
    live = int(np.count_nonzero(np.asarray(live_mask[...])))
    patterns = sorted(p for p in (layout.access_pattern_of(n) for n in root[layout.DATA_GROUP].array_keys()) if p)  # type: ignore[union-attr]
    data = root[layout.data_array_path(patterns[0])] if patterns else None
    stats = SummaryStatistics()
    undecodable: list[str] = []
    if isinstance(data, zarr.Array):
        step = max(1, int(data.chunks[0]))
        for start in range(0, int(data.shape[0]), step):
            try:
                stats = stats + SummaryStatistics.of(np.asarray(data[start : start + step]))
            except Exception:  # a damaged chunk the codec refuses: name every such chunk of this row of chunks
                undecodable.extend(_undecodable(data, start))
    recomputed = stats.to_dict()
    differences: dict[str, Any] = {}
    if undecodable:
        differences["undecodable_chunks"] = {"stored": undecodable, "recomputed": None}
    for name in ("mean", "std", "rms", "min", "max"):
        stored = attrs.get(name)
        value = recomputed.get(name)
        comparable = isinstance(stored, int | float) and isinstance(value, int | float)
        if comparable and not math.isclose(float(stored), float(value), rel_tol=1e-6, abs_tol=1e-9):  # type: ignore[arg-type]
            differences[name] = {"stored": stored, "recomputed": value}
    trace_count = attrs.get(layout.ATTR_TRACE_COUNT)
    if isinstance(trace_count, int) and trace_count != live:
        differences["trace_count"] = {"stored": trace_count, "recomputed": live}
    return {"ok": not differences, "live_traces": live, "differences": differences, "stats": recomputed}


def _undecodable(data: zarr.Array, start: int) -> list[str]:
    """Keys of the chunks of the chunk row at ``start`` that do not decode."""
    bad = []
    chunks = [int(c) for c in data.chunks]
    grids = [range(0, int(n), c) for n, c in zip(data.shape[1:], chunks[1:], strict=True)]
    for rest in itertools.product(*grids):
        region = tuple(slice(o, o + c) for o, c in zip((start, *rest), chunks, strict=True))
        try:
            data[region]
        except Exception:
            bad.append(f"{data.path}/" + "/".join(str(o // c) for o, c in zip((start, *rest), chunks, strict=True)))
    return bad


def record_existing(
    path_or_url: str,
    storage_options: dict[str, Any] | None = None,
    only: Iterable[str] | None = None,
    consolidate: bool = True,
) -> int:
    """Write the checksum record of a dataset from its objects as they are now (of the arrays ``only``, when
    given); return the chunks recorded. Every object is read: nothing recorded before is trusted."""
    return record_from(Location.of(path_or_url, storage_options), None, only=only, consolidate=consolidate).recorded


@dataclass
class RecordCount:
    """How a record was filled: chunks recorded, and of those, how many had to be read back."""

    recorded: int = 0
    read_back: int = 0


def record_from(
    location: Location,
    recorder: LiveRecorder | None,
    *,
    only: Iterable[str] | None = None,
    consolidate: bool = True,
    trust_stored: bool = False,
) -> RecordCount:
    """Write the checksum record of the dataset at ``location``: each listed chunk object gets the entry
    ``recorder`` took as it was written, else (``trust_stored``) the entry of a record already in the dataset
    (a nested publish into this staging wrote it), else its bytes are read back. Objects not listed get none."""
    root = open_root(location, mode="r+")
    arrays = stored_arrays(root)
    if only is not None:
        wanted = {path.strip("/") for path in only}
        arrays = [a for a in arrays if a.path in wanted]
    if not arrays:
        return RecordCount()  # nothing stored that a record would describe: leave the dataset untouched
    with storage_errors(location):
        stored = (read_record(root) or {}) if trust_stored else {}
    out = ChecksumRecorder(arrays)
    count = RecordCount()
    for array in arrays:
        grid = out.entries[array.path]
        seen = recorder.entries.get(array.path) if recorder and recorder.grids.get(array.path) == array else None
        sources = [v for v in (seen, stored.get(array.path)) if v is not None and v.shape == grid.shape]
        with storage_errors(location):
            listed = _listed(location, array.path)
        unknown = []
        for index in (array.index_of(f"{array.path}/{k}") for k in listed):
            if index is None:
                continue
            value = next((int(v[index]) for v in sources if v[index]), 0)
            if value:
                grid[index] = value
            else:
                unknown.append(index)
        if unknown:
            with storage_errors(location):
                found = _fetch(location, array.path, unknown)
            for index, now in found.items():
                if now is not None:
                    grid[index] = now
                    count.read_back += 1
        count.recorded += int(np.count_nonzero(grid))
    with storage_errors(location):
        out.write(root)
        # A rechunk consolidates itself, after the record: then the pattern counts as complete.
        if consolidate and not _add_record_to_consolidated(location):
            zarr.consolidate_metadata(root.store)
    return count


#: What zarr-python 3 writes into a nested v2 group's entry of ``.zmetadata``.
_NESTED_GROUP = {"metadata": {}, "must_understand": False, "kind": "inline"}


def _add_record_to_consolidated(location: Location) -> bool:
    """Add the record's metadata files to a local dataset's ``.zmetadata`` (what ``consolidate_metadata`` would
    write, without re-reading every other node: the rest did not change); False when there is none to extend."""
    if not location.is_local:
        return False
    folder = os.path.join(location.url, GROUP)
    path = os.path.join(location.url, ".zmetadata")
    try:
        with open(path, "rb") as handle:
            consolidated = json.load(handle)
        metadata = consolidated["metadata"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    for key in [k for k in metadata if k.startswith(GROUP + "/")]:
        del metadata[key]  # an earlier record of other arrays: replaced by what is stored now
    for directory, _, files in os.walk(folder):
        for name in files:
            if name in (".zgroup", ".zarray", ".zattrs"):
                with open(os.path.join(directory, name), "rb") as handle:
                    key = os.path.relpath(os.path.join(directory, name), location.url).replace(os.sep, "/")
                    metadata[key] = json.load(handle)
                if name == ".zgroup":  # as zarr-python 3 writes a nested v2 group's entry
                    metadata[key]["consolidated_metadata"] = dict(_NESTED_GROUP)
    temporary = f"{path}.{os.getpid()}.partial"
    with open(temporary, "w") as handle:
        json.dump(consolidated, handle)
    os.replace(temporary, path)
    return True


def record_published(staging: Location, recorder: LiveRecorder | None = None) -> RecordCount | None:
    """Record the checksums of a dataset just written to ``staging`` (local or object store), before it is
    published, when ``MDIO_CATALOG_CHECKSUMS`` is on: from what ``recorder`` saw being written and the record a
    nested publish left, reading back only objects nobody recorded. A v1 store is left alone (None)."""
    from mdio_catalog.exceptions import MDIOFormatError, MDIONotFoundError

    if not get_settings().checksums:
        return None
    try:
        return record_from(staging, recorder, trust_stored=True)
    except (MDIOFormatError, MDIONotFoundError):
        return None  # not a v0 MDIO hierarchy (a v1 conversion): nothing of ours to record
