"""Provenance records and the lock file: round trips, UTC times, consistency checks."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from mdio_catalog.exceptions import SpecValidationError
from mdio_catalog.specs.provenance import LockFile, ProvenanceRecord
from mdio_catalog.specs.sources import IndexField

HASH = hashlib.sha256(b"spec").hexdigest()


def record(name: str = "stack", **changes) -> ProvenanceRecord:
    data = {
        "dataset": name,
        "spec_hash": HASH,
        "spec": {"kind": "segy", "chunks": [128, 128, 128]},
        "source": {
            "kind": "segy",
            "url": "s3://bucket/raw/stack.sgy",
            "size": 123456789,
            "etag": '"abc-2"',
            "header_hash": hashlib.sha256(b"3600").hexdigest(),
            "trace_header_hash": hashlib.sha256(b"headers").hexdigest(),
            "sampled_traces": 1000,
        },
        "byte_map": [{"name": "inline", "byte": 189, "type": "int32"}, {"name": "crossline", "byte": 193}],
        "grid_overrides": {},
        "software": {"mdio_catalog": "0.1.0", "python": "3.11.9", "zarr": "3.0.8"},
        "parameters": {"chunks": [128, 128, 128], "lossless": True},
        "started": "2024-05-01T10:00:00+02:00",
        "finished": datetime(2024, 5, 1, 8, 5, tzinfo=UTC),
        "dimensions": ["inline", "crossline", "sample"],
        "shape": [345, 188, 1001],
        "trace_count": 64860,
        "statistics": {"mean": 0.1, "std": 2.0, "rms": 2.01, "min": -30.5, "max": 29.0},
        "histogram": {"edges": [-30.5, 0.0, 29.0], "counts": [30000000, 34926860]},
        "access_patterns": ["012", "fast_il"],
        "output": "/data/build/stack.mdio",
    }
    data.update(changes)
    return ProvenanceRecord.from_data(data)


def test_record_round_trips_and_keeps_utc():
    rec = record()
    assert rec.started == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    assert rec.started.tzinfo == UTC
    assert rec.duration_seconds == 300
    assert rec.byte_map[1] == IndexField(name="crossline", byte=193)
    assert ProvenanceRecord.from_yaml(rec.to_yaml()) == rec
    assert ProvenanceRecord.from_json(rec.to_json()) == rec
    assert "2024-05-01T08:00:00Z" in rec.to_yaml()


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"spec_hash": "abc"}, "spec_hash: String should match pattern"),
        ({"started": "2024-05-01T10:00:00"}, "started: Input should have timezone info"),
        (
            {"finished": datetime(2024, 5, 1, 7, 0, tzinfo=UTC)},
            "finished: finished 2024-05-01T07:00:00+00:00 is before started",
        ),
        ({"shape": [345, 188]}, "shape: 2 sizes for 3 dimensions"),
        ({"trace_count": 10**9}, "trace_count: 1000000000 traces do not fit 64860 grid cells"),
        ({"histogram": {"edges": [0.0, 1.0], "counts": [1, 2]}}, "histogram.edges: 2 edges for 2 counts"),
        ({"histogram": {"edges": [1.0, 0.0], "counts": [1]}}, "histogram.edges: edges must increase"),
        (
            {"statistics": {"mean": 0, "std": 0, "rms": 0, "min": 2, "max": 1}},
            "statistics.min: min 2.0 is larger than max 1.0",
        ),
        (
            {"statistics": {"mean": float("nan"), "std": 0, "rms": 0, "min": 0, "max": 1}},
            "statistics.mean: must be a finite number",
        ),
        (
            {"histogram": {"edges": [0.0, 1.0], "counts": [-1]}},
            "histogram.counts[0]: Input should be greater than or equal to 0",
        ),
        ({"hostname": "box"}, "hostname: unknown key 'hostname'"),
    ],
)
def test_record_errors(changes, fragment):
    with pytest.raises(SpecValidationError) as info:
        record(**changes)
    assert fragment in str(info.value)


def test_lock_file(tmp_path: Path):
    lock = LockFile.empty("demo").with_entry(record("b")).with_entry(record("a"))
    assert list(lock.entries) == ["a", "b"]
    lock = lock.with_entry(record("a", trace_count=5))
    assert lock.get("a").trace_count == 5
    assert lock.get("zzz") is None
    assert list(lock.without("a").entries) == ["b"]
    path = tmp_path / "catalog.lock"
    lock.to_file(path, schema="schemas/lock.schema.json")
    assert path.read_text().startswith("# yaml-language-server: $schema=schemas/lock.schema.json\n")
    assert LockFile.from_file(path) == lock
    text = path.read_text().replace("dataset: b", "dataset: c")
    with pytest.raises(
        SpecValidationError, match=r"catalog.lock:\d+:\d+: entries.b.dataset: the entry 'b' records dataset 'c'"
    ):
        LockFile.from_yaml(text, source="catalog.lock")


def test_times_in_other_zones_become_utc():
    rec = record(started=datetime(2024, 5, 1, 3, 0, tzinfo=timezone(timedelta(hours=-5))))
    assert rec.started == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    assert rec.started.utcoffset() == timedelta(0)
