"""``mdio-catalog derive`` as a real process: a crop with decimation, lossy by SNR with --json (strict), and bad
selections as one-line errors with nothing written. Oracles: numpy slicing of the upstream, numpy SNR."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mdio_catalog import MDIOReader, segy_to_mdio
from mdio_catalog.core.quality import snr_db
from tests.catalog import post_stack_segy
from tests.reliability.clirun import cli, strict_loads


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("derive")
    segy = post_stack_segy(folder / "stack.sgy", range(100, 112), range(300, 320), n_samples=60).path
    segy_to_mdio(segy, folder / "stack.mdio", index_bytes=(189, 193), index_names=("inline", "crossline"),
                 chunksize=(4, 8, 16))  # fmt: skip
    return folder / "stack.mdio"


def test_crop_with_step(upstream: Path) -> None:
    out = upstream.parent / "crop.mdio"
    code, stdout, stderr = cli(
        "derive", str(upstream), str(out), "--select", "inline=102:109", "--select", "crossline=305:314",
        "--step", "sample=3", "--chunks", "4,4,10", cwd=upstream.parent,
    )  # fmt: skip
    assert code == 0, stderr
    assert "live traces" in stdout
    expected = MDIOReader(str(upstream))[2:10, 5:15, ::3]
    derived = MDIOReader(str(out))
    np.testing.assert_array_equal(derived[...], expected)
    assert derived.chunks == (4, 4, 10)


def test_lossy_by_snr_reports_strict_json(upstream: Path) -> None:
    out = upstream.parent / "browse.mdio"
    code, stdout, stderr = cli("derive", str(upstream), str(out), "--snr-db", "35", "--json", cwd=upstream.parent)
    assert code == 0, stderr
    report = strict_loads(stdout)
    measured = snr_db(MDIOReader(str(upstream))[...], MDIOReader(str(out))[...])
    assert measured >= 35
    assert report["snr_db"] == pytest.approx(measured, abs=1e-6)
    assert report["lossless"] is False
    assert report["tolerance"] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--select", "inline=103.5:109"], "nearest are 103 and 104"),
        (["--select", "inlin=102:109"], "did you mean 'inline'"),
        (["--select", "inline-102"], "NAME=FIRST:LAST"),
        (["--step", "sample=two"], "not a whole number"),
        (["--snr-db", "30", "--psnr-db", "30"], "at most one quality target"),
    ],
)
def test_bad_arguments_are_one_line_and_write_nothing(upstream: Path, args: list[str], message: str) -> None:
    out = upstream.parent / "bad.mdio"
    code, _stdout, stderr = cli("derive", str(upstream), str(out), *args, cwd=upstream.parent)
    assert code != 0
    assert message in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert "Traceback" not in stderr
    assert not out.exists()
