"""A named dimension with a coordinate vector, and its JSON/YAML serializer."""

from __future__ import annotations

from dataclasses import dataclass
from inspect import Signature, signature
from typing import Any

import numpy as np
import numpy.typing as npt

from mdio_catalog.core.serialization import Serializer
from mdio_catalog.exceptions import SerializationError, ShapeError


def _to_python(value: Any) -> Any:
    """Numpy scalars become plain Python numbers so that JSON/YAML/Zarr attributes accept them."""
    return value.item() if isinstance(value, np.generic) else value


@dataclass(eq=False)
class Dimension:
    """A dimension: a name and a vector of coordinate labels (inline numbers, offsets, sample times...)."""

    coords: list[Any] | tuple[Any, ...] | npt.NDArray[Any] | range
    name: str

    def __post_init__(self) -> None:
        coords = np.asarray(self.coords)
        if coords.ndim != 1:
            raise ShapeError(f"Dimension {self.name!r} needs a vector of coordinates, got shape {coords.shape}.")
        self.coords = coords

    @property
    def values(self) -> npt.NDArray[Any]:
        """The coordinates as a numpy vector (``coords`` is always one after construction)."""
        return np.asarray(self.coords)

    @property
    def size(self) -> int:
        """Number of coordinates."""
        return int(self.values.size)

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, item: Any) -> Any:
        return self.values[item]

    def __setitem__(self, key: Any, value: Any) -> None:
        self.values[key] = value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Dimension):
            return NotImplemented
        return self.name == other.name and np.array_equal(self.values, other.values)

    def __hash__(self) -> int:
        # Hash the values, not their bytes: equal dimensions must hash equal whatever the dtype
        # (int32 [1, 2] == int64 [1, 2] == float [1.0, 2.0], and hash(1) == hash(1.0)).
        return hash((self.name, tuple(self.values.tolist())))

    def __repr__(self) -> str:
        return f"Dimension(name={self.name!r}, size={self.size}, coords={self.values!r})"

    def min(self) -> npt.NDArray[Any]:
        """Smallest coordinate."""
        return np.min(self.values)

    def max(self) -> npt.NDArray[Any]:
        """Largest coordinate."""
        return np.max(self.values)

    def to_dict(self) -> dict[str, Any]:
        """``{"name": ..., "coords": [...]}``, the form stored in the ``dimension`` attribute."""
        return {"name": self.name, "coords": [_to_python(c) for c in self.values.tolist()]}

    @classmethod
    def from_dict(cls, other: dict[str, Any]) -> Dimension:
        """Build from ``{"name": ..., "coords": [...]}``; other keys are an error."""
        payload = Serializer.validate_payload(dict(other), _DIMENSION_SIGNATURE)
        return cls(coords=payload["coords"], name=payload["name"])

    def serialize(self, stream_format: str) -> str:
        """Text form of the dimension in "JSON" or "YAML"."""
        return DimensionSerializer(stream_format).serialize(self)

    @classmethod
    def deserialize(cls, stream: str, stream_format: str) -> Dimension:
        """Parse a dimension from "JSON" or "YAML" text."""
        return DimensionSerializer(stream_format).deserialize(stream)


_DIMENSION_SIGNATURE: Signature = signature(Dimension)


class DimensionSerializer(Serializer):
    """Serializer implementation for :class:`Dimension`."""

    def serialize(self, dimension: Dimension) -> str:
        """Serialize a Dimension into text."""
        if not isinstance(dimension, Dimension):
            raise SerializationError(f"Expected a Dimension, got {type(dimension).__name__}.")
        return self.serialize_func(dimension.to_dict())

    def deserialize(self, stream: str) -> Dimension:
        """Deserialize text into a Dimension."""
        return Dimension.from_dict(self.parse(stream))
