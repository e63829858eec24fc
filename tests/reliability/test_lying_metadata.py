"""Stored metadata that lies (issue 15, item 5): a hand-edited ``.zarray`` or ``.zattrs`` fails at open.

Every lie of ``tests/data/bad/degenerate.py`` (chunks 0 or negative, shapes that disagree with the coordinates,
the live mask or the headers, malformed dimension and statistics attributes) must be an ``MDIOFormatError`` from
``MDIOReader`` and ``MDIOWriter``, and a one-line error from ``info`` and ``plot`` run as real processes (no PNG
written). The unedited copy is the control: it opens, and its samples equal what segyio reads. On S3, opening a
lying dataset makes the same metadata requests as opening a good one, and no chunk request.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import segyio

from mdio_catalog.api.accessor import MDIOReader, MDIOWriter
from mdio_catalog.converters.segy import segy_to_mdio
from mdio_catalog.exceptions import MDIOFormatError
from tests.data.bad.degenerate import LIES, Lie, lie
from tests.data.bad.make_corpus import write_segy
from tests.reliability.clirun import SCRIPT, assert_one_line_error, cli

#: Processes started at once for the command-line cases (two cores, shared).
BATCH = 4


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4 x 5 x 8 dataset (chunks 4 x 4 x 8) whose copies get the lies."""
    folder = tmp_path_factory.mktemp("lying")
    write_segy(folder / "stack.sgy")
    segy_to_mdio(folder / "stack.sgy", folder / "good.mdio", [189, 193], ["inline", "crossline"], chunksize=(4, 4, 8))
    return folder / "good.mdio"


@pytest.fixture(scope="module")
def lies(good: Path) -> dict[str, Path]:
    folder = good.parent / "lies"
    folder.mkdir()
    return {case.name: lie(good, folder, case) for case in LIES}


def test_the_unedited_dataset_opens_and_matches_segyio(good: Path) -> None:
    with segyio.open(good.parent / "stack.sgy", iline=189, xline=193) as f:
        cube = segyio.tools.cube(f)
    reader = MDIOReader(good)
    np.testing.assert_array_equal(reader[:], cube)
    assert reader.shape == (4, 5, 8)
    assert MDIOWriter(good).shape == (4, 5, 8)


@pytest.mark.parametrize("case", LIES, ids=lambda case: case.name)
def test_a_lie_is_a_format_error_at_open(lies: dict[str, Path], case: Lie) -> None:
    for accessor in (MDIOReader, MDIOWriter):
        with pytest.raises(MDIOFormatError) as raised:
            accessor(lies[case.name])
        message = str(raised.value)
        assert case.words in message, (accessor.__name__, message)
        assert str(lies[case.name]) in message or lies[case.name].name in message, message


def test_a_lie_only_in_the_live_metadata_is_seen_by_writers(good: Path, tmp_path: Path) -> None:
    """Readers trust the consolidated record (one request on object stores); writers read each ``.zarray``."""
    path = lie(good, tmp_path, Lie("live-only", "data/chunked_012", "chunks", [0, 4, 8], consolidated=False))
    assert MDIOReader(path).chunks == (4, 4, 8)
    with pytest.raises(MDIOFormatError, match="positive"):
        MDIOWriter(path)


