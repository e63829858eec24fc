"""QC thumbnails of one dataset for the catalog site: sections, a time (depth) slice, the live mask, a fold map.

Each picture is a plain PNG with one pixel per grid cell (downsampled by striding when a side is longer than
:data:`MAX_SIDE`); the axes, the colour bar and the value range are drawn by the page in HTML, so rendering costs
a few milliseconds instead of a matplotlib figure, and a 500-dataset catalog builds in reasonable time.

Only the slices drawn are read (an integer index on every held axis), so the data read is bounded by the chunks
those slices cross; :func:`chunks_touched` counts them for the page and the benchmark.

Colours fit the data (issue 18): amplitudes centred on zero get a symmetric range and a diverging map; anything
else (a velocity model of 1,480–4,706 m/s) the 1st..99th percentile range and a sequential map.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from mdio_catalog.qc.colours import SEQUENTIAL, Colours, choose_colours, make_colours

if TYPE_CHECKING:
    from mdio_catalog.api.accessor import MDIOAccessor

#: Bumped when pictures change, so that cached pictures of an unchanged dataset are redrawn once.
RENDER_VERSION = 3
MAX_SIDE = 400
LIVE_RGB = (31, 78, 121)
DEAD_RGB = (238, 238, 238)
DEAD_TRACE_RGB = (189, 189, 189)


@dataclass
class Picture:
    """One rendered thumbnail and what the page needs to frame it."""

    file: str  # relative to the site root
    kind: str  # inline, crossline, slice, live_mask, fold
    title: str
    vertical: str  # "name (unit) first → last"
    horizontal: str
    width: int
    height: int
    colours: dict[str, Any] | None = None
    value_name: str = ""
    chunks_read: int = 0
    bytes_read: int = 0

    def to_data(self) -> dict[str, Any]:
        return asdict(self)


def chunks_touched(shape: Sequence[int], chunks: Sequence[int], key: Sequence[Any]) -> int:
    """How many stored chunks a key of integers and whole slices crosses."""
    count = 1
    for size, chunk, k in zip(shape, chunks, key, strict=True):
        count *= 1 if isinstance(k, int | np.integer) else math.ceil(size / chunk)
    return count


_DOMAIN_WORD = {"m": "depth", "ms": "time"}


def sample_unit(domain: str | None, sample_name: str) -> str:
    """'m' for depth, 'ms' for time, '' when the dataset does not say (a NumPy model with a 'sample' axis)."""
    if domain == "depth" or "depth" in sample_name.lower():
        return "m"
    if domain == "time" or sample_name.lower() in ("time", "twt"):
        return "ms"
    return ""


def render_pictures(
    reader: MDIOAccessor,
    folder: Path,
    prefix: str,
    *,
    domain: str | None,
    value_name: str,
    readers: Sequence[MDIOAccessor] = (),
) -> list[Picture]:
    """Draw the thumbnails of ``reader`` into ``folder`` (files named ``prefix`` + kind + '.png').

    Two sections through the middle of the first two spatial dimensions, a slice at the middle sample, the live
    mask, and a fold map when there are dimensions beyond the first two spatial ones (pre-stack). Dimensions
    between the first two and the sample axis are held at their middle coordinate for sections and slices.
    ``readers`` are the same dataset opened with its other access patterns: each picture reads from the one whose
    chunks it crosses least (a time slice from ``fast_z``).
    """
    grid = reader.grid
    dims = grid.dims
    shape = tuple(int(s) for s in reader.shape)
    ndim = len(shape)
    folder.mkdir(parents=True, exist_ok=True)
    unit = sample_unit(domain, dims[-1].name)
    pictures: list[Picture] = []
    mid = [s // 2 for s in shape]
    itemsize = int(np.dtype(reader.dtype).itemsize)

    def cheapest(key: Sequence[Any]) -> tuple[MDIOAccessor, int, int]:
        """The reader whose chunks ``key`` crosses least, the chunk count and the bytes of one chunk."""
        options = [reader, *readers]
        costs = [(chunks_touched(shape, r.chunks, key) * math.prod(r.chunks), i) for i, r in enumerate(options)]
        best = options[min(costs)[1]]
        return best, chunks_touched(shape, best.chunks, key), math.prod(best.chunks) * itemsize

    # the sample axis says what it measures: "depth (m)", "time (ms)", not "sample"
    sample_name = _DOMAIN_WORD[unit] if unit and dims[-1].name == "sample" else dims[-1].name

    def label(axis: int) -> str:
        values = np.asarray(dims[axis].coords)
        name = f"{sample_name} ({unit})" if axis == ndim - 1 and unit else dims[axis].name
        return f"{name} {_fmt(values[0])} → {_fmt(values[-1])}" if values.size else name

    def held_note(key: Sequence[Any]) -> str:
        notes = []
        for a, k in enumerate(key):
            if isinstance(k, int):
                value = _fmt(np.asarray(dims[a].coords)[k])
                notes.append(
                    f"{sample_name} = {value} {unit}".rstrip() if a == ndim - 1 else f"{dims[a].name} = {value}"
                )
        return ", ".join(notes)

    # a section keeps one spatial dimension and the sample axis free; every other dimension at its middle
    sections = [(1, "inline"), (0, "crossline")] if ndim >= 3 else [(0, "section")]
    for across, kind in sections:
        key: list[Any] = [mid[a] if a not in (across, ndim - 1) else slice(None) for a in range(ndim)]
        free = [across, ndim - 1]
        source, n_chunks, chunk_bytes = cheapest(key)
        traces = np.asarray(source[tuple(key)], dtype=np.float32)  # (across, sample)
        live = np.asarray(reader.live_mask[tuple(key[:-1])], dtype=bool)
        image, mask = traces.T, np.broadcast_to(live[np.newaxis, :], traces.T.shape)
        pictures.append(
            _save_values(
                folder,
                prefix,
                kind,
                f"{kind} section at {held_note(key)}",
                image,
                mask,
                label(free[1]),
                label(free[0]),
                value_name,
                n_chunks,
                chunk_bytes,
            )
        )
    if ndim >= 3:
        key = [mid[a] if a >= 2 else slice(None) for a in range(ndim)]
        source, n_chunks, chunk_bytes = cheapest(key)
        values = np.asarray(source[tuple(key)], dtype=np.float32)  # (first, second)
        live = np.asarray(reader.live_mask[tuple(key[:-1])], dtype=bool)
        pictures.append(
            _save_values(
                folder,
                prefix,
                "slice",
                f"{sample_name} slice at {held_note(key)}",
                np.flipud(values),
                np.flipud(live),
                label(0) + " (up)",
                label(1),
                value_name,
                n_chunks,
                chunk_bytes,
            )
        )
    pictures.extend(_mask_pictures(reader, folder, prefix, label))
    return pictures


def _mask_pictures(reader: MDIOAccessor, folder: Path, prefix: str, label: Any) -> list[Picture]:
    """The live mask (any live over dimensions beyond the first two) and, for pre-stack, the fold map."""
    mask = np.asarray(reader.live_mask[...], dtype=bool)
    mask_shape = tuple(int(s) for s in mask.shape)
    mask_chunks = tuple(int(c) for c in reader.live_mask_array.chunks)
    n_chunks = chunks_touched(mask_shape, mask_chunks, [slice(None)] * len(mask_shape))
    if mask.ndim == 1:
        mask = mask.reshape(1, -1)
    extra = tuple(range(2, mask.ndim))
    any_live = mask.any(axis=extra) if extra else mask
    pictures = []
    cells = int(any_live.size)
    live_cells = int(any_live.sum())
    image = np.where(np.flipud(any_live)[..., np.newaxis], LIVE_RGB, DEAD_RGB).astype(np.uint8)
    file = _write_png(folder, prefix, "live_mask", image)
    vertical = label(0) + " (up)" if mask_shape and len(mask_shape) > 1 else ""
    horizontal = label(1) if len(mask_shape) > 1 else label(0)
    pictures.append(
        Picture(
            file=file,
            kind="live_mask",
            title=f"live mask: {live_cells:,} of {cells:,} cells live",
            vertical=vertical,
            horizontal=horizontal,
            width=int(image.shape[1]),
            height=int(image.shape[0]),
            chunks_read=n_chunks,
            bytes_read=int(mask.size),
        )
    )
    if extra:
        fold = mask.sum(axis=extra).astype(np.float32)
        top = float(fold.max()) or 1.0
        colours = make_colours(0.0, top, SEQUENTIAL, False)
        pictures.append(
            _save_values(
                folder,
                prefix,
                "fold",
                f"fold map: live traces per cell, up to {int(top)}",
                np.flipud(fold),
                None,
                vertical,
                horizontal,
                "fold",
                0,
                0,
                colours=colours,
            )
        )
    return pictures


def _save_values(
    folder: Path,
    prefix: str,
    kind: str,
    title: str,
    image: npt.NDArray[Any],
    live: npt.NDArray[np.bool_] | None,
    vertical: str,
    horizontal: str,
    value_name: str,
    n_chunks: int,
    chunk_bytes: int,
    *,
    colours: Colours | None = None,
) -> Picture:
    from matplotlib import colormaps

    colours = colours or choose_colours(image, live)
    span = colours.vmax - colours.vmin or 1.0
    scaled = np.clip((image - colours.vmin) / span, 0.0, 1.0)
    rgba = (colormaps[colours.cmap](np.nan_to_num(scaled))[..., :3] * 255).astype(np.uint8)
    if live is not None:
        rgba[~np.asarray(live, dtype=bool)] = DEAD_TRACE_RGB
    file = _write_png(folder, prefix, kind, rgba)
    return Picture(
        file=file,
        kind=kind,
        title=title,
        vertical=vertical,
        horizontal=horizontal,
        width=int(rgba.shape[1]),
        height=int(rgba.shape[0]),
        colours=asdict(colours),
        value_name=value_name,
        chunks_read=n_chunks,
        bytes_read=n_chunks * chunk_bytes,
    )


def _write_png(folder: Path, prefix: str, kind: str, rgb: npt.NDArray[np.uint8]) -> str:
    """Downsample by striding to at most MAX_SIDE per side and write an RGB PNG; returns the file name."""
    rows = max(1, math.ceil(rgb.shape[0] / MAX_SIDE))
    cols = max(1, math.ceil(rgb.shape[1] / MAX_SIDE))
    from PIL import Image

    name = f"{prefix}{kind}.png"
    Image.fromarray(np.ascontiguousarray(rgb[::rows, ::cols])).save(folder / name, optimize=False)
    return name


def _fmt(value: Any) -> str:
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.6g}"
    return str(value)
