"""convert_mdio and ``mdio-catalog convert``: v0 -> v1 opened and exported by multidimio 1.x, v1 -> v0 opened by
the reference 0.9.3. Oracles: segyio on the source SEG-Y, the two reference libraries in their own venvs, numpy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import segyio
from typer.testing import CliRunner

from mdio_catalog import MDIOReader, convert_mdio, segy_to_mdio
from mdio_catalog.cli.app import app
from mdio_catalog.exceptions import ArgumentError, MDIOAlreadyExistsError
from mdio_catalog.v1.reader import V1Reader
from tests.v1.conftest import RunV1, load_v1_dump, with_coordinate_scalar

pytestmark = [pytest.mark.interop, pytest.mark.realdata]

TRACE_FIELDS = (segyio.TraceField.INLINE_3D, segyio.TraceField.CROSSLINE_3D, segyio.TraceField.CDP_X,
                segyio.TraceField.CDP_Y, segyio.TraceField.SourceGroupScalar)  # fmt: skip


def test_v0_to_v1_opens_and_exports_in_multidimio(run_v1: RunV1, segy_data: Path, tmp_path: Path) -> None:
    src = segy_data / "segyio/f3.sgy"
    v0 = tmp_path / "f3.mdio"
    segy_to_mdio(src, v0, [189, 193], ["inline", "crossline"], chunksize=(8, 8, 32))
    report = convert_mdio(v0, tmp_path / "f3_v1.mdio", to="v1")
    assert (report.raw_chunks, report.reencoded_chunks) == (3 * 3 * 3, 0)  # every trace chunk copied as stored

    run_v1("read", "--mdio", tmp_path / "f3_v1.mdio", "--out", tmp_path / "dump.npz")
    dump = load_v1_dump(tmp_path / "dump.npz")
    with segyio.open(src) as f:
        cube = segyio.tools.cube(f)
        np.testing.assert_array_equal(dump["coord_inline"], f.ilines)
        np.testing.assert_array_equal(dump["coord_crossline"], f.xlines)
        scalar = f.attributes(segyio.TraceField.SourceGroupScalar)[:].reshape(cube.shape[:2])
        cdp_x = f.attributes(segyio.TraceField.CDP_X)[:].reshape(cube.shape[:2])
    assert dump["dims"] == ["inline", "crossline", "time"]
    np.testing.assert_array_equal(dump["coord_time"], np.arange(75) * 4)
    np.testing.assert_array_equal(dump["data"], cube)
    assert dump["trace_mask"].all()
    np.testing.assert_array_equal(dump["headers"]["cdp_x"], cdp_x)
    np.testing.assert_array_equal(dump["headers"]["coordinate_scalar"], scalar)
    np.testing.assert_allclose(dump["cdp_x"], cdp_x / 10)

    run_v1("export", "--mdio", tmp_path / "f3_v1.mdio", "--out", tmp_path / "theirs.sgy")
    with segyio.open(src) as f, segyio.open(tmp_path / "theirs.sgy") as g:
        np.testing.assert_array_equal(g.trace.raw[:], f.trace.raw[:])
        for field in TRACE_FIELDS:
            np.testing.assert_array_equal(g.attributes(field)[:], f.attributes(field)[:])


def test_pre_stack_v0_to_v1(run_v1: RunV1, segy_data: Path, tmp_path: Path) -> None:
    src = segy_data / "segyio/small-ps.sgy"
    v0 = tmp_path / "ps.mdio"
    segy_to_mdio(src, v0, [189, 193, 37], ["inline", "crossline", "offset"], chunksize=(2, 2, 2, 10))
    convert_mdio(v0, tmp_path / "ps_v1.mdio")
    run_v1("read", "--mdio", tmp_path / "ps_v1.mdio", "--out", tmp_path / "dump.npz")
    dump = load_v1_dump(tmp_path / "dump.npz")
    assert dump["dims"] == ["inline", "crossline", "offset", "time"]
    with segyio.open(src) as f:
        np.testing.assert_array_equal(dump["data"], segyio.tools.cube(f))
        np.testing.assert_array_equal(dump["coord_offset"], f.offsets)
        offsets = f.attributes(segyio.TraceField.offset)[:].reshape(dump["trace_mask"].shape)
    np.testing.assert_array_equal(dump["headers"]["source_to_receiver_distance"], offsets)
    assert json.loads(str(dump["attrs"]))["name"] == "CdpOffsetGathers3DTime"


def test_v1_to_v0_opens_in_reference(run_v1: RunV1, read_with_reference, segy_data: Path, tmp_path: Path) -> None:
    src = segy_data / "segyio/f3.sgy"
    v1 = tmp_path / "f3_v1.mdio"
    run_v1("ingest", "--segy", src, "--out", v1, "--template", "PostStack3DTime")
    report = convert_mdio(v1, tmp_path / "f3.mdio", to="v0")
    assert (report.raw_chunks, report.reencoded_chunks) == (1, 0)  # multidimio's one 128^3 chunk, as stored
    dump = read_with_reference(tmp_path / "f3.mdio")
    with segyio.open(src) as f:
        cube = segyio.tools.cube(f)
        np.testing.assert_array_equal(dump["coords"]["inline"], f.ilines)
        inline = f.attributes(segyio.TraceField.INLINE_3D)[:].reshape(cube.shape[:2])
        text = f.text[0].decode("ascii", "replace")
    np.testing.assert_array_equal(dump["traces"], cube)
    assert dump["live_mask"].all()
    np.testing.assert_array_equal(dump["headers"]["inline"], inline)
    assert dump["info"]["trace_count"] == 414
    assert dump["info"]["text_header"][0] == text[:80]
    nonzero = cube[cube != 0].astype(np.float64)
    assert dump["info"]["stats"]["rms"] == pytest.approx(np.sqrt((nonzero**2).mean()))

    # A dataset with a dead trace: its v1 NaN samples become v0's 0 (that chunk is decoded and re-encoded).
    irr_segy = with_coordinate_scalar(segy_data / "seismic-zfp/small-irregular.sgy", tmp_path / "irr.sgy")
    run_v1("ingest", "--segy", irr_segy, "--out", tmp_path / "irr_v1.mdio", "--template", "PostStack3DTime")
    report = convert_mdio(tmp_path / "irr_v1.mdio", tmp_path / "irr.mdio", to="v0")
    assert report.reencoded_chunks == 1
    dump = read_with_reference(tmp_path / "irr.mdio")
    with segyio.open(irr_segy, ignore_geometry=True) as f:
        ils, xls, raw = f.attributes(189)[:], f.attributes(193)[:], f.trace.raw[:]
    i, j = np.searchsorted(np.unique(ils), ils), np.searchsorted(np.unique(xls), xls)
    expected = np.zeros((5, 5, 50), np.float32)
    expected[i, j] = raw
    np.testing.assert_array_equal(dump["traces"], expected)
    assert int(dump["live_mask"].sum()) == 24


def test_round_trip_lossy_and_errors(tmp_path: Path, segy_data: Path) -> None:
    """ZFP chunks cannot be copied into a Blosc array: they are re-encoded, values equal to what v0 reads."""
    v0 = tmp_path / "lossy.mdio"
    segy_to_mdio(segy_data / "segyio/f3.sgy", v0, [189, 193], ["inline", "crossline"], chunksize=(8, 8, 32),
                 lossless=False, compression_tolerance=1.0)  # fmt: skip
    report = convert_mdio(v0, tmp_path / "lossy_v1.mdio", sample_dim="depth")
    assert (report.raw_chunks, report.reencoded_chunks) == (0, 27)
    v1 = MDIOReader(tmp_path / "lossy_v1.mdio")
    assert isinstance(v1, V1Reader)
    assert v1.grid.dim_names[-1] == "depth"
    np.testing.assert_array_equal(v1[...], MDIOReader(v0)[...])
    back = tmp_path / "back.mdio"
    convert_mdio(tmp_path / "lossy_v1.mdio", back, to="v0")
    np.testing.assert_array_equal(MDIOReader(back)[...], MDIOReader(v0)[...])
    assert MDIOReader(back).trace_count == 414

    with pytest.raises(ArgumentError, match="already"):
        convert_mdio(v0, tmp_path / "x.mdio", to="v0")
    with pytest.raises(ArgumentError, match="v1"):
        convert_mdio(v0, tmp_path / "x.mdio", to="v2")  # type: ignore[arg-type]
    with pytest.raises(MDIOAlreadyExistsError):
        convert_mdio(tmp_path / "lossy_v1.mdio", back, to="v0")

    runner = CliRunner()
    done = runner.invoke(app, ["convert", str(v0), str(tmp_path / "cli_v1.mdio"), "--to", "v1", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["reencoded_chunks"] == 27
    np.testing.assert_array_equal(MDIOReader(tmp_path / "cli_v1.mdio")[...], MDIOReader(v0)[...])
    bad = runner.invoke(app, ["convert", str(v0), str(tmp_path / "y.mdio"), "--to", "v3"])
    assert bad.exit_code != 0
    assert "v1" in bad.output
