"""Reading MDIO v1 datasets through the v0 accessor API.

``MDIOReader(path)`` on a v1 store becomes a :class:`V1Reader` (see :func:`adopt`), so ``info``, ``plot``,
``export``, the xarray view and the catalog work unchanged: the grid comes from the data variable's
``dimension_names`` and the dimension coordinate arrays, the live mask from ``trace_mask``, the statistics from
``statsV1``, the text and binary headers from ``segy_file_header``. Arrays stored as v1 writers store them (Zarr
v3, regular chunks, '/' keys, Blosc or no codec) are read on the v0 fast chunk path (one object per chunk, decoded
on all cores); anything else through zarr. v1 datasets are read-only here.
"""

from __future__ import annotations

import os
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import zarr
from numcodecs import Blosc

from mdio_catalog.api.accessor import MODES, MDIOAccessor, MDIOReader
from mdio_catalog.core import layout as v0
from mdio_catalog.core.chunkfetch import chunk_objects
from mdio_catalog.core.chunkio import ChunkReader
from mdio_catalog.core.dimension import Dimension
from mdio_catalog.core.grid import Grid
from mdio_catalog.core.headers import TRACE_HEADER_DTYPE
from mdio_catalog.core.store import Location, open_store, storage_errors
from mdio_catalog.exceptions import (
    AccessPatternNotFoundError,
    InvalidModeError,
    MDIOFormatError,
    MDIONotFoundError,
    MDIOReadOnlyError,
    ShapeError,
)
from mdio_catalog.v1 import layout


def open_v1_root(location: Location, disk_cache: bool = False) -> zarr.Group | None:
    """The root group when ``location`` holds a v1 dataset (either Zarr format), else None."""
    try:
        store = open_store(location, read_only=True, disk_cache=disk_cache)
        with storage_errors(location):
            root = zarr.open_group(store, mode="r")
    except (FileNotFoundError, MDIONotFoundError, zarr.errors.GroupNotFoundError, KeyError):
        return None
    except (ValueError, TypeError):  # metadata zarr cannot parse: not a v1 dataset (the v0 error stands)
        return None
    return root if layout.is_v1_attrs(dict(root.attrs)) else None


def v1_access_pattern(location: Location) -> str | None:
    """The access pattern a v1 dataset at ``location`` reports ('012', '0123', ...), None if it is not v1."""
    root = open_v1_root(location)
    if root is None:
        return None
    array = root.get(layout.default_variable(dict(root.attrs)))
    return v0.default_access_pattern(array.ndim) if isinstance(array, zarr.Array) else None


def adopt(accessor: MDIOAccessor) -> bool:
    """Turn a half-built v0 accessor whose store turned out to be v1 into a :class:`V1Reader`; False if not v1."""
    root = open_v1_root(Location.of(accessor.url, accessor.storage_options), accessor.disk_cache)
    if root is None:
        return False
    if accessor.mode != "r":
        raise MDIOReadOnlyError(f"{accessor.url} is an MDIO v1 dataset; it opens read-only (use MDIOReader).")
    accessor.__class__ = V1Reader
    cast(V1Reader, accessor)._open_v1(root)
    return True


