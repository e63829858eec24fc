"""The STAC export: every Item, the Collection and the Catalog validate (stac-pydantic, offline), pystac reads them
and its datacube, file, version and projection extensions see what the datasets hold; the example's SEG-Y delivery
is an asset of its dataset's Item with the file's size and SHA-256."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pystac
import pytest
from pystac.extensions.datacube import DatacubeExtension
from pystac.extensions.file import FileExtension
from pystac.extensions.projection import ProjectionExtension
from pystac.extensions.version import VersionExtension
from stac_pydantic import Catalog as CatalogModel
from stac_pydantic import Collection as CollectionModel
from stac_pydantic import Item as ItemModel
from typer.testing import CliRunner

from mdio_catalog.cli.app import app
from mdio_catalog.exceptions import ArgumentError
from mdio_catalog.site import check_crs, write_stac
from tests.site.conftest import ExampleSite


@pytest.fixture(scope="module")
def stac_dir(example_site: ExampleSite, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("stac")
    summary = write_stac(example_site.catalog(), out, crs="EPSG:32631")
    assert summary["not_built"] == ["processed"]
    assert summary["exports"] == ["stack_delivery"]
    return out


def test_every_document_validates_offline(stac_dir: Path, example_site: ExampleSite) -> None:
    CatalogModel.model_validate(json.loads((stac_dir / "catalog.json").read_text()))
    collection = CollectionModel.model_validate(json.loads((stac_dir / "collection.json").read_text()))
    items = sorted((stac_dir / "items").glob("*.json"))
    assert sorted(p.stem for p in items) == sorted(n for n in example_site.catalog().list() if n != "processed")
    for path in items:
        item = ItemModel.model_validate(json.loads(path.read_text()))
        assert item.id == path.stem
        assert item.collection == collection.id


def test_pystac_reads_items_with_the_datasets_dimensions(stac_dir: Path, example_site: ExampleSite) -> None:
    catalog = example_site.catalog()
    root = pystac.Catalog.from_file(str(stac_dir / "catalog.json"))
    items = {item.id: item for item in root.get_items(recursive=True)}
    assert set(items) == {"stack", "gathers", "shots", "velocity", "stack_crop", "stack_browse"}
    for name, item in items.items():
        reader = catalog.open(name)
        cube = DatacubeExtension.ext(item)
        assert list(cube.dimensions) == list(reader.grid.dim_names)
        for dim in reader.grid.dims:
            values = np.asarray(dim.coords)
            assert cube.dimensions[dim.name].extent == [values.min().item(), values.max().item()]
        assert set(cube.variables) == {"data", "live_mask", "headers"}
        record = catalog.record(name)
        assert VersionExtension.ext(item).version == record.build_id
        assert item.properties["processing:software"]["mdio_catalog"] == record.software["mdio_catalog"]
        metadata = item.assets["metadata"]
        content = Path(metadata.href).read_bytes()
        assert FileExtension.ext(metadata).checksum == "1220" + hashlib.sha256(content).hexdigest()
        assert FileExtension.ext(item.assets["data"]).size > len(content)
    assert items["stack"].properties["cube:dimensions"]["sample"]["unit"] == "ms"


def test_footprint_in_the_given_crs_from_cdp_coordinates(stac_dir: Path, example_site: ExampleSite) -> None:
    item = pystac.Item.from_file(str(stac_dir / "items" / "stack.json"))
    proj = ProjectionExtension.ext(item)
    assert proj.code == "EPSG:32631"
    reader = example_site.catalog().open("stack")
    headers = np.asarray(reader.header_array[...])
    live = np.asarray(reader.live_mask[...], dtype=bool)
    x, y = headers["cdp_x"][live], headers["cdp_y"][live]
    assert proj.bbox == [x.min(), y.min(), x.max(), y.max()]
    corners = {
        (float(a), float(b))
        for a, b in [(x.min(), y.min()), (x.max(), y.min()), (x.max(), y.max()), (x.min(), y.max())]
    }
    assert {tuple(c) for c in proj.geometry["coordinates"][0]} == corners  # an unrotated grid: its rectangle
    # STAC's geometry is WGS84 longitude/latitude: the corners reprojected (pyproj, offline)
    from pyproj import Transformer

    lon, lat = Transformer.from_crs("EPSG:32631", "EPSG:4326", always_xy=True).transform(x, y)
    assert item.bbox == pytest.approx([lon.min(), lat.min(), lon.max(), lat.max()], abs=1e-7)
    assert item.geometry["type"] == "Polygon"
    velocity = pystac.Item.from_file(str(stac_dir / "items" / "velocity.json"))
    assert "proj:code" not in velocity.properties  # no CDP coordinates in a NumPy source


def test_exports_are_assets_of_their_dataset_with_size_and_checksum(stac_dir: Path, example_site: ExampleSite) -> None:
    item = pystac.Item.from_file(str(stac_dir / "items" / "stack_crop.json"))
    asset = item.assets["stack_delivery"]
    catalog = example_site.catalog()
    path = Path(catalog.spec.export_url("stack_delivery", catalog.base))
    content = path.read_bytes()
    assert Path(asset.href) == path
    assert FileExtension.ext(asset).size == len(content)
    assert FileExtension.ext(asset).checksum == "1220" + hashlib.sha256(content).hexdigest()
    assert asset.extra_fields["file:byte_order"] == "big-endian"
    assert asset.extra_fields["mdio:state"] == "fresh"
    assert "data" in asset.roles
    stack = pystac.Item.from_file(str(stac_dir / "items" / "stack.json"))
    assert set(stack.assets) == {"data", "metadata"}  # only the crop was delivered


def test_crs_is_validated(example_site: ExampleSite, tmp_path: Path) -> None:
    assert check_crs("epsg:4326") == "EPSG:4326"
    with pytest.raises(ArgumentError, match="EPSG:NNNN"):
        check_crs("WGS84")
    with pytest.raises(ArgumentError, match="1024 to 32767"):
        check_crs("EPSG:900913")
    with pytest.raises(ArgumentError, match="not in PROJ's EPSG database"):
        check_crs("EPSG:1025")  # in EPSG's range, but no CRS has that code
    result = CliRunner().invoke(
        app, ["stac", "-c", str(example_site.catalog_file), "--crs", "utm31", "-o", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0
    assert "EPSG:NNNN" in result.output
    assert not (tmp_path / "catalog.json").exists()
