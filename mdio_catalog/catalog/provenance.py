"""The provenance of a built dataset: what it was built from, with what, and what came out."""

from __future__ import annotations

import math
import platform
from datetime import datetime
from typing import Any

import numpy as np

from mdio_catalog.api.accessor import MDIOAccessor
from mdio_catalog.specs.provenance import Histogram, ProvenanceRecord, SourceIdentity, Statistics
from mdio_catalog.specs.resolve import ResolvedDataset, spec_hash

#: Bins of the sampled value histogram.
HISTOGRAM_BINS = 32
#: Chunks of the trace array read for the histogram (spread over the volume).
HISTOGRAM_CHUNKS = 8


def software_versions() -> dict[str, str]:
    import numcodecs
    import zarr

    from mdio_catalog.version import __version__

    return {
        "mdio_catalog": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "zarr": zarr.__version__,
        "numcodecs": numcodecs.__version__,
    }


def sampled_histogram(reader: MDIOAccessor, bins: int = HISTOGRAM_BINS) -> Histogram | None:
    """A histogram of non-zero sample values from a few whole chunks spread over the volume (cheap and
    representative; the exact min/max/mean/std are in the statistics)."""
    stats = reader.stats
    low, high = float(stats.get("min") or 0.0), float(stats.get("max") or 0.0)
    if not (high > low and math.isfinite(low) and math.isfinite(high)):  # NaN/inf: statistics of an older version
        return None
    chunks = reader.chunks
    grid = [max(1, -(-n // c)) for n, c in zip(reader.shape, chunks, strict=True)]
    total = int(np.prod(grid))
    counts = np.zeros(bins, dtype=np.int64)
    edges = np.linspace(low, high, bins + 1)
    for flat in np.unique(np.linspace(0, total - 1, min(HISTOGRAM_CHUNKS, total)).astype(np.int64)):
        index = np.unravel_index(int(flat), grid)
        key = tuple(slice(i * c, min((i + 1) * c, n)) for i, c, n in zip(index, chunks, reader.shape, strict=True))
        values = np.asarray(reader.trace_array[key])
        values = values[values != 0]
        counts += np.histogram(values, bins=edges)[0]
    return Histogram(edges=edges.tolist(), counts=counts.tolist())


def provenance_record(
    resolved: ResolvedDataset,
    identity: SourceIdentity,
    output_url: str,
    reader: MDIOAccessor,
    started: datetime,
    finished: datetime,
) -> ProvenanceRecord:
    """The record of one build, read back from the dataset it produced."""
    stats = reader.stats
    values = {k: float(v or 0.0) for k, v in stats.items()}
    # Statistics skip NaN/inf samples; a dataset written before they did may still hold NaN: no statistics then.
    statistics = Statistics(**values) if all(math.isfinite(v) for v in values.values()) else None
    parameters: dict[str, Any] = {
        "chunks": list(reader.chunks),
        "compression": resolved.compression.to_data(exclude_defaults=False),
    }
    return ProvenanceRecord(
        dataset=resolved.name,
        spec_hash=spec_hash(resolved),
        spec=resolved.redacted_data(),
        source=identity,
        byte_map=list(resolved.index) if resolved.kind == "segy" else [],
        grid_overrides=resolved.grid_overrides.to_reference() if resolved.kind == "segy" else {},
        software=software_versions(),
        parameters=parameters,
        started=started,
        finished=finished,
        dimensions=list(reader.grid.dim_names),
        shape=list(reader.shape),
        trace_count=reader.trace_count,
        statistics=statistics,
        histogram=sampled_histogram(reader),
        access_patterns=reader.access_patterns,
        output=output_url,
    )
