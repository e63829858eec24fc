"""The pure geometry search of ``segy scan`` on plain arrays: cell keys, believable values, candidate verdicts,
ranking, explanations and confidence, without any file."""

from __future__ import annotations

import numpy as np
import pytest

from mdio_catalog.segy.scan import (
    Candidate,
    DimensionFacts,
    GeometryKind,
    HeaderSample,
    IndexWord,
    confidence,
    evaluate_candidate,
    explained,
    rank_candidates,
)
from mdio_catalog.segy.scan.arrays import combined_key, contiguity, estimated_size, implausible_values, within_blocks

IL, XL, OFF = IndexWord("inline", 189), IndexWord("crossline", 193), IndexWord("offset", 37)


def grid(n_il: int, n_xl: int, *, il0: int = 100, xl0: int = 1) -> dict[int, np.ndarray]:
    il, xl = np.meshgrid(np.arange(n_il) + il0, np.arange(n_xl) + xl0, indexing="ij")
    return {189: il.reshape(-1), 193: xl.reshape(-1)}


def accepted(kind: GeometryKind, n_unique: tuple[int, ...], *, fill: float = 1.0, prior: float = 0.0,
             grouped: bool = True, implausible: bool = False, overrides: dict | None = None) -> Candidate:  # fmt: skip
    facts = tuple(
        DimensionFacts(f"d{i}", 189 + 4 * i, "int32", n, n, 1, n, grouped and i == 0) for i, n in enumerate(n_unique)
    )
    return Candidate(
        kind,
        tuple(IndexWord(f.name, f.byte or 0) for f in facts),
        overrides or {},
        True,
        "ok",
        shape=n_unique,
        n_cells=int(np.prod(n_unique)),
        fill=fill,
        facts=facts,
        prior=prior,
        implausible=implausible,
    )


# --- arrays -----------------------------------------------------------------------------------------------------------
def test_combined_key_is_equal_exactly_when_all_ranks_are() -> None:
    a, b = np.array([0, 0, 1, 1, 0]), np.array([0, 1, 0, 1, 0])
    key = combined_key([a, b], [2, 2])
    assert key[0] == key[4]
    assert np.unique(key[:4]).size == 4
    huge = combined_key([a, b, a], [2**31, 2**31, 2**31])  # spans beyond int64 are re-ranked, not overflowed
    assert huge[0] == huge[4]
    assert np.unique(huge[:4]).size == 4


def test_contiguity_tells_grouped_from_interleaved_and_ignores_block_jumps() -> None:
    grouped = np.repeat(np.arange(4), 3)
    assert contiguity(grouped, 4, np.zeros(1, np.int64)) == 1.0
    assert contiguity(np.tile(np.arange(4), 3), 4, np.zeros(1, np.int64)) == pytest.approx(4 / 12)
    assert within_blocks(6, np.array([0, 3])).tolist() == [True, True, False, True, True]


def test_implausible_values_and_estimated_sizes() -> None:
    assert implausible_values(np.array([1, 2, 3])) is None
    assert "too large" in (implausible_values(np.array([1, 10**8])) or "")
    assert "multiple of 256" in (implausible_values(np.array([256, 512, 768])) or "")
    assert estimated_size(np.array([10, 20, 50]), sampled=False) == 3
    assert estimated_size(np.array([10, 20, 50]), sampled=True) == 5  # the progression 10, 20, ..., 50


# --- candidates on arrays ---------------------------------------------------------------------------------------------
def test_candidates_on_a_regular_grid() -> None:
    sample = HeaderSample.from_words(grid(3, 4))
    post = evaluate_candidate(sample, GeometryKind.POST_STACK_3D, (IL, XL))
    assert post.accepted
    assert post.shape == (3, 4)
    assert post.fill == 1.0
    assert all(f.grouped for f in post.facts[:1])
    only_il = evaluate_candidate(sample, GeometryKind.POST_STACK_2D, (IL,))
    assert not only_il.accepted
    assert "hold several traces" in only_il.verdict
    with_offset = evaluate_candidate(sample, GeometryKind.CDP_OFFSET_3D, (IL, XL, OFF))
    assert not with_offset.accepted
    assert "offset (byte 37) is constant" in with_offset.verdict
    allowed = evaluate_candidate(sample, GeometryKind.CDP_OFFSET_3D, (IL, XL, OFF), may_be_constant={"offset"})
    assert allowed.accepted
    assert allowed.shape == (3, 4, 1)


