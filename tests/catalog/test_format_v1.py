"""Catalog datasets written as MDIO v1 (``format: v1``): build, lock, status, rebuild, ownership, readers.

Oracles: segyio on the source SEG-Y, multidimio 1.x (its own venv, ``tests/v1/v1_tool.py``) opening the built
dataset with ``open_mdio``, plain ``json`` on ``zarr.json`` and the lock.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import segyio
import xarray as xr

from mdio_catalog import MDIOReader
from mdio_catalog.catalog import Catalog
from mdio_catalog.core.publish import find_leftovers
from mdio_catalog.core.store import Location
from mdio_catalog.exceptions import ForeignContentError, SpecValidationError
from mdio_catalog.specs.resolve import spec_hash
from mdio_catalog.v1.reader import V1Reader
from tests.catalog import CROSSLINE, INLINE, post_stack_segy, read_lock, stack_entry, write_catalog
from tests.converters.segy_factory import expected_grid
from tests.v1.conftest import RunV1, load_v1_dump, run_v1  # noqa: F401 (the fixture)


def _segyio_cube(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Traces, inline and crossline of every trace, as segyio reads them."""
    with segyio.open(path, ignore_geometry=True) as f:
        return (
            f.trace.raw[:],
            f.attributes(segyio.TraceField.INLINE_3D)[:],
            f.attributes(segyio.TraceField.CROSSLINE_3D)[:],
        )


def _catalog(folder: Path, **entry: object) -> Catalog:
    write_catalog(
        folder,
        {
            "stack": stack_entry(format="v1", **entry),
            "crop": {"source": {"dataset": "stack", "select": {"inline": [11, 13]}}, "format": "v1"},
            "crop_v0": {"source": {"dataset": "stack", "step": {"crossline": 2}}},
        },
        exports={"stack_segy": {"dataset": "stack", "path": "exports/stack.sgy"}},
    )
    return Catalog.from_file(folder / "catalog.yaml")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    post_stack_segy(tmp_path / "data" / "stack.sgy")
    return tmp_path


def test_v1_dataset_builds_is_recorded_and_stays_fresh(folder: Path, run_v1: RunV1) -> None:  # noqa: F811
    catalog = _catalog(folder)
    report = catalog.build()
    assert sorted(r.dataset for r in report.built) == ["crop", "crop_v0", "stack", "stack_segy"]
    out = folder / "out" / "stack.mdio"
    root = json.loads((out / "zarr.json").read_text())
    assert root["zarr_format"] == 3
    assert root["attributes"]["apiVersion"].startswith("1.")
    assert root["attributes"]["mdio_catalog"]["provenance"]["format"] == "v1"
    assert not (out / ".zgroup").exists()
    lock = read_lock(folder)["entries"]
    assert lock["stack"]["format"] == "v1"
    assert lock["crop"]["format"] == "v1"
    assert lock["crop_v0"].get("format", "v0") == "v0"
    assert lock["stack"]["dimensions"] == ["inline", "crossline", "time"]
    assert not find_leftovers(Location.of(folder / "out"), min_age=0)  # nothing staged is left
    assert {s.name: s.state for s in catalog.status()} == dict.fromkeys(
        ["stack", "crop", "crop_v0", "stack_segy"], "fresh"
    )
    again = catalog.build()
    assert again.built == []
    assert again.planned == []

    # values: segyio on the source, our reader, the xarray view, derived datasets (v1 and v0) from the v1 upstream
    traces, inlines, crosslines = _segyio_cube(folder / "data" / "stack.sgy")
    coords, cells = expected_grid([inlines, crosslines])
    reader = catalog.open("stack")
    assert isinstance(reader, V1Reader)
    np.testing.assert_array_equal(reader[...][tuple(cells.T)], traces)
    ds = catalog.open("stack", as_xarray=True)
    assert isinstance(ds, xr.Dataset)
    np.testing.assert_array_equal(ds["inline"].values, coords[0])
    first = ds[next(iter(ds.data_vars))].sel(inline=int(coords[0][2])).values
    np.testing.assert_array_equal(first[cells[cells[:, 0] == 2][:, 1]], traces[cells[:, 0] == 2])
    crop = catalog.open("crop")
    assert isinstance(crop, V1Reader)
    np.testing.assert_array_equal(crop.grid.dims[0].values, [11, 12, 13])
    np.testing.assert_array_equal(crop[...], reader[1:4])
    np.testing.assert_array_equal(catalog.open("crop_v0")[...], reader[:, ::2])
    assert lock["crop"]["derived_from"]["dataset"] == "stack"

    # the export of a v1 dataset is the source's traces
    with segyio.open(folder / "out" / "exports" / "stack.sgy", ignore_geometry=True) as f:
        exported = {(i, x): t for i, x, t in zip(f.attributes(INLINE)[:], f.attributes(CROSSLINE)[:],
                                                   f.trace.raw[:], strict=True)}  # fmt: skip
    assert len(exported) == len(traces)
    for i, x, t in zip(inlines, crosslines, traces, strict=True):
        np.testing.assert_array_equal(exported[(i, x)], t)

    # multidimio 1.x opens the built dataset with open_mdio: values equal segyio's
    run_v1("read", "--mdio", out, "--out", folder / "dump.npz")
    dump = load_v1_dump(folder / "dump.npz")
    assert dump["dims"] == ["inline", "crossline", "time"]
    np.testing.assert_array_equal(dump["data"][tuple(cells.T)], traces)
    live = np.zeros(dump["trace_mask"].shape, dtype=bool)
    live[tuple(cells.T)] = True
    np.testing.assert_array_equal(dump["trace_mask"], live)
    np.testing.assert_array_equal(dump["coord_inline"], coords[0])


