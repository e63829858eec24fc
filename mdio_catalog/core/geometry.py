"""From per-trace index columns to a grid: unique coordinates, the cell of every trace, and the checks that catch
wrong index bytes (two traces in one cell, or a grid far larger than the file).

Pure numpy on columns; no files. The SEG-Y ingestion and the catalog's scanner both use it.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mdio_catalog.core.dimension import Dimension
from mdio_catalog.core.grid import Grid
from mdio_catalog.exceptions import GridSparsityError, GridTraceCountError, HeaderFieldError


class GridSparsityWarning(UserWarning):
    """The grid has noticeably more cells than traces; the index bytes may be wrong."""


@dataclass(frozen=True)
class TraceGeometry:
    """The grid of a file and, for every trace in file order, its linear cell index in the spatial grid."""

    grid: Grid
    cells: npt.NDArray[np.int64]

    @property
    def spatial_shape(self) -> tuple[int, ...]:
        return self.grid.spatial_shape

    def live_mask(self) -> npt.NDArray[np.bool_]:
        mask = np.zeros(self.grid.num_cells, dtype=bool)
        mask[self.cells] = True
        return mask.reshape(self.spatial_shape)

    def trace_of_cell(self) -> npt.NDArray[np.int64]:
        """For every cell, the trace number that fills it, or -1 for a dead cell."""
        lookup = np.full(self.grid.num_cells, -1, dtype=np.int64)
        lookup[self.cells] = np.arange(self.cells.size, dtype=np.int64)
        return lookup.reshape(self.spatial_shape)


def build_geometry(
    columns: Mapping[str, npt.ArrayLike],
    index_names: Sequence[str],
    sample_coords: npt.ArrayLike,
    sample_name: str = "sample",
) -> TraceGeometry:
    """Grid = sorted unique values of each index column (in the user's order) plus the sample axis."""
    dims: list[Dimension] = []
    positions: list[npt.NDArray[np.intp]] = []
    for name in index_names:
        values = np.asarray(columns[name])
        if values.dtype.kind in "fc" and not bool(np.isfinite(values).all()):
            bad = np.flatnonzero(~np.isfinite(values))
            raise HeaderFieldError(
                f"Index {name!r} is not a finite number in {bad.size} trace(s) (first: trace {int(bad[0])}, "
                f"value {values[bad[0]]}); an index must be a number: check its byte position and type."
            )
        unique, inverse = np.unique(values, return_inverse=True)
        dims.append(Dimension(unique, name))
        positions.append(inverse.ravel())
    dims.append(Dimension(np.asarray(sample_coords), sample_name))
    grid = Grid(dims)
    if positions and positions[0].size:
        cells = np.ravel_multi_index(tuple(positions), grid.spatial_shape).astype(np.int64)
    else:
        cells = np.zeros(0, dtype=np.int64)
    return TraceGeometry(grid=grid, cells=cells)


def check_unique_cells(
    geometry: TraceGeometry, columns: Mapping[str, npt.ArrayLike], index_names: Sequence[str], show: int = 5
) -> None:
    """Raise GridTraceCountError naming the index tuples that several traces share."""
    cells = geometry.cells
    unique, first, counts = np.unique(cells, return_index=True, return_counts=True)
    if unique.size == cells.size:
        return
    clashing = np.flatnonzero(counts > 1)
    examples = []
    for k in clashing[:show]:
        trace = int(first[k])
        values = ", ".join(f"{name}={np.asarray(columns[name])[trace]}" for name in index_names)
        examples.append(f"({values}) x{int(counts[k])}")
    extra = f" and {clashing.size - show} more" if clashing.size > show else ""
    raise GridTraceCountError(
        f"{cells.size} traces but only {unique.size} distinct index tuples over {list(index_names)}: "
        f"{clashing.size} cells hold several traces, e.g. {'; '.join(examples)}{extra}. "
        "Check the index bytes, add an index that tells these traces apart, or use the HasDuplicates / NonBinned "
        "grid overrides."
    )


def check_density(num_cells: int, num_traces: int, warn_ratio: float = 2.0, error_ratio: float = 10.0) -> float:
    """Warn (ratio > warn_ratio) or refuse (ratio > error_ratio) grids much larger than the trace count."""
    ratio = num_cells / max(num_traces, 1)
    hint = (
        f"The grid has {num_cells} cells for {num_traces} traces ({ratio:.1f} cells per trace); the index bytes are "
        "likely wrong (e.g. a coordinate or a counter instead of a line number)."
    )
    if ratio > error_ratio:
        raise GridSparsityError(
            f"{hint} Refusing above {error_ratio:g} (settable: MDIO_CATALOG_SPARSITY__ERROR_RATIO)."
        )
    if ratio > warn_ratio:
        warnings.warn(hint, GridSparsityWarning, stacklevel=2)
    return ratio
