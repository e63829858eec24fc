"""Datasets written by multidimio 1.x (Zarr v3 and v2 flavours) read through our API.

multidimio 1.x ingests public SEG-Y files in its own venv; we open the result with MDIOReader, the xarray view,
info, plot and mdio_to_segy. Oracles: segyio on the same SEG-Y file, and multidimio 1.x's own ``open_mdio`` dump.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import segyio
from typer.testing import CliRunner

from mdio_catalog import MDIOReader, MDIOWriter, copy_mdio, mdio_to_segy, open_dataset
from mdio_catalog.cli.app import app
from mdio_catalog.exceptions import AccessPatternNotFoundError, MDIOReadOnlyError
from mdio_catalog.v1.reader import V1Reader
from tests.v1.conftest import RunV1, load_v1_dump, with_coordinate_scalar

pytestmark = [pytest.mark.interop, pytest.mark.realdata]


@pytest.fixture(scope="module", params=["3", "2"], ids=["zarr3", "zarr2"])
def f3_v1(request: pytest.FixtureRequest, run_v1: RunV1, segy_data: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp(f"v1z{request.param}") / "f3.mdio"
    run_v1("ingest", "--segy", segy_data / "segyio/f3.sgy", "--out", out, "--template", "PostStack3DTime",
           "--zarr-format", request.param)  # fmt: skip
    return out


def test_post_stack_reads_like_segyio(f3_v1: Path, segy_data: Path) -> None:
    reader = MDIOReader(f3_v1, return_metadata=True)
    assert isinstance(reader, V1Reader)
    assert reader.grid.dim_names == ("inline", "crossline", "time")
    live, headers, traces = reader[...]
    with segyio.open(segy_data / "segyio/f3.sgy") as f:
        cube = segyio.tools.cube(f)
        np.testing.assert_array_equal(reader.grid.select_dim("inline").values, f.ilines)
        np.testing.assert_array_equal(reader.grid.select_dim("crossline").values, f.xlines)
        np.testing.assert_array_equal(reader.grid.select_dim("time").values, f.samples - f.samples[0])
        text = f.text[0].decode("ascii", "replace")
        cdp_x = f.attributes(segyio.TraceField.CDP_X)[:].reshape(cube.shape[:2])
        sample_interval = f.bin[segyio.BinField.Interval]
    np.testing.assert_array_equal(traces, cube)
    assert live.all()
    assert reader.trace_count == 414
    np.testing.assert_array_equal(headers["cdp_x"], cdp_x)
    np.testing.assert_array_equal(MDIOReader(f3_v1)[3, 4:9], cube[3, 4:9])
    assert reader.text_header[0] == text[:80]
    assert reader.binary_header["sample_interval"] == sample_interval
    nonzero = cube[cube != 0].astype(np.float64)
    assert reader.stats["max"] == cube.max()
    assert reader.stats["min"] == cube.min()
    assert reader.stats["mean"] == pytest.approx(nonzero.mean())
    assert reader.stats["rms"] == pytest.approx(np.sqrt((nonzero**2).mean()))
    assert reader.coord_to_index(120, dimensions="inline") == 9
    with pytest.raises(MDIOReadOnlyError):
        MDIOWriter(f3_v1)
    with pytest.raises(AccessPatternNotFoundError):
        MDIOReader(f3_v1, access_pattern="fast_il")


def test_xarray_view_matches_multidimio_open_mdio(f3_v1: Path, run_v1: RunV1, tmp_path: Path) -> None:
    run_v1("read", "--mdio", f3_v1, "--out", tmp_path / "dump.npz")
    dump = load_v1_dump(tmp_path / "dump.npz")
    ds = open_dataset(f3_v1)
    assert ds.attrs["mdio_layout"] == "v1"
    assert list(ds.amplitude.dims) == dump["dims"]
    np.testing.assert_array_equal(ds.amplitude.values, dump["data"])
    np.testing.assert_array_equal(ds.trace_mask.values, dump["trace_mask"])
    for name in ("inline", "crossline", "time"):
        np.testing.assert_array_equal(ds[name].values, dump[f"coord_{name}"])
    np.testing.assert_array_equal(ds.headers.values, dump["headers"])
    np.testing.assert_allclose(ds.cdp_x.values, dump["cdp_x"])  # ours scaled from headers, theirs stored
    np.testing.assert_allclose(ds.cdp_y.values, dump["cdp_y"])


def test_export_info_plot_and_copy(f3_v1: Path, segy_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.sgy"
    mdio_to_segy(f3_v1, out)
    with segyio.open(segy_data / "segyio/f3.sgy") as f, segyio.open(out) as g:
        np.testing.assert_array_equal(segyio.tools.cube(g), segyio.tools.cube(f))
        for field in (segyio.TraceField.INLINE_3D, segyio.TraceField.CROSSLINE_3D, segyio.TraceField.CDP_X):
            np.testing.assert_array_equal(g.attributes(field)[:], f.attributes(field)[:])
        assert g.text[0] == f.text[0]

    runner = CliRunner()
    info = runner.invoke(app, ["info", str(f3_v1), "--json"])
    assert info.exit_code == 0, info.output
    summary = json.loads(info.output)
    assert summary["shape"] == [23, 18, 75]
    assert summary["trace_count"] == 414
    png = tmp_path / "il.png"
    plotted = runner.invoke(app, ["plot", str(f3_v1), "--inline", "120", "-o", str(png)])
    assert plotted.exit_code == 0, plotted.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    copy = tmp_path / "copy.mdio"
    copy_mdio(f3_v1, copy, copy_traces=True, copy_headers=True)
    original = MDIOReader(f3_v1, return_metadata=True)[...]
    for ours, theirs in zip(MDIOReader(copy, return_metadata=True)[...], original, strict=True):
        np.testing.assert_array_equal(ours, theirs)
    structure_only = tmp_path / "structure.mdio"
    copy_mdio(f3_v1, structure_only)  # the v0 default: no traces, no headers; coordinates and mask kept
    empty = MDIOReader(structure_only, return_metadata=True)
    live, headers, traces = empty[...]
    assert np.isnan(traces).all()  # v1's fill
    assert (headers["inline"] == 0).all()
    assert live.all()
    assert empty.grid == original_grid(f3_v1)


def test_pre_stack_and_irregular(run_v1: RunV1, segy_data: Path, tmp_path: Path) -> None:
    ps_segy = with_coordinate_scalar(segy_data / "segyio/small-ps.sgy", tmp_path / "ps.sgy")
    ps = tmp_path / "ps.mdio"
    run_v1("ingest", "--segy", ps_segy, "--out", ps, "--template", "CdpOffsetGathers3DTime", "--offset-byte", "37")
    reader = MDIOReader(ps, return_metadata=True)
    assert reader.grid.dim_names == ("inline", "crossline", "offset", "time")
    live, headers, traces = reader[...]
    with segyio.open(ps_segy) as f:
        np.testing.assert_array_equal(traces, segyio.tools.cube(f))
        np.testing.assert_array_equal(reader.grid.select_dim("offset").values, f.offsets)
        offsets = f.attributes(segyio.TraceField.offset)[:].reshape(live.shape)
    np.testing.assert_array_equal(headers["source_to_receiver_distance"], offsets)  # their 'offset' word, byte 37
    assert live.all()
    exported = tmp_path / "ps_out.sgy"
    mdio_to_segy(ps, exported)
    with segyio.open(ps_segy) as f, segyio.open(exported) as g:
        np.testing.assert_array_equal(g.trace.raw[:], f.trace.raw[:])
        for field in (segyio.TraceField.offset, segyio.TraceField.INLINE_3D, segyio.TraceField.CROSSLINE_3D):
            np.testing.assert_array_equal(g.attributes(field)[:], f.attributes(field)[:])

    irr_segy = with_coordinate_scalar(segy_data / "seismic-zfp/small-irregular.sgy", tmp_path / "irr.sgy")
    irr = tmp_path / "irr.mdio"
    run_v1("ingest", "--segy", irr_segy, "--out", irr, "--template", "PostStack3DTime")
    reader = MDIOReader(irr, return_metadata=True)
    live, _, traces = reader[...]
    with segyio.open(irr_segy, ignore_geometry=True) as f:
        ils, xls = f.attributes(189)[:], f.attributes(193)[:]
        raw = f.trace.raw[:]
    i, j = np.searchsorted(np.unique(ils), ils), np.searchsorted(np.unique(xls), xls)
    expected_live = np.zeros(live.shape, bool)
    expected_live[i, j] = True
    np.testing.assert_array_equal(live, expected_live)
    assert reader.trace_count == 24
    np.testing.assert_array_equal(traces[i, j], raw)


def original_grid(path: Path) -> object:
    return MDIOReader(path).grid
