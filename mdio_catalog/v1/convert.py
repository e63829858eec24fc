"""convert_mdio: move a dataset between the v0 layout and the v1 layout (multidimio 1.x), both directions.

Why chunk by chunk: trace chunks are the bulk of a dataset, and a Blosc frame decodes the same whatever Zarr
format wraps it, so a chunk whose codec both sides share is copied as stored bytes (no decode, no encode); only
the rest (ZFP, other codecs, v1 chunks holding dead traces, whose NaN fill v0 writes as 0) is decoded and
re-encoded. One chunk at a time per worker thread, so memory stays bounded whatever the dataset's size. Headers
change record layout between the two (v0: 240-byte records with ``unassigned``; v1: 232 packed bytes) and are
rewritten by field name; they are small beside the traces.
"""

from __future__ import annotations

import itertools
import os
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt
import zarr
from numcodecs import Blosc
from zarr.codecs import BloscCodec
from zarr.errors import UnstableSpecificationWarning

from mdio_catalog.api.accessor import MDIOAccessor
from mdio_catalog.api.xarray_view import coordinate_scale, open_reader
from mdio_catalog.core import layout as v0
from mdio_catalog.core.factory import (
    DEFAULT_TEXT_HEADER,
    MDIOCreateConfig,
    MDIOVariableConfig,
    _create_hierarchy,
    default_binary_header,
)
from mdio_catalog.core.grid import Grid
from mdio_catalog.core.headers import TRACE_HEADER_DTYPE
from mdio_catalog.core.store import Location, open_store, staged_write, storage_errors
from mdio_catalog.exceptions import ArgumentError, MDIOFormatError
from mdio_catalog.settings import get_settings
from mdio_catalog.v1 import layout
from mdio_catalog.v1.reader import V1Reader, open_v1_root
from mdio_catalog.version import __version__

Block = tuple[slice, ...]
NAN_FILL_B64 = "AAAAAAAA+H8="  # float64 NaN, base64: the _FillValue attribute multidimio 1.x writes


@dataclass
class ConvertReport:
    """What a conversion did: trace chunks copied as stored bytes, and those decoded and re-encoded."""

    raw_chunks: int = 0
    reencoded_chunks: int = 0
    raw_bytes: int = 0


def convert_mdio(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    to: Literal["v1", "v0"] = "v1",
    *,
    storage_options_input: dict[str, Any] | None = None,
    storage_options_output: dict[str, Any] | None = None,
    overwrite: bool = False,
    access_pattern: str | None = None,
    sample_dim: str | None = None,
) -> ConvertReport:
    """Convert ``source`` (either layout) to ``target`` in layout ``to``.

    v0 -> v1 writes Zarr v3 the way multidimio 1.x does (``open_mdio`` opens it); ``sample_dim`` names the sample
    axis there (default: 'time', or the v0 name when it is already 'time' or 'depth'). v1 -> v0 writes what
    multidimio 0.9.3 opens. ``access_pattern`` picks the v0 source's pattern. The target is written beside its
    final place and appears only when complete.
    """
    if to not in ("v1", "v0"):
        raise ArgumentError(f"to={to!r}: convert to 'v1' or 'v0'.")
    reader = open_reader(source, access_pattern, storage_options_input)
    is_v1 = isinstance(reader, V1Reader)
    if (to == "v1") == is_v1:
        raise ArgumentError(f"{source} is already an MDIO {to} dataset; use copy_mdio to copy it.")
    location = Location.of(target, storage_options_output)
    with staged_write(location, overwrite) as staging:
        return write_converted(reader, staging, to, sample_dim)


def write_converted(
    reader: MDIOAccessor, staging: Location, to: Literal["v1", "v0"] = "v1", sample_dim: str | None = None
) -> ConvertReport:
    """Write the dataset of ``reader`` in layout ``to`` into ``staging``, a fresh location its caller publishes
    (:func:`convert_mdio` and catalog builds of ``format: v1`` datasets)."""
    with warnings.catch_warnings():
        # zarr calls v3 structured and string dtypes unstable; multidimio 1.x writes them the same way
        warnings.simplefilter("ignore", UnstableSpecificationWarning)
        if to == "v1":
            return _to_v1(reader, staging, sample_dim)
        return _to_v0(cast(V1Reader, reader), staging)


