"""Checks, at open, that a dataset's stored metadata agrees with itself, so metadata that lies fails at once.

A hand-edited or corrupted ``.zarray`` or ``.zattrs`` (chunks 0 or negative, a shape that disagrees with the
dimension coordinates or with the live mask, a dimension list that is not one, a chunk of hundreds of GiB) would
otherwise surface later as a ZeroDivisionError, a MemoryError or a broadcast error deep in a read, or as a
picture read from gigabytes of fill values. Here each becomes an :class:`MDIOFormatError` naming the dataset,
the array and what disagrees.

Only the metadata that opening already holds is looked at (the root attributes and the three arrays' shapes,
chunks and dtypes, from the consolidated record on object stores): no extra request, no chunk read.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from numbers import Real
from typing import Any

import numpy as np
import zarr

from mdio_catalog.core import layout
from mdio_catalog.core.grid import Grid
from mdio_catalog.core.serialization import require_strict_json
from mdio_catalog.exceptions import MDIOError, MDIOFormatError
from mdio_catalog.specs.limits import SPEC_ITEMSIZE, chunk_size_problem


@contextlib.contextmanager
def malformed_metadata(url: str, what: str) -> Iterator[None]:
    """Turn what zarr or numpy raise on malformed metadata (a negative shape, a shape and chunks of different
    lengths, a dimension list that is not one) into :class:`MDIOFormatError`; our own errors pass unchanged."""
    try:
        yield
    except MDIOError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as exc:
        raise MDIOFormatError(f"{url}: malformed metadata of {what}: {exc}.") from None


def read_grid(root: zarr.Group, url: str) -> Grid:
    """The dataset's grid from its ``dimension`` attribute: at least two dimensions, numeric finite coordinates."""
    with malformed_metadata(url, f"the {layout.ATTR_DIMENSION!r} attribute"):
        attrs = root.attrs[layout.ATTR_DIMENSION]
        if not isinstance(attrs, list) or not all(isinstance(d, Mapping) for d in attrs):
            raise MDIOFormatError(
                f"{url}: the {layout.ATTR_DIMENSION!r} attribute must be a list of {{name, coords}} objects, "
                f"got {type(attrs).__name__}."
            )
        try:
            grid = Grid.from_attrs(attrs)
        except (MDIOError, ValueError) as exc:  # a missing name, coordinates that are not a vector, ...
            raise MDIOFormatError(f"{url}: malformed {layout.ATTR_DIMENSION!r} attribute: {exc}") from None
    if grid.ndim < 2:
        raise MDIOFormatError(f"{url}: an MDIO dataset has at least two dimensions, found {list(grid.dim_names)}.")
    for dim in grid.dims:
        values = dim.values
        if values.size and values.dtype.kind not in "iuf":
            raise MDIOFormatError(
                f"{url}: the coordinates of dimension {dim.name!r} must be numbers, found {values.dtype} values "
                f"such as {values[0]!r}."
            )
        if values.dtype.kind == "f" and not bool(np.isfinite(values).all()):
            raise MDIOFormatError(f"{url}: dimension {dim.name!r} has a non-finite coordinate (NaN or infinity).")
    return grid


def check_arrays(url: str, grid: Grid, traces: zarr.Array, headers: zarr.Array, live_mask: zarr.Array) -> None:
    """The trace array has the grid's shape, the headers and live mask its shape without the sample axis; every
    chunk has positive sides and a size within ``MDIO_CATALOG_MAX_CHUNK_MIB``."""
    expected = {
        "trace array": (traces, grid.shape, traces.dtype.itemsize),
        "trace headers": (headers, grid.spatial_shape, SPEC_ITEMSIZE),
        "live mask": (live_mask, grid.spatial_shape, live_mask.dtype.itemsize),
    }
    for what, (array, shape, itemsize) in expected.items():
        name = f"{what} {array.path!r}"
        with malformed_metadata(url, name):
            found, chunks = tuple(int(n) for n in array.shape), tuple(int(c) for c in array.chunks)
        if found != tuple(shape):
            raise MDIOFormatError(
                f"{url}: the {name} has shape {found}, but the dimension coordinates give {tuple(shape)} "
                f"({', '.join(f'{d.name}={d.size}' for d in grid.dims)}): the metadata disagree."
            )
        if len(chunks) != len(found) or any(c < 1 for c in chunks):
            raise MDIOFormatError(f"{url}: the {name} has chunks {chunks}; each must be a positive size per axis.")
        problem = chunk_size_problem(chunks, itemsize)
        if problem is not None:
            raise MDIOFormatError(f"{url}: the {name} has a {problem}.")


def check_statistics(root: zarr.Group, url: str) -> None:
    """The statistics attributes, where present, are numbers (NaN written by older versions still opens)."""
    for key in layout.STAT_KEYS:
        value = root.attrs.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, Real)):
            raise MDIOFormatError(f"{url}: the statistics attribute {key!r} must be a number, found {value!r}.")


def check_dataset(root: zarr.Group, url: str, grid: Grid, arrays: tuple[zarr.Array, zarr.Array, zarr.Array]) -> None:
    """Every check above, for an open dataset (what :class:`MDIOAccessor` calls once its arrays are open)."""
    check_arrays(url, grid, *arrays)
    check_statistics(root, url)


def check_attributes(values: Mapping[str, Any], url: str) -> None:
    """Attributes about to be stored are strict JSON (no NaN or infinity): a :class:`SerializationError`."""
    require_strict_json(dict(values), f"The attributes written to {url}")
