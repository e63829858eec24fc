"""Step 2 of a scan, put together: propose how to index a file from its header summary.

Every candidate of :mod:`~mdio_catalog.segy.scan.plans` is evaluated on the scanned headers as ingestion would
(:mod:`~mdio_catalog.segy.scan.candidates`), the working ones are ranked (:mod:`~mdio_catalog.segy.scan.ranking`),
and the best becomes a :class:`GeometryProposal` with its shape, fill, confidence, reasons and every alternative
with why it lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from mdio_catalog.exceptions import SegyError
from mdio_catalog.segy.scan.candidates import evaluate_candidate
from mdio_catalog.segy.scan.model import Candidate, DimensionFacts, GeometryKind, IndexWord
from mdio_catalog.segy.scan.plans import generic_plans, prestack_evidence, standard_plans, with_duplicate_variants
from mdio_catalog.segy.scan.ranking import confidence as score_confidence
from mdio_catalog.segy.scan.ranking import explained, rank_candidates, weak
from mdio_catalog.segy.scan.reasons import proposal_reasons
from mdio_catalog.segy.scan.sample import Endian, HeaderSample
from mdio_catalog.segy.scan.summary import HeaderSummary
from mdio_catalog.segy.scan.text import guess_domain, text_byte_hints


@dataclass(frozen=True)
class GeometryProposal:
    """The proposed geometry of a file: kind, index words, grid overrides and the grid they give.

    ``dims``/``shape`` are the spatial dimensions as ingestion makes them (the 'trace' axis of HasDuplicates /
    NonBinned included, the sample axis not: see :attr:`full_shape`). ``fill`` is traces / cells.
    ``alternatives`` are the other candidates, best first, each with its verdict.
    """

    kind: GeometryKind
    index: tuple[IndexWord, ...]
    grid_overrides: Mapping[str, Any]
    dims: tuple[str, ...]
    shape: tuple[int, ...]
    n_traces: int
    n_samples: int
    n_cells: int
    fill: float
    confidence: float
    reasons: tuple[str, ...]
    alternatives: tuple[Candidate, ...]
    domain: Literal["time", "depth"] = "time"
    endian: Endian = "big"
    sample_format: int | None = None
    sampled: bool = False
    dimensions: tuple[DimensionFacts, ...] = ()

    @property
    def index_bytes(self) -> tuple[int, ...]:
        return tuple(w.byte for w in self.index)

    @property
    def index_shape(self) -> tuple[int, ...]:
        """Sizes of the index dimensions only (without the 'trace' axis of HasDuplicates / NonBinned)."""
        return self.shape[: len(self.index)]

    @property
    def full_shape(self) -> tuple[int, ...]:
        """Shape of the ingested data: the spatial shape plus the sample axis."""
        return (*self.shape, self.n_samples)

    @property
    def confidence_label(self) -> str:
        return "high" if self.confidence >= 0.8 else "medium" if self.confidence >= 0.5 else "low"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "kind_label": self.kind.label,
            "index": [w.to_dict() for w in self.index],
            "grid_overrides": dict(self.grid_overrides),
            "dims": list(self.dims),
            "shape": list(self.shape),
            "index_shape": list(self.index_shape),
            "full_shape": list(self.full_shape),
            "n_traces": self.n_traces,
            "n_cells": self.n_cells,
            "fill": self.fill,
            "confidence": self.confidence,
            "confidence_label": self.confidence_label,
            "domain": self.domain,
            "endian": self.endian,
            "sample_format": self.sample_format,
            "sampled": self.sampled,
            "reasons": list(self.reasons),
            "dimensions": [d.to_dict() for d in self.dimensions],
            "alternatives": [a.to_dict() for a in self.alternatives],
        }


def propose_geometry(summary: HeaderSummary, columns: HeaderSample | None = None) -> GeometryProposal:
    """Propose how to index the file ``summary`` describes.

    ``columns`` are the scanned headers (default: the ones the summary kept). Every candidate index is
    evaluated on them exactly as ingestion would (grid overrides applied, duplicates and sparsity checked), the
    working ones are ranked, and the best becomes the proposal; see the module docstring for the ranking.
    """
    sample = columns if columns is not None else summary.headers
    if sample is None:
        raise ValueError("the summary keeps no headers; pass the columns (a HeaderSample) explicitly")
    n_traces = summary.n_traces
    domain, domain_reason = guess_domain(summary.text_lines)
    hints = text_byte_hints(summary.text_lines)
    check = summary.format_check
    common: dict[str, Any] = {
        "n_traces": n_traces,
        "n_samples": summary.n_samples,
        "domain": domain,
        "endian": summary.endian,
        "sample_format": check.suggested if check is not None else None,
        "sampled": sample.sampled,
    }
    extra: list[str] = []
    if check is not None and check.suggested is not None:
        extra.append(f"Sample format {check.suggested} proposed: {check.evidence}.")
    if sample.size <= 1:
        return _trivial_proposal(sample, common, domain_reason, extra)

    prestack, prestack_reason = prestack_evidence(sample)
    plans = standard_plans(sample, prestack, hints)
    evaluated = [
        evaluate_candidate(
            sample, p.kind, p.index, p.overrides, n_traces=n_traces, prior=p.prior, may_be_constant=p.may_be_constant
        )
        for p in plans
    ]
    results = rank_candidates(evaluated)
    results = with_duplicate_variants(sample, plans, results, prestack, n_traces)
    accepted = [r for r in results if r.accepted]
    if not accepted:  # cannot happen: the unstructured fallback always works
        raise SegyError(f"{summary.url}: no index gives a usable grid")
    if weak(accepted[0]):  # no standard word gives a clean grid: try every other pair of standard words
        covered = {tuple((w.byte, w.type) for w in r.index) for r in results}
        generic = [
            evaluate_candidate(sample, p.kind, p.index, n_traces=n_traces, prior=p.prior)
            for p in generic_plans(sample, covered, n_traces)
        ]
        results = rank_candidates([*results, *generic])
        accepted = [r for r in results if r.accepted]
    best = accepted[0]
    reasons = proposal_reasons(summary, sample, best, results, prestack_reason, hints)
    reasons += [domain_reason, *extra]
    if sample.sampled:
        reasons.append(
            f"Only {sample.size} of {n_traces} traces were scanned: sizes are estimated from the sample (regular "
            "line numbering assumed); run ingestion's own checks before trusting the shape."
        )
    return GeometryProposal(
        kind=best.kind,
        index=best.index,
        grid_overrides=dict(best.grid_overrides),
        dims=best.dims,
        shape=best.shape,
        n_cells=best.n_cells,
        fill=best.fill,
        confidence=score_confidence(best, accepted, sample.sampled),
        reasons=tuple(reasons),
        alternatives=tuple(explained(r, best, prestack) for r in results if r is not best),
        dimensions=best.facts,
        **common,
    )


def _trivial_proposal(
    sample: HeaderSample, common: Mapping[str, Any], domain_reason: str, extra: list[str]
) -> GeometryProposal:
    """Zero or one trace: nothing varies, so nothing tells geometries apart."""
    n = sample.size
    il, xl = (sample.column(189), sample.column(193)) if n else (np.zeros(0), np.zeros(0))
    lines_ok = n == 1 and all(abs(int(c[0])) < 10**6 for c in (il, xl))
    index: tuple[IndexWord, ...]
    dims: tuple[str, ...]
    shape: tuple[int, ...]
    if lines_ok:
        kind, index = GeometryKind.POST_STACK_3D, (IndexWord("inline", 189), IndexWord("crossline", 193))
        why = (
            f"A single trace: nothing varies, so nothing tells geometries apart; it sits at inline {int(il[0])}, "
            f"crossline {int(xl[0])} (bytes 189/193, the standard position), a 1 x 1 grid."
        )
        dims, shape = ("inline", "crossline"), (1, 1)
    else:
        kind, index = GeometryKind.UNSTRUCTURED, (IndexWord("trace_sequence", 5),)
        why = (
            "A single trace whose inline/crossline words (189/193) hold no believable line numbers: indexed by its "
            "trace sequence number (byte 5)."
            if n
            else "The file holds no traces."
        )
        dims, shape = ("trace_sequence",), (n,)
    values = [int(sample.column(w.byte)[0]) if n else 0 for w in index]
    facts = tuple(DimensionFacts(w.name, w.byte, w.type, n, n, v, v, True) for w, v in zip(index, values, strict=True))
    return GeometryProposal(
        kind=kind,
        index=index,
        grid_overrides={},
        dims=dims,
        shape=shape,
        n_cells=int(np.prod(shape)),
        fill=1.0 if n else 0.0,
        confidence=0.3 if n else 0.0,
        reasons=(why, domain_reason, *extra),
        alternatives=(),
        dimensions=facts,
        **common,
    )
