"""Streaming SEG-Y reads from the moto S3 server: large ranged GETs (no HEAD), each byte fetched at most once by a
header scan, long runs cut into pieces fetched concurrently, bounded memory. Requests are counted from the
server's access log (``s3_requests``); the oracle for the values is the same file read locally."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mdio_catalog.segy.reader import SegyFile
from mdio_catalog.segy.source import READ_PIECE_BYTES, FsspecSource
from mdio_catalog.segy.trace_headers import scan_pieces
from tests.segy.conftest import MakeSegy

pytestmark = pytest.mark.objectstore

FIELDS = ["inline", "crossline", "cdp_x", "coordinate_scalar"]


def upload(path: Path, bucket: Any) -> str:
    url = bucket.url(path.name)
    bucket.fs.put_file(str(path), url)
    return url


def test_header_scan_fetches_each_byte_once_in_large_ranged_gets(
    make_segy: MakeSegy, s3_bucket: Any, s3_requests: Any
) -> None:
    path = make_segy(fmt=5, n_traces=600, n_samples=1000)  # 2.5 MB, traces of 4240 bytes
    url = upload(path, s3_bucket)
    with SegyFile(path) as local:
        expected = local.header_columns(FIELDS)
    with SegyFile(url, storage_options=s3_bucket.storage_options) as remote:
        s3_requests.clear()
        got = remote.header_columns(FIELDS)  # default: 8 MiB pieces, the whole file in one GET
        assert s3_requests.requests() == [("GET", f"/{s3_bucket.name}/{path.name}")]
        s3_requests.clear()
        pieces = remote.header_columns(FIELDS, chunk_bytes=256 * 1024)  # 61 traces (258 640 bytes) per GET
        per_piece = (256 * 1024) // remote.trace_size
        assert s3_requests.count("GET") == math.ceil(600 / per_piece) == 10
        assert s3_requests.count() == s3_requests.count("GET")  # no HEAD, no listing
    for columns in (got, pieces):
        assert all(np.array_equal(columns[k], expected[k]) for k in expected)


@pytest.mark.parametrize(("start", "stop", "piece"), [(0, 50, 7 * 640), (3, 50, 640), (0, 50, 100), (0, 50, 10**9)])
def test_scan_pieces_tile_the_traces_without_overlap(start: int, stop: int, piece: int) -> None:
    """The requests of a streamed scan: consecutive and disjoint, within the budget, each ending at a header."""
    trace_size = 240 + 400
    pieces = scan_pieces(3600, trace_size, start, stop, piece)
    assert sum(k for _, k, _, _ in pieces) == stop - start
    assert [first for first, _, _, _ in pieces] == list(np.cumsum([start] + [k for _, k, _, _ in pieces])[:-1])
    for (first, k, offset, length), following in zip(pieces, [*pieces[1:], None], strict=True):
        assert offset == 3600 + first * trace_size
        assert length == (k - 1) * trace_size + 240  # stops at the last header: no samples after it
        assert length <= max(piece, 240)
        if following is not None:
            assert offset + length < following[2]  # never overlapping, never fetched twice
    assert scan_pieces(3600, trace_size, 5, 5, piece) == []


def test_long_runs_are_cut_into_concurrent_pieces(make_segy: MakeSegy, s3_bucket: Any, s3_requests: Any) -> None:
    path = make_segy(fmt=5, n_traces=300, n_samples=500)  # traces of 2240 bytes, 672 000 bytes of traces
    url = upload(path, s3_bucket)
    whole = path.read_bytes()
    source = FsspecSource(url, s3_bucket.storage_options, piece_bytes=64 * 1024, in_flight=4)
    s3_requests.clear()
    out = np.empty(len(whole) - 100, dtype=np.uint8)
    assert source.read_into(100, out) == out.size
    assert out.tobytes() == whole[100:]
    assert s3_requests.count("GET") == math.ceil(out.size / (64 * 1024)) == s3_requests.count()

    # Several runs at once (what one write task reads): each run one GET or a few, all bytes in place.
    s3_requests.clear()
    runs = [(3600, np.empty(2240 * 10, np.uint8)), (3600 + 2240 * 50, np.empty(2240 * 40, np.uint8))]
    assert source.read_many_into(runs) == [2240 * 10, 2240 * 40]
    for offset, buf in runs:
        assert buf.tobytes() == whole[offset : offset + buf.size]
    assert s3_requests.count("GET") == 1 + math.ceil(2240 * 40 / (64 * 1024))
    # A read past the end of the file stops there.
    tail = np.zeros(5000, dtype=np.uint8)
    assert source.read_into(len(whole) - 1000, tail) == 1000

    with SegyFile(url, storage_options=s3_bucket.storage_options) as remote, SegyFile(path) as local:
        picks = [0, 1, 2, 3, 150, 151, 299, 7, 7]
        np.testing.assert_array_equal(remote.read_trace_indices(picks)[1], local.read_trace_indices(picks)[1])
        s3_requests.clear()
        remote.read_trace_indices(picks)
        assert s3_requests.count("GET") == 4  # runs [0, 4), [7], [150, 152), [299]


def test_iter_ranges_keeps_order_and_stops_early(make_segy: MakeSegy, s3_bucket: Any) -> None:
    path = make_segy(fmt=5, n_traces=40, n_samples=100)
    url = upload(path, s3_bucket)
    whole = path.read_bytes()
    source = FsspecSource(url, s3_bucket.storage_options, in_flight=3)
    ranges = [(i * 997, 500) for i in range(20)]
    assert list(source.iter_ranges(ranges)) == [whole[o : o + n] for o, n in ranges]
    stream = source.iter_ranges(iter(ranges))
    assert next(stream) == whole[:500]
    stream.close()  # the ranges fetched ahead are dropped, nothing hangs


_MEASURE = """
import json, sys, tracemalloc
from mdio_catalog.segy.reader import SegyFile
url, options, piece = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
with SegyFile(url, storage_options=options) as remote:
    remote.header_columns(["inline"], 0, 10)  # HTTP session and imports settled before measuring
    tracemalloc.start()
    columns = remote.header_columns(["inline", "crossline", "cdp_x", "coordinate_scalar"], chunk_bytes=piece)
    print(tracemalloc.get_traced_memory()[1], int(columns["inline"].size))
"""


def test_remote_header_scan_memory_is_bounded_by_the_pieces_in_flight(make_segy: MakeSegy, s3_bucket: Any) -> None:
    """Measured in a separate process (this one also runs the S3 server): the scan's peak of Python allocations
    is the pieces in flight and the columns, not the file."""
    path = make_segy(fmt=5, n_traces=2000, n_samples=1000)  # 8.5 MB
    url = upload(path, s3_bucket)
    piece = 128 * 1024
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, url, json.dumps(s3_bucket.storage_options), str(piece)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    peak, traces = (int(word) for word in done.stdout.split())
    assert traces == 2000
    # 8 pieces of ~128 KiB in flight plus their copies in the HTTP client: ~2 MiB, a quarter of the file.
    assert peak < 3 * 1024 * 1024 < path.stat().st_size / 2, peak
    assert READ_PIECE_BYTES == 8 * 1024 * 1024
