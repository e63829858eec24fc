"""How the catalog commands scale with the number of datasets (issue 15, item 6: a lock that scales).

For each size (default 1, 400 and 2,000 datasets) a catalog of tiny ``empty:`` datasets is generated under
``--workdir`` and built once with ``mdio-catalog build`` (every lock entry written through the library; the time
of that full build is reported too). Then each command runs ``--repeat`` times in a fresh process, and the
median wall time and the largest peak resident memory (``wait4`` of that very child) are reported:

- ``rebuild``: ``build --force NAME`` of one dataset (the bar: within 1.5x of the same in a 1-dataset catalog);
- ``list``, ``status`` (the bar: under 3 s at 2,000) and ``show NAME``, each printing its table (to a file).

``--legacy`` also converts each catalog's lock into the old single ``catalog.lock`` and times ``show`` and
``status`` on it (read without migrating), then one rebuild (which migrates every entry into
``catalog.lock.d/``), then ``status`` again. ``--baseline SRC`` runs the same commands against another source
tree of the package (e.g. ``git archive <commit> | tar -x -C /tmp/old``) on a copy with the old lock file: the
"before" figures.

    .venv/bin/python benchmarks/catalog_scale.py [--sizes 1 400 2000] [--repeat 3] [--legacy] [--baseline SRC]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CLI = [sys.executable, "-m", "mdio_catalog.cli.app"]
ENTRY = (
    "  d{:06d}:\n    source:\n      empty:\n"
    "        - {{name: inline, start: 1, count: 4}}\n"
    "        - {{name: crossline, start: 1, count: 4}}\n"
    "        - {{name: sample, start: 0, step: 4, count: 8}}\n"
)


def write_catalog(folder: Path, size: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "catalog.yaml"
    text = "version: 1\nname: scale\nroot: ./out\ndatasets:\n" + "".join(ENTRY.format(i) for i in range(size))
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,)) -> dict[str, Any]:
    """One CLI call in a fresh process: wall seconds, CPU seconds (user + system: what the process itself spent,
    whatever else the machine runs) and the peak RSS of that very child (MiB); output discarded."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        process = subprocess.Popen([*CLI, *args], cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode not in ok:
            out.seek(0)
            raise RuntimeError(f"{args} exited {process.returncode}: {out.read().decode()[-2000:]}")
    return {"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime, "rss_mib": usage.ru_maxrss / 1024}


def measure(args: list[str], cwd: Path, repeat: int, env: dict[str, str] | None = None,
            ok: tuple[int, ...] = (0,)) -> dict[str, Any]:  # fmt: skip
    runs = [run(args, cwd, env, ok) for _ in range(repeat)]
    return {
        "seconds": statistics.median(r["seconds"] for r in runs),
        "cpu": statistics.median(r["cpu"] for r in runs),
        "rss_mib": max(r["rss_mib"] for r in runs),
        "runs": [round(r["seconds"], 3) for r in runs],
    }


def ensure_built(folder: Path, size: int) -> float | None:
    """Build every dataset once (skipped when the lock already has them all); the seconds it took."""
    write_catalog(folder, size)
    entries = folder / "catalog.lock.d"
    if entries.is_dir() and len(list(entries.glob("*.json"))) == size and not (folder / "catalog.lock").exists():
        return None
    start = time.perf_counter()
    run(["build", "-q"], folder)
    return time.perf_counter() - start


def commands(size: int) -> dict[str, tuple[list[str], tuple[int, ...]]]:
    name = f"d{size // 2:06d}"
    return {
        "rebuild": (["build", "--force", name, "-q"], (0,)),
        "list": (["list"], (0,)),
        "status": (["status"], (0,)),
        "show": (["show", name], (0,)),
    }


#: Writes the old single-file lock from the entries (in a child process: this one stays small, since a child's
#: peak RSS as ``wait4`` reports it starts from the size of the process it was forked from).
TO_LEGACY = """
import sys
from pathlib import Path
from mdio_catalog.catalog.lockfile import LockStore
lock = LockStore(Path(sys.argv[1]) / "catalog.yaml", "scale").read_all()
(Path(sys.argv[2]) / "catalog.lock").write_text(lock.to_yaml(), encoding="utf-8")
"""


def legacy_copy(folder: Path, target: Path) -> Path:
    """A copy of ``folder``'s catalog whose lock is one old-style ``catalog.lock`` with the same entries (as the
    previous version wrote it); the outputs are copied too, so their stored provenance still matches."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(folder, target, symlinks=True, ignore=shutil.ignore_patterns("catalog.lock.d"))
    subprocess.run([sys.executable, "-c", TO_LEGACY, str(folder), str(target)], check=True)
    return target


def report(size: int, label: str, figures: dict[str, Any]) -> None:
    print(f"{size:>5} datasets  {label:<26} {figures['seconds']:7.2f} s wall  {figures['cpu']:6.2f} s CPU  "
          f"{figures['rss_mib']:5.0f} MiB  (load {os.getloadavg()[0]:.1f})", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 400, 2000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=HERE / "out" / "catalog_scale")
    parser.add_argument("--legacy", action="store_true", help="Also time reads of, and migration from, catalog.lock.")
    parser.add_argument("--baseline", type=Path, help="Another source tree of the package to time (before).")
    parser.add_argument("--json", type=Path, default=HERE / "out" / "catalog_scale.json")
    options = parser.parse_args()

    results: dict[str, Any] = {"sizes": {}, "python": sys.version.split()[0], "cpus": os.cpu_count()}
    for size in options.sizes:
        folder = options.workdir / f"n{size}"
        built = ensure_built(folder, size)
        row: dict[str, Any] = {"full_build_seconds": built}
        for label, (args, ok) in commands(size).items():
            row[label] = measure(args, folder, options.repeat, ok=ok)
            report(size, label, row[label])
        if options.legacy:
            old = legacy_copy(folder, options.workdir / f"n{size}-legacy")
            name = f"d{size // 2:06d}"
            row["legacy_show"] = measure(["show", name], old, 1)
            row["legacy_status"] = measure(["status"], old, 1)
            row["legacy_rebuild_migrating"] = measure(["build", "--force", name, "-q"], old, 1)
            row["after_migration_status"] = measure(["status"], old, 1)
            assert not (old / "catalog.lock").exists()
            assert len(list((old / "catalog.lock.d").glob("*.json"))) == size
            for label in ("legacy_show", "legacy_status", "legacy_rebuild_migrating", "after_migration_status"):
                report(size, label, row[label])
        if options.baseline is not None:
            old = legacy_copy(folder, options.workdir / f"n{size}-baseline")
            env = {**os.environ, "PYTHONPATH": str(options.baseline.resolve())}
            for label, (args, ok) in commands(size).items():
                row[f"baseline_{label}"] = measure(args, old, 1, env=env, ok=ok)
                report(size, f"baseline {label}", row[f"baseline_{label}"])
        results["sizes"][str(size)] = row
    one = results["sizes"].get("1")
    if one is not None:
        for size, row in results["sizes"].items():
            row["rebuild_vs_1"] = row["rebuild"]["seconds"] / one["rebuild"]["seconds"]
            row["rebuild_vs_1_cpu"] = row["rebuild"]["cpu"] / one["rebuild"]["cpu"]
            print(f"{size:>5} datasets  rebuild / the same in a 1-dataset catalog: {row['rebuild_vs_1']:.2f}x wall, "
                  f"{row['rebuild_vs_1_cpu']:.2f}x CPU")  # fmt: skip
    options.json.parent.mkdir(parents=True, exist_ok=True)
    options.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {options.json}")


if __name__ == "__main__":
    main()
