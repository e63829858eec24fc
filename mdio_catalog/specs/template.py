"""Dataset templates: the geometry of a kind of seismic data, ready to be filled by a dataset entry.

A template names the index dimensions with their header bytes and types, the domain of the sample axis, default
chunks, the header words worth keeping as coordinates, the grid overrides the geometry expects and suggested
access patterns. The ready ones live in ``templates/*.yaml`` (see :mod:`mdio_catalog.specs.registry`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from mdio_catalog.specs.base import StrictModel, located_errors
from mdio_catalog.specs.grid_overrides import GridOverrides
from mdio_catalog.specs.sources import SAMPLE_DIM, TRACE_DIM, HeaderWord, IndexField, check_index
from mdio_catalog.specs.variables import Chunks, Identifier

Domain = Literal["time", "depth"]
#: Access-pattern suffixes become array names (``chunked_<suffix>``): letters, digits, underscores.
Suffix = Annotated[str, Field(pattern=r"^[A-Za-z0-9_]+$", max_length=64)]


class TemplateSpec(StrictModel):
    """The geometry of a kind of seismic data (post-stack 3-D, CDP gathers, streamer shots, ...)."""

    schema_name = "template"

    name: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=128)] = Field(
        description="Template name, used by datasets as template: <name>."
    )
    description: str = Field("", description="What the data is and which header bytes the template reads.")
    domain: Domain = Field(description="Domain of the sample axis.")
    index: Annotated[list[IndexField], Field(min_length=1)] = Field(
        description="Index dimensions in order (the sample axis follows)."
    )
    default_chunks: Chunks | None = Field(
        None, description="Chunks: one per index plus the sample axis (not the 'trace' axis overrides add)."
    )
    coordinates: dict[Identifier, HeaderWord] = Field(
        default_factory=dict, description="Header words worth keeping as coordinates (cdp_x, source_coord_x, ...)."
    )
    grid_overrides: GridOverrides = Field(
        default_factory=GridOverrides, description="Grid overrides the geometry expects."
    )
    access_patterns: dict[Suffix, Chunks] = Field(
        default_factory=dict, description="Suggested extra access patterns: suffix -> chunks of every dimension."
    )

    @model_validator(mode="after")
    def _consistent(self) -> TemplateSpec:
        problems = check_index(self.index, self.grid_overrides)
        n_chunks = len(self.index) + 1
        if self.default_chunks is not None and len(self.default_chunks) != n_chunks:
            problems.append(
                (
                    ("default_chunks",),
                    f"{len(self.default_chunks)} chunk sizes; the template has {len(self.index)} index dimensions "
                    f"plus the sample axis: {n_chunks}",
                )
            )
        ndim = len(self.dimension_names)
        for suffix, chunks in self.access_patterns.items():
            if len(chunks) != ndim:
                problems.append(
                    (
                        ("access_patterns", suffix),
                        f"{len(chunks)} chunk sizes for {ndim} dimensions {self.dimension_names}",
                    )
                )
        if problems:
            raise located_errors("TemplateSpec", problems)
        return self

    @property
    def index_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.index)

    @property
    def dimension_names(self) -> tuple[str, ...]:
        """Every dimension of the dataset: the index, the 'trace' axis grid overrides may add, the sample axis."""
        trace = (TRACE_DIM,) if self.grid_overrides.adds_trace_dimension else ()
        return (*self.index_names, *trace, SAMPLE_DIM)
