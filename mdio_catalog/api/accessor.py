"""MDIO accessors: open a dataset once, then slice it like a numpy array.

``MDIOReader`` is read-only, ``MDIOWriter`` may modify traces, headers, the live mask and the attributes.
Slicing returns trace samples, or ``(live_mask, headers, traces)`` with ``return_metadata=True``; the metadata is
the same key without the sample axis.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import zarr

from mdio_catalog.api import integrity
from mdio_catalog.api.indexing import normalize_key, read_orthogonal, write_orthogonal
from mdio_catalog.core import layout
from mdio_catalog.core.chunkfetch import chunk_objects
from mdio_catalog.core.chunkio import ChunkReader
from mdio_catalog.core.nodes import get_array, get_group
from mdio_catalog.core.pin import DatasetPin
from mdio_catalog.core.store import Location, open_root, storage_errors
from mdio_catalog.exceptions import (
    AccessPatternError,
    AccessPatternNotFoundError,
    CoordinateNotFoundError,
    InvalidBackendError,
    InvalidModeError,
    MDIOFormatError,
    MDIONotFoundError,
    MDIOReadOnlyError,
    ShapeError,
    did_you_mean,
)

MODES = ("r", "r+", "w")
BACKENDS = ("zarr", "dask")
TEXT_HEADER_LINES = 40
TEXT_HEADER_WIDTH = 80


def _index_dtype(size: int) -> np.dtype:
    """uint16 like the reference's examples, widened when a dimension is too long for it."""
    for dtype in (np.uint16, np.uint32):
        if size <= np.iinfo(dtype).max + 1:
            return np.dtype(dtype)
    return np.dtype(np.uint64)


