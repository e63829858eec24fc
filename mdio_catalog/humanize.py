"""Numbers for people: byte counts as B/KiB/MiB/GiB/TiB, shared by the command line and the catalog site."""

from __future__ import annotations


def human_size(n: int | None, missing: str = "-") -> str:
    """``1536`` -> ``1.5 KiB``; ``missing`` when the size is unknown."""
    if n is None:
        return missing
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"
