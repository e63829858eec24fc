"""segy_to_mdio with grid overrides: the reference document's override examples, on files generated to match.

Each expected grid is derived here from the generating header columns with the documented semantics (numpy and
plain Python), and every trace is checked in its cell against segyio's samples.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mdio_catalog import MDIOReader
from mdio_catalog.converters.segy import segy_to_mdio
from mdio_catalog.exceptions import GridTraceCountError
from tests.converters.segy_factory import (
    SyntheticSegy,
    grid_columns,
    occurrence,
    ramp_samples,
    read_with_segyio,
    shuffled,
    write_segy,
)
from tests.converters.test_segy import check_grid, zarray

CHANNELS_PER_CABLE = 800

#: A few reshot cells make the 'trace' dimension 3 deep, so the grid is ~2.6x the trace count: the density
#: check warns (as the reference's would); expected here.
RESHOOT_SPARSITY = pytest.mark.filterwarnings("ignore::mdio_catalog.core.geometry.GridSparsityWarning")


@pytest.fixture(scope="module")
def unwrapped_streamer(tmp_path_factory: pytest.TempPathFactory) -> SyntheticSegy:
    """3 shots x 2 cables x 800 channels, channels numbered 1..1600 across the cables (unwrapped).

    Shot point at byte 17, cable at byte 137 (2 bytes), channel at byte 13; a few channels are missing.
    """
    channels = np.arange(1, 2 * CHANNELS_PER_CABLE + 1)
    live = np.ones((3, channels.size), dtype=bool)
    live[1, 5] = live[2, 900] = live[0, 1599] = False
    cols, idx = grid_columns({17: [2001, 2002, 2003], 13: channels}, live)
    cols[137] = (cols[13] - 1) // CHANNELS_PER_CABLE + 1
    path = tmp_path_factory.mktemp("streamer") / "shot_file.segy"
    return write_segy(path, cols, ramp_samples(idx, 8), fmt=5)


def test_reference_example_calculate_cable_and_wrap_channels(unwrapped_streamer: SyntheticSegy, tmp_path: Path) -> None:
    src = unwrapped_streamer
    view = read_with_segyio(src.path, [17, 13])
    out = tmp_path / "shot_file.mdio"
    segy_to_mdio(
        segy_path=str(src.path),
        mdio_path_or_buffer=str(out),
        index_bytes=(17, None, 13),
        index_lengths=(4, None, 4),
        index_names=("shot", "cable", "channel"),
        chunksize=(8, 2, 128, 1024),
        grid_overrides={"ChannelWrap": True, "ChannelsPerCable": 800, "CalculateCable": True},
    )
    cable = (view.words[13] - 1) // CHANNELS_PER_CABLE + 1
    channel = (view.words[13] - 1) % CHANNELS_PER_CABLE + 1
    reader, live, headers, _, index = check_grid(
        out, ("shot", "cable", "channel"), [view.words[17], cable, channel], view.traces
    )
    assert reader.shape == (3, 2, 800, 8)
    np.testing.assert_array_equal(reader.grid.select_dim("cable").coords, [1, 2])
    np.testing.assert_array_equal(reader.grid.select_dim("channel").coords, np.arange(1, 801))
    assert int(live.sum()) == 3 * 1600 - 3
    assert zarray(out, "chunked_0123")["chunks"] == [8, 2, 128, 1024]
    # the stored headers keep the file's original (unwrapped) channel numbers
    np.testing.assert_array_equal(headers["trace_num_orig_record"][tuple(index.T)], view.words[13])

    # the result does not depend on the order of the keys (the reference's does)
    other = tmp_path / "reordered.mdio"
    segy_to_mdio(
        src.path,
        other,
        (17, None, 13),
        ("shot", "cable", "channel"),
        chunksize=(8, 2, 128, 1024),
        grid_overrides={"CalculateCable": True, "ChannelsPerCable": 800, "ChannelWrap": True},
        index_lengths=(4, None, 4),
    )
    a = MDIOReader(str(out), access_pattern="0123")[...]
    b = MDIOReader(str(other), access_pattern="0123")[...]
    np.testing.assert_array_equal(a, b)


def test_reference_example_wrap_channels_with_cable_bytes(unwrapped_streamer: SyntheticSegy, tmp_path: Path) -> None:
    src = unwrapped_streamer
    view = read_with_segyio(src.path, [17, 137, 13])
    out = tmp_path / "shot_file.mdio"
    segy_to_mdio(
        segy_path=str(src.path),
        mdio_path_or_buffer=str(out),
        index_bytes=(17, 137, 13),
        index_lengths=(4, 2, 4),
        index_names=("shot_point", "cable", "channel"),
        chunksize=(8, 2, 128, 1024),
        grid_overrides={"ChannelWrap": True, "ChannelsPerCable": 800},
    )
    channel = (view.words[13] - 1) % CHANNELS_PER_CABLE + 1
    reader, _, headers, _, index = check_grid(
        out, ("shot_point", "cable", "channel"), [view.words[17], view.words[137], channel], view.traces
    )
    assert reader.shape == (3, 2, 800, 8)
    np.testing.assert_array_equal(headers["sweep_taper_end"][tuple(index.T)], view.words[137])


def test_reference_example_auto_channel_wrap_on_unwrapped(unwrapped_streamer: SyntheticSegy, tmp_path: Path) -> None:
    src = unwrapped_streamer
    view = read_with_segyio(src.path, [17, 137, 13])
    out = tmp_path / "auto.mdio"
    segy_to_mdio(
        src.path,
        out,
        index_bytes=(17, 137, 13),
        index_lengths=(4, 2, 4),
        index_names=("shot_point", "cable", "channel"),
        chunksize=(8, 2, 128, 1024),
        grid_overrides={"AutoChannelWrap": True, "AutoChannelTraceQC": 1000000},
    )
    cable, raw = view.words[137], view.words[13]
    lowest = {c: raw[cable == c].min() for c in np.unique(cable)}
    channel = raw - np.array([lowest[c] for c in cable]) + 1  # type B: per-cable renumbering from 1
    reader, *_ = check_grid(out, ("shot_point", "cable", "channel"), [view.words[17], cable, channel], view.traces)
    assert reader.shape == (3, 2, 800, 8)


def test_auto_channel_wrap_leaves_wrapped_channels(tmp_path: Path) -> None:
    """Type A (cables' channel ranges overlap): channels unchanged. Cable 2 starts at 3, so a blind
    renumbering would show."""
    cols1, _ = grid_columns({17: [1, 2], 137: [1], 13: np.arange(1, 11)})
    cols2, _ = grid_columns({17: [1, 2], 137: [2], 13: np.arange(3, 13)})
    cols = {b: np.concatenate([cols1[b], cols2[b]]) for b in cols1}
    n = cols[17].size
    src = write_segy(tmp_path / "w.sgy", cols, ramp_samples(np.arange(n)[:, None], 6), order=shuffled(n, 1))
    view = read_with_segyio(src.path, [17, 137, 13])
    segy_to_mdio(
        src.path,
        tmp_path / "w.mdio",
        (17, 137, 13),
        ("shot_point", "cable", "channel"),
        index_types=("int32", "int16", "int32"),
        grid_overrides={"AutoChannelWrap": True, "AutoChannelTraceQC": 1000000},
    )
    reader, *_ = check_grid(
        tmp_path / "w.mdio",
        ("shot_point", "cable", "channel"),
        [view.words[17], view.words[137], view.words[13]],
        view.traces,
    )
    np.testing.assert_array_equal(reader.grid.select_dim("channel").coords, np.arange(1, 13))


def test_reference_example_auto_shot_wrap_five_indices(tmp_path: Path) -> None:
    """2 shot lines (byte 133), 2 guns (byte 171) firing alternately (odd shot points gun 1, even gun 2),
    2 cables (byte 137) of 16 unwrapped channels (byte 13, cable 2 is 17..32)."""
    rows = []
    for line in (7, 8):
        for sp in range(1001, 1013):
            gun = 1 if sp % 2 else 2
            for cable in (1, 2):
                for ch in range(16):
                    rows.append((line, gun, sp, cable, (cable - 1) * 16 + ch + 1))
    table = np.array(rows)
    cols = {133: table[:, 0], 171: table[:, 1], 17: table[:, 2], 137: table[:, 3], 13: table[:, 4]}
    n = len(rows)
    src = write_segy(tmp_path / "shot_file.segy", cols, ramp_samples(np.arange(n)[:, None], 10), fmt=1)
    view = read_with_segyio(src.path, [133, 171, 17, 137, 13])
    out = tmp_path / "shot_file.mdio"
    segy_to_mdio(
        segy_path=str(src.path),
        mdio_path_or_buffer=str(out),
        index_bytes=(133, 171, 17, 137, 13),
        index_lengths=(2, 2, 4, 2, 4),
        index_names=("shot_line", "gun", "shot_point", "cable", "channel"),
        chunksize=(1, 1, 8, 1, 128, 1024),
        grid_overrides={"AutoShotWrap": True, "AutoChannelWrap": True, "AutoChannelTraceQC": 1000000},
    )
    shot = view.words[17] // 2  # interleaved across 2 guns: floor(shot_point / guns)
    channel = (view.words[13] - 1) % 16 + 1
    names = ("shot_line", "gun", "shot_point", "cable", "channel")
    reader, live, *_ = check_grid(
        out, names, [view.words[133], view.words[171], shot, view.words[137], channel], view.traces
    )
    np.testing.assert_array_equal(reader.grid.select_dim("shot_point").coords, np.arange(500, 507))
    assert reader.shape == (2, 2, 7, 2, 16, 10)
    assert int(live.sum()) == n
    assert zarray(out, "chunked_012345")["chunks"] == [1, 1, 8, 1, 128, 1024]


def test_auto_shot_wrap_leaves_non_interleaved_shots(tmp_path: Path) -> None:
    """Both guns fire every shot point 1..6: floor(sp / 2) would merge shots, so nothing changes."""
    cols, idx = grid_columns({133: [1], 171: [1, 2], 17: np.arange(1, 7), 137: [1], 13: [1, 2, 3]})
    src = write_segy(tmp_path / "s.sgy", cols, ramp_samples(idx, 4))
    view = read_with_segyio(src.path, [133, 171, 17, 137, 13])
    names = ("shot_line", "gun", "shot_point", "cable", "channel")
    segy_to_mdio(
        src.path,
        tmp_path / "s.mdio",
        (133, 171, 17, 137, 13),
        names,
        index_types=("int16", "int16", "int32", "int16", "int32"),
        grid_overrides={"AutoShotWrap": True},
    )
    reader, *_ = check_grid(tmp_path / "s.mdio", names, [view.words[b] for b in (133, 171, 17, 137, 13)], view.traces)
    np.testing.assert_array_equal(reader.grid.select_dim("shot_point").coords, np.arange(1, 7))


@pytest.fixture
def cdp_offset_file(tmp_path: Path) -> SyntheticSegy:
    """10 CDPs (byte 21) with fold 3..8, each trace with its real-world offset (byte 37), shuffled."""
    rng = np.random.default_rng(11)
    cdp, offset = [], []
    for k, c in enumerate(range(2001, 2011)):
        fold = 3 + k % 6
        cdp += [c] * fold
        offset += sorted(rng.choice(np.arange(50, 5000), size=fold, replace=False).tolist())
    cols = {21: np.array(cdp), 37: np.array(offset)}
    n = len(cdp)
    return write_segy(
        tmp_path / "cdp_offset_file.segy", cols, ramp_samples(np.arange(n)[:, None], 12), order=shuffled(n, 4)
    )


def test_reference_example_non_binned_cdp(cdp_offset_file: SyntheticSegy, tmp_path: Path) -> None:
    view = read_with_segyio(cdp_offset_file.path, [21, 37])
    out = tmp_path / "cdp_offset_file.mdio"
    segy_to_mdio(
        segy_path=str(cdp_offset_file.path),
        mdio_path_or_buffer=str(out),
        index_bytes=(21,),
        index_types=("int32",),
        index_names=("cdp",),
        chunksize=(4, 1024),
        grid_overrides={"NonBinned": True, "chunksize": 64},
    )
    trace = occurrence([view.words[21]])  # 1..fold per CDP, first in first out
    reader, live, headers, _, index = check_grid(out, ("cdp", "trace"), [view.words[21], trace], view.traces)
    assert reader.shape == (10, 8, 12)
    np.testing.assert_array_equal(reader.grid.select_dim("trace").coords, np.arange(1, 9))
    np.testing.assert_array_equal(live.sum(axis=1), [3 + k % 6 for k in range(10)])
    np.testing.assert_array_equal(headers["source_to_receiver_distance"][tuple(index.T)], view.words[37])
    assert zarray(out, "chunked_012")["chunks"] == [4, 64, 1024]


def test_reference_example_non_binned_inline_crossline(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    il, xl, off = [], [], []
    for i in (10, 11, 12):
        for x in (20, 21, 22, 23):
            fold = int(rng.integers(2, 6))
            il += [i] * fold
            xl += [x] * fold
            off += rng.integers(0, 4000, size=fold).tolist()
    cols = {189: np.array(il), 193: np.array(xl), 37: np.array(off)}
    n = len(il)
    src = write_segy(
        tmp_path / "cdp_offset_file.segy", cols, ramp_samples(np.arange(n)[:, None], 9), fmt=1, order=shuffled(n, 8)
    )
    view = read_with_segyio(src.path, [189, 193, 37])
    out = tmp_path / "cdp_offset_file.mdio"
    segy_to_mdio(
        segy_path=str(src.path),
        mdio_path_or_buffer=str(out),
        index_bytes=(189, 193),
        index_types=("int32", "int32"),
        index_names=("inline", "crossline"),
        chunksize=(4, 4, 1024),
        grid_overrides={"NonBinned": True, "chunksize": 64},
    )
    trace = occurrence([view.words[189], view.words[193]])
    reader, *_ = check_grid(
        out, ("inline", "crossline", "trace"), [view.words[189], view.words[193], trace], view.traces
    )
    assert reader.shape[2] == int(trace.max())
    assert zarray(out, "chunked_0123")["chunks"] == [4, 4, 64, 1024]


@pytest.fixture
def reshoot_file(tmp_path: Path) -> SyntheticSegy:
    """4 shots (byte 9) x 2 cables (byte 213, int16) x 10 channels (byte 13); shot 2 cable 1 is shot again, and
    shot 3 cable 2 channels 4-5 three times in all."""
    cols, _ = grid_columns({9: [1, 2, 3, 4], 213: [1, 2], 13: np.arange(1, 11)})
    again1, _ = grid_columns({9: [2], 213: [1], 13: np.arange(1, 11)})
    again2, _ = grid_columns({9: [3], 213: [2], 13: [4, 5]})
    all_cols = {b: np.concatenate([cols[b], again1[b], again2[b], again2[b]]) for b in cols}
    n = all_cols[9].size
    return write_segy(tmp_path / "cdp_offset_file.segy", all_cols, ramp_samples(np.arange(n)[:, None], 7))


@RESHOOT_SPARSITY
def test_reference_example_has_duplicates(reshoot_file: SyntheticSegy, tmp_path: Path) -> None:
    view = read_with_segyio(reshoot_file.path, [9, 213, 13])
    out = tmp_path / "cdp_offset_file.mdio"
    segy_to_mdio(
        segy_path=str(reshoot_file.path),
        mdio_path_or_buffer=str(out),
        index_bytes=(9, 213, 13),
        index_types=("int32", "int16", "int32"),
        index_names=("shot", "cable", "chan"),
        chunksize=(8, 2, 256, 512),
        grid_overrides={"HasDuplicates": True},
    )
    trace = occurrence([view.words[9], view.words[213], view.words[13]])
    reader, live, headers, _, index = check_grid(
        out, ("shot", "cable", "chan", "trace"), [view.words[9], view.words[213], view.words[13], trace], view.traces
    )
    assert reader.shape == (4, 2, 10, 3, 7)
    np.testing.assert_array_equal(reader.grid.select_dim("trace").coords, [1, 2, 3])
    assert int(live[..., 1].sum()) == 12
    assert int(live[..., 2].sum()) == 2
    assert zarray(out, "chunked_01234")["chunks"] == [8, 2, 256, 1, 512]
    np.testing.assert_array_equal(headers["device_trace_id"][tuple(index.T)], view.words[213])


@RESHOOT_SPARSITY
def test_has_duplicates_default_chunks_keep_trace_chunk_one(reshoot_file: SyntheticSegy, tmp_path: Path) -> None:
    segy_to_mdio(
        reshoot_file.path,
        tmp_path / "d.mdio",
        (9, 213, 13),
        ("shot", "cable", "chan"),
        index_types=("int32", "int16", "int32"),
        grid_overrides={"HasDuplicates": True},
    )
    chunks = zarray(tmp_path / "d.mdio", "chunked_01234")["chunks"]
    assert chunks[3] == 1
    assert chunks[-1] == 7


def test_false_override_values_are_honoured(reshoot_file: SyntheticSegy, tmp_path: Path) -> None:
    """The reference ignores values; {"HasDuplicates": False} must not add the trace dimension."""
    with pytest.raises(GridTraceCountError, match="shot=2, cable=1, chan=1"):
        segy_to_mdio(
            reshoot_file.path,
            tmp_path / "f.mdio",
            (9, 213, 13),
            ("shot", "cable", "chan"),
            index_types=("int32", "int16", "int32"),
            grid_overrides={"HasDuplicates": False},
        )
    assert not (tmp_path / "f.mdio").exists()