# --- shared ----------------------------------------------------------------------------------------------------
def _blocks(shape: tuple[int, ...], chunks: tuple[int, ...]) -> Iterator[tuple[tuple[int, ...], Block]]:
    """Every chunk index of an array and the region it covers."""
    ranges = [range(-(-n // c)) for n, c in zip(shape, chunks, strict=True)]
    for index in itertools.product(*ranges):
        yield index, tuple(slice(i * c, min((i + 1) * c, n)) for i, c, n in zip(index, chunks, shape, strict=True))


def _chunk_path(array: zarr.Array, index: tuple[int, ...]) -> str:
    return f"{array.path}/{array.metadata.encode_chunk_key(index)}"


def _blosc_only(array: zarr.Array) -> bool:
    """Whether the array's chunks are plain little-endian C-order bytes under one Blosc frame (either format)."""
    meta = array.metadata
    if np.dtype(array.dtype).byteorder == ">":
        return False
    if getattr(meta, "zarr_format", 3) == 2:
        return isinstance(meta.compressor, Blosc) and not meta.filters and meta.order == "C"  # type: ignore[union-attr]
    codecs = [type(c).__name__ for c in meta.codecs]  # type: ignore[union-attr]
    endian = getattr(meta.codecs[0], "endian", None)  # type: ignore[union-attr]
    return codecs == ["BytesCodec", "BloscCodec"] and str(getattr(endian, "value", endian) or "little") == "little"


def _run(tasks: Iterator[Any], work: Any) -> list[Any]:
    """``work`` over ``tasks`` on a few threads, at most a handful in flight (bounded memory)."""
    workers = max(1, get_settings().workers)
    results: list[Any] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        batch: list[Any] = []
        for task in tasks:
            batch.append(task)
            if len(batch) >= 4 * workers:
                results.extend(pool.map(work, batch))
                batch = []
        results.extend(pool.map(work, batch))
    return results


class _Copier:
    """Stored chunk bytes from one store to another (local files or any fsspec filesystem)."""

    def __init__(self, source: Location, target: Location) -> None:
        self.src_fs, self.src_root = source.filesystem()
        self.dst_fs, self.dst_root = target.filesystem()

    def get(self, key: str) -> bytes | None:
        try:
            return cast(bytes, self.src_fs.cat_file(f"{self.src_root}/{key}"))
        except FileNotFoundError:
            return None

    def put(self, key: str, data: bytes) -> None:
        path = f"{self.dst_root}/{key}"
        self.dst_fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        self.dst_fs.pipe_file(path, data)


def _copy_traces(
    reader: MDIOAccessor, source: zarr.Array, target: zarr.Array, copier: _Copier, live: npt.NDArray[np.bool_]
) -> ConvertReport:
    """Every stored trace chunk of ``source`` into ``target`` (same chunk grid): raw where allowed, else re-encoded.

    Chunks without a live trace are not written (both layouts read them as their fill). A chunk with dead traces
    is re-encoded when the target is v0 (dead samples become 0 instead of v1's NaN)."""
    raw_ok = _blosc_only(source) and _blosc_only(target) and tuple(source.chunks) == tuple(target.chunks)
    to_v0 = target.metadata.zarr_format == 2

    def one(item: tuple[tuple[int, ...], Block]) -> tuple[int, int, int]:
        index, block = item
        cells = live[block[:-1]]
        if not cells.any():
            return 0, 0, 0
        if raw_ok and (cells.all() or not to_v0):
            data = copier.get(_chunk_path(source, index))
            if data is None:
                return 0, 0, 0
            copier.put(_chunk_path(target, index), data)
            return 1, 0, len(data)
        values = reader.read_region(block, parallel=False)
        if to_v0:
            values = np.where(cells[..., None], np.nan_to_num(values, nan=0.0), 0).astype(values.dtype, copy=False)
        target[block] = values
        return 0, 1, 0

    report = ConvertReport()
    for raw, again, nbytes in _run(_blocks(tuple(source.shape), tuple(source.chunks)), one):
        report.raw_chunks += raw
        report.reencoded_chunks += again
        report.raw_bytes += nbytes
    return report


def _convert_headers(values: npt.NDArray[Any], dtype: np.dtype) -> npt.NDArray[Any]:
    """Records of ``values`` in ``dtype``, field by field by name (zeros where ``values`` lacks one)."""
    out = np.zeros(values.shape, dtype=dtype)
    for name in dtype.names or ():
        if name in (values.dtype.names or ()):
            out[name] = values[name]
    return out


def _copy_spatial(
    reader: MDIOAccessor, live: npt.NDArray[np.bool_], headers: zarr.Array, extra: dict[str, zarr.Array]
) -> None:
    """Headers (re-laid out by name) and, for v1 targets, the scaled cdp_x/cdp_y, chunk by chunk of ``headers``."""

    def one(item: tuple[tuple[int, ...], Block]) -> None:
        _, block = item
        if not live[block].any():
            return
        values = reader.read_header_region(block, parallel=False)
        headers[block] = _convert_headers(values, np.dtype(headers.dtype))
        for name, array in extra.items():
            array[block] = values[name] * coordinate_scale(values["coordinate_scalar"])

    _run(_blocks(tuple(headers.shape), tuple(headers.chunks)), one)


# --- v0 -> v1 ---------------------------------------------------------------------------------------------------
def v1_header_dtype() -> np.dtype:
    """The packed 232-byte record multidimio 1.x stores for the SEG-Y rev1 standard spec (v0's fields without
    ``unassigned``, same names and order)."""
    fields: dict[str, Any] = dict(TRACE_HEADER_DTYPE.fields or {})
    return np.dtype([(name, fields[name][0].newbyteorder("<")) for name in fields if name != "unassigned"])


def _template_name(grid: Grid, sample: str) -> tuple[str, dict[str, str]]:
    domain = sample.capitalize()
    names = grid.dim_names[:-1]
    if names == ("inline", "crossline"):
        return f"PostStack3D{domain}", dict(layout.POST_STACK_3D)
    if names == ("inline", "crossline", "offset"):
        return f"CdpOffsetGathers3D{domain}", dict(layout.PRE_STACK_3D)
    return f"Generic{grid.ndim}D{domain}", {"surveyType": "3D" if grid.ndim > 2 else "2D"}


def _to_v1(reader: MDIOAccessor, staging: Location, sample_dim: str | None) -> ConvertReport:
    grid = reader.grid
    v0_sample = grid.dim_names[-1]
    sample = sample_dim or (v0_sample if v0_sample in layout.SAMPLE_DIMS else layout.SAMPLE_DIMS[0])
    dims = (*grid.dim_names[:-1], sample)
    spatial = dims[:-1]
    name, attributes = _template_name(grid, sample)
    store = open_store(staging, read_only=False)
    blosc = BloscCodec(cname="zstd", clevel=5, shuffle="shuffle")
    with storage_errors(staging):
        live = np.asarray(reader.live_mask_array[...], dtype=bool)
        # "a", not "w": a fresh staging either way, but a catalog build keeps its v0 form in a hidden folder here
        root = zarr.open_group(store, mode="a", zarr_format=3)
        root.attrs.update(
            {
                layout.ATTR_API_VERSION: layout.API_VERSION_WRITTEN,
                layout.ATTR_CREATED: str(datetime.now(UTC)),
                layout.ATTR_NAME: name,
                layout.ATTR_ATTRIBUTES: {
                    **attributes,
                    layout.ATTR_DEFAULT_VARIABLE: layout.DEFAULT_VARIABLE,
                    "convertedBy": f"mdio_catalog {__version__} from MDIO v0",
                },
            }
        )
        for dim_name, dim in zip(dims, grid.dims, strict=True):
            coord = root.create_array(dim_name, shape=(dim.size,), dtype=dim.values.dtype, chunks=(max(dim.size, 1),),
                                      dimension_names=[dim_name], fill_value=0)  # fmt: skip
            coord[...] = dim.values
        float_data = np.issubdtype(reader.dtype, np.floating)
        stats = {k: v for k, v in reader.stats.items() if v is not None}
        data_attrs: dict[str, Any] = {layout.ATTR_STATS: layout.stats_attr(stats, reader.trace_count * grid.shape[-1])}
        header_fields = set(np.dtype(reader.header_array.dtype).names or ())
        cdp = [c for c in (layout.CDP_X, layout.CDP_Y) if {c, "coordinate_scalar"} <= header_fields]
        if cdp:
            data_attrs[layout.ATTR_COORDINATES] = " ".join(cdp)
        if float_data:
            data_attrs["_FillValue"] = NAN_FILL_B64
        amplitude = root.create_array(
            layout.DEFAULT_VARIABLE, shape=grid.shape, dtype=reader.dtype, chunks=reader.chunks,
            fill_value=np.nan if float_data else 0, compressors=[blosc], dimension_names=list(dims),
            attributes=data_attrs,
        )  # fmt: skip
        report = _copy_traces(
            reader,
            reader.trace_array,
            amplitude,
            _Copier(Location.of(reader.url, reader.storage_options), staging),
            live,
        )

        spatial_chunks = tuple(reader.header_array.chunks)
        coords_attr: dict[str, Any] = {layout.ATTR_COORDINATES: " ".join(cdp)} if cdp else {}
        headers = root.create_array(
            layout.HEADERS, shape=grid.spatial_shape, dtype=v1_header_dtype(), chunks=spatial_chunks,
            fill_value=np.zeros(1, v1_header_dtype())[0], compressors=[blosc], dimension_names=list(spatial),
            attributes=coords_attr,
        )  # fmt: skip
        nan_attr: dict[str, Any] = {"_FillValue": NAN_FILL_B64}
        extra = {
            c: root.create_array(
                c,
                shape=grid.spatial_shape,
                dtype="float64",
                chunks=spatial_chunks,
                fill_value=np.nan,
                compressors=[blosc],
                dimension_names=list(spatial),
                attributes=nan_attr,
            )
            for c in cdp
        }
        _copy_spatial(reader, live, headers, extra)
        mask = root.create_array(layout.TRACE_MASK, shape=grid.spatial_shape, dtype=bool, chunks=spatial_chunks,
                                 fill_value=False, compressors=[blosc], dimension_names=list(spatial),
                                 attributes=coords_attr)  # fmt: skip
        mask[...] = live
        file_header = root.create_array(layout.FILE_HEADER, shape=(), dtype="<U1", fill_value="")
        file_header.attrs.update(
            {
                layout.ATTR_TEXT_HEADER: "\n".join(line.ljust(80)[:80] for line in reader.text_header),
                layout.ATTR_BINARY_HEADER: {
                    k: v for k, v in reader.binary_header.items() if k in layout.BINARY_HEADER_FIELDS
                },
            }
        )
    return report


# --- v1 -> v0 ---------------------------------------------------------------------------------------------------
def _to_v0(reader: V1Reader, staging: Location) -> ConvertReport:
    grid = reader.grid
    pattern = v0.default_access_pattern(grid.ndim)
    variable = MDIOVariableConfig(
        name=v0.data_array_name(pattern), dtype=str(reader.dtype), chunks=tuple(reader.chunks),
        compressors=Blosc(cname="zstd", clevel=5, shuffle=Blosc.SHUFFLE),
    )  # fmt: skip
    root = _create_hierarchy(staging, MDIOCreateConfig(path=staging.url, grid=grid, variables=[variable]), False)
    with storage_errors(staging):
        live = np.asarray(reader.live_mask_array[...], dtype=bool)
        data = cast(zarr.Array, root[v0.data_array_path(pattern)])
        if tuple(data.chunks) != tuple(reader.chunks):
            raise MDIOFormatError(f"chunks {data.chunks} were not kept from {reader.chunks}")
        report = _copy_traces(
            reader, reader.trace_array, data, _Copier(Location.of(reader.url, reader.storage_options), staging), live
        )
        headers = cast(zarr.Array, root[v0.header_array_path(pattern)])
        _copy_spatial(reader, live, headers, {})
        cast(zarr.Array, root[v0.live_mask_path()])[...] = live
        stats = reader.stats
        root.attrs.update({v0.ATTR_TRACE_COUNT: int(live.sum())})
        if all(v is not None for v in stats.values()):
            root.attrs.update(dict(stats))
        text = reader.text_header
        meta = root[v0.METADATA_GROUP]
        meta.attrs.update(
            {
                v0.ATTR_TEXT_HEADER: text if len(text) == 40 else list(DEFAULT_TEXT_HEADER),
                v0.ATTR_BINARY_HEADER: reader.binary_header or default_binary_header(grid, reader.dtype),
            }
        )
        zarr.consolidate_metadata(root.store)
    return report


# --- v1 -> v1 (copy_mdio on a v1 source) ------------------------------------------------------------------------
def copy_v1(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    overwrite: bool = False,
    copy_traces: bool = False,
    copy_headers: bool = False,
    storage_options_input: dict[str, Any] | None = None,
    storage_options_output: dict[str, Any] | None = None,
) -> bool:
    """``copy_mdio`` for a v1 source: every stored object as bytes (metadata, coordinates, trace mask always; the
    data variable's chunks with ``copy_traces``, the headers' with ``copy_headers``). False when ``source`` is not
    v1 (the caller's v0 error stands)."""
    src = Location.of(source, storage_options_input)
    root = open_v1_root(src)
    if root is None:
        return False
    skipped = [] if copy_traces else [layout.default_variable(dict(root.attrs))]
    skipped += [] if copy_headers else [layout.HEADERS]
    with staged_write(Location.of(target, storage_options_output), overwrite) as staging:
        copier = _Copier(src, staging)
        with storage_errors(src):
            found = copier.src_fs.find(copier.src_root)

        def keep(key: str) -> bool:
            head, _, rest = key.partition("/")
            metadata = rest.rsplit("/", 1)[-1] in ("zarr.json", ".zarray", ".zattrs", ".zgroup")
            return head not in skipped or metadata

        def one(path: str) -> None:
            key = path[len(copier.src_root) :].lstrip("/")
            if keep(key):
                data = copier.get(key)
                if data is not None:
                    copier.put(key, data)

        with storage_errors(staging):
            _run(iter(found), one)
    return True
