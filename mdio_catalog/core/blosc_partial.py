"""Decoding part of a Blosc chunk: only the internal blocks that hold a wanted byte range.

Why: a Blosc (1.x) frame is a sequence of independently compressed blocks (256 KiB each in what multidimio 1.x
writes: 32 per 128^3 float32 chunk). An inline slice wants one contiguous 64 KiB row of each chunk it touches, so
decoding the one block that holds it instead of all 32 is ~15x less work per chunk (numcodecs 0.16 no longer
exposes Blosc's partial decompression). Only the layout we can check is handled: zstd blocks, byte shuffle or
none, each block one stream (the "don't split" flag); anything else (memcpyed frames, bit shuffle, split blocks,
other compressors) returns None and the caller decodes the whole chunk.

The frame (c-blosc 1.x): 16-byte header (version, versionlz, flags, typesize, nbytes, blocksize, cbytes), one
int32 start offset per block, then per block an int32 compressed size and the compressed stream (stored as is when
compression did not pay off: size equal to the block's).
"""

from __future__ import annotations

import math
import struct
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
from numcodecs import Zstd

_SHUFFLE, _MEMCPYED, _BITSHUFFLE, _DONT_SPLIT = 0x01, 0x02, 0x04, 0x10
_ZSTD = 4  # compressor code in the flags' top three bits
_local = threading.local()


def bounding_range(inside: Sequence[Any], chunks: Sequence[int]) -> tuple[int, int]:
    """The [start, stop) element range of a C-order chunk from the first to the last element of the part
    ``inside`` (an int or a unit-step slice per axis): one row of an inline slice is a short range, a crossline or
    a time slice spans (nearly) the whole chunk."""
    first = last = 0
    for k, n, stride in zip(inside, chunks, _strides(chunks), strict=True):
        lo, hi = (k, k + 1) if isinstance(k, int) else (k.start or 0, n if k.stop is None else k.stop)
        first += lo * stride
        last += (hi - 1) * stride
    return first, last + 1


def _strides(chunks: Sequence[int]) -> list[int]:
    return [math.prod(chunks[axis + 1 :]) for axis in range(len(chunks))]


def decode_range(raw: memoryview | bytes, start: int, stop: int, *, most: float = 0.5) -> bytes | None:
    """Bytes [start, stop) of the decoded frame ``raw``, decoding only the blocks that hold them; None when the
    frame is not one this module reads, or when those blocks are more than ``most`` of the frame's."""
    if len(raw) < 16:
        return None
    flags, typesize = raw[2], raw[3]
    nbytes, blocksize, _ = struct.unpack_from("<III", raw, 4)
    if flags & (_MEMCPYED | _BITSHUFFLE) or not flags & _DONT_SPLIT or flags >> 5 != _ZSTD or blocksize <= 0:
        return None
    if not 0 <= start < stop <= nbytes:
        return None
    nblocks = -(-nbytes // blocksize)
    first, last = start // blocksize, (stop - 1) // blocksize
    if last - first + 1 > most * nblocks:
        return None
    codec = getattr(_local, "zstd", None)
    if codec is None:
        codec = _local.zstd = Zstd()
    starts = struct.unpack_from(f"<{nblocks}i", raw, 16)
    pieces = []
    for block in range(first, last + 1):
        size = min(blocksize, nbytes - block * blocksize)
        at = starts[block]
        csize = struct.unpack_from("<i", raw, at)[0]
        stream = raw[at + 4 : at + 4 + csize]
        data = bytes(stream) if csize == size else bytes(codec.decode(stream))
        if len(data) != size:
            return None
        if flags & _SHUFFLE and typesize > 1:
            n = size // typesize
            body = np.frombuffer(data, np.uint8, count=n * typesize).reshape(typesize, n).T
            data = body.tobytes() + data[n * typesize :]
        pieces.append(data)
    offset = first * blocksize
    return b"".join(pieces)[start - offset : stop - offset]
