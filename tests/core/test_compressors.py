"""Compressors: the Blosc/zstd settings of the v0 layout and ZFP fixed accuracy."""

from __future__ import annotations

import numpy as np
import pytest
import zfpy
from numcodecs import Blosc

from mdio_catalog.core.compressors import lossless_compressor, lossy_compressor, trace_compressor


def test_lossless_default_is_blosc_zstd_1_shuffle_with_1mib_blocks():
    config = lossless_compressor().get_config()
    assert config["id"] == "blosc"
    assert config["cname"] == "zstd"
    assert config["clevel"] == 1
    assert config["shuffle"] == Blosc.SHUFFLE == 1
    assert config["blocksize"] == 2**20


def test_settings_reproduce_the_reference_codec(monkeypatch):
    from mdio_catalog.core.compressors import REFERENCE_LOSSLESS
    from mdio_catalog.settings import get_settings

    monkeypatch.setenv("MDIO_CATALOG_LOSSLESS_CLEVEL", "5")
    monkeypatch.setenv("MDIO_CATALOG_LOSSLESS_BLOCKSIZE", "0")
    get_settings.cache_clear()
    try:
        config = lossless_compressor().get_config()
    finally:
        get_settings.cache_clear()
    assert config == {"id": "blosc", **REFERENCE_LOSSLESS}
    assert config == {"id": "blosc", "cname": "zstd", "clevel": 5, "shuffle": 1, "blocksize": 0}


def test_default_is_no_larger_than_the_reference_codec_on_seismic_like_chunks():
    # Band-limited noise (the hardest case for lossless float compression) in a 1 MiB chunk.
    rng = np.random.default_rng(3)
    kernel = np.exp(-np.linspace(-3, 3, 15) ** 2)
    noise = rng.normal(size=(64 * 64, 64 + 14))
    traces = np.stack([np.convolve(t, kernel, "valid") for t in noise]).astype("<f4").reshape(64, 64, 64) * 1234.5
    ours = len(lossless_compressor().encode(traces))
    reference = len(Blosc(cname="zstd", clevel=5, shuffle=Blosc.SHUFFLE, blocksize=0).encode(traces))
    assert ours <= 1.01 * reference


def test_lossless_round_trip_is_exact():
    data = np.random.default_rng(0).normal(size=(16, 16, 32)).astype("<f4")
    codec = lossless_compressor()
    decoded = np.frombuffer(codec.decode(codec.encode(data)), dtype="<f4").reshape(data.shape)
    np.testing.assert_array_equal(decoded, data)


@pytest.mark.parametrize("tolerance", [0.5, 0.01])
def test_lossy_is_zfp_fixed_accuracy_within_tolerance(tolerance):
    codec = lossy_compressor(tolerance)
    config = codec.get_config()
    assert config["id"] == "zfpy"
    assert config["mode"] == zfpy.mode_fixed_accuracy
    assert config["tolerance"] == tolerance
    data = np.random.default_rng(1).normal(scale=3.0, size=(8, 16, 64)).astype(np.float32)
    decoded = np.asarray(codec.decode(codec.encode(data))).reshape(data.shape)
    assert np.max(np.abs(decoded - data)) <= tolerance
    assert not np.array_equal(decoded, data)  # it is lossy


@pytest.mark.parametrize("tolerance", [0.0, -0.1, float("nan")])
def test_lossy_rejects_non_positive_tolerance(tolerance):
    with pytest.raises(ValueError, match="positive"):
        lossy_compressor(tolerance)


def test_trace_compressor_picks_by_lossless_flag():
    assert trace_compressor(True, 0.01).get_config()["id"] == "blosc"
    lossy = trace_compressor(False, 0.25).get_config()
    assert lossy["id"] == "zfpy"
    assert lossy["tolerance"] == 0.25
