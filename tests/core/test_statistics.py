"""SummaryStatistics against numpy on the same arrays."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from mdio_catalog.core.statistics import SummaryStatistics, empty_stats

KEYS = {"mean", "std", "rms", "min", "max"}


def numpy_stats(values: np.ndarray) -> dict[str, float]:
    v = values.astype(np.float64)
    return {
        "mean": float(np.mean(v)),
        "std": float(np.std(v)),
        "rms": float(np.sqrt(np.mean(v * v))),
        "min": float(np.min(v)),
        "max": float(np.max(v)),
    }


def assert_stats_close(actual: dict[str, float], expected: dict[str, float], rtol: float = 1e-9) -> None:
    assert set(actual) == KEYS
    for key in KEYS:
        assert actual[key] == pytest.approx(expected[key], rel=rtol, abs=1e-12), key


@pytest.fixture
def data() -> np.ndarray:
    rng = np.random.default_rng(1234)
    values = rng.normal(loc=0.3, scale=2.0, size=(7, 11, 50)).astype(np.float32)
    values[rng.random(values.shape) < 0.3] = 0.0  # dead samples / padding
    values[2] = 0.0  # a whole dead line
    return values


def test_of_matches_numpy_over_nonzero_samples(data):
    stats = SummaryStatistics.of(data)
    nonzero = data[data != 0]
    assert stats.count == np.count_nonzero(data)
    assert_stats_close(stats.to_dict(), numpy_stats(nonzero))


def test_zeros_are_excluded(data):
    # Adding more zeros changes nothing when zeros are excluded.
    padded = np.concatenate([data.ravel(), np.zeros(1000, dtype=data.dtype)])
    assert SummaryStatistics.of(padded).to_dict() == pytest.approx(SummaryStatistics.of(data).to_dict())


def test_nonzero_only_false_counts_zeros(data):
    stats = SummaryStatistics.of(data, nonzero_only=False)
    assert stats.count == data.size
    assert_stats_close(stats.to_dict(), numpy_stats(data.ravel()))


def test_merging_blocks_equals_whole(data):
    flat = data.ravel()
    cuts = [0, 13, 400, 401, 2000, flat.size]
    merged = SummaryStatistics()
    for start, stop in itertools.pairwise(cuts):
        merged = merged + SummaryStatistics.of(flat[start:stop])
    whole = SummaryStatistics.of(data)
    assert merged.count == whole.count
    assert_stats_close(merged.to_dict(), numpy_stats(data[data != 0]))


def test_merge_is_order_independent(data):
    a, b, c = (SummaryStatistics.of(part) for part in np.array_split(data, 3, axis=0))
    assert_stats_close(((a + b) + c).to_dict(), (c + (b + a)).to_dict())


def test_merging_with_empty_block_changes_nothing(data):
    block = SummaryStatistics.of(data)
    empty = SummaryStatistics.of(np.zeros(10, dtype=np.float32))
    assert_stats_close((block + empty).to_dict(), block.to_dict())
    assert_stats_close((empty + block).to_dict(), block.to_dict())


@pytest.mark.parametrize("values", [np.zeros((4, 5, 6), dtype=np.float32), np.array([], dtype=np.float32)])
def test_all_zero_or_empty_gives_zeros(values):
    stats = SummaryStatistics.of(values)
    assert stats.count == 0
    result = stats.to_dict()
    assert result == {"mean": 0.0, "std": 0.0, "rms": 0.0, "min": 0.0, "max": 0.0}
    assert not any(math.isnan(v) or math.isinf(v) for v in result.values())


def test_default_instance_and_empty_stats_are_zero():
    assert SummaryStatistics().to_dict() == dict.fromkeys(KEYS, 0.0)
    assert empty_stats() == dict.fromkeys(KEYS, 0.0)


def test_constant_block_has_zero_std():
    stats = SummaryStatistics.of(np.full(1000, -3.5, dtype=np.float32)).to_dict()
    assert stats["std"] == pytest.approx(0.0, abs=1e-12)
    assert stats["mean"] == stats["min"] == stats["max"] == -3.5
    assert stats["rms"] == pytest.approx(3.5)


def test_large_offset_float32_keeps_precision():
    # float64 accumulation and Chan's merge of squared deviations: the textbook SS/N - mean**2 (~1e8 - 1e8) would
    # lose ~8 digits of the variance here; merged blocks must stay as accurate as numpy on the whole array.
    rng = np.random.default_rng(7)
    values = (1.0e4 + rng.normal(size=1_000_000)).astype(np.float32)
    actual = SummaryStatistics.of(values).to_dict()
    expected = numpy_stats(values)
    for key in ("mean", "rms", "min", "max"):
        assert actual[key] == pytest.approx(expected[key], rel=1e-9), key
    assert actual["std"] == pytest.approx(expected["std"], rel=1e-9)
    merged = SummaryStatistics()
    for block in np.array_split(values, 7):
        merged = merged + SummaryStatistics.of(block)
    assert merged.to_dict()["std"] == pytest.approx(expected["std"], rel=1e-9)
    assert merged.to_dict()["mean"] == pytest.approx(expected["mean"], rel=1e-12)


def test_integer_input(data):
    ints = np.array([[0, 3, -2], [5, 0, 0]], dtype=np.int16)
    assert_stats_close(SummaryStatistics.of(ints).to_dict(), numpy_stats(np.array([3, -2, 5])))


def test_to_dict_is_json_plain_floats(data):
    result = SummaryStatistics.of(data).to_dict()
    assert all(type(v) is float for v in result.values())
    assert json.loads(json.dumps(result)) == result
