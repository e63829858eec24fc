"""Checksums and verify on real stores: local disk, the moto S3 server and the GCS emulator.

Oracles: CRC32C computed here over the stored objects read directly (files, s3fs/gcsfs), and the damage done by the
test itself (one byte flipped, one object deleted, one stray object added): verify must name exactly those.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import google_crc32c
import numpy as np
import pytest
import zarr

from mdio_catalog import MDIOReader
from mdio_catalog.converters.numpy import numpy_to_mdio
from mdio_catalog.core.checksums import read_record
from mdio_catalog.core.verify import record_existing, verify_dataset
from mdio_catalog.settings import get_settings

VALUES = np.random.default_rng(5).normal(size=(12, 10, 40)).astype(np.float32)


def make(path: Path) -> Path:
    numpy_to_mdio(VALUES, str(path), (4, 5, 16))
    return path


def test_without_checksums_verify_says_so_and_checksum_adds_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MDIO_CATALOG_CHECKSUMS", "0")  # as built before checksums existed
    get_settings.cache_clear()
    try:
        dataset = make(tmp_path / "a.mdio")
    finally:
        monkeypatch.delenv("MDIO_CATALOG_CHECKSUMS")
        get_settings.cache_clear()
    report = verify_dataset(str(dataset))
    assert report.recorded is False  # says so, does not fail
    assert not report.ok
    assert record_existing(str(dataset)) > 0
    assert verify_dataset(str(dataset)).ok


def test_the_record_equals_an_independent_crc_of_every_stored_file(tmp_path: Path) -> None:
    dataset = make(tmp_path / "a.mdio")  # recorded when published
    count = sum(1 for p in (dataset / "data").rglob("*") if p.is_file() and not p.name.startswith("."))
    count += sum(1 for p in (dataset / "metadata").rglob("*") if p.is_file() and not p.name.startswith("."))
    record = read_record(zarr.open_group(str(dataset), mode="r"))
    assert record is not None
    files = 0
    for array_path, grid in record.items():
        folder = dataset / array_path
        for index in np.ndindex(grid.shape):
            chunk = folder.joinpath(*map(str, index))
            if chunk.exists():
                data = chunk.read_bytes()
                assert int(grid[index]) == (len(data) + 1) << 32 | google_crc32c.value(data)
                files += 1
            else:
                assert int(grid[index]) == 0
    assert files == count > 0
    assert {"data/chunked_012", "metadata/chunked_012_trace_headers", "metadata/live_mask"} <= set(record)
    report = verify_dataset(str(dataset))
    assert report.ok
    assert report.objects_read == count
    np.testing.assert_array_equal(MDIOReader(str(dataset))[...], VALUES)  # our reader ignores the record


def test_verify_names_exactly_the_damage(tmp_path: Path) -> None:
    dataset = make(tmp_path / "a.mdio")
    record_existing(str(dataset))
    data = dataset / "data" / "chunked_012"
    flipped = data / "1" / "0" / "2"
    raw = bytearray(flipped.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    flipped.write_bytes(bytes(raw))
    (data / "2" / "1" / "0").unlink()
    (data / "9").mkdir()
    (data / "9" / "9").write_bytes(b"stray")
    report = verify_dataset(str(dataset))
    assert not report.ok
    (traces,) = [a for a in report.arrays if a.path == "data/chunked_012"]
    assert traces.differing == ["data/chunked_012/1/0/2"]
    assert traces.missing == ["data/chunked_012/2/1/0"]
    assert traces.unexpected == ["data/chunked_012/9/9"]
    assert all(a.ok for a in report.arrays if a.path != "data/chunked_012")


def test_deep_recomputes_statistics_and_live_traces(tmp_path: Path) -> None:
    dataset = make(tmp_path / "a.mdio")
    record_existing(str(dataset))
    assert verify_dataset(str(dataset), deep=True).ok
    root = zarr.open_group(str(dataset), mode="r+")
    root.attrs["max"] = 1e6
    root.attrs["trace_count"] = 3
    zarr.consolidate_metadata(root.store)
    report = verify_dataset(str(dataset), deep=True)
    assert not report.ok
    assert report.deep is not None
    assert set(report.deep["differences"]) == {"max", "trace_count"}
    assert report.deep["differences"]["max"]["recomputed"] == pytest.approx(float(VALUES.max()))
    assert report.deep["live_traces"] == 120


@pytest.mark.objectstore
@pytest.mark.parametrize("store", ["s3", "gcs"])
def test_verify_on_object_stores(tmp_path: Path, store: str, request: pytest.FixtureRequest) -> None:
    bucket: Any = request.getfixturevalue("s3_bucket" if store == "s3" else "gcs_bucket")
    local = make(tmp_path / "a.mdio")
    url = bucket.url("a.mdio")
    bucket.fs.put(str(local), url.split("://", 1)[1], recursive=True)
    options = bucket.storage_options
    count = record_existing(url, options)
    assert verify_dataset(url, options).ok
    key = url.split("://", 1)[1]
    raw = bytearray(bucket.fs.cat_file(f"{key}/data/chunked_012/0/1/0"))
    raw[3] ^= 0xFF
    bucket.fs.pipe_file(f"{key}/data/chunked_012/0/1/0", bytes(raw))
    bucket.fs.rm_file(f"{key}/metadata/live_mask/0/0")
    bucket.fs.pipe_file(f"{key}/data/chunked_012/0/0/7", b"stray")
    report = verify_dataset(url, options)
    (traces,) = [a for a in report.arrays if a.path == "data/chunked_012"]
    (mask,) = [a for a in report.arrays if a.path == "metadata/live_mask"]
    assert traces.differing == ["data/chunked_012/0/1/0"]
    assert traces.unexpected == ["data/chunked_012/0/0/7"]
    assert mask.missing == ["metadata/live_mask/0/0"]
    assert [a.path for a in report.arrays if not a.ok] == ["data/chunked_012", "metadata/live_mask"]
    assert report.objects_read == count - 1


@pytest.mark.objectstore
def test_sample_reads_only_its_share(tmp_path: Path, s3_bucket: Any, s3_requests: Any) -> None:
    local = make(tmp_path / "a.mdio")
    url = s3_bucket.url("a.mdio")
    s3_bucket.fs.put(str(local), url.split("://", 1)[1], recursive=True)
    options = s3_bucket.storage_options
    count = record_existing(url, options)
    s3_requests.clear()
    report = verify_dataset(url, options, sample=0.25)
    gets = [p for m, p in s3_requests.requests() if m == "GET" and "/a.mdio/" in p and "/." not in p and "?" not in p]
    chunk_gets = [p for p in gets if "/checksums/" not in p]
    assert len(gets) - len(chunk_gets) == len(report.arrays)  # each record array is one small object here
    assert report.ok
    assert report.objects_read == len(chunk_gets)
    assert len(chunk_gets) <= sum(max(1, -(-a.recorded // 4)) for a in report.arrays) < count


def test_a_rechunk_adds_its_patterns_to_the_record(tmp_path: Path) -> None:
    from mdio_catalog import MDIOWriter, rechunk

    dataset = make(tmp_path / "a.mdio")
    rechunk(MDIOWriter(str(dataset), access_pattern="012"), (12, 10, 4), "fast_z")
    record = read_record(zarr.open_group(str(dataset), mode="r"))
    assert record is not None
    assert {"data/chunked_fast_z", "metadata/chunked_fast_z_trace_headers", "data/chunked_012"} <= set(record)
    assert np.count_nonzero(record["data/chunked_fast_z"]) == 10  # 40 samples / 4, one chunk each
    assert verify_dataset(str(dataset)).ok
    (dataset / "data" / "chunked_fast_z" / "0" / "0" / "3").write_bytes(b"changed")
    report = verify_dataset(str(dataset))
    assert [key for a in report.arrays for key in a.differing] == ["data/chunked_fast_z/0/0/3"]
