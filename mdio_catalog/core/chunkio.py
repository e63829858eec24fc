"""Reading chunk-aligned regions of a Zarr v2 array straight from its chunk objects, in parallel.

zarr-python 3 funnels every read through one event-loop thread, which caps a two-core machine at roughly one
core's worth of decompression for large reads, and on S3 it costs two requests per chunk (s3fs asks for the size
before each GET). For the common layout ('/' chunk keys, C order, no filters) this reader plans which chunks a
region touches, fetches each chunk object once (local files with ``pread``; object stores with one ranged-free GET
per chunk and many requests in flight, see :mod:`mdio_catalog.core.chunkfetch`), decodes it with the array's codec
into a per-thread buffer (Blosc and ZFP release the GIL) and copies the wanted part straight into the output.
Anything else falls back to zarr.
"""

from __future__ import annotations

import itertools
import struct
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import zarr

from mdio_catalog.core.blosc_partial import bounding_range, decode_range
from mdio_catalog.core.chunkfetch import ChunkObjects, ChunkTask
from mdio_catalog.exceptions import MDIOFormatError

_local = threading.local()


class ChunkReader:
    """Parallel reads of int/slice regions of one Zarr v2 array whose chunk objects ``objects`` serves."""

    def __init__(self, array: zarr.Array, objects: ChunkObjects) -> None:
        meta = array.metadata
        self.shape = tuple(array.shape)
        self.chunks = tuple(array.chunks)
        self.dtype = np.dtype(array.dtype)
        self.codec: Any = getattr(meta, "compressor", None)
        # Structured arrays (trace headers) fill with zero bytes, as every MDIO writer sets them.
        self.fill = np.zeros((), self.dtype) if self.dtype.fields else (getattr(meta, "fill_value", 0) or 0)
        self.objects = objects
        self.name = str(array.path)

    @classmethod
    def for_array(cls, array: zarr.Array, objects: ChunkObjects | None) -> ChunkReader | None:
        """A reader when the array's layout allows it (else None: use zarr)."""
        meta = array.metadata
        if objects is None or getattr(meta, "zarr_format", None) != 2:
            return None
        if getattr(meta, "dimension_separator", ".") != "/" or getattr(meta, "order", "C") != "C":
            return None
        if getattr(meta, "filters", None) or np.dtype(array.dtype).hasobject:
            return None
        return cls(array, objects)

    @staticmethod
    def supports(key: Sequence[Any]) -> bool:
        return all(isinstance(k, int) or (isinstance(k, slice) and k.step in (None, 1)) for k in key)

    def plan(self, key: Sequence[int | slice]) -> tuple[list[int], list[ChunkTask]]:
        """The output shape of ``key`` and, per chunk it touches, (chunk index, part of the chunk, part of out)."""
        per_axis: list[list[tuple[int, Any, Any]]] = []
        out_shape: list[int] = []
        for k, n, c in zip(key, self.shape, self.chunks, strict=True):
            if isinstance(k, int):
                per_axis.append([(k // c, k % c, None)])
                continue
            start, stop, _ = k.indices(n)
            stop = max(stop, start)
            items = []
            for ci in range(start // c, (stop - 1) // c + 1) if stop > start else []:
                lo, hi = max(start, ci * c), min(stop, (ci + 1) * c)
                items.append((ci, slice(lo - ci * c, hi - ci * c), slice(lo - start, hi - start)))
            per_axis.append(items)
            out_shape.append(stop - start)
        tasks = [
            ChunkTask(
                index=tuple(t[0] for t in combo),
                inside=tuple(t[1] for t in combo),
                target=tuple(t[2] for t in combo if t[2] is not None),
            )
            for combo in itertools.product(*per_axis)
        ]
        return out_shape, tasks

    def read(self, key: Sequence[int | slice], parallel: bool = True) -> npt.NDArray[Any]:
        """The region ``key`` (one int or unit-step slice per axis) as a new array.

        ``parallel=False`` decodes in the calling thread (for callers that parallelise themselves); object-store
        requests still overlap.
        """
        out_shape, tasks = self.plan(key)
        out = np.empty(out_shape, dtype=self.dtype)
        if out.size == 0:
            return out
        self.objects.fetch(tasks, lambda task, raw: self._place(task, raw, out), parallel=parallel)
        return out

    def _place(self, task: ChunkTask, raw: memoryview | bytes | None, out: npt.NDArray[Any]) -> None:
        """Decode one chunk object (``None``: never written, the fill value) into its part of ``out``."""
        if raw is None:
            out[task.target] = self.fill
            return
        buffers = getattr(_local, "buffers", None)
        if buffers is None:
            buffers = _local.buffers = {}
        key = (self.chunks, self.dtype.str)
        buffer = buffers.get(key)
        if buffer is None:
            buffer = buffers[key] = np.empty(self.chunks, dtype=self.dtype)
        if self.codec is None:
            buffer[...] = np.frombuffer(raw, dtype=self.dtype).reshape(self.chunks)
        else:
            if getattr(self.codec, "codec_id", None) == "blosc":
                _check_blosc_frame(raw, buffer.nbytes, f"{self.name}/{task.key}")
                # a short run of the chunk (an inline's rows): decode only the Blosc blocks holding it
                start, stop = (i * self.dtype.itemsize for i in bounding_range(task.inside, self.chunks))
                part = decode_range(raw, start, stop)
                if part is not None:
                    buffer.reshape(-1).view(np.uint8)[start:stop] = np.frombuffer(part, dtype=np.uint8)
                    out[task.target] = buffer[task.inside]
                    return
            self.codec.decode(raw, out=buffer)
        out[task.target] = buffer[task.inside]


def _check_blosc_frame(raw: memoryview | bytes, expected: int, where: str) -> None:
    """A Blosc frame's header says how many bytes it holds and decodes to; Blosc 1 trusts it and reads past a
    truncated object into whatever memory follows, so a damaged chunk would read as wrong numbers, silently."""
    size = len(raw)
    nbytes, cbytes = (struct.unpack_from("<I", raw, at)[0] for at in (4, 12)) if size >= 16 else (-1, -1)
    if cbytes != size or nbytes != expected:
        raise MDIOFormatError(
            f"Stored chunk {where} is damaged: {size} bytes where its Blosc header says {cbytes} bytes "
            f"decoding to {nbytes} (expected {expected}); rebuild the dataset."
        )
