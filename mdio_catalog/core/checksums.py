"""Per-chunk checksums of a dataset's stored objects: the record, how it is filled, and how it is read back.

Algorithm: CRC32C (Castagnoli), through ``google-crc32c`` (already required by zarr and gcsfs; hardware-accelerated
C). Chosen over xxh3 because the object stores compute it themselves: GCS keeps a CRC32C of every object and S3
accepts and returns ``x-amz-checksum-crc32c``, so a future ``verify`` can compare without downloading; and it is
fast enough that recording costs nothing measurable next to compression.

The record scales with the data, not with Python objects: per stored array (traces, headers, live mask, every
access pattern) one ``uint64`` Zarr array in the root group ``checksums``, shaped like the array's chunk grid
(``ceil(shape / chunks)``), one entry per chunk: ``(size + 1) << 32 | crc32c`` of the stored object, ``0`` when the
chunk has no object (never written: it reads as the fill value). 10 million chunks make an 80 MB array that
compresses to about half; readers that do not know the group (ours, the reference 0.9.3) ignore it. Its attributes
name the array it describes and the algorithm.

Recording at write time is :mod:`mdio_catalog.core.recording` (entries taken from the bytes as they are stored);
:class:`ChecksumRecorder` holds the finished entries and writes the record arrays. :func:`~.verify.record_existing`
fills the record of a dataset written before checksums existed by reading its objects once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

import google_crc32c
import numpy as np
import numpy.typing as npt
import zarr

ALGORITHM: Final = "crc32c"
GROUP: Final = "checksums"
ATTR_ARRAY: Final = "array"
ATTR_ALGORITHM: Final = "algorithm"
ATTR_ENCODING: Final = "encoding"
ENCODING: Final = "(size + 1) << 32 | crc32c of the stored chunk object; 0 = no object"


def crc32c(data: Any) -> int:
    """CRC32C of ``data`` (bytes, a read-only NumPy array as is; any other bytes-like object is copied first)."""
    if isinstance(data, bytes) or (isinstance(data, np.ndarray) and not data.flags.writeable):
        return int(google_crc32c.value(data))
    return int(google_crc32c.value(bytes(data)))


def entry(data: Any) -> int:
    """The record entry of one stored object."""
    return (len(data) + 1) << 32 | crc32c(data)


def record_name(array_path: str) -> str:
    """The record array's name inside the ``checksums`` group (``data/chunked_012`` -> ``data__chunked_012``)."""
    return array_path.strip("/").replace("/", "__")


@dataclass(frozen=True)
class ArrayGrid:
    """An array whose chunk objects are recorded: its path and chunk grid."""

    path: str
    shape: tuple[int, ...]
    chunks: tuple[int, ...]

    @property
    def grid(self) -> tuple[int, ...]:
        return tuple(max(1, math.ceil(n / c)) if n else 0 for n, c in zip(self.shape, self.chunks, strict=True))

    @classmethod
    def of(cls, path: str, array: zarr.Array) -> ArrayGrid:
        return cls(path.strip("/"), tuple(array.shape), tuple(array.chunks))

    def index_of(self, key: str) -> tuple[int, ...] | None:
        """The chunk index of a store key below this array (``data/chunked_012/3/0/7``), else None."""
        prefix = self.path + "/"
        if not key.startswith(prefix):
            return None
        parts = key[len(prefix) :].replace(".", "/").split("/")
        if len(parts) != len(self.shape) or not all(p.isdigit() for p in parts):
            return None
        index = tuple(int(p) for p in parts)
        if any(i >= n for i, n in zip(index, self.grid, strict=True)):
            return None
        return index


class ChecksumRecorder:
    """The record entries of some arrays, as they will be stored."""

    def __init__(self, arrays: Iterable[ArrayGrid]) -> None:
        self.arrays = {a.path: a for a in arrays}
        self.entries: dict[str, npt.NDArray[np.uint64]] = {
            a.path: np.zeros(a.grid, dtype=np.uint64) for a in self.arrays.values()
        }

    def write(self, root: zarr.Group) -> None:
        """Store the record arrays in ``root``'s ``checksums`` group (replacing earlier ones of these arrays)."""
        group = root.require_group(GROUP)
        present = set(group.array_keys())
        for path, grid in self.entries.items():
            array = group.create_array(
                name=record_name(path),
                shape=grid.shape,
                dtype=np.uint64,
                chunks=tuple(max(1, min(n, c)) for n, c in zip(grid.shape, _record_chunks(grid.shape), strict=True)),
                fill_value=0,
                overwrite=record_name(path) in present,  # (only then: replacing costs a listing and deletes)
                chunk_key_encoding={"name": "v2", "separator": "/"},
                attributes={ATTR_ARRAY: path, ATTR_ALGORITHM: ALGORITHM, ATTR_ENCODING: ENCODING},
            )
            if grid.size:
                array[...] = grid


def _record_chunks(shape: tuple[int, ...], target: int = 1 << 20) -> tuple[int, ...]:
    """About a million entries per record chunk (8 MiB raw), split along the leading axes."""
    chunks = list(shape)
    for axis in range(len(chunks)):
        while math.prod(max(1, c) for c in chunks) > target and chunks[axis] > 1:
            chunks[axis] = max(1, chunks[axis] // 2)
    return tuple(max(1, c) for c in chunks)


def stored_arrays(root: zarr.Group) -> list[ArrayGrid]:
    """Every array of an MDIO dataset that holds data objects (the ``checksums`` group itself excluded)."""
    out = []
    for path, node in _walk(root, ""):
        if isinstance(node, zarr.Array) and not path.startswith(GROUP + "/"):
            out.append(ArrayGrid.of(path, node))
    return out


def _walk(group: zarr.Group, prefix: str) -> Iterable[tuple[str, Any]]:
    for name, node in group.members():
        path = f"{prefix}{name}"
        yield path, node
        if isinstance(node, zarr.Group):
            yield from _walk(node, path + "/")


def read_record(root: zarr.Group) -> dict[str, npt.NDArray[np.uint64]] | None:
    """The record arrays of a dataset by the array path they describe (None: built before checksums existed)."""
    if GROUP not in root:
        return None
    group = root[GROUP]
    if not isinstance(group, zarr.Group):
        return None
    out = {}
    for _, array in group.arrays():
        path = array.attrs.get(ATTR_ARRAY)
        if isinstance(path, str) and array.attrs.get(ATTR_ALGORITHM) == ALGORITHM:
            out[path] = np.asarray(array[...], dtype=np.uint64)
    return out
