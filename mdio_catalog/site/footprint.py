"""Where a dataset lies: the outline of its live traces' CDP X/Y, in its own CRS and in WGS84 (for STAC).

The coordinates are the trace headers' ``cdp_x``/``cdp_y`` scaled by the SEG-Y coordinate scalar (bytes 71-72),
taken at live traces only. The outline is their convex hull (a rotated survey gives its rotated rectangle, not the
larger axis-aligned box); with more than :data:`HULL_POINTS` distinct positions the hull is taken over the lowest
and highest point of each of :data:`HULL_BINS` strips along X, which moves it by at most one strip's width.

Reprojection to WGS84 longitude/latitude is pyproj's (PROJ's EPSG database, offline); the hull's corners are
transformed, which for a survey a few tens of kilometres wide is within metres of transforming its edges.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from mdio_catalog.exceptions import ArgumentError

HULL_POINTS = 20_000
HULL_BINS = 4096
#: Hull corners closer than this fraction of the bbox's diagonal to the line through their neighbours are dropped
#: (coordinates rounded to centimetres put a bend at every trace along a straight edge).
SIMPLIFY = 1e-4
WGS84 = "EPSG:4326"


@dataclass(frozen=True)
class Footprint:
    """The outline of the live traces in the dataset's CRS: a closed ring (or 1-2 points when degenerate)."""

    ring: list[tuple[float, float]]
    bbox: tuple[float, float, float, float]
    traces: int

    def geometry(self) -> dict[str, Any]:
        return _geometry(self.ring)


def footprint(reader: Any) -> Footprint | None:
    """The live traces' outline, None when the headers carry no CDP X/Y (NumPy and empty sources: all zero)."""
    headers = reader.header_array
    fields = headers.dtype.names or ()
    if "cdp_x" not in fields or "cdp_y" not in fields:
        return None
    values = np.asarray(headers[...])
    live = np.asarray(reader.live_mask[...], dtype=bool)
    if not live.any():
        return None
    picked = values[live]
    from mdio_catalog.api.xarray_view import coordinate_scale

    scale = coordinate_scale(picked["coordinate_scalar"]) if "coordinate_scalar" in fields else 1.0
    # rounded to micrometres: 433941.46, not the 433941.46000000003 of a float scalar
    x = np.round(picked["cdp_x"].astype(np.float64) * scale, 6)
    y = np.round(picked["cdp_y"].astype(np.float64) * scale, 6)
    if not (x.any() or y.any()):
        return None
    points = np.unique(np.column_stack([x, y]), axis=0)
    if len(points) > HULL_POINTS:
        points = _strip_extremes(points)
    bbox = (float(x.min()), float(y.min()), float(x.max()), float(y.max()))
    ring = simplify(convex_hull(points), SIMPLIFY * float(np.hypot(bbox[2] - bbox[0], bbox[3] - bbox[1])))
    return Footprint(ring=ring, bbox=bbox, traces=int(live.sum()))


def _strip_extremes(points: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The lowest and highest point of each strip along X (every hull vertex is within a strip of one of them)."""
    x, y = points[:, 0], points[:, 1]
    span = float(x.max() - x.min()) or 1.0
    strip = np.minimum(((x - x.min()) / span * HULL_BINS).astype(np.int64), HULL_BINS - 1)
    order = np.lexsort((y, strip))
    strips = strip[order]
    first = np.flatnonzero(np.r_[True, strips[1:] != strips[:-1]])
    last = np.r_[first[1:] - 1, len(order) - 1]
    return np.asarray(points[np.unique(np.r_[order[first], order[last]])])


def convex_hull(points: npt.NDArray[np.float64]) -> list[tuple[float, float]]:
    """Andrew's monotone chain: the hull counter-clockwise, closed (first point repeated) when it has 3+ corners;
    one or two points for a single position or a straight line (a 2D survey)."""
    pts = sorted({(float(px), float(py)) for px, py in points})
    if len(pts) <= 2:
        return pts

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[tuple[float, float]] = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    hull = lower[:-1] + upper[:-1]
    if len(hull) <= 2:  # collinear: the two ends
        return [pts[0], pts[-1]]
    return [*hull, hull[0]]


def simplify(ring: list[tuple[float, float]], tolerance: float) -> list[tuple[float, float]]:
    """A closed ring without corners within ``tolerance`` of the line through their neighbours (kept convex)."""
    if len(ring) < 5:  # a triangle or less: nothing to drop
        return ring
    corners = ring[:-1]
    changed = True
    while changed and len(corners) > 3:
        changed = False
        for i in range(len(corners)):
            a, b, c = corners[i - 1], corners[i], corners[(i + 1) % len(corners)]
            length = float(np.hypot(c[0] - a[0], c[1] - a[1]))
            off = abs((c[0] - a[0]) * (b[1] - a[1]) - (c[1] - a[1]) * (b[0] - a[0])) / length if length else 0.0
            if off <= tolerance:
                del corners[i]
                changed = True
                break
    return [*corners, corners[0]]


def _geometry(ring: list[tuple[float, float]]) -> dict[str, Any]:
    coords = [[x, y] for x, y in ring]
    if len(coords) == 1:
        return {"type": "Point", "coordinates": coords[0]}
    if len(coords) == 2:
        return {"type": "LineString", "coordinates": coords}
    return {"type": "Polygon", "coordinates": [coords]}


@lru_cache(maxsize=64)
def _transformer(crs: str) -> Any:
    from pyproj import Transformer

    return Transformer.from_crs(crs, WGS84, always_xy=True)


def check_known(crs: str) -> str:
    """``crs`` when PROJ's EPSG database has it; an :class:`ArgumentError` otherwise (a code in EPSG's range that
    names no CRS, or a unit, datum or area code)."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        CRS.from_user_input(crs)
    except CRSError:
        raise ArgumentError(f"CRS {crs} is not in PROJ's EPSG database (is it a CRS code?).") from None
    return crs


def to_wgs84(found: Footprint, crs: str) -> tuple[dict[str, Any], list[float]] | None:
    """GeoJSON geometry and bbox in WGS84 longitude/latitude (what STAC's ``geometry``/``bbox`` are), None when
    the coordinates do not transform (outside the CRS's area: infinite results)."""
    xs = np.array([p[0] for p in found.ring])
    ys = np.array([p[1] for p in found.ring])
    lon, lat = _transformer(crs).transform(xs, ys)
    lon, lat = np.atleast_1d(np.asarray(lon, dtype=np.float64)), np.atleast_1d(np.asarray(lat, dtype=np.float64))
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        return None
    ring = [(round(float(a), 9), round(float(b), 9)) for a, b in zip(lon, lat, strict=True)]
    bbox = [float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())]
    return _geometry(ring), bbox
