"""Grid overrides on header columns, checked against hand-built geometries (the oracle is the acquisition we
simulate: we know the true cable/channel/shot of every trace before scrambling it the way field files do)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mdio_catalog.exceptions import GridOverrideError
from mdio_catalog.segy.overrides import (
    apply_grid_overrides,
    auto_unwrap_shots,
    channels_are_unwrapped,
    occurrence_counter,
)


def streamer(shots: int = 3, cables: int = 4, channels: int = 6) -> dict[str, np.ndarray]:
    """True geometry of a streamer survey, shot-major file order."""
    rows = list(itertools.product(range(1, shots + 1), range(1, cables + 1), range(1, channels + 1)))
    shot, cable, channel = (np.array(c) for c in zip(*rows, strict=True))
    return {"shot_point": shot, "cable": cable, "channel": channel}


@pytest.mark.parametrize(
    "overrides",
    [
        {"ChannelWrap": True, "ChannelsPerCable": 6, "CalculateCable": True},
        {"CalculateCable": True, "ChannelsPerCable": 6, "ChannelWrap": True},
        {"ChannelsPerCable": 6, "CalculateCable": True, "ChannelWrap": True},
    ],
)
def test_calculate_cable_and_wrap_are_independent_of_key_order(overrides: dict) -> None:
    truth = streamer()
    sequential = (truth["cable"] - 1) * 6 + truth["channel"]
    columns = {"shot_point": truth["shot_point"], "cable": np.zeros_like(sequential), "channel": sequential}
    result = apply_grid_overrides(columns, ("shot_point", "cable", "channel"), overrides, (8, 2, 128, 1024))
    np.testing.assert_array_equal(result.columns["cable"], truth["cable"])
    np.testing.assert_array_equal(result.columns["channel"], truth["channel"])
    assert result.index_names == ("shot_point", "cable", "channel")
    assert result.chunksize == (8, 2, 128, 1024)
    np.testing.assert_array_equal(columns["channel"], sequential)  # inputs untouched


def test_channel_wrap_alone_keeps_cable_numbers_from_headers() -> None:
    truth = streamer()
    sequential = (truth["cable"] - 1) * 6 + truth["channel"]
    columns = {"shot_point": truth["shot_point"], "cable": truth["cable"], "channel": sequential}
    result = apply_grid_overrides(
        columns, ("shot_point", "cable", "channel"), {"ChannelWrap": True, "ChannelsPerCable": 6}
    )
    np.testing.assert_array_equal(result.columns["channel"], truth["channel"])
    np.testing.assert_array_equal(result.columns["cable"], truth["cable"])


def test_auto_channel_wrap_detects_unwrapped_and_leaves_wrapped_alone() -> None:
    truth = streamer(cables=3, channels=5)
    offset_per_cable = np.array([0, 0, 100, 250])  # cable 1 starts at 1, cable 2 at 101, cable 3 at 251
    unwrapped = truth["channel"] + offset_per_cable[truth["cable"]]
    assert channels_are_unwrapped(truth["cable"], unwrapped)
    assert not channels_are_unwrapped(truth["cable"], truth["channel"])
    names = ("shot_point", "cable", "channel")
    got = apply_grid_overrides({**truth, "channel": unwrapped}, names, {"AutoChannelWrap": True}).columns
    np.testing.assert_array_equal(got["channel"], truth["channel"])
    same = apply_grid_overrides(truth, names, {"AutoChannelWrap": True, "AutoChannelTraceQC": 10}).columns
    np.testing.assert_array_equal(same["channel"], truth["channel"])


def test_auto_channel_wrap_honours_the_qc_window() -> None:
    # Wrapped data whose channels start at 3 on both cables: overlapping ranges, so no change over all traces...
    truth = streamer(shots=2, cables=2, channels=4)
    wrapped_from_3 = truth["channel"] + 2
    names = ("shot_point", "cable", "channel")
    whole = apply_grid_overrides({**truth, "channel": wrapped_from_3}, names, {"AutoChannelWrap": True})
    np.testing.assert_array_equal(whole.columns["channel"], wrapped_from_3)
    # ...but a QC window of 4 traces sees cable 1 alone, calls it unwrapped, and renumbers from 1.
    window = apply_grid_overrides(
        {**truth, "channel": wrapped_from_3}, names, {"AutoChannelWrap": True, "AutoChannelTraceQC": 4}
    )
    np.testing.assert_array_equal(window.columns["channel"], truth["channel"])


def test_auto_shot_wrap_unwraps_gun_interleaved_shot_points() -> None:
    # Two guns firing alternately: gun 1 fires even shot points, gun 2 odd ones; the true shot index is sp // 2.
    true_shot = np.repeat(np.arange(10, 20), 4)
    gun = np.tile([1, 1, 2, 2], 10)
    shot_point = true_shot * 2 + (gun - 1)
    line = np.ones_like(gun)
    np.testing.assert_array_equal(auto_unwrap_shots(line, gun, shot_point), true_shot)
    # Not interleaved (each gun's shot points are consecutive numbers): left alone.
    consecutive = np.repeat(np.arange(100, 120), 2)
    guns = np.tile([1, 2], 20)
    np.testing.assert_array_equal(auto_unwrap_shots(np.ones(40, int), guns, consecutive), consecutive)


def test_occurrence_counter_counts_repeats_in_file_order() -> None:
    shot = np.array([5, 5, 6, 5, 6, 5])
    chan = np.array([1, 1, 1, 1, 2, 2])
    np.testing.assert_array_equal(occurrence_counter([shot, chan]), [1, 2, 1, 3, 1, 1])


def test_has_duplicates_and_non_binned_add_trace_dimension() -> None:
    columns = {"cdp": np.array([1, 1, 1, 2, 2, 3])}
    dup = apply_grid_overrides(columns, ("cdp",), {"HasDuplicates": True}, (4, 1024))
    np.testing.assert_array_equal(dup.columns["trace"], [1, 2, 3, 1, 2, 1])
    assert dup.index_names == ("cdp", "trace")
    assert dup.chunksize == (4, 1, 1024)
    nb = apply_grid_overrides(columns, ("cdp",), {"NonBinned": True, "chunksize": 64}, (4, 1024))
    assert nb.chunksize == (4, 64, 1024)
    off = apply_grid_overrides(columns, ("cdp",), {"HasDuplicates": False}, (4, 1024))
    assert off.index_names == ("cdp",)
    assert "trace" not in off.columns


def test_missing_index_for_override_is_an_error() -> None:
    with pytest.raises(GridOverrideError, match="'cable'"):
        apply_grid_overrides(
            {"shot_point": np.ones(3), "channel": np.ones(3)},
            ("shot_point", "channel"),
            {"ChannelWrap": True, "ChannelsPerCable": 4},
        )
