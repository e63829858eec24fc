"""``segy scan``: header summaries, geometry proposals and ready specs.

Generated files (written with segyio by ``tests/converters/segy_factory.py``): the proposal's kind and index bytes
must be the generator's, and ingesting the file with the proposed spec (resolved like a catalog entry and passed to
``segy_to_mdio``) must give the generator's grid. Public files (``<repo>/../shared/data/segy``): the proposal must
agree with ``manifest.json`` (index bytes and shape, including the files the manifest calls unstructured with
cells by bytes 9/13 or 189/193), the summary with the manifest's header ranges, and broken / Seismic Unix files
must fail with the reader's clear errors.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import yaml

from mdio_catalog import MDIOReader, segy_to_mdio
from mdio_catalog.catalog.proposal import proposed_spec, proposed_spec_yaml, scan_file
from mdio_catalog.exceptions import SegyFormatError, SegyTruncatedError
from mdio_catalog.segy.reader import SegyFile
from mdio_catalog.segy.scan import (
    GeometryKind,
    HeaderSample,
    HeaderSummary,
    IndexWord,
    evaluate_candidate,
    propose_geometry,
    read_header_sample,
    scan_headers,
    text_byte_hints,
)
from mdio_catalog.specs.catalog import CatalogSpec, DatasetSpec
from mdio_catalog.specs.resolve import resolve
from tests.converters.segy_factory import grid_columns, random_samples, shuffled, write_segy
from tests.segy.conftest import SEGY_DATA, load_manifest

K = GeometryKind
N_SAMPLES = 6


# --- helpers ----------------------------------------------------------------------------------------------------------
def make(
    tmp_path: Path,
    name: str,
    headers: Mapping[int, Any],
    *,
    order: npt.ArrayLike | None = None,
    endian: str = "big",
    fmt: int = 5,
) -> Path:
    cols = {b: np.asarray(v) for b, v in headers.items()}
    n = next(iter(cols.values())).size
    write_segy(tmp_path / name, cols, random_samples(n, N_SAMPLES, fmt, seed=n), fmt=fmt, endian=endian, order=order)
    return tmp_path / name


def ingest_shape(spec: Mapping[str, Any], tmp_path: Path) -> tuple[int, ...]:
    """Resolve ``spec`` as a catalog dataset entry, ingest it with segy_to_mdio, return the dataset's shape."""
    catalog = CatalogSpec.from_data(
        {"version": 1, "name": "scan", "root": str(tmp_path / "out"), "datasets": {"d": dict(spec)}}
    )
    resolved = resolve(catalog, "d")
    out = tmp_path / "out" / "d.mdio"
    segy_to_mdio(**resolved.segy_to_mdio_kwargs(str(spec["source"]["segy"]), str(out), overwrite=True))
    assert resolved.dimensions is not None
    pattern = "".join(str(i) for i in range(len(resolved.dimensions)))
    return tuple(MDIOReader(str(out), access_pattern=pattern).shape)


def check(
    tmp_path: Path,
    path: Path,
    kind: GeometryKind,
    index_bytes: tuple[int, ...],
    shape: tuple[int, ...],
    *,
    types: tuple[str, ...] | None = None,
    overrides: Mapping[str, Any] | None = None,
    **scan: Any,
) -> Any:
    """Scan ``path``; the proposal must be the truth, and ingesting with the proposed spec must give ``shape``."""
    report = scan_file(str(path), **scan)
    proposal = report.proposal
    assert (proposal.kind, proposal.index_bytes, proposal.shape) == (kind, index_bytes, shape), proposal.reasons
    if types is not None:
        assert tuple(w.type for w in proposal.index) == types
    if overrides is not None:
        assert dict(proposal.grid_overrides) == dict(overrides)
    DatasetSpec.from_data(report.spec)
    assert ingest_shape(report.spec, tmp_path) == (*shape, N_SAMPLES)
    return report


