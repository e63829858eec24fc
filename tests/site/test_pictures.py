"""Pictures fit the data (symmetric diverging for zero-centred amplitudes, p1..p99 sequential otherwise), read
only the chunks they cross, and are reused when the dataset has not changed."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from PIL import Image

from mdio_catalog.catalog import Catalog
from mdio_catalog.site import build_site, choose_colours
from mdio_catalog.site.pictures import chunks_touched, sample_unit
from tests.site.conftest import ExampleSite


def test_zero_centred_amplitudes_get_a_symmetric_diverging_range() -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(0.0, 10.0, size=(50, 60)).astype(np.float32)
    colours = choose_colours(values)
    assert colours.diverging
    assert colours.cmap == "seismic"
    assert colours.vmin == pytest.approx(-colours.vmax)
    assert colours.vmax == pytest.approx(np.percentile(np.abs(values), 99.0), rel=1e-6)


def test_a_velocity_model_gets_its_own_range_and_a_sequential_map() -> None:
    velocity = np.linspace(1480.0, 4706.0, 4000, dtype=np.float32).reshape(40, 100)  # the public model
    colours = choose_colours(velocity)
    assert not colours.diverging
    assert colours.cmap == "viridis"
    assert colours.vmin == pytest.approx(np.percentile(velocity, 1.0))
    assert colours.vmax == pytest.approx(np.percentile(velocity, 99.0))
    assert 1480.0 < colours.vmin < colours.vmax < 4706.0
    assert len(colours.stops) == 11


def test_dead_cells_are_left_out_of_the_range_and_constant_data_gets_a_visible_one() -> None:
    values = np.full((4, 4), 2000.0, dtype=np.float32)
    values[0] = -1e6  # dead traces' fill
    live = np.ones((4, 4), dtype=bool)
    live[0] = False
    colours = choose_colours(values, live)
    assert colours.vmin < 2000.0 < colours.vmax
    assert colours.vmin > 1000.0
    zeros = choose_colours(np.zeros((3, 3), dtype=np.float32))
    assert zeros.vmin < 0.0 < zeros.vmax


def test_sample_axis_is_labelled_by_domain() -> None:
    assert sample_unit("depth", "sample") == "m"
    assert sample_unit("time", "sample") == "ms"
    assert sample_unit(None, "depth") == "m"
    assert sample_unit(None, "sample") == ""


def test_chunks_touched_counts_only_the_slice() -> None:
    assert chunks_touched((40, 50, 200), (16, 16, 64), (20, slice(None), slice(None))) == 4 * 4
    assert chunks_touched((40, 50, 200), (16, 16, 64), (slice(None), slice(None), 100)) == 3 * 4
    assert chunks_touched((40, 50, 200), (40, 50, 8), (slice(None), slice(None), 100)) == 1


def test_example_pictures_fit_their_data_and_read_few_chunks(example_site: ExampleSite) -> None:
    catalog = example_site.catalog()
    assets = example_site.site / "assets"
    velocity = json.loads((assets / "velocity" / "pictures.json").read_text())["pictures"]
    section = next(p for p in velocity if p["kind"] == "inline")
    record = catalog.record("velocity")
    assert record.statistics is not None
    assert section["colours"]["cmap"] == "viridis"
    assert record.statistics.min <= section["colours"]["vmin"] < section["colours"]["vmax"] <= record.statistics.max
    assert section["value_name"] == "velocity"
    pixels = np.asarray(Image.open(assets / "velocity" / section["file"]).convert("RGB"))
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 20  # not one flat colour

    stack = {p["kind"]: p for p in json.loads((assets / "stack" / "pictures.json").read_text())["pictures"]}
    assert stack["inline"]["colours"]["diverging"]
    assert stack["inline"]["vertical"].startswith("time (ms)")
    reader = catalog.open("stack")
    total = math.prod(math.ceil(s / c) for s, c in zip(reader.shape, reader.chunks, strict=True))
    assert stack["inline"]["chunks_read"] == 4 * 4 < total  # 16x16x64 chunks: one inline crosses 4 x 4
    assert stack["slice"]["chunks_read"] == 1  # read from the fast_z access pattern (40x50x8)
    gathers = {p["kind"] for p in json.loads((assets / "gathers" / "pictures.json").read_text())["pictures"]}
    assert "fold" in gathers


def test_pictures_are_reused_until_the_dataset_changes(example_site: ExampleSite, tmp_path_factory) -> None:
    site = tmp_path_factory.mktemp("reuse") / "site"
    catalog = example_site.catalog()
    first = build_site(catalog, site)
    assert first.pictures_reused == 0
    png = site / "assets" / "velocity" / "inline.png"
    before = png.stat().st_mtime_ns
    second = build_site(catalog, site)
    assert second.pictures == first.pictures == second.pictures_reused
    assert png.stat().st_mtime_ns == before
    Catalog.from_file(example_site.catalog_file).build(["velocity"], force=True)
    third = build_site(example_site.catalog(), site)
    assert third.pictures_reused == first.pictures - 4  # velocity's four pictures were drawn again
    assert png.stat().st_mtime_ns > before


_OPENED: list[str] = []
_RECORDING: list[bool] = []
_HOOKED: list[bool] = []


def _audit(event: str, args: tuple) -> None:
    if _RECORDING and event == "open" and isinstance(args[0], str):
        _OPENED.append(args[0])


def test_pictures_open_only_the_chunk_files_they_report(example_site: ExampleSite, tmp_path) -> None:
    """Measured, not computed: every file the renderer opens is recorded by a Python audit hook (a real event of
    the interpreter for open()/os.open(), in every thread), and the trace chunk files opened are exactly the chunks
    the pictures say they read."""
    import sys

    from mdio_catalog.site.pictures import render_pictures

    catalog = example_site.catalog()
    reader = catalog.open("stack")
    fast_z = catalog.open("stack", access_pattern="fast_z")
    if not _HOOKED:  # audit hooks cannot be removed: one for the session, recording only inside this test
        sys.addaudithook(_audit)
        _HOOKED.append(True)
    _OPENED.clear()
    _RECORDING.append(True)
    try:
        pictures = render_pictures(reader, tmp_path, "", domain="time", value_name="amplitude", readers=[fast_z])
    finally:
        _RECORDING.clear()
    chunk_files = [p for p in _OPENED if "chunked_" in p and "/metadata/" not in p]
    by_pattern = {"012": 0, "fast_z": 0}
    for path in chunk_files:  # each picture opens its own chunks once (the two sections share 4 of them)
        by_pattern["fast_z" if "chunked_fast_z" in path else "012"] += 1
    read = {p.kind: p.chunks_read for p in pictures}
    assert by_pattern == {"012": read["inline"] + read["crossline"], "fast_z": read["slice"]}
    assert len(set(chunk_files)) == 16 + 12 - 4 + 1 < 3 * 4 * 4  # not the whole cube (48 chunks)
