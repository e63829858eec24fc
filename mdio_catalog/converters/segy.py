"""segy_to_mdio: ingest a SEG-Y file into an MDIO dataset.

Steps: open the file (local or fsspec), scan the index header words as columns, apply grid overrides, build the
grid (with duplicate and sparsity checks), lay out the dataset beside the target, write every spatial chunk, then
store live mask, statistics and headers and move the dataset into place.

The header scan and the chunk writing are streams of independent tasks (``segy/header_scan.py``,
``converters/segy_blocks.py``) run by ``core/cluster.run_tasks``: on this process's threads, or with a
``distributed.Client`` on the cluster's workers, which read their own byte ranges of the SEG-Y and write whole
chunks of the staged dataset straight to the target store. Only this process publishes, once every task succeeded.
"""

from __future__ import annotations

import base64
import contextlib
import os
import uuid
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import zarr

from mdio_catalog.converters.segy_blocks import (
    BlockWriter,
    IngestPlan,
    IngestResult,
    release_writer,
    share_writer,
    units_per_task,
    write_units,
)
from mdio_catalog.converters.segy_exact import create_additional_headers, exact_sample_dtype, first_sample_dtype
from mdio_catalog.core import layout
from mdio_catalog.core.chunks import default_chunks, validate_chunks
from mdio_catalog.core.cluster import abandon_operation
from mdio_catalog.core.compressors import trace_compressor
from mdio_catalog.core.factory import MDIOCreateConfig, MDIOVariableConfig, _create_hierarchy
from mdio_catalog.core.geometry import TraceGeometry, build_geometry, check_density, check_unique_cells
from mdio_catalog.core.headers import TRACE_HEADER_SIZE, V0_BINARY_HEADER_KEYS
from mdio_catalog.core.nodes import get_array, get_group
from mdio_catalog.core.store import Location, refuse_existing, staged_write, storage_errors
from mdio_catalog.exceptions import GridOverrideError, HeaderFieldError, SegyEmptyError, ShapeError
from mdio_catalog.localfile import check_output_name
from mdio_catalog.segy import header_scan
from mdio_catalog.segy.header_scan import SegyRef, scan_header_columns
from mdio_catalog.segy.overrides import apply_grid_overrides
from mdio_catalog.segy.reader import SegyFile
from mdio_catalog.segy.trace_headers import header_field
from mdio_catalog.settings import get_settings
from mdio_catalog.specs.grid_overrides import GridOverrides

INDEX_TYPES = ("int16", "int32", "float16", "float32", "ibm32", "uint16", "uint32", "int8", "uint8")
_LENGTH_TO_TYPE = {1: "int8", 2: "int16", 4: "int32"}
ZERO_INTERVAL_WARNING = (
    "{url} has a sample interval of 0 in its binary and first trace header: the sample axis holds sample numbers "
    "0, 1, 2, ... (not times or depths)"
)


def _index_types(
    n: int, index_types: Sequence[str] | None, index_lengths: Sequence[int | None] | None
) -> list[str | None]:
    if index_types is not None and index_lengths is not None:
        raise ShapeError("Give index_types or the older index_lengths, not both.")
    if index_lengths is not None:
        if len(index_lengths) != n:
            raise ShapeError(f"index_lengths has {len(index_lengths)} entries for {n} index bytes.")
        types: list[str | None] = []
        for length in index_lengths:
            if length is not None and length not in _LENGTH_TO_TYPE:
                raise HeaderFieldError(f"index length {length} is not 1, 2 or 4 bytes.")
            types.append(_LENGTH_TO_TYPE[length] if length is not None else None)
        return types
    if index_types is None:
        return ["int32"] * n
    if len(index_types) != n:
        raise ShapeError(f"index_types has {len(index_types)} entries for {n} index bytes.")
    return [None if t is None else str(t) for t in index_types]


def sample_coordinates(n_samples: int, interval_us: float) -> npt.NDArray[Any]:
    """``arange(n) * interval`` in milliseconds; integers when the interval is a whole number of ms. An unknown
    (zero) interval gives sample numbers 0, 1, 2, ... rather than n repeated zeros (segy_to_mdio warns)."""
    if not interval_us > 0:
        return np.arange(n_samples, dtype=np.int64)
    interval_ms = interval_us / 1000.0
    if float(interval_ms).is_integer():
        return np.arange(n_samples, dtype=np.int64) * int(interval_ms)
    # Multiply before dividing, as the reference does, so 1999 us gives 9.995 and not 9.995000000000001.
    return np.arange(n_samples, dtype=np.float64) * interval_us / 1000.0


def ascii_lines(lines: Sequence[str]) -> list[str]:
    """The text header as printable ASCII, as the v0 attribute is read: other characters become spaces (the
    reference's exporter re-encodes the lines as ASCII and fails on anything else). The exact bytes are kept in the
    ``mdio_catalog.segy.file_header`` attribute for byte-identical export."""
    return ["".join(c if " " <= c <= "~" else " " for c in line) for line in lines]


