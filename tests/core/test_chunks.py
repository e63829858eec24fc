"""Chunk choices: validation, the reference defaults, 4-D/5-D sizes, header and live-mask chunks."""

from __future__ import annotations

import numpy as np
import pytest

from mdio_catalog.core.chunks import default_chunks, header_chunks, live_mask_chunks, validate_chunks
from mdio_catalog.exceptions import MDIOError, ShapeError

MIB = 2**20


def test_validate_chunks_returns_python_ints():
    result = validate_chunks(np.array([4, 8, 16]), (10, 20, 30))
    assert result == (4, 8, 16)
    assert all(type(c) is int for c in result)


def test_validate_chunks_keeps_chunks_larger_than_shape():
    # zarr accepts (and the reference writes) chunks larger than a small array.
    assert validate_chunks((64, 64, 64), (5, 4, 10)) == (64, 64, 64)


@pytest.mark.parametrize(("chunks", "shape"), [((4, 8), (10, 20, 30)), ((4, 8, 16, 2), (10, 20, 30)), ((), (5,))])
def test_validate_chunks_wrong_length(chunks, shape):
    with pytest.raises(ShapeError, match="entries") as info:
        validate_chunks(chunks, shape)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, MDIOError)


@pytest.mark.parametrize("chunks", [(0, 8, 16), (4, -1, 16)])
def test_validate_chunks_non_positive(chunks):
    with pytest.raises(ShapeError, match="positive"):
        validate_chunks(chunks, (10, 20, 30))


def test_validate_chunks_names_what():
    with pytest.raises(ShapeError, match="chunks of chunked_012"):
        validate_chunks((1,), (2, 3), what="chunks of chunked_012")


@pytest.mark.parametrize(
    ("shape", "expected"),
    [((1000, 2000), (512, 512)), ((10, 20), (512, 512)), ((345, 188, 1501), (64, 64, 64)), ((5, 4, 3), (64, 64, 64))],
)
def test_reference_defaults_for_2d_and_3d(shape, expected):
    # mdio-v0-format.md: 2-D (512, 512), 3-D (64, 64, 64), whatever the shape.
    assert default_chunks(shape) == expected


LARGE_4D_5D = [
    (100, 100, 100, 1000),
    (2000, 48, 600, 1500),
    (1000, 3, 3, 2000),
    (64, 64, 64, 64),
    (1000, 1000, 1000, 10),
    (50, 40, 30, 20, 1000),
    (1000, 12, 8, 60, 751),
    (3, 1000, 1000, 5, 3001),
]


@pytest.mark.parametrize("shape", LARGE_4D_5D)
@pytest.mark.parametrize("itemsize", [4, 2])
def test_4d_5d_chunks_hold_1_to_4_mib(shape, itemsize):
    chunks = default_chunks(shape, itemsize=itemsize)
    assert len(chunks) == len(shape)
    assert all(isinstance(c, int) and c >= 1 for c in chunks)
    assert all(c <= s for c, s in zip(chunks, shape, strict=True))
    nbytes = int(np.prod(chunks)) * itemsize
    assert 1 * MIB <= nbytes <= 4 * MIB, (chunks, nbytes / MIB)


@pytest.mark.parametrize("shape", [(2, 3, 5, 100), (4, 4, 4, 4), (1, 1, 1, 1, 7)])
def test_4d_5d_small_arrays_get_one_chunk(shape):
    # Smaller than the target: the whole array is one chunk, and no chunk exceeds its dimension.
    assert default_chunks(shape) == shape


def test_4d_target_mib_is_honoured():
    shape = (500, 500, 500, 1000)
    small = int(np.prod(default_chunks(shape, target_mib=1.0))) * 4
    large = int(np.prod(default_chunks(shape, target_mib=8.0))) * 4
    assert 0.5 * MIB <= small <= 1 * MIB
    assert 4 * MIB <= large <= 8 * MIB


def test_4d_keeps_sample_axis_whole_up_to_512():
    assert default_chunks((100, 100, 100, 300))[-1] == 300
    assert default_chunks((100, 100, 100, 3000))[-1] == 512


def test_header_chunks_drop_sample_axis():
    assert header_chunks((64, 32, 128)) == (64, 32)
    assert header_chunks(np.array([8, 4, 2, 256])) == (8, 4, 2)


@pytest.mark.parametrize("shape", [(10, 20), (345, 188), (5000, 5000), (100, 100, 100, 10), (1_000_000, 64), (7,)])
def test_live_mask_chunks_bounded(shape):
    chunks = live_mask_chunks(shape)
    assert len(chunks) == len(shape)
    assert all(1 <= c <= s for c, s in zip(chunks, shape, strict=True))
    assert int(np.prod(chunks)) <= 8 * 2**20


def test_live_mask_small_mask_is_one_chunk():
    assert live_mask_chunks((345, 188)) == (345, 188)


def test_live_mask_large_mask_uses_big_chunks():
    chunks = live_mask_chunks((20_000, 20_000))
    assert int(np.prod(chunks)) > 8 * 2**20 // 4  # not needlessly tiny
    assert live_mask_chunks((20_000, 20_000), target_cells=1000) != chunks
    assert int(np.prod(live_mask_chunks((20_000, 20_000), target_cells=1000))) <= 1000


def test_live_mask_chunks_empty_shape():
    assert live_mask_chunks(()) == ()