def test_v1_rebuild_after_spec_change_replaces_it(folder: Path) -> None:
    catalog = _catalog(folder)
    catalog.build(["stack"])
    first = read_lock(folder)["entries"]["stack"]
    changed = _catalog(folder, chunks=[2, 4, 8])
    assert changed.status(["stack"])[0].reasons == ["spec changed since the build"]
    report = changed.build(["stack"])  # a v1 dataset this catalog built is recognised as its own
    assert [r.dataset for r in report.built] == ["stack"]
    second = read_lock(folder)["entries"]["stack"]
    assert second["started"] != first["started"]
    assert second["format"] == "v1"
    meta = json.loads((folder / "out" / "stack.mdio" / "amplitude" / "zarr.json").read_text())
    assert meta["chunk_grid"]["configuration"]["chunk_shape"] == [2, 4, 8]
    assert changed.status(["stack"])[0].state == "fresh"
    # back to v0: the v1 dataset is replaced by a v0 one
    write_catalog(folder, {"stack": stack_entry()})
    v0 = Catalog.from_file(folder / "catalog.yaml")
    assert "spec changed since the build" in v0.status(["stack"])[0].reasons
    v0.build(["stack"])
    assert (folder / "out" / "stack.mdio" / ".zgroup").is_file()
    assert not (folder / "out" / "stack.mdio" / "zarr.json").exists()
    assert not isinstance(MDIOReader(str(folder / "out" / "stack.mdio")), V1Reader)
    assert v0.status(["stack"])[0].state == "fresh"


def test_v1_output_changes_are_noticed(folder: Path) -> None:
    catalog = _catalog(folder)
    catalog.build(["stack"])
    out = folder / "out" / "stack.mdio"
    meta_path = out / "amplitude" / "zarr.json"
    meta = json.loads(meta_path.read_text())
    meta["shape"] = [1, 1, 1]
    meta_path.write_text(json.dumps(meta))
    assert catalog.status(["stack"])[0].reasons == ["output modified: shape differs from the build"]
    root = json.loads((out / "zarr.json").read_text())
    del root["attributes"]["mdio_catalog"]
    (out / "zarr.json").write_text(json.dumps(root))
    assert catalog.status(["stack"])[0].reasons == ["output was replaced (it carries no build provenance)"]
    # now it carries no provenance of ours: a foreign v1 dataset, refused (and kept)
    with pytest.raises(ForeignContentError, match="did not build"):
        catalog.build(["stack"])
    assert (out / "zarr.json").is_file()


