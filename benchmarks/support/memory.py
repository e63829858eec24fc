"""Process-tree memory sampler: summed VmRSS / RssAnon of a process and its descendants, read from ``/proc``."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

__all__ = ["MemoryPeak", "TreeSampler", "process_tree"]


def _parent_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may contain spaces or parentheses, so split after the last ')'.
        ppid = int(stat[stat.rfind(b")") + 2 :].split(maxsplit=2)[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants that exist right now."""
    children = _parent_map()
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


def _status_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, RssAnon) of ``pid`` in KiB; zeros for a process that is gone or a zombie."""
    rss = anon = 0
    try:
        with open(f"/proc/{pid}/status", "rb") as handle:
            for line in handle:
                if line.startswith(b"VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith(b"RssAnon:"):
                    anon = int(line.split()[1])
                    break
    except OSError:
        pass
    return rss, anon


@dataclass
class MemoryPeak:
    rss_bytes: int = 0  # peak over time of the tree's summed VmRSS
    anon_bytes: int = 0  # peak over time of the tree's summed RssAnon (heap etc., without file-backed pages)
    max_processes: int = 0
    samples: int = 0


class TreeSampler:
    """Samples the summed RSS of a process and all its descendants every ``interval`` seconds in a thread.

    The sum counts pages shared between processes (e.g. forked workers) once per process, as the brief asks:
    an upper bound on the memory the tree needs.
    """

    def __init__(self, root: int, interval: float = 0.02) -> None:
        self.root = root
        self.interval = interval
        self.peak = MemoryPeak()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    def __enter__(self) -> TreeSampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        pids = process_tree(self.root)
        rss = anon = 0
        for pid in pids:
            r, a = _status_kib(pid)
            rss += r
            anon += a
        peak = self.peak
        peak.rss_bytes = max(peak.rss_bytes, rss * 1024)
        peak.anon_bytes = max(peak.anon_bytes, anon * 1024)
        peak.max_processes = max(peak.max_processes, len(pids))
        peak.samples += 1