def _run_batch(cases: list[tuple[str, list[str]]], cwd: Path) -> dict[str, tuple[int, str, str]]:
    running = {
        name: subprocess.Popen([str(SCRIPT), *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name, args in cases
    }
    results = {}
    for name, process in running.items():
        out, err = process.communicate(timeout=180)
        results[name] = (process.returncode, out, err)
    return results


def test_info_and_plot_fail_in_one_line_for_every_lie(lies: dict[str, Path], tmp_path: Path) -> None:
    commands: list[tuple[str, list[str]]] = []
    for number, case in enumerate(LIES):
        path = str(lies[case.name])
        commands.append((f"info {case.name}", ["info", path]))
        commands.append(
            (f"plot {case.name}", ["plot", path, "--inline", "11", "-o", str(tmp_path / f"{case.name}.png")])
        )
        if number % 4:  # a quarter of them also as JSON and as a live-mask picture (processes cost 2 s each)
            continue
        commands.append((f"info-json {case.name}", ["info", path, "--json"]))
        commands.append(
            (f"mask {case.name}", ["plot", path, "--live-mask", "-o", str(tmp_path / f"{case.name}-m.png")])
        )
    outcomes: Counter[str] = Counter()
    words = {case.name: case.words for case in LIES}
    for start in range(0, len(commands), BATCH):
        for name, (code, out, err) in _run_batch(commands[start : start + BATCH], tmp_path).items():
            line = assert_one_line_error(code, out, err)
            assert words[name.split()[1]] in line, (name, line)
            assert out == "", (name, out)
            outcomes[name.split()[0]] += 1
    assert not list(tmp_path.glob("*.png"))
    quarter = len(range(0, len(LIES), 4))
    assert outcomes == {"info": len(LIES), "plot": len(LIES), "info-json": quarter, "mask": quarter}


def test_the_control_plots_and_reports(good: Path, tmp_path: Path) -> None:
    code, _out, err = cli("plot", str(good), "--inline", "11", "-o", str(tmp_path / "ok.png"), cwd=tmp_path)
    assert code == 0, err
    assert (tmp_path / "ok.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_opening_checks_cost_no_request_on_s3(good: Path, s3_bucket: Any, s3_requests: Any) -> None:
    """The checks use the metadata that opening reads anyway: a lying dataset costs the same requests as a good
    one, all metadata GETs, and no chunk is read."""
    bad = lie(good, good.parent / "s3lies", Lie("shape-s3", "data/chunked_012", "shape", [400000, 5, 8]))
    counts = {}
    for name, local in (("good", good), ("bad", bad)):
        url = s3_bucket.url(f"{name}.mdio")
        s3_bucket.fs.put(str(local), url, recursive=True)
        s3_requests.clear()
        if name == "bad":
            with pytest.raises(MDIOFormatError, match="disagree"):
                MDIOReader(url, storage_options=s3_bucket.storage_options)
        else:
            assert MDIOReader(url, storage_options=s3_bucket.storage_options).shape == (4, 5, 8)
        requests = s3_requests.requests()
        assert all(method == "GET" for method, _ in requests), requests
        assert not [p for _, p in requests if "/data/" in p or "/metadata/" in p], requests
        counts[name] = len(requests)
    assert counts["bad"] <= counts["good"] <= 5, counts


def test_a_damaged_live_mask_chunk_is_a_typed_error_in_pictures(good: Path, tmp_path: Path) -> None:
    """Not metadata, but what pictures read next: a live-mask chunk that cannot be decoded fails in one line."""
    import shutil

    from mdio_catalog.qc import plot_live_mask

    damaged = tmp_path / "damaged.mdio"
    shutil.copytree(good, damaged)
    chunks = [p for p in (damaged / "metadata" / "live_mask").rglob("*") if p.is_file() and not p.name.startswith(".")]
    assert chunks
    for chunk in chunks:
        chunk.write_bytes(b"not a blosc frame")
    with pytest.raises(MDIOFormatError, match="cannot be decoded"):
        plot_live_mask(MDIOReader(damaged), output=tmp_path / "m.png")
    for args in (["--live-mask"], ["--inline", "11"]):
        assert_one_line_error(*cli("plot", str(damaged), *args, "-o", "x.png", cwd=tmp_path), "cannot be decoded")
    assert not list(tmp_path.glob("*.png"))
    # ... and in an export, which reads the whole mask first: one line, no SEG-Y left
    assert_one_line_error(*cli("export", str(damaged), "out.sgy", cwd=tmp_path), "cannot be decoded")
    assert not list(tmp_path.glob("*.sgy*"))


def test_a_truncated_trace_chunk_is_refused_not_read_as_other_numbers(good: Path, tmp_path: Path) -> None:
    """Blosc 1 trusts a frame's header: a chunk object cut short used to decode into wrong numbers silently."""
    import shutil

    damaged = tmp_path / "cut.mdio"
    shutil.copytree(good, damaged)
    chunk = damaged / "data" / "chunked_012" / "0" / "0" / "0"
    chunk.write_bytes(chunk.read_bytes()[:20])
    reader = MDIOReader(damaged)
    np.testing.assert_array_equal(reader[:, 4:], MDIOReader(good)[:, 4:])  # the other chunk still reads
    with pytest.raises(MDIOFormatError, match=r"chunked_012/0/0/0 is damaged: 20 bytes"):
        reader[:]
    line = assert_one_line_error(*cli("plot", str(damaged), "--inline", "11", "-o", "x.png", cwd=tmp_path))
    assert "is damaged" in line
    assert not (tmp_path / "x.png").exists()
