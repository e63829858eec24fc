"""Dask arrays of the xarray view whose selections cost what an ``MDIOReader`` read costs.

Why: a dask array with one block per stored chunk is what a view of MDIO should look like (``.chunks`` are the
stored ones, a computation streams chunk by chunk, a cluster can run the blocks), but slicing it the ordinary way
stacks a ``getitem`` task on every block the selection touches. Each block then decodes its whole chunk into a
fresh array on dask's threads, only to keep a slice of it, and the task overhead (scheduling, the subgraph, the
final concatenation) costs as much as the decoding for thin selections: an inline of a 400 x 400 x 1001 cube with
64^3 chunks is 112 tasks; a time slice, 49 tasks keeping 1/64 of each chunk.

:class:`SourceArray` is that dask array, with one difference: a basic selection (integers and unit-step slices:
what ``.sel``/``.isel`` with labels or ranges produce) does not add tasks on top of it. It returns a new dask array
over the selected region itself (:class:`Region`), in blocks of whole stored chunks grouped up to
:data:`SELECTION_BLOCK_BYTES`, each block read with one planned region read on the accessor's parallel chunk
path (the chunk objects it touches, each once, decoding only into the result). A thin slice is one task, which
does exactly what ``MDIOReader[...]`` does; a large selection is a few tasks that each use every core. Any other
selection (arrays of indices, steps, ``None``) falls back to dask's own slicing.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import dask.array as da
import numpy as np
import numpy.typing as npt
from dask.base import tokenize

if TYPE_CHECKING:
    from mdio_catalog.api.xarray_view import _Blocks

#: Largest block of a selection (bytes): smaller selections are one task, larger ones a few, each reading many chunks.
SELECTION_BLOCK_BYTES = 128 * 2**20

Key = tuple[int | slice, ...]


class Region:
    """A rectangular part of a stored array (``key``: an int or a unit-step slice per stored dimension) that dask
    slices like an array: ``region[k]`` (k over the kept dimensions) reads that part with one region read."""

    def __init__(self, blocks: _Blocks, key: Key) -> None:
        self.blocks = blocks
        self.key = key
        self.shape = tuple(k.stop - k.start for k in key if isinstance(k, slice))
        self.dtype = blocks.dtype
        self.ndim = len(self.shape)

    def __getitem__(self, key: tuple[slice, ...]) -> npt.NDArray[Any]:
        parts = iter(key)
        base: list[int | slice] = []
        for k in self.key:
            if isinstance(k, int):
                base.append(k)
                continue
            part = next(parts)
            start, stop, _ = part.indices(k.stop - k.start)
            base.append(slice(k.start + start, k.start + stop))
        return self.blocks.read(tuple(base), parallel=True)

    def __dask_tokenize__(self) -> tuple[Any, ...]:
        return (*self.blocks.__dask_tokenize__(), str(self.key))


def basic_key(index: Any, shape: Sequence[int]) -> Key | None:
    """``index`` as an int or a unit-step slice per dimension (normalised, in bounds), or None when it is anything
    else (arrays, steps, None, booleans, out of bounds: dask's own slicing handles those, or raises)."""
    items = index if isinstance(index, tuple) else (index,)
    ellipses = [n for n, item in enumerate(items) if item is Ellipsis]
    if len(ellipses) > 1:
        return None
    if ellipses:
        at = ellipses[0]
        items = (*items[:at], *(slice(None),) * (len(shape) - len(items) + 1), *items[at + 1 :])
    if len(items) > len(shape):
        return None
    items = (*items, *(slice(None),) * (len(shape) - len(items)))
    out: list[int | slice] = []
    for item, n in zip(items, shape, strict=True):
        if isinstance(item, slice):
            start, stop, step = item.indices(n)
            if step != 1 or stop <= start:
                return None
            out.append(slice(start, stop))
        elif isinstance(item, int | np.integer) and not isinstance(item, bool | np.bool_):
            value = int(item)
            if not -n <= value < n:
                return None
            out.append(value % n)
        else:
            return None
    return tuple(out)


def _pieces(k: slice, chunk: int) -> list[int]:
    """Lengths of the stored-chunk-aligned pieces of ``k`` along one dimension."""
    edges = [k.start, *range((k.start // chunk + 1) * chunk, k.stop, chunk), k.stop]
    return [b - a for a, b in itertools.pairwise(edges)]


def _group(pieces: list[int], most: int) -> tuple[int, ...]:
    """Consecutive pieces joined into blocks of at most ``most`` elements (at least one piece each)."""
    out: list[int] = []
    for piece in pieces:
        if out and out[-1] + piece <= most:
            out[-1] += piece
        else:
            out.append(piece)
    return tuple(out)


def region_chunks(key: Key, chunks: Sequence[int], itemsize: int, limit: int = SELECTION_BLOCK_BYTES) -> tuple[
    tuple[int, ...], ...
]:  # fmt: skip
    """Blocks of the selection ``key``: whole stored chunks, grouped so that a block holds at most ``limit`` bytes
    (split along the first dimensions first, so a block stays a contiguous slab of chunks)."""
    kept = [(k, c) for k, c in zip(key, chunks, strict=True) if isinstance(k, slice)]
    lengths = [k.stop - k.start for k, _ in kept]
    out: list[tuple[int, ...]] = [(n,) for n in lengths]
    for axis, (k, chunk) in enumerate(kept):
        rest = math.prod(lengths[axis + 1 :]) * itemsize
        before = math.prod(max(b) for b in out[:axis]) if axis else 1
        if before * lengths[axis] * rest <= limit:
            break
        most = max(chunk, (limit // max(before * rest, 1)) // chunk * chunk)
        out[axis] = _group(_pieces(k, chunk), most)
        if before * max(out[axis]) * rest <= limit:
            break
    return tuple(out)


def region_array(blocks: _Blocks, key: Key) -> da.Array:
    """A dask array over the part ``key`` of ``blocks`` (see the module docstring)."""
    region = Region(blocks, key)
    chunks = region_chunks(key, blocks.chunks, blocks.dtype.itemsize)
    plain = da.from_array(
        region,
        chunks=chunks,
        name="mdio-region-" + tokenize(region.__dask_tokenize__()),
        lock=False,
        asarray=False,
        fancy=False,
        meta=np.empty((0,) * region.ndim, dtype=region.dtype),
        inline_array=True,
    )
    if plain.npartitions != 1:
        return plain
    array = RegionArray(plain.dask, plain.name, plain.chunks, meta=plain._meta)
    array._mdio_region = region
    return array


class RegionArray(da.Array):
    """A one-block selection: turned into NumPy (``.values``, ``np.asarray``) it is read at once in the calling
    thread, as ``MDIOReader[...]`` would, without a trip through dask's scheduler (a few ms that doubled the time of
    a time slice). Everything else is an ordinary dask array."""

    _mdio_region: Region

    def __array__(self, dtype: Any = None, copy: Any = None, **kwargs: Any) -> npt.NDArray[Any]:
        region = getattr(self, "_mdio_region", None)
        if region is None:
            return super().__array__(dtype, **kwargs)
        values = region[tuple(slice(None) for _ in region.shape)]
        return values if dtype is None else values.astype(dtype, copy=False)


class SourceArray(da.Array):
    """A dask array over a whole stored array (one block per stored chunk) whose basic selections read their
    region directly (see the module docstring); everything else is dask's."""

    _mdio_blocks: _Blocks

    @classmethod
    def over(cls, blocks: _Blocks, chunks: tuple[int, ...]) -> SourceArray:
        plain = da.from_array(
            blocks,
            chunks=chunks,
            name=f"mdio-{blocks.which}-" + tokenize(blocks.__dask_tokenize__()),
            lock=False,
            asarray=False,
            fancy=False,
            meta=np.empty((0,) * blocks.ndim, dtype=blocks.dtype),
            inline_array=True,
        )
        array = cls(plain.dask, plain.name, plain.chunks, meta=plain._meta)
        array._mdio_blocks = blocks
        return array

    def __getitem__(self, index: Any) -> Any:
        blocks = getattr(self, "_mdio_blocks", None)
        key = basic_key(index, self.shape) if blocks is not None else None
        if key is None or blocks is None or key == _whole(self.shape):
            return super().__getitem__(index)
        return region_array(blocks, key)


def _whole(shape: Sequence[int]) -> Key:
    return tuple(slice(0, n) for n in shape)
