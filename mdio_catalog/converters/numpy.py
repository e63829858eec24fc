"""numpy_to_mdio: write an in-memory array as a complete MDIO dataset (every cell live)."""

from __future__ import annotations

import zipfile
from collections.abc import Mapping, Sequence
from typing import IO, Any

import numpy as np
import numpy.typing as npt
import zarr

from mdio_catalog.core import layout
from mdio_catalog.core.chunks import validate_chunks
from mdio_catalog.core.compressors import trace_compressor
from mdio_catalog.core.factory import MDIOCreateConfig, MDIOVariableConfig, _create_hierarchy
from mdio_catalog.core.grid import Grid
from mdio_catalog.core.nodes import get_array
from mdio_catalog.core.statistics import SummaryStatistics
from mdio_catalog.core.store import Location, staged_write, storage_errors
from mdio_catalog.exceptions import MDIOError, NumpySourceError, ShapeError
from mdio_catalog.localfile import check_output_name


def default_index_names(ndim: int) -> list[str]:
    """dim_0, dim_1, ..., with the last dimension called 'sample'."""
    return [*(f"dim_{i}" for i in range(ndim - 1)), layout.SAMPLE_DIM]


def build_grid(
    shape: Sequence[int], index_names: Sequence[str] | None, index_coords: Mapping[str, npt.ArrayLike] | None
) -> Grid:
    """The grid of an array: names (default dim_i/sample) and coordinates (default 0..n-1), checked."""
    ndim = len(shape)
    names = list(index_names) if index_names is not None else default_index_names(ndim)
    if len(names) != ndim:
        raise ShapeError(f"index_names {names} has {len(names)} entries for an array with {ndim} dimensions.")
    coords: dict[str, Any] = {}
    if index_coords is not None:
        unknown = sorted(set(index_coords) - set(names))
        if unknown:
            raise ShapeError(f"index_coords has dimensions {unknown} that are not in index_names {names}.")
        missing = [n for n in names if n not in index_coords]
        if missing:
            raise ShapeError(f"index_coords lacks coordinates for {missing}; give one array per name in {names}.")
        coords = dict(index_coords)
    values = []
    for name, size in zip(names, shape, strict=True):
        vector = np.asarray(coords[name]) if name in coords else np.arange(size)
        if vector.ndim != 1 or vector.size != size:
            raise ShapeError(f"Coordinates of {name!r} have shape {vector.shape}; the array has {size} along it.")
        if vector.dtype.kind in "fc" and not bool(np.isfinite(vector).all()):  # strict JSON attributes, findable
            raise ShapeError(f"Coordinates of {name!r} must be finite numbers; found NaN or infinity.")
        values.append(vector)
    return Grid.from_coords(names, values)


