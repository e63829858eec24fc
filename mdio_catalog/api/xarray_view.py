"""Lazy ``xarray.Dataset`` views of MDIO datasets (v0, and v1 through the same accessor API).

Why a view and not a second reader: the accessor already knows the layout and owns the fast chunk path
(:mod:`mdio_catalog.core.chunkfetch`); here each dask block is exactly one stored chunk, read through
``MDIOAccessor.read_region``, so a selection (``ds.sel(inline=1200)``) computes only the blocks it touches and each
block costs one chunk object. Names follow multidimio 1.x (``amplitude``, ``trace_mask``, ``headers``,
``cdp_x``/``cdp_y``) so a v0 dataset and a v1 dataset look alike once opened.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from mdio_catalog.exceptions import ArgumentError, HeaderFieldError, did_you_mean

if TYPE_CHECKING:
    import dask.array
    import xarray as xr

    from mdio_catalog.api.accessor import MDIOAccessor

#: Variable names in the view (multidimio 1.x's names for post-stack data).
DATA_VAR = "amplitude"
MASK_VAR = "trace_mask"
HEADERS_VAR = "headers"
CDP_X, CDP_Y = "cdp_x", "cdp_y"
COORD_SCALAR = "coordinate_scalar"

HeaderMode = Literal["structured", "fields", "none"]
HEADER_MODES: tuple[str, ...] = ("structured", "fields", "none")


class _Blocks:
    """A sliceable stand-in for one stored array: ``blocks[key]`` reads that region through the accessor.

    dask calls it once per block with a tuple of unit-step slices; it pickles as (url, options, which) and reopens
    the dataset on the far side, so a distributed scheduler can run the blocks too.
    """

    def __init__(self, reader: MDIOAccessor, which: str, parallel: bool = False) -> None:
        self.reader = reader
        self.which = which
        self.parallel = parallel  # dask blocks decode in dask's own threads; one region read uses the chunk pool
        array = {"traces": reader.trace_array, "headers": reader.header_array, "mask": reader.live_mask_array}[which]
        self.shape = tuple(array.shape)
        self.dtype = np.dtype(getattr(reader, "header_dtype", array.dtype) if which == "headers" else array.dtype)
        self.ndim = len(self.shape)
        self.chunks = tuple(array.chunks)

    def __getitem__(self, key: tuple[slice, ...]) -> npt.NDArray[Any]:
        return self.read(tuple(key), self.parallel)

    def read(self, key: tuple[Any, ...], parallel: bool) -> npt.NDArray[Any]:
        """The region ``key`` (ints and unit-step slices) as numpy, on the parallel chunk path or not."""
        if self.which == "traces":
            return self.reader.read_region(key, parallel=parallel)
        if self.which == "headers":
            return self.reader.read_header_region(key, parallel=parallel)
        return np.asarray(self.reader.live_mask_array[key], dtype=bool)

    def __dask_tokenize__(self) -> tuple[Any, ...]:
        return (type(self).__name__, self.reader.url, self.reader.access_pattern, self.which)

    def __reduce__(self) -> tuple[Callable[..., _Blocks], tuple[Any, ...]]:
        return _reopen, (self.reader.url, self.reader.access_pattern, self.reader.storage_options, self.which)


def _reopen(url: str, access_pattern: str, storage_options: dict[str, Any], which: str) -> _Blocks:
    from mdio_catalog.api.accessor import MDIOReader

    return _Blocks(MDIOReader(url, access_pattern=access_pattern, storage_options=storage_options), which)


def _lazy(blocks: _Blocks, chunks: Sequence[int] | None) -> dask.array.Array:
    """One dask block per stored chunk (``chunks=None``: selections read their region directly, see
    :mod:`mdio_catalog.api.xarray_dask`), or the blocks asked for."""
    import dask.array as da

    if chunks is None or tuple(chunks) == blocks.chunks:
        from mdio_catalog.api.xarray_dask import SourceArray

        return SourceArray.over(blocks, blocks.chunks)
    name = f"mdio-{blocks.which}-" + _token(blocks)
    return da.from_array(
        blocks,
        chunks=tuple(chunks) if chunks is not None else blocks.chunks,
        name=name,
        lock=False,
        asarray=False,
        fancy=False,
        meta=np.empty((0,) * blocks.ndim, dtype=blocks.dtype),
        inline_array=True,
    )


def _indexed(blocks: _Blocks) -> Any:
    """``blocks`` behind xarray's lazy indexing: basic indexers reach :meth:`_Blocks.__getitem__` as one region."""
    from xarray.backends import BackendArray
    from xarray.core import indexing

    class Backend(BackendArray):
        shape = blocks.shape
        dtype = blocks.dtype

        def __getitem__(self, key: Any) -> Any:
            return indexing.explicit_indexing_adapter(key, self.shape, indexing.IndexingSupport.BASIC, self._raw)

        def _raw(self, key: tuple[Any, ...]) -> npt.NDArray[Any]:
            unit = tuple(slice(k.start, k.stop) if isinstance(k, slice) else k for k in key)
            region = blocks[unit]  # unit steps for the chunk planner, any step applied afterwards
            steps = tuple(slice(None, None, k.step) for k in key if isinstance(k, slice))
            return region[steps] if any(s.step not in (None, 1) for s in steps) else region

    return indexing.LazilyIndexedArray(Backend())