class MDIOAccessor:
    """Read or write an MDIO dataset with a given access pattern and backend.

    Parameters mirror the reference: ``mode`` in {'r', 'r+', 'w'}; ``access_pattern`` such as '012';
    ``storage_options`` for fsspec; ``return_metadata`` to also get the live mask and headers; ``new_chunks``
    for the dask backend; ``backend`` in {'zarr', 'dask'}; ``disk_cache`` for fsspec's simplecache.
    """

    def __init__(
        self,
        mdio_path_or_buffer: str | os.PathLike[str],
        mode: str,
        access_pattern: str,
        storage_options: dict[str, Any] | None,
        return_metadata: bool,
        new_chunks: tuple[int, ...] | None,
        backend: str,
        disk_cache: bool,
    ) -> None:
        if mode not in MODES:
            raise InvalidModeError(f"Invalid mode {mode!r}; use one of {MODES} ('r' reads, 'r+'/'w' also write).")
        if backend not in BACKENDS:
            raise InvalidBackendError(f"Invalid backend {backend!r}{did_you_mean(backend, BACKENDS)}; use {BACKENDS}.")
        access_pattern = str(access_pattern)
        if not layout.is_valid_access_pattern(access_pattern):
            raise AccessPatternError(f"Invalid access pattern {access_pattern!r}: use letters, digits, underscores.")
        if disk_cache and mode != "r":
            warnings.warn("disk_cache only applies to reads; ignored in write modes.", stacklevel=3)
            disk_cache = False

        self.url = os.fspath(mdio_path_or_buffer)
        self.mode = mode
        self.access_pattern = access_pattern
        self.storage_options = dict(storage_options or {})
        self.return_metadata = return_metadata
        self.new_chunks = tuple(new_chunks) if new_chunks is not None else None
        self.backend = backend
        self.disk_cache = disk_cache
        self._location = Location.of(self.url, self.storage_options)
        # Reads of a local dataset pin the folder its metadata comes from (see core/pin.py).
        pinned = mode == "r" and self._location.is_local and not disk_cache
        self._pin = DatasetPin.try_open(self._location.url) if pinned else None

        try:
            self.root = open_root(self._location, mode=mode, disk_cache=disk_cache)
            self._validate_root()
        except (MDIONotFoundError, MDIOFormatError):
            from mdio_catalog.v1.reader import adopt  # not v0: a v1 store (multidimio 1.x) becomes a V1Reader

            if adopt(self):
                return
            raise
        self.grid = integrity.read_grid(self.root, self.url)
        with integrity.malformed_metadata(self.url, "the arrays"):
            self._traces_zarr, self._headers_zarr = self._open_variable(access_pattern)
        self._live_mask_zarr = self._array(layout.live_mask_path())
        integrity.check_dataset(
            self.root, self.url, self.grid, (self._traces_zarr, self._headers_zarr, self._live_mask_zarr)
        )
        if self._pin is not None and not self._pin.unmoved():
            # A rebuild or a rollback was published while the metadata was read: open again, on the version now in
            # place (moved and back again counts too: the metadata may have come from the other version).
            MDIOAccessor.__init__(
                self,
                mdio_path_or_buffer,
                mode,
                access_pattern,
                storage_options,
                return_metadata,
                new_chunks,
                backend,
                disk_cache,
            )
            return
        if self.new_chunks is not None and len(self.new_chunks) != self.grid.ndim:
            raise ShapeError(f"new_chunks {self.new_chunks} must have {self.grid.ndim} entries.")
        self._chunk_reader = self._fast_reader(self._traces_zarr, layout.data_array_path(access_pattern))
        self._header_reader = self._fast_reader(self._headers_zarr, layout.header_array_path(access_pattern))
        self._live_reader = self._fast_reader(self._live_mask_zarr, layout.live_mask_path())
        self._traces = self._backend_array(self._traces_zarr, self.new_chunks)
        self._headers = self._backend_array(self._headers_zarr, self.new_chunks[:-1] if self.new_chunks else None)
        self._live_mask = self._backend_array(self._live_mask_zarr, None)

    # --- opening -----------------------------------------------------------------------------------------------
    def _validate_root(self) -> None:
        attrs = self.root.attrs
        missing = [k for k in (layout.ATTR_DIMENSION,) if k not in attrs]
        if missing or layout.DATA_GROUP not in self.root or layout.METADATA_GROUP not in self.root:
            raise MDIOFormatError(
                f"{self.url} is a Zarr group but not an MDIO dataset (missing {missing or 'data/metadata groups'})."
            )

    def _fast_reader(self, array: zarr.Array, path: str) -> ChunkReader | None:
        """Our chunk reader for ``array`` (local files or object-store chunks), None where zarr must read it."""
        if self.disk_cache:  # simplecache serves repeated reads from local disk through zarr
            return None
        with storage_errors(self._location):
            objects = chunk_objects(self._location.url, self.storage_options, self._location.is_local, path, self._pin)
        return ChunkReader.for_array(array, objects)

    def _array(self, path: str) -> zarr.Array:
        with storage_errors(self._location), integrity.malformed_metadata(self.url, repr(path)):
            return get_array(self.root, path)

    @property
    def access_patterns(self) -> list[str]:
        """Every access pattern stored in the dataset ('012', 'fast_il', ...)."""
        group = get_group(self.root, layout.DATA_GROUP)
        patterns = (layout.access_pattern_of(name) for name in group.array_keys())
        return sorted(p for p in patterns if p is not None)

    def _open_variable(self, access_pattern: str) -> tuple[zarr.Array, zarr.Array]:
        available = self.access_patterns
        if access_pattern not in available:
            raise AccessPatternNotFoundError(
                f"Access pattern {access_pattern!r} does not exist in {self.url}"
                f"{did_you_mean(access_pattern, available)}; available: {available}."
            )
        return self._array(layout.data_array_path(access_pattern)), self._array(
            layout.header_array_path(access_pattern)
        )

    def _backend_array(self, array: zarr.Array, chunks: Sequence[int] | None) -> Any:
        if self.backend == "zarr":
            return array
        import dask.array as da

        return da.from_zarr(array, chunks=tuple(chunks) if chunks else array.chunks)

    # --- reading and writing ---------------------------------------------------------------------------------
    def __getitem__(self, item: Any) -> Any:
        key = normalize_key(item, self.shape, self.grid.dim_names)
        with storage_errors(self._location):
            traces = self.read_region(key) if self.backend == "zarr" else read_orthogonal(self._traces, key)
            if not self.return_metadata:
                return traces
            meta_key = key[:-1]
            if self.backend == "zarr":
                live = self._read_fast(self._live_reader, self._live_mask_zarr, meta_key)
                headers = self.read_header_region(meta_key)
            else:
                live = self._materialise(read_orthogonal(self._live_mask, meta_key))
                headers = self._materialise(read_orthogonal(self._headers, meta_key))
        return live, headers, traces

    def _materialise(self, value: Any) -> Any:
        """Dask results stay lazy (the user decides when to compute), zarr results are numpy already."""
        return value

    @staticmethod
    def _read_fast(
        reader: ChunkReader | None, array: zarr.Array, key: tuple[Any, ...], parallel: bool = True
    ) -> npt.NDArray[Any]:
        if reader is not None and ChunkReader.supports(key):
            return reader.read(key, parallel=parallel)
        return np.asarray(read_orthogonal(array, key))

    def read_region(self, key: tuple[Any, ...], parallel: bool = True) -> npt.NDArray[Any]:
        """Trace samples of a normalised key as numpy: straight from the chunk objects (local files, or S3/GCS with
        many requests in flight), decoded in parallel (``parallel=False`` for callers that parallelise
        themselves), else through zarr."""
        return self._read_fast(self._chunk_reader, self._traces_zarr, key, parallel)

    def read_header_region(self, key: tuple[Any, ...], parallel: bool = True) -> npt.NDArray[Any]:
        """Trace headers of a normalised key without the sample axis (same fast path as :meth:`read_region`)."""
        return self._read_fast(self._header_reader, self._headers_zarr, key, parallel)

    def __setitem__(self, key: Any, value: npt.ArrayLike) -> None:
        self._require_writable()
        norm = normalize_key(key, self.shape, self.grid.dim_names)
        with storage_errors(self._location):
            write_orthogonal(self._traces_zarr, norm, value)

    def _require_writable(self) -> None:
        if self.mode == "r":
            raise MDIOReadOnlyError(f"{self.url} is open read-only; use MDIOWriter (mode 'r+' or 'w') to modify it.")

    # --- coordinates ---------------------------------------------------------------------------------------------
    def coord_to_index(
        self, *args: Any, dimensions: str | list[str] | None = None
    ) -> tuple[npt.NDArray[np.unsignedinteger[Any]], ...] | npt.NDArray[np.unsignedinteger[Any]]:
        """Convert coordinate labels into zero-based indices, one query per dimension.

        ``dimensions`` names the dimensions queried (all of them, in order, when omitted). One dimension returns
        an array, several return a tuple of arrays.
        """
        if dimensions is None:
            dims = list(self.grid.dims)
        else:
            names = [dimensions] if isinstance(dimensions, str) else list(dimensions)
            dims = [self.grid.select_dim(name) for name in names]
        if len(args) != len(dims):
            raise ShapeError(
                f"Got {len(args)} queries for {len(dims)} dimensions {[d.name for d in dims]}; "
                "give one query per dimension."
            )
        results = []
        for query, dim in zip(args, dims, strict=True):
            wanted = np.atleast_1d(np.asarray(query))
            coords = dim.values
            order = np.argsort(coords, kind="stable")
            pos = np.searchsorted(coords, wanted, sorter=order)
            pos = np.clip(pos, 0, max(coords.size - 1, 0))
            found = order[pos] if coords.size else pos
            ok = coords.size > 0 and np.asarray(coords[found] == wanted)
            if not np.all(ok):
                missing = wanted[~np.asarray(ok, dtype=bool)] if coords.size else wanted
                raise CoordinateNotFoundError(
                    f"Coordinate(s) {missing.tolist()[:10]} not found in dimension {dim.name!r} "
                    f"(range {dim.min().item() if coords.size else None}..{dim.max().item() if coords.size else None},"
                    f" {coords.size} values)."
                )
            results.append(found.astype(_index_dtype(coords.size)))
        return results[0] if len(results) == 1 else tuple(results)

    # --- properties ----------------------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the trace array (sample axis last)."""
        return tuple(self._traces_zarr.shape)

    @property
    def n_dim(self) -> int:
        return len(self.shape)

    @property
    def chunks(self) -> tuple[int, ...]:
        """Chunk shape of the trace array (the dask chunks when ``new_chunks`` was given)."""
        if self.backend == "dask":
            return tuple(c[0] if c else 0 for c in self._traces.chunks)
        return tuple(self._traces_zarr.chunks)

    @property
    def dtype(self) -> np.dtype:
        return self._traces_zarr.dtype

    @property
    def trace_count(self) -> int:
        """Number of live traces."""
        return int(cast(int, self.root.attrs.get(layout.ATTR_TRACE_COUNT, 0) or 0))

    @trace_count.setter
    def trace_count(self, value: int) -> None:
        self._set_root_attrs({layout.ATTR_TRACE_COUNT: int(value)})

    @property
    def stats(self) -> dict[str, float]:
        """Global statistics: mean, std, rms, min, max."""
        return {key: cast(float, self.root.attrs.get(key)) for key in layout.STAT_KEYS}

    @stats.setter
    def stats(self, value: Mapping[str, float]) -> None:
        unknown = set(value) - set(layout.STAT_KEYS)
        if unknown:
            raise ShapeError(f"Unknown statistics {sorted(unknown)}; expected keys {list(layout.STAT_KEYS)}.")
        self._set_root_attrs({k: float(v) for k, v in value.items()})

    @property
    def text_header(self) -> list[str]:
        """The 40 lines of the SEG-Y textual header."""
        return list(cast(list[str], self._metadata_group.attrs.get(layout.ATTR_TEXT_HEADER, [])))

    @text_header.setter
    def text_header(self, value: Sequence[str]) -> None:
        lines = list(value)
        if len(lines) != TEXT_HEADER_LINES or any(len(line) > TEXT_HEADER_WIDTH for line in lines):
            raise ShapeError(
                f"A text header is {TEXT_HEADER_LINES} lines of at most {TEXT_HEADER_WIDTH} characters; "
                f"got {len(lines)} lines, longest {max((len(x) for x in lines), default=0)}."
            )
        self._set_metadata_attrs({layout.ATTR_TEXT_HEADER: [line.ljust(TEXT_HEADER_WIDTH) for line in lines]})

    @property
    def binary_header(self) -> dict[str, Any]:
        """The SEG-Y binary header fields."""
        return dict(cast(dict[str, Any], self._metadata_group.attrs.get(layout.ATTR_BINARY_HEADER, {})))

    @binary_header.setter
    def binary_header(self, value: Mapping[str, Any]) -> None:
        self._set_metadata_attrs({layout.ATTR_BINARY_HEADER: dict(value)})

    @property
    def live_mask(self) -> Any:
        """Boolean mask of live traces (zarr array, or dask array with the dask backend)."""
        return self._live_mask

    @live_mask.setter
    def live_mask(self, value: npt.ArrayLike) -> None:
        self._require_writable()
        mask = np.asarray(value, dtype=bool)
        if mask.shape != self.grid.spatial_shape:
            raise ShapeError(f"Live mask must have shape {self.grid.spatial_shape}, got {mask.shape}.")
        with storage_errors(self._location):
            self._live_mask_zarr[...] = mask

    @property
    def trace_array(self) -> zarr.Array:
        """The zarr array of trace samples of the open access pattern (for chunk-aware readers and writers)."""
        return self._traces_zarr

    @property
    def header_array(self) -> zarr.Array:
        """The zarr array of trace headers of the open access pattern."""
        return self._headers_zarr

    @property
    def live_mask_array(self) -> zarr.Array:
        """The zarr array of the live mask."""
        return self._live_mask_zarr

    @property
    def metadata_attrs(self) -> dict[str, Any]:
        """All attributes of the metadata group (text and binary headers, and our own provenance)."""
        return dict(self._metadata_group.attrs)

    @property
    def _metadata_group(self) -> zarr.Group:
        return get_group(self.root, layout.METADATA_GROUP)

    def set_root_attributes(self, values: Mapping[str, Any]) -> None:
        """Add or replace root attributes (JSON values) and re-consolidate the metadata (writers only)."""
        self._set_root_attrs(values)

    def _set_root_attrs(self, values: Mapping[str, Any]) -> None:
        self._require_writable()
        integrity.check_attributes(values, self.url)
        with storage_errors(self._location):
            self.root.attrs.update(dict(values))
            zarr.consolidate_metadata(self.root.store)

    def _set_metadata_attrs(self, values: Mapping[str, Any]) -> None:
        self._require_writable()
        integrity.check_attributes(values, self.url)
        with storage_errors(self._location):
            self._metadata_group.attrs.update(dict(values))
            zarr.consolidate_metadata(self.root.store)

    def to_xarray(self, **options: Any) -> Any:
        """A lazy ``xarray.Dataset`` view of this dataset (see :func:`mdio_catalog.api.xarray_view.to_xarray`)."""
        from mdio_catalog.api.xarray_view import to_xarray

        return to_xarray(self, **options)

    def __repr__(self) -> str:
        dims = ", ".join(f"{d.name}={d.size}" for d in self.grid.dims)
        return (
            f"{type(self).__name__}({self.url!r}, access_pattern={self.access_pattern!r}, {dims}, "
            f"chunks={self.chunks}, traces={self.trace_count})"
        )


