"""The malformed-input corpus (tests/data/bad/make_corpus.py) through the API, typer's runner and real processes.

Every case must end in the error of ``mdio_catalog.exceptions`` it names (API), a one-line ``error: ...`` on
stderr with exit code 2 and no traceback (command line), at once (a FIFO or an endless device is never opened
for reading), and nothing written (the corpus folder is unchanged, no ``out/`` folder, no lock file).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mdio_catalog import exceptions
from mdio_catalog.catalog import Catalog
from mdio_catalog.cli.app import app
from tests.data.bad.make_corpus import ENDLESS_DEVICE, Case, make_corpus, write_segy

#: Cases also run as real processes (the ones that could hang, and one of each other class).
SUBPROCESS_CASES = (
    "catalog-is-fifo",
    "build-fifo",
    "scan-fifo",
    "ingest-device",
    "billion-laughs",
    "control-character",
    "build-pickled-npy",
    "arg-chunks",
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Case]]:
    folder = tmp_path_factory.mktemp("bad")
    cases = make_corpus(folder)
    return folder, {case.name: case for case in cases}


def tree(folder: Path) -> dict[str, tuple[str, int]]:
    """Every entry under ``folder``: kind and size (lstat: links, FIFOs and devices are not opened)."""
    found = {}
    for current, dirs, files in os.walk(folder):
        for name in [*dirs, *files]:
            path = Path(current, name)
            info = path.lstat()
            kind = "link" if path.is_symlink() else "dir" if path.is_dir() else "other"
            found[str(path.relative_to(folder))] = (kind, info.st_size if kind == "other" else 0)
    return found


def error_class(case: Case) -> type[BaseException]:
    cls = getattr(exceptions, case.error)
    assert issubclass(cls, exceptions.MDIOError)
    return cls


def run_api(folder: Path, case: Case) -> BaseException | None:
    """The case through the library; the exception raised (None when nothing was raised)."""
    from mdio_catalog.catalog.proposal import scan_file
    from mdio_catalog.converters.segy import segy_to_mdio

    try:
        if case.kind == "catalog":
            Catalog.from_file(folder / str(case.catalog))
        elif case.kind == "build":
            Catalog.from_file(folder / str(case.catalog)).build()
        elif case.kind == "segy":
            source = str(folder / str(case.source)) if not str(case.source).startswith("/") else str(case.source)
            if case.argv[1] == "scan":
                scan_file(source)
            else:
                segy_to_mdio(source, folder / "out" / "x.mdio", [189, 193], ["inline", "crossline"])
        elif case.name == "arg-chunks-huge":
            segy_to_mdio(
                folder / "data" / "stack.sgy",
                folder / "out" / "x.mdio",
                [189, 193],
                ["inline", "crossline"],
                chunksize=(100_000, 100_000, 100_000),
            )
        else:
            return None
    except Exception as exc:
        return exc
    raise AssertionError(f"{case.name}: no error")


def test_corpus_through_the_api(corpus: tuple[Path, dict[str, Case]]) -> None:
    folder, cases = corpus
    outcomes: Counter[str] = Counter()
    for case in cases.values():
        before = tree(folder)
        started = time.monotonic()
        exc = run_api(folder, case)
        if exc is None:
            continue  # a command-line-only case
        assert isinstance(exc, error_class(case)), (case.name, type(exc), exc)
        assert case.message in str(exc), (case.name, str(exc))
        assert time.monotonic() - started < 10, case.name
        assert tree(folder) == before, case.name
        outcomes[type(exc).__name__] += 1
    assert not (folder / "out").exists()
    assert sum(outcomes.values()) >= 40, outcomes


def test_corpus_through_the_runner(corpus: tuple[Path, dict[str, Case]], monkeypatch: pytest.MonkeyPatch) -> None:
    folder, cases = corpus
    monkeypatch.chdir(folder)
    monkeypatch.setenv("MDIO_CATALOG_PROGRESS", "false")
    runner = CliRunner()
    for case in cases.values():
        before = tree(folder)
        result = runner.invoke(app, list(case.argv))
        assert result.exit_code == 2, (case.name, result.exit_code, result.output, result.exception)
        lines = result.stderr.splitlines()
        assert len(lines) == 1, (case.name, result.stderr)
        assert lines[0].startswith("error: "), (case.name, result.stderr)
        assert case.message in result.stderr, (case.name, result.stderr)
        assert "Traceback" not in result.output, case.name
        assert tree(folder) == before, case.name
    assert not (folder / "out").exists()


def test_corpus_in_real_processes(corpus: tuple[Path, dict[str, Case]]) -> None:
    """A few cases as the console script, all at once: each exits 2 with one line, none hangs."""
    folder, cases = corpus
    script = Path(sys.executable).with_name("mdio-catalog")
    env = {**os.environ, "MDIO_CATALOG_PROGRESS": "false"}
    before = tree(folder)
    running = {
        name: subprocess.Popen(
            [str(script), *cases[name].argv],
            cwd=folder,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        for name in SUBPROCESS_CASES
        if name in cases
    }
    failures = []
    for name, process in running.items():
        try:
            _, err = process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            failures.append(f"{name}: hung")
            continue
        if process.returncode != 2 or err.count("\n") != 1 or not err.startswith("error: "):
            failures.append(f"{name}: exit {process.returncode}: {err!r}")
        elif cases[name].message not in err or "Traceback" in err:
            failures.append(f"{name}: {err!r}")
    assert not failures, failures
    assert tree(folder) == before


@pytest.fixture
def built_then_replaced(tmp_path: Path) -> Path:
    """A catalog built from a regular SEG-Y file whose source was then replaced by a FIFO."""
    write_segy(tmp_path / "stack.sgy")
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        "version: 1\nname: replaced\nroot: ./out\ndatasets:\n  stack:\n    template: PostStack3DTime\n"
        "    source: {segy: stack.sgy}\n    chunks: [4, 4, 8]\n",
        encoding="utf-8",
    )
    Catalog.from_file(catalog).build()
    (tmp_path / "stack.sgy").unlink()
    os.mkfifo(tmp_path / "stack.sgy")
    return catalog


@pytest.mark.parametrize("replacement", ["fifo", "device", "symlink-loop"])
def test_status_and_list_do_not_hang_when_a_source_is_no_longer_a_file(
    built_then_replaced: Path, replacement: str
) -> None:
    source = built_then_replaced.parent / "stack.sgy"
    if replacement != "fifo":
        source.unlink()
        if replacement == "device":
            if not os.path.exists(ENDLESS_DEVICE):
                pytest.skip(f"no {ENDLESS_DEVICE} here")
            source.symlink_to(ENDLESS_DEVICE)
        else:
            source.symlink_to(source.name)
    expected = {"fifo": "FIFO", "device": "character device", "symlink-loop": "symlink loop"}[replacement]
    (status,) = Catalog.from_file(built_then_replaced).status()
    assert status.state == "stale"
    assert any(expected in reason for reason in status.reasons), status.reasons
    script = Path(sys.executable).with_name("mdio-catalog")
    for command in ("status", "list"):
        done = subprocess.run(
            [str(script), command, "-c", str(built_then_replaced), "--json"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode in (0, 1), (command, done.returncode, done.stderr)
        assert "Traceback" not in done.stderr
        if command == "status":
            assert expected in done.stdout, done.stdout
    rebuilt = subprocess.run(
        [str(script), "build", "-c", str(built_then_replaced), "-q"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert rebuilt.returncode == 2, rebuilt.stderr
    assert rebuilt.stderr.count("\n") == 1, rebuilt.stderr
    assert expected in rebuilt.stderr


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["build", "--workers", "x"], "Invalid value for '--workers'"),
        (["rechunk", "a.mdio", "--chunks", "1,2"], "Missing option '--suffix'"),
        (["segy", "scan"], "Missing argument 'path'"),
        (["nosuch"], "No such command 'nosuch'"),
        (["-c", "catalog.yaml", "build"], "No such option: -c"),  # the group's own options: one line too
        (["--bogus"], "No such option: --bogus"),
    ],
)
def test_usage_errors_are_one_line_too(argv: list[str], message: str) -> None:
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"error: {message}"), result.stderr
    assert "--help)" in result.stderr
