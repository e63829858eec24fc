"""copy_mdio, rechunk and rechunk_batch on a real dask cluster (two worker processes): the stores they write are
the ones a local run writes, object for object and byte for byte, to local disk and to the S3 server; the tasks
ran on both workers and none in the test process."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mdio_catalog import MDIOReader, MDIOWriter, copy_mdio, numpy_to_mdio, rechunk, rechunk_batch
from mdio_catalog.core.headers import TRACE_HEADER_DTYPE
from mdio_catalog.exceptions import MDIOAlreadyExistsError
from tests.cluster import assert_ran_on_workers, worker_task_counts

SHAPE = (20, 16, 40)
#: Two new patterns read in one pass, in blocks of (4, 8, 40): ten blocks, two of them without live traces.
NEW_CHUNKS = [(2, 8, 40), (4, 4, 20)]
NEW_SUFFIXES = ["fast_il", "small"]


def make_volume(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 3-D dataset with dead traces (and two whole dead blocks), real headers, trace count and statistics."""
    rng = np.random.default_rng(7)
    values = rng.normal(size=SHAPE).astype("float32")
    mask = rng.random(SHAPE[:2]) > 0.2
    mask[0:4, 0:8] = False
    mask[8:12, 8:16] = False
    values[~mask] = 0
    numpy_to_mdio(values, str(path), (4, 4, 16), index_names=["inline", "crossline", "sample"])
    headers = np.zeros(SHAPE[:2], TRACE_HEADER_DTYPE)
    il, xl = np.meshgrid(np.arange(SHAPE[0]), np.arange(SHAPE[1]), indexing="ij")
    headers["inline"], headers["crossline"] = il + 100, xl + 200
    headers[~mask] = np.zeros(1, TRACE_HEADER_DTYPE)[0]
    writer = MDIOWriter(str(path))
    writer.header_array[:] = headers
    writer.live_mask = mask
    writer.trace_count = int(mask.sum())
    return values, mask, headers


@pytest.fixture
def volume(tmp_path: Path) -> tuple[Path, np.ndarray, np.ndarray, np.ndarray]:
    path = tmp_path / "src.mdio"
    values, mask, headers = make_volume(path)
    rechunk(MDIOWriter(str(path)), (20, 1, 40), "fast_xl")  # a second pattern, so copies carry several
    return path, values, mask, headers