class MDIOReader(MDIOAccessor):
    """Read-only accessor for MDIO datasets (see :class:`MDIOAccessor`)."""

    def __init__(
        self,
        mdio_path_or_buffer: str | os.PathLike[str],
        access_pattern: str = "012",
        storage_options: dict[str, Any] | None = None,
        return_metadata: bool = False,
        new_chunks: tuple[int, ...] | None = None,
        backend: str = "zarr",
        disk_cache: bool = False,
    ) -> None:
        super().__init__(
            mdio_path_or_buffer,
            "r",
            access_pattern,
            storage_options,
            return_metadata,
            new_chunks,
            backend,
            disk_cache,
        )


class MDIOWriter(MDIOAccessor):
    """Writable accessor for MDIO datasets (see :class:`MDIOAccessor`); opens in mode 'r+'."""

    def __init__(
        self,
        mdio_path_or_buffer: str | os.PathLike[str],
        access_pattern: str = "012",
        storage_options: dict[str, Any] | None = None,
        return_metadata: bool = False,
        new_chunks: tuple[int, ...] | None = None,
        backend: str = "zarr",
        disk_cache: bool = False,
    ) -> None:
        super().__init__(
            mdio_path_or_buffer,
            "r+",
            access_pattern,
            storage_options,
            return_metadata,
            new_chunks,
            backend,
            disk_cache,
        )
