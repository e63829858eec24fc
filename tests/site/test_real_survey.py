"""Two public North Sea files in a catalog with a CRS: F3 amplitudes (time) and the Volve migration velocity (depth),
both with CDP X/Y in ED50 / UTM zone 31N (EPSG:23031), and a SEG-Y delivery of F3.

STAC: ``crs`` is metadata (adding it leaves the datasets fresh); ``proj:bbox`` equals segyio's CDP X/Y (bytes
181/185 scaled by byte 71); the WGS84 footprint lies on the fields (F3 near 54.8°N 4.9°E, Volve near 58.44°N
1.89°E) and Volve's rotated grid gives its four corner traces; the delivery is an asset of F3's Item whose
checksum is the public file's SHA-256 (the export is byte-identical). The site: the export has a page linked from
its dataset, and the velocity model is drawn with a sequential map over its own range in metres (screenshots).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pystac
import pytest
import segyio
from pystac.extensions.file import FileExtension
from pystac.extensions.projection import ProjectionExtension
from stac_pydantic import Item as ItemModel

from mdio_catalog.catalog import Catalog
from mdio_catalog.site import build_site, write_stac
from tests.site.conftest import ARTIFACTS

SEGY_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "segy"
FILES = {"f3": SEGY_DATA / "segyio" / "f3.sgy", "volve": SEGY_DATA / "segysak" / "volve10-migvel-depth-sub3d.sgy"}
pytestmark = pytest.mark.skipif(
    not all(p.is_file() for p in FILES.values()),
    reason=f"public SEG-Y test data not found at {SEGY_DATA} (expected <repo>/../shared/data/segy)",
)

CATALOG = """\
version: 1
name: north-sea
root: ./out
{defaults}datasets:
  f3:
    description: Cropped F3 Netherlands stack (2-byte integers).
    template: PostStack3DTime
    source: {{segy: data/f3.sgy}}
  volve_velocity:
    description: Volve migration velocity in depth.
    template: PostStack3DDepth
    source: {{segy: data/volve.sgy}}
{velocity_crs}exports:
  f3_delivery:
    description: F3 as delivered to a partner.
    dataset: f3
    path: deliveries/f3.sgy
