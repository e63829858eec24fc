"""Running a worker script (any script, either environment) in a fresh interpreter, sampling its memory."""

from __future__ import annotations

import json
import math
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .environments import clean_env
from .machine import cpu_busy_seconds
from .memory import MemoryPeak, TreeSampler

__all__ = ["WorkerResult", "run_worker"]


@dataclass
class WorkerResult:
    """One run of a worker script in a fresh interpreter: its JSON report (last stdout line) and what we sampled."""

    returncode: int = -1
    report: dict[str, Any] = field(default_factory=dict)
    wall_s: float = math.nan  # the whole subprocess, interpreter start and imports included
    other_load: float = math.nan  # CPUs kept busy by other processes during the run
    peak: MemoryPeak = field(default_factory=MemoryPeak)
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.error


def run_worker(
    python: Path,
    script: Path,
    argument: str,
    workdir: Path,
    log_path: Path,
    interval: float = 0.02,
    extra_env: dict[str, str] | None = None,
) -> WorkerResult:
    """Run ``python script argument`` in a fresh interpreter, sampling its process tree's memory.

    The worker prints a JSON object as its last stdout line; a ``cpu_s`` key in it (user + system of the worker and
    its children) is used to estimate the CPUs other processes took meanwhile (:attr:`WorkerResult.other_load`).
    """
    env = clean_env()
    env.update(extra_env or {})
    result = WorkerResult()
    os.sync()  # earlier runs' dirty pages are flushed now, not during this run
    with log_path.open("w") as log:
        busy_before = cpu_busy_seconds()
        started = time.perf_counter()
        proc = subprocess.Popen(
            [str(python), str(script), argument],
            stdout=subprocess.PIPE,
            stderr=log,
            env=env,
            cwd=str(workdir),
            text=True,
        )
        with TreeSampler(proc.pid, interval) as sampler:
            stdout, _ = proc.communicate()
        result.wall_s = time.perf_counter() - started
        busy = cpu_busy_seconds() - busy_before
    result.returncode = proc.returncode
    result.peak = sampler.peak
    lines = stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        result.error = f"exit {proc.returncode}; log {log_path}:\n{log_path.read_text()[-3000:]}"
        return result
    try:
        result.report = json.loads(lines[-1])
    except json.JSONDecodeError:
        result.error = f"no JSON report on stdout (last line {lines[-1][:200]!r}); log {log_path}"
        return result
    cpu = float(result.report.get("cpu_s", 0.0))
    result.other_load = max(busy - cpu, 0.0) / result.wall_s
    return result