def numpy_to_mdio(
    array: npt.NDArray[Any],
    mdio_path_or_buffer: str,
    chunksize: tuple[int, ...],
    index_names: list[str] | None = None,
    index_coords: dict[str, npt.NDArray[Any]] | None = None,
    header_dtype: npt.DTypeLike | None = None,
    lossless: bool = True,
    compression_tolerance: float = 0.01,
    storage_options: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> None:
    """Write ``array`` as an MDIO dataset with the given chunks, names and coordinates.

    Every cell is marked live and ``trace_count`` is the number of traces (the reference leaves it 0).
    Statistics are over all samples. The dataset is written beside the target and moved into place when
    complete; with ``overwrite=False`` an existing target is refused and left untouched.
    """
    array = np.asarray(array)
    if array.ndim < 2:
        raise ShapeError(f"numpy_to_mdio needs at least 2 dimensions (traces x samples), got {array.ndim}.")
    if array.dtype.hasobject:
        raise ShapeError(f"numpy_to_mdio needs a numeric array, got dtype {array.dtype}.")
    chunks = validate_chunks(chunksize, array.shape, itemsize=array.dtype.itemsize)
    grid = build_grid(array.shape, index_names, index_coords)
    access_pattern = layout.default_access_pattern(array.ndim)
    variable = MDIOVariableConfig(
        name=layout.data_array_name(access_pattern),
        dtype=str(array.dtype),
        chunks=chunks,
        compressors=trace_compressor(lossless, compression_tolerance),
        header_dtype=header_dtype,
    )
    check_output_name(mdio_path_or_buffer)
    target = Location.of(mdio_path_or_buffer, storage_options)
    with staged_write(target, overwrite) as staging:
        root = _create_hierarchy(staging, MDIOCreateConfig(path=staging.url, grid=grid, variables=[variable]), False)
        with storage_errors(staging):
            data = get_array(root, layout.data_array_path(access_pattern))
            stats = SummaryStatistics()
            step = chunks[0]
            for start in range(0, array.shape[0], step):
                block = array[start : start + step]
                data[start : start + step] = block
                stats = stats + SummaryStatistics.of(block, nonzero_only=False)
            get_array(root, layout.live_mask_path())[...] = True
            root.attrs.update({**stats.to_dict(), layout.ATTR_TRACE_COUNT: grid.num_cells})
            zarr.consolidate_metadata(root.store)


def _npy_dtype(handle: IO[bytes], where: str) -> np.dtype[Any]:
    """The dtype in the header of the ``.npy`` stream ``handle`` (only the header is read)."""
    try:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            _, _, dtype = np.lib.format.read_array_header_1_0(handle)
        else:
            _, _, dtype = np.lib.format.read_array_header_2_0(handle)
    except (ValueError, OSError, EOFError, SyntaxError) as exc:
        raise NumpySourceError(f"{where} is not a readable .npy array ({exc}).") from None
    return np.dtype(dtype)


def _refuse_objects(dtype: np.dtype[Any], where: str) -> None:
    if dtype.hasobject:
        raise NumpySourceError(
            f"{where} holds an array of Python objects ({dtype}), which only unpickling could read; pickles are "
            "never loaded (they can run code). Save a numeric array instead, e.g. "
            "np.save(path, array.astype('float32'))."
        )


def check_numpy_file(url: str, storage_options: Mapping[str, Any] | None = None, key: str | None = None) -> None:
    """Refuse, from its headers alone, a ``.npy``/``.npz`` source that cannot be loaded without pickle.

    A local path must be a regular file (a FIFO would block). For a ``.npz`` file the array named ``key`` is
    checked (the only one when ``key`` is None; every one when there are several). Raises
    :class:`NumpySourceError` (or the not-found/not-a-file errors of :mod:`mdio_catalog.localfile`).
    """
    import fsspec

    from mdio_catalog.localfile import check_regular_file, local_path

    path = local_path(url)
    if path is not None:
        check_regular_file(path, "NumPy source")
    try:
        fs, fs_path = fsspec.core.url_to_fs(url, **dict(storage_options or {}))
        with fs.open(fs_path, "rb") as handle:
            magic = handle.read(6)
            handle.seek(0)
            if magic.startswith(b"PK"):
                _check_npz(handle, url, key)
            else:
                _refuse_objects(_npy_dtype(handle, url), url)
    except MDIOError:
        raise
    except FileNotFoundError:
        from mdio_catalog.exceptions import MDIONotFoundError

        raise MDIONotFoundError(f"NumPy source not found: {url}") from None
    except OSError as exc:
        raise NumpySourceError(f"Cannot read the NumPy source {url}: {exc}") from None


def _check_npz(handle: IO[bytes], url: str, key: str | None) -> None:
    try:
        with zipfile.ZipFile(handle) as archive:
            members = [name for name in archive.namelist() if name.endswith(".npy")]
            if key is not None:
                members = [name for name in members if name == f"{key}.npy"]
            for name in members:
                with archive.open(name) as member:
                    _refuse_objects(_npy_dtype(member, f"{url}[{name[:-4]}]"), f"{url}[{name[:-4]}]")
    except MDIOError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise NumpySourceError(f"{url} is not a readable .npz archive ({exc}).") from None
