"""Catalog entries made from other entries: a dataset derived from a dataset, and SEG-Y deliveries (exports).

Kept apart from ``sources.py``/``catalog.py`` (which import these models) so each stays small. Pure models: the
``select`` coordinates are checked against the upstream's grid only when that grid exists (at build time, or at
validation time when the upstream is built; see ``catalog/lineage.py``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StrictStr, field_validator

from mdio_catalog.specs.base import StrictModel
from mdio_catalog.specs.env import check_tree
from mdio_catalog.specs.variables import Number, PositiveInt

#: A coordinate value on the upstream grid (numbers; text for named coordinates).
Coordinate = Number | StrictStr

UpstreamName = Annotated[str, Field(min_length=1, max_length=200, description="A dataset of this catalog.")]


class DatasetSource(StrictModel):
    """Another dataset of the catalog, optionally cropped (``select``) and decimated (``step``)."""

    schema_name = "dataset-source"

    dataset: UpstreamName = Field(description="The upstream dataset (its published version is read).")
    select: dict[str, Annotated[list[Coordinate], Field(min_length=2, max_length=2)]] = Field(
        default_factory=dict,
        description="Inclusive [first, last] coordinate values per dimension, e.g. inline: [110, 129].",
    )
    step: dict[str, PositiveInt] = Field(default_factory=dict, description="Keep every n-th value, e.g. sample: 2.")

    @property
    def url(self) -> None:
        """No file: the upstream's output is found through the catalog."""
        return None

    @property
    def operation(self) -> Literal["select", "derive"]:
        return "select" if self.select or self.step else "derive"


class ExportSpec(StrictModel):
    """A SEG-Y delivery of one dataset: written atomically, recorded in the lock with its size and SHA-256."""

    schema_name = "export"

    dataset: UpstreamName = Field(description="The dataset to export.")
    path: Annotated[str, Field(min_length=1)] = Field(
        description="The SEG-Y file: inside the catalog root (relative to it) or an object-store URL."
    )
    endian: Literal["big", "little"] = Field("big", description="Byte order of the file.")
    storage_options: dict[str, Any] = Field(default_factory=dict, description="fsspec options of a URL path.")
    credentials: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.-]*$")] | None = Field(
        None, description="A catalog credential (for a URL path)."
    )
    description: str = Field("", description="Free text; not part of the export's hash.")

    @field_validator("storage_options")
    @classmethod
    def _references(cls, value: dict[str, Any]) -> dict[str, Any]:
        problems = check_tree(value)
        if problems:
            raise ValueError(problems[0][1])
        return value


__all__ = ["Coordinate", "DatasetSource", "ExportSpec"]