def test_foreign_v1_looking_folder_is_refused(folder: Path) -> None:
    catalog = _catalog(folder)
    out = folder / "out" / "stack.mdio"
    out.mkdir(parents=True)
    attributes = {"apiVersion": "1.1.3", "mdio_catalog": {"provenance": {"dataset": "other", "output": str(out)}}}
    (out / "zarr.json").write_text(json.dumps({"zarr_format": 3, "node_type": "group", "attributes": attributes}))
    (out / "amplitude").mkdir()
    (out / "amplitude" / "keep.me").write_text("user data")
    with pytest.raises(ForeignContentError, match="did not build"):
        catalog.build(["stack"])
    assert (out / "amplitude" / "keep.me").read_text() == "user data"
    report = catalog.build(["stack"], force=True)  # renamed aside and kept
    assert (Path(report.moved_aside["stack"]) / "amplitude" / "keep.me").is_file()
    assert catalog.status(["stack"])[0].state == "fresh"


def test_format_in_spec_and_defaults(folder: Path) -> None:
    catalog = _catalog(folder)
    v1_hash = spec_hash(catalog.get("stack"))
    write_catalog(folder, {"stack": stack_entry()})
    v0_hash = spec_hash(Catalog.from_file(folder / "catalog.yaml").get("stack"))
    write_catalog(folder, {"stack": stack_entry(format="v0")})
    assert spec_hash(Catalog.from_file(folder / "catalog.yaml").get("stack")) == v0_hash  # v0 is the default
    assert v1_hash != v0_hash
    write_catalog(folder, {"stack": stack_entry()}, defaults={"format": "v1"})
    from_defaults = Catalog.from_file(folder / "catalog.yaml").get("stack")
    assert from_defaults.format == "v1"
    assert spec_hash(from_defaults) == v1_hash
    write_catalog(folder, {"stack": stack_entry(format="v1", access_patterns={"fast_z": [6, 7, 2]})})
    with pytest.raises(SpecValidationError, match="extra access patterns need format: v0"):
        Catalog.from_file(folder / "catalog.yaml").get("stack")
    write_catalog(folder, {"stack": stack_entry(access_patterns={"fast_z": [6, 7, 2]})}, defaults={"format": "v1"})
    with pytest.raises(SpecValidationError, match="defaults ask for v1"):
        Catalog.from_file(folder / "catalog.yaml").get("stack")


