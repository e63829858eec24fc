"""Which cells a QC picture shows, and reading them with a bounded cost.

Coordinates are labels (inline 1200, offset 500), resolved to indices here. A picture never reads more than
:data:`MAX_IMAGE_CELLS` cells along either image axis: a slice of a larger survey is read decimated (every k-th
trace or sample, the stride a PNG of ~1000 x 600 pixels could not show anyway), and a live-mask projection is
reduced a slab at a time, so a picture costs megabytes, not the size of the survey.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from mdio_catalog.core import layout
from mdio_catalog.core.store import storage_errors
from mdio_catalog.exceptions import CoordinateNotFoundError, ShapeError

if TYPE_CHECKING:
    from mdio_catalog.api.accessor import MDIOAccessor
    from mdio_catalog.core.dimension import Dimension

#: Cells read along one image axis at most (a PNG shows ~1000 pixels across).
MAX_IMAGE_CELLS = 2048
#: Live-mask cells read at once while projecting (a boolean each).
MASK_SLAB_CELLS = 1 << 24


def dataset_name(reader: MDIOAccessor) -> str:
    """The catalog name recorded in the dataset's provenance, else the last part of its path without '.mdio'."""
    attrs = reader.root.attrs.get(layout.ATTR_CATALOG)
    if isinstance(attrs, dict):
        record = attrs.get("provenance")
        if isinstance(record, dict) and isinstance(record.get("dataset"), str):
            return str(record["dataset"])
    base = reader.url.rstrip("/").replace("\\", "/").rsplit("/", 1)[-1]
    return base[: -len(".mdio")] if base.lower().endswith(".mdio") and len(base) > len(".mdio") else base


def parse_selection(items: Sequence[str]) -> dict[str, str]:
    """``["offset=500", "cable=2"]`` -> ``{"offset": "500", "cable": "2"}`` (for a CLI's repeated ``--at``)."""
    result: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise ShapeError(f"Selection {item!r} must look like NAME=COORDINATE, e.g. offset=500.")
        if name in result:
            raise ShapeError(f"Dimension {name!r} is selected twice ({result[name]!r} and {value!r}).")
        result[name] = value
    return result


def coerce(value: Any, dim: Dimension) -> Any:
    """A coordinate label; strings are read as int, then float."""
    if isinstance(value, str):
        text = value.strip()
        for convert in (int, float):
            try:
                return convert(text)
            except ValueError:
                continue
        raise CoordinateNotFoundError(
            f"Coordinate {value!r} of dimension {dim.name!r} is not a number "
            f"(range {python(dim.min())}..{python(dim.max())})."
        )
    return value


def locate(reader: MDIOAccessor, axis: int, coordinate: Any) -> int:
    dim = reader.grid.dims[axis]
    index = reader.coord_to_index(coerce(coordinate, dim), dimensions=dim.name)
    return int(np.asarray(index).ravel()[0])


def resolve_fixed(reader: MDIOAccessor, fixed: Mapping[str, Any] | None) -> dict[int, int]:
    """Axis -> index for every dimension in ``fixed`` (names and coordinates checked)."""
    held: dict[int, int] = {}
    for name, coordinate in (fixed or {}).items():
        axis = reader.grid.index_of(name)
        held[axis] = locate(reader, axis, coordinate)
    return held


def pick_across(reader: MDIOAccessor, across: str | None, free: Sequence[int], default: int) -> int:
    if across is None:
        return default
    axis = reader.grid.index_of(across)
    if axis not in free:
        names = [reader.grid.dims[a].name for a in free]
        raise ShapeError(f"across={across!r} is held or is the sample axis here; choose one of {names}.")
    return axis


def describe(reader: MDIOAccessor, held: Mapping[int, int]) -> str:
    dims = reader.grid.dims
    return ", ".join(f"{dims[a].name}={python(dims[a].values[i])}" for a, i in sorted(held.items())) or "nothing"


def read_traces(reader: MDIOAccessor, key: tuple[Any, ...]) -> Any:
    result = reader[key]
    return result[2] if reader.return_metadata else result


def python(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def image_step(size: int) -> int:
    """The stride that leaves at most :data:`MAX_IMAGE_CELLS` of ``size`` cells."""
    return max(1, -(-int(size) // MAX_IMAGE_CELLS))


def shown(dim: Dimension, part: Any) -> Dimension:
    """``dim`` restricted to the cells a picture reads (its coordinates at the stride used)."""
    from mdio_catalog.core.dimension import Dimension

    return Dimension(dim.values[part], dim.name)


def read_live_mask(reader: MDIOAccessor, key: tuple[Any, ...], projected: Sequence[int]) -> npt.NDArray[np.bool_]:
    """The live mask at ``key`` (one entry per spatial axis), reduced with "any" over the ``projected`` axes, read a
    slab of at most :data:`MASK_SLAB_CELLS` cells at a time along the first of them."""
    if not projected:
        with storage_errors(reader.url):
            return np.asarray(reader.live_mask[key], dtype=bool)
    kept = [a for a, part in enumerate(key) if isinstance(part, slice)]  # axes of a read, in dataset order
    positions = tuple(kept.index(a) for a in projected)
    along = projected[0]
    shape = reader.grid.spatial_shape
    other = int(np.prod([len(range(*key[a].indices(shape[a]))) for a in kept if a != along], dtype=np.int64))
    slab = max(1, MASK_SLAB_CELLS // max(other, 1))
    result: npt.NDArray[np.bool_] | None = None
    for start in range(0, shape[along], slab):
        part = list(key)
        part[along] = slice(start, min(start + slab, shape[along]))
        with storage_errors(reader.url):
            block = np.asarray(np.asarray(reader.live_mask[tuple(part)], dtype=bool).any(axis=positions))
        result = block if result is None else result | block
    assert result is not None  # a spatial axis has at least one cell (checked at open)
    return result
