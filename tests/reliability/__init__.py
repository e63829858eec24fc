"""Reliability tests: kills, races and foreign content, with real processes and real files.

Helpers shared by the modules here: writers started in a subprocess (:mod:`tests.reliability.actors`), file-tree
checksums, and an independent scan for leftovers (by name, not through the library's own finder).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]

#: Names a writer uses beside its target (staging, displaced old version, owner marker, its temporary name, lock
#: file), and zarr's temporary names of files being written inside a dataset.
LEFTOVER_NAME = re.compile(r"\.(partial|old|owner)-[0-9a-f]{12}|^\..+\.lock$|\.[0-9a-f]{32}\.partial$")


def spawn(scenario: str, **args: Any) -> subprocess.Popen[str]:
    """Start an actor and wait until it has imported everything (its first line is ``ready``)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.actors", scenario, json.dumps(args)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "MDIO_CATALOG_PROGRESS": "false"},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if line.strip() != "ready":
        process.kill()
        _, err = process.communicate()
        raise AssertionError(f"actor {scenario} did not start: {line!r} {err}")
    return process


def go(*processes: subprocess.Popen[str]) -> None:
    """Release actors started with ``go=True`` at (nearly) the same moment."""
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()


def finish(process: subprocess.Popen[str], timeout: float = 120) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def digest(path: Path) -> dict[str, str]:
    """sha256 of every file under ``path`` (or of the file itself), links not followed."""
    if path.is_symlink() or path.is_file():
        return {".": hashlib.sha256(path.read_bytes()).hexdigest()} if path.is_file() else {".": "link"}
    found = {}
    for folder, _dirs, files in os.walk(path):
        for name in files:
            full = Path(folder, name)
            found[str(full.relative_to(path))] = hashlib.sha256(full.read_bytes()).hexdigest()
    return found


def leftover_paths(folder: Path) -> list[Path]:
    """Every file or folder under ``folder`` (datasets included) whose name is a writer's working name."""
    found = []
    for current, dirs, files in os.walk(folder):
        for name in [*dirs, *files]:
            if LEFTOVER_NAME.search(name) and name != "catalog.lock":
                found.append(Path(current, name))
    return sorted(found)


def leftover_bytes(folder: Path) -> int:
    total = 0
    for path in leftover_paths(folder):
        if path.is_dir() and not path.is_symlink():
            total += sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
        elif path.exists():
            total += path.lstat().st_size
    return total
