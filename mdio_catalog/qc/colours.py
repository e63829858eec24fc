"""Colours that fit the data: the value range and colour map of a picture, chosen from what it shows.

Amplitudes centred on zero (the 1st and 99th percentiles on either side of zero, neither under a fifth of the
other) get a symmetric range at the 99th percentile of |value| and a diverging map; anything else -- a velocity
model of 1,480-4,706 m/s, an impedance, a fold count -- gets its 1st..99th percentile range and a sequential map,
so half the scale is never spent on values that do not occur. Only live cells count when a live mask is given.
Shared by ``mdio-catalog plot`` and the catalog site.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

DIVERGING = "seismic"
SEQUENTIAL = "viridis"


@dataclass(frozen=True)
class Colours:
    """The value range and colour map chosen for a picture, and why."""

    vmin: float
    vmax: float
    cmap: str
    diverging: bool
    stops: list[str] = field(default_factory=list)  # CSS colours of the map, for the colour bar drawn in HTML


def choose_colours(values: npt.NDArray[Any], live: npt.NDArray[np.bool_] | None = None) -> Colours:
    """Symmetric diverging range for zero-centred data, else p1..p99 with a sequential map (see module doc)."""
    chosen = values[live] if live is not None and live.any() else values.ravel()
    finite = np.asarray(chosen[np.isfinite(chosen)], dtype=np.float64)
    if finite.size == 0:
        return make_colours(-1.0, 1.0, DIVERGING, True)
    low, high = (float(v) for v in np.percentile(finite, [1.0, 99.0]))
    if low < 0.0 < high and min(-low, high) >= 0.2 * max(-low, high):
        clip = float(np.percentile(np.abs(finite), 99.0)) or float(np.abs(finite).max()) or 1.0
        return make_colours(-clip, clip, DIVERGING, True)
    if high <= low:  # constant data (an empty cube of zeros): a visible range around the value
        low, high = (low - 1.0, high + 1.0) if low == 0.0 else (low - abs(low) * 0.05, high + abs(high) * 0.05)
    return make_colours(low, high, SEQUENTIAL, False)


def make_colours(vmin: float, vmax: float, cmap: str, diverging: bool) -> Colours:
    """Colours of a given range and map (with the CSS stops of the map for a colour bar drawn in HTML)."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    colourmap = colormaps[cmap]
    stops = [to_hex(colourmap(i / 10)) for i in range(11)]
    return Colours(float(vmin), float(vmax), cmap, diverging, stops)
