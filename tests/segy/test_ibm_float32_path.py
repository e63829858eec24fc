"""The float32 IBM encoder (integer passes) against the float64 encoder and against exact decoding."""

from __future__ import annotations

import numpy as np

from mdio_catalog.segy.ibm import float_to_ibm, ibm_to_float


def test_float32_path_gives_the_float64_paths_words_for_every_kind_of_value() -> None:
    rng = np.random.default_rng(11)
    bits = rng.integers(0, 2**32, 500_000, dtype=np.uint64).astype(np.uint32)  # normals, subnormals, inf, NaN
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 3.4028235e38, 1.0, -1.0], np.float32)
    values = np.concatenate([bits.view(np.float32), specials])
    np.testing.assert_array_equal(float_to_ibm(values), float_to_ibm(values.astype(np.float64)))


def test_ibm_words_survive_decode_then_float32_encode() -> None:
    rng = np.random.default_rng(12)
    exponents = rng.integers(33, 97, 200_000, dtype=np.uint32)  # the range float32 normals map into
    mantissas = rng.integers(1 << 20, 1 << 24, 200_000, dtype=np.uint32)  # normalised
    signs = rng.integers(0, 2, 200_000, dtype=np.uint32) << 31
    words = signs | (exponents << 24) | mantissas
    decoded = ibm_to_float(words)
    normal = np.abs(decoded) >= np.finfo(np.float32).tiny
    np.testing.assert_array_equal(float_to_ibm(decoded)[normal], words[normal])