"""


def _write(folder: Path, *, crs: bool) -> Path:
    path = folder / "catalog.yaml"
    text = CATALOG.format(
        defaults="defaults: {crs: EPSG:23031}\n" if crs else "",
        velocity_crs="    crs: epsg:23031\n" if crs else "",
    )
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def survey(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("north-sea")
    (folder / "data").mkdir()
    shutil.copy(FILES["f3"], folder / "data" / "f3.sgy")
    shutil.copy(FILES["volve"], folder / "data" / "volve.sgy")
    Catalog.from_file(_write(folder, crs=False)).build()
    return _write(folder, crs=True)  # the CRS named after the build


def _segyio_xy(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with segyio.open(path, iline=189, xline=193) as f:
        x = np.asarray(f.attributes(segyio.TraceField.CDP_X)[:], dtype=np.float64)
        y = np.asarray(f.attributes(segyio.TraceField.CDP_Y)[:], dtype=np.float64)
        scalar = np.asarray(f.attributes(segyio.TraceField.SourceGroupScalar)[:], dtype=np.float64)
    factor = np.where(scalar < 0, -1.0 / np.where(scalar < 0, scalar, -1), np.where(scalar > 0, scalar, 1.0))
    return x * factor, y * factor


def test_crs_is_metadata_and_items_are_located(survey: Path, tmp_path: Path) -> None:
    catalog = Catalog.from_file(survey)
    assert {s.name: s.state for s in catalog.status()} == {
        "f3": "fresh",
        "volve_velocity": "fresh",
        "f3_delivery": "fresh",
    }
    assert catalog.get("f3").crs == catalog.get("volve_velocity").crs == "EPSG:23031"

    summary = write_stac(catalog, tmp_path)
    assert summary == {
        "out": str(tmp_path),
        "items": ["f3", "volve_velocity"],
        "exports": ["f3_delivery"],
        "not_built": [],
    }
    places = {"f3": (54.8, 4.87), "volve_velocity": (58.44, 1.89)}  # the F3 block and the Volve field
    for name, (lat, lon) in places.items():
        data = json.loads((tmp_path / "items" / f"{name}.json").read_text())
        ItemModel.model_validate(data)
        item = pystac.Item.from_file(str(tmp_path / "items" / f"{name}.json"))
        proj = ProjectionExtension.ext(item)
        assert proj.code == "EPSG:23031"
        x, y = _segyio_xy(Path(str(catalog.spec.source_url(name, catalog.base))))
        assert proj.bbox == pytest.approx([x.min(), y.min(), x.max(), y.max()], abs=1e-6)
        west, south, east, north = item.bbox
        assert west < lon < east or abs((west + east) / 2 - lon) < 0.05
        assert abs((south + north) / 2 - lat) < 0.05
        assert east - west < 0.1
        assert north - south < 0.1
        assert item.geometry["type"] == "Polygon"

    # Volve's grid is rotated: the outline is its four corner traces, not the larger axis-aligned box
    x, y = _segyio_xy(FILES["volve"])
    with segyio.open(FILES["volve"], iline=189, xline=193) as f:
        il = np.asarray(f.attributes(segyio.TraceField.INLINE_3D)[:])
        xl = np.asarray(f.attributes(segyio.TraceField.CROSSLINE_3D)[:])
    corners = {
        (round(float(x[i]), 6), round(float(y[i]), 6))
        for a in (il.min(), il.max())
        for b in (xl.min(), xl.max())
        for i in np.flatnonzero((il == a) & (xl == b))
    }
    velocity = pystac.Item.from_file(str(tmp_path / "items" / "volve_velocity.json"))
    ring = ProjectionExtension.ext(velocity).geometry["coordinates"][0]
    assert len(ring) == 5
    assert ring[0] == ring[-1]
    assert {tuple(c) for c in ring} == corners

    # the delivery: an asset of F3's Item, byte-identical to the public file
    asset = pystac.Item.from_file(str(tmp_path / "items" / "f3.json")).assets["f3_delivery"]
    public = FILES["f3"].read_bytes()
    assert FileExtension.ext(asset).size == len(public)
    assert FileExtension.ext(asset).checksum == "1220" + hashlib.sha256(public).hexdigest()


def test_export_page_and_velocity_pictures(survey: Path, tmp_path: Path, browser: Any) -> None:
    site = tmp_path / "site"
    report = build_site(Catalog.from_file(survey), site)
    assert report.errors == []
    pictures = json.loads((site / "assets" / "volve_velocity" / "pictures.json").read_text())["pictures"]
    section = next(p for p in pictures if p["kind"] == "inline")
    assert section["colours"]["diverging"] is False  # 1,480-4,706 m/s: sequential, over the model's own range
    assert 1400 < section["colours"]["vmin"] < section["colours"]["vmax"] < 4800
    assert section["vertical"].startswith("depth")
    assert "(m)" in section["vertical"]
    amplitudes = json.loads((site / "assets" / "f3" / "pictures.json").read_text())["pictures"]
    f3_section = next(p for p in amplitudes if p["kind"] == "inline")
    assert f3_section["colours"]["diverging"] is True
    assert f3_section["colours"]["vmin"] == -f3_section["colours"]["vmax"]

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto((site / "index.html").as_uri())
        rows = page.eval_on_selector_all("#datasets tbody tr", "rs => rs.map(r => [r.dataset.name, r.dataset.kind])")
        assert rows == [["f3", "dataset"], ["volve_velocity", "dataset"], ["f3_delivery", "export"]]
        page.goto((site / "datasets" / "f3.html").as_uri())
        assert "EPSG:23031" in page.locator("#overview").inner_text()
        page.locator("#lineage a", has_text="f3_delivery").click()
        page.wait_for_load_state("load")
        assert page.url.endswith("/datasets/f3_delivery.html")
        assert hashlib.sha256(FILES["f3"].read_bytes()).hexdigest() in page.locator("#sha256").inner_text()
        assert "165,060 bytes" in page.locator("#file-size").inner_text()
        page.locator("#upstream a").click()
        page.wait_for_load_state("load")
        assert page.url.endswith("/datasets/f3.html")
        page.goto((site / "datasets" / "volve_velocity.html").as_uri())
        sizes = page.eval_on_selector_all("img", "es => es.map(e => e.naturalWidth * e.naturalHeight)")
        assert sizes
        assert all(sizes)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "volve_velocity.png"), full_page=True)
        page.goto((site / "datasets" / "f3.html").as_uri())
        page.screenshot(path=str(ARTIFACTS / "f3.png"), full_page=True)
        page.goto((site / "datasets" / "f3_delivery.html").as_uri())
        page.screenshot(path=str(ARTIFACTS / "f3_delivery.png"), full_page=True)
    finally:
        context.close()
    assert errors == []