def v0_binary_header(binary: Mapping[str, Any]) -> dict[str, int]:
    """The 36 integer keys of the reference's ``binary_header`` attribute."""
    return {key: int(binary.get(key, 0)) for key in V0_BINARY_HEADER_KEYS}


def segy_to_mdio(
    segy_path: str | os.PathLike[str],
    mdio_path_or_buffer: str | os.PathLike[str],
    index_bytes: Sequence[int | None],
    index_names: Sequence[str] | None = None,
    index_types: Sequence[str] | None = None,
    chunksize: tuple[int, ...] | None = None,
    lossless: bool = True,
    compression_tolerance: float = 0.01,
    storage_options_input: dict[str, Any] | None = None,
    storage_options_output: dict[str, Any] | None = None,
    overwrite: bool = False,
    grid_overrides: dict[str, Any] | None = None,
    *,
    index_lengths: Sequence[int | None] | None = None,
    endian: str | None = None,
    sample_format: int | str | None = None,
    client: Any = None,
) -> None:
    """Convert a SEG-Y file to MDIO.

    ``index_bytes`` are the 1-based trace-header bytes of the index dimensions (``None`` for a cable computed by
    ``CalculateCable``); names default to ``dim_0, dim_1, ...``, types to int32 (``index_lengths`` in bytes is
    accepted as the reference docstring's older spelling). ``endian`` ("big"/"little") and ``sample_format`` (a
    code or name) override what the file's binary header says, for mislabelled files. ``chunksize`` has one entry
    per index plus the sample
    axis; without it, 2-D and 3-D use the reference's defaults and 4-D and up get ~2 MiB chunks.

    Raises GridTraceCountError when traces collide, GridSparsityError when the grid is mostly empty (wrong index
    bytes), ShapeError for mismatched lengths, GridOverrideError for bad overrides, SegyError for unreadable files,
    MDIOAlreadyExistsError when the target exists without ``overwrite``. Nothing is left behind on failure.
    """
    byte_list = list(index_bytes)
    if not byte_list:
        raise ShapeError("index_bytes must name at least one trace-header byte.")
    names = list(index_names) if index_names is not None else [f"dim_{i}" for i in range(len(byte_list))]
    if len(names) != len(byte_list):
        raise ShapeError(f"index_names {names} has {len(names)} entries for {len(byte_list)} index bytes.")
    if len(set(names)) != len(names):
        raise ShapeError(f"index_names must be unique, got {names}.")
    types = _index_types(len(byte_list), index_types, index_lengths)
    if chunksize is not None and len(chunksize) != len(byte_list) + 1:
        raise ShapeError(
            f"chunksize {tuple(chunksize)} has {len(chunksize)} entries; it needs one per index "
            f"({len(byte_list)}) plus the sample axis: {len(byte_list) + 1}."
        )
    overrides = GridOverrides.parse(grid_overrides)
    computed = {name for name, byte in zip(names, byte_list, strict=True) if byte is None}
    if computed - ({"cable"} if overrides.calculate_cable else set()):
        raise GridOverrideError(
            f"Index {sorted(computed)} has no byte location; only 'cable' with CalculateCable can be computed."
        )
    fields = [
        header_field(name, int(byte), types[i] or "int32")
        for i, (name, byte) in enumerate(zip(names, byte_list, strict=True))
        if byte is not None
    ]
    check_output_name(mdio_path_or_buffer)
    target = Location.of(mdio_path_or_buffer, storage_options_output)
    refuse_existing(target, overwrite)

    settings = get_settings()
    with SegyFile(
        segy_path,
        storage_options=storage_options_input,
        endian=endian,  # type: ignore[arg-type]
        sample_format=sample_format,
    ) as segy:
        if segy.n_traces == 0:
            raise SegyEmptyError(f"{segy.url} holds no traces (headers only): there is no grid to build a dataset on.")
        if not segy.sample_interval > 0:
            warnings.warn(ZERO_INTERVAL_WARNING.format(url=segy.url), UserWarning, stacklevel=2)
        token = uuid.uuid4().hex
        ref = SegyRef.of(segy, token)
        header_scan.share(ref, segy)  # local tasks use the open file; cluster workers open their own once
        try:
            columns = scan_header_columns(segy, ref, fields, client=client)
            for name in computed:
                columns[name] = np.zeros(segy.n_traces, dtype=np.int64)
            result = apply_grid_overrides(columns, names, overrides, chunksize)
            geometry = build_geometry(
                result.columns, result.index_names, sample_coordinates(segy.n_samples, segy.sample_interval)
            )
            check_unique_cells(geometry, result.columns, result.index_names)
            check_density(
                geometry.grid.num_cells, segy.n_traces, settings.sparsity.warn_ratio, settings.sparsity.error_ratio
            )
            chunks = _resolve_chunks(result.chunksize, geometry, overrides)
            with staged_write(target, overwrite) as staging:
                _write_dataset(
                    segy, ref, staging, geometry, chunks, lossless, compression_tolerance, settings.workers, client
                )
        finally:
            header_scan.release(token)
            release_writer(token)
            if client is not None:
                with contextlib.suppress(Exception):  # workers drop the file and arrays of this ingestion
                    client.run(_release_on_worker, token)


