"""File helpers: total size of a tree, the page cache (read a file or tree once, drop caches), byte comparison."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

__all__ = ["compare_files", "drop_caches", "tree_size", "warm_file", "warm_tree"]


def tree_size(path: Path) -> tuple[int, int]:
    """Total bytes (apparent sizes) and number of files under ``path``."""
    total = files = 0
    for root, _, names in os.walk(path):
        for name in names:
            total += os.lstat(os.path.join(root, name)).st_size
            files += 1
    return total, files


def warm_file(path: Path, block: int = 16 * 1024 * 1024) -> float:
    """Read ``path`` once so it sits in the page cache; returns the seconds taken."""
    started = time.perf_counter()
    buffer = bytearray(block)
    with path.open("rb", buffering=0) as handle:
        while handle.readinto(buffer):
            pass
    return time.perf_counter() - started


def drop_caches() -> None:
    """``sync; echo 3 > /proc/sys/vm/drop_caches`` (needs root)."""
    os.sync()
    Path("/proc/sys/vm/drop_caches").write_text("3\n")


def warm_tree(path: Path) -> tuple[float, int]:
    """Read every file under ``path`` once (page cache); returns the seconds taken and the bytes read."""
    started = time.perf_counter()
    total = 0
    for root, _, names in os.walk(path):
        for name in names:
            with open(os.path.join(root, name), "rb", buffering=0) as handle:
                total += len(handle.read())
    return time.perf_counter() - started, total


def compare_files(produced: Path, expected: Path, block: int = 16 * 1024 * 1024) -> str:
    """``"identical"``, or where ``produced`` first differs from ``expected`` (byte offset and sizes)."""
    size_a, size_b = produced.stat().st_size, expected.stat().st_size
    offset = 0
    with produced.open("rb") as a, expected.open("rb") as b:
        while True:
            chunk_a, chunk_b = a.read(block), b.read(block)
            if chunk_a != chunk_b:
                n = min(len(chunk_a), len(chunk_b))
                diff = np.flatnonzero(
                    np.frombuffer(chunk_a[:n], dtype=np.uint8) != np.frombuffer(chunk_b[:n], dtype=np.uint8)
                )
                at = offset + (int(diff[0]) if diff.size else n)
                return f"differs from byte {at} on ({size_a} vs {size_b} bytes)"
            if not chunk_a:
                return "identical" if size_a == size_b else f"sizes differ ({size_a} vs {size_b} bytes)"
            offset += len(chunk_a)