class V1Reader(MDIOReader):
    """Read-only accessor on an MDIO v1 dataset (what ``MDIOReader`` returns for one)."""

    layout_version = "v1"

    def __init__(
        self,
        mdio_path_or_buffer: str | os.PathLike[str],
        access_pattern: str | None = None,
        storage_options: dict[str, Any] | None = None,
        return_metadata: bool = False,
        new_chunks: tuple[int, ...] | None = None,
        backend: str = "zarr",
        disk_cache: bool = False,
    ) -> None:
        if backend not in ("zarr", "dask"):
            raise InvalidModeError(f"Invalid backend {backend!r}; use 'zarr' or 'dask'.")
        self.url = os.fspath(mdio_path_or_buffer)
        self.mode = MODES[0]
        self.access_pattern = access_pattern or ""
        self.storage_options = dict(storage_options or {})
        self.return_metadata = return_metadata
        self.new_chunks = tuple(new_chunks) if new_chunks is not None else None
        self.backend = backend
        self.disk_cache = disk_cache
        self._location = Location.of(self.url, self.storage_options)
        root = open_v1_root(self._location, disk_cache)
        if root is None:
            raise MDIONotFoundError(f"No MDIO v1 dataset at {self._location} (no group with apiVersion 1.x).")
        self._open_v1(root)

    def _open_v1(self, root: zarr.Group) -> None:
        self.root = root
        attrs = dict(root.attrs)
        self.v1_attrs = attrs
        with storage_errors(self._location):
            names = set(root.array_keys())
            variable = layout.default_variable(attrs)
            for needed in (variable, layout.TRACE_MASK):
                if needed not in names:
                    raise MDIOFormatError(f"{self.url} is an MDIO v1 group without its {needed!r} array.")
            self.variable_name = variable
            self._traces_zarr = cast(zarr.Array, root[variable])
            self._live_mask_zarr = cast(zarr.Array, root[layout.TRACE_MASK])
            self._headers_zarr = (
                cast(zarr.Array, root[layout.HEADERS]) if layout.HEADERS in names else self._empty_headers()
            )
            dims = _dimension_names(self._traces_zarr)
            self.grid = Grid(
                [self._dimension(root, names, name, size) for name, size in zip(dims, self.shape, strict=True)]
            )
            self._file_header_attrs: dict[str, Any] = (
                dict(root[layout.FILE_HEADER].attrs) if layout.FILE_HEADER in names else {}
            )
        default = v0.default_access_pattern(self.grid.ndim)
        if self.access_pattern in ("", "012", default):  # "012" is MDIOReader's default whatever the grid
            self.access_pattern = default
        else:
            raise AccessPatternNotFoundError(
                f"Access pattern {self.access_pattern!r} does not exist in the v1 dataset {self.url}; "
                f"available: {[default]}."
            )
        if self.new_chunks is not None and len(self.new_chunks) != self.grid.ndim:
            raise ShapeError(f"new_chunks {self.new_chunks} must have {self.grid.ndim} entries.")
        self.header_dtype = standard_names(np.dtype(self._headers_zarr.dtype))
        self._chunk_reader = self._v1_fast_reader(self._traces_zarr)
        self._header_reader = self._v1_fast_reader(self._headers_zarr) if layout.HEADERS in names else None
        self._live_reader = self._v1_fast_reader(self._live_mask_zarr)
        self._traces = self._backend_array(self._traces_zarr, self.new_chunks)
        self._headers = self._backend_array(self._headers_zarr, self.new_chunks[:-1] if self.new_chunks else None)
        self._live_mask = self._backend_array(self._live_mask_zarr, None)
        self._trace_count: int | None = None

    def _v1_fast_reader(self, array: zarr.Array) -> ChunkReader | None:
        """The v0 fast chunk path for a Zarr v3 array stored the way v1 writers store it (regular chunks, '/' keys,
        little-endian bytes under at most one Blosc frame: a Blosc frame decodes the same whatever format wraps it),
        else None (zarr reads it)."""
        meta = array.metadata
        if self.disk_cache or getattr(meta, "zarr_format", None) != 3 or np.dtype(array.dtype).hasobject:
            return None
        codecs = list(getattr(meta, "codecs", ()))
        names = [type(c).__name__ for c in codecs]
        endian = getattr(codecs[0], "endian", None) if codecs else None
        little = str(getattr(endian, "value", endian) or "little") == "little" or np.dtype(array.dtype).itemsize == 1
        if names not in (["BytesCodec"], ["BytesCodec", "BloscCodec"]) or not little:
            return None
        if type(getattr(meta, "chunk_grid", None)).__name__ != "RegularChunkGrid":
            return None
        encoding = getattr(meta, "chunk_key_encoding", None)
        kind = getattr(encoding, "name", None)
        if getattr(encoding, "separator", None) != "/" or kind not in ("default", "v2"):
            return None
        path = f"{array.path}/c" if kind == "default" else str(array.path)  # default keys: c/0/0/0
        with storage_errors(self._location):
            objects = chunk_objects(
                self._location.url, self.storage_options, self._location.is_local, path, getattr(self, "_pin", None)
            )
        if objects is None:
            return None
        reader = ChunkReader(array, objects)
        reader.codec = Blosc() if names[-1] == "BloscCodec" else None
        return reader

    @staticmethod
    def _dimension(root: zarr.Group, names: set[str], name: str, size: int) -> Dimension:
        """A dimension's coordinates: its 1-D coordinate array, else 0..n-1 (unindexed dimensions)."""
        if name in names:
            values = np.asarray(cast(zarr.Array, root[name])[...])
            if values.shape == (size,):
                return Dimension(values, name)
        return Dimension(np.arange(size), name)

    def _empty_headers(self) -> zarr.Array:
        """A zero-filled in-memory header array for v1 datasets stored without headers."""
        shape = tuple(self._traces_zarr.shape[:-1])
        chunks = tuple(self._traces_zarr.chunks[:-1])
        return zarr.create_array(store={}, shape=shape, chunks=chunks, dtype=np.dtype([("trace_seq_num_line", "<i4")]))

    def read_header_region(self, key: tuple[Any, ...], parallel: bool = True) -> npt.NDArray[Any]:
        """Trace headers of a normalised key, fields named as in v0 where a custom v1 spec renamed a standard word
        (a zero-copy view)."""
        return super().read_header_region(key, parallel).view(self.header_dtype)

    # --- what differs from v0 --------------------------------------------------------------------------------
    @property
    def access_patterns(self) -> list[str]:
        """v1 stores one chunking per variable; it is reported as the pattern chunked along every dimension."""
        return [v0.default_access_pattern(self.grid.ndim)]

    @property
    def trace_count(self) -> int:
        """Number of live traces (v1 stores no count: the trace mask is summed once)."""
        if self._trace_count is None:
            with storage_errors(self._location):
                self._trace_count = int(np.count_nonzero(self._live_mask_zarr[...]))
        return self._trace_count

    @trace_count.setter
    def trace_count(self, value: int) -> None:
        self._require_writable()

    @property
    def stats(self) -> dict[str, float]:
        """mean, std, rms, min, max from the data variable's ``statsV1`` (None each when absent)."""
        parsed = layout.parse_stats(self._traces_zarr.attrs.get(layout.ATTR_STATS))
        return {key: (parsed or {}).get(key) for key in v0.STAT_KEYS}  # type: ignore[misc]

    @stats.setter
    def stats(self, value: Any) -> None:
        self._require_writable()

    @property
    def text_header(self) -> list[str]:
        text = self._file_header_attrs.get(layout.ATTR_TEXT_HEADER)
        return [line.ljust(80)[:80] for line in str(text).splitlines()] if text else []

    @text_header.setter
    def text_header(self, value: Any) -> None:
        self._require_writable()

    @property
    def binary_header(self) -> dict[str, Any]:
        return dict(self._file_header_attrs.get(layout.ATTR_BINARY_HEADER) or {})

    @binary_header.setter
    def binary_header(self, value: Any) -> None:
        self._require_writable()

    @property
    def metadata_attrs(self) -> dict[str, Any]:
        return {v0.ATTR_TEXT_HEADER: self.text_header, v0.ATTR_BINARY_HEADER: self.binary_header}


