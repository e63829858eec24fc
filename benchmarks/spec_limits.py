"""Cost of refusing (or reading) hostile spec files at the default limits: wall time and peak memory per case.

Each case runs in a fresh process (``python benchmarks/spec_limits.py``): the catalog text is generated there, then
``CatalogSpec.from_file`` reads it; the process reports the seconds spent loading, the peak of traced Python
allocations during a second load (tracemalloc), and how much the process's resident peak grew (ru_maxrss). The bar
of issue 15: < 200 MB and < 2 s for the alias, size and nesting limits.
"""

from __future__ import annotations

import contextlib
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

HEAD = "version: 1\nname: bench\nroot: ./out\n"
ENTRY = "  d{:06d}: {{template: PostStack3DTime, source: {{segy: s.sgy}}, chunks: [4, 4, 8]}}\n"


def _laughs(levels: int) -> str:
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"l{i}: &l{i} [{','.join([f'*l{i - 1}'] * 10)}]" for i in range(1, levels)]
    return HEAD + "\n".join(lines) + "\n"


def _largest_catalog() -> str:
    count = (4 * 2**20 - 200) // len(ENTRY.format(0))
    return HEAD + "datasets:\n" + "".join(ENTRY.format(i) for i in range(count))


CASES = {
    "billion laughs, 9 levels (384 bytes)": lambda: _laughs(9),
    "billion laughs, 30 levels": lambda: _laughs(30),
    "merge-key bomb, 12 levels": lambda: (
        "m0: &m0 {a: 1}\n"
        + "".join(f"m{i}: &m{i} {{<<: [{', '.join([f'*m{i - 1}'] * 10)}], k{i}: 1}}\n" for i in range(1, 12))
    ),
    "50 MiB file": lambda: HEAD + ("# " + "x" * 1021 + "\n") * (50 * 1024),
    "4 MiB catalog (limit), 38k datasets": _largest_catalog,
    "4 MiB of one list (2M values)": lambda: HEAD + "x: [" + "0," * (2 * 2**20 - 30) + "0]\n",
    "nesting 100,000 (flow)": lambda: HEAD + "x: " + "[" * 100_000 + "]" * 100_000 + "\n",
    "nesting 1,000 (block)": lambda: (
        HEAD + "x:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 1000)) + "  " * 1000 + "v: 1\n"
    ),
    "2,000 datasets (read)": lambda: HEAD + "datasets:\n" + "".join(ENTRY.format(i) for i in range(2000)),
}


def measure(path: Path, trace: bool = True) -> dict[str, object]:
    """Load the catalog file ``path`` in this process (a fresh one, started by :func:`run`)."""
    from mdio_catalog.exceptions import MDIOError
    from mdio_catalog.specs import CatalogSpec

    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    outcome = "read"
    started = time.perf_counter()
    try:
        CatalogSpec.from_file(path)
    except MDIOError as exc:
        outcome = f"{type(exc).__name__}: {str(exc).split(': ', 2)[-1][:70]}"
    seconds = time.perf_counter() - started
    rss = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base_rss) / 1024
    peak = None
    if trace:
        tracemalloc.start()
        with contextlib.suppress(MDIOError):
            CatalogSpec.from_file(path)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return {"bytes": path.stat().st_size, "seconds": seconds, "peak_mib": peak, "rss_mib": rss, "outcome": outcome}


def run(name: str, trace: bool = True) -> dict[str, object]:
    """Write case ``name`` to a file here, load it in a fresh process, return what that process measured."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "catalog.yaml")
        path.write_text(CASES[name](), encoding="utf-8")
        command = [sys.executable, __file__, "--one", str(path), *([] if trace else ["--no-trace"])]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
    return {"case": name, **json.loads(done.stdout)}


def main() -> None:
    if len(sys.argv) >= 3 and sys.argv[1] == "--one":
        print(json.dumps(measure(Path(sys.argv[2]), trace="--no-trace" not in sys.argv)))
        return
    print(f"{'case':40} {'file':>10} {'time s':>7} {'peak MiB':>9} {'RSS+ MiB':>9}  outcome")
    for name in CASES:
        row = run(name)
        print(
            f"{name:40} {row['bytes']:>10,} {row['seconds']:>7.3f} {row['peak_mib']:>9.1f} {row['rss_mib']:>9.1f}  "
            f"{row['outcome']}"
        )


if __name__ == "__main__":
    main()