def _token(blocks: _Blocks) -> str:
    from dask.base import tokenize

    return tokenize(blocks.__dask_tokenize__())


def coordinate_scale(scalar: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """SEG-Y coordinate scalar (trace header bytes 71-72) as a factor: >0 multiplies, <0 divides, 0 means 1."""
    s = np.asarray(scalar, dtype=np.float64)
    return np.where(s > 0, s, np.where(s < 0, -1.0 / np.where(s < 0, s, -1.0), 1.0))


def _scaled(headers: npt.NDArray[Any], field: str) -> npt.NDArray[np.float64]:
    return np.asarray(headers[field], dtype=np.float64) * coordinate_scale(headers[COORD_SCALAR])


def to_xarray(
    reader: MDIOAccessor,
    *,
    headers: HeaderMode = "structured",
    header_fields: Sequence[str] | None = None,
    cdp_coords: bool = True,
    chunks: Sequence[int] | None = None,
    dask: bool = True,
) -> xr.Dataset:
    """A lazy Dataset over ``reader``'s traces, live mask and headers (nothing but coordinates is read here).

    ``headers``: 'structured' (one variable of the stored record dtype), 'fields' (one variable per header field,
    or per name in ``header_fields``; ``header_<name>`` where the name is a coordinate's) or 'none'.
    ``cdp_coords`` adds ``cdp_x``/``cdp_y`` over the spatial dimensions, scaled by the coordinate scalar, when the
    header dtype has those fields. ``chunks`` overrides the dask chunks of the traces (default: the stored chunks,
    one chunk object per block). ``dask=False`` makes the traces lazy through xarray's own indexing instead: a
    selection becomes one region read on the accessor's parallel chunk path (no task per chunk), the fastest for
    interactive slicing; ``.chunk()`` turns it into dask later.
    """
    import dask.array as da
    import xarray as xr

    if headers not in HEADER_MODES:
        choices = did_you_mean(str(headers), HEADER_MODES)
        raise ArgumentError(f"headers={headers!r}{choices}; use one of {HEADER_MODES}.")
    grid = reader.grid
    dims = grid.dim_names
    spatial = dims[:-1]
    if chunks is not None and len(chunks) != len(dims):
        raise ArgumentError(f"chunks {tuple(chunks)} must have {len(dims)} entries, one per dimension {dims}.")
    trace_blocks = _Blocks(reader, "traces")
    traces = _lazy(trace_blocks, chunks) if dask else _indexed(_Blocks(reader, "traces", parallel=True))
    header_blocks = _Blocks(reader, "headers")
    header_array = _lazy(header_blocks, None if chunks is None else chunks[:-1])
    mask = _lazy(_Blocks(reader, "mask"), None)

    coords: dict[str, Any] = {d.name: (d.name, d.values) for d in grid.dims}
    fields = header_blocks.dtype.names or ()
    if cdp_coords and {CDP_X, CDP_Y, COORD_SCALAR} <= set(fields):
        for name in (CDP_X, CDP_Y):
            values = da.map_blocks(_scaled, header_array, name, dtype=np.float64)
            coords[name] = (spatial, values, {"long_name": f"{name} scaled by {COORD_SCALAR}"})

    data_vars: dict[str, Any] = {
        DATA_VAR: (dims, traces),
        MASK_VAR: (spatial, mask, {"long_name": "live traces"}),
    }
    if headers == "structured":
        data_vars[HEADERS_VAR] = (spatial, header_array)
    elif headers == "fields":
        wanted = list(header_fields) if header_fields is not None else list(fields)
        for field in wanted:
            if field not in fields:
                raise HeaderFieldError(f"No trace header field {field!r}{did_you_mean(field, fields)} in {reader.url}.")
            clash = field in coords or field in data_vars  # e.g. the 'inline' header word vs the 'inline' dim
            data_vars[f"header_{field}" if clash else field] = (spatial, header_array[field])

    return xr.Dataset(data_vars, coords=coords, attrs=_attrs(reader))


def _attrs(reader: MDIOAccessor) -> dict[str, Any]:
    stats = {k: v for k, v in reader.stats.items() if v is not None}
    attrs: dict[str, Any] = {
        "source": reader.url,
        "access_pattern": reader.access_pattern,
        "trace_count": reader.trace_count,
        "text_header": "\n".join(reader.text_header),
        "binary_header": reader.binary_header,
        "statistics": stats,
    }
    layout_version = getattr(reader, "layout_version", "v0")
    attrs["mdio_layout"] = layout_version
    return attrs


def open_dataset(
    path_or_name: str | os.PathLike[str],
    *,
    catalog: Any = None,
    access_pattern: str | None = None,
    storage_options: dict[str, Any] | None = None,
    headers: HeaderMode = "structured",
    header_fields: Sequence[str] | None = None,
    cdp_coords: bool = True,
    chunks: Sequence[int] | None = None,
    dask: bool = True,
) -> xr.Dataset:
    """Open an MDIO dataset (a path or URL, or a dataset name of ``catalog``) as a lazy ``xarray.Dataset``.

    ``catalog`` is a :class:`~mdio_catalog.catalog.catalog.Catalog` or the path of a catalog file; the other
    options are those of :func:`to_xarray`.
    """
    view: dict[str, Any] = {
        "dask": dask,
        "headers": headers,
        "header_fields": header_fields,
        "cdp_coords": cdp_coords,
        "chunks": chunks,
    }
    if catalog is not None:
        from mdio_catalog.catalog.catalog import Catalog

        cat = catalog if isinstance(catalog, Catalog) else Catalog.from_file(catalog)
        options: dict[str, Any] = {}
        if access_pattern is not None:
            options["access_pattern"] = access_pattern
        if storage_options is not None:
            options["storage_options"] = storage_options
        return to_xarray(cat.open(os.fspath(path_or_name), **options), **view)
    return to_xarray(open_reader(path_or_name, access_pattern, storage_options), **view)


def open_reader(
    path: str | os.PathLike[str], access_pattern: str | None = None, storage_options: dict[str, Any] | None = None
) -> MDIOAccessor:
    """An MDIOReader on ``path``; without ``access_pattern``, the one chunked along every dimension ('012',
    '0123', ...) when stored, else the first stored one."""
    from mdio_catalog.api.accessor import MDIOReader
    from mdio_catalog.core import layout
    from mdio_catalog.exceptions import AccessPatternNotFoundError

    if access_pattern is not None:
        return MDIOReader(path, access_pattern=access_pattern, storage_options=storage_options)
    try:
        return MDIOReader(path, storage_options=storage_options)
    except AccessPatternNotFoundError:
        pass  # not chunked along every dimension of a 3-D grid: find the pattern it has
    from mdio_catalog.core.grid import Grid
    from mdio_catalog.core.nodes import get_group
    from mdio_catalog.core.store import Location, open_root

    root = open_root(Location.of(path, storage_options))
    names = get_group(root, layout.DATA_GROUP).array_keys()
    patterns = sorted(p for p in (layout.access_pattern_of(n) for n in names) if p is not None)
    default = layout.default_access_pattern(Grid.from_zarr(root).ndim)
    chosen = default if default in patterns or not patterns else patterns[0]
    return MDIOReader(path, access_pattern=chosen, storage_options=storage_options)
