"""GridOverrides validation: every key of the reference, parameter rules, incompatibilities, honoured values."""

from __future__ import annotations

import pytest

from mdio_catalog.exceptions import GridOverrideError, MDIOError
from mdio_catalog.specs.grid_overrides import GridOverrides


@pytest.mark.parametrize(
    "overrides",
    [
        {"ChannelWrap": True, "ChannelsPerCable": 800, "CalculateCable": True},
        {"ChannelWrap": True, "ChannelsPerCable": 800},
        {"AutoChannelWrap": True, "AutoChannelTraceQC": 1000000},
        {"AutoShotWrap": True, "AutoChannelWrap": True, "AutoChannelTraceQC": 1000000},
        {"NonBinned": True, "chunksize": 64},
        {"HasDuplicates": True},
    ],
)
def test_every_reference_example_validates_and_round_trips(overrides: dict) -> None:
    model = GridOverrides.parse(overrides)
    assert model.to_reference() == overrides
    assert GridOverrides.parse(model.to_reference()) == model


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"ChanelWrap": True}, "did you mean 'ChannelWrap'"),
        ({"HasDuplicate": True}, "did you mean 'HasDuplicates'"),
        ({"ChannelWrap": True}, "ChannelsPerCable"),
        ({"CalculateCable": True}, "ChannelsPerCable"),
        ({"NonBinned": True}, "chunksize"),
        ({"ChannelWrap": True, "ChannelsPerCable": 8, "AutoChannelWrap": True}, "cannot be used together"),
        ({"CalculateCable": True, "ChannelsPerCable": 8, "AutoChannelWrap": True}, "cannot be used together"),
        ({"HasDuplicates": True, "ChannelWrap": True, "ChannelsPerCable": 8}, "cannot be used together"),
        ({"HasDuplicates": True, "CalculateCable": True, "ChannelsPerCable": 8}, "cannot be used together"),
        ({"HasDuplicates": True, "NonBinned": True, "chunksize": 4}, "cannot be used together"),
        ({"ChannelWrap": True, "ChannelsPerCable": 0}, "greater than 0"),
        ({"ChannelWrap": True, "ChannelsPerCable": "800"}, "integer"),
        ({"HasDuplicates": "yes"}, "boolean"),
    ],
)
def test_invalid_overrides_raise_grid_override_errors(overrides: dict, fragment: str) -> None:
    with pytest.raises(GridOverrideError, match=fragment) as info:
        GridOverrides.parse(overrides)
    assert isinstance(info.value, MDIOError)
    assert isinstance(info.value, ValueError)


def test_false_values_switch_commands_off() -> None:
    model = GridOverrides.parse({"HasDuplicates": False, "ChannelWrap": False})
    assert not model.active
    assert not model.adds_trace_dimension
    assert GridOverrides.parse({"NonBinned": True, "chunksize": 16}).trace_chunk == 16
    assert GridOverrides.parse({"HasDuplicates": True}).trace_chunk == 1


@pytest.mark.parametrize(
    ("overrides", "names", "fragment"),
    [
        ({"ChannelWrap": True, "ChannelsPerCable": 4}, ("shot_point", "channel"), "'cable'"),
        ({"AutoChannelWrap": True}, ("cable", "channel"), "'shot_point' or 'shot'"),
        ({"AutoShotWrap": True}, ("shot_point", "cable", "channel"), "'shot_line'"),
        ({"HasDuplicates": True}, ("shot", "trace"), "'trace'"),
    ],
)
def test_missing_index_names_are_named(overrides: dict, names: tuple[str, ...], fragment: str) -> None:
    with pytest.raises(GridOverrideError, match=fragment):
        GridOverrides.parse(overrides).check_index_names(names)


def test_not_a_mapping_is_refused() -> None:
    with pytest.raises(GridOverrideError, match="mapping"):
        GridOverrides.parse(["ChannelWrap"])  # type: ignore[arg-type]
