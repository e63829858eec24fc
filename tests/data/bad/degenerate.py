"""Degenerate data and lying metadata for the reliability tests (issue 15, items 4 and 5).

- :func:`nonfinite_amplitudes`: sample blocks with NaN and infinities (one NaN, all NaN, all inf, mixed).
- :func:`lie`: a copy of a good dataset whose stored metadata says something else (chunks 0 or negative, a shape
  that disagrees with the coordinates or the live mask, a malformed attribute), edited in the ``.zarray``/
  ``.zattrs`` and, unless asked otherwise, in the consolidated ``.zmetadata`` too (what a reader trusts).
- :data:`LIES`: every such case, with the words the error must hold.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

DATA = "data/chunked_012"
HEADERS = "metadata/chunked_012_trace_headers"
MASK = "metadata/live_mask"


def nonfinite_amplitudes(kind: str, traces: int = 20, samples: int = 8, seed: int = 0) -> np.ndarray:
    """Samples (traces x samples, float32) for one kind: ``one-nan``, ``all-nan``, ``all-inf``, ``mixed``."""
    values = np.random.default_rng(seed).standard_normal((traces, samples)).astype(np.float32)
    if kind == "one-nan":
        values[0, 3] = np.nan
    elif kind == "all-nan":
        values[:] = np.nan
    elif kind == "all-inf":
        values[:] = np.inf
    elif kind == "mixed":  # NaN, +inf, -inf and a zero (zeros are padding: not counted either way)
        values[1, :2] = np.nan
        values[2, 5] = np.inf
        values[3, 7] = -np.inf
        values[4, 0] = 0.0
    else:
        raise ValueError(kind)
    return values


@dataclass(frozen=True)
class Lie:
    """One corruption: which array's metadata (or the root attributes) and what it now says."""

    name: str
    array: str | None  # path of the array whose .zarray is edited; None: the root .zattrs
    key: str | None
    value: Any = None
    consolidated: bool = True  # also edit .zmetadata (else only the file a writer reads)
    attrs: Callable[[dict[str, Any]], None] | None = None
    words: str = ""  # what the error must say


def _edit_json(path: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


def lie(source: Path, folder: Path, case: Lie) -> Path:
    """A copy of ``source`` under ``folder`` carrying the lie of ``case``; its path."""
    target = folder / f"{case.name}.mdio"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    if case.array is not None:
        key, value = str(case.key), case.value
        _edit_json(target / case.array / ".zarray", lambda meta: meta.__setitem__(key, value))
        if case.consolidated:
            _edit_json(
                target / ".zmetadata",
                lambda meta: meta["metadata"][f"{case.array}/.zarray"].__setitem__(key, value),
            )
    if case.attrs is not None:
        edit = case.attrs
        _edit_json(target / ".zattrs", edit)
        _edit_json(target / ".zmetadata", lambda meta: edit(meta["metadata"][".zattrs"]))
    return target


def _dims(edit: Callable[[list[dict[str, Any]]], None]) -> Callable[[dict[str, Any]], None]:
    return lambda attrs: edit(attrs["dimension"])


#: Every lie, on a 4 x 5 x 8 dataset (inline 10-13, crossline 20-24, chunks 4 x 4 x 8).
LIES: tuple[Lie, ...] = (
    Lie("chunks-zero", DATA, "chunks", [0, 4, 8], words="positive"),
    Lie("chunks-negative", DATA, "chunks", [-1, 4, 8], words="non-negative"),
    Lie("chunks-huge", DATA, "chunks", [100000, 100000, 8], words="MDIO_CATALOG_MAX_CHUNK_MIB"),
    Lie("shape-larger", DATA, "shape", [400000, 5, 8], words="disagree"),
    Lie("shape-smaller", DATA, "shape", [2, 5, 8], words="disagree"),
    Lie("shape-fewer-axes", DATA, "shape", [4, 5], words="same length"),
    Lie("shape-negative", DATA, "shape", [-4, 5, 8], words="non-negative"),
    Lie("mask-shape", MASK, "shape", [4, 50], words="live mask"),
    Lie("mask-chunks-zero", MASK, "chunks", [0, 5], words="live mask"),
    Lie("headers-shape", HEADERS, "shape", [40, 5], words="trace headers"),
    Lie("headers-chunks-negative", HEADERS, "chunks", [4, -4], words="non-negative"),
    Lie("dimension-fewer-coords", None, None, attrs=_dims(lambda d: d[0].update(coords=[10, 11])), words="disagree"),
    Lie(
        "dimension-null-coord",
        None,
        None,
        attrs=_dims(lambda d: d[0].update(coords=[10, None, 12, 13])),
        words="numbers",
    ),
    Lie("dimension-text-coords", None, None, attrs=_dims(lambda d: d[1].update(coords="abc")), words="dimension"),
    Lie("dimension-not-a-list", None, None, attrs=lambda a: a.update(dimension={"inline": 4}), words="list"),
    Lie("dimension-one-only", None, None, attrs=_dims(lambda d: d.__delitem__(slice(0, 2))), words="two dimensions"),
    Lie("dimension-missing-name", None, None, attrs=_dims(lambda d: d[0].pop("name")), words="dimension"),
    Lie("statistics-text", None, None, attrs=lambda a: a.update(mean="NaN"), words="statistics"),
)


_SAMPLE = "{name: sample, start: 0, step: 4, count: 8}"

#: ``empty:`` sources ``validate`` refuses: (case name, the ``empty:`` list, words of the located error).
EMPTY_SOURCES: tuple[tuple[str, str, str], ...] = (
    ("empty-nan-coordinate", f"[{{name: inline, coords: [1, .nan, 3]}}, {_SAMPLE}]", "empty[0].coords[1]"),
    ("empty-inf-coordinate", f"[{{name: inline, coords: [1, 2, -.inf]}}, {_SAMPLE}]", "not a finite number"),
    ("empty-repeated-coordinate", f"[{{name: inline, coords: [5, 6, 5]}}, {_SAMPLE}]", "repeats coordinate 0"),
    ("empty-repeated-float", f"[{{name: offset, coords: [1.5, 1.50, 2]}}, {_SAMPLE}]", "empty[0].coords[1]"),
    ("empty-count-3e9", f"[{{name: inline, start: 0, count: 3000000000}}, {_SAMPLE}]", "empty[0].count"),
    ("empty-inf-start", f"[{{name: inline, start: .inf, count: 3}}, {_SAMPLE}]", "empty[0].start"),
    ("empty-nan-step", f"[{{name: inline, start: 0, step: .nan, count: 3}}, {_SAMPLE}]", "empty[0].step"),
    ("empty-overflowing-range", f"[{{name: inline, start: 0, step: 1e308, count: 3}}, {_SAMPLE}]", "last coordinate"),
    (
        "empty-int64-overflow",
        f"[{{name: inline, start: 9223372036854775800, step: 10, count: 3}}, {_SAMPLE}]",
        "64-bit",
    ),
    (
        "empty-vanishing-step",
        f"[{{name: inline, start: 1.0e20, step: 1.0, count: 3}}, {_SAMPLE}]",
        "coordinates repeat",
    ),
    (
        "empty-grid-too-large",
        "[{name: a, start: 0, count: 100000}, {name: b, start: 0, count: 100000}, {name: sample, start: 0, count: 8}]",
        "trace cells",
    ),
)
