"""Checksums recorded as datasets are written: the entries equal an independent CRC32C of the stored objects, and
on the S3 server no chunk object is read back to record it (counted in the server's own log)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import google_crc32c
import numpy as np
import pytest
import zarr
from hypothesis import given
from hypothesis import strategies as st

from mdio_catalog.api.convenience import copy_mdio
from mdio_catalog.converters.numpy import numpy_to_mdio
from mdio_catalog.core.checksums import read_record
from mdio_catalog.core.recording import LiveRecorder, RecordingStore, split_chunk_key
from mdio_catalog.core.verify import verify_dataset

VALUES = np.random.default_rng(11).normal(size=(12, 10, 40)).astype(np.float32)


def crc_entry(data: bytes) -> int:
    return (len(data) + 1) << 32 | google_crc32c.value(data)


def test_the_recording_store_sees_every_chunk_as_written(tmp_path: Path) -> None:
    path = tmp_path / "z.zarr"
    recorder = LiveRecorder()
    store = RecordingStore(zarr.storage.LocalStore(str(path)), recorder)
    array = zarr.create_array(store, name="x", shape=(10, 7), chunks=(4, 3), dtype="int32", zarr_format=2,
                              chunk_key_encoding={"name": "v2", "separator": "/"})  # fmt: skip
    array[:5] = 7  # chunks of rows 0..7 (two chunk rows), all three columns
    grid = recorder.entries["x"]
    for index in np.ndindex(grid.shape):
        chunk = path / "x" / "/".join(map(str, index))
        assert int(grid[index]) == (crc_entry(chunk.read_bytes()) if chunk.exists() else 0)
    assert np.count_nonzero(grid) == 6
    array[:] = 0  # zarr deletes chunks equal to the fill value: their entries go
    assert np.count_nonzero(recorder.entries["x"]) == 0


def test_a_store_opened_before_recording_reports_to_it(tmp_path: Path) -> None:
    """Zarr arrays opened before a recording starts (a writer's root) still report to it."""
    from mdio_catalog.core.recording import recording
    from mdio_catalog.core.store import Location, open_store

    location = Location.of(tmp_path / "z.zarr")
    store = open_store(location, read_only=False)
    array = zarr.create_array(store, name="a/b", shape=(8,), chunks=(4,), dtype="float32", zarr_format=2,
                              chunk_key_encoding={"name": "v2", "separator": "/"})  # fmt: skip
    array[:4] = 1.0  # before: not recorded
    with recording(str(tmp_path / "z.zarr")) as recorder:
        array[4:] = 2.0
    assert list(recorder.entries["a/b"]) == [0, crc_entry((tmp_path / "z.zarr/a/b/1").read_bytes())]


@given(st.lists(st.integers(0, 99), min_size=1, max_size=4), st.sampled_from(["data/chunked_012", "x", "a/b/c_1"]))
def test_chunk_keys_split_into_array_and_index(index: list[int], array: str) -> None:
    key = array + "/" + "/".join(map(str, index))
    assert split_chunk_key(key) == (array, tuple(index))
    assert split_chunk_key(array + "/.zarray") is None


def test_entries_drained_in_one_process_merge_into_another() -> None:
    worker, driver = LiveRecorder(), LiveRecorder()
    worker.array_defined("d", b'{"shape": [10, 6], "chunks": [4, 3]}')
    worker.stored("d/2/1", b"abc")
    worker.stored("d/9/9", b"outside the grid")  # ignored
    drained = worker.drain()
    assert worker.drain() == {}  # forgotten once sent
    driver.merge(drained)
    assert int(driver.entries["d"][2, 1]) == crc_entry(b"abc")
    assert np.count_nonzero(driver.entries["d"]) == 1


def _chunk_gets(requests: Any, name: str) -> list[str]:
    return [
        path
        for method, path in requests.requests()
        if method == "GET" and f"/{name}" in path and "?" not in path and "/." not in path and "/checksums/" not in path
    ]


def _independent_record(fs: Any, root: str, record: dict[str, np.ndarray]) -> None:
    for array, grid in record.items():
        stored = {p.rsplit(f"/{array}/", 1)[1] for p in fs.find(f"{root}/{array}") if "/." not in p}
        assert int(np.count_nonzero(grid)) == len(stored)
        for key in stored:
            index = tuple(int(i) for i in key.split("/"))
            assert int(grid[index]) == crc_entry(fs.cat_file(f"{root}/{array}/{key}"))


@pytest.mark.objectstore
def test_an_s3_write_is_recorded_without_reading_chunks_back(s3_bucket: Any, s3_requests: Any) -> None:
    url = s3_bucket.url("w.mdio")
    options = s3_bucket.storage_options
    s3_requests.clear()
    numpy_to_mdio(VALUES, url, (4, 5, 16), storage_options=options)
    assert _chunk_gets(s3_requests, "w.mdio") == []  # the publish copies server-side; nothing is downloaded
    record = read_record(zarr.open_group(url, storage_options=options, mode="r", zarr_format=2))
    assert record is not None
    assert "data/chunked_012" in record
    _independent_record(s3_bucket.fs, url.split("://", 1)[1], record)
    assert verify_dataset(url, options).ok


@pytest.mark.objectstore
def test_a_copy_to_s3_is_recorded_from_the_bytes_it_copies(tmp_path: Path, s3_bucket: Any, s3_requests: Any) -> None:
    source = tmp_path / "a.mdio"
    numpy_to_mdio(VALUES, str(source), (4, 5, 16))
    url = s3_bucket.url("copy.mdio")
    options = s3_bucket.storage_options
    s3_requests.clear()
    copy_mdio(str(source), url, copy_traces=True, copy_headers=True, storage_options_output=options)
    assert _chunk_gets(s3_requests, "copy.mdio") == []
    record = read_record(zarr.open_group(url, storage_options=options, mode="r", zarr_format=2))
    assert record is not None
    assert np.count_nonzero(record["data/chunked_012"]) == 3 * 2 * 3
    _independent_record(s3_bucket.fs, url.split("://", 1)[1], record)
    assert verify_dataset(url, options).ok


def test_the_record_joins_the_consolidated_metadata_as_zarr_writes_it(tmp_path: Path) -> None:
    """Publish adds the record's nodes to .zmetadata itself (not re-reading every node): the file must equal what
    zarr's own consolidation of the same store writes."""
    import json

    dataset = tmp_path / "a.mdio"
    numpy_to_mdio(VALUES, str(dataset), (4, 5, 16))
    ours = json.loads((dataset / ".zmetadata").read_text())
    assert any(key.startswith("checksums/") for key in ours["metadata"])
    zarr.consolidate_metadata(zarr.storage.LocalStore(str(dataset)))
    assert ours == json.loads((dataset / ".zmetadata").read_text())
