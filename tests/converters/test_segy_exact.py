"""Exact round trips of what the v0 layout cannot hold: rev 2 additional trace headers and unnormalised IBM
sample words, on generated files (written with segyio, then given those features byte by byte with numpy).

Oracles: the generated file's own bytes (the export must equal them), segyio reading the file before the bytes
were added (standard headers and samples), numpy on the raw records (the additional headers of every cell).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mdio_catalog import MDIOReader
from mdio_catalog.converters import segy_exact
from mdio_catalog.converters.mdio_to_segy import ExportPrecisionWarning, mdio_to_segy
from mdio_catalog.converters.segy import segy_to_mdio
from mdio_catalog.core import layout
from mdio_catalog.segy.ibm import unnormalised_mask
from tests.converters.segy_factory import (
    FORMAT_DTYPES,
    grid_columns,
    random_samples,
    read_with_segyio,
    shuffled,
    unnormalise_ibm,
    with_additional_headers,
    write_segy,
)

AXES = {189: [10, 11, 12, 13], 193: [1, 2, 3]}


def generated(folder: Path, fmt: int, endian: str, *, order: bool = False, seed: int = 0):  # type: ignore[no-untyped-def]
    live = np.ones((4, 3), dtype=bool)
    live[2, 1] = False  # a missing trace
    cols, idx = grid_columns(AXES, live)
    samples = random_samples(len(idx), 9, fmt, seed=seed, zero_fraction=0.1)
    permutation = shuffled(len(idx), seed) if order else None
    return write_segy(folder / "base.sgy", {**cols, 1: np.arange(len(idx))}, samples, fmt=fmt, endian=endian,
                      order=permutation)  # fmt: skip


def ingest(path: Path, out: Path) -> Path:
    segy_to_mdio(path, out, (189, 193), ("inline", "crossline"), chunksize=(2, 2, 9))
    return out


def export_strict(mdio: Path, out: Path, endian: str) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ExportPrecisionWarning)
        mdio_to_segy(mdio, out, endian=endian)
    return out


# --- rev 2 additional trace headers ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("fmt", "endian", "count"), [(1, "big", 1), (5, "little", 2), (3, "big", 3), (2, "little", 1)])
def test_additional_trace_headers_round_trip(tmp_path: Path, fmt: int, endian: str, count: int) -> None:
    base = generated(tmp_path, fmt, endian, seed=fmt)
    src = with_additional_headers(base, tmp_path / "rev2.sgy", count, seed=count)
    mdio = ingest(src, tmp_path / "rev2.mdio")
    reader = MDIOReader(str(mdio), return_metadata=True)
    # standard headers and samples as segyio reads the file without the additional headers
    view = read_with_segyio(base.path, [189, 193], endian=endian)
    live, headers, data = reader[...]
    i = np.searchsorted(AXES[189], view.words[189])
    j = np.searchsorted(AXES[193], view.words[193])
    np.testing.assert_array_equal(data[i, j], view.traces.astype(data.dtype))
    np.testing.assert_array_equal(headers["inline"][i, j], view.words[189])
    # the additional headers of every cell are the bytes after its standard header; zeros in the dead cell
    itemsize = FORMAT_DTYPES[fmt].itemsize
    records = np.fromfile(src, np.uint8)[3600:].reshape(base.n_traces, 240 * (1 + count) + 9 * itemsize)
    group = reader.root[f"{layout.METADATA_GROUP}/{layout.ADDITIONAL_HEADERS}"]
    extra = np.asarray(group[...])
    assert extra.shape == (4, 3, 240 * count)
    np.testing.assert_array_equal(extra[i, j], records[:, 240 : 240 * (1 + count)])
    assert not extra[~live].any()
    # byte for byte back
    out = export_strict(mdio, tmp_path / "out.sgy", endian)
    assert out.read_bytes() == src.read_bytes()


def test_additional_trace_headers_of_a_shuffled_file_follow_their_traces(tmp_path: Path) -> None:
    base = generated(tmp_path, 5, "big", order=True, seed=3)
    src = with_additional_headers(base, tmp_path / "rev2.sgy", 1, seed=9)
    out = export_strict(ingest(src, tmp_path / "s.mdio"), tmp_path / "out.sgy", "big")
    size = 480 + 9 * 4
    records = np.fromfile(src, np.uint8)[3600:].reshape(-1, size)
    exported = np.fromfile(out, np.uint8)[3600:].reshape(-1, size)
    word = lambda r, b: r[:, b - 1 : b + 3].copy().view(">i4").reshape(-1)  # noqa: E731
    order = np.lexsort((word(records, 193), word(records, 189)))
    assert not np.array_equal(order, np.arange(order.size)), "the source must really be shuffled"
    np.testing.assert_array_equal(exported, records[order])
    assert out.read_bytes()[:3600] == src.read_bytes()[:3600]


def test_additional_trace_headers_left_out_in_the_other_byte_order(tmp_path: Path) -> None:
    base = generated(tmp_path, 5, "big", seed=1)
    src = with_additional_headers(base, tmp_path / "rev2.sgy", 2)
    mdio = ingest(src, tmp_path / "x.mdio")
    with pytest.warns(ExportPrecisionWarning, match="2 additional 240-byte"):
        mdio_to_segy(mdio, tmp_path / "little.sgy", endian="little")
    raw = (tmp_path / "little.sgy").read_bytes()
    assert raw[3506:3508] == b"\x00\x00"
    view = read_with_segyio(tmp_path / "little.sgy", [189], endian="little")
    np.testing.assert_array_equal(view.traces, read_with_segyio(base.path, endian="big").traces)


# --- unnormalised IBM words --------------------------------------------------------------------------------------
def ibm_file(folder: Path, endian: str, every: int = 3) -> tuple[Path, int]:
    live = np.ones((4, 3), dtype=bool)
    cols, idx = grid_columns(AXES, live)
    # integer-valued samples have IBM fractions ending in zero hex digits: they can be written unnormalised
    samples = np.random.default_rng(5).integers(-5000, 5000, size=(len(idx), 9)).astype(np.float32)
    base = write_segy(folder / "ibm.sgy", cols, samples, fmt=1, endian=endian)
    return unnormalise_ibm(base, folder / "unnormalised.sgy", every)


@pytest.mark.parametrize("endian", ["big", "little"])
def test_unnormalised_ibm_words_come_back_with_their_bits(tmp_path: Path, endian: str) -> None:
    src, changed = ibm_file(tmp_path, endian)
    assert changed > 10
    mdio = ingest(src, tmp_path / "u.mdio")
    reader = MDIOReader(str(mdio))
    assert reader.dtype == np.float32  # the v0 dtype: the value is the same, only the bits differ
    facts = reader.metadata_attrs[layout.ATTR_CATALOG]["segy"]
    assert facts["unnormalised_ibm"] == changed
    assert facts["unnormalised_ibm_kept"] is True
    out = export_strict(mdio, tmp_path / "out.sgy", endian)
    assert out.read_bytes() == src.read_bytes()


def test_unnormalised_ibm_words_beyond_the_limit_warn_with_a_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, changed = ibm_file(tmp_path, "big", every=1)
    monkeypatch.setattr(segy_exact, "MAX_KEPT_WORDS", changed - 1)  # too many to keep
    mdio = ingest(src, tmp_path / "u.mdio")
    with pytest.warns(ExportPrecisionWarning, match=f"{changed} sample words .* unnormalised IBM"):
        mdio_to_segy(mdio, tmp_path / "out.sgy")
    words = lambda p: np.fromfile(p, np.uint8)[3600:].reshape(12, -1)[:, 240:].copy().view(">u4")  # noqa: E731
    source, exported = words(src), words(tmp_path / "out.sgy")
    assert not unnormalised_mask(exported).any()
    np.testing.assert_array_equal(source != exported, unnormalised_mask(source))
    np.testing.assert_array_equal(exported.view(">u4").astype(np.uint32) != 0, source.astype(np.uint32) != 0)


def test_changed_samples_keep_their_new_encoding(tmp_path: Path) -> None:
    """A stored sample written over after ingestion is exported as its new value, not the source's word."""
    from mdio_catalog import MDIOWriter

    src, _ = ibm_file(tmp_path, "big", every=1)
    mdio = ingest(src, tmp_path / "u.mdio")
    source = np.fromfile(src, np.uint8)[3600:].reshape(12, -1)[:, 240:].copy().view(">u4").astype(np.uint32)
    row, sample = map(int, np.argwhere(unnormalised_mask(source))[0])
    writer = MDIOWriter(str(mdio))
    values = np.asarray(writer[...])
    i, j = divmod(row, 3)
    values[i, j, sample] = 0.5
    writer[...] = values
    mdio_to_segy(mdio, tmp_path / "out.sgy")
    exported = np.fromfile(tmp_path / "out.sgy", np.uint8)[3600:].reshape(12, -1)[:, 240:].copy().view(">u4")
    assert int(exported[row, sample]) == 0x40800000  # 0.5, normalised
    others = np.ones(source.shape, dtype=bool)
    others[row, sample] = False
    np.testing.assert_array_equal(exported.astype(np.uint32)[others], source[others])


