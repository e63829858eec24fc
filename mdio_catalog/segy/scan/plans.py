"""Step 2 of a scan, the search space: which index words to try on the headers, in what order of convention.

Standard bytes first (inline/crossline 189/193, CDP 21, offset 37, field record 9, source point 17, channel 13,
cable 137/213/217, trace sequence 5/1), 2-byte readings of 4-byte words that only make sense that way, every
pair of other varying standard words when no convention works, and HasDuplicates / NonBinned variants of
candidates that fail only because traces share cells.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

import numpy as np

from mdio_catalog.core.headers import TRACE_HEADER_FIELDS
from mdio_catalog.segy.scan.arrays import contiguity, estimated_size, implausible_values
from mdio_catalog.segy.scan.candidates import evaluate_candidate
from mdio_catalog.segy.scan.model import POST_STACK_KINDS, Candidate, GeometryKind, IndexWord
from mdio_catalog.segy.scan.ranking import GENERIC_PRIOR, rank_candidates
from mdio_catalog.segy.scan.sample import HeaderSample
from mdio_catalog.settings import get_settings


@dataclass(frozen=True)
class Plan:
    """A candidate index to evaluate, with its prior (lower: more conventional)."""

    kind: GeometryKind
    index: tuple[IndexWord, ...]
    overrides: Mapping[str, Any] = field(default_factory=dict)
    prior: float = 0.0
    may_be_constant: frozenset[str] = frozenset()


#: (inline byte, crossline byte, prior): the standard pair first, then conventions seen in the wild.
_LINE_PAIRS: Final = ((189, 193, 0.0), (9, 21, 2.0), (5, 21, 2.2), (9, 17, 2.4))
_CDP_WORDS: Final = ((21, 1.0),)
_OFFSET_WORDS: Final = ((37, 0.0),)
_SHOT_WORDS: Final = ((9, "shot", 1.0), (17, "shot_point", 1.1))
_CHANNEL_WORDS: Final = ((13, 0.0),)
_CABLE_WORDS: Final = ((137, 0.0), (213, 0.2), (217, 0.4))
_SEQUENCE_WORDS: Final = ((5, 10.0), (1, 10.2))
#: Extra prior of 2-byte readings of 4-byte words, of post-stack kinds when offsets vary, of shot kinds when
#: nothing says the data is pre-stack, and bonus of words the text header names.
_INT16_PENALTY: Final = 0.5
_KIND_MISMATCH: Final = 3.0
_TEXT_HINT_BONUS: Final = 0.5


def prestack_evidence(sample: HeaderSample) -> tuple[bool, str]:
    """Whether the headers say the data is pre-stack (offsets or source/receiver positions vary), and why."""
    offsets = np.unique(sample.column(37))
    if offsets.size > 1:
        return True, f"offsets (byte 37) vary ({offsets.size} values, {offsets[0]}..{offsets[-1]}): pre-stack data"
    src = np.stack([sample.column(73), sample.column(77)], axis=1)
    grp = np.stack([sample.column(81), sample.column(85)], axis=1)
    if np.unique(src, axis=0).shape[0] > 1 and np.unique(grp, axis=0).shape[0] > 1 and np.any(src != grp):
        return True, "source and receiver coordinates (73/77, 81/85) both vary and differ: pre-stack data"
    return False, f"offsets (byte 37) are constant ({offsets[0] if offsets.size else 0}): nothing says pre-stack"


def _bad_int32(sample: HeaderSample, byte: int) -> bool:
    return implausible_values(np.unique(sample.column(byte))) is not None


def _int16_variant(sample: HeaderSample, byte: int) -> bool:
    """The 2-byte reading of a 4-byte word is worth trying: the 4-byte one is implausible, the 2-byte one not."""
    if not _bad_int32(sample, byte):
        return False
    values = np.unique(sample.column(byte, "int16"))
    return values.size > 1 and implausible_values(values) is None


def _word_options(sample: HeaderSample, byte: int) -> list[tuple[str, float]]:
    options = [("int32", 0.0)]
    if _int16_variant(sample, byte):
        options.append(("int16", _INT16_PENALTY))
    return options


def standard_plans(sample: HeaderSample, prestack: bool, hints: Mapping[str, int]) -> list[Plan]:
    post_penalty = _KIND_MISMATCH if prestack else 0.0
    shot_penalty = 0.0 if prestack else _KIND_MISMATCH
    plans: list[Plan] = []
    line_pairs: list[tuple[IndexWord, IndexWord, float]] = []
    for il_byte, xl_byte, prior in _LINE_PAIRS:
        hinted = hints.get("inline") == il_byte and hints.get("crossline") == xl_byte
        bonus = _TEXT_HINT_BONUS if prior > 0 and hinted else 0.0
        for il_type, il_pen in _word_options(sample, il_byte):
            for xl_type, xl_pen in _word_options(sample, xl_byte):
                pair_prior = prior + il_pen + xl_pen - bonus
                il = IndexWord("inline", il_byte, il_type)
                line_pairs.append((il, IndexWord("crossline", xl_byte, xl_type), pair_prior))
    lines_constant = frozenset({"inline", "crossline"})
    for il, xl, prior in line_pairs:
        plans.append(Plan(GeometryKind.POST_STACK_3D, (il, xl), {}, prior + post_penalty, lines_constant))
        for off_byte, off_prior in _OFFSET_WORDS:
            offset = IndexWord("offset", off_byte)
            plans.append(Plan(GeometryKind.CDP_OFFSET_3D, (il, xl, offset), {}, prior + off_prior, lines_constant))
    for cdp_byte, cdp_prior in _CDP_WORDS:
        cdp = IndexWord("cdp", cdp_byte)
        plans.append(Plan(GeometryKind.POST_STACK_2D, (cdp,), {}, cdp_prior + post_penalty))
        for off_byte, off_prior in _OFFSET_WORDS:
            plans.append(
                Plan(GeometryKind.CDP_OFFSET_2D, (cdp, IndexWord("offset", off_byte)), {}, cdp_prior + off_prior)
            )
    for shot_byte, shot_name, shot_prior in _SHOT_WORDS:
        shot = IndexWord(shot_name, shot_byte)
        for ch_byte, ch_prior in _CHANNEL_WORDS:
            channel = IndexWord("channel", ch_byte)
            base = shot_prior + ch_prior + shot_penalty
            plans.append(Plan(GeometryKind.SHOT_GATHERS_2D, (shot, channel), {}, base, frozenset({shot_name})))
            for cable_byte, cable_prior in _CABLE_WORDS:
                cable = IndexWord("cable", cable_byte, "int16")
                words = (shot, cable, channel)
                plans.append(
                    Plan(GeometryKind.STREAMER_SHOTS_WRAPPED, words, {}, base + cable_prior, frozenset({shot_name}))
                )
                plans.append(
                    Plan(
                        GeometryKind.STREAMER_SHOTS_UNWRAPPED,
                        words,
                        {"AutoChannelWrap": True},
                        base + cable_prior,
                        frozenset({shot_name}),
                    )
                )
    for seq_byte, seq_prior in _SEQUENCE_WORDS:
        plans.append(Plan(GeometryKind.UNSTRUCTURED, (IndexWord("trace_sequence", seq_byte),), {}, seq_prior))
    return plans


#: Standard words never tried as generic index words: samples per trace and sample interval.
_NOT_KEYS: Final = frozenset({115, 117})
#: At most this many distinct varying words take part in the generic pair search.
_GENERIC_WORDS: Final = 24


def generic_plans(sample: HeaderSample, covered: set[tuple[tuple[int, str], ...]], n_traces: int) -> list[Plan]:
    """Post-stack pairs of any two varying standard words (identical columns once) that could give a unique,
    not too sparse grid, the word the file is grouped by first."""
    words: list[tuple[IndexWord, np.ndarray, float]] = []
    seen: list[np.ndarray] = []
    for _, kind, byte in TRACE_HEADER_FIELDS:
        if kind not in ("int16", "int32") or byte in _NOT_KEYS:
            continue
        col = sample.column(byte, kind)
        unique, inverse = np.unique(col, return_inverse=True)
        if not 1 < unique.size < sample.size or implausible_values(unique) is not None:
            continue
        if any(np.array_equal(col, other) for other in seen):
            continue
        seen.append(col)
        grouping = contiguity(inverse.reshape(-1), unique.size, sample.block_starts)
        words.append((IndexWord("w", byte, kind), unique, grouping))
        if len(words) >= _GENERIC_WORDS:
            break
    limit = get_settings().sparsity.error_ratio * max(n_traces, 1)
    plans = []
    for i, (a, ua, ga) in enumerate(words):
        for b, ub, gb in words[i + 1 :]:
            cells = estimated_size(ua, sample.sampled) * estimated_size(ub, sample.sampled)
            if not n_traces <= cells <= limit:
                continue
            first, second = (a, b) if ga >= gb else (b, a)
            index = (IndexWord("inline", first.byte, first.type), IndexWord("crossline", second.byte, second.type))
            if tuple((w.byte, w.type) for w in index) in covered:
                continue
            plans.append(Plan(GeometryKind.POST_STACK_3D, index, {}, GENERIC_PRIOR))
    return plans


def with_duplicate_variants(
    sample: HeaderSample, plans: Sequence[Plan], results: list[Candidate], prestack: bool, n_traces: int
) -> list[Candidate]:
    """Add HasDuplicates / NonBinned versions of candidates rejected only because traces share cells."""
    by_key = {(p.kind, p.index, tuple(sorted(p.overrides.items()))): p for p in plans}
    extra: list[Candidate] = []
    for r in results:
        if r.accepted or "hold several traces" not in r.verdict:
            continue
        plan = by_key[(r.kind, r.index, tuple(sorted(r.grid_overrides.items())))]
        kind, overrides = r.kind, {**plan.overrides, "HasDuplicates": True}
        if prestack and kind in POST_STACK_KINDS:
            kind = GeometryKind.CDP_OFFSET_3D if kind is GeometryKind.POST_STACK_3D else GeometryKind.CDP_OFFSET_2D
            overrides = {**plan.overrides, "NonBinned": True, "chunksize": 64}
        if "AutoChannelWrap" in plan.overrides and ("HasDuplicates" in overrides):
            continue  # keep duplicate variants to plain indexes: enough alternatives already
        extra.append(
            evaluate_candidate(
                sample,
                kind,
                plan.index,
                overrides,
                n_traces=n_traces,
                prior=plan.prior + 0.5,
                may_be_constant=plan.may_be_constant,
            )
        )
    fixed = [
        replace(c, grid_overrides={**c.grid_overrides, "chunksize": max(1, min(64, c.shape[-1]))})
        if c.accepted and c.grid_overrides.get("NonBinned")
        else c
        for c in extra
    ]
    return rank_candidates([*results, *fixed])
