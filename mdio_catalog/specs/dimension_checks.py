"""Checks of declared dimensions (``empty:`` sources): coordinates a dataset can hold, in sizes it can afford.

A dimension's coordinates become a JSON attribute of the dataset and a vector in memory of every reader, and the
spatial dimensions multiply into the live mask; so ``validate`` refuses, each at its place in the file, what would
otherwise fail or exhaust memory at build time (or later, in every reader):

- a coordinate that is not a finite number (``.nan``, ``.inf``): strict JSON has no such value, and a NaN label
  can never be looked up;
- a coordinate given twice (explicitly, or a ``start``/``step`` whose step vanishes at that magnitude): a label
  must name one position;
- a range whose last coordinate is not a finite number or does not fit in 64-bit integers;
- more than :data:`MAX_DIMENSION_SIZE` coordinates on one dimension, or more than :data:`MAX_GRID_CELLS` trace
  cells (the product of all dimensions but the sample axis).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

import numpy as np

from mdio_catalog.specs.variables import DimensionSpec

#: Coordinates of one dimension: 16 Mi labels is ~150 MB of JSON attribute, more than any survey axis needs.
MAX_DIMENSION_SIZE: Final = 2**24
#: Trace cells (live-mask entries) of a declared grid: 4 Gi, the most a 32-bit trace count can reach.
MAX_GRID_CELLS: Final = 2**32
#: Repeated coordinates reported per dimension (the rest are counted).
_SHOWN: Final = 5

Problem = tuple[tuple[str | int, ...], str]


def dimension_problems(dims: Sequence[DimensionSpec], where: tuple[str | int, ...]) -> list[Problem]:
    """Every problem of ``dims`` as ``(path, message)``; ``where`` is the path of the dimension list."""
    problems: list[Problem] = []
    for i, dim in enumerate(dims):
        problems += [((*where, i, *path), message) for path, message in _one_dimension(dim)]
    if not problems and len(dims) >= 2:
        cells = math.prod(d.size for d in dims[:-1])
        if cells > MAX_GRID_CELLS:
            sizes = " x ".join(f"{d.size:,}" for d in dims[:-1])
            problems.append(
                (where, f"the grid has {sizes} = {cells:,} trace cells, more than the limit of {MAX_GRID_CELLS:,}")
            )
    return problems


def _one_dimension(dim: DimensionSpec) -> list[Problem]:
    if dim.size > MAX_DIMENSION_SIZE:
        field = "count" if dim.coords is None else "coords"
        return [((field,), f"{dim.size:,} coordinates, more than the limit of {MAX_DIMENSION_SIZE:,} per dimension")]
    if dim.coords is not None:
        return _explicit(dim.coords)
    return _ranged(dim)


def _explicit(coords: Sequence[float]) -> list[Problem]:
    problems: list[Problem] = []
    first: dict[float, int] = {}
    repeats = 0
    for j, value in enumerate(coords):
        if not math.isfinite(value):
            problems.append((("coords", j), f"coordinate {value} is not a finite number"))
            continue
        if value in first:
            repeats += 1
            if repeats <= _SHOWN:
                problems.append((("coords", j), f"coordinate {value} repeats coordinate {first[value]}"))
        else:
            first[value] = j
    if repeats > _SHOWN:
        problems.append((("coords",), f"{repeats} repeated coordinates in all ({_SHOWN} shown)"))
    return problems


def _ranged(dim: DimensionSpec) -> list[Problem]:
    start, step, count = dim.start, dim.step, int(dim.count or 0)
    assert start is not None  # DimensionSpec requires start with count
    bad = [(name, value) for name, value in (("start", start), ("step", step)) if not math.isfinite(value)]
    if bad:
        return [((name,), f"{name} {value} is not a finite number") for name, value in bad]
    if isinstance(start, int) and isinstance(step, int):
        last = start + step * (count - 1)
        if not -(2**63) <= last < 2**63:
            return [(("count",), f"the last coordinate {last} does not fit in a 64-bit integer")]
        return []
    last_float = float(start) + float(step) * (count - 1)
    if not math.isfinite(last_float):
        return [(("count",), f"the last coordinate {last_float} is not a finite number (start + step x (count-1))")]
    if count > 1 and abs(float(step)) <= float(np.spacing(max(abs(float(start)), abs(last_float)))):
        return [(("step",), f"step {step} is too small for coordinates near {last_float}: coordinates repeat")]
    return []
