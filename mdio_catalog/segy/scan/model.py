"""The vocabulary of geometry proposals: kinds, index words, and a candidate index with the grid it gives.

Plain frozen dataclasses with no I/O, shared by the candidate evaluation, the ranking and the proposal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final


class GeometryKind(StrEnum):
    """The geometries a proposal can name."""

    POST_STACK_3D = "post_stack_3d"
    POST_STACK_2D = "post_stack_2d"
    CDP_OFFSET_3D = "cdp_offset_3d"
    CDP_OFFSET_2D = "cdp_offset_2d"
    SHOT_GATHERS_2D = "shot_gathers_2d"
    STREAMER_SHOTS_WRAPPED = "streamer_shots_wrapped"
    STREAMER_SHOTS_UNWRAPPED = "streamer_shots_unwrapped"
    UNSTRUCTURED = "unstructured"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]


_KIND_LABELS: Final = {
    GeometryKind.POST_STACK_3D: "post-stack 3D (inline x crossline)",
    GeometryKind.POST_STACK_2D: "post-stack 2D (CDP)",
    GeometryKind.CDP_OFFSET_3D: "pre-stack CDP/offset gathers 3D",
    GeometryKind.CDP_OFFSET_2D: "pre-stack CDP/offset gathers 2D",
    GeometryKind.SHOT_GATHERS_2D: "shot gathers (shot x channel)",
    GeometryKind.STREAMER_SHOTS_WRAPPED: "streamer shots, channels restart on every cable",
    GeometryKind.STREAMER_SHOTS_UNWRAPPED: "streamer shots, channels run on across cables",
    GeometryKind.UNSTRUCTURED: "unstructured (one trace after another)",
}
POST_STACK_KINDS: Final = (GeometryKind.POST_STACK_3D, GeometryKind.POST_STACK_2D)
SHOT_KINDS: Final = (
    GeometryKind.SHOT_GATHERS_2D,
    GeometryKind.STREAMER_SHOTS_WRAPPED,
    GeometryKind.STREAMER_SHOTS_UNWRAPPED,
)


@dataclass(frozen=True)
class IndexWord:
    """An index dimension: its name and the header word (1-based byte, type) it is read from."""

    name: str
    byte: int
    type: str = "int32"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "byte": self.byte, "type": self.type}


@dataclass(frozen=True)
class DimensionFacts:
    """One dimension of an evaluated candidate (after grid overrides), over the scanned traces."""

    name: str
    byte: int | None
    type: str | None
    n_unique: int
    size: int
    min: int
    max: int
    grouped: bool
    issue: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "byte": self.byte,
            "type": self.type,
            "n_unique": self.n_unique,
            "size": self.size,
            "min": self.min,
            "max": self.max,
            "grouped": self.grouped,
            "issue": self.issue,
        }


@dataclass(frozen=True)
class Candidate:
    """One index tried on the headers: the grid it gives, and whether (and why not) it works."""

    kind: GeometryKind
    index: tuple[IndexWord, ...]
    grid_overrides: Mapping[str, Any]
    accepted: bool
    verdict: str
    dims: tuple[str, ...] = ()
    shape: tuple[int, ...] = ()
    n_cells: int = 0
    fill: float = 0.0
    facts: tuple[DimensionFacts, ...] = ()
    prior: float = 0.0
    implausible: bool = False
    rank: tuple[float, ...] = field(default=(), compare=False)

    @property
    def index_bytes(self) -> tuple[int, ...]:
        return tuple(w.byte for w in self.index)

    @property
    def varying(self) -> int:
        """Dimensions (without the 'trace' axis of overrides) whose values vary."""
        return sum(1 for f in self.facts if f.byte is not None and f.n_unique > 1)

    def describe(self) -> str:
        words = ", ".join(f"{w.name} {w.byte}" + ("" if w.type == "int32" else f" ({w.type})") for w in self.index)
        extra = f" + {dict(self.grid_overrides)}" if self.grid_overrides else ""
        return f"{self.kind.value} [{words}]{extra}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "index": [w.to_dict() for w in self.index],
            "grid_overrides": dict(self.grid_overrides),
            "accepted": self.accepted,
            "verdict": self.verdict,
            "dims": list(self.dims),
            "shape": list(self.shape),
            "n_cells": self.n_cells,
            "fill": self.fill,
        }
