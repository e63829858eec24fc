"""Grid overrides as a validated model.

The reference takes a loose dict (``{"ChannelWrap": True, "ChannelsPerCable": 800}``), ignores the values and
rejects nothing but unknown commands at run time. Here the same keys are validated up front: unknown keys (with a
did-you-mean), missing parameters, wrong types and incompatible pairs are errors before any file is read, and a
``False`` value really switches a command off.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ConfigDict, Field, StrictBool, StrictInt, ValidationError, model_validator

from mdio_catalog.exceptions import GridOverrideError, did_you_mean
from mdio_catalog.specs.base import StrictModel
from mdio_catalog.specs.errors import format_validation_error

#: Index names that an override needs; a tuple means "any of these spellings".
SHOT_NAMES = ("shot_point", "shot")


class GridOverrides(StrictModel):
    """The reference's grid-override keys, with their parameter rules enforced."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    schema_name = "grid-overrides"

    channel_wrap: StrictBool = Field(False, alias="ChannelWrap", description="Wrap sequential channels per cable.")
    channels_per_cable: StrictInt | None = Field(
        None, alias="ChannelsPerCable", gt=0, description="Channels on each cable (ChannelWrap, CalculateCable)."
    )
    calculate_cable: StrictBool = Field(
        False, alias="CalculateCable", description="Derive the cable number from sequential channel numbers."
    )
    auto_channel_wrap: StrictBool = Field(
        False, alias="AutoChannelWrap", description="Detect unwrapped channels per cable and wrap them."
    )
    auto_channel_trace_qc: StrictInt | None = Field(
        None, alias="AutoChannelTraceQC", gt=0, description="Traces the channel-wrap detection looks at."
    )
    auto_shot_wrap: StrictBool = Field(
        False, alias="AutoShotWrap", description="Detect shot points interleaved across guns and unwrap them."
    )
    non_binned: StrictBool = Field(
        False, alias="NonBinned", description="Add a 'trace' dimension counting traces per index tuple."
    )
    chunksize: StrictInt | None = Field(None, gt=0, description="Chunk of the 'trace' dimension (NonBinned).")
    has_duplicates: StrictBool = Field(
        False, alias="HasDuplicates", description="Add a 'trace' dimension (chunk 1) for repeated index tuples."
    )

    @model_validator(mode="after")
    def _rules(self) -> GridOverrides:
        needs_channels = [name for name, on in (("ChannelWrap", self.channel_wrap),
                                                ("CalculateCable", self.calculate_cable)) if on]  # fmt: skip
        if needs_channels and self.channels_per_cable is None:
            verb = "needs" if len(needs_channels) == 1 else "need"
            raise ValueError(f"{' and '.join(needs_channels)} {verb} the parameter ChannelsPerCable.")
        if self.non_binned and self.chunksize is None:
            raise ValueError("NonBinned needs the parameter chunksize (the chunk of the 'trace' dimension).")
        pairs = [
            ("ChannelWrap", self.channel_wrap, "AutoChannelWrap", self.auto_channel_wrap),
            ("CalculateCable", self.calculate_cable, "AutoChannelWrap", self.auto_channel_wrap),
            ("HasDuplicates", self.has_duplicates, "ChannelWrap", self.channel_wrap),
            ("HasDuplicates", self.has_duplicates, "CalculateCable", self.calculate_cable),
            ("HasDuplicates", self.has_duplicates, "NonBinned", self.non_binned),
        ]
        for first, first_on, second, second_on in pairs:
            if first_on and second_on:
                raise ValueError(f"{first} and {second} cannot be used together.")
        return self

    # --- construction ------------------------------------------------------------------------------------------
    @classmethod
    def parse(cls, overrides: Mapping[str, Any] | GridOverrides | None) -> GridOverrides:
        """Validate a reference-style dict (or pass a model through); errors become GridOverrideError."""
        if overrides is None:
            return cls()
        if isinstance(overrides, GridOverrides):
            return overrides
        if not isinstance(overrides, Mapping):
            raise GridOverrideError(f"grid_overrides must be a mapping, got {type(overrides).__name__}.")
        known = [f.alias or name for name, f in cls.model_fields.items()]
        for key in overrides:
            if key not in known and key not in cls.model_fields:
                raise GridOverrideError(f"Unknown grid override {key!r}{did_you_mean(key, known)}; known: {known}.")
        try:
            return cls.model_validate(dict(overrides))
        except ValidationError as exc:
            raise GridOverrideError(f"Invalid grid_overrides: {format_validation_error(exc)}") from None

    def to_reference(self) -> dict[str, Any]:
        """The reference's dict form, with only the commands that are on and the parameters that are set."""
        return self.model_dump(by_alias=True, exclude_defaults=True)

    # --- what the overrides need and do ---------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        return bool(self.to_reference())

    @property
    def adds_trace_dimension(self) -> bool:
        return self.non_binned or self.has_duplicates

    @property
    def trace_chunk(self) -> int | None:
        """Chunk of the added 'trace' dimension: 1 for HasDuplicates, ``chunksize`` for NonBinned."""
        if self.has_duplicates:
            return 1
        return self.chunksize if self.non_binned else None

    def required_index_names(self) -> dict[str, tuple[str, ...]]:
        """For each active command, the index names it needs (each entry: accepted spellings of one name)."""
        needs: dict[str, tuple[str, ...]] = {}
        if self.channel_wrap or self.calculate_cable or self.auto_channel_wrap:
            for name in ("cable", "channel"):
                needs[name] = (name,)
        if self.auto_channel_wrap:
            needs["shot_point"] = SHOT_NAMES
        if self.auto_shot_wrap:
            for name in ("shot_line", "gun", "cable", "channel"):
                needs[name] = (name,)
            needs["shot_point"] = SHOT_NAMES
        return needs

    def check_index_names(self, index_names: Sequence[str]) -> None:
        """Raise when an active command needs an index the user did not name."""
        missing = [
            " or ".join(repr(s) for s in spellings)
            for spellings in self.required_index_names().values()
            if not any(s in index_names for s in spellings)
        ]
        if missing:
            commands = ", ".join(k for k, v in self.to_reference().items() if v is True)
            raise GridOverrideError(
                f"Grid overrides {commands} need the index names {', '.join(missing)}; got {list(index_names)}."
            )
        if self.adds_trace_dimension and "trace" in index_names:
            raise GridOverrideError("NonBinned/HasDuplicates add a 'trace' dimension; do not name an index 'trace'.")
