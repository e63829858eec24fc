"""Step 2a of a scan: evaluate one candidate index on the scanned headers, exactly as ingestion would grid them.

Grid overrides are applied, duplicates, redundant and constant dimensions and sparsity are checked, and the
verdict says in words why a candidate does or does not work. Pure: headers in, :class:`Candidate` out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from mdio_catalog.exceptions import GridOverrideError
from mdio_catalog.segy.overrides import apply_grid_overrides
from mdio_catalog.segy.scan.arrays import GROUPED_RATIO, combined_key, contiguity, estimated_size, implausible_values
from mdio_catalog.segy.scan.model import Candidate, DimensionFacts, GeometryKind, IndexWord
from mdio_catalog.segy.scan.sample import HeaderSample
from mdio_catalog.settings import get_settings
from mdio_catalog.specs.grid_overrides import GridOverrides


def evaluate_candidate(
    sample: HeaderSample,
    kind: GeometryKind,
    index: Sequence[IndexWord],
    grid_overrides: Mapping[str, Any] | None = None,
    *,
    n_traces: int | None = None,
    prior: float = 0.0,
    may_be_constant: Iterable[str] = (),
) -> Candidate:
    """Build the grid ``index`` (+ ``grid_overrides``) gives on the scanned headers, as ingestion would.

    Rejected (``accepted=False``, the verdict says why) when a dimension that must vary is constant, when all
    are, when two traces share a cell without HasDuplicates/NonBinned, when a dimension adds nothing (the others
    already give each trace its own cell), when grid overrides change nothing, or when the grid is so much
    larger than the trace count that ingestion would refuse it.
    """
    index = tuple(index)
    overrides = dict(grid_overrides or {})
    total = sample.n_traces if n_traces is None else n_traces
    allowed = set(may_be_constant)

    def reject(verdict: str, **kw: Any) -> Candidate:
        return Candidate(kind, index, overrides, False, verdict, prior=prior, **kw)

    raw_cols = {w.name: sample.column(w.byte, w.type) for w in index}
    uniques = {name: np.unique(col) for name, col in raw_cols.items()}
    constant = [w for w in index if uniques[w.name].size <= 1]
    if kind is GeometryKind.UNSTRUCTURED:
        constant = []  # a trace counter that never changes still works with HasDuplicates: the last resort
    if constant and len(constant) == len(index):
        return reject(f"{describe_words(constant)} never change{'s' if len(constant) == 1 else ''}")
    for word in constant:
        if word.name not in allowed or len(constant) > 1:
            value = uniques[word.name][0] if uniques[word.name].size else 0
            return reject(f"{word.name} (byte {word.byte}) is constant ({value})")
    try:
        rules = GridOverrides.parse(overrides)
        result = apply_grid_overrides(raw_cols, [w.name for w in index], rules)
    except GridOverrideError as exc:
        return reject(str(exc))
    cols = {name: np.asarray(result.columns[name]) for name in result.index_names}
    if rules.auto_channel_wrap and np.array_equal(cols["channel"], raw_cols["channel"]):
        return reject("AutoChannelWrap changes nothing: the channel numbers already restart on every cable")
    names = [w.name for w in index]
    inverse = {name: np.unique(cols[name], return_inverse=True) for name in names}
    keys = combined_key([inverse[n][1].reshape(-1) for n in names], [inverse[n][0].size for n in names])
    _, counts = np.unique(keys, return_counts=True)
    clashing = int(np.count_nonzero(counts > 1))
    implausible = False
    facts: list[DimensionFacts] = []
    for word in index:
        values = inverse[word.name][0]
        issue = None if kind is GeometryKind.UNSTRUCTURED else implausible_values(values)  # a sequence only counts
        implausible = implausible or issue is not None
        grouped = contiguity(inverse[word.name][1].reshape(-1), values.size, sample.block_starts) >= GROUPED_RATIO
        facts.append(
            DimensionFacts(
                word.name,
                word.byte,
                word.type,
                int(values.size),
                estimated_size(values, sample.sampled),
                int(values[0]),
                int(values[-1]),
                grouped and values.size > 1,
                issue,
            )
        )
    if rules.adds_trace_dimension:
        if clashing == 0:
            return reject(f"{_names(index)} already give every trace its own cell: no need for {_on(overrides)}")
        fold = int(counts.max())
        facts.append(DimensionFacts("trace", None, None, fold, fold, 1, fold, False))
    elif clashing:
        example = _clash_example(cols, names, keys, counts)
        return reject(
            f"{clashing} cells of {_names(index)} hold several traces (up to {int(counts.max())}), e.g. {example}",
            implausible=implausible,
        )
    else:
        redundant = _redundant(index, inverse, facts)
        if redundant is not None:
            return reject(
                f"{redundant.name} (byte {redundant.byte}) adds nothing: the other words already give every trace "
                "its own cell",
                implausible=implausible,
            )
    shape = tuple(f.size for f in facts)
    n_cells = math.prod(shape)
    fill = total / n_cells if n_cells else 0.0
    dims = tuple(f.name for f in facts)
    common: dict[str, Any] = {
        "dims": dims,
        "shape": shape,
        "n_cells": n_cells,
        "fill": fill,
        "facts": tuple(facts),
        "implausible": implausible,
    }
    settings = get_settings()
    if n_cells > settings.sparsity.error_ratio * max(total, 1):
        return reject(
            f"{shape_text(shape)} = {n_cells} cells for {total} traces (fill {fill:.1%}): too sparse, ingestion "
            f"refuses more than {settings.sparsity.error_ratio:g} cells per trace",
            **common,
        )
    verdict = f"{shape_text(shape)} = {n_cells} cells for {total} traces, fill {fill:.1%}"
    return Candidate(kind, index, overrides, True, verdict, prior=prior, **common)


def _redundant(
    index: Sequence[IndexWord], inverse: Mapping[str, tuple[np.ndarray, np.ndarray]], facts: Sequence[DimensionFacts]
) -> IndexWord | None:
    varying = [w for w, f in zip(index, facts, strict=False) if f.n_unique > 1]
    if len(varying) < 2:
        return None
    for word in varying:
        others = [w.name for w in index if w.name != word.name]
        keys = combined_key([inverse[n][1].reshape(-1) for n in others], [inverse[n][0].size for n in others])
        if np.unique(keys).size == keys.size:
            return word
    return None


def _clash_example(cols: Mapping[str, np.ndarray], names: Sequence[str], keys: np.ndarray, counts: np.ndarray) -> str:
    _, first = np.unique(keys, return_index=True)
    k = int(np.argmax(counts))
    trace = int(first[k])
    return "(" + ", ".join(f"{n}={cols[n][trace]}" for n in names) + f") x{int(counts[k])}"


def describe_words(index: Sequence[IndexWord]) -> str:
    """``inline (byte 189) and crossline (byte 193)``."""
    parts = [f"{w.name} (byte {w.byte}{'' if w.type == 'int32' else ', ' + w.type})" for w in index]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _names(index: Sequence[IndexWord]) -> str:
    return "/".join(f"{w.name} {w.byte}" for w in index)


def _on(overrides: Mapping[str, Any]) -> str:
    return ", ".join(k for k, v in overrides.items() if v is True) or "grid overrides"


def shape_text(shape: Sequence[int]) -> str:
    """``5 x 5 x 1``."""
    return " x ".join(str(s) for s in shape)
