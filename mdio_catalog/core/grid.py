"""The grid: the ordered dimensions of a dataset (sample axis last)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mdio_catalog.core.dimension import Dimension
from mdio_catalog.exceptions import DimensionNotFoundError, ShapeError, did_you_mean


@dataclass(eq=False)
class Grid:
    """Ordered dimensions of an MDIO dataset; the last one is the sample axis."""

    dims: list[Dimension]
    name: str = field(default="")

    def __post_init__(self) -> None:
        self.dims = list(self.dims)
        names = self.dim_names
        if len(set(names)) != len(names):
            raise ShapeError(f"Dimension names must be unique, got {list(names)}.")

    # --- shape -------------------------------------------------------------------------------------------------
    @property
    def dim_names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.dims)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(d.size for d in self.dims)

    @property
    def ndim(self) -> int:
        return len(self.dims)

    @property
    def spatial_shape(self) -> tuple[int, ...]:
        """Shape without the sample axis: the shape of the live mask and the trace headers."""
        return self.shape[:-1]

    @property
    def num_cells(self) -> int:
        """Number of trace slots (cells) in the grid."""
        return int(np.prod(self.spatial_shape, dtype=np.int64))

    def __len__(self) -> int:
        return self.ndim

    def __iter__(self) -> Iterator[Dimension]:
        return iter(self.dims)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Grid):
            return NotImplemented
        return self.dims == other.dims

    def __hash__(self) -> int:
        return hash(tuple(self.dims))

    # --- lookup ------------------------------------------------------------------------------------------------
    def index_of(self, name: str) -> int:
        """Position of the dimension called ``name``."""
        try:
            return self.dim_names.index(name)
        except ValueError:
            raise DimensionNotFoundError(
                f"No dimension named {name!r}{did_you_mean(name, self.dim_names)} (dimensions: {list(self.dim_names)})."
            ) from None

    def select_dim(self, name: str) -> Dimension:
        """The dimension called ``name``."""
        return self.dims[self.index_of(name)]

    def get_min(self, name: str) -> Any:
        return self.select_dim(name).min()

    def get_max(self, name: str) -> Any:
        return self.select_dim(name).max()

    # --- (de)serialisation ---------------------------------------------------------------------------------------
    def to_attrs(self) -> list[dict[str, Any]]:
        """The ``dimension`` root attribute: a list of ``{"name", "coords"}`` dicts."""
        return [d.to_dict() for d in self.dims]

    @classmethod
    def from_attrs(cls, attrs: Iterable[dict[str, Any]]) -> Grid:
        return cls([Dimension.from_dict(d) for d in attrs])

    @classmethod
    def from_zarr(cls, root: Any) -> Grid:
        """Rebuild the grid from an opened MDIO root group."""
        from mdio_catalog.core import layout

        return cls.from_attrs(root.attrs[layout.ATTR_DIMENSION])

    @classmethod
    def from_coords(cls, names: Sequence[str], coords: Sequence[Any]) -> Grid:
        return cls([Dimension(c, n) for n, c in zip(names, coords, strict=True)])
