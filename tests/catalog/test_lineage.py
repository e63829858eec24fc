"""Lineage (issue 16): datasets derived from datasets and SEG-Y exports, built as a graph, on real files.

Oracles: numpy slicing of the upstream read by MDIOReader, segyio reading the original SEG-Y, hashlib on files.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import segyio

from mdio_catalog import MDIOReader
from mdio_catalog.catalog import Catalog
from mdio_catalog.exceptions import CatalogError, SpecValidationError
from tests.catalog import CROSSLINE, INLINE, post_stack_segy, read_lock, stack_entry, write_catalog

INLINES, CROSSLINES, SAMPLES = range(10, 22), range(20, 34), 40


def crop_source(**extra: Any) -> dict[str, Any]:
    return {"dataset": "stack", "select": {"inline": [12, 19], "crossline": [22, 30]}, "step": {"sample": 2}, **extra}


def derived_catalog(folder: Path, **extra: Any) -> Path:
    post_stack_segy(folder / "data" / "stack.sgy", INLINES, CROSSLINES, SAMPLES, dead=((3, 4), (5, 5), (11, 13)))
    datasets = {
        "stack": stack_entry(),
        "crop": {"source": crop_source(), "chunks": [3, 4, 8]},
    }
    exports = {"delivery": {"dataset": "crop", "path": "deliveries/crop.sgy", "endian": "big"}}
    return write_catalog(folder, datasets, exports=exports, **extra)


def test_derived_values_headers_and_live_mask_equal_numpy_slicing(tmp_path: Path) -> None:
    catalog = Catalog.from_file(derived_catalog(tmp_path))
    report = catalog.build()
    assert [r.dataset for r in report.built] == ["stack", "crop", "delivery"]
    stack = MDIOReader(catalog.output_url("stack"), return_metadata=True)
    live, headers, data = stack[...]
    crop = MDIOReader(catalog.output_url("crop"), return_metadata=True)
    crop_live, crop_headers, crop_data = crop[...]
    keep = (slice(2, 10), slice(2, 11), slice(None, None, 2))  # inline 12..19, crossline 22..30, every other sample
    np.testing.assert_array_equal(crop_data, data[keep])
    np.testing.assert_array_equal(crop_live, live[keep[:2]])
    np.testing.assert_array_equal(crop_headers, headers[keep[:2]])
    assert crop.chunks == (3, 4, 8)
    assert crop.trace_count == int(live[keep[:2]].sum())
    np.testing.assert_array_equal(crop.grid.select_dim("sample").coords, stack.grid.select_dim("sample").coords[::2])
    assert crop.stats["max"] == pytest.approx(float(data[keep].max()))  # recomputed, not copied
    assert crop.stats["min"] == pytest.approx(float(data[keep].min()))
    lock = read_lock(tmp_path)["entries"]
    assert lock["crop"]["derived_from"] == {
        "dataset": "stack",
        "spec_hash": lock["stack"]["spec_hash"],
        "build": lock["stack"]["started"],
    }


def test_delivery_equals_segyio_reading_the_original(tmp_path: Path) -> None:
    catalog = Catalog.from_file(derived_catalog(tmp_path))
    catalog.build()
    delivery = tmp_path / "out" / "deliveries" / "crop.sgy"
    with segyio.open(str(tmp_path / "data" / "stack.sgy"), ignore_geometry=True) as f:
        original = {
            (int(i), int(x)): np.asarray(f.trace[n])
            for n, (i, x) in enumerate(zip(f.attributes(INLINE)[:], f.attributes(CROSSLINE)[:], strict=True))
        }
    with segyio.open(str(delivery), ignore_geometry=True) as f:
        cells = list(zip(f.attributes(INLINE)[:].tolist(), f.attributes(CROSSLINE)[:].tolist(), strict=True))
        got = np.asarray(f.trace.raw[:])
        assert f.samples.size == SAMPLES // 2
    expected_cells = sorted(c for c in original if 12 <= c[0] <= 19 and 22 <= c[1] <= 30)
    assert cells == expected_cells  # grid order, dead traces left out
    np.testing.assert_array_equal(got, np.stack([original[c][::2] for c in cells]))
    entry = read_lock(tmp_path)["entries"]["delivery"]
    data = delivery.read_bytes()
    assert entry["parameters"]["export"]["size"] == len(data)
    assert entry["parameters"]["export"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert entry["derived_from"]["dataset"] == "crop"
    assert not [p for p in delivery.parent.iterdir() if p.name.startswith(".")]  # no partial file left


def test_build_order_follows_the_graph_not_the_file(tmp_path: Path) -> None:
    post_stack_segy(tmp_path / "data" / "stack.sgy", INLINES, CROSSLINES, SAMPLES)
    datasets = {
        "browse": {"source": {"dataset": "crop"}, "compression": {"lossless": False, "snr_db": 30}},
        "crop": {"source": crop_source()},
        "stack": stack_entry(),
    }
    catalog = Catalog.from_file(write_catalog(tmp_path, datasets))
    assert [s.name for s in catalog.build(dry_run=True).planned] == ["stack", "crop", "browse"]
    assert catalog.graph().order() == ["stack", "crop", "browse"]
    assert catalog.lineage("crop") == {"upstream": ["stack"], "downstream": ["browse"]}
    assert [r.dataset for r in catalog.build().built] == ["stack", "crop", "browse"]
    quality = catalog.record("browse").parameters["quality"]
    assert quality["snr_db"] >= 30
    assert quality["tolerance"] > 0
    assert quality["size_ratio"] > 1
    browse, crop = catalog.open("browse")[...], catalog.open("crop")[...].astype(np.float64)
    snr = 10 * np.log10(np.sum(crop**2) / np.sum((crop - browse) ** 2))
    assert snr == pytest.approx(quality["snr_db"], rel=1e-6)  # the recorded figure is the whole volume's


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_cycles_and_unknown_datasets_are_located_errors(tmp_path: Path) -> None:
    path = write_catalog(
        tmp_path,
        {"a": {"source": {"dataset": "b"}}, "b": {"source": {"dataset": "a"}}, "c": {"source": {"dataset": "stak"}}},
    )
    text = path.read_text()
    with pytest.raises(SpecValidationError) as caught:
        Catalog.from_file(path)
    message = str(caught.value)
    assert "cycle: a -> b -> a" in message
    assert f"catalog.yaml:{_line_of(text, 'dataset: a')}:" in message  # the edge a -> b, declared by b
    assert "unknown dataset 'stak'" in message
    assert f"catalog.yaml:{_line_of(text, 'dataset: stak')}:" in message


def test_select_off_the_grid_is_a_located_error_at_build_time(tmp_path: Path) -> None:
    path = derived_catalog(tmp_path)
    text = path.read_text().replace("- 19", "- 99").replace("inline:", "inline:", 1)
    path.write_text(text)
    catalog = Catalog.from_file(path)
    catalog.build(["stack"])
    with pytest.raises(SpecValidationError) as caught:
        catalog.build(["crop"])
    message = str(caught.value)
    assert "99 is not a inline on the grid" in message
    assert "nearest are 21" in message
    assert f"catalog.yaml:{_line_of(text, 'select:')}" in message
    assert catalog.lock_entry("crop") is None
    path.write_text(path.read_text().replace("crossline:", "crosline:").replace("- 99", "- 19"))
    with pytest.raises(SpecValidationError, match="did you mean 'crossline'"):
        Catalog.from_file(path).build(["crop"])


def test_downstream_is_stale_after_the_source_segy_changes(tmp_path: Path) -> None:
    catalog = Catalog.from_file(derived_catalog(tmp_path))
    catalog.build()
    assert {s.state for s in catalog.status()} == {"fresh"}
    post_stack_segy(tmp_path / "data" / "stack.sgy", INLINES, CROSSLINES, SAMPLES, seed=7)  # same geometry
    status = {s.name: s for s in catalog.status()}
    assert status["stack"].state == "stale"
    assert status["crop"].reasons == ["upstream stack changed"]
    assert status["delivery"].reasons == ["upstream crop changed"]
    catalog.build(["stack"])  # rebuilt alone: its downstreams now lag behind its new build
    status = {s.name: s for s in catalog.status()}
    assert status["stack"].state == "fresh"
    assert status["crop"].reasons == ["upstream stack changed"]
    assert status["delivery"].state == "stale"
    assert [r.dataset for r in catalog.build().built] == ["crop", "delivery"]
    assert {s.state for s in catalog.status()} == {"fresh"}


def test_upstream_and_downstream_selection(tmp_path: Path) -> None:
    catalog = Catalog.from_file(derived_catalog(tmp_path))
    with pytest.raises(CatalogError, match="never built"):
        catalog.build(["crop"])
    assert [s.name for s in catalog.build(["crop"], upstream=True, dry_run=True).planned] == ["stack", "crop"]
    assert [s.name for s in catalog.build(["stack"], downstream=True, dry_run=True).planned] == [
        "stack",
        "crop",
        "delivery",
    ]
    assert [r.dataset for r in catalog.build(["delivery"], upstream=True).built] == ["stack", "crop", "delivery"]


def _checksums(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_a_killed_downstream_build_leaves_the_upstream_untouched(tmp_path: Path) -> None:
    post_stack_segy(tmp_path / "data" / "stack.sgy", range(80), range(80), 500, dead=())
    datasets = {
        "stack": stack_entry(chunks=[16, 16, 64]),
        "browse": {
            "source": {"dataset": "stack"},
            "compression": {"lossless": False, "snr_db": 50},
            "chunks": [8, 8, 64],
        },
    }
    path = write_catalog(tmp_path, datasets)
    Catalog.from_file(path).build(["stack"])
    stack_dir = tmp_path / "out" / "stack.mdio"
    before = _checksums(stack_dir)
    lock_before = (tmp_path / "catalog.lock.d" / "stack.json").read_bytes()
    code = f"from mdio_catalog.catalog import Catalog; Catalog.from_file({str(path)!r}).build(['browse'])"
    process = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, "MDIO_CATALOG_PROGRESS": "0"})
    deadline = time.monotonic() + 120
    staging: list[Path] = []
    while time.monotonic() < deadline and process.poll() is None and not staging:
        staging = [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".browse.mdio.partial")]
        time.sleep(0.005)
    assert staging, "the downstream build finished before it could be killed"
    time.sleep(0.05)  # inside the derivation (its staging exists, nothing is published yet)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert _checksums(stack_dir) == before
    assert (tmp_path / "catalog.lock.d" / "stack.json").read_bytes() == lock_before
    catalog = Catalog.from_file(path)
    assert {s.name: s.state for s in catalog.status()} == {"stack": "fresh", "browse": "never built"}
    assert not (tmp_path / "out" / "browse.mdio").exists()
    assert [r.dataset for r in catalog.build().built] == ["browse"]  # the retry sweeps the leftovers and builds
    assert _checksums(stack_dir) == before


def test_specs_built_in_python_validate_and_build_the_same_way(tmp_path: Path) -> None:
    from mdio_catalog.specs.catalog import CatalogSpec, DatasetSpec
    from mdio_catalog.specs.derived import DatasetSource, ExportSpec
    from mdio_catalog.specs.sources import SegySource
    from mdio_catalog.specs.variables import CompressionSpec

    post_stack_segy(tmp_path / "data" / "stack.sgy", INLINES, CROSSLINES, SAMPLES)
    spec = CatalogSpec(
        version=1,
        name="python",
        root="./out",
        datasets={
            "stack": DatasetSpec(
                template="PostStack3DTime", source=SegySource(segy="data/stack.sgy"), chunks=(4, 4, 8)
            ),
            "crop": DatasetSpec(source=DatasetSource(dataset="stack", select={"inline": [12, 19]}, step={"sample": 2})),
            "browse": DatasetSpec(
                source=DatasetSource(dataset="crop"), compression=CompressionSpec(lossless=False, psnr_db=45)
            ),
        },
        exports={"delivery": ExportSpec(dataset="crop", path="deliveries/crop.sgy", endian="little")},
    )
    assert CatalogSpec.from_yaml(spec.to_yaml()) == spec  # dumped and loaded back equal
    catalog = Catalog.from_model(spec, base_dir=tmp_path)
    assert [r.dataset for r in catalog.build().built] == ["stack", "crop", "browse", "delivery"]
    assert catalog.record("browse").parameters["quality"]["psnr_db"] >= 45
    np.testing.assert_array_equal(catalog.open("crop")[...], catalog.open("stack")[...][2:10, :, ::2])
    with segyio.open(str(tmp_path / "out" / "deliveries" / "crop.sgy"), ignore_geometry=True, endian="little") as f:
        assert f.tracecount == catalog.record("crop").trace_count
    with pytest.raises(SpecValidationError, match="give one of tolerance, snr_db or psnr_db"):
        CompressionSpec.from_data({"lossless": False, "tolerance": 0.1, "snr_db": 40})
    lossy_stack = spec.datasets["stack"].model_copy(update={"compression": CompressionSpec(lossless=False, snr_db=40)})
    bad = spec.model_copy(update={"datasets": {**spec.datasets, "stack": lossy_stack}})
    with pytest.raises(SpecValidationError, match="apply to datasets derived from a dataset"):
        Catalog.from_model(bad, base_dir=tmp_path)


@pytest.mark.objectstore
def test_an_export_to_s3_with_named_credentials(tmp_path: Path, s3_bucket: Any) -> None:
    from tests.objectstores import AWS_REGION

    path = derived_catalog(tmp_path)
    text = path.read_text().replace("path: deliveries/crop.sgy", f"path: s3://{s3_bucket.name}/deliveries/crop.sgy")
    text += (
        "credentials:\n  lake:\n    key: ${LAKE_KEY}\n    secret: ${LAKE_SECRET}\n"
        f"    options: {{client_kwargs: {{endpoint_url: '{s3_bucket.endpoint_url}', region_name: {AWS_REGION}}}}}\n"
    )
    text = text.replace("    endian: big\n", "    endian: big\n    credentials: lake\n")
    path.write_text(text)
    options = s3_bucket.fs.storage_options
    env = {"LAKE_KEY": options["key"], "LAKE_SECRET": options["secret"]}
    catalog = Catalog.from_file(path, env=env)
    assert [r.dataset for r in catalog.build().built] == ["stack", "crop", "delivery"]
    data = s3_bucket.fs.cat_file(f"{s3_bucket.name}/deliveries/crop.sgy")
    entry = catalog.record("delivery").parameters["export"]
    assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert s3_bucket.fs.ls(f"{s3_bucket.name}/deliveries") == [f"{s3_bucket.name}/deliveries/crop.sgy"]
    assert {s.name: s.state for s in catalog.status()}["delivery"] == "fresh"
    assert options["secret"] not in (tmp_path / "catalog.lock.d" / "delivery.json").read_text()


PUBLIC_F3 = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "segy" / "segyio" / "f3.sgy"


@pytest.mark.parametrize("target", [30, 40, 50])
@pytest.mark.parametrize("volume", ["example", "f3"])
def test_browse_copies_meet_their_snr_target_on_the_whole_volume(tmp_path: Path, volume: str, target: int) -> None:
    """The SNR numpy computes over the whole derived volume meets the target and is the figure recorded."""
    import shutil

    if volume == "example":
        from tests.catalog.test_example import make_data_module

        make_data_module().make(tmp_path / "data")
    else:
        if not PUBLIC_F3.exists():
            pytest.skip(f"public test data not found at {PUBLIC_F3}")
        (tmp_path / "data").mkdir()
        shutil.copy(PUBLIC_F3, tmp_path / "data" / "stack.sgy")
    browse = {"source": {"dataset": "stack"}, "compression": {"lossless": False, "snr_db": target}}
    catalog = Catalog.from_file(write_catalog(tmp_path, {"stack": stack_entry(chunks=[16, 16, 64]), "browse": browse}))
    catalog.build()
    exact = catalog.open("stack")[...].astype(np.float64)
    lossy = catalog.open("browse")[...].astype(np.float64)
    snr = 10 * np.log10(np.sum(exact**2) / np.sum((exact - lossy) ** 2))
    quality = catalog.record("browse").parameters["quality"]
    assert snr >= target
    assert quality["snr_db"] == pytest.approx(snr, rel=1e-9)
    assert quality["size_ratio"] > 1
