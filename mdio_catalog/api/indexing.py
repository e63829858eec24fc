"""Normalising accessor keys: integers, slices, lists/arrays and Ellipsis, checked against the shape.

Reading with a key goes through one place so that an out-of-range index fails with the axis and the extent
named, instead of a backend error, and so that list indices mean the same thing (orthogonal selection) on the
zarr and dask backends.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mdio_catalog.exceptions import IndexOutOfRangeError, ShapeError

Key = tuple[Any, ...]


def _check_int(value: int, size: int, axis: int, names: Sequence[str]) -> int:
    if not -size <= value < size:
        raise IndexOutOfRangeError(
            f"Index {value} is out of range for dimension {names[axis]!r} (axis {axis}) of size {size}."
        )
    return value + size if value < 0 else value


def normalize_key(key: Any, shape: Sequence[int], names: Sequence[str]) -> Key:
    """Expand ``key`` to one entry per axis; ints and int arrays are range-checked and made non-negative."""
    parts = key if isinstance(key, tuple) else (key,)
    ellipses = sum(1 for p in parts if p is Ellipsis)
    if ellipses > 1:
        raise IndexOutOfRangeError("An index can only have a single ellipsis ('...').")
    if ellipses:
        at = next(i for i, p in enumerate(parts) if p is Ellipsis)
        fill = (slice(None),) * (len(shape) - len(parts) + 1)
        parts = parts[:at] + fill + parts[at + 1 :]
    if len(parts) > len(shape):
        raise IndexOutOfRangeError(f"Too many indices: {len(parts)} given for {len(shape)} dimensions {tuple(names)}.")
    parts = parts + (slice(None),) * (len(shape) - len(parts))
    out: list[Any] = []
    for axis, (part, size) in enumerate(zip(parts, shape, strict=True)):
        if isinstance(part, slice):
            if part.step is not None and part.step <= 0:
                raise IndexOutOfRangeError(f"Slice step must be positive on axis {axis}, got {part.step}.")
            out.append(part)
        elif isinstance(part, int | np.integer) and not isinstance(part, bool | np.bool_):
            out.append(_check_int(int(part), size, axis, names))
        elif part is None:
            raise IndexOutOfRangeError("New axes (None) are not supported in MDIO indexing.")
        else:
            values = np.asarray(part)
            if values.dtype == bool:
                if values.shape != (size,):
                    raise ShapeError(
                        f"Boolean index on axis {axis} ({names[axis]!r}) has shape {values.shape}, expected ({size},)."
                    )
                out.append(np.flatnonzero(values))
            elif np.issubdtype(values.dtype, np.integer):
                if values.ndim != 1:
                    raise ShapeError(f"Integer array index on axis {axis} must be 1-D, got shape {values.shape}.")
                bad = values[(values < -size) | (values >= size)]
                if bad.size:
                    raise IndexOutOfRangeError(
                        f"Indices {bad.tolist()[:10]} are out of range for dimension {names[axis]!r} "
                        f"(axis {axis}) of size {size}."
                    )
                out.append(np.where(values < 0, values + size, values).astype(np.intp))
            else:
                raise IndexOutOfRangeError(f"Unsupported index {part!r} of type {type(part).__name__} on axis {axis}.")
    return tuple(out)


def has_array(key: Key) -> bool:
    """Whether any axis is indexed by an array (so an orthogonal selection is needed)."""
    return any(isinstance(k, np.ndarray) for k in key)


def read_orthogonal(array: Any, key: Key) -> Any:
    """Read ``key`` from a zarr or dask array with orthogonal (outer) semantics for list indices."""
    if not has_array(key):
        return array[key]
    if hasattr(array, "oindex"):
        return array.oindex[key]
    # dask supports one fancy axis at a time: apply the array indices axis by axis.
    basic = tuple(slice(None) if isinstance(k, np.ndarray) else k for k in key)
    result = array[basic]
    axis = 0
    for k in key:
        if isinstance(k, np.ndarray):
            result = result[(slice(None),) * axis + (k,)]
        if not isinstance(k, int):
            axis += 1
    return result


def write_orthogonal(array: Any, key: Key, value: Any) -> None:
    """Write ``value`` at ``key`` on a zarr array, orthogonally for list indices."""
    if has_array(key):
        array.oindex[key] = value
    else:
        array[key] = value
