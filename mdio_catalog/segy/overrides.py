"""Grid overrides applied to trace-header columns: pure functions, no files.

Each command reads and returns plain numpy columns keyed by index name. The order of the keys in the user's dict
does not matter: cables are always derived from the original (unwrapped) channel numbers before channels are
wrapped, unlike the reference where the result depends on key order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mdio_catalog.core import layout
from mdio_catalog.specs.grid_overrides import SHOT_NAMES, GridOverrides

Columns = dict[str, npt.NDArray[np.generic]]


@dataclass(frozen=True)
class OverrideResult:
    """Columns after the overrides, the (possibly longer) index names and chunks."""

    columns: Columns
    index_names: tuple[str, ...]
    chunksize: tuple[int, ...] | None


def _shot_name(columns: Mapping[str, object]) -> str:
    return next(name for name in SHOT_NAMES if name in columns)


def calculate_cable(channel: npt.NDArray[np.generic], channels_per_cable: int) -> npt.NDArray[np.int64]:
    """Cable number of sequential channels: channels 1..N are cable 1, N+1..2N cable 2, ..."""
    return (channel.astype(np.int64) - 1) // channels_per_cable + 1


def wrap_channels(channel: npt.NDArray[np.generic], channels_per_cable: int) -> npt.NDArray[np.int64]:
    """Channel number within its cable (1..N) of sequential channels."""
    return (channel.astype(np.int64) - 1) % channels_per_cable + 1


def channels_are_unwrapped(cable: npt.NDArray[np.generic], channel: npt.NDArray[np.generic]) -> bool:
    """True when no two cables' channel ranges overlap (the reference's "type B" streamer geometry)."""
    cables, inverse = np.unique(cable, return_inverse=True)
    if cables.size < 2:
        return True
    lows = np.full(cables.size, np.iinfo(np.int64).max)
    highs = np.full(cables.size, np.iinfo(np.int64).min)
    np.minimum.at(lows, inverse, channel.astype(np.int64))
    np.maximum.at(highs, inverse, channel.astype(np.int64))
    # The reference's pairwise test (strict, so touching ranges do not overlap); cables are few, so O(C^2) is fine.
    overlap = (lows[:, None] < highs[None, :]) & (highs[:, None] > lows[None, :])
    np.fill_diagonal(overlap, False)
    return not bool(overlap.any())


def auto_wrap_channels(
    cable: npt.NDArray[np.generic], channel: npt.NDArray[np.generic], qc_traces: int | None = None
) -> npt.NDArray[np.int64]:
    """Wrap channels per cable when the data is unwrapped (detected on the first ``qc_traces`` traces)."""
    window = slice(0, qc_traces)
    if not channels_are_unwrapped(cable[window], channel[window]):
        return channel.astype(np.int64)
    cables, inverse = np.unique(cable, return_inverse=True)
    lows = np.full(cables.size, np.iinfo(np.int64).max)
    np.minimum.at(lows, inverse, channel.astype(np.int64))
    return channel.astype(np.int64) - lows[inverse] + 1


def auto_unwrap_shots(
    shot_line: npt.NDArray[np.generic], gun: npt.NDArray[np.generic], shot_point: npt.NDArray[np.generic]
) -> npt.NDArray[np.generic]:
    """Shot points interleaved across guns become ``floor(shot_point / guns)`` when that keeps them unique.

    For every shot line with g guns, and every gun, the number of distinct ``floor(shot / g)`` must equal the number
    of distinct shots (the reference's "type B"); then every shot point is divided by the largest gun count.
    """
    max_guns = 1
    for line in np.unique(shot_line):
        in_line = shot_line == line
        guns = np.unique(gun[in_line])
        max_guns = max(max_guns, guns.size)
        for one_gun in guns:
            shots = shot_point[in_line & (gun == one_gun)].astype(np.float64)
            if np.unique(np.floor(shots / guns.size)).size != np.unique(shots).size:
                return shot_point
    return np.floor(shot_point.astype(np.float64) / max_guns).astype(shot_point.dtype)


def occurrence_counter(columns: Sequence[npt.NDArray[np.generic]]) -> npt.NDArray[np.int64]:
    """1-based count of each index tuple's occurrences in file order (the 'trace' dimension)."""
    n = len(columns[0]) if columns else 0
    if n == 0:
        return np.zeros(0, np.int64)
    _, ids = np.unique(np.stack([np.asarray(c) for c in columns], axis=1), axis=0, return_inverse=True)
    ids = ids.ravel()
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_ids)) + 1]
    group_start = np.repeat(starts, np.diff(np.r_[starts, n]))
    counter = np.empty(n, np.int64)
    counter[order] = np.arange(n) - group_start + 1
    return counter


def apply_grid_overrides(
    columns: Mapping[str, npt.NDArray[np.generic]],
    index_names: Sequence[str],
    overrides: GridOverrides | Mapping[str, object] | None,
    chunksize: Sequence[int] | None = None,
) -> OverrideResult:
    """Apply ``overrides`` to the index ``columns`` (one array per index name, file order)."""
    rules = GridOverrides.parse(overrides)
    names = tuple(index_names)
    chunks = tuple(chunksize) if chunksize is not None else None
    out: Columns = {name: np.asarray(values) for name, values in columns.items()}
    if not rules.active:
        return OverrideResult(out, names, chunks)
    rules.check_index_names(names)

    if rules.calculate_cable or rules.channel_wrap:
        assert rules.channels_per_cable is not None
        original = out["channel"]
        if rules.calculate_cable:
            out["cable"] = calculate_cable(original, rules.channels_per_cable)
        if rules.channel_wrap:
            out["channel"] = wrap_channels(original, rules.channels_per_cable)
    if rules.auto_channel_wrap:
        out["channel"] = auto_wrap_channels(out["cable"], out["channel"], rules.auto_channel_trace_qc)
    if rules.auto_shot_wrap:
        shot = _shot_name(out)
        out[shot] = auto_unwrap_shots(out["shot_line"], out["gun"], out[shot])
    if rules.adds_trace_dimension:
        out[layout.TRACE_DIM] = occurrence_counter([out[name] for name in names])
        names = (*names, layout.TRACE_DIM)
        if chunks is not None:
            assert rules.trace_chunk is not None
            chunks = (*chunks[:-1], rules.trace_chunk, chunks[-1])
    return OverrideResult(out, names, chunks)