def _release_on_worker(token: str) -> None:
    header_scan.release(token)
    release_writer(token)


def _resolve_chunks(
    chunksize: tuple[int, ...] | None, geometry: TraceGeometry, overrides: GridOverrides
) -> tuple[int, ...]:
    shape = geometry.grid.shape
    if chunksize is None:
        chunks = list(default_chunks(shape))
        if overrides.trace_chunk is not None:
            chunks[-2] = overrides.trace_chunk
        return validate_chunks(chunks, shape)
    return validate_chunks(chunksize, shape)


def _write_traces(
    segy: SegyFile,
    ref: SegyRef,
    staging: Location,
    root: zarr.Group,
    pattern: str,
    dtype: np.dtype,
    trace_of_cell: npt.NDArray[np.int64],
    chunks: tuple[int, ...],
    group: int,
    workers: int,
    client: Any,
) -> tuple[IngestResult, int]:
    """Write every trace (and the additional trace headers of a rev 2 file) into the staged arrays."""
    headers = get_array(root, layout.header_array_path(pattern))
    extra_count = segy.layout.extra_trace_headers
    extra = create_additional_headers(root, headers, TRACE_HEADER_SIZE * extra_count) if extra_count else None
    plan = IngestPlan(
        token=f"{ref.token}-{dtype.name}",  # a fresh writer (and worker cache entry) for each dtype tried
        segy=ref,
        target=staging,
        data_path=layout.data_array_path(pattern),
        header_path=layout.header_array_path(pattern),
        extra_path=f"{layout.METADATA_GROUP}/{layout.ADDITIONAL_HEADERS}" if extra is not None else None,
    )
    share_writer(plan, BlockWriter(segy, get_array(root, layout.data_array_path(pattern)), headers, extra))
    try:
        return write_units(plan, trace_of_cell, chunks[:-1], group=group, client=client, workers=workers), extra_count
    except BaseException:
        abandon_operation(client, plan.token)  # running tasks finish before the staged copy is deleted
        raise
    finally:
        release_writer(plan.token)
        if client is not None:
            with contextlib.suppress(Exception):  # workers drop their writer of this pass
                client.run(release_writer, plan.token)


def _write_dataset(
    segy: SegyFile,
    ref: SegyRef,
    staging: Location,
    geometry: TraceGeometry,
    chunks: tuple[int, ...],
    lossless: bool,
    compression_tolerance: float,
    workers: int,
    client: Any = None,
) -> None:
    grid = geometry.grid
    pattern = layout.default_access_pattern(grid.ndim)
    trace_of_cell = geometry.trace_of_cell()
    group = units_per_task(grid.spatial_shape, chunks[:-1], segy.trace_size, remote=segy.is_remote)
    exact = exact_sample_dtype(segy.format_info) if lossless else None
    dtype = first_sample_dtype(segy, exact)
    while True:  # float32 first; the format's own dtype once float32 proved inexact (then inexact is 0)
        variable = MDIOVariableConfig(
            name=layout.data_array_name(pattern),
            dtype=dtype.name,
            chunks=chunks,
            compressors=trace_compressor(lossless, compression_tolerance),
        )
        root = _create_hierarchy(staging, MDIOCreateConfig(path=staging.url, grid=grid, variables=[variable]), False)
        with storage_errors(staging):
            result, extra = _write_traces(segy, ref, staging, root, pattern, dtype, trace_of_cell, chunks, group,
                                          workers, client)  # fmt: skip
        if not result.inexact or exact is None or dtype == exact:
            break
        dtype = exact
    with storage_errors(staging):
        stats, inexact = result.stats, result.inexact
        get_array(root, layout.live_mask_path())[...] = geometry.live_mask()
        root.attrs.update({**stats.to_dict(), layout.ATTR_TRACE_COUNT: int(geometry.cells.size)})
        get_group(root, layout.METADATA_GROUP).attrs.update(
            {
                layout.ATTR_TEXT_HEADER: ascii_lines(segy.text_header),
                layout.ATTR_BINARY_HEADER: v0_binary_header(segy.binary_header),
                layout.ATTR_CATALOG: {
                    "segy": {
                        "source": str(segy.url),
                        "endian": segy.endian,
                        "sample_format": segy.sample_format,
                        "file_header": base64.b64encode(segy.raw_file_header).decode("ascii"),
                        "extended_text_headers": segy.extended_text_headers,
                        "inexact_samples": inexact,
                        "additional_trace_headers": extra,
                        **result.ibm.store(root),
                    }
                },
            }
        )
        zarr.consolidate_metadata(root.store)