def standard_names(dtype: np.dtype) -> np.dtype:
    """``dtype`` with fields renamed to v0's standard names where a v1 spec used an alias (``offset`` for the word at
    byte 37), so exports and v0 tools find every word (a zero-copy view; unknown names stay as they are).

    Names, not offsets: multidimio 1.x packs the header dtype without gaps and moves customised fields, so a
    field's offset in the record is not its byte position in the SEG-Y header.
    """
    fields: dict[str, Any] = dict(dtype.fields or {})
    names = [n if n in (TRACE_HEADER_DTYPE.names or ()) or layout.HEADER_ALIASES.get(n) in fields else
             layout.HEADER_ALIASES.get(n, n) for n in fields]  # fmt: skip
    if names == list(fields) or len(set(names)) != len(names):
        return dtype
    formats = [fields[n][0] for n in fields]
    offsets = [fields[n][1] for n in fields]
    return np.dtype({"names": names, "formats": formats, "offsets": offsets, "itemsize": dtype.itemsize})


def _dimension_names(array: zarr.Array) -> tuple[str, ...]:
    """Dimension names of a v1 array (Zarr v3 metadata, or xarray's ``_ARRAY_DIMENSIONS`` in Zarr v2)."""
    names = cast(Any, getattr(array.metadata, "dimension_names", None) or array.attrs.get("_ARRAY_DIMENSIONS"))
    if not names or len(names) != array.ndim:
        raise MDIOFormatError(f"The v1 array {array.path!r} does not name its dimensions.")
    return tuple(str(n) for n in cast(list[Any], names))
