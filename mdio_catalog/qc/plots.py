"""Quality-control pictures of an MDIO dataset: sections, time slices and the live mask, written as PNG files.

``plot_slice`` holds one dimension at a coordinate and draws what is left as an image: a *section* when the
sample axis remains (sample axis downward, traces across), a *map* when the sample axis is the one held
(a time or depth slice, first spatial dimension upward, second across). ``plot_live_mask`` draws the live and
dead cells of the grid. Dimensions beyond the two plotted are held at the coordinate given in ``fixed`` or else
at their first coordinate (slices), or projected with "any live" (live mask); every held dimension is named in the
title and in the returned :class:`PlotInfo`.

Only the slice that is drawn is read. matplotlib is imported inside the functions (Agg canvas, no pyplot, no
global state), so importing this module costs nothing and plotting is safe from threads.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from mdio_catalog.core import layout
from mdio_catalog.exceptions import CoordinateNotFoundError, ExportError, ShapeError, did_you_mean

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from mdio_catalog.api.accessor import MDIOAccessor
    from mdio_catalog.core.dimension import Dimension

FIGSIZE: tuple[float, float] = (10.0, 6.0)
DPI = 100
DEAD_COLOUR = "#bdbdbd"
LIVE_COLOUR = "#1f4e79"
MASK_DEAD_COLOUR = "#eeeeee"
COLOURMAP_ALIASES = {"grey": "gray", "grey_r": "gray_r", "greys": "Greys", "greys_r": "Greys_r"}

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
    cmap: str = "seismic",
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
    Colours are clipped symmetrically at ``clip_percentile`` of |amplitude| over the live traces shown; dead
    traces are drawn in grey. ``sample_unit`` labels the sample axis (default "ms", or "m"/"ft" for depth).
    """
    _check_percentile(clip_percentile)
    colourmap = _colourmap(cmap)
    target = _png_path(output)
    grid = reader.grid
    sample_axis = grid.ndim - 1
    held = _resolve_fixed(reader, fixed)
    axis = grid.index_of(dimension)
    if axis in held:
        raise ShapeError(f"Dimension {dimension!r} is both the slice and in fixed; give it once.")
    held[axis] = _locate(reader, axis, coordinate)
    free = [a for a in range(grid.ndim) if a not in held]
    if sample_axis in free:
        kind: PlotKind = "section"
        spatial_free = [a for a in free if a != sample_axis]
        if not spatial_free:
            raise ShapeError(
                f"Holding {_describe(reader, held)} leaves a single trace; free a spatial dimension to draw a section."
            )
        horizontal = _pick_across(reader, across, spatial_free, default=spatial_free[0])
        vertical = sample_axis
    else:
        kind = "map"
        if len(free) < 2:
            raise ShapeError(
                f"Holding {_describe(reader, held)} leaves {len(free)} free dimension(s); a map needs two."
            )
        horizontal = _pick_across(reader, across, free, default=free[1])
        vertical = next(a for a in free if a != horizontal)
    defaulted = [a for a in free if a not in (horizontal, vertical)]
    for a in defaulted:
        held[a] = 0

    key = tuple(held.get(a, slice(None)) for a in range(grid.ndim))
    values = np.asarray(_read_traces(reader, key), dtype=np.float32)
    live = np.asarray(reader.live_mask[key[:-1]], dtype=bool)
    live_cells, total_cells = int(live.sum()), int(live.size)
    if kind == "section":
        image = values.T  # (sample, across)
        live_image = np.broadcast_to(live[np.newaxis, :], image.shape)
    else:
        image = values if vertical < horizontal else values.T
        live_image = live if vertical < horizontal else live.T
    clip = _symmetric_clip(image, live_image, clip_percentile)

    fixed_labels = {grid.dims[a].name: _python(grid.dims[a].values[i]) for a, i in sorted(held.items())}
    unit = sample_unit if sample_unit is not None else _default_sample_unit(reader)
    if title is None:
        title = _slice_title(reader, axis, held[axis], held, defaulted, unit)

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    masked = np.ma.masked_array(image, mask=~live_image)
    extent = (
        *_extent(grid.dims[horizontal], reverse=False),
        *_extent(grid.dims[vertical], reverse=kind == "section"),
    )
    im = ax.imshow(
        masked,
        cmap=colourmap.with_extremes(bad=DEAD_COLOUR),
        vmin=-clip,
        vmax=clip,
        aspect="auto",
        interpolation="nearest" if max(image.shape) <= 200 else "antialiased",
        origin="upper" if kind == "section" else "lower",
        extent=extent,
    )
    labels = (
        _axis_label(grid.dims[vertical], vertical == sample_axis, unit),
        _axis_label(grid.dims[horizontal], horizontal == sample_axis, unit),
    )
    _label_axis(ax, "y", grid.dims[vertical], labels[0])
    _label_axis(ax, "x", grid.dims[horizontal], labels[1])
    if kind == "section":
        ax.xaxis.set_label_position("top")
        ax.xaxis.tick_top()
    colourbar = fig.colorbar(im, ax=ax, extend="both", shrink=0.9)
    dead_note = "; grey: dead traces" if live_cells < total_cells else ""
    colourbar.set_label(f"amplitude (clipped at ±{clip:.4g}, p{clip_percentile:g} of |live|){dead_note}")
    ax.set_title(title, fontsize=11)
    _save(fig, target)
    width, height = _pixels(figsize, dpi)
    box = _image_box(ax, height)
    return PlotInfo(
        path=target,
        kind=kind,
        dimensions=(grid.dims[vertical].name, grid.dims[horizontal].name),
        shape=(int(image.shape[0]), int(image.shape[1])),
        fixed=fixed_labels,
        defaulted=tuple(grid.dims[a].name for a in defaulted),
        clip=clip,
        clip_percentile=clip_percentile,
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
    target = _png_path(output)
    grid = reader.grid
    sample_axis = grid.ndim - 1
    held = _resolve_fixed(reader, fixed)
    if sample_axis in held:
        raise ShapeError(f"The live mask has no sample axis; {grid.dims[sample_axis].name!r} cannot be fixed.")
    free = [a for a in range(sample_axis) if a not in held]
    if not free:
        raise ShapeError(f"Holding {_describe(reader, held)} leaves no spatial dimension to draw.")
    if len(free) == 1:
        _pick_across(reader, across, free, default=free[0])
        horizontal, vertical = free[0], None
    else:
        horizontal = _pick_across(reader, across, free, default=free[1])
        vertical = next(a for a in free if a != horizontal)
    projected = [a for a in free if a not in (horizontal, vertical)]

    key = tuple(held.get(a, slice(None)) for a in range(sample_axis))
    mask = np.asarray(reader.live_mask[key], dtype=bool)
    kept = [a for a in range(sample_axis) if a not in held]  # axes of `mask`, in dataset order
    if projected:
        mask = np.asarray(mask.any(axis=tuple(kept.index(a) for a in projected)), dtype=bool)
        kept = [a for a in kept if a not in projected]
    if vertical is None:
        image = mask.reshape(1, -1)
    else:
        image = mask if kept.index(vertical) < kept.index(horizontal) else mask.T
    live_cells, total_cells = int(image.sum()), int(image.size)

    fixed_labels = {grid.dims[a].name: _python(grid.dims[a].values[i]) for a, i in sorted(held.items())}
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
    x_extent = _extent(grid.dims[horizontal], reverse=False)
    y_extent = _extent(grid.dims[vertical], reverse=False) if vertical is not None else (-0.5, 0.5)
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
    _label_axis(ax, "x", grid.dims[horizontal], grid.dims[horizontal].name)
    if vertical is not None:
        _label_axis(ax, "y", grid.dims[vertical], grid.dims[vertical].name)
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
    _save(fig, target)
    width, height = _pixels(figsize, dpi)
    box = _image_box(ax, height)
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


def dataset_name(reader: MDIOAccessor) -> str:
    """The catalog name recorded in the dataset's provenance, else the last part of its path without '.mdio'."""
    attrs = reader.root.attrs.get(layout.ATTR_CATALOG)
    if isinstance(attrs, dict):
        record = attrs.get("provenance")
        if isinstance(record, dict) and isinstance(record.get("dataset"), str):
            return str(record["dataset"])
    base = reader.url.rstrip("/").replace("\\", "/").rsplit("/", 1)[-1]
    return base[: -len(".mdio")] if base.lower().endswith(".mdio") and len(base) > len(".mdio") else base


def parse_selection(items: Sequence[str]) -> dict[str, str]:
    """``["offset=500", "cable=2"]`` -> ``{"offset": "500", "cable": "2"}`` (for a CLI's repeated ``--at``)."""
    result: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise ShapeError(f"Selection {item!r} must look like NAME=COORDINATE, e.g. offset=500.")
        if name in result:
            raise ShapeError(f"Dimension {name!r} is selected twice ({result[name]!r} and {value!r}).")
        result[name] = value
    return result


# --- selection ---------------------------------------------------------------------------------------------------
def _coerce(value: Any, dim: Dimension) -> Any:
    """A coordinate label; strings are read as int, then float."""
    if isinstance(value, str):
        text = value.strip()
        for convert in (int, float):
            try:
                return convert(text)
            except ValueError:
                continue
        raise CoordinateNotFoundError(
            f"Coordinate {value!r} of dimension {dim.name!r} is not a number "
            f"(range {_python(dim.min())}..{_python(dim.max())})."
        )
    return value


def _locate(reader: MDIOAccessor, axis: int, coordinate: Any) -> int:
    dim = reader.grid.dims[axis]
    index = reader.coord_to_index(_coerce(coordinate, dim), dimensions=dim.name)
    return int(np.asarray(index).ravel()[0])


def _resolve_fixed(reader: MDIOAccessor, fixed: Mapping[str, Any] | None) -> dict[int, int]:
    """Axis -> index for every dimension in ``fixed`` (names and coordinates checked)."""
    held: dict[int, int] = {}
    for name, coordinate in (fixed or {}).items():
        axis = reader.grid.index_of(name)
        held[axis] = _locate(reader, axis, coordinate)
    return held


def _pick_across(reader: MDIOAccessor, across: str | None, free: Sequence[int], default: int) -> int:
    if across is None:
        return default
    axis = reader.grid.index_of(across)
    if axis not in free:
        names = [reader.grid.dims[a].name for a in free]
        raise ShapeError(f"across={across!r} is held or is the sample axis here; choose one of {names}.")
    return axis


def _describe(reader: MDIOAccessor, held: Mapping[int, int]) -> str:
    dims = reader.grid.dims
    return ", ".join(f"{dims[a].name}={_python(dims[a].values[i])}" for a, i in sorted(held.items())) or "nothing"


def _read_traces(reader: MDIOAccessor, key: tuple[Any, ...]) -> Any:
    result = reader[key]
    return result[2] if reader.return_metadata else result


# --- values and labels -------------------------------------------------------------------------------------------
def _check_percentile(percentile: float) -> None:
    if not 0.0 < float(percentile) <= 100.0:
        raise ExportError(f"clip_percentile must be in (0, 100], got {percentile}.")


def _symmetric_clip(image: npt.NDArray[Any], live: npt.NDArray[np.bool_], percentile: float) -> float:
    """``percentile`` of |values| over live cells (all cells when none is live); 1.0 when that is 0."""
    chosen = image[live] if live.any() else image.ravel()
    magnitudes = np.abs(chosen[np.isfinite(chosen)])
    clip = float(np.percentile(magnitudes, percentile)) if magnitudes.size else 0.0
    if not np.isfinite(clip) or clip <= 0.0:
        clip = float(magnitudes.max()) if magnitudes.size and magnitudes.max() > 0 else 1.0
    return clip


def _python(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _format(value: Any) -> str:
    """Coordinates as written: 1000 for 1000.0, 9.995 for 9.995, never 1e+06."""
    value = _python(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _is_depth(reader: MDIOAccessor) -> bool:
    if "depth" in reader.grid.dims[-1].name.lower():
        return True
    attrs = reader.root.attrs.get(layout.ATTR_CATALOG)
    record = attrs.get("provenance") if isinstance(attrs, dict) else None
    spec = record.get("spec") if isinstance(record, dict) else None
    return isinstance(spec, dict) and spec.get("domain") == "depth"


def _default_sample_unit(reader: MDIOAccessor) -> str:
    if not _is_depth(reader):
        return "ms"
    return "ft" if reader.binary_header.get("measurement_system_code") == 2 else "m"


def _axis_label(dim: Dimension, is_sample: bool, unit: str) -> str:
    return f"{dim.name} ({unit})" if is_sample and unit else dim.name


def _slice_title(
    reader: MDIOAccessor,
    axis: int,
    index: int,
    held: Mapping[int, int],
    defaulted: Sequence[int],
    unit: str,
) -> str:
    dims = reader.grid.dims
    suffix = f" {unit}" if unit else ""

    def value_of(a: int, i: int) -> str:
        return _format(dims[a].values[i]) + (suffix if a == len(dims) - 1 else "")

    main = f"{dataset_name(reader)} — {dims[axis].name} {value_of(axis, index)}"
    others = [
        f"{dims[a].name} = {value_of(a, i)}{' (first)' if a in defaulted else ''}"
        for a, i in sorted(held.items())
        if a != axis
    ]
    return main + ("\n" + "; ".join(others) if others else "")


def _uniform_step(values: npt.NDArray[Any]) -> float | None:
    """The step of a numeric, evenly spaced, increasing or decreasing vector (None otherwise)."""
    if values.dtype.kind not in "iuf" or values.size == 0:
        return None
    if values.size == 1:
        return 1.0
    steps = np.diff(values.astype(np.float64))
    step = float(steps[0])
    if step == 0.0 or not np.allclose(steps, step, rtol=1e-6, atol=0.0):
        return None
    return step


def _extent(dim: Dimension, *, reverse: bool) -> tuple[float, float]:
    """Image edges along ``dim``: in coordinates when evenly spaced, else in index space (see _label_axis)."""
    values = dim.values
    step = _uniform_step(values)
    if step is None:
        low, high = -0.5, values.size - 0.5
    else:
        low, high = float(values[0]) - step / 2.0, float(values[-1]) + step / 2.0
    return (high, low) if reverse else (low, high)


def _label_axis(ax: Axes, which: Literal["x", "y"], dim: Dimension, label: str) -> None:
    """Label an axis; irregular coordinates get their labels at integer index positions."""
    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_label_text(label)
    if _uniform_step(dim.values) is not None:
        from matplotlib.ticker import MaxNLocator

        integer = dim.values.dtype.kind in "iu"
        axis.set_major_locator(MaxNLocator(nbins="auto", integer=integer, steps=[1, 2, 2.5, 5, 10]))
        return
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    values = dim.values

    def label_at(position: float, _: int | None = None) -> str:
        index = round(position)
        if abs(position - index) > 1e-6 or not 0 <= index < values.size:
            return ""
        return _format(values[index])

    axis.set_major_locator(MaxNLocator(nbins="auto", integer=True))
    axis.set_major_formatter(FuncFormatter(label_at))


def _colourmap(name: str) -> Any:
    from matplotlib import colormaps

    resolved = COLOURMAP_ALIASES.get(name.lower(), name)
    try:
        return colormaps[resolved]
    except KeyError:
        available = sorted(colormaps)
        raise ExportError(
            f"Unknown colour map {name!r}{did_you_mean(name, available)}; try 'seismic' or 'gray'."
        ) from None


# --- output ------------------------------------------------------------------------------------------------------
def _png_path(output: str | os.PathLike[str]) -> Path:
    path = Path(os.fspath(output))
    if path.suffix.lower() != ".png":
        raise ExportError(f"QC plots are written as PNG; give an output file ending in .png, got {str(path)!r}.")
    return path


def _pixels(figsize: tuple[float, float], dpi: int) -> tuple[int, int]:
    return round(figsize[0] * dpi), round(figsize[1] * dpi)


def _image_box(ax: Axes, height: int) -> tuple[int, int, int, int]:
    """Pixel box of the axes in the saved PNG (valid after saving: the layout is final then)."""
    extent = ax.get_window_extent()
    return (
        round(extent.x0),
        round(height - extent.y1),
        round(extent.x1),
        round(height - extent.y0),
    )


def _save(fig: Figure, target: Path) -> None:
    """Write the PNG beside the target and move it into place, so a failed plot leaves no half file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.stem}.{os.getpid()}.{uuid.uuid4().hex[:8]}.png")
    try:
        fig.savefig(temporary, format="png", dpi=fig.dpi)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