# --- generated files: one per geometry --------------------------------------------------------------------------------
def test_post_stack_3d_with_missing_traces(tmp_path: Path) -> None:
    inlines, crosslines = range(10, 32, 2), range(100, 140)
    live = np.random.default_rng(1).random((len(inlines), len(crosslines))) > 0.15
    live[0, 0] = live[-1, -1] = True
    cols, _ = grid_columns({189: inlines, 193: crosslines}, live)
    cols[181], cols[185] = cols[189] * 25, cols[193] * 25
    cols[5] = np.arange(cols[189].size) + 1
    path = make(tmp_path, "stack.sgy", cols)
    report = check(tmp_path, path, K.POST_STACK_3D, (189, 193), (11, 40), types=("int32", "int32"))
    assert report.spec["template"] == "PostStack3DTime"
    assert report.proposal.fill == pytest.approx(live.sum() / live.size)
    assert report.proposal.confidence_label == "high"


def test_post_stack_2d_cdp(tmp_path: Path) -> None:
    cdp = np.arange(5001, 5101)
    path = make(tmp_path, "line.sgy", {21: cdp, 5: np.arange(cdp.size) + 1, 197: cdp // 2})
    report = check(tmp_path, path, K.POST_STACK_2D, (21,), (100,))
    assert report.spec["template"] == "PostStack2DTime"


def test_cdp_offset_3d(tmp_path: Path) -> None:
    live = np.ones((4, 5, 3), dtype=bool)
    live[1, 2, 0] = live[3, 4, :] = False
    cols, _ = grid_columns({189: range(1, 5), 193: range(20, 25), 37: [100, 200, 300]}, live)
    path = make(tmp_path, "cdp3d.sgy", cols)
    report = check(tmp_path, path, K.CDP_OFFSET_3D, (189, 193, 37), (4, 5, 3), overrides={})
    assert report.spec["template"] == "PreStackCdpOffsetGathers3DTime"


def test_cdp_offset_2d(tmp_path: Path) -> None:
    live = np.ones((30, 6), dtype=bool)
    live[:3, 3:] = live[-3:, :2] = False  # tapered fold at the ends of the line
    cols, _ = grid_columns({21: range(1000, 1030), 37: range(50, 350, 50)}, live)
    path = make(tmp_path, "cdp2d.sgy", cols)
    report = check(tmp_path, path, K.CDP_OFFSET_2D, (21, 37), (30, 6))
    assert report.spec["template"] == "PreStackCdpOffsetGathers2DTime"


def streamer(wrapped: bool, *, with_ffid: bool) -> dict[int, np.ndarray]:
    shots, cables, channels = range(101, 106), range(1, 4), range(1, 21)
    cols, index = grid_columns({17: shots, 137: cables, 13: channels})
    if not wrapped:
        cols[13] = (cols[137] - 1) * len(channels) + cols[13]  # channels run on across cables
    cols[37] = 150 + 25 * index[:, 2] + 7 * index[:, 1]
    if with_ffid:
        cols[9] = cols[17] + 900
    return cols


def test_streamer_shots_wrapped_channels(tmp_path: Path) -> None:
    path = make(tmp_path, "wrapped.sgy", streamer(wrapped=True, with_ffid=False))
    report = check(tmp_path, path, K.STREAMER_SHOTS_WRAPPED, (17, 137, 13), (5, 3, 20), overrides={})
    assert report.spec["template"] == "StreamerShotGathers3D"
    assert report.spec["source"]["grid_overrides"] == {}  # the template's AutoChannelWrap is not needed


def test_streamer_shots_unwrapped_channels(tmp_path: Path) -> None:
    path = make(tmp_path, "unwrapped.sgy", streamer(wrapped=False, with_ffid=True))
    report = check(
        tmp_path,
        path,
        K.STREAMER_SHOTS_UNWRAPPED,
        (9, 137, 13),
        (5, 3, 20),
        types=("int32", "int16", "int32"),
        overrides={"AutoChannelWrap": True},
    )
    assert "ChannelsPerCable: 20" in " ".join(report.proposal.reasons)
    two_d = [a for a in report.proposal.alternatives if a.kind is K.SHOT_GATHERS_2D and a.accepted]
    assert two_d
    assert two_d[0].shape == (5, 60)


def test_shuffled_post_stack(tmp_path: Path) -> None:
    cols, _ = grid_columns({189: range(300, 308), 193: range(1, 10)})
    path = make(tmp_path, "shuffled.sgy", cols, order=shuffled(72, seed=3))
    report = check(tmp_path, path, K.POST_STACK_3D, (189, 193), (8, 9))
    assert not any(d.grouped for d in report.proposal.dimensions)
    assert report.summary.field("inline").monotonic == "no"


def test_inline_crossline_as_int16_at_189_193(tmp_path: Path) -> None:
    """2-byte line numbers at 189/193 (big endian): the 4-byte reading gives il * 65536, the proposal reads int16."""
    cols, _ = grid_columns({189: range(1201, 1207), 193: range(501, 511)})
    il, xl = cols.pop(189), cols.pop(193)
    cols[5] = np.arange(il.size) + 1
    path = make(tmp_path, "int16.sgy", cols)
    trace = 240 + 4 * N_SAMPLES
    with path.open("r+b") as f:
        for i in range(il.size):
            f.seek(3600 + i * trace + 188)
            f.write(struct.pack(">hh", int(il[i]), 0))
            f.write(struct.pack(">hh", int(xl[i]), 0))
    report = check(tmp_path, path, K.POST_STACK_3D, (189, 193), (6, 10), types=("int16", "int16"))
    assert report.summary.field(189).min == 1201 * 65536
    assert "index" in report.spec["source"]  # no ready template reads int16 line numbers
    assert any("2-byte" in r for r in report.proposal.reasons)


def test_empty_189_193_shots_in_9_13(tmp_path: Path) -> None:
    cols, index = grid_columns({9: range(11, 17), 13: range(1, 25)})
    cols[37] = -100 - 50 * index[:, 1]
    report = check(tmp_path, make(tmp_path, "shots.sgy", cols), K.SHOT_GATHERS_2D, (9, 13), (6, 24))
    assert any("189/193" in r and "empty" in r for r in report.proposal.reasons)


def test_empty_189_193_lines_in_9_21(tmp_path: Path) -> None:
    cols, _ = grid_columns({9: range(70, 76), 21: range(900, 912)})
    cols[13] = np.tile(np.arange(1, 13), 6)  # trace number within the line
    check(tmp_path, make(tmp_path, "lines.sgy", cols), K.POST_STACK_3D, (9, 21), (6, 12))


def test_duplicate_traces_get_has_duplicates(tmp_path: Path) -> None:
    cols, _ = grid_columns({189: range(1, 7), 193: range(1, 8)})
    again = np.arange(0, 42, 9)
    cols = {b: np.concatenate([v, v[again]]) for b, v in cols.items()}
    check(
        tmp_path,
        make(tmp_path, "dups.sgy", cols),
        K.POST_STACK_3D,
        (189, 193),
        (6, 7, 2),
        overrides={"HasDuplicates": True},
    )


def test_unbinned_offsets_get_non_binned(tmp_path: Path) -> None:
    cols, _ = grid_columns({189: range(1, 5), 193: range(1, 6), 37: range(6)})
    cols[37] = np.random.default_rng(2).permutation(5000)[: cols[37].size] + 100  # every trace its own offset
    report = check(
        tmp_path,
        make(tmp_path, "unbinned.sgy", cols),
        K.CDP_OFFSET_3D,
        (189, 193),
        (4, 5, 6),
        overrides={"NonBinned": True, "chunksize": 6},
    )
    assert report.proposal.dims == ("inline", "crossline", "trace")


def test_large_files_are_sampled(tmp_path: Path) -> None:
    cols, _ = grid_columns({189: range(1, 41), 193: range(1, 51)})
    path = make(tmp_path, "big.sgy", cols)
    report = check(tmp_path, path, K.POST_STACK_3D, (189, 193), (40, 50), max_traces=400)
    assert report.summary.sampled
    assert report.summary.n_scanned <= 400
    assert report.proposal.sampled
    assert any("scanned" in n and "of 2000 traces" in n for n in report.summary.notes)
    assert any("Only" in r and "were scanned" in r for r in report.proposal.reasons)
    assert report.proposal.confidence < 1.0


def test_sort_order_tells_shot_from_cdp_gathers(tmp_path: Path) -> None:
    """A 2-D line where shot/channel (9/13) and CDP/offset (21/37) both give dense grids: the sort order decides."""
    cols, index = grid_columns({9: range(1, 41), 13: range(1, 5)})
    cols[21] = 100 + index[:, 0] + index[:, 1]
    cols[37] = 50 * (index[:, 1] + 1)
    by_shot = scan_file(str(make(tmp_path, "by_shot.sgy", cols))).proposal
    assert (by_shot.kind, by_shot.index_bytes) == (K.SHOT_GATHERS_2D, (9, 13))
    order = np.lexsort((cols[37], cols[21]))
    by_cdp = scan_file(str(make(tmp_path, "by_cdp.sgy", cols, order=order))).proposal
    assert (by_cdp.kind, by_cdp.index_bytes) == (K.CDP_OFFSET_2D, (21, 37))


def test_little_endian_file_spec_names_endian(tmp_path: Path) -> None:
    cols, _ = grid_columns({189: range(1, 4), 193: range(1, 5)})
    report = check(tmp_path, make(tmp_path, "lsb.sgy", cols, endian="little"), K.POST_STACK_3D, (189, 193), (3, 4))
    assert report.summary.endian == "little"
    assert report.spec["source"]["endian"] == "little"


# --- pure: proposals from header words --------------------------------------------------------------------------------
def summary_of(sample: HeaderSample, n_samples: int = 10) -> HeaderSummary:
    """A minimal summary around a synthetic sample (no file)."""
    return HeaderSummary(
        url="mem://x",
        size=0,
        n_traces=sample.n_traces,
        n_samples=n_samples,
        sample_interval=4000.0,
        sample_format=5,
        sample_format_name="float32",
        endian=sample.endian,
        revision=(1, 0),
        text_encoding="ebcdic",
        data_offset=3600,
        trace_size=240 + 4 * n_samples,
        extended_text_headers=0,
        extra_trace_headers=0,
        n_scanned=sample.size,
        fields=(),
        notes=(),
        headers=sample,
    )


def test_byte_swapped_189_193_lose_to_plausible_5_21() -> None:
    """189/193 hold a 5 x 5 grid of byte-swapped numbers (1 << 24, ...): believable words win."""
    il, xl = np.repeat(np.arange(1, 6), 5), np.tile(np.arange(20, 25), 5)
    sample = HeaderSample.from_words({189: il << 24, 193: xl << 24, 5: il, 21: xl})
    proposal = propose_geometry(summary_of(sample))
    assert (proposal.kind, proposal.index_bytes, proposal.shape) == (K.POST_STACK_3D, (5, 21), (5, 5))
    swapped = next(a for a in proposal.alternatives if a.index_bytes == (189, 193) and a.accepted)
    assert swapped.implausible
    assert any(f.issue for f in swapped.facts)


def test_junk_headers_are_unstructured() -> None:
    junk = np.array([0, 1077939431, 1082137947, 1090000000])
    sample = HeaderSample.from_words({b: junk + b for b in (1, 5, 9, 13, 17, 21, 37, 189, 193)})
    proposal = propose_geometry(summary_of(sample))
    assert proposal.kind is K.UNSTRUCTURED
    assert proposal.shape == (4,)
    assert proposal.confidence <= 0.5


def test_keys_in_other_standard_words_are_found() -> None:
    """Nothing conventional works (189/193 empty, no 9/13/17/21): any two standard words that grid the traces."""
    il, xl = np.repeat(np.arange(11, 16), 5), np.tile(np.arange(30, 35), 5)
    sample = HeaderSample.from_words({29: il, 71: xl}, types={29: "int16", 71: "int16"})
    proposal = propose_geometry(summary_of(sample))
    assert (proposal.kind, proposal.index_bytes, proposal.shape) == (K.POST_STACK_3D, (29, 71), (5, 5))
    assert tuple(w.type for w in proposal.index) == ("int16", "int16")
    assert proposal.confidence_label != "high"


def test_identical_headers_fall_back_to_has_duplicates() -> None:
    sample = HeaderSample.from_words({189: np.ones(7), 193: np.full(7, 20)})
    proposal = propose_geometry(summary_of(sample))
    assert (proposal.kind, proposal.index_bytes, proposal.shape) == (K.UNSTRUCTURED, (5,), (1, 7))
    assert dict(proposal.grid_overrides) == {"HasDuplicates": True}
    assert proposal.index_shape == (1,)


@pytest.mark.parametrize(
    ("il", "xl", "kind", "shape"),
    [(2500, 1883, K.POST_STACK_3D, (1, 1)), (0, 0, K.POST_STACK_3D, (1, 1)), (3225906, 0, K.UNSTRUCTURED, (1,))],
)
def test_single_trace(il: int, xl: int, kind: GeometryKind, shape: tuple[int, ...]) -> None:
    proposal = propose_geometry(summary_of(HeaderSample.from_words({189: [il], 193: [xl]})))
    assert (proposal.kind, proposal.shape) == (kind, shape)
    assert proposal.confidence_label == "low"


def test_evaluate_candidate_verdicts() -> None:
    il, xl = np.repeat(np.arange(1, 4), 4), np.tile(np.arange(1, 5), 3)
    sample = HeaderSample.from_words({189: il, 193: xl, 37: np.zeros(12), 5: np.arange(12) + 1})
    lines = (IndexWord("inline", 189), IndexWord("crossline", 193))
    ok = evaluate_candidate(sample, K.POST_STACK_3D, lines)
    assert ok.accepted
    assert ok.shape == (3, 4)
    assert ok.fill == 1.0
    dup = evaluate_candidate(sample, K.POST_STACK_3D, lines[:1])
    assert not dup.accepted
    assert "hold several traces" in dup.verdict
    const = evaluate_candidate(sample, K.CDP_OFFSET_3D, (*lines, IndexWord("offset", 37)))
    assert not const.accepted
    assert "offset (byte 37) is constant" in const.verdict
    redundant = evaluate_candidate(sample, K.POST_STACK_3D, (lines[0], IndexWord("crossline", 5)))
    assert not redundant.accepted
    assert "adds nothing" in redundant.verdict
    sparse = evaluate_candidate(sample, K.POST_STACK_3D, (IndexWord("inline", 5), IndexWord("crossline", 193)))
    assert not sparse.accepted


def test_text_header_hints() -> None:
    lines = ["C24 Inline number               : bytes 5-8", "C25 Xline number                : bytes 21-24"]
    assert text_byte_hints(lines) == {"inline": 5, "crossline": 21}
    assert text_byte_hints(["C36 INLINE: 189-192             ;  X-LINE: 193-196;"]) == {
        "inline": 189,
        "crossline": 193,
    }
    assert text_byte_hints(["C 1 inlines:    111 .. 133"]) == {}


# --- summaries and specs ----------------------------------------------------------------------------------------------
def test_summary_of_generated_file(tmp_path: Path) -> None:
    cols, _ = grid_columns({189: range(5, 8), 193: range(30, 34)})
    cols[71] = np.full(12, -100)
    path = make(tmp_path, "s.sgy", cols, fmt=1)
    with SegyFile(path) as segy:
        summary = scan_headers(segy)
        assert read_header_sample(segy, 5).size <= 5
    assert (summary.n_traces, summary.n_samples, summary.sample_format, summary.endian) == (12, N_SAMPLES, 1, "big")
    assert summary.sample_interval == 4000.0
    assert summary.text_encoding == "ebcdic"
    assert len(summary.fields) == 90
    inline = summary.field("inline")
    assert (inline.byte, inline.min, inline.max, inline.n_unique, inline.monotonic) == (189, 5, 7, 3, "non-decreasing")
    assert summary.field(71).constant
    assert summary.field(71).min == -100
    assert summary.field(193).examples == (30, 31, 32, 33)
    assert summary.field(13).empty
    assert summary.format_check is not None
    assert summary.format_check.suggested is None
    data = summary.to_dict()
    assert data["n_traces"] == 12
    assert len(data["fields"]) == 90
    assert "headers" not in data


def test_ieee_samples_labelled_ibm_are_noticed(tmp_path: Path) -> None:
    cols, _ = grid_columns({189: range(1, 5), 193: range(1, 5)})
    path = make(tmp_path, "ieee-as-ibm.sgy", cols, fmt=5)
    with path.open("r+b") as f:  # relabel the IEEE samples as IBM floats
        f.seek(3224)
        f.write(struct.pack(">h", 1))
    report = scan_file(str(path))
    assert report.summary.sample_format == 1
    check = report.summary.format_check
    assert check is not None
    assert (check.declared, check.suggested) == (1, 5)
    assert report.spec["source"]["sample_format"] == 5
    honest = scan_file(str(make(tmp_path, "ibm.sgy", cols, fmt=1))).summary.format_check
    assert honest is not None
    assert honest.suggested is None


def test_spec_yaml_round_trip(tmp_path: Path) -> None:
    cols, _ = grid_columns({189: range(1, 4), 193: range(1, 5)})
    report = scan_file(str(make(tmp_path, "y.sgy", cols)), segy_url="raw/y.sgy")
    text = proposed_spec_yaml(report.proposal, "raw/y.sgy", schema="../schemas/dataset.schema.json")
    assert text.startswith("# yaml-language-server: $schema=../schemas/dataset.schema.json\n")
    assert DatasetSpec.from_yaml(text) == DatasetSpec.from_data(report.spec)
    assert report.spec["source"]["segy"] == "raw/y.sgy"
    nested = yaml.safe_load(report.spec_yaml(name="stack"))
    assert nested["datasets"]["stack"] == report.spec
    assert proposed_spec(report.proposal, "raw/y.sgy", chunks=False).get("chunks") is None


# --- public files -----------------------------------------------------------------------------------------------------
MANIFEST = load_manifest()
FAILING = [e["dst"] for e in MANIFEST if e["api"] == "su" or e["reader"] == "fail"]
READABLE = [e["dst"] for e in MANIFEST if e["dst"] not in FAILING]
BY_NAME = {e["dst"]: e for e in MANIFEST}


def manifest_geometry(entry: Mapping[str, Any]) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """(index bytes, shape) the manifest gives, offsets only when there are several; None when unstructured."""
    expected = entry["expected"]
    if expected.get("cells"):
        cells = expected["cells"]
        return tuple(cells["bytes"]), (cells["n_keys1"], cells["n_keys2"])
    if expected.get("unstructured", True):
        return None
    n_il, n_xl, n_off, _ = expected["shape_il_xl_off_samples"]
    kw = entry["kw"]
    if n_off > 1:
        return (kw["iline"], kw["xline"], 37), (n_il, n_xl, n_off)
    return (kw["iline"], kw["xline"]), (n_il, n_xl)


@pytest.mark.realdata
@pytest.mark.parametrize("name", READABLE)
def test_public_file_proposal_agrees_with_manifest(name: str, segy_data: Path) -> None:
    entry = BY_NAME[name]
    report = scan_file(str(segy_data / name))
    proposal = report.proposal
    truth = manifest_geometry(entry)
    if truth is None:
        assert proposal.kind is K.UNSTRUCTURED or proposal.n_traces == 1, proposal.reasons
        assert proposal.n_cells == proposal.n_traces
    else:
        assert (proposal.index_bytes, proposal.shape) == truth, proposal.reasons
        expected_kind = K.CDP_OFFSET_3D if len(truth[0]) == 3 else None
        if expected_kind is not None:
            assert proposal.kind is expected_kind
    DatasetSpec.from_data(report.spec)


@pytest.mark.realdata
@pytest.mark.parametrize("name", READABLE)
def test_public_file_summary_agrees_with_manifest(name: str, segy_data: Path) -> None:
    entry = BY_NAME[name]
    expected = entry["expected"]
    summary = scan_file(str(segy_data / name)).summary
    assert summary.n_traces == expected["tracecount"]
    assert summary.n_samples == expected["n_samples"]
    assert summary.endian == entry["raw"]["endian"]
    if entry["raw"]["text_encoding"] in ("ASCII", "EBCDIC"):
        assert summary.text_encoding == entry["raw"]["text_encoding"].lower()
    assert summary.sample_format == (1 if expected["format"] == 4 else expected["format"]) or name.endswith("7msb.sgy")
    for byte, facts in expected["trace_header_ranges"].items():
        got = summary.field(int(byte))
        assert (got.min, got.max, got.n_unique) == (facts["min"], facts["max"], facts["nunique"]), byte


@pytest.mark.realdata
@pytest.mark.parametrize(
    "name",
    [
        "segyio/viking_small.segy",
        "segyio/shot-gather.sgy",
        "seismic-zfp/small-irregular.sgy",
        "segyio/1xN.sgy",
        "segyio/small-ps-dec-il-xl-off.sgy",
        "oneseismic/small-iline-5-xline-21.sgy",
        "segyio/f3-lsb.sgy",
        "segysak/volve10-migvel-depth-sub3d.sgy",
    ],
)
def test_public_file_spec_ingests_to_proposed_shape(name: str, segy_data: Path, tmp_path: Path) -> None:
    if name not in BY_NAME:
        pytest.skip(f"{name} is not in the manifest")
    report = scan_file(str(segy_data / name))
    spec = dict(report.spec)
    spec["source"] = {k: v for k, v in spec["source"].items() if k != "sample_format"}  # segy_to_mdio takes none
    assert ingest_shape(spec, tmp_path) == report.proposal.full_shape


@pytest.mark.realdata
@pytest.mark.parametrize("name", FAILING)
def test_public_broken_and_su_files_fail_clearly(name: str, segy_data: Path) -> None:
    with pytest.raises((SegyFormatError, SegyTruncatedError)) as caught:
        scan_file(str(segy_data / name))
    message = str(caught.value)
    assert name.rsplit("/", 1)[-1] in message
    assert ("Seismic Unix" in message) if name.endswith(".su") else ("truncated" in message)


@pytest.mark.realdata
def test_public_sample_format_checks(segy_data: Path) -> None:
    if not (segy_data / "segyio/multiformats/Format4msb.sgy").is_file():
        pytest.skip("multiformats files absent")
    format4 = scan_file(str(segy_data / "segyio/multiformats/Format4msb.sgy")).summary.format_check
    assert format4 is not None
    assert (format4.declared, format4.suggested) == (4, 5)
    # the file is Format5msb.sgy with another label: IEEE is right
    same = (segy_data / "segyio/multiformats/Format4msb.sgy").read_bytes()[3600:]
    assert same == (segy_data / "segyio/multiformats/Format5msb.sgy").read_bytes()[3600:]
    ibm = scan_file(str(segy_data / "segyio/multiformats/Format1msb.sgy")).summary.format_check
    assert ibm is not None
    assert ibm.suggested is None
    trap = scan_file(str(segy_data / "oneseismic/small-iline-5-xline-21.sgy"))
    assert trap.summary.format_check is not None
    assert trap.summary.format_check.suggested == 5
    assert trap.spec["source"]["sample_format"] == 5


def test_public_data_folder_is_where_tests_look() -> None:
    if not MANIFEST:
        pytest.skip(f"public SEG-Y test data not found at {SEGY_DATA}")
    assert len(READABLE) + len(FAILING) == len(MANIFEST)
