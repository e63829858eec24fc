"""SIGKILL at random points of real writer processes: build, rebuild, SEG-Y ingestion (overwrite), export,
rechunk, copy.

Each trial copies a prepared folder, starts the writer in a subprocess, kills it after a random delay within the
operation's measured duration, and checks: the target holds the previous version byte for byte (checksums) or the
complete new one (arrays equal to an uninterrupted run); nothing half-written is reported built; a retry succeeds;
and afterwards no working file of any writer is left (0 bytes). A few trials per scenario run by default, 20 per
scenario in the ``slow`` test.
"""

from __future__ import annotations

import random
import shutil
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mdio_catalog import MDIOReader, MDIOWriter, copy_mdio, rechunk, segy_to_mdio
from mdio_catalog.catalog import Catalog
from mdio_catalog.converters.mdio_to_segy import mdio_to_segy
from mdio_catalog.core.publish import find_leftovers, remove_leftovers
from mdio_catalog.core.store import Location
from mdio_catalog.exceptions import AccessPatternNotFoundError, MDIOAlreadyExistsError
from tests.catalog import post_stack_segy, stack_entry, write_catalog
from tests.reliability import digest, finish, leftover_bytes, leftover_paths, spawn

SHAPE = {"inlines": range(10, 26), "crosslines": range(20, 36), "n_samples": 40}
CHUNKS = (4, 4, 8)
FAST_Z = (8, 8, 4)


def ingest(src: Path, out: Path) -> None:
    segy_to_mdio(src, out, index_bytes=(189, 193), index_names=("inline", "crossline"), chunksize=CHUNKS)


def arrays(path: Path) -> dict[str, Any]:
    """Everything a reader sees: per access pattern the traces, headers and chunks; live mask, counts."""
    first = MDIOReader(str(path), access_pattern="012")
    seen: dict[str, Any] = {"patterns": first.access_patterns, "live": np.asarray(first.live_mask[:])}
    seen["trace_count"] = first.trace_count
    for pattern in first.access_patterns:
        reader = MDIOReader(str(path), access_pattern=pattern, return_metadata=True)
        _, headers, traces = reader[...]
        seen[pattern] = (reader.chunks, np.asarray(traces), np.asarray(headers))
    return seen


