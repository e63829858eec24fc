"""Dataset-wide operations: copy a dataset, and add access patterns (rechunked copies of the trace array).

Both stream through bounded memory: ``copy_mdio`` copies stored chunks byte for byte (no decode/encode), and
``rechunk_batch`` reads the source in blocks aligned to the source and every target chunking at once, so each
target chunk is written whole, exactly once, and the source is read once when the combined block fits the memory
budget (``MDIO_CATALOG_RECHUNK_MEMORY_MIB``).

Both run their pieces (batches of objects, blocks) through :func:`~mdio_catalog.core.cluster.run_tasks`: on the
threads of this process, or with ``client=`` (a ``distributed.Client``) as tasks on a dask cluster whose workers
open the datasets themselves and write straight into the (staged) target; only byte counts come back.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import zarr
from numcodecs.abc import Codec

from mdio_catalog.api.accessor import MDIOAccessor, MDIOReader, MDIOWriter
from mdio_catalog.converters.segy_blocks import spatial_blocks
from mdio_catalog.core import layout
from mdio_catalog.core.checksums import GROUP as CHECKSUM_GROUP
from mdio_catalog.core.chunks import header_chunks, validate_chunks
from mdio_catalog.core.cluster import abandon_operation, run_tasks
from mdio_catalog.core.compressors import lossless_compressor
from mdio_catalog.core.nodes import get_group
from mdio_catalog.core.publish import remove_zarr_temporaries, target_lock
from mdio_catalog.core.recording import recording
from mdio_catalog.core.store import Location, staged_write, storage_errors
from mdio_catalog.core.transfer import (
    CopyJob,
    RechunkArrays,
    RechunkJob,
    copy_batches,
    copy_objects,
    finish_copy,
    finish_rechunk,
    prepare_copy,
    rechunk_block,
    record_copy,
    record_rechunk,
    use_rechunk_arrays,
)
from mdio_catalog.exceptions import (
    AccessPatternError,
    MDIOAlreadyExistsError,
    MDIOFormatError,
    MDIONotFoundError,
    MDIOReadOnlyError,
    ShapeError,
)
from mdio_catalog.settings import get_settings

Block = tuple[slice, ...]


# --- copy -------------------------------------------------------------------------------------------------------
def copy_mdio(
    source_path: str | os.PathLike[str],
    target_path: str | os.PathLike[str],
    overwrite: bool = False,
    copy_traces: bool = False,
    copy_headers: bool = False,
    storage_options_input: dict[str, Any] | None = None,
    storage_options_output: dict[str, Any] | None = None,
    *,
    client: Any = None,
) -> None:
    """Copy a dataset with every access pattern: structure, attributes, live mask and statistics always; trace
    data with ``copy_traces``; trace headers with ``copy_headers``. ``trace_count`` stays true (the reference
    resets it to 0). Stored chunks are copied as bytes, in parallel, into a staged copy moved into place at the end.

    ``client`` (a ``distributed.Client``) copies the chunk objects on that cluster's workers, in batches of many
    objects per task; both stores must then be reachable from the workers (object stores, or a shared disk).
    """
    try:
        pattern = _any_pattern(source_path, storage_options_input, v1=False)
    except (MDIONotFoundError, MDIOFormatError):
        from mdio_catalog.v1.convert import copy_v1  # a v1 dataset (multidimio 1.x) is copied as it is stored

        args = (copy_traces, copy_headers, storage_options_input, storage_options_output)
        if copy_v1(source_path, target_path, overwrite, *args):
            return
        raise
    reader = MDIOReader(source_path, storage_options=storage_options_input, access_pattern=pattern)
    source = Location.of(source_path, storage_options_input)
    target = Location.of(target_path, storage_options_output)
    if source.url == target.url:
        raise MDIOAlreadyExistsError(f"Cannot copy {source} onto itself.")
    keep = _copy_filter(reader, copy_traces, copy_headers)
    with staged_write(target, overwrite) as staging:
        src_fs, src_root = source.filesystem()
        with storage_errors(source):
            found = src_fs.find(src_root, detail=True)
        sizes = sorted(
            (os.path.relpath(path, src_root) if source.is_local else path[len(src_root) :].lstrip("/"),
             int(info.get("size") or 0))
            for path, info in found.items()
            if info.get("type") != "directory"
        )  # fmt: skip
        threads = max(4, 2 * get_settings().workers)
        parallel = sum(client.nthreads().values()) if client is not None else threads
        batches = copy_batches(((key, size) for key, size in sizes if keep(key)), parallel)
        job = CopyJob(source=source, target=staging, token=uuid.uuid4().hex)
        try:
            with storage_errors(staging):
                prepare_copy(job)
                tasks = run_tasks(
                    copy_objects, batches, shared=(job,), client=client, workers=threads, total=len(batches),
                    description="Copying chunks", unit="batch", in_flight=2 * threads if client is None else None,
                )  # fmt: skip
                for result in tasks:
                    record_copy(job, result)  # checksums a worker took from the bytes it copied
        except BaseException:
            abandon_operation(client, job.token)  # no late task may write into the staged copy being deleted
            raise
        finally:
            finish_copy(job)
        writer = MDIOWriter(
            staging.url, access_pattern=reader.access_pattern, storage_options=dict(staging.storage_options)
        )
        writer.trace_count = reader.trace_count
        writer.stats = reader.stats


def _any_pattern(path: str | os.PathLike[str], storage_options: dict[str, Any] | None, v1: bool = True) -> str:
    """An access pattern the dataset has (copy works on all of them; the reader just needs one to open); with
    ``v1``, that of an MDIO v1 dataset too (else the v0 error stands)."""
    from mdio_catalog.core.store import open_root

    try:
        root = open_root(Location.of(path, storage_options))
    except (MDIONotFoundError, MDIOFormatError):
        from mdio_catalog.v1.reader import v1_access_pattern  # a v1 dataset has one pattern

        v1_pattern = v1_access_pattern(Location.of(path, storage_options)) if v1 else None
        if v1_pattern is None:
            raise
        return v1_pattern
    names = get_group(root, layout.DATA_GROUP).array_keys()
    patterns = sorted(p for p in (layout.access_pattern_of(n) for n in names) if p is not None)
    if not patterns:
        raise AccessPatternError(f"{path} has no trace arrays.")
    default = layout.default_access_pattern(len(root.attrs.get(layout.ATTR_DIMENSION, [])))  # type: ignore[arg-type]
    return default if default in patterns else patterns[0]


def _copy_filter(reader: MDIOAccessor, copy_traces: bool, copy_headers: bool) -> Any:
    data_prefixes = [f"{layout.data_array_path(p)}/" for p in reader.access_patterns]
    header_prefixes = [f"{layout.header_array_path(p)}/" for p in reader.access_patterns]

    def keep(key: str) -> bool:
        if key.startswith(CHECKSUM_GROUP + "/"):  # the copy gets its own record when it is published (local)
            return False
        name = key.rsplit("/", 1)[-1]
        if name.startswith("."):  # .zgroup/.zattrs/.zarray/.zmetadata: always
            return True
        if any(key.startswith(p) for p in data_prefixes):
            return copy_traces
        if any(key.startswith(p) for p in header_prefixes):
            return copy_headers
        return True  # live mask and anything else we do not know about

    return keep


# --- rechunk ----------------------------------------------------------------------------------------------------
def rechunk(
    source: MDIOAccessor,
    chunks: tuple[int, ...],
    suffix: str,
    compressor: Codec | None = None,
    overwrite: bool = False,
    *,
    client: Any = None,
) -> None:
    """Add ``data/chunked_<suffix>`` (and its trace headers) with ``chunks``, copied from ``source``
    (on the workers of ``client``, a ``distributed.Client``, when given)."""
    rechunk_batch(source, [chunks], [suffix], compressor=compressor, overwrite=overwrite, client=client)


def rechunk_batch(
    source: MDIOAccessor,
    chunks_list: Sequence[tuple[int, ...]],
    suffix_list: Sequence[str],
    compressor: Codec | None = None,
    overwrite: bool = False,
    *,
    client: Any = None,
) -> None:
    """Add one access pattern per ``(chunks, suffix)`` pair, reading the source once.

    ``source`` must be writable (``MDIOWriter`` or mode 'r+'/'w'). A suffix equal to the source's own pattern,
    or one that exists without ``overwrite``, is refused before anything is written. ``client`` (a
    ``distributed.Client``) copies the blocks on that cluster's workers, which open the dataset from its URL and
    storage options (so it must be reachable from them) and write the new chunks directly.

    The dataset's lock (:func:`~mdio_catalog.core.publish.target_lock`, local disks) is held meanwhile: a build
    or another rechunk of the same dataset is refused with DatasetBusyError. A pattern left half-written by a
    killed rechunk does not count as existing (:func:`completed_patterns`) and is replaced.
    """
    if source.mode == "r":
        raise MDIOReadOnlyError(
            f"{source.url} is open read-only; rechunking adds arrays to it: open it with MDIOWriter or mode 'w'."
        )
    location = Location.of(source.url, source.storage_options)
    with target_lock(location, what="rechunk"):  # no build or other rechunk of this dataset meanwhile
        try:
            _rechunk_batch(source, chunks_list, suffix_list, compressor, overwrite, client)
        finally:  # also when refused: a rechunk killed while consolidating may have left a metadata temporary
            remove_zarr_temporaries(location, (".", layout.DATA_GROUP, layout.METADATA_GROUP, CHECKSUM_GROUP))


def _rechunk_batch(
    source: MDIOAccessor,
    chunks_list: Sequence[tuple[int, ...]],
    suffix_list: Sequence[str],
    compressor: Codec | None,
    overwrite: bool,
    client: Any,
) -> None:
    if len(chunks_list) != len(suffix_list):
        raise ShapeError(f"{len(chunks_list)} chunk shapes for {len(suffix_list)} suffixes; give one per suffix.")
    if len(set(suffix_list)) != len(suffix_list):
        raise AccessPatternError(f"Suffixes must be distinct, got {list(suffix_list)}.")
    shape = source.shape
    targets = []
    existing = completed_patterns(source)  # a pattern an interrupted rechunk left half-written does not count
    for chunks, name in zip(chunks_list, suffix_list, strict=True):
        suffix = str(name)
        if not layout.is_valid_access_pattern(suffix):
            raise AccessPatternError(f"Suffix {suffix!r} must be letters, digits or underscores.")
        if suffix == source.access_pattern:
            raise AccessPatternError(f"Suffix {suffix!r} is the source's own access pattern; choose another name.")
        if suffix in existing and not overwrite:
            raise MDIOAlreadyExistsError(
                f"Access pattern {suffix!r} already exists in {source.url}; pass overwrite=True to replace it."
            )
        targets.append((validate_chunks(chunks, shape, what=f"chunks of {suffix!r}"), suffix))

    codec = compressor if compressor is not None else lossless_compressor()
    root = source.root
    written: list[str] = []
    try:
        with storage_errors(source.url):
            for _, suffix in targets:
                if suffix in existing:  # overwrite: unpublish the old pattern first, so a reader or a kill never
                    _drop_pattern(root, suffix)  # meets new chunks under the old pattern's consolidated metadata
            with recording(source.url) as recorder:  # the new patterns' checksums, taken as they are written
                arrays = [_create_target(root, source, chunks, suffix, codec) for chunks, suffix in targets]
                written = [suffix for _, suffix in targets]
                for group in _plan_passes(source, [c for c, _ in targets]):
                    _copy_pass(source, [arrays[i] for i in group], [targets[i][1] for i in group], client)
            if get_settings().checksums:  # recorded before the pattern counts as complete
                from mdio_catalog.core.verify import record_from

                paths = [f(s) for _, s in targets for f in (layout.data_array_path, layout.header_array_path)]
                location = Location.of(source.url, source.storage_options)
                record_from(location, recorder, only=paths, consolidate=False)
            zarr.consolidate_metadata(root.store)
    except BaseException:
        # Never leave a half-filled access pattern that looks usable.
        for suffix in written:
            _drop_pattern(root, suffix)
        raise


def completed_patterns(source: MDIOAccessor) -> list[str]:
    """The access patterns that were completed: those in the consolidated metadata, which rechunking rewrites only
    after every chunk of its new patterns is written. Arrays present in the live metadata but not consolidated
    belong to an interrupted rechunk: readers do not see them, and a retry replaces them. A dataset without
    consolidated metadata has every stored pattern counted."""
    location = Location.of(source.url, source.storage_options)
    stored = source.access_patterns
    try:
        fs, path = location.filesystem()
        record = json.loads(fs.cat_file(f"{path}/.zmetadata"))
        keys = set(record["metadata"])
    except (OSError, KeyError, TypeError, ValueError):
        return stored
    return [p for p in stored if f"{layout.data_array_path(p)}/.zarray" in keys]


def _create_target(
    root: zarr.Group, source: MDIOAccessor, chunks: tuple[int, ...], suffix: str, codec: Codec
) -> tuple[zarr.Array, zarr.Array]:
    data = get_group(root, layout.DATA_GROUP).create_array(
        name=layout.data_array_name(suffix),
        shape=source.shape,
        dtype=source.trace_array.dtype,
        chunks=chunks,
        compressors=codec,
        fill_value=0,
        chunk_key_encoding=layout.CHUNK_KEY_ENCODING,
        overwrite=True,
    )
    header_source = source.header_array
    headers = get_group(root, layout.METADATA_GROUP).create_array(
        name=layout.header_array_name(suffix),
        shape=header_source.shape,
        dtype=header_source.dtype,
        chunks=header_chunks(chunks),
        compressors=lossless_compressor(),
        fill_value=np.zeros(1, header_source.dtype)[0],
        chunk_key_encoding=layout.CHUNK_KEY_ENCODING,
        overwrite=True,
    )
    return data, headers


def _drop_pattern(root: zarr.Group, suffix: str) -> None:
    from mdio_catalog.core.checksums import GROUP, record_name

    for group, name in ((layout.DATA_GROUP, layout.data_array_name(suffix)),
                        (layout.METADATA_GROUP, layout.header_array_name(suffix))):  # fmt: skip
        with contextlib.suppress(KeyError, FileNotFoundError):
            del get_group(root, group)[name]
        with contextlib.suppress(KeyError, FileNotFoundError, MDIOFormatError):  # its checksum record goes too
            del get_group(root, GROUP)[record_name(f"{group}/{name}")]
    zarr.consolidate_metadata(root.store)


def _block_for(shape: Sequence[int], chunk_sets: Sequence[Sequence[int]]) -> tuple[int, ...]:
    """Per dimension, the least common multiple of every chunking, capped at the dimension."""
    return tuple(min(n, math.lcm(*(min(int(c[axis]), n) for c in chunk_sets))) for axis, n in enumerate(shape))


def _plan_passes(source: MDIOAccessor, target_chunks: Sequence[tuple[int, ...]]) -> list[list[int]]:
    """Group targets so that each group's common block fits the memory budget (one source read per group)."""
    budget = get_settings().rechunk_memory_mib * 2**20
    itemsize = source.trace_array.dtype.itemsize
    groups: list[list[int]] = []
    for index, chunks in enumerate(target_chunks):
        for group in groups:
            block = _block_for(source.shape, [source.chunks, *(target_chunks[i] for i in group), chunks])
            if math.prod(block) * itemsize <= budget:
                group.append(index)
                break
        else:
            groups.append([index])
    return groups


