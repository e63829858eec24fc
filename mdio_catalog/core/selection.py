"""A selection of a dataset by coordinate values: which index ranges of the upstream grid a derived dataset keeps.

Pure geometry, no I/O: ``select`` gives inclusive coordinate values per dimension (``inline: [110, 129]``), ``step``
a decimation per dimension (``sample: 2``). Both ends must be coordinates on the grid (a value between two
coordinates is an error naming the nearest ones: a crop that silently moved would deliver the wrong lines);
unknown dimension names get a did-you-mean. The result is one ``slice`` per dimension of the upstream grid and the
derived grid whose coordinates are the upstream's, sliced.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mdio_catalog.core.dimension import Dimension
from mdio_catalog.core.grid import Grid
from mdio_catalog.exceptions import CoordinateNotFoundError, DimensionNotFoundError, ShapeError, did_you_mean


@dataclass(frozen=True)
class Selection:
    """Per upstream dimension the kept index range and step, and the grid they give."""

    ranges: tuple[slice, ...]
    grid: Grid

    @property
    def is_everything(self) -> bool:
        return all(
            r.start == 0 and r.step == 1 and r.stop == d.size for r, d in zip(self.ranges, self.grid, strict=True)
        )

    def source_indices(self, axis: int, start: int, stop: int) -> slice:
        """The contiguous upstream index range that holds derived indices ``[start, stop)`` of ``axis`` (read it,
        then take every ``step``-th value)."""
        kept = self.ranges[axis]
        first = kept.start + start * kept.step
        last = kept.start + (stop - 1) * kept.step
        return slice(first, last + 1)


def resolve_selection(
    grid: Grid, select: Mapping[str, Sequence[Any]] | None = None, step: Mapping[str, int] | None = None
) -> Selection:
    """The index ranges of ``grid`` that ``select`` (inclusive coordinate values) and ``step`` keep."""
    select = dict(select or {})
    step = dict(step or {})
    names = grid.dim_names
    for what, given in (("select", select), ("step", step)):
        for name in given:
            if name not in names:
                raise DimensionNotFoundError(
                    f"{what}: no dimension {name!r}{did_you_mean(str(name), names)}; the dimensions are {list(names)}."
                )
    ranges = []
    dims = []
    for dim in grid:
        values = dim.values
        start, stop = 0, dim.size
        if dim.name in select:
            start, stop = _range_of(dim, select[dim.name])
        every = step.get(dim.name, 1)
        if isinstance(every, bool) or not isinstance(every, int | np.integer) or every < 1:
            raise ShapeError(f"step of {dim.name!r} must be a whole number >= 1, got {every!r}.")
        kept = slice(start, stop, int(every))
        ranges.append(kept)
        dims.append(Dimension(coords=values[kept].copy(), name=dim.name))
    return Selection(ranges=tuple(ranges), grid=Grid(dims, name=grid.name))


def _range_of(dim: Dimension, bounds: Sequence[Any]) -> tuple[int, int]:
    if isinstance(bounds, str | bytes) or len(bounds) != 2:
        raise ShapeError(f"select of {dim.name!r} needs [first, last] (inclusive coordinate values), got {bounds!r}.")
    first, last = (_index_of(dim, value) for value in bounds)
    if last < first:
        raise ShapeError(
            f"select of {dim.name!r} is empty: {bounds[0]!r} comes after {bounds[1]!r} on the grid "
            f"({dim.name} runs {_describe(dim)})."
        )
    return first, last + 1


def _index_of(dim: Dimension, value: Any) -> int:
    values = dim.values
    try:
        hits = np.flatnonzero(values == np.asarray(value))  # no cast: 103.5 must not match 103
    except (TypeError, ValueError):
        hits = np.array([], dtype=np.int64)
    if hits.size:
        return int(hits[0])
    message = f"{value!r} is not a {dim.name} on the grid ({dim.name} runs {_describe(dim)})"
    if values.size and values.dtype.kind in "iuf":
        try:
            target = float(value)
        except (TypeError, ValueError):
            raise CoordinateNotFoundError(message + ".") from None
        below = values[values < target]
        above = values[values > target]
        near = [
            str(v) for v in (below.max() if below.size else None, above.min() if above.size else None) if v is not None
        ]
        if near:
            message += f"; the nearest are {' and '.join(near)}"
    raise CoordinateNotFoundError(message + ".")


def _describe(dim: Dimension) -> str:
    values = dim.values
    if not values.size:
        return "over no values"
    if values.size > 2 and values.dtype.kind in "iu":
        steps = np.unique(np.diff(values))
        if steps.size == 1:
            return f"{values[0]}..{values[-1]} by {steps[0]}"
    return f"{values[0]}..{values[-1]} ({values.size} values)"
