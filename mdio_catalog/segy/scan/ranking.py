"""Step 2b of a scan: rank evaluated candidates, explain why each alternative lost, and score the winner.

Pure functions of :class:`Candidate` values (no headers, no I/O): the order is believable values first, then as
many varying dimensions as the traces support, no 'trace' axis, a dense grid, the file's sort order, and last the
prior of conventions (standard byte positions first).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Final

from mdio_catalog.segy.scan.model import POST_STACK_KINDS, SHOT_KINDS, Candidate, GeometryKind
from mdio_catalog.specs.grid_overrides import GridOverrides

#: Below this fill (traces / cells) a grid counts as sparse.
DENSE_FILL: Final = 0.5
#: Prior of generic pairs: below every standard convention, above unstructured.
GENERIC_PRIOR: Final = 6.0


def adds_trace_axis(candidate: Candidate) -> bool:
    """The candidate's grid overrides (HasDuplicates / NonBinned) add a 'trace' dimension."""
    return bool(GridOverrides.parse(candidate.grid_overrides).adds_trace_dimension)


def rank_candidates(results: Sequence[Candidate]) -> list[Candidate]:
    """``results`` best first, each with its rank key set (rejected ones last, in their order)."""
    ranked = []
    for r in results:
        rank: tuple[float, ...]
        if r.accepted:
            rank = (
                float(r.implausible),
                -float(r.varying),
                float(adds_trace_axis(r)),
                float(r.fill < DENSE_FILL),
                float(not any(f.grouped for f in r.facts)),
                r.prior,
            )
        else:
            rank = (math.inf,)
        ranked.append(replace(r, rank=rank))
    return sorted(ranked, key=lambda c: (c.rank, c.prior))


def weak(best: Candidate) -> bool:
    """No standard index gives a clean grid: the best is a trace sequence or needs a 'trace' axis."""
    return best.kind is GeometryKind.UNSTRUCTURED or adds_trace_axis(best)


def explained(candidate: Candidate, best: Candidate, prestack: bool) -> Candidate:
    """An accepted alternative with the reason it ranks below ``best`` added to its verdict."""
    if not candidate.accepted:
        return candidate
    why = "ranked lower: "
    a, b = candidate.rank, best.rank
    if a[0] > b[0]:
        why += "its values are not believable line, record or channel numbers"
    elif a[1] > b[1]:
        why += f"it explains fewer dimensions ({candidate.varying} varying vs {best.varying})"
    elif a[2] > b[2]:
        why += "it needs a 'trace' axis (HasDuplicates/NonBinned) where the proposal gives every trace its own cell"
    elif a[3] > b[3]:
        why += f"its grid is sparser (fill {candidate.fill:.0%} vs {best.fill:.0%})"
    elif a[4] > b[4]:
        why += "the file is not sorted by any of its words, while it is by the proposal's"
    elif prestack and candidate.kind in POST_STACK_KINDS:
        why += "a post-stack geometry, but the offsets vary"
    elif not prestack and candidate.kind in SHOT_KINDS:
        why += "shot gathers, but nothing says the data is pre-stack"
    else:
        why += "less conventional words for this geometry (standard positions first)"
    return replace(candidate, verdict=f"{candidate.verdict}; {why}")


def confidence(best: Candidate, accepted: Sequence[Candidate], sampled: bool) -> float:
    """How sure the proposal is (0.05-1): lowered by every weakness of ``best`` and by equally good rivals."""
    score = 1.0
    if best.implausible:
        score -= 0.4
    if adds_trace_axis(best):
        score -= 0.2
    if best.fill < DENSE_FILL:
        score -= 0.25
    elif best.fill < 0.9:
        score -= 0.1
    if not any(f.grouped for f in best.facts):
        score -= 0.1
    if best.prior >= GENERIC_PRIOR:
        score -= 0.35
    elif best.prior >= 2:
        score -= 0.15
    if sampled:
        score -= 0.15
    rivals = [
        c
        for c in accepted[1:]
        if c.rank[:5] == best.rank[:5] and c.prior - best.prior < 1.0 and (c.kind, c.shape) != (best.kind, best.shape)
    ]
    if rivals:
        score -= 0.15
    if best.kind is GeometryKind.UNSTRUCTURED:
        score = min(score, 0.5)
    return round(max(0.05, min(1.0, score)), 2)