def _copy_pass(
    source: MDIOAccessor, targets: Sequence[tuple[zarr.Array, zarr.Array]], suffixes: Sequence[str], client: Any
) -> None:
    if 0 in source.shape:  # a dataset without traces (e.g. from another tool): no cell to copy, the arrays stand
        return
    block = _block_for(source.shape, [source.trace_array.chunks, *(t[0].chunks for t in targets)])
    blocks: Iterator[Block] = spatial_blocks(source.shape, block)
    total = math.prod(-(-n // b) for n, b in zip(source.shape, block, strict=True))
    job = RechunkJob(
        location=Location.of(source.url, source.storage_options),
        access_pattern=source.access_pattern,
        suffixes=tuple(suffixes),
        token=uuid.uuid4().hex,
    )
    # Threads of this process use the arrays already open; cluster workers open them from the URL.
    use_rechunk_arrays(
        job, RechunkArrays(source.trace_array, source.header_array, source.live_mask_array, tuple(targets))
    )
    try:
        tasks = run_tasks(
            rechunk_block, blocks, shared=(job,), client=client, workers=get_settings().workers, total=total,
            description="Rechunking", unit="block",
        )  # fmt: skip
        for result in tasks:
            record_rechunk(job, result)  # checksums a worker took as it wrote
    except BaseException:
        abandon_operation(client, job.token)  # no late task may write into the patterns being dropped
        raise
    finally:
        finish_rechunk(job)
