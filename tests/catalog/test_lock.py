"""catalog.lock and the provenance in the dataset: read with plain YAML / JSON and checked against segyio and
numpy on the source, the file's bytes, and the installed software."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import platform
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numcodecs
import numpy as np
import pytest
import yaml
import zarr

import mdio_catalog
from mdio_catalog.catalog import Catalog
from mdio_catalog.specs.provenance import ProvenanceRecord
from tests.catalog import (
    CROSSLINE,
    INLINE,
    nonzero_stats,
    post_stack_segy,
    read_lock,
    root_attrs,
    stack_entry,
    write_catalog,
)
from tests.converters.segy_factory import SyntheticSegy, read_with_segyio


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, SyntheticSegy]:
    src = post_stack_segy(tmp_path / "data" / "stack.sgy", zero_fraction=0.2)
    write_catalog(
        tmp_path,
        {"stack": stack_entry(description="first text", access_patterns={"fast_z": [6, 7, 2]})},
        name="lock-test",
    )
    Catalog.from_file(tmp_path / "catalog.yaml").build()
    return tmp_path, src


def utc(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert value.tzinfo is not None, text
    return value.astimezone(UTC)


def test_lock_file_records_the_build(built: tuple[Path, SyntheticSegy]) -> None:
    folder, src = built
    lock = read_lock(folder)
    assert lock["version"] == 1
    assert lock["catalog"] == "lock-test"
    assert list(lock["entries"]) == ["stack"]
    entry = lock["entries"]["stack"]
    assert entry["dataset"] == "stack"
    assert re.fullmatch(r"[0-9a-f]{64}", entry["spec_hash"])

    # source identity against the file itself
    source = entry["source"]
    path = folder / "data" / "stack.sgy"
    raw = path.read_bytes()
    assert source["kind"] == "segy"
    assert Path(source["url"]).resolve() == path.resolve()
    assert source["size"] == len(raw) == os.path.getsize(path)
    assert source["header_hash"] == hashlib.sha256(raw[:3600]).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", source["trace_header_hash"])
    assert 0 < source["sampled_traces"] <= src.n_traces
    assert abs(utc(source["mtime"]).timestamp() - os.stat(path).st_mtime) < 1e-3

    # the byte map used, and the grid it gave
    assert [(f["name"], f["byte"], f.get("type", "int32")) for f in entry["byte_map"]] == [
        ("inline", INLINE, "int32"),
        ("crossline", CROSSLINE, "int32"),
    ]
    view = read_with_segyio(path, [INLINE, CROSSLINE])
    n_il, n_xl = np.unique(view.words[INLINE]).size, np.unique(view.words[CROSSLINE]).size
    assert entry["dimensions"] == ["inline", "crossline", "sample"]
    assert entry["shape"] == [n_il, n_xl, src.n_samples]
    assert entry["trace_count"] == view.traces.shape[0] == src.n_traces
    assert sorted(entry["access_patterns"]) == ["012", "fast_z"]

    # software versions
    software = entry["software"]
    assert software["mdio_catalog"] == mdio_catalog.__version__
    assert software["python"] == platform.python_version()
    assert software["numpy"] == np.__version__
    assert software["zarr"] == zarr.__version__
    assert software["numcodecs"] == numcodecs.__version__

    # times
    begin, end = utc(entry["started"]), utc(entry["finished"])
    assert begin <= end <= datetime.now(UTC)
    assert (datetime.now(UTC) - begin).total_seconds() < 600

    # statistics of the source's non-zero samples (segyio + numpy)
    expected = nonzero_stats(view.traces)
    assert set(entry["statistics"]) == set(expected)
    for key, value in expected.items():
        assert entry["statistics"][key] == pytest.approx(value, rel=1e-6, abs=1e-9), key

    # histogram: counts of non-zero samples within [min, max]
    histogram = entry["histogram"]
    edges, counts = histogram["edges"], histogram["counts"]
    assert len(edges) == len(counts) + 1
    assert all(b > a for a, b in itertools.pairwise(edges))
    assert all(isinstance(c, int) and c >= 0 for c in counts)
    nonzero = int(np.count_nonzero(view.traces))
    assert 0 < sum(counts) <= nonzero
    assert edges[0] == pytest.approx(expected["min"], rel=1e-6)
    assert edges[-1] == pytest.approx(expected["max"], rel=1e-6)

    # the resolved spec, for people
    assert entry["spec"]["source"]["segy"] == "data/stack.sgy"
    assert entry["spec"]["chunks"] == [4, 4, 8]
    assert entry["output"].endswith("stack.mdio")


def test_dataset_attributes_carry_the_same_provenance(built: tuple[Path, SyntheticSegy]) -> None:
    folder, _ = built
    entry = read_lock(folder)["entries"]["stack"]
    dataset = folder / "out" / "stack.mdio"
    attrs = root_attrs(dataset)
    stored = attrs["mdio_catalog"]["provenance"]
    for key in ("dataset", "spec_hash", "shape", "trace_count", "dimensions", "software", "statistics"):
        assert stored[key] == entry[key], key
    assert utc(stored["started"]) == utc(entry["started"])
    assert utc(stored["finished"]) == utc(entry["finished"])
    assert stored["source"]["header_hash"] == entry["source"]["header_hash"]
    assert stored["byte_map"] == [
        {"name": "inline", "byte": INLINE, "type": "int32"},
        {"name": "crossline", "byte": CROSSLINE, "type": "int32"},
    ]
    assert stored["histogram"]["counts"] == entry["histogram"]["counts"]
    # the same record, field by field, once defaults are filled in
    assert ProvenanceRecord.from_data(stored) == ProvenanceRecord.from_data(entry)
    # the consolidated metadata agrees with .zattrs (readers that open consolidated see the provenance too)
    consolidated = json.loads((dataset / ".zmetadata").read_text())["metadata"][".zattrs"]
    assert consolidated["mdio_catalog"]["provenance"]["spec_hash"] == entry["spec_hash"]
    assert consolidated["mdio_catalog"]["provenance"]["started"] == stored["started"]
    # and zarr itself reads it
    group = zarr.open_group(str(dataset), mode="r")
    assert dict(group.attrs)["mdio_catalog"]["provenance"]["spec_hash"] == entry["spec_hash"]
    # the v0 statistics of the dataset agree with the lock
    for key in ("mean", "std", "rms", "min", "max"):
        assert attrs[key] == pytest.approx(entry["statistics"][key], rel=1e-12)


def test_catalog_record_matches_the_lock(built: tuple[Path, SyntheticSegy]) -> None:
    folder, _ = built
    catalog = Catalog.from_file(folder / "catalog.yaml")
    record = catalog.record("stack")
    entry = read_lock(folder)["entries"]["stack"]
    assert record.spec_hash == entry["spec_hash"]
    assert record.trace_count == entry["trace_count"]
    assert catalog.lock().get("stack") == record


def hash_of(folder: Path) -> str:
    value = read_lock(folder)["entries"]["stack"]["spec_hash"]
    assert isinstance(value, str)
    return value


def rewrite(folder: Path, **changes: Any) -> None:
    path = folder / "catalog.yaml"
    data = yaml.safe_load(path.read_text())
    data["datasets"]["stack"].update(changes)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_spec_hash_is_stable_and_ignores_description(built: tuple[Path, SyntheticSegy]) -> None:
    folder, _ = built
    first = hash_of(folder)
    # a forced rebuild of the same spec records the same hash
    Catalog.from_file(folder / "catalog.yaml").build(force=True)
    assert hash_of(folder) == first
    # a fresh load computes it again
    from mdio_catalog.specs.resolve import spec_hash

    assert spec_hash(Catalog.from_file(folder / "catalog.yaml").get("stack")) == first
    # description and tags are free text
    rewrite(folder, description="something else entirely", tags=["x"])
    catalog = Catalog.from_file(folder / "catalog.yaml")
    assert spec_hash(catalog.get("stack")) == first
    catalog.build(force=True)
    assert hash_of(folder) == first
    # writing the template's defaults out explicitly does not change the data, nor the hash
    rewrite(
        folder,
        source={
            "segy": "data/stack.sgy",
            "index": [{"name": "inline", "byte": INLINE, "type": "int32"}, {"name": "crossline", "byte": CROSSLINE}],
        },
    )
    assert spec_hash(Catalog.from_file(folder / "catalog.yaml").get("stack")) == first
    # what changes the data changes the hash
    rewrite(folder, chunks=[2, 4, 8])
    chunked = spec_hash(Catalog.from_file(folder / "catalog.yaml").get("stack"))
    assert chunked != first
    rewrite(folder, chunks=[4, 4, 8], compression={"lossless": False, "tolerance": 0.01})
    lossy = spec_hash(Catalog.from_file(folder / "catalog.yaml").get("stack"))
    assert lossy not in (first, chunked)


def test_lock_keeps_other_entries_and_sorts_them(tmp_path: Path) -> None:
    post_stack_segy(tmp_path / "data" / "stack.sgy")
    write_catalog(tmp_path, {"zeta": stack_entry(), "alpha": stack_entry()})
    catalog = Catalog.from_file(tmp_path / "catalog.yaml")
    catalog.build(["zeta"])
    assert list(read_lock(tmp_path)["entries"]) == ["zeta"]
    catalog.build(["alpha"])
    lock = read_lock(tmp_path)
    assert list(lock["entries"]) == ["alpha", "zeta"]
    assert lock["entries"]["alpha"]["spec_hash"] == lock["entries"]["zeta"]["spec_hash"]
    assert lock["entries"]["alpha"]["output"] != lock["entries"]["zeta"]["output"]
