"""Creating empty MDIO datasets: the variable/dataset configurations and the functions that lay out the store."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import zarr

from mdio_catalog.core import layout
from mdio_catalog.core.chunks import header_chunks, live_mask_chunks, validate_chunks
from mdio_catalog.core.compressors import lossless_compressor
from mdio_catalog.core.grid import Grid
from mdio_catalog.core.headers import TRACE_HEADER_DTYPE, V0_BINARY_HEADER_KEYS
from mdio_catalog.core.nodes import get_array, get_group
from mdio_catalog.core.statistics import empty_stats
from mdio_catalog.core.store import Location, open_root, open_store, refuse_existing, remove, storage_errors
from mdio_catalog.exceptions import AccessPatternError, ShapeError
from mdio_catalog.version import API_VERSION

DEFAULT_TEXT_HEADER: tuple[str, ...] = tuple(
    f"C{i:02d} {'Created by mdio_catalog' if i == 1 else ''}".ljust(80) for i in range(1, 41)
)


@dataclass
class MDIOVariableConfig:
    """One trace variable: its name (``chunked_<pattern>``), dtype, chunks, compressors and header dtype."""

    name: str
    dtype: str
    chunks: tuple[int, ...] | None = None
    compressors: Any = None
    header_dtype: npt.DTypeLike | None = None


@dataclass
class MDIOCreateConfig:
    """A dataset to create: where, on which grid, with which variables."""

    path: str
    grid: Grid
    variables: list[MDIOVariableConfig] = field(default_factory=list)


def _compressor_list(compressors: Any) -> Any:
    """The variable's compressors as zarr's ``compressors=`` wants them ("auto" and None mean Blosc/zstd)."""
    if compressors is None or compressors == "auto":
        return lossless_compressor()
    if isinstance(compressors, list | tuple):
        if len(compressors) > 1:
            raise ShapeError("Zarr format 2 arrays take a single compressor; got several.")
        return compressors[0] if compressors else None
    return compressors


def _first_dtype(config: MDIOCreateConfig) -> np.dtype:
    return np.dtype(config.variables[0].dtype) if config.variables else np.dtype("float32")


def default_binary_header(grid: Grid, dtype: npt.DTypeLike = "float32") -> dict[str, int]:
    """A binary header for data that did not come from SEG-Y, so that it can still be exported.

    Every v0 key is present (the reference's exporter needs them); the sample count comes from the grid, the
    interval from the sample coordinates (ms -> µs) when they are evenly spaced integers of microseconds, the
    format is IEEE float (5) for float data and the revision is 1.
    """
    header = dict.fromkeys(V0_BINARY_HEADER_KEYS, 0)
    samples = grid.dims[-1].values
    header["samples_per_trace"] = int(samples.size) if samples.size <= np.iinfo(np.int16).max else 0
    if samples.size > 1:
        steps = np.diff(samples.astype(np.float64)) * 1000.0
        interval = float(steps[0])
        if np.allclose(steps, interval) and interval.is_integer() and 0 < interval <= np.iinfo(np.int16).max:
            header["sample_interval"] = int(interval)
    header["data_sample_format"] = 5 if np.dtype(dtype).kind == "f" else 0
    header["segy_revision_major"] = 1
    return header


def root_attributes(grid: Grid, stats: Mapping[str, float] | None = None, trace_count: int = 0) -> dict[str, Any]:
    """The root attributes of a fresh dataset."""
    return {
        layout.ATTR_API_VERSION: API_VERSION,
        layout.ATTR_CREATED: datetime.now(UTC).isoformat(),
        layout.ATTR_DIMENSION: grid.to_attrs(),
        layout.ATTR_TRACE_COUNT: int(trace_count),
        **(dict(stats) if stats is not None else empty_stats()),
    }


def create_variable(
    root: zarr.Group, grid: Grid, variable: MDIOVariableConfig, overwrite: bool = False
) -> tuple[zarr.Array, zarr.Array]:
    """Create the trace array of ``variable`` and its trace-header array; return both."""
    # No chunks given: zarr's own guess, as the reference gets (one chunk of the whole grid could be gigabytes).
    chunks: tuple[int, ...] | Literal["auto"] = (
        validate_chunks(variable.chunks, grid.shape, what=f"chunks of {variable.name}") if variable.chunks else "auto"
    )
    if not layout.is_valid_access_pattern(variable.name):
        raise AccessPatternError(f"Variable name {variable.name!r} must be letters, digits or underscores.")
    data = root.require_group(layout.DATA_GROUP).create_array(
        name=variable.name,
        shape=grid.shape,
        dtype=np.dtype(variable.dtype),
        chunks=chunks,
        compressors=_compressor_list(variable.compressors),
        fill_value=0,
        chunk_key_encoding=layout.CHUNK_KEY_ENCODING,
        overwrite=overwrite,
    )
    header_dtype = np.dtype(variable.header_dtype) if variable.header_dtype is not None else TRACE_HEADER_DTYPE
    headers = root.require_group(layout.METADATA_GROUP).create_array(
        name=f"{variable.name}{layout.HEADER_SUFFIX}",
        shape=grid.spatial_shape,
        dtype=header_dtype,
        chunks=header_chunks(data.chunks),
        compressors=lossless_compressor(),
        fill_value=np.zeros(1, header_dtype)[0],  # all-zero header bytes, as the reference writes
        chunk_key_encoding=layout.CHUNK_KEY_ENCODING,
        overwrite=overwrite,
    )
    return data, headers


def create_empty(
    config: MDIOCreateConfig,
    overwrite: bool = False,
    storage_options: dict[str, Any] | None = None,
    consolidate_meta: bool = True,
) -> zarr.Group:
    """Lay out an empty MDIO dataset (groups, arrays, zeroed statistics, an all-dead live mask).

    It is up to the caller to fill traces, headers, the live mask, statistics and trace count afterwards.
    With ``overwrite=False`` an existing target is refused and left untouched.
    """
    location = Location.of(config.path, storage_options)
    refuse_existing(location, overwrite)
    _check_config(config)  # before anything is removed: a bad config must not cost the existing dataset
    if overwrite:
        remove(location)
    return _create_hierarchy(location, config, consolidate_meta)


def _check_config(config: MDIOCreateConfig) -> None:
    """Raise the errors ``_create_hierarchy`` would raise about the config itself, without touching storage."""
    grid = config.grid
    if grid.ndim < 2:
        raise ShapeError(f"An MDIO grid needs at least 2 dimensions (traces and samples), got {grid.ndim}.")
    for variable in config.variables:
        if variable.chunks:
            validate_chunks(variable.chunks, grid.shape, what=f"chunks of {variable.name}")
        if not layout.is_valid_access_pattern(variable.name):
            raise AccessPatternError(f"Variable name {variable.name!r} must be letters, digits or underscores.")
        _compressor_list(variable.compressors)


def _create_hierarchy(location: Location, config: MDIOCreateConfig, consolidate_meta: bool = True) -> zarr.Group:
    grid = config.grid
    if grid.ndim < 2:
        raise ShapeError(f"An MDIO grid needs at least 2 dimensions (traces and samples), got {grid.ndim}.")
    store = open_store(location, read_only=False)
    with storage_errors(location):
        root = zarr.open_group(store, mode="w", zarr_format=layout.ZARR_FORMAT)
        root.attrs.update(root_attributes(grid))
        root.create_group(layout.DATA_GROUP)
        meta = root.create_group(layout.METADATA_GROUP)
        meta.attrs.update(
            {
                layout.ATTR_TEXT_HEADER: list(DEFAULT_TEXT_HEADER),
                layout.ATTR_BINARY_HEADER: default_binary_header(grid, _first_dtype(config)),
            }
        )
        for variable in config.variables:
            create_variable(root, grid, variable)
        meta.create_array(
            name=layout.LIVE_MASK,
            shape=grid.spatial_shape,
            dtype=bool,
            chunks=live_mask_chunks(grid.spatial_shape),
            compressors=lossless_compressor(),
            fill_value=False,
            chunk_key_encoding=layout.CHUNK_KEY_ENCODING,
        )
        if consolidate_meta:
            zarr.consolidate_metadata(store)
    return root


def variables_of(root: zarr.Group) -> list[MDIOVariableConfig]:
    """The trace variables of an opened dataset, as configs that recreate them."""
    configs = []
    data_group = get_group(root, layout.DATA_GROUP)
    meta_group = get_group(root, layout.METADATA_GROUP)
    for name in sorted(data_group.array_keys()):
        if layout.access_pattern_of(name) is None:
            continue
        array = get_array(data_group, name)
        header_name = f"{name}{layout.HEADER_SUFFIX}"
        header_array = meta_group.get(header_name)
        header_dtype = header_array.dtype if isinstance(header_array, zarr.Array) else None
        compressors: Iterable[Any] = array.compressors
        configs.append(
            MDIOVariableConfig(
                name=name,
                dtype=str(array.dtype),
                chunks=tuple(array.chunks),
                compressors=next(iter(compressors)) if compressors else None,
                header_dtype=header_dtype,
            )
        )
    return configs


def create_empty_like(
    source_path: str,
    dest_path: str,
    overwrite: bool = False,
    storage_options_input: dict[str, Any] | None = None,
    storage_options_output: dict[str, Any] | None = None,
) -> None:
    """Create an empty dataset shaped like ``source_path``: same grid, variables, chunks, compressors and
    text/binary headers; statistics zeroed, live mask all dead, trace count 0."""
    source = open_root(Location.of(source_path, storage_options_input))
    grid = Grid.from_zarr(source)
    config = MDIOCreateConfig(path=dest_path, grid=grid, variables=variables_of(source))
    root = create_empty(config, overwrite=overwrite, storage_options=storage_options_output, consolidate_meta=False)
    source_meta = source[layout.METADATA_GROUP]
    meta = root[layout.METADATA_GROUP]
    with storage_errors(dest_path):
        meta.attrs.update(
            {
                layout.ATTR_TEXT_HEADER: source_meta.attrs.get(layout.ATTR_TEXT_HEADER, list(DEFAULT_TEXT_HEADER)),
                layout.ATTR_BINARY_HEADER: source_meta.attrs.get(layout.ATTR_BINARY_HEADER, {}),
            }
        )
        zarr.consolidate_metadata(root.store)
