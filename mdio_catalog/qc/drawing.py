"""Drawing helpers of the QC pictures: clipping, labels, extents, colour maps and writing the PNG.

matplotlib is imported inside the functions (Agg canvas, no pyplot, no global state), so importing this module
costs nothing and plotting is safe from threads.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from mdio_catalog.core import layout
from mdio_catalog.exceptions import ExportError, did_you_mean
from mdio_catalog.qc.selection import dataset_name, python

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from mdio_catalog.api.accessor import MDIOAccessor
    from mdio_catalog.core.dimension import Dimension

COLOURMAP_ALIASES = {"grey": "gray", "grey_r": "gray_r", "greys": "Greys", "greys_r": "Greys_r"}


def check_percentile(percentile: float) -> None:
    if not 0.0 < float(percentile) <= 100.0:
        raise ExportError(f"clip_percentile must be in (0, 100], got {percentile}.")


def symmetric_clip(image: npt.NDArray[Any], live: npt.NDArray[np.bool_], percentile: float) -> float:
    """``percentile`` of |values| over live cells (all cells when none is live); 1.0 when that is 0."""
    chosen = image[live] if live.any() else image.ravel()
    magnitudes = np.abs(chosen[np.isfinite(chosen)])
    clip = float(np.percentile(magnitudes, percentile)) if magnitudes.size else 0.0
    if not np.isfinite(clip) or clip <= 0.0:
        clip = float(magnitudes.max()) if magnitudes.size and magnitudes.max() > 0 else 1.0
    return clip


def format(value: Any) -> str:
    """Coordinates as written: 1000 for 1000.0, 9.995 for 9.995, never 1e+06."""
    value = python(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def is_depth(reader: MDIOAccessor) -> bool:
    if "depth" in reader.grid.dims[-1].name.lower():
        return True
    attrs = reader.root.attrs.get(layout.ATTR_CATALOG)
    record = attrs.get("provenance") if isinstance(attrs, dict) else None
    spec = record.get("spec") if isinstance(record, dict) else None
    return isinstance(spec, dict) and spec.get("domain") == "depth"


def default_sample_unit(reader: MDIOAccessor) -> str:
    if not is_depth(reader):
        return "ms"
    return "ft" if reader.binary_header.get("measurement_system_code") == 2 else "m"


def axis_label(dim: Dimension, is_sample: bool, unit: str) -> str:
    return f"{dim.name} ({unit})" if is_sample and unit else dim.name


def slice_title(
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
        return format(dims[a].values[i]) + (suffix if a == len(dims) - 1 else "")

    main = f"{dataset_name(reader)} — {dims[axis].name} {value_of(axis, index)}"
    others = [
        f"{dims[a].name} = {value_of(a, i)}{' (first)' if a in defaulted else ''}"
        for a, i in sorted(held.items())
        if a != axis
    ]
    return main + ("\n" + "; ".join(others) if others else "")


def uniform_step(values: npt.NDArray[Any]) -> float | None:
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


def extent(dim: Dimension, *, reverse: bool) -> tuple[float, float]:
    """Image edges along ``dim``: in coordinates when evenly spaced, else in index space (see label_axis)."""
    values = dim.values
    step = uniform_step(values)
    if step is None:
        low, high = -0.5, values.size - 0.5
    else:
        low, high = float(values[0]) - step / 2.0, float(values[-1]) + step / 2.0
    return (high, low) if reverse else (low, high)


def label_axis(ax: Axes, which: Literal["x", "y"], dim: Dimension, label: str) -> None:
    """Label an axis; irregular coordinates get their labels at integer index positions."""
    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_label_text(label)
    if uniform_step(dim.values) is not None:
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
        return format(values[index])

    axis.set_major_locator(MaxNLocator(nbins="auto", integer=True))
    axis.set_major_formatter(FuncFormatter(label_at))


def colourmap(name: str) -> Any:
    from matplotlib import colormaps

    resolved = COLOURMAP_ALIASES.get(name.lower(), name)
    try:
        return colormaps[resolved]
    except KeyError:
        available = sorted(colormaps)
        raise ExportError(
            f"Unknown colour map {name!r}{did_you_mean(name, available)}; try 'seismic' or 'gray'."
        ) from None


def png_path(output: str | os.PathLike[str]) -> Path:
    path = Path(os.fspath(output))
    if path.suffix.lower() != ".png":
        raise ExportError(f"QC plots are written as PNG; give an output file ending in .png, got {str(path)!r}.")
    return path


def pixels(figsize: tuple[float, float], dpi: int) -> tuple[int, int]:
    return round(figsize[0] * dpi), round(figsize[1] * dpi)


def image_box(ax: Axes, height: int) -> tuple[int, int, int, int]:
    """Pixel box of the axes in the saved PNG (valid after saving: the layout is final then)."""
    extent = ax.get_window_extent()
    return (
        round(extent.x0),
        round(height - extent.y1),
        round(extent.x1),
        round(height - extent.y0),
    )


def save(fig: Figure, target: Path) -> None:
    """Write the PNG beside the target and move it into place, so a failed plot leaves no half file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.stem}.{os.getpid()}.{uuid.uuid4().hex[:8]}.png")
    try:
        fig.savefig(temporary, format="png", dpi=fig.dpi)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