@dataclass
class SyntheticIbm:
    """An unnormalised IBM file as ``with_additional_headers`` takes it (12 traces of 9 samples, big-endian)."""

    path: Path
    fmt: int = 1
    endian: str = "big"
    n_traces: int = 12
    n_samples: int = 9


# --- the same on a dask cluster ---------------------------------------------------------------------------------------
def test_cluster_ingest_keeps_what_the_local_one_keeps(tmp_path: Path, dask_client: Any) -> None:
    """Additional headers, unnormalised IBM words (positions and bits gathered from the workers' results) and the
    exact dtype retry (a second pass on the workers) give the local run's dataset and the source's bytes back."""
    from tests.cluster import assert_ran_on_workers

    ibm, _ = ibm_file(tmp_path, "big")
    base = SyntheticIbm(ibm)
    rev2_ibm = with_additional_headers(base, tmp_path / "rev2-ibm.sgy", 1, seed=4)
    cols, idx = grid_columns(AXES)
    wide = np.random.default_rng(6).integers(2**25, 2**31 - 1, size=(len(idx), 9)).astype(np.int32)
    rev2_int = with_additional_headers(write_segy(tmp_path / "i4.sgy", cols, wide, fmt=2), tmp_path / "rev2-i4.sgy", 2)
    for src in (rev2_ibm, rev2_int):
        local, remote = tmp_path / f"{src.stem}-local.mdio", tmp_path / f"{src.stem}-cluster.mdio"
        ingest(src, local)
        segy_to_mdio(src, remote, (189, 193), ("inline", "crossline"), chunksize=(2, 2, 9), client=dask_client)
        assert_ran_on_workers(dask_client, "write_unit")
        a, b = MDIOReader(str(local), return_metadata=True), MDIOReader(str(remote), return_metadata=True)
        assert a.dtype == b.dtype
        for x, y in zip(a[...], b[...], strict=True):
            np.testing.assert_array_equal(x, y)
        assert a.metadata_attrs == b.metadata_attrs
        path = f"{layout.METADATA_GROUP}/{layout.ADDITIONAL_HEADERS}"
        np.testing.assert_array_equal(a.root[path][...], b.root[path][...])
        mdio_to_segy(remote, tmp_path / "out.sgy", client=dask_client)
        assert (tmp_path / "out.sgy").read_bytes() == src.read_bytes()