def test_duplicates_and_sparsity_verdicts() -> None:
    words = grid(3, 4)
    doubled = HeaderSample.from_words({b: np.repeat(v, 2) for b, v in words.items()})
    dup = evaluate_candidate(doubled, GeometryKind.POST_STACK_3D, (IL, XL), {"HasDuplicates": True})
    assert dup.accepted
    assert dup.shape == (3, 4, 2)
    assert dup.dims[-1] == "trace"
    diagonal = HeaderSample.from_words({189: np.arange(40), 193: np.arange(40) * 7})
    sparse = evaluate_candidate(diagonal, GeometryKind.POST_STACK_3D, (IL, XL))
    assert not sparse.accepted  # 40 x 40 cells for 40 traces: the other word adds nothing or it is too sparse


# --- ranking ----------------------------------------------------------------------------------------------------------
def test_ranking_order_of_the_rules() -> None:
    best = accepted(GeometryKind.POST_STACK_3D, (3, 4))
    fewer_dims = accepted(GeometryKind.POST_STACK_2D, (12,))
    implausible = accepted(GeometryKind.POST_STACK_3D, (3, 4), implausible=True)
    trace_axis = accepted(GeometryKind.POST_STACK_3D, (3, 4), overrides={"HasDuplicates": True})
    sparse = accepted(GeometryKind.POST_STACK_3D, (3, 4), fill=0.2)
    unsorted = accepted(GeometryKind.POST_STACK_3D, (3, 4), grouped=False)
    unconventional = accepted(GeometryKind.POST_STACK_3D, (3, 4), prior=2.0)
    rejected = Candidate(GeometryKind.POST_STACK_3D, (IL, XL), {}, False, "no")
    shuffled = [rejected, unconventional, implausible, unsorted, sparse, trace_axis, fewer_dims, best]
    ranked = rank_candidates(shuffled)
    assert ranked == [best, unconventional, unsorted, sparse, trace_axis, fewer_dims, implausible, rejected]
    assert ranked[-1].rank == (float("inf"),)


@pytest.mark.parametrize(
    ("loser", "why"),
    [
        (accepted(GeometryKind.POST_STACK_2D, (12,)), "fewer dimensions"),
        (accepted(GeometryKind.POST_STACK_3D, (3, 4), fill=0.2), "sparser"),
        (accepted(GeometryKind.POST_STACK_3D, (3, 4), prior=2.0), "less conventional"),
        (accepted(GeometryKind.POST_STACK_3D, (3, 4), implausible=True), "not believable"),
    ],
)
def test_explained_says_why_an_alternative_lost(loser: Candidate, why: str) -> None:
    best, loser = rank_candidates([accepted(GeometryKind.POST_STACK_3D, (3, 4)), loser])
    assert why in explained(loser, best, prestack=False).verdict


def test_confidence() -> None:
    best = accepted(GeometryKind.POST_STACK_3D, (3, 4))
    [ranked] = rank_candidates([best])
    assert confidence(ranked, [ranked], sampled=False) == 1.0
    assert confidence(ranked, [ranked], sampled=True) == 0.85
    rival = rank_candidates([best, accepted(GeometryKind.POST_STACK_3D, (4, 3), prior=0.5)])
    assert confidence(rival[0], rival, sampled=False) == 0.85
    [seq] = rank_candidates([accepted(GeometryKind.UNSTRUCTURED, (12,), prior=10.0)])
    assert confidence(seq, [seq], sampled=False) <= 0.5
