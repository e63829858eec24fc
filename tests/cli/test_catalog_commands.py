"""Catalog commands through typer's test runner (and one real subprocess): exit codes, tables, JSON parsed and
checked against the library and the lock file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import segyio
import yaml
from typer.testing import CliRunner

from mdio_catalog import MDIOReader
from mdio_catalog.cli.app import app
from tests.catalog import read_lock

runner = CliRunner()


def run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (args, result.exit_code, result.output)
    return result.output


def test_validate_list_status_build_show(example_catalog: Path) -> None:
    c = str(example_catalog)
    assert "valid catalog 'example-survey' with 7 datasets" in run("validate", "-c", c)
    statuses = json.loads(run("status", "-c", c, "--json", code=1))
    assert not statuses["fresh"]
    products = ["stack", "gathers", "shots", "velocity", "processed", "stack_crop", "stack_browse", "stack_delivery"]
    assert {d["name"]: d["state"] for d in statuses["datasets"]} == dict.fromkeys(products, "never built")
    plan = json.loads(run("build", "-c", c, "--dry-run", "--json"))
    assert [p["name"] for p in plan["planned"]] == products
    assert not (example_catalog.parent / "catalog.lock.d").exists()  # a dry run builds nothing

    built = json.loads(run("build", "-c", c, "stack", "shots", "--json", "--workers", "1"))
    assert built["built"] == ["stack", "shots"]
    lock = read_lock(example_catalog.parent)
    assert sorted(lock["entries"]) == ["shots", "stack"]
    assert sorted(p.name for p in (example_catalog.parent / "catalog.lock.d").iterdir()) == ["shots.json", "stack.json"]
    status = json.loads(run("status", "-c", c, "--json", code=1))
    states = {d["name"]: d["state"] for d in status["datasets"]}
    assert states["stack"] == "fresh"
    assert states["velocity"] == "never built"
    assert run("status", "-c", c, "stack", "--quiet") == ""

    rows = json.loads(run("list", "-c", c, "--json"))
    stack = next(r for r in rows if r["name"] == "stack")
    assert stack["template"] == "PostStack3DTime"
    assert stack["status"] == "fresh"
    with segyio.open(example_catalog.parent / "data" / "stack.sgy", ignore_geometry=True) as f:
        ils = {h[segyio.TraceField.INLINE_3D] for h in f.header}
        n_samples = len(f.samples)
    assert stack["shape"] == [len(ils), 50, n_samples]
    assert stack["size_bytes"] > 0
    table = run("list", "-c", c)
    assert "stack" in table
    assert "never" in table  # "never built", wrapped in a narrow terminal now that names are longer

    shown = json.loads(run("show", "stack", "-c", c, "--json"))
    assert shown["provenance"]["spec_hash"] == lock["entries"]["stack"]["spec_hash"]
    assert shown["provenance"]["trace_count"] == 1991
    assert "spec:" in run("show", "stack", "-c", c)
    run("build", "-c", c, "--quiet")
    assert run("status", "-c", c, "--quiet") == ""


def test_status_goes_stale_after_a_spec_edit(example_catalog: Path) -> None:
    c = str(example_catalog)
    run("build", "-c", c, "--quiet")
    original = example_catalog.read_text()
    try:
        example_catalog.write_text(original.replace("chunks: [20, 25, 100]", "chunks: [20, 25, 50]"))
        status = json.loads(run("status", "-c", c, "--json", code=1))
        velocity = next(d for d in status["datasets"] if d["name"] == "velocity")
        assert velocity["state"] == "stale"
        assert velocity["reasons"] == ["spec changed since the build"]
        assert "velocity" in run("status", "-c", c, code=1)
    finally:
        example_catalog.write_text(original)


def test_catalog_found_from_environment_and_cwd(example_catalog: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MDIO_CATALOG_CATALOG", str(example_catalog))
    assert "valid catalog" in run("validate")
    monkeypatch.delenv("MDIO_CATALOG_CATALOG")
    monkeypatch.chdir(example_catalog.parent)
    assert "valid catalog" in run("validate")
    monkeypatch.chdir(example_catalog.parent / "data")
    assert "No catalog file at catalog.yaml" in run("validate", code=2)


def test_invalid_catalog_gives_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "catalog.yaml"
    bad.write_text("version: 1\nname: x\nroot: out\ndatasets:\n  a:\n    templat: PostStack3DTime\n")
    output = run("validate", "-c", str(bad), code=2)
    assert f"{bad}:6:5: datasets.a.templat: unknown key 'templat', did you mean 'template'?" in output
    assert "Traceback" not in output
    run("build", "-c", str(bad), code=2)
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "catalog.lock.d").exists()


def test_templates_and_schema(tmp_path: Path) -> None:
    names = [t["name"] for t in json.loads(run("templates", "list", "--json"))]
    assert "PostStack3DTime" in names
    assert "StreamerShotGathers3D" in names
    shown = json.loads(run("templates", "show", "PostStack3DTime", "--json"))
    assert [f["byte"] for f in shown["index"]] == [189, 193]
    assert "did you mean" in run("templates", "show", "PostStak3DTime", code=2)
    listed = json.loads(run("schema", "--out", str(tmp_path), "--json"))
    assert "catalog.schema.json" in listed["files"]
    schema = json.loads((tmp_path / "catalog.schema.json").read_text())
    assert "datasets" in schema["properties"]


def test_info_export_copy_rechunk(example_catalog: Path, tmp_path: Path) -> None:
    c = str(example_catalog)
    run("build", "-c", c, "stack", "--quiet")
    info = json.loads(run("info", "stack", "-c", c, "--json"))
    reader = MDIOReader(info["url"])
    assert info["shape"] == list(reader.shape)
    assert info["trace_count"] == reader.trace_count
    assert json.loads(run("open", info["url"], "--json"))["dimensions"] == info["dimensions"]

    out = tmp_path / "stack.sgy"
    exported = json.loads(run("export", "stack", str(out), "-c", c, "--json"))
    assert exported["bytes"] == out.stat().st_size
    assert out.read_bytes() == (example_catalog.parent / "data" / "stack.sgy").read_bytes()  # grid-ordered source
    mask = np.zeros(reader.grid.spatial_shape, bool)
    mask[0, :5] = True
    np.save(tmp_path / "mask.npy", mask)
    little = tmp_path / "first.sgy"
    run("export", "stack", str(little), "-c", c, "--mask", str(tmp_path / "mask.npy"), "--endian", "little", "-q")
    with segyio.open(little, ignore_geometry=True, endian="little") as f:
        assert f.tracecount == 5
        # (segyio mis-decodes IBM values below float32's normal range: compare with an absolute floor)
        np.testing.assert_allclose(f.trace.raw[:], reader[0, :5], rtol=1e-6, atol=1e-30)
    assert "selects no trace" in run("export", "stack", str(tmp_path / "none.sgy"), "-c", c, "--mask",
                                     str(tmp_path / "none.npy"), code=2) if np.save(tmp_path / "none.npy",
                                     np.zeros_like(mask)) is None else False  # fmt: skip
    assert not (tmp_path / "none.sgy").exists()

    copy = tmp_path / "copy.mdio"
    run("copy", info["url"], str(copy), "--no-headers", "-q")
    np.testing.assert_array_equal(MDIOReader(str(copy))[:], reader[:])
    assert not MDIOReader(str(copy), return_metadata=True)[0][1]["inline"].any()
    assert "already exists" in run("copy", info["url"], str(copy), code=2)

    run(
        "rechunk",
        str(copy),
        "--chunks",
        "1,50,200",
        "--suffix",
        "fast_il",
        "--chunks",
        "40,1,200",
        "--suffix",
        "fast_xl",
    )
    fast = MDIOReader(str(copy), access_pattern="fast_xl")
    assert fast.chunks == (40, 1, 200)
    np.testing.assert_array_equal(fast[:, 7], reader[:, 7])
    one_suffix = run("rechunk", str(copy), "--chunks", "1,1,1", "--chunks", "2,2,2", "--suffix", "x", code=2)
    assert "one --suffix per --chunks" in one_suffix
    assert "Missing option '--suffix'" in run("rechunk", str(copy), "--chunks", "1,1,1", code=2)


def test_segy_header_commands(example_catalog: Path) -> None:
    sgy = example_catalog.parent / "data" / "shots.sgy"
    text = run("segy", "text-header", str(sgy))
    assert "mdio_catalog example: shots" in text
    binary = json.loads(run("segy", "binary-header", str(sgy), "--json"))
    with segyio.open(sgy, ignore_geometry=True) as f:
        assert binary["binary_header"]["sample_interval"] == f.bin[segyio.BinField.Interval]
        assert binary["file"]["traces"] == f.tracecount
        fields = "energy_source_point_num,cable:137:int16,channel:13"
        rows = json.loads(run("segy", "trace-headers", str(sgy), "-f", fields, "-t", "20:28", "--json"))
        for row in rows:
            header = f.header[row["trace"]]
            assert row["energy_source_point_num"] == header[segyio.TraceField.EnergySourcePoint]
            assert row["cable"] == header[137]
            assert row["channel"] == header[segyio.TraceField.TraceNumber]
    assert "outside the 240-byte trace header" in run("segy", "trace-headers", str(sgy), "-f", "x:239", code=2)
    assert "error:" in run("segy", "binary-header", str(sgy.with_name("missing.sgy")), code=2)


def test_segy_ingest(example_catalog: Path, tmp_path: Path) -> None:
    sgy = example_catalog.parent / "data" / "gathers.sgy"
    out = tmp_path / "gathers.mdio"
    run("segy", "ingest", str(sgy), str(out), "-i", "inline:189", "-i", "crossline:193", "-i", "offset:37",
        "--chunks", "4,4,6,150", "-q")  # fmt: skip
    reader = MDIOReader(str(out), access_pattern="0123")
    assert reader.grid.dim_names == ("inline", "crossline", "offset", "sample")
    with segyio.open(sgy, ignore_geometry=True) as f:
        # (segyio mis-decodes IBM values below float32's normal range: compare with an absolute floor)
        np.testing.assert_allclose(reader[:].reshape(-1, reader.shape[-1]), f.trace.raw[:], rtol=1e-6, atol=1e-30)
    assert "already exists" in run("segy", "ingest", str(sgy), str(out), "-i", "inline:189", code=2)
    assert "chunksize" in run("segy", "ingest", str(sgy), str(tmp_path / "b.mdio"), "-i", "inline:189",
                              "--chunks", "1,2,3,4", code=2)  # fmt: skip


def test_console_script_in_a_real_subprocess(example_catalog: Path) -> None:
    script = Path(sys.executable).with_name("mdio-catalog")
    env = {**os.environ, "MDIO_CATALOG_PROGRESS": "false"}
    done = subprocess.run([str(script), "status", "-c", str(example_catalog), "--json"],
                          capture_output=True, text=True, env=env, timeout=120, check=False)  # fmt: skip
    assert done.returncode in (0, 1)
    assert json.loads(done.stdout)["catalog"] == "example-survey"
    bad = subprocess.run([str(script), "info", "nope", "-c", str(example_catalog)],
                         capture_output=True, text=True, env=env, timeout=120, check=False)  # fmt: skip
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: No dataset 'nope'")
    assert "Traceback" not in bad.stderr
    helped = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60, check=False)
    assert helped.returncode == 0
    assert "build" in helped.stdout


def test_plot_writes_pngs(example_catalog: Path, tmp_path: Path) -> None:
    from matplotlib.image import imread

    c = str(example_catalog)
    run("build", "-c", c, "stack", "gathers", "--quiet")
    for args in (
        ["stack", "--inline", "120"],
        ["stack", "--crossline", "310"],
        ["stack", "--sample", "400"],
        ["stack", "--live-mask"],
        ["gathers", "--dim", "inline=4", "--across", "offset", "--at", "crossline=5", "--cmap", "gray"],
    ):
        out = tmp_path / f"{'_'.join(a.strip('-') for a in args)}.png"
        info = json.loads(run("plot", *args, "-c", c, "-o", str(out), "--json"))
        image = imread(out)
        assert image.shape[:2] == (info["height_px"], info["width_px"])
        assert image[..., :3].std() > 0.05  # not a blank picture
    section = imread(tmp_path / "stack_inline_120.png")[..., :3]
    reds = (section[..., 0] > 0.6) & (section[..., 2] < 0.3)
    blues = (section[..., 2] > 0.6) & (section[..., 0] < 0.3)
    assert reds.sum() > 500
    assert blues.sum() > 500  # a signed signal shows both colours of the seismic map
    assert "choose exactly one" in run("plot", "stack", "-c", c, "-o", str(tmp_path / "x.png"), code=2)
    assert "not found" in run("plot", "stack", "--inline", "99", "-c", c, "-o", str(tmp_path / "y.png"), code=2)
    assert not (tmp_path / "y.png").exists()


def test_segy_scan_proposes_a_spec_that_builds(example_catalog: Path, tmp_path: Path) -> None:
    sgy = example_catalog.parent / "data" / "shots.sgy"
    report = json.loads(run("segy", "scan", str(sgy), "--json", "--name", "shots"))
    assert [w["byte"] for w in report["proposal"]["index"]] == [17, 137, 13]
    assert report["proposal"]["grid_overrides"] == {"AutoChannelWrap": True}
    spec_file = tmp_path / "spec.yaml"
    text = run("segy", "scan", str(sgy), "--name", "shots", "--spec-out", str(spec_file), "--source-as", str(sgy))
    assert "StreamerShotGathers3D" in text
    proposal = yaml.safe_load(spec_file.read_text())
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(yaml.safe_dump({"version": 1, "name": "scanned", "root": "out", **proposal}))
    run("build", "-c", str(catalog), "--quiet")
    with segyio.open(sgy, ignore_geometry=True) as f:
        cables = sorted({h[137] for h in f.header})
        n_traces = f.tracecount
    info = json.loads(run("info", "shots", "-c", str(catalog), "--json"))
    assert info["shape"][:3] == [5, len(cables), n_traces // 5 // len(cables)]
    assert "error:" in run("segy", "scan", str(tmp_path / "missing.sgy"), code=2)


def test_version_command() -> None:
    from mdio_catalog.version import __version__

    assert run("version").strip() == __version__
