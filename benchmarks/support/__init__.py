"""Shared helpers for the benchmark scripts, one module per concern.

* :mod:`support.segy`: the SEG-Y byte layout (header fields, trace records, text and binary headers).
* :mod:`support.surveys`: the synthetic surveys and their seismic-like samples, block by block.
* :mod:`support.segy_files`: writing, caching and verifying the synthetic SEG-Y files; MDIO-vs-segyio check.
* :mod:`support.files`: file helpers: sizes of a tree, page cache (warm, drop), byte-for-byte comparison.
* :mod:`support.machine`: machine load (busy CPUs from ``/proc/stat``, waiting for an idle machine).
* :mod:`support.memory`: the process-tree RSS sampler (reads ``/proc`` directly).
* :mod:`support.environments`: interpreters and environments for child runs (ours, the reference's, clean env).
* :mod:`support.workers`: running any worker script in a fresh interpreter with RSS sampling.
* :mod:`support.ingest_runs`: running one ``segy_to_mdio`` ingestion (ours or the reference's) the same way.
* :mod:`support.reports`: what code was measured and writing the JSON report.

Everything here runs in *our* virtual environment. The only code that runs in the reference's environment is the
small worker scripts (e.g. :data:`support.ingest_runs.WORKER_SOURCE`), written to the work directory and executed
as files (the reference uses a process pool, so its entry point must be guarded by ``if __name__ == "__main__"``).

The scripts put ``benchmarks/`` on ``sys.path`` and import from ``common`` (a facade re-exporting these modules)
or from ``support.<module>``. Units: MB means 10**6 bytes everywhere (sizes, throughput and RSS).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
DEFAULT_WORKDIR: Final = Path(__file__).resolve().parents[1] / "out"
MB: Final = 1_000_000

__all__ = ["DEFAULT_WORKDIR", "MB", "REPO_ROOT"]