def local_objects(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def bucket_objects(bucket: Any, url: str) -> dict[str, bytes]:
    bucket.fs.invalidate_cache()
    root = url.split("://", 1)[1]
    found = bucket.fs.cat(bucket.fs.find(root))  # concurrent requests
    return {path[len(root) :].lstrip("/"): data for path, data in found.items()}


def assert_same_objects(got: dict[str, bytes], expected: dict[str, bytes]) -> None:
    """Same object keys, same bytes; consolidated metadata compared as JSON (key order may differ by store). The
    checksum records are compared too: entries taken as the objects were written (here) or read back after a
    cluster wrote them must be the same bytes, and every publish, local or object store, writes one."""
    assert any(key.startswith("checksums/data__chunked_") for key in expected)
    assert sorted(got) == sorted(expected)
    for key, data in expected.items():
        if key == ".zmetadata":
            assert json.loads(got[key]) == json.loads(data)
        else:
            assert got[key] == data, key


def assert_dataset(
    url: str, options: dict[str, Any] | None, pattern: str, values: Any, mask: Any, headers: Any
) -> None:
    reader = MDIOReader(url, access_pattern=pattern, storage_options=options, return_metadata=True)
    live, got_headers, traces = reader[:]
    np.testing.assert_array_equal(traces, values)
    np.testing.assert_array_equal(got_headers, headers)
    np.testing.assert_array_equal(live, mask)


# --- copy -----------------------------------------------------------------------------------------------------------
def test_copy_on_the_cluster_to_local_disk_equals_the_local_copy(
    volume: tuple[Path, np.ndarray, np.ndarray, np.ndarray], tmp_path: Path, dask_client: Any
) -> None:
    path, values, mask, headers = volume
    copy_mdio(str(path), str(tmp_path / "local.mdio"), copy_traces=True, copy_headers=True)
    copy_mdio(str(path), str(tmp_path / "cluster.mdio"), copy_traces=True, copy_headers=True, client=dask_client)
    assert_ran_on_workers(dask_client, "copy_objects")
    assert_same_objects(local_objects(tmp_path / "cluster.mdio"), local_objects(tmp_path / "local.mdio"))
    for pattern in ("012", "fast_xl"):
        assert_dataset(str(tmp_path / "cluster.mdio"), None, pattern, values, mask, headers)
    assert MDIOReader(str(tmp_path / "cluster.mdio")).trace_count == int(mask.sum())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cluster.mdio", "local.mdio", "src.mdio"]  # no staging


def test_copy_on_the_cluster_keeps_the_flags_and_refusals(
    volume: tuple[Path, np.ndarray, np.ndarray, np.ndarray], tmp_path: Path, dask_client: Any
) -> None:
    path, _, mask, headers = volume
    copy_mdio(str(path), str(tmp_path / "local.mdio"), copy_headers=True)
    copy_mdio(str(path), str(tmp_path / "cluster.mdio"), copy_headers=True, client=dask_client)
    assert_same_objects(local_objects(tmp_path / "cluster.mdio"), local_objects(tmp_path / "local.mdio"))
    assert_dataset(str(tmp_path / "cluster.mdio"), None, "012", np.zeros(SHAPE, "float32"), mask, headers)
    before = local_objects(tmp_path / "cluster.mdio")
    with pytest.raises(MDIOAlreadyExistsError):
        copy_mdio(str(path), str(tmp_path / "cluster.mdio"), client=dask_client)
    assert local_objects(tmp_path / "cluster.mdio") == before


@pytest.mark.objectstore
def test_copy_on_the_cluster_to_s3_equals_the_local_copy(
    volume: tuple[Path, np.ndarray, np.ndarray, np.ndarray],
    tmp_path: Path,
    dask_client: Any,
    s3_bucket: Any,
    s3_requests: Any,
) -> None:
    path, values, mask, headers = volume
    copy_mdio(str(path), str(tmp_path / "local.mdio"), copy_traces=True, copy_headers=True)
    url = s3_bucket.url("copy.mdio")
    options = s3_bucket.storage_options
    s3_requests.clear()
    copy_mdio(str(path), url, copy_traces=True, copy_headers=True, storage_options_output=options, client=dask_client)
    # The record comes from the bytes the workers copied: no chunk object is downloaded again to checksum it.
    gets = [p for m, p in s3_requests.requests() if m == "GET" and "?" not in p]
    downloaded = [p for p in gets if "/data/chunked_" in p and p.rsplit("/", 1)[-1].isdigit()]
    assert downloaded == []
    assert_ran_on_workers(dask_client, "copy_objects")
    assert_same_objects(bucket_objects(s3_bucket, url), local_objects(tmp_path / "local.mdio"))
    assert_dataset(url, options, "fast_xl", values, mask, headers)
    assert sorted(s3_bucket.fs.ls(s3_bucket.name)) == [f"{s3_bucket.name}/copy.mdio"]  # no staging prefix left


# --- rechunk --------------------------------------------------------------------------------------------------------
def test_rechunk_batch_on_the_cluster_equals_the_local_run(
    volume: tuple[Path, np.ndarray, np.ndarray, np.ndarray], tmp_path: Path, dask_client: Any
) -> None:
    path, values, mask, headers = volume
    local, cluster = tmp_path / "local.mdio", tmp_path / "cluster.mdio"
    shutil.copytree(path, local)
    shutil.copytree(path, cluster)
    rechunk_batch(MDIOWriter(str(local)), NEW_CHUNKS, NEW_SUFFIXES)
    rechunk_batch(MDIOWriter(str(cluster)), NEW_CHUNKS, NEW_SUFFIXES, client=dask_client)
    assert_ran_on_workers(dask_client, "rechunk_block")
    assert_same_objects(local_objects(cluster), local_objects(local))
    for suffix, chunks in zip(NEW_SUFFIXES, NEW_CHUNKS, strict=True):
        assert MDIOReader(str(cluster), access_pattern=suffix).chunks == chunks
        assert_dataset(str(cluster), None, suffix, values, mask, headers)
    # rechunk (one pattern) takes the client too, and overwrite keeps working
    rechunk(MDIOWriter(str(cluster)), (4, 16, 8), "fast_il", overwrite=True, client=dask_client)
    assert MDIOReader(str(cluster), access_pattern="fast_il").chunks == (4, 16, 8)
    assert_dataset(str(cluster), None, "fast_il", values, mask, headers)


@pytest.mark.objectstore
def test_rechunk_batch_on_the_cluster_on_s3_equals_the_local_run(
    volume: tuple[Path, np.ndarray, np.ndarray, np.ndarray], tmp_path: Path, dask_client: Any, s3_bucket: Any
) -> None:
    path, values, mask, headers = volume
    local = tmp_path / "local.mdio"
    shutil.copytree(path, local)
    rechunk_batch(MDIOWriter(str(local)), NEW_CHUNKS, NEW_SUFFIXES)
    url = s3_bucket.url("cube.mdio")
    options = s3_bucket.storage_options
    s3_bucket.fs.put(str(path), url, recursive=True)
    rechunk_batch(MDIOWriter(url, storage_options=options), NEW_CHUNKS, NEW_SUFFIXES, client=dask_client)
    assert_ran_on_workers(dask_client, "rechunk_block")
    assert_same_objects(bucket_objects(s3_bucket, url), local_objects(local))
    assert_dataset(url, options, "small", values, mask, headers)


def test_failed_rechunk_on_the_cluster_leaves_no_pattern(
    volume: tuple[Path, np.ndarray, np.ndarray, np.ndarray], dask_client: Any
) -> None:
    """A corrupt source chunk fails one task on a worker: the others stop writing before the new patterns are
    dropped, so nothing of them is left, not even chunks written late."""
    path = volume[0]
    (path / "data" / "chunked_012" / "2" / "1" / "1").write_bytes(b"not a blosc frame" * 10)
    before = local_objects(path)
    with pytest.raises(Exception, match=r"(?i)blosc|decompress|codec|buffer"):
        rechunk_batch(MDIOWriter(str(path)), NEW_CHUNKS, NEW_SUFFIXES, client=dask_client)
    assert MDIOReader(str(path), access_pattern="fast_xl").access_patterns == ["012", "fast_xl"]
    time.sleep(0.3)  # a task still running would have written by now
    assert local_objects(path) == before
    ran = worker_task_counts(dask_client)
    assert sum(counts.get("rechunk_block", 0) for counts in ran.values()) >= 2
