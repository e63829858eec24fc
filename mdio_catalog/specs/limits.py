"""Documented limits of what a spec may ask for, each with the setting that raises it.

A hostile or broken catalog must cost little to refuse: a spec file is read only up to ``spec_max_bytes``, its
nesting, its values and what its YAML aliases expand to are bounded while it is parsed (never after), and every
limit that trips is a located :class:`~mdio_catalog.exceptions.SpecLimitError` naming the setting to raise. Names
are bounded so that a dataset ``validate`` accepts is one that can be built: file systems allow 255 bytes per name,
and the staging beside a target adds a suffix (``.NAME.partial-<12 hex>``, nested: twice), so a dataset's folder or
file name may use at most :data:`MAX_OUTPUT_NAME_BYTES`. Chunks are bounded by ``max_chunk_mib`` of uncompressed
values, so that a typo such as ``chunks: [128, 128, 1000000000]`` is a spec error, not an allocation failure.

=====================================  =========  ============================================================
setting (``MDIO_CATALOG_...``)          default    what it bounds
=====================================  =========  ============================================================
``SPEC_MAX_BYTES``                     4 MiB      size of a catalog or template file (not ``catalog.lock``)
``SPEC_MAX_DEPTH``                     64         nesting of mappings and lists, aliases expanded
``SPEC_MAX_NODES``                     250000     values in one catalog or template file, aliases expanded
``SPEC_MAX_ALIAS_NODES``               100000     values that YAML aliases (``*name``, ``<<: *name``) add
``MAX_CHUNK_MIB``                      1024       uncompressed size of one chunk (4-byte values in specs)
=====================================  =========  ============================================================
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final

#: File systems allow 255 bytes per name. The longest name a write makes beside a target NAME is the owner marker's
#: temporary name of a nested staging (a catalog build stages, and the converter it runs stages again):
#: ``.`` + ``.NAME.partial-<12 hex>`` + ``.owner-<12 hex>`` + ``.tmp-<12 hex>`` = NAME + 59 bytes; so 196.
MAX_OUTPUT_NAME_BYTES: Final = 196

#: Bytes per value assumed when a spec's chunk shape is checked (float32 samples, the MDIO v0 data type).
SPEC_ITEMSIZE: Final = 4


@dataclass(frozen=True)
class SpecLimits:
    """What one parse may cost; ``None`` means unbounded (the lock file, written by this package, has no size or
    value bound; depth and aliases are bounded everywhere)."""

    max_bytes: int | None
    max_depth: int
    max_nodes: int | None
    max_alias_nodes: int

    @classmethod
    def current(cls) -> SpecLimits:
        """The limits in force (``MDIO_CATALOG_SPEC_*`` settings)."""
        from mdio_catalog.settings import get_settings

        settings = get_settings()
        return cls(
            max_bytes=settings.spec_max_bytes,
            max_depth=settings.spec_max_depth,
            max_nodes=settings.spec_max_nodes,
            max_alias_nodes=settings.spec_max_alias_nodes,
        )

    def without_size_bounds(self) -> SpecLimits:
        """These limits without the file-size and value-count bounds (for files this package writes)."""
        return replace(self, max_bytes=None, max_nodes=None)


def human_bytes(n: float) -> str:
    """``4 MiB``, ``3.6 TiB``, ``512 bytes``."""
    if n < 1024:
        return f"{n:.0f} bytes"
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        n /= 1024
        if n < 1024 or unit == "EiB":
            return f"{n:.0f} {unit}" if n == int(n) else f"{n:.1f} {unit}"
    return f"{n:.0f} EiB"  # pragma: no cover - the loop always returns


def max_chunk_bytes() -> int:
    """The largest uncompressed chunk in bytes (``MDIO_CATALOG_MAX_CHUNK_MIB``)."""
    from mdio_catalog.settings import get_settings

    return int(get_settings().max_chunk_mib * 2**20)


def chunk_size_problem(chunks: Sequence[int], itemsize: int = SPEC_ITEMSIZE) -> str | None:
    """Why a chunk of shape ``chunks`` is too large to write (None when it is fine)."""
    values = math.prod(int(c) for c in chunks)
    size = values * itemsize
    limit = max_chunk_bytes()
    if size <= limit:
        return None
    return (
        f"chunk shape {tuple(int(c) for c in chunks)} holds {values:,} values, {human_bytes(size)} per chunk at "
        f"{itemsize} bytes a value: more than the limit of {human_bytes(limit)} (MDIO_CATALOG_MAX_CHUNK_MIB); "
        "chunks of 1-16 MiB read and write best"
    )


def output_name_problem(component: str) -> str | None:
    """Why one folder or file name of a dataset's output path would not fit beside its staging suffixes."""
    size = len(component.encode("utf-8"))
    if size <= MAX_OUTPUT_NAME_BYTES:
        return None
    return (
        f"the name {component[:40]!r}... is {size} bytes; a dataset's folder and file names may have at most "
        f"{MAX_OUTPUT_NAME_BYTES} bytes (file systems allow 255, and writes are staged beside the target under a "
        "longer name): shorten the dataset name or the pattern's output"
    )