def test_verify_says_why_a_v1_dataset_has_no_record(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mdio_catalog.settings import get_settings

    monkeypatch.setenv("MDIO_CATALOG_CHECKSUMS", "true")
    get_settings.cache_clear()
    try:
        catalog = _catalog(folder)
        catalog.build(["stack"])  # the publish's checksum step leaves a v1 store alone
        report = catalog.verify("stack")
    finally:
        monkeypatch.delenv("MDIO_CATALOG_CHECKSUMS")
        get_settings.cache_clear()
    assert not report.recorded
    assert "MDIO v1" in report.note
    assert report.to_dict()["note"] == report.note


def test_the_command_line_on_a_v1_dataset(folder: Path) -> None:
    from tests.reliability.clirun import cli, strict_loads

    write_catalog(folder, {"stack": stack_entry(format="v1")})
    code, _, err = cli("build", "-q", cwd=folder)
    assert code == 0, err
    code, out, err = cli("status", "--json", cwd=folder)
    assert code == 0, err
    assert [d["state"] for d in strict_loads(out)["datasets"]] == ["fresh"]
    code, out, err = cli("info", "out/stack.mdio", cwd=folder)
    assert code == 0, err
    assert "time" in out
    assert "live traces 40" in out
    code, out, err = cli("verify", "stack", cwd=folder)
    assert code == 0, err
    assert "an MDIO v1 dataset" in out
    code, out, err = cli("show", "stack", "--json", cwd=folder)
    assert code == 0, err
    assert '"format": "v1"' in out


@pytest.mark.objectstore
def test_v1_dataset_on_s3_builds_rebuilds_and_is_fresh(tmp_path: Path, s3_bucket: Any) -> None:
    from tests.objectstores import AWS_REGION

    post_stack_segy(tmp_path / "data" / "stack.sgy")
    options = s3_bucket.fs.storage_options
    write_catalog(
        tmp_path,
        {"stack": stack_entry(format="v1")},
        root=f"s3://{s3_bucket.name}/catalog",
        root_storage={
            "storage_options": {
                "key": options["key"],
                "secret": options["secret"],
                "client_kwargs": {"endpoint_url": s3_bucket.endpoint_url, "region_name": AWS_REGION},
            }
        },
    )
    catalog = Catalog.from_file(tmp_path / "catalog.yaml")
    catalog.build()
    out = f"{s3_bucket.name}/catalog/stack.mdio"
    s3_bucket.fs.invalidate_cache()
    root = json.loads(s3_bucket.fs.cat_file(f"{out}/zarr.json"))
    assert root["attributes"]["mdio_catalog"]["provenance"]["format"] == "v1"
    assert not [p for p in s3_bucket.fs.find(f"{s3_bucket.name}/catalog") if "partial" in p or "owner" in p]
    assert catalog.status()[0].state == "fresh"
    traces, inlines, crosslines = _segyio_cube(tmp_path / "data" / "stack.sgy")
    _, cells = expected_grid([inlines, crosslines])
    np.testing.assert_array_equal(catalog.open("stack")[...][tuple(cells.T)], traces)
    write_catalog(
        tmp_path,
        {"stack": stack_entry(format="v1", chunks=[2, 4, 8])},
        root=f"s3://{s3_bucket.name}/catalog",
        root_storage={"storage_options": catalog.spec.root_storage.storage_options},
    )
    changed = Catalog.from_file(tmp_path / "catalog.yaml")
    assert [r.dataset for r in changed.build().built] == ["stack"]  # its own v1 dataset, replaced
    assert changed.status()[0].state == "fresh"
    np.testing.assert_array_equal(changed.open("stack")[...][tuple(cells.T)], traces)


def test_a_failed_v1_conversion_leaves_the_previous_version_and_nothing_else(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _catalog(folder)
    catalog.build(["stack"])
    before = read_lock(folder)["entries"]["stack"]
    out = folder / "out"
    listing = sorted(p.name for p in out.iterdir())

    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full while writing v1")

    monkeypatch.setattr("mdio_catalog.v1.convert.write_converted", fail)
    changed = _catalog(folder, chunks=[2, 4, 8])
    with pytest.raises(RuntimeError, match="disk full"):
        changed.build(["stack"])
    assert sorted(p.name for p in out.iterdir()) == listing  # no staging, nested v0 staging or marker left
    assert read_lock(folder)["entries"]["stack"] == before
    assert _catalog(folder).status(["stack"])[0].state == "fresh"
    assert isinstance(catalog.open("stack"), V1Reader)


def test_the_longest_dataset_name_builds_as_v1(folder: Path) -> None:
    name = "s" * 191  # output folder name 196 bytes, the longest allowed: every staged name must still fit 255
    write_catalog(folder, {name: stack_entry(format="v1")})
    catalog = Catalog.from_file(folder / "catalog.yaml")
    assert len(Path(catalog.output_url(name)).name) == 196
    catalog.build()
    assert catalog.status()[0].state == "fresh"
    assert isinstance(catalog.open(name), V1Reader)
