"""Quality-control pictures of an MDIO dataset: sections, time slices and the live mask, written as PNG files.

``plot_slice`` holds one dimension at a coordinate and draws what is left as an image: a *section* when the
sample axis remains (sample axis downward, traces across), a *map* when the sample axis is the one held
(a time or depth slice, first spatial dimension upward, second across). ``plot_live_mask`` draws the live and
dead cells of the grid. Dimensions beyond the two plotted are held at the coordinate given in ``fixed`` or else
at their first coordinate (slices), or projected with "any live" (live mask); every held dimension is named in the
title and in the returned :class:`PlotInfo`.

Only the slice that is drawn is read, decimated beyond 2,048 cells an axis, and the live mask is projected a slab
at a time (:mod:`mdio_catalog.qc.selection`); the drawing helpers are in :mod:`mdio_catalog.qc.drawing`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from mdio_catalog.exceptions import ShapeError
from mdio_catalog.qc.colours import choose_colours
from mdio_catalog.qc.drawing import (
    COLOURMAP_ALIASES,
    axis_label,
    check_percentile,
    colourmap,
    default_sample_unit,
    extent,
    image_box,
    label_axis,
    pixels,
    png_path,
    save,
    slice_title,
    symmetric_clip,
)
from mdio_catalog.qc.selection import (
    dataset_name,
    describe,
    image_step,
    locate,
    parse_selection,
    pick_across,
    python,
    read_live_mask,
    read_traces,
    resolve_fixed,
    shown,
)

if TYPE_CHECKING:
    from mdio_catalog.api.accessor import MDIOAccessor

__all__ = ["COLOURMAP_ALIASES", "PlotInfo", "dataset_name", "parse_selection", "plot_live_mask", "plot_slice"]

FIGSIZE: tuple[float, float] = (10.0, 6.0)
DPI = 100
DEAD_COLOUR = "#bdbdbd"
LIVE_COLOUR = "#1f4e79"
MASK_DEAD_COLOUR = "#eeeeee"

PlotKind = Literal["section", "map", "live_mask"]


@dataclass(frozen=True)
class PlotInfo:
    """What was drawn.

    ``dimensions`` names the image axes as (vertical, horizontal) and ``shape`` is the image in that order (rows,
    columns). ``fixed`` holds every other dimension at one coordinate (the sliced one included), in dataset order;
    ``defaulted`` lists those of them that were not asked for and were taken at their first coordinate;
    ``projected`` lists the dimensions collapsed with "any live" (live mask only). ``clip`` is the symmetric
    colour range (None for the live mask); ``live_cells``/``total_cells`` count the traces shown.
    ``axis_labels`` are the (vertical, horizontal) axis labels, ``width_px``/``height_px`` the PNG size and
    ``image_px`` the (left, top, right, bottom) pixel box of the data image inside the PNG (origin top left).
    """

    path: Path
    kind: PlotKind
    dimensions: tuple[str, str]
    shape: tuple[int, int]
    fixed: dict[str, Any] = field(default_factory=dict)
    defaulted: tuple[str, ...] = ()
    projected: tuple[str, ...] = ()
    clip: float | None = None
    clip_percentile: float | None = None
    vmin: float | None = None
    vmax: float | None = None
    cmap: str | None = None
    live_cells: int = 0
    total_cells: int = 0
    title: str = ""
    axis_labels: tuple[str, str] = ("", "")
    width_px: int = 0
    height_px: int = 0
    image_px: tuple[int, int, int, int] = (0, 0, 0, 0)


# --- public API ------------------------------------------------------------------------------------------------
def plot_slice(
    reader: MDIOAccessor,
    *,
    dimension: str,
    coordinate: Any,
    output: str | os.PathLike[str],
    fixed: Mapping[str, Any] | None = None,
    across: str | None = None,
    clip_percentile: float = 99.0,
    cmap: str | None = None,
    title: str | None = None,
    sample_unit: str | None = None,
    figsize: tuple[float, float] = FIGSIZE,
    dpi: int = DPI,
) -> PlotInfo:
    """Draw the slice ``dimension == coordinate`` of ``reader`` into the PNG file ``output``.

    ``coordinate`` and the values of ``fixed`` are coordinate labels (inline 1200, offset 500, 1000 ms), not
    indices; strings such as "1200" are accepted and read as numbers. A label not in the dimension raises
    :class:`CoordinateNotFoundError`, an unknown dimension name :class:`DimensionNotFoundError`.

    With the sample axis left free the picture is a section (sample axis downward, ``across`` horizontally,
    default the first free spatial dimension); otherwise a map (``across`` horizontally, default the second free
    spatial dimension, the first upward). Free dimensions beyond those two are taken at their first coordinate.
    Colours fit the data (:func:`~mdio_catalog.qc.colours.choose_colours`): zero-centred amplitudes are clipped
    symmetrically at ``clip_percentile`` of |amplitude| over the live traces shown, with a diverging map; anything
    else (velocities, impedances) spans its 1st..99th percentile with a sequential map. An explicit ``cmap`` keeps
    the symmetric clip with that map. Dead traces are drawn in grey. ``sample_unit`` labels the sample axis
    (default "ms", or "m"/"ft" for depth).
    """
    check_percentile(clip_percentile)
    colours = colourmap(cmap) if cmap is not None else None
    target = png_path(output)
    grid = reader.grid
    sample_axis = grid.ndim - 1
    held = resolve_fixed(reader, fixed)
    axis = grid.index_of(dimension)
    if axis in held:
        raise ShapeError(f"Dimension {dimension!r} is both the slice and in fixed; give it once.")
    held[axis] = locate(reader, axis, coordinate)
    free = [a for a in range(grid.ndim) if a not in held]
    if sample_axis in free:
        kind: PlotKind = "section"
        spatial_free = [a for a in free if a != sample_axis]
        if not spatial_free:
            raise ShapeError(
                f"Holding {describe(reader, held)} leaves a single trace; free a spatial dimension to draw a section."
            )
        horizontal = pick_across(reader, across, spatial_free, default=spatial_free[0])
        vertical = sample_axis
    else:
        kind = "map"
        if len(free) < 2:
            raise ShapeError(f"Holding {describe(reader, held)} leaves {len(free)} free dimension(s); a map needs two.")
        horizontal = pick_across(reader, across, free, default=free[1])
        vertical = next(a for a in free if a != horizontal)
    defaulted = [a for a in free if a not in (horizontal, vertical)]
    for a in defaulted:
        held[a] = 0

    key = tuple(held.get(a, slice(None, None, image_step(grid.dims[a].size))) for a in range(grid.ndim))
    dims = {a: shown(grid.dims[a], key[a]) for a in (horizontal, vertical)}  # what is drawn (decimated)
    values = np.asarray(read_traces(reader, key), dtype=np.float32)
    live = read_live_mask(reader, key[:-1], ())
    live_cells, total_cells = int(live.sum()), int(live.size)
    if kind == "section":
        image = values.T  # (sample, across)
        live_image = np.broadcast_to(live[np.newaxis, :], image.shape)
    else:
        image = values if vertical < horizontal else values.T
        live_image = live if vertical < horizontal else live.T
    clip = symmetric_clip(image, live_image, clip_percentile)
    fitted = choose_colours(image, live_image) if cmap is None else None
    if fitted is not None and fitted.diverging:  # zero-centred: the symmetric clip at the asked percentile
        vmin, vmax, map_name = -clip, clip, fitted.cmap
    elif fitted is not None:
        vmin, vmax, map_name = fitted.vmin, fitted.vmax, fitted.cmap
    else:
        vmin, vmax, map_name = -clip, clip, str(cmap)
    if colours is None:
        colours = colourmap(map_name)

    fixed_labels = {grid.dims[a].name: python(grid.dims[a].values[i]) for a, i in sorted(held.items())}
    unit = sample_unit if sample_unit is not None else default_sample_unit(reader)
    if title is None:
        title = slice_title(reader, axis, held[axis], held, defaulted, unit)

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    masked = np.ma.masked_array(image, mask=~live_image)
    edges = (
        *extent(dims[horizontal], reverse=False),
        *extent(dims[vertical], reverse=kind == "section"),
    )
    im = ax.imshow(
        masked,
        cmap=colours.with_extremes(bad=DEAD_COLOUR),
        vmin=vmin,
        vmax=vmax,
        aspect="auto",
        interpolation="nearest" if max(image.shape) <= 200 else "antialiased",
        origin="upper" if kind == "section" else "lower",
        extent=edges,
    )
    labels = (
        axis_label(grid.dims[vertical], vertical == sample_axis, unit),
        axis_label(grid.dims[horizontal], horizontal == sample_axis, unit),
    )
    label_axis(ax, "y", dims[vertical], labels[0])
    label_axis(ax, "x", dims[horizontal], labels[1])
    if kind == "section":
        ax.xaxis.set_label_position("top")
        ax.xaxis.tick_top()
    colourbar = fig.colorbar(im, ax=ax, extend="both", shrink=0.9)
    dead_note = "; grey: dead traces" if live_cells < total_cells else ""
    if vmin == -clip and vmax == clip:
        colourbar.set_label(f"amplitude (clipped at ±{clip:.4g}, p{clip_percentile:g} of |live|){dead_note}")
    else:
        colourbar.set_label(f"value (p1–p99 of live: {vmin:.4g} to {vmax:.4g}){dead_note}")
    ax.set_title(title, fontsize=11)
    save(fig, target)
    width, height = pixels(figsize, dpi)
    box = image_box(ax, height)
    return PlotInfo(
        path=target,
        kind=kind,
        dimensions=(grid.dims[vertical].name, grid.dims[horizontal].name),
        shape=(int(image.shape[0]), int(image.shape[1])),
        fixed=fixed_labels,
        defaulted=tuple(grid.dims[a].name for a in defaulted),
        clip=clip,
        clip_percentile=clip_percentile,
        vmin=float(vmin),
        vmax=float(vmax),
        cmap=map_name,
        live_cells=live_cells,
        total_cells=total_cells,
        title=title,
        axis_labels=labels,
        width_px=width,
        height_px=height,
        image_px=box,
    )


def plot_live_mask(
    reader: MDIOAccessor,
    *,
    output: str | os.PathLike[str],
    fixed: Mapping[str, Any] | None = None,
    across: str | None = None,
    title: str | None = None,
    figsize: tuple[float, float] = FIGSIZE,
    dpi: int = DPI,
) -> PlotInfo:
    """Draw the live mask of ``reader`` (live cells dark, dead cells light) into the PNG file ``output``.

    The map shows the first two spatial dimensions not held in ``fixed`` (the first upward, ``across`` or the
    second horizontally); further free spatial dimensions are projected: a cell is live when any trace along
    them is. ``fixed`` holds dimensions at a coordinate (e.g. ``{"offset": 500}``). A dataset with a single
    free spatial dimension is drawn as a one-row strip. The title counts the live cells shown.
    """
    target = png_path(output)
    grid = reader.grid
    sample_axis = grid.ndim - 1
    held = resolve_fixed(reader, fixed)
    if sample_axis in held:
        raise ShapeError(f"The live mask has no sample axis; {grid.dims[sample_axis].name!r} cannot be fixed.")
    free = [a for a in range(sample_axis) if a not in held]
    if not free:
        raise ShapeError(f"Holding {describe(reader, held)} leaves no spatial dimension to draw.")
    if len(free) == 1:
        pick_across(reader, across, free, default=free[0])
        horizontal, vertical = free[0], None
    else:
        horizontal = pick_across(reader, across, free, default=free[1])
        vertical = next(a for a in free if a != horizontal)
    projected = [a for a in free if a not in (horizontal, vertical)]

    drawn = [horizontal] if vertical is None else [horizontal, vertical]
    key = tuple(
        held.get(a, slice(None, None, image_step(grid.dims[a].size)) if a in drawn else slice(None))
        for a in range(sample_axis)
    )
    dims = {a: shown(grid.dims[a], key[a]) for a in drawn}  # what is drawn (decimated)
    mask = read_live_mask(reader, key, projected)
    kept = [a for a in range(sample_axis) if a not in held and a not in projected]  # axes of `mask`
    if vertical is None:
        image = mask.reshape(1, -1)
    else:
        image = mask if kept.index(vertical) < kept.index(horizontal) else mask.T
    live_cells, total_cells = int(image.sum()), int(image.size)

    fixed_labels = {grid.dims[a].name: python(grid.dims[a].values[i]) for a, i in sorted(held.items())}
    if title is None:
        percent = 100.0 * live_cells / total_cells if total_cells else 0.0
        title = f"{dataset_name(reader)} — live mask: {live_cells:,} of {total_cells:,} cells live ({percent:.1f}%)"
        notes = [f"{n} = {v}" for n, v in fixed_labels.items()]
        if projected:
            notes.append("any live over " + ", ".join(grid.dims[a].name for a in projected))
        if notes:
            title += "\n" + "; ".join(notes)

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x_extent = extent(dims[horizontal], reverse=False)
    y_extent = extent(dims[vertical], reverse=False) if vertical is not None else (-0.5, 0.5)
    ax.imshow(
        image.astype(np.uint8),
        cmap=ListedColormap([MASK_DEAD_COLOUR, LIVE_COLOUR]),
        vmin=0,
        vmax=1,
        aspect="auto",
        interpolation="nearest",
        origin="lower",
        extent=(*x_extent, *y_extent),
    )
    label_axis(ax, "x", dims[horizontal], grid.dims[horizontal].name)
    if vertical is not None:
        label_axis(ax, "y", dims[vertical], grid.dims[vertical].name)
    else:
        ax.set_yticks([])
    ax.legend(
        handles=[
            Patch(facecolor=LIVE_COLOUR, edgecolor="black", label=f"live ({live_cells:,})"),
            Patch(facecolor=MASK_DEAD_COLOUR, edgecolor="black", label=f"dead ({total_cells - live_cells:,})"),
        ],
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        borderaxespad=0.0,
        frameon=False,
    )
    ax.set_title(title, fontsize=11)
    save(fig, target)
    width, height = pixels(figsize, dpi)
    box = image_box(ax, height)
    return PlotInfo(
        path=target,
        kind="live_mask",
        dimensions=(grid.dims[vertical].name if vertical is not None else "", grid.dims[horizontal].name),
        shape=(int(image.shape[0]), int(image.shape[1])),
        fixed=fixed_labels,
        projected=tuple(grid.dims[a].name for a in projected),
        live_cells=live_cells,
        total_cells=total_cells,
        title=title,
        axis_labels=(grid.dims[vertical].name if vertical is not None else "", grid.dims[horizontal].name),
        width_px=width,
        height_px=height,
        image_px=box,
    )
