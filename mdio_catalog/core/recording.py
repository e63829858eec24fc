"""Checksums recorded while a dataset is written, so publishing need not read its objects back.

While a whole-dataset write is staged (:func:`recording`), every zarr store this process opens for writing on the
staging root is wrapped in a :class:`RecordingStore` that hands each stored object to the staging's
:class:`LiveRecorder`: the CRC32C is taken from the encoded bytes zarr is about to store, so nothing is read again,
on local disks or object stores. Copies (objects moved byte for byte, not through zarr) report what they wrote
with :func:`active_recorder`. Tasks that write from other processes (a dask cluster's workers) keep a recorder of
their own and send its entries back (:meth:`LiveRecorder.drain`, :meth:`LiveRecorder.merge`).

The recorder maps a chunk key to its array by the array's metadata (seen as it is written, or read once from the
store), so it keeps one ``uint64`` per chunk, not one Python object. At publish, :func:`~.verify.record_from`
trusts an entry only for an object that the listing shows, and reads back only the objects nobody recorded
(written by a process that could not report); a run without recording therefore still yields a complete record.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from fsspec.core import split_protocol
from zarr.abc.store import Store
from zarr.core.buffer import Buffer, default_buffer_prototype
from zarr.storage import WrapperStore

from mdio_catalog.core.checksums import ArrayGrid, entry

#: Store keys that are metadata, never chunk objects.
METADATA_KEYS = frozenset({".zarray", ".zattrs", ".zgroup", ".zmetadata", "zarr.json"})


def split_chunk_key(key: str) -> tuple[str, tuple[int, ...]] | None:
    """(array path, chunk index) of a v2 chunk key with '/' separators (``data/chunked_012/3/0/7``), else None."""
    parts = key.strip("/").split("/")
    count = 0
    while count < len(parts) and parts[-1 - count].isdigit():
        count += 1
    if count == 0 or count == len(parts):
        return None
    return "/".join(parts[:-count]), tuple(int(p) for p in parts[-count:])


#: What :meth:`LiveRecorder.drain` hands over: per array, its shape and chunks, and the (index, entry) pairs.
Drained = dict[str, tuple[tuple[int, ...], list[tuple[tuple[int, ...], int]]]]


class LiveRecorder:
    """Record entries of the chunk objects written below one root, by array (see the module docstring)."""

    def __init__(self) -> None:
        self.grids: dict[str, ArrayGrid] = {}
        self.entries: dict[str, npt.NDArray[np.uint64]] = {}
        self.pending: dict[str, int] = {}  # copied chunk objects whose array was not defined yet
        self._lock = threading.Lock()

    # --- arrays -------------------------------------------------------------------------------------------------
    def array_defined(self, path: str, metadata: bytes) -> None:
        """An array's ``.zarray`` was written: (re)start its record when its grid changed."""
        try:
            meta = json.loads(metadata)
            shape, chunks = tuple(int(n) for n in meta["shape"]), tuple(int(c) for c in meta["chunks"])
            grid = ArrayGrid(path.strip("/"), shape, chunks)
        except (ValueError, KeyError, TypeError):
            return
        with self._lock:
            if self.grids.get(grid.path) != grid:
                self.grids[grid.path] = grid
                self.entries[grid.path] = np.zeros(grid.grid, dtype=np.uint64)
            waiting = [key for key in self.pending if key.startswith(grid.path + "/")]
        for key in waiting:
            self._put(key, self.pending.pop(key))

    def knows(self, path: str) -> bool:
        return path in self.grids

    def forget_below(self, prefix: str) -> None:
        """Everything below ``prefix`` was deleted (an array re-created or a pattern dropped)."""
        prefix = prefix.strip("/")
        with self._lock:
            for path in [p for p in self.grids if not prefix or p == prefix or p.startswith(prefix + "/")]:
                del self.grids[path]
                del self.entries[path]

    # --- objects ------------------------------------------------------------------------------------------------
    def _slot(self, key: str) -> tuple[str, tuple[int, ...]] | None:
        split = split_chunk_key(key)
        if split is None or split[0] not in self.grids:
            return None
        path, index = split
        grid = self.grids[path]
        if len(index) != len(grid.shape) or any(i >= n for i, n in zip(index, grid.grid, strict=True)):
            return None
        return path, index

    def stored(self, key: str, data: Any) -> None:
        """A chunk object was written (keys of unknown arrays are left to the read-back at publish)."""
        self._put(key, entry(data))

    def _put(self, key: str, value: int) -> bool:
        slot = self._slot(key)
        if slot is None:
            return False
        with self._lock:
            if slot[0] in self.entries:
                self.entries[slot[0]][slot[1]] = value
        return True

    def copied(self, key: str, data: bytes) -> None:
        """An object was copied byte for byte (not through zarr): ``.zarray`` objects define their arrays."""
        name = key.rsplit("/", 1)[-1]
        if name == ".zarray":
            self.array_defined(key.rpartition("/")[0], data)
        elif name not in METADATA_KEYS:
            self.add(key, entry(data))

    def add(self, key: str, value: int) -> None:
        """The entry of a chunk object, computed elsewhere (a copy task in another process); kept until its
        array is known."""
        if not self._put(key, value):
            with self._lock:
                self.pending[key] = value

    def deleted(self, key: str) -> None:
        slot = self._slot(key)
        if slot is not None:
            with self._lock:
                if slot[0] in self.entries:
                    self.entries[slot[0]][slot[1]] = 0

    # --- between processes --------------------------------------------------------------------------------------
    def drain(self) -> Drained:
        """The entries recorded so far with their arrays' grids, then forgotten (what a cluster task sends back)."""
        out: Drained = {}
        with self._lock:
            for path, grid in self.entries.items():
                nonzero = np.argwhere(grid)
                if len(nonzero):
                    values = [(tuple(int(i) for i in idx), int(grid[tuple(idx)])) for idx in nonzero]
                    spec = self.grids[path]
                    out[path] = ((*spec.shape, *spec.chunks), values)
                    grid[...] = 0
        return out

    def merge(self, drained: Drained) -> None:
        """Add the entries another process recorded (arrays it knew and this recorder did not are added)."""
        for path, (dims, values) in drained.items():
            half = len(dims) // 2
            grid = ArrayGrid(path, tuple(dims[:half]), tuple(dims[half:]))
            with self._lock:
                if self.grids.get(path) != grid:
                    self.grids[path] = grid
                    self.entries[path] = np.zeros(grid.grid, dtype=np.uint64)
                target = self.entries[path]
                for index, value in values:
                    target[index] = value


