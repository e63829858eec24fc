"""Reading chunk-aligned regions of a local Zarr v2 array straight from its chunk files, in parallel.

zarr-python 3 funnels every read through one event-loop thread, which caps a two-core machine at roughly one
core's worth of decompression for large reads. For the common case (a local store, '/' chunk keys, C order, no
filters) this reader opens each chunk file, decodes it with the array's codec into a per-thread buffer (Blosc and
ZFP release the GIL) and copies the wanted part straight into the output, one task per chunk. Anything else falls
back to zarr.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import zarr

from mdio_catalog.settings import get_settings

_local = threading.local()


@lru_cache(maxsize=1)
def _pool(workers: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mdio-chunks")


def _read_all(fd: int) -> memoryview:
    """The whole file into this thread's reusable buffer (no allocation per chunk)."""
    size = os.fstat(fd).st_size
    scratch: bytearray | None = getattr(_local, "scratch", None)
    if scratch is None or len(scratch) < size:
        scratch = _local.scratch = bytearray(max(size, 1 << 20))
    view = memoryview(scratch)[:size]
    done = 0
    while done < size:
        got = os.readv(fd, [view[done:]])
        if got == 0:
            break
        done += got
    return view[:done]


class LocalChunkReader:
    """Parallel reads of int/slice regions of one local Zarr v2 array."""

    def __init__(self, array: zarr.Array, folder: str) -> None:
        meta = array.metadata
        self.shape = tuple(array.shape)
        self.chunks = tuple(array.chunks)
        self.dtype = np.dtype(array.dtype)
        self.codec: Any = getattr(meta, "compressor", None)
        # Structured arrays (trace headers) fill with zero bytes, as every MDIO writer sets them.
        self.fill = np.zeros((), self.dtype) if self.dtype.fields else (getattr(meta, "fill_value", 0) or 0)
        self.folder = folder

    @classmethod
    def for_array(cls, array: zarr.Array, folder: str | None) -> LocalChunkReader | None:
        """A reader when the array's layout allows it (else None: use zarr)."""
        meta = array.metadata
        if folder is None or getattr(meta, "zarr_format", None) != 2:
            return None
        if getattr(meta, "dimension_separator", ".") != "/" or getattr(meta, "order", "C") != "C":
            return None
        if getattr(meta, "filters", None) or np.dtype(array.dtype).hasobject:
            return None
        return cls(array, folder)

    @staticmethod
    def supports(key: Sequence[Any]) -> bool:
        return all(isinstance(k, int) or (isinstance(k, slice) and k.step in (None, 1)) for k in key)

    def read(self, key: Sequence[int | slice], parallel: bool = True) -> npt.NDArray[Any]:
        """The region ``key`` (one int or unit-step slice per axis) as a new array."""
        plan: list[list[tuple[int, Any, Any]]] = []
        out_shape: list[int] = []
        for k, n, c in zip(key, self.shape, self.chunks, strict=True):
            if isinstance(k, int):
                plan.append([(k // c, k % c, None)])
                continue
            start, stop, _ = k.indices(n)
            stop = max(stop, start)
            items = []
            for ci in range(start // c, (stop - 1) // c + 1) if stop > start else []:
                lo, hi = max(start, ci * c), min(stop, (ci + 1) * c)
                items.append((ci, slice(lo - ci * c, hi - ci * c), slice(lo - start, hi - start)))
            plan.append(items)
            out_shape.append(stop - start)
        out = np.empty(out_shape, dtype=self.dtype)
        if out.size == 0:
            return out
        tasks = list(itertools.product(*plan))
        if parallel and len(tasks) > 1:
            for _ in _pool(get_settings().workers + 1).map(lambda task: self._copy_chunk(task, out), tasks):
                pass
        else:
            for task in tasks:
                self._copy_chunk(task, out)
        return out

    def _copy_chunk(self, task: tuple[tuple[int, Any, Any], ...], out: npt.NDArray[Any]) -> None:
        index = [t[0] for t in task]
        inside = tuple(t[1] for t in task)
        target = tuple(t[2] for t in task if t[2] is not None)
        path = os.path.join(self.folder, *map(str, index))
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:  # never written: the fill value
            out[target] = self.fill
            return
        try:
            raw = _read_all(fd)
        finally:
            os.close(fd)
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
            self.codec.decode(raw, out=buffer)
        out[target] = buffer[inside]
