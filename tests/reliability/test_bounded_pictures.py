"""Pictures read a bounded amount (issue 15, item 5), whatever the size of the dataset.

A section of 20,000 traces x 20,000 samples (1.6 GB of samples; drawn whole, the previous version grew past 20 GB
and was killed) is drawn from at most 2,048 cells an axis by a real process that stays small. On smaller
datasets the decimated picture is checked against numpy (the same stride of the same values), and a live mask
projected over 18 million cells, a slab at a time, counts what numpy's ``any`` counts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mdio_catalog.api.accessor import MDIOReader, MDIOWriter
from mdio_catalog.converters.numpy import numpy_to_mdio
from mdio_catalog.qc import plot_live_mask, plot_slice
from mdio_catalog.qc.selection import MASK_SLAB_CELLS, MAX_IMAGE_CELLS
from tests.reliability.clirun import SCRIPT, cli

#: Peak memory allowed to the plotting process (its imports alone take ~150 MB).
PEAK_MB = 600


def empty_catalog(folder: Path, dims: str, chunks: str) -> Path:
    """Build a metadata-only dataset (an ``empty:`` source) with the console script; its path."""
    (folder / "catalog.yaml").write_text(
        "version: 1\nname: big\nroot: out\ndatasets:\n  big:\n    template: PostStack3DTime\n"
        f"    source:\n      empty: {dims}\n    chunks: {chunks}\n"
    )
    code, _out, err = cli("build", cwd=folder)
    assert code == 0, err
    return folder / "out" / "big.mdio"


def peak_of(args: list[str], cwd: Path) -> tuple[int, str, float]:
    """Run ``mdio-catalog ARGS`` from a fresh Python that reports its child's peak resident memory (MB)."""
    probe = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stderr.write(done.stderr)\n"
        "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)\n"
        "print(done.stdout)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(SCRIPT), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    first, _, rest = done.stdout.partition("\n")
    code, peak = first.split()
    return int(code), rest, float(peak)


def test_a_section_of_a_huge_dataset_is_drawn_from_a_bounded_read(tmp_path: Path) -> None:
    dims = "[{name: inline, start: 1, count: 2}, {name: crossline, start: 1, count: 20000}, "
    dims += "{name: sample, start: 0, step: 4, count: 20000}]"
    dataset = empty_catalog(tmp_path, dims, "[1, 1024, 1024]")
    code, out, peak = peak_of(["plot", str(dataset), "--inline", "1", "-o", "s.png", "--json"], tmp_path)
    assert code == 0, out
    info = json.loads(out)
    assert max(info["shape"]) <= MAX_IMAGE_CELLS
    assert info["shape"] == [len(range(0, 20000, 10))] * 2
    assert peak < PEAK_MB, peak
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"


def test_a_decimated_section_shows_every_kth_value(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    values = rng.standard_normal((2, 5000, 16)).astype(np.float32)
    numpy_to_mdio(values, str(tmp_path / "d.mdio"), (1, 1024, 16))
    reader = MDIOReader(tmp_path / "d.mdio")
    info = plot_slice(reader, dimension="dim_0", coordinate=1, output=tmp_path / "d.png", clip_percentile=100)
    step = -(-5000 // MAX_IMAGE_CELLS)
    assert info.shape == (16, len(range(0, 5000, step)))
    shown = values[1, ::step, :]  # the oracle: numpy's stride of the same values
    assert info.clip == pytest.approx(float(np.abs(shown).max()))
    assert info.clip < float(np.abs(values[1]).max()) or step == 1


def test_a_projected_live_mask_is_reduced_slab_by_slab(tmp_path: Path) -> None:
    dims = "[{name: a, start: 0, count: 40}, {name: b, start: 0, count: 50}, {name: c, start: 0, count: 9000}, "
    dims += "{name: sample, start: 0, step: 4, count: 4}]"
    dataset = empty_catalog(tmp_path, dims, "[8, 8, 512, 4]")
    mask = np.zeros((40, 50, 9000), dtype=bool)
    rng = np.random.default_rng(5)
    mask[rng.integers(0, 40, 300), rng.integers(0, 50, 300), rng.integers(0, 9000, 300)] = True
    assert mask.size > MASK_SLAB_CELLS  # more than one slab
    MDIOWriter(dataset, access_pattern="0123").live_mask = mask
    reader = MDIOReader(dataset, access_pattern="0123")
    info = plot_live_mask(reader, output=tmp_path / "m.png")
    assert info.projected == ("c",)
    assert info.shape == (40, 50)
    assert info.live_cells == int(mask.any(axis=2).sum())
    held = plot_live_mask(reader, output=tmp_path / "h.png", fixed={"a": 3}, across="c")
    assert held.shape == (50, len(range(0, 9000, -(-9000 // MAX_IMAGE_CELLS))))
    assert held.live_cells == int(mask[3][:, :: -(-9000 // MAX_IMAGE_CELLS)].sum())
