"""Machine load: the benchmark shares the CPUs with whatever else runs (busy CPUs read from ``/proc/stat``)."""

from __future__ import annotations

import os
import time
from typing import Final

__all__ = ["CLOCK_TICKS", "cpu_busy_seconds", "wait_for_idle"]

CLOCK_TICKS: Final = os.sysconf("SC_CLK_TCK")


def cpu_busy_seconds() -> float:
    """CPU seconds spent busy by the whole machine since boot (user, nice, system, irq, softirq; all CPUs)."""
    with open("/proc/stat") as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = fields[:7]
    return (user + nice + system + irq + softirq) / CLOCK_TICKS


def wait_for_idle(max_wait: float, threshold: float = 0.15, window: float = 1.0) -> float:
    """Wait (up to ``max_wait`` s) until the machine's busy CPUs over ``window`` s fall below ``threshold``.

    Returns the last measured load in busy CPUs.
    """
    deadline = time.monotonic() + max_wait
    while True:
        before = cpu_busy_seconds()
        time.sleep(window)
        load = (cpu_busy_seconds() - before) / window
        if load < threshold or time.monotonic() >= deadline:
            return load
