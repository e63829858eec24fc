"""The spill of remote SEG-Y bytes: what the header scan downloaded is read from local disk by the chunk writing.

Oracles: a byte mask and the file's own bytes for the spill's bookkeeping (hypothesis); the moto server's access
log for the requests, and the same ingestion with the spill off (and from the local file) for the results.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr
from hypothesis import given, settings
from hypothesis import strategies as st

from mdio_catalog.converters.segy import segy_to_mdio
from mdio_catalog.segy.spill import Spill
from mdio_catalog.settings import get_settings
from tests.segy.conftest import MakeSegy

SIZE = 4096


@settings(max_examples=200, deadline=None)
@given(
    puts=st.lists(st.tuples(st.integers(0, SIZE - 1), st.integers(1, 700)), max_size=12),
    queries=st.lists(st.tuples(st.integers(0, SIZE - 1), st.integers(1, 900)), min_size=1, max_size=6),
)
def test_split_tiles_the_range_and_marks_exactly_the_kept_bytes(
    puts: list[tuple[int, int]], queries: list[tuple[int, int]]
) -> None:
    content = np.random.default_rng(len(puts)).integers(0, 256, SIZE, dtype=np.uint8).tobytes()
    kept = np.zeros(SIZE, dtype=bool)
    spill = Spill(SIZE)
    try:
        for offset, length in puts:
            end = min(SIZE, offset + length)
            spill.put(offset, content[offset:end])
            kept[offset:end] = True
        for offset, length in queries:
            end = min(SIZE, offset + length)
            pieces = spill.split(offset, end)
            assert [lo for lo, _, _ in pieces] == [offset, *[hi for _, hi, _ in pieces[:-1]]]
            assert pieces[-1][1] == end
            for lo, hi, in_spill in pieces:
                assert lo < hi
                assert kept[lo:hi].all() if in_spill else not kept[lo:hi].any()
                if in_spill:
                    out = bytearray(hi - lo)
                    assert spill.read_into(lo, memoryview(out)) == hi - lo
                    assert bytes(out) == content[lo:hi]
            flags = [k for _, _, k in pieces]
            assert all(a != b for a, b in itertools.pairwise(flags))  # neighbours always differ: merged
    finally:
        spill.close()


def test_no_spill_without_room(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    free = os.statvfs(tmp_path).f_bavail * os.statvfs(tmp_path).f_frsize
    assert Spill.create(free * 2, "s3://b/huge.sgy") is None
    small = Spill.create(1000, "s3://b/small.sgy")
    assert small is not None
    assert list(tmp_path.iterdir()) == []  # unlinked at creation: nothing to leak, even under kill -9
    small.close()


@pytest.fixture
def spill_setting(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    def choose(on: bool) -> None:
        monkeypatch.setenv("MDIO_CATALOG_SEGY_SPILL", "1" if on else "0")
        get_settings.cache_clear()

    yield choose
    monkeypatch.delenv("MDIO_CATALOG_SEGY_SPILL", raising=False)
    get_settings.cache_clear()


@pytest.mark.objectstore
def test_remote_ingest_downloads_the_samples_once(
    make_segy: MakeSegy, s3_bucket: Any, s3_requests: Any, spill_setting: Any, tmp_path: Path
) -> None:
    path = make_segy(fmt=5, n_traces=2400, n_samples=1000)  # 600 inlines x 4 crosslines, 10.2 MB: 2 scan pieces
    url = s3_bucket.url(path.name)
    s3_bucket.fs.put_file(str(path), url)
    key = f"/{s3_bucket.name}/{path.name}"
    options = s3_bucket.storage_options
    kwargs: dict[str, Any] = {"index_bytes": (189, 193), "index_names": ("inline", "crossline")}
    kwargs["chunksize"] = (16, 4, 250)

    gets = {}
    for on in (False, True):
        spill_setting(on)
        s3_requests.clear()
        segy_to_mdio(url, str(tmp_path / f"spill{on}.mdio"), storage_options_input=options, **kwargs)
        gets[on] = sum(1 for method, p in s3_requests.requests() if method == "GET" and p == key)
    segy_to_mdio(str(path), str(tmp_path / "local.mdio"), **kwargs)

    # Spill off: opening, the 2 scan pieces (8 MiB, up to the last header of each) and then every sample again
    # in the chunk writing. Spill on: the writing fetches only what the scan never downloaded (the samples after
    # the last header of each scan piece), so the total stays within opening + scan + a few gap reads.
    assert gets[True] <= 8
    assert gets[False] >= 5 * gets[True]
    local = zarr.open_group(str(tmp_path / "local.mdio"), mode="r")
    for on in (False, True):
        got = zarr.open_group(str(tmp_path / f"spill{on}.mdio"), mode="r")
        for name in ("data/chunked_012", "metadata/chunked_012_trace_headers", "metadata/live_mask"):
            np.testing.assert_array_equal(got[name][:], local[name][:])