@pytest.mark.parametrize("probed", [True, False])
def test_exact_dtype_whether_the_probe_sees_the_wide_sample_or_not(tmp_path: Path, probed: bool) -> None:
    """One sample float32 cannot hold, in a trace the up-front probe decodes or in one it skips (then the float32
    pass counts it and the ingestion is redone in the exact dtype): the same exact dataset either way."""
    cols, idx = grid_columns({189: np.arange(30), 193: np.arange(20)})
    samples = np.random.default_rng(8).integers(-1000, 1000, size=(len(idx), 5)).astype(np.int32)
    seen = set(np.linspace(0, len(idx) - 1, min(len(idx), segy_exact.PROBE_TRACES)).astype(np.int64).tolist())
    trace = next(t for t in range(len(idx)) if (t in seen) == probed)
    samples[trace, 2] = 2**24 + 1
    src = write_segy(tmp_path / "one.sgy", cols, samples, fmt=2)
    segy_to_mdio(src.path, tmp_path / "one.mdio", (189, 193), chunksize=(8, 8, 5))
    reader = MDIOReader(str(tmp_path / "one.mdio"))
    assert reader.dtype == np.int32
    assert reader.metadata_attrs[layout.ATTR_CATALOG]["segy"]["inexact_samples"] == 0
    np.testing.assert_array_equal(reader[...].reshape(-1, 5), samples)
    out = export_strict(tmp_path / "one.mdio", tmp_path / "one-out.sgy", "big")
    assert out.read_bytes() == src.path.read_bytes()


