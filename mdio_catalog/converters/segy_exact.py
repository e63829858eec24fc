"""What an exact SEG-Y round trip needs beyond the v0 layout, in both directions of the conversion.

The v0 layout holds float32 samples and the standard 240-byte trace header. Three things in real files do not
fit it, and each gets a place of our own that the reference's reader never opens (so it still opens the dataset):

- Integer samples float32 cannot hold (formats 2, 9, 10, 12 beyond 2^24) and float64 samples (format 6): the
  sample array takes the format's own dtype (:func:`exact_sample_dtype`), only when float32 proved inexact, so
  every file float32 holds keeps the v0 dtype.
- Rev 2 additional 240-byte trace headers (binary header bytes 3507-3508 > 0): raw bytes in the source's byte
  order, one row per cell, beside the standard headers (:func:`create_additional_headers`).
- Unnormalised IBM sample words (leading hex digit 0): float32 keeps their value, but a re-encoding gives the
  normalised word. Their positions and original words are kept (:class:`IbmWords`, up to
  :data:`MAX_KEPT_WORDS`) and put back on export where the stored value is still theirs (:class:`IbmRestore`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt
import zarr

from mdio_catalog.core import layout
from mdio_catalog.core.compressors import lossless_compressor
from mdio_catalog.core.nodes import get_array, get_group
from mdio_catalog.segy.formats import SampleFormat
from mdio_catalog.segy.ibm import ibm_to_float, unnormalised_mask

if TYPE_CHECKING:
    from mdio_catalog.api.accessor import MDIOReader
    from mdio_catalog.segy.reader import SegyFile

#: Sample formats whose values float32 does not always hold, and the dtype that holds them all.
EXACT_DTYPES: Final = {2: "int32", 6: "float64", 9: "int64", 10: "uint32", 12: "uint64"}
#: Unnormalised IBM words kept at most (12 bytes each); beyond this only their count is kept, and export warns.
MAX_KEPT_WORDS: Final = 1 << 20


def exact_sample_dtype(fmt: SampleFormat) -> np.dtype | None:
    """The dtype that holds every sample of ``fmt`` exactly when float32 does not (None: float32 always does)."""
    name = EXACT_DTYPES.get(fmt.code)
    return None if name is None else np.dtype(name)


#: Traces decoded up front to choose the sample dtype of a format float32 may not hold.
PROBE_TRACES: Final = 256


def first_sample_dtype(segy: SegyFile, exact: np.dtype | None) -> np.dtype:
    """The dtype to ingest with first: float32, unless ``exact`` is given and a few evenly spaced traces already
    hold a sample float32 cannot (then the format's own dtype at once, instead of a float32 pass that would be
    done again). The full pass still counts inexact samples, so a file whose probe misses them is redone exactly.
    """
    float32 = np.dtype("float32")
    if exact is None or segy.n_traces == 0:
        return float32
    rows = np.unique(np.linspace(0, segy.n_traces - 1, min(segy.n_traces, PROBE_TRACES)).astype(np.int64))
    _, native = segy.read_trace_indices(rows, dtype=None)
    with np.errstate(invalid="ignore", over="ignore"):
        fits = np.array_equal(native.astype(float32).astype(native.dtype), native)
    return float32 if fits else exact


# --- unnormalised IBM words ------------------------------------------------------------------------------------------
def _empty_positions() -> npt.NDArray[np.int64]:
    return np.zeros(0, np.int64)


def _empty_words() -> npt.NDArray[np.uint32]:
    return np.zeros(0, np.uint32)


@dataclass(frozen=True)
class IbmWords:
    """Unnormalised IBM sample words of an ingestion: how many, and (while at most :data:`MAX_KEPT_WORDS`) where
    they are (flat C-order index over the whole grid, samples last) and their original bits."""

    count: int = 0
    positions: npt.NDArray[np.int64] = field(default_factory=_empty_positions)
    words: npt.NDArray[np.uint32] = field(default_factory=_empty_words)

    @property
    def kept(self) -> bool:
        """Every one of them is kept, so the export can give back the source's bits."""
        return self.positions.size == self.count

    @classmethod
    def merge(cls, parts: Sequence[IbmWords]) -> IbmWords:
        """All of ``parts`` in one (concatenated once, not pair by pair: thousands of units stay linear)."""
        count = sum(p.count for p in parts)
        if not count or count > MAX_KEPT_WORDS or not all(p.kept for p in parts):
            return cls(count)
        found = [p for p in parts if p.count]
        return cls(count, np.concatenate([p.positions for p in found]), np.concatenate([p.words for p in found]))

    def __add__(self, other: IbmWords) -> IbmWords:
        if not other.count:
            return self
        if not self.count:
            return other
        count = self.count + other.count
        if not (self.kept and other.kept) or count > MAX_KEPT_WORDS:
            return IbmWords(count)
        return IbmWords(
            count, np.concatenate([self.positions, other.positions]), np.concatenate([self.words, other.words])
        )

    @classmethod
    def in_block(
        cls,
        sample_words: npt.NDArray[np.unsignedinteger],
        live: npt.NDArray[np.bool_],
        region: Sequence[slice],
        grid_shape: Sequence[int],
    ) -> IbmWords:
        """The unnormalised words among ``sample_words`` (one row per live cell of ``region``, C order)."""
        mask = unnormalised_mask(sample_words)
        count = int(np.count_nonzero(mask))
        if not count:
            return cls()
        if count > MAX_KEPT_WORDS:
            return cls(count)
        rows, samples = np.nonzero(mask)
        local = np.unravel_index(np.flatnonzero(live)[rows], live.shape)
        cells = np.ravel_multi_index(
            tuple(i + s.start for i, s in zip(local, region, strict=True)), tuple(grid_shape[:-1])
        )
        positions = cells.astype(np.int64) * int(grid_shape[-1]) + samples
        return cls(count, positions, np.asarray(sample_words[rows, samples], dtype=np.uint32))

    def store(self, root: zarr.Group) -> dict[str, Any]:
        """Write the kept words beside the v0 arrays; return the facts for the dataset's attributes."""
        if self.count and self.kept:
            order = np.argsort(self.positions, kind="stable")
            meta = get_group(root, layout.METADATA_GROUP)
            for name, values in ((layout.IBM_POSITIONS, self.positions[order]), (layout.IBM_WORDS, self.words[order])):
                meta.create_array(
                    name=name,
                    shape=values.shape,
                    dtype=values.dtype,
                    chunks=(max(1, min(values.size, 1 << 18)),),
                    compressors=lossless_compressor(),
                    fill_value=0,
                    chunk_key_encoding=layout.CHUNK_KEY_ENCODING,
                )[...] = values
        return {"unnormalised_ibm": self.count, "unnormalised_ibm_kept": bool(self.count and self.kept)}

    @classmethod
    def load(cls, root: zarr.Group, facts: Mapping[str, Any]) -> IbmWords:
        """What :meth:`store` wrote (the count alone when the words were not kept)."""
        count = int(facts.get("unnormalised_ibm") or 0)
        if not count or not facts.get("unnormalised_ibm_kept"):
            return cls(count)
        meta = get_group(root, layout.METADATA_GROUP)
        if layout.IBM_POSITIONS not in meta or layout.IBM_WORDS not in meta:  # e.g. a copy that left them out
            return cls(count)
        positions = np.asarray(get_array(meta, layout.IBM_POSITIONS)[...], dtype=np.int64)
        words = np.asarray(get_array(meta, layout.IBM_WORDS)[...], dtype=np.uint32)
        return cls(count, positions, words)


