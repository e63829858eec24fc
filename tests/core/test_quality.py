"""Lossy compression chosen by quality: the tolerance chosen on a sample meets the SNR/PSNR target over the whole
volume, measured independently with numpy after compressing with the codec the writers use (numcodecs' ZFPY).

Data: a synthetic seismic cube (Ricker wavelets convolved with sparse reflectivity, amplitudes far from 1) and
real public files read with segyio (F3 post-stack cube, the Viking shot gathers).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import segyio

from mdio_catalog.core.compressors import lossy_compressor
from mdio_catalog.core.quality import choose_tolerance, psnr_db, sample_blocks, snr_db
from mdio_catalog.exceptions import ArgumentError

SEGY = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "segy" / "segyio"


def synthetic_cube(shape: tuple[int, int, int] = (48, 40, 300), seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(-32, 33) * 0.004
    ricker = (1 - 2 * (np.pi * 25 * t) ** 2) * np.exp(-((np.pi * 25 * t) ** 2))
    reflectivity = rng.normal(size=shape) * (rng.random(shape) < 0.05)
    trend = np.linspace(0, 3, shape[0])[:, None, None]  # slowly varying layers, like a real volume
    traces = np.apply_along_axis(lambda r: np.convolve(r, ricker, mode="same"), 2, reflectivity + 0.01 * trend)
    return (traces * 3500.0).astype(np.float32)


def f3_cube() -> np.ndarray:
    path = SEGY / "f3.sgy"
    if not path.exists():
        pytest.skip(f"public test data not found at {path}")
    with segyio.open(str(path)) as f:
        return np.asarray(segyio.tools.cube(f), dtype=np.float32)


def viking_gathers() -> np.ndarray:
    path = SEGY / "viking_small.segy"
    if not path.exists():
        pytest.skip(f"public test data not found at {path}")
    with segyio.open(str(path), ignore_geometry=True) as f:
        return np.asarray(f.trace.raw[:], dtype=np.float32)


def written_and_read(values: np.ndarray, tolerance: float) -> np.ndarray:
    codec = lossy_compressor(tolerance)
    return np.asarray(codec.decode(codec.encode(values))).reshape(values.shape)


def test_snr_and_psnr_against_their_definitions() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 40)) * 100
    y = x + rng.normal(size=x.shape)
    mse = np.mean((x - y) ** 2)
    assert snr_db(x, y) == pytest.approx(20 * np.log10(np.sqrt(np.mean(x**2)) / np.sqrt(mse)), rel=1e-9)
    assert psnr_db(x, y) == pytest.approx(20 * np.log10(np.abs(x).max() / np.sqrt(mse)), rel=1e-9)
    assert snr_db(x, x) == math.inf
    with pytest.raises(ArgumentError):
        snr_db(x, y[:, :3])


@pytest.mark.parametrize("target", [30.0, 40.0, 50.0])
@pytest.mark.parametrize("volume", ["synthetic", "f3", "viking"])
def test_the_chosen_tolerance_meets_the_snr_target_on_the_whole_volume(volume: str, target: float) -> None:
    values = {"synthetic": synthetic_cube, "f3": f3_cube, "viking": viking_gathers}[volume]()
    choice = choose_tolerance(values, snr_db=target)
    assert choice.metric == "snr"
    assert choice.sample_db >= target + 0.5
    whole = snr_db(values, written_and_read(values, choice.tolerance))
    assert whole >= target
    # ...and it is (close to) the largest such tolerance: four times it misses the target on the whole volume.
    assert snr_db(values, written_and_read(values, 4 * choice.tolerance)) < target + 0.5
    assert choice.sample_ratio > 1.0


def test_psnr_target_and_a_higher_target_gives_a_smaller_tolerance() -> None:
    values = synthetic_cube()
    loose = choose_tolerance(values, psnr_db=40)
    tight = choose_tolerance(values, psnr_db=60)
    assert tight.tolerance < loose.tolerance
    assert psnr_db(values, written_and_read(values, tight.tolerance)) >= 60
    assert psnr_db(values, written_and_read(values, loose.tolerance)) >= 40
    assert loose.sample_ratio > tight.sample_ratio


def test_samples_come_from_blocks_of_the_volume_and_skip_dead_ones() -> None:
    values = synthetic_cube((40, 30, 100))
    values[:20] = 0.0  # dead traces
    blocks = sample_blocks(values, blocks=6, block_shape=(10, 10, 50), seed=3)
    assert 0 < len(blocks) <= 6
    for block in blocks:
        assert block.shape == (10, 10, 50)
        assert np.any(block != 0)
        hits = [
            (i, j, k)
            for i in range(0, 40, 10)
            for j in range(0, 30, 10)
            for k in range(0, 100, 50)
            if np.array_equal(values[i : i + 10, j : j + 10, k : k + 50], block)
        ]
        assert hits
        assert all(i >= 20 for i, _, _ in hits)


def test_bad_targets_and_silent_volumes() -> None:
    values = synthetic_cube((8, 8, 64))
    with pytest.raises(ArgumentError):
        choose_tolerance(values)
    with pytest.raises(ArgumentError):
        choose_tolerance(values, snr_db=30, psnr_db=30)
    with pytest.raises(ArgumentError):
        choose_tolerance(values, snr_db=-5)
    silent = choose_tolerance(np.zeros((8, 8, 64), np.float32), snr_db=40)
    assert silent.sample_db == math.inf


def test_an_accessor_is_sampled_by_its_chunks_and_calibrated_by_its_statistics(tmp_path: Path) -> None:
    from mdio_catalog import MDIOReader
    from mdio_catalog.converters.numpy import numpy_to_mdio

    values = synthetic_cube((48, 40, 300))
    numpy_to_mdio(values, str(tmp_path / "cube.mdio"), (16, 16, 100))
    reader = MDIOReader(str(tmp_path / "cube.mdio"))
    assert reader.stats["rms"] == pytest.approx(float(np.sqrt(np.mean(values.astype(np.float64) ** 2))), rel=1e-4)
    choice = choose_tolerance(reader, snr_db=40)
    assert all(b.shape in {(16, 16, 100), (16, 8, 100)} for b in sample_blocks(reader))  # its chunks (40 = 16+16+8)
    assert snr_db(values, written_and_read(values, choice.tolerance)) >= 40