@pytest.mark.parametrize("new_chunks", [None, (3, 1, 9), (1, 3, 9), (4, 3, 9)])
def test_unnormalised_ibm_words_with_other_export_blocks_and_a_selection(
    tmp_path: Path, new_chunks: tuple[int, ...] | None
) -> None:
    """The kept words find their records whatever the export's blocks and selection: the export of a selection
    is the source's records of the selected cells, in grid order, byte for byte."""
    src, changed = ibm_file(tmp_path, "big", every=2)
    mdio = ingest(src, tmp_path / "u.mdio")
    mask = np.random.default_rng(11).random((4, 3)) < 0.6
    mask[0, 0] = True
    out = tmp_path / "sel.sgy"
    with warnings.catch_warnings():
        warnings.simplefilter("error", ExportPrecisionWarning)
        mdio_to_segy(mdio, out, new_chunks=new_chunks, selection_mask=mask)
    records = np.fromfile(src, np.uint8)[3600:].reshape(12, -1)  # the source is in grid order, every cell live
    assert out.read_bytes()[3600:] == records[mask.reshape(-1)].tobytes()
    assert out.read_bytes()[:3600] == src.read_bytes()[:3600]
    kept = segy_exact.IbmWords.load(MDIOReader(str(mdio)).root, {"unnormalised_ibm": changed,
                                                                 "unnormalised_ibm_kept": True})  # fmt: skip
    assert kept.count == kept.positions.size == changed


def test_ibm_words_merge_and_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    a = segy_exact.IbmWords(2, np.array([5, 9]), np.array([1, 2], np.uint32))
    b = segy_exact.IbmWords(1, np.array([3]), np.array([7], np.uint32))
    both = a + b
    assert both.count == 3
    assert both.kept
    assert both.positions.tolist() == [5, 9, 3]
    assert (a + segy_exact.IbmWords()) is a
    monkeypatch.setattr(segy_exact, "MAX_KEPT_WORDS", 2)
    over = a + b
    assert over.count == 3
    assert not over.kept
    assert (over + a).count == 5  # once not kept, only counted
    assert not (over + a).kept


def test_additional_trace_headers_with_other_export_blocks_and_a_selection(tmp_path: Path) -> None:
    base = generated(tmp_path, 5, "little", seed=6)
    src = with_additional_headers(base, tmp_path / "rev2.sgy", 2, seed=6)
    mdio = ingest(src, tmp_path / "r.mdio")
    live = np.ones((4, 3), dtype=bool)
    live[2, 1] = False
    mask = np.zeros((4, 3), dtype=bool)
    mask[1:, ::2] = True
    out = tmp_path / "sel.sgy"
    mdio_to_segy(mdio, out, endian="little", new_chunks=(3, 2, 9), selection_mask=mask)
    records = np.fromfile(src, np.uint8)[3600:].reshape(base.n_traces, -1)  # grid order, one per live cell
    assert out.read_bytes()[3600:] == records[mask[live]].tobytes()
    assert out.read_bytes()[:3600] == src.read_bytes()[:3600]


def test_ibm_words_merge_many_parts_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    parts = [segy_exact.IbmWords(1, np.array([i]), np.array([i], np.uint32)) for i in range(50)]
    merged = segy_exact.IbmWords.merge([*parts, segy_exact.IbmWords()])
    assert merged.count == 50
    assert merged.positions.tolist() == list(range(50))
    monkeypatch.setattr(segy_exact, "MAX_KEPT_WORDS", 49)
    assert not segy_exact.IbmWords.merge(parts).kept
    assert segy_exact.IbmWords.merge([]).count == 0