@dataclass(frozen=True)
class IbmRestore:
    """The kept words sorted by export block, so each block finds its own with two binary searches."""

    keys: npt.NDArray[np.int64]  # export block of each word (C-order rank of the block), ascending
    cells: npt.NDArray[np.int64]  # flat spatial index of each word's cell
    samples: npt.NDArray[np.int64]
    words: npt.NDArray[np.uint32]
    block_shape: tuple[int, ...]
    spatial_shape: tuple[int, ...]

    @classmethod
    def plan(cls, kept: IbmWords, grid_shape: Sequence[int], block_shape: Sequence[int]) -> IbmRestore | None:
        if not kept.count or not kept.kept:
            return None
        spatial = tuple(int(n) for n in grid_shape[:-1])
        blocks = tuple(int(b) for b in block_shape)
        cells, samples = np.divmod(kept.positions, int(grid_shape[-1]))
        keys = cls._block_key(np.unravel_index(cells, spatial), spatial, blocks)
        order = np.argsort(keys, kind="stable")
        return cls(keys[order], cells[order], samples[order], kept.words[order], blocks, spatial)

    @staticmethod
    def _block_key(index: Sequence[Any], spatial: Sequence[int], blocks: Sequence[int]) -> npt.NDArray[np.int64]:
        counts = tuple(-(-n // b) for n, b in zip(spatial, blocks, strict=True))
        coords = tuple(np.asarray(i) // b for i, b in zip(index, blocks, strict=True))
        return np.asarray(np.ravel_multi_index(coords, counts), dtype=np.int64)

    def apply(
        self, sample_bytes: npt.NDArray[np.uint8], block: Sequence[slice], selected: npt.NDArray[np.bool_], order: str
    ) -> None:
        """Put the source's words back into the encoded records of ``block`` (one row per selected cell, C
        order) where the record still holds the same value (a changed sample keeps its new encoding)."""
        key = int(self._block_key([np.array([s.start]) for s in block], self.spatial_shape, self.block_shape)[0])
        lo, hi = np.searchsorted(self.keys, [key, key + 1])
        if lo == hi:
            return
        index = np.unravel_index(self.cells[lo:hi], self.spatial_shape)
        local = np.ravel_multi_index(tuple(i - s.start for i, s in zip(index, block, strict=True)), selected.shape)
        flat = selected.reshape(-1)
        chosen = flat[local]
        rows = (np.cumsum(flat) - 1)[local[chosen]]
        samples, words = self.samples[lo:hi][chosen], self.words[lo:hi][chosen]
        target = sample_bytes.view(f"{order}u4")
        current = target[rows, samples].astype(np.uint32)
        same = ibm_to_float(current) == ibm_to_float(words)
        target[rows[same], samples[same]] = words[same]


# --- rev 2 additional trace headers -----------------------------------------------------------------------------------
def create_additional_headers(root: zarr.Group, header_array: zarr.Array, n_bytes: int) -> zarr.Array:
    """The array of additional trace-header bytes: one row of ``n_bytes`` per cell, chunked like the standard
    headers (``header_array``) over the grid."""
    return get_group(root, layout.METADATA_GROUP).create_array(
        name=layout.ADDITIONAL_HEADERS,
        shape=(*header_array.shape, n_bytes),
        dtype=np.uint8,
        chunks=(*header_array.chunks, n_bytes),
        compressors=lossless_compressor(),
        fill_value=0,
        chunk_key_encoding=layout.CHUNK_KEY_ENCODING,
    )


def additional_headers(root: zarr.Group) -> zarr.Array | None:
    """The additional trace-header array of a dataset, if it has one."""
    meta = get_group(root, layout.METADATA_GROUP)
    return get_array(meta, layout.ADDITIONAL_HEADERS) if layout.ADDITIONAL_HEADERS in meta else None


def exact_export_parts(reader: MDIOReader, endian: str, block_shape: Sequence[int]) -> tuple[int, IbmRestore | None]:
    """For an export of ``reader`` in ``endian`` order by blocks of ``block_shape``: bytes of additional trace
    headers to write (the dataset has them and the export keeps their byte order; else 0) and the IBM words to put
    back."""
    segy = (reader.metadata_attrs.get(layout.ATTR_CATALOG) or {}).get("segy") or {}
    extra = additional_headers(reader.root) if segy.get("additional_trace_headers") else None
    size = int(extra.shape[-1]) if extra is not None and segy.get("endian", "big") == endian else 0
    return size, IbmRestore.plan(IbmWords.load(reader.root, segy), reader.shape, block_shape)
