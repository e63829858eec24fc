"""Pure numpy helpers of the geometry search: combined cell keys, sort order, sizes, believable values.

No I/O and no SEG-Y knowledge: every function takes plain arrays, so the rules are testable on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

#: Index values this large are not line, record or channel numbers.
PLAUSIBLE_LIMIT: Final = 10**7
#: A dimension whose values come in this few runs (distinct values / runs) is one the file is sorted by.
GROUPED_RATIO: Final = 0.9


def within_blocks(n: int, block_starts: np.ndarray) -> npt.NDArray[np.bool_]:
    """For each pair of neighbours (i-1, i), True when both lie in the same sampled block."""
    keep = np.ones(max(n - 1, 0), dtype=bool)
    starts = block_starts[(block_starts > 0) & (block_starts < n)]
    keep[starts - 1] = False
    return keep


def combined_key(ranks: Sequence[np.ndarray], sizes: Sequence[int]) -> npt.NDArray[np.int64]:
    """One int64 per trace that is equal exactly when all the ranks are."""
    n = ranks[0].size if ranks else 0
    key = np.zeros(n, dtype=np.int64)
    span = 1
    for rank, count in zip(ranks, sizes, strict=True):
        size = max(int(count), 1)
        if span * size >= 2**62:
            _, key = np.unique(key, return_inverse=True)
            key = key.reshape(-1).astype(np.int64)
            span = int(key.max()) + 1 if key.size else 1
        key = key * size + rank.astype(np.int64)
        span *= size
    return key


def contiguity(inverse: np.ndarray, n_unique: int, block_starts: np.ndarray) -> float:
    """Distinct values / runs of equal values in file order (1.0: the file is sorted or grouped by this word)."""
    if inverse.size == 0:
        return 0.0
    changes = (inverse[1:] != inverse[:-1]) & within_blocks(inverse.size, block_starts)
    runs = 1 + int(np.count_nonzero(changes))
    return min(1.0, n_unique / runs)


def estimated_size(values: np.ndarray, sampled: bool) -> int:
    """Distinct values; for a sample, the count of the regular progression they lie on (when it is not far off)."""
    count = int(values.size)
    if not sampled or count < 2:
        return count
    ints = values.astype(np.int64)
    step = int(np.gcd.reduce(np.diff(ints)))
    if step <= 0:
        return count
    span = int((ints[-1] - ints[0]) // step) + 1
    return span if span <= 4 * count else count


def implausible_values(values: np.ndarray) -> str | None:
    """Why sorted distinct ``values`` cannot be line, record, channel or offset numbers (None: they can)."""
    if values.size == 0:
        return None
    big = max(abs(int(values[0])), abs(int(values[-1])))
    if big >= PLAUSIBLE_LIMIT:
        return f"values reach {big}: too large for line, record or channel numbers"
    nonzero = values[values != 0].astype(np.int64)
    if values.size >= 2 and nonzero.size and np.all(nonzero % 256 == 0):
        return "every value is a multiple of 256: the word looks byte-swapped or holds a 2-byte number"
    return None
