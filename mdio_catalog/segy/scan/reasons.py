"""The reasons a geometry proposal gives: why the winner won, in sentences a user can check against the survey.

Pure: the scanned headers and the ranked candidates in, a list of sentences out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from mdio_catalog.segy.scan.candidates import describe_words
from mdio_catalog.segy.scan.model import Candidate
from mdio_catalog.segy.scan.ranking import GENERIC_PRIOR, adds_trace_axis
from mdio_catalog.segy.scan.sample import HeaderSample
from mdio_catalog.segy.scan.summary import HeaderSummary


def proposal_reasons(
    summary: HeaderSummary,
    sample: HeaderSample,
    best: Candidate,
    results: Sequence[Candidate],
    prestack_reason: str,
    hints: Mapping[str, int],
) -> list[str]:
    """Why ``best`` is the proposal, what its grid holds, and what else would work."""
    out = [f"{best.kind.label}: {describe_words(best.index)} give {best.verdict}."]
    if best.prior >= GENERIC_PRIOR:
        out.append(
            "No conventional index word gives a clean grid; these two standard words do, so they are proposed as "
            "inline/crossline - check the names against the survey's documentation."
        )
    holes = best.fill < 1.0 and not adds_trace_axis(best)
    if holes:
        missing = "Some" if sample.sampled else str(best.n_cells - summary.n_traces)
        out.append(f"{missing} cells have no trace (missing traces are fine: the live mask records them).")
    out.append(prestack_reason[0].upper() + prestack_reason[1:] + ".")
    if not sample.column(189).any() and not sample.column(193).any():
        out.append("Bytes 189/193 (inline/crossline) are empty (all zero): other words carry the geometry.")
    elif any(w.byte in (189, 193) and w.type == "int16" for w in best.index):
        out.append(
            "Bytes 189/193 hold 2-byte numbers: read as 4-byte words they give implausible values, read as int16 "
            "they give line numbers."
        )
    for fact in best.facts:
        if fact.issue:
            out.append(f"{fact.name} (byte {fact.byte}): {fact.issue}; no believable alternative worked.")
    grouped = [f.name for f in best.facts if f.grouped]
    if grouped:
        out.append(f"The traces are grouped by {grouped[0]} (the file is sorted by it).")
    elif best.varying:
        out.append("The traces are in no particular order of the index words (shuffled or interleaved).")
    overrides = dict(best.grid_overrides)
    if overrides.get("AutoChannelWrap"):
        per_cable = _channels_per_cable(sample, best)
        out.append(
            "Channel numbers run on across cables; AutoChannelWrap renumbers them from 1 on every cable"
            + (f" (or ChannelWrap with ChannelsPerCable: {per_cable})." if per_cable else ".")
        )
    if overrides.get("HasDuplicates"):
        out.append(
            "Some traces share an index tuple and no header word tells them apart: HasDuplicates adds a 'trace' axis "
            "counting them."
        )
    if overrides.get("NonBinned"):
        out.append(
            "Offsets are not binned (each gather has its own): NonBinned indexes the gathers and adds a 'trace' axis "
            "for the traces of each."
        )
    if hints:
        out.append(_hint_reason(hints, best, results))
    same = [c for c in results if c is not best and c.accepted and c.rank[:2] == best.rank[:2]]
    if same:
        out.append(f"Also works, ranked lower: {same[0].describe()} ({same[0].verdict}).")
    return out


def _hint_reason(hints: Mapping[str, int], best: Candidate, results: Sequence[Candidate]) -> str:
    named = "the text header names " + ", ".join(f"{k} at byte {v}" for k, v in sorted(hints.items()))
    hinted = set(hints.values())
    if hinted <= set(best.index_bytes):
        return named[0].upper() + named[1:] + ": agreed."
    if any(c.accepted and hinted <= set(c.index_bytes) for c in results):
        return f"Also, {named}: they give a usable grid too, ranked below the proposal (see the alternatives)."
    return f"Note: {named}, but those words give no usable grid here."


def _channels_per_cable(sample: HeaderSample, best: Candidate) -> int | None:
    cable = next(w for w in best.index if w.name == "cable")
    channel = next(w for w in best.index if w.name == "channel")
    cab, ch = sample.column(cable.byte, cable.type), sample.column(channel.byte, channel.type).astype(np.int64)
    counts = {int(c): np.unique(ch[cab == c]) for c in np.unique(cab)}
    sizes = {v.size for v in counts.values()}
    lows = sorted(int(v[0]) for v in counts.values())
    if len(sizes) != 1:
        return None
    size = sizes.pop()
    return size if lows == [1 + k * size for k in range(len(lows))] else None