class RecordingStore(WrapperStore[Store]):
    """A zarr store that tells a :class:`LiveRecorder` about every object it stores or deletes: a fixed one (a
    cluster task's own), or whichever records ``url`` in this process at the time of the write (so a store opened
    before a recording started still reports to it)."""

    def __init__(self, store: Store, recorder: LiveRecorder | None = None, url: str | None = None) -> None:
        super().__init__(store)
        self._recorder = recorder
        self._url = url

    def _with_store(self, store: Store) -> RecordingStore:  # zarr re-wraps for read-only views and the like
        return type(self)(store, self._recorder, self._url)

    @property
    def recorder(self) -> LiveRecorder | None:
        if self._recorder is not None:
            return self._recorder
        return None if self._url is None else _ACTIVE.get(self._url)

    async def _learn(self, recorder: LiveRecorder, key: str) -> None:
        split = split_chunk_key(key)
        if split is None or recorder.knows(split[0]):
            return
        metadata = await self._store.get(f"{split[0]}/.zarray", prototype=default_buffer_prototype())
        if metadata is not None:
            recorder.array_defined(split[0], metadata.to_bytes())

    async def set(self, key: str, value: Buffer) -> None:
        recorder = self.recorder
        if recorder is not None:
            name = key.rsplit("/", 1)[-1]
            if name == ".zarray":
                recorder.array_defined(key.rpartition("/")[0], value.to_bytes())
            elif name not in METADATA_KEYS:
                await self._learn(recorder, key)
                recorder.stored(key, _read_only(value))
        await self._store.set(key, value)

    async def delete(self, key: str) -> None:
        recorder = self.recorder
        if recorder is not None:
            recorder.deleted(key)
        await self._store.delete(key)

    async def delete_dir(self, prefix: str) -> None:
        recorder = self.recorder
        if recorder is not None:
            recorder.forget_below(prefix)
        await self._store.delete_dir(prefix)


def _read_only(value: Buffer) -> Any:
    """The bytes of ``value`` without a copy, as the read-only array the CRC function takes (a writable view is
    refused by it; ``to_bytes`` would copy every chunk once more)."""
    array = value.as_numpy_array()
    if array.ndim != 1 or not array.flags.c_contiguous or array.dtype != np.uint8:
        return value.to_bytes()
    view = array.view()
    view.flags.writeable = False
    return view


# --- which roots are being recorded, in this process -----------------------------------------------------------------
_ACTIVE: dict[str, LiveRecorder] = {}
_ACTIVE_LOCK = threading.Lock()


def _key(url: str) -> str:
    """One spelling per root: local paths resolved (a staging path may be named through a linked root)."""
    protocol, path = split_protocol(url)
    if protocol in (None, "file", "local"):
        return str(Path(path).expanduser().resolve())
    return url.rstrip("/")


def active_recorder(url: str) -> LiveRecorder | None:
    """The recorder of a root being written in this process (None: nothing records it)."""
    return _ACTIVE.get(_key(url))


@contextlib.contextmanager
def recording(url: str, recorder: LiveRecorder | None = None) -> Iterator[LiveRecorder | None]:
    """Record what this process writes below ``url`` until the block ends (nested blocks share one recorder);
    nothing (None) when ``MDIO_CATALOG_CHECKSUMS`` is off."""
    from mdio_catalog.settings import get_settings

    if not get_settings().checksums:
        yield None
        return
    key = _key(url)
    with _ACTIVE_LOCK:
        outer = _ACTIVE.get(key)
        current = outer or recorder or LiveRecorder()
        _ACTIVE[key] = current
    try:
        yield current
    finally:
        if outer is None:
            with _ACTIVE_LOCK:
                _ACTIVE.pop(key, None)


def recordable(url: str, store: Store) -> Store:
    """``store`` (opened for writing at ``url``) wrapped so that its writes reach the recorder of ``url`` whenever
    one is active in this process (a dictionary lookup per stored object otherwise)."""
    return RecordingStore(store, url=_key(url))
