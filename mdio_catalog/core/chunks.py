"""Chunk-shape choices: defaults per dimensionality and derived chunks for headers and the live mask."""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence

import numpy as np

from mdio_catalog.exceptions import ShapeError
from mdio_catalog.specs.limits import chunk_size_problem

#: The reference's defaults for 2-D and 3-D data (its docstring says 128^3 but its code uses 64^3).
REFERENCE_DEFAULT_CHUNKS: dict[int, tuple[int, ...]] = {2: (512, 512), 3: (64, 64, 64)}


def _integer(value: object, what: str, chunks: Sequence[object]) -> int:
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        pass
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if not number.is_integer():
        raise ShapeError(f"{what} {tuple(chunks)} must contain only integers.")
    return int(number)


def validate_chunks(
    chunks: Sequence[int], shape: Sequence[int], what: str = "chunksize", itemsize: int = 4
) -> tuple[int, ...]:
    """Check that ``chunks`` has one positive entry per dimension and that one chunk of ``itemsize``-byte values
    stays within ``MDIO_CATALOG_MAX_CHUNK_MIB``. Chunks larger than the shape are kept as given (the reference
    stores them unclipped too, and zarr handles the partial chunk)."""
    chunks = tuple(_integer(c, what, chunks) for c in chunks)
    if len(chunks) != len(shape):
        raise ShapeError(
            f"{what} {chunks} has {len(chunks)} entries but the data has {len(shape)} dimensions {tuple(shape)}."
        )
    if any(c <= 0 for c in chunks):
        raise ShapeError(f"{what} {chunks} must contain only positive integers.")
    problem = chunk_size_problem(chunks, itemsize)
    if problem is not None:
        raise ShapeError(f"{what}: {problem}.")
    return chunks


def default_chunks(shape: Sequence[int], itemsize: int = 4, target_mib: float = 2.0) -> tuple[int, ...]:
    """Chunks for a dataset of ``shape`` when the user gives none.

    2-D and 3-D keep the reference's choices (so outputs compare like with like). For 4-D and up, where the
    reference gives up, keep the sample axis whole (up to 512) and spread the rest evenly over the other axes
    until a chunk holds about ``target_mib`` MiB.
    """
    shape = tuple(int(s) for s in shape)
    ndim = len(shape)
    if ndim in REFERENCE_DEFAULT_CHUNKS:
        return REFERENCE_DEFAULT_CHUNKS[ndim]
    if ndim == 1:
        return (max(1, min(shape[0], int(target_mib * 2**20 // itemsize))),)
    target_items = max(1, int(target_mib * 2**20 // itemsize))
    sample_chunk = max(1, min(shape[-1], 512))
    per_trace_budget = max(1, target_items // sample_chunk)
    spatial = list(shape[:-1])
    chunks = [1] * len(spatial)
    # Grow the spatial chunks by doubling, smallest-first, never beyond the dimension.
    while int(np.prod(chunks)) < per_trace_budget:
        grown = False
        for axis in sorted(range(len(spatial)), key=lambda a: chunks[a]):
            if chunks[axis] < spatial[axis] and int(np.prod(chunks)) * 2 <= per_trace_budget:
                chunks[axis] = min(spatial[axis], chunks[axis] * 2)
                grown = True
        if not grown:
            break
    return (*chunks, sample_chunk)


def header_chunks(data_chunks: Sequence[int]) -> tuple[int, ...]:
    """Trace headers are chunked like the data without the sample axis, so a data chunk maps to one header chunk."""
    return tuple(int(c) for c in data_chunks[:-1])


def live_mask_chunks(spatial_shape: Sequence[int], target_cells: int = 8 * 2**20) -> tuple[int, ...]:
    """Large chunks for the boolean live mask: the whole mask when it is small, ~8 Mi cells per chunk otherwise."""
    shape = [max(1, int(s)) for s in spatial_shape]
    if not shape:
        return ()
    chunks = list(shape)
    while int(np.prod(chunks)) > target_cells:
        axis = int(np.argmax(chunks))
        chunks[axis] = max(1, (chunks[axis] + 1) // 2)
    return tuple(chunks)