def same_arrays(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a["patterns"] != b["patterns"] or a["trace_count"] != b["trace_count"]:
        return False
    if not np.array_equal(a["live"], b["live"]):
        return False
    for pattern in a["patterns"]:
        (ca, ta, ha), (cb, tb, hb) = a[pattern], b[pattern]
        if ca != cb or not np.array_equal(ta, tb) or not np.array_equal(ha, hb):
            return False
    return True


@dataclass
class Scenario:
    """One writer: its actor arguments in a trial folder, the target it replaces, how to retry it."""

    actor: str
    prepare: Callable[[Path], None]
    args: Callable[[Path], dict[str, Any]]
    target: Callable[[Path], Path]
    retry: Callable[[Path], None]
    dataset: bool = True  # the target is an MDIO dataset (else a SEG-Y file)


def _sources(folder: Path) -> None:
    post_stack_segy(folder / "data" / "a.sgy", seed=0, **SHAPE)  # type: ignore[arg-type]
    post_stack_segy(folder / "data" / "b.sgy", seed=1, **SHAPE)  # type: ignore[arg-type]


def _catalog(folder: Path, chunks: tuple[int, ...]) -> None:
    entry = stack_entry("data/b.sgy", chunks=list(chunks), access_patterns={"fast_z": list(FAST_Z)})
    write_catalog(folder, {"stack": entry})


def prepare_build(folder: Path) -> None:
    _sources(folder)
    _catalog(folder, CHUNKS)


def prepare_rebuild(folder: Path) -> None:
    prepare_build(folder)
    Catalog.from_file(folder / "catalog.yaml").build()
    _catalog(folder, (2, 8, 4))  # the spec changes: the next build replaces the dataset


def prepare_segy(folder: Path) -> None:
    _sources(folder)
    ingest(folder / "data" / "a.sgy", folder / "out.mdio")


def prepare_export(folder: Path) -> None:
    prepare_segy(folder)
    ingest(folder / "data" / "b.sgy", folder / "b.mdio")
    mdio_to_segy(folder / "out.mdio", folder / "out.sgy")  # the previous export (of a)


def prepare_copy(folder: Path) -> None:
    prepare_export(folder)


def build_retry(folder: Path) -> None:
    Catalog.from_file(folder / "catalog.yaml").build()


def rechunk_retry(folder: Path) -> None:
    rechunk(MDIOWriter(str(folder / "out.mdio"), access_pattern="012"), FAST_Z, "fast_z")


SCENARIOS: dict[str, Scenario] = {
    "build": Scenario(
        "build", prepare_build, lambda f: {"catalog": str(f / "catalog.yaml")}, lambda f: f / "out" / "stack.mdio",
        build_retry,
    ),
    "rebuild": Scenario(
        "build", prepare_rebuild, lambda f: {"catalog": str(f / "catalog.yaml")}, lambda f: f / "out" / "stack.mdio",
        build_retry,
    ),
    "segy_to_mdio": Scenario(
        "segy", prepare_segy,
        lambda f: {"segy": str(f / "data" / "b.sgy"), "out": str(f / "out.mdio"), "chunks": list(CHUNKS)},
        lambda f: f / "out.mdio",
        lambda f: segy_to_mdio(f / "data" / "b.sgy", f / "out.mdio", index_bytes=(189, 193),
                               index_names=("inline", "crossline"), chunksize=CHUNKS, overwrite=True),
    ),
    "mdio_to_segy": Scenario(
        "export", prepare_export, lambda f: {"mdio": str(f / "b.mdio"), "out": str(f / "out.sgy")},
        lambda f: f / "out.sgy", lambda f: mdio_to_segy(f / "b.mdio", f / "out.sgy"), dataset=False,
    ),
    "rechunk": Scenario(
        "rechunk", prepare_segy,
        lambda f: {"mdio": str(f / "out.mdio"), "chunks": list(FAST_Z), "suffix": "fast_z"},
        lambda f: f / "out.mdio", rechunk_retry,
    ),
    "copy": Scenario(
        "copy", prepare_copy, lambda f: {"source": str(f / "b.mdio"), "out": str(f / "out.mdio")},
        lambda f: f / "out.mdio",
        lambda f: copy_mdio(f / "b.mdio", f / "out.mdio", overwrite=True, copy_traces=True, copy_headers=True),
    ),
}  # fmt: skip


@dataclass
class Outcome:
    trials: int = 0
    killed: int = 0  # the kill landed before the writer printed "done"
    old_kept: int = 0
    new_complete: int = 0
    retried: int = 0
    leftover_bytes_after_retry: int = 0
    leftovers_before_retry: int = 0


def _pattern_files(path: Path) -> dict[str, str]:
    """Checksums of the files of the original pattern (rechunk must never touch them)."""
    return {k: v for k, v in digest(path).items() if "012" in k or k.startswith("metadata/live_mask")}


def check_target(scenario: str, spec: Scenario, trial: Path, before: dict[str, str], reference: Any) -> str:
    """After the kill: 'old' (previous version intact) or 'new' (the complete result); anything else fails."""
    target = spec.target(trial)
    if scenario == "rechunk":
        assert _pattern_files(target) == before, "rechunk changed the original pattern's files"
        assert same_arrays_in(target, reference, patterns=("012",))
        try:
            reader = MDIOReader(str(target), access_pattern="fast_z")
        except AccessPatternNotFoundError:
            return "old"  # the half-written pattern is invisible
        np.testing.assert_array_equal(reader[...], reference["fast_z"][1])
        return "new"
    if not spec.dataset:
        now = digest(target) if target.exists() else {}
        if now == before:
            return "old"
        assert now == reference, "the export is neither the previous file nor the complete new one"
        return "new"
    if not target.exists() and before == {}:
        return "old"  # a first build killed before it published: nothing there, as before
    if target.exists() and digest(target) == before:
        return "old"
    assert target.exists(), "the target disappeared"
    assert same_arrays(arrays(target), reference), "the target opens but is not the complete new version"
    return "new"


def same_arrays_in(path: Path, reference: dict[str, Any], patterns: tuple[str, ...]) -> bool:
    reader = MDIOReader(str(path), access_pattern=patterns[0], return_metadata=True)
    _, headers, traces = reader[...]
    _, ref_traces, ref_headers = reference[patterns[0]]
    return bool(np.array_equal(traces, ref_traces) and np.array_equal(headers, ref_headers))


def check_lock(scenario: str, trial: Path, state: str) -> None:
    """Nothing half-written is reported built: a lock entry written by the killed build means its dataset is
    complete at the path (a first build: no entry unless the new version is there)."""
    entry = trial / "catalog.lock.d" / "stack.json"  # one lock entry per dataset
    if not entry.exists():
        assert scenario == "build" or state == "new"
        return
    if scenario == "build":
        assert state == "new", "the lock reports a build whose dataset is not there"
    if state == "new":
        assert (trial / "out" / "stack.mdio" / ".zgroup").is_file()


def run_trials(scenario: str, base: Path, n: int, seed: int) -> Outcome:
    spec = SCENARIOS[scenario]
    template = base / "template"
    spec.prepare(template)
    # Calibration: one uninterrupted run gives the reference result and the duration of the work.
    calibration = base / "calibration"
    shutil.copytree(template, calibration, symlinks=True)
    process = spawn(spec.actor, **spec.args(calibration))
    started = time.monotonic()  # from the end of the imports to the end of the work (not of the process)
    assert process.stdout is not None
    line = process.stdout.readline()
    duration = time.monotonic() - started
    code, _, err = finish(process)
    assert line.strip() == "done", err
    assert code == 0, err
    target = spec.target(calibration)
    reference: Any = arrays(target) if spec.dataset else digest(target)
    rng = random.Random(seed)
    outcome = Outcome()
    for index in range(n):
        trial = base / f"trial-{index}"
        shutil.copytree(template, trial, symlinks=True)
        target = spec.target(trial)
        before = _pattern_files(target) if scenario == "rechunk" else (digest(target) if target.exists() else {})
        process = spawn(spec.actor, **spec.args(trial))
        time.sleep(rng.uniform(0.0, duration))
        process.kill()
        out, _ = process.communicate()
        outcome.killed += "done" not in out
        outcome.trials += 1
        state = check_target(scenario, spec, trial, before, reference)
        outcome.old_kept += state == "old"
        outcome.new_complete += state == "new"
        if spec.actor == "build":
            check_lock(scenario, trial, state)
        outcome.leftovers_before_retry += len(leftover_paths(trial))
        if scenario == "rechunk" and state == "new":
            with pytest.raises(MDIOAlreadyExistsError):  # it completed: asking again without overwrite refuses
                spec.retry(trial)
            remove_leftovers(find_leftovers(Location.of(trial)))  # its lock file, if killed before releasing it: gc
        else:
            spec.retry(trial)
        outcome.retried += 1
        if spec.dataset:
            assert same_arrays(arrays(target), reference), "the retry did not produce the complete new version"
        else:
            assert digest(target) == reference
        if scenario == "rechunk":
            reference_files = set(digest(spec.target(calibration)))
            assert set(digest(target)) == reference_files, "files beyond a clean rechunk were left in the dataset"
        if spec.actor == "build":
            assert Catalog.from_file(trial / "catalog.yaml").status()[0].state == "fresh"
        outcome.leftover_bytes_after_retry += leftover_bytes(trial)
        assert leftover_paths(trial) == [], "the retry left working files of the killed writer"
        assert [f.path for f in find_leftovers(Location.of(trial), min_age=0)] == []
        shutil.rmtree(trial)
    return outcome


#: Figures of the last runs, printed at the end (-s) and read by the closing note.
FIGURES: dict[str, Outcome] = {}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_kill_trials(scenario: str, tmp_path: Path) -> None:
    outcome = run_trials(scenario, tmp_path, n=3, seed=zlib.crc32(scenario.encode()))
    FIGURES[scenario] = outcome
    print(f"\n{scenario}: {outcome}")
    assert outcome.trials == outcome.retried == outcome.old_kept + outcome.new_complete == 3
    assert outcome.leftover_bytes_after_retry == 0


@pytest.mark.slow
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_kill_trials_many(scenario: str, tmp_path: Path) -> None:
    outcome = run_trials(scenario, tmp_path, n=20, seed=1000 + zlib.crc32(scenario.encode()))
    print(f"\n{scenario}: {outcome}")
    assert outcome.trials == outcome.retried == outcome.old_kept + outcome.new_complete == 20
    assert outcome.leftover_bytes_after_retry == 0
