"""Partial decoding of Blosc frames (core/blosc_partial.py): only the blocks holding a byte range. Oracle: the full
decode of the same frame by numcodecs' Blosc (c-blosc)."""

from __future__ import annotations

import numpy as np
import pytest
from numcodecs import Blosc

from mdio_catalog.core.blosc_partial import bounding_range, decode_range


@pytest.mark.parametrize("dtype", ["<f4", "<i2", "|u1", "<f8"])
@pytest.mark.parametrize("shuffle", [Blosc.SHUFFLE, Blosc.NOSHUFFLE])
def test_ranges_equal_the_full_decode(dtype: str, shuffle: int) -> None:
    rng = np.random.default_rng(1)
    values = (rng.normal(size=(16, 12, 37)) * 100).astype(dtype)
    values.flat[::7] = 0  # some compressible runs
    frame = Blosc(cname="zstd", clevel=5, shuffle=shuffle, blocksize=1024).encode(values)
    full = bytes(Blosc().decode(frame))
    size = len(full)
    for start, stop in [(0, 10), (1000, 1100), (1020, 1030), (size - 5, size), (2048, 4096 + 3)]:
        part = decode_range(frame, start, stop, most=1.0)
        assert part == full[start:stop], (start, stop)
    assert decode_range(frame, 0, size, most=0.5) is None  # more than half the blocks: the caller decodes all
    assert decode_range(frame, 10, 5) is None


def test_frames_it_does_not_read_are_left_to_blosc() -> None:
    values = np.arange(4096, dtype="<f4")
    for codec in (Blosc(cname="lz4", blocksize=1024), Blosc(cname="zstd", shuffle=Blosc.BITSHUFFLE, blocksize=1024)):
        assert decode_range(codec.encode(values), 0, 16) is None
    assert decode_range(b"short", 0, 1) is None


def test_bounding_range_of_a_chunk_part() -> None:
    chunks = (4, 5, 6)
    assert bounding_range((2, slice(0, 5), slice(0, 6)), chunks) == (60, 90)  # one inline row
    assert bounding_range((2, slice(0, 3), slice(0, 6)), chunks) == (60, 78)  # at the edge of the grid
    assert bounding_range((slice(1, 3), slice(0, 5), slice(0, 6)), chunks) == (30, 90)
    assert bounding_range((1, 2, 3), chunks) == (45, 46)
    assert bounding_range((slice(0, 4), 2, slice(0, 6)), chunks) == (12, 108)  # a crossline spans the chunk
    assert bounding_range((slice(0, 4), slice(0, 5), 3), chunks) == (3, 118)  # a time slice too
