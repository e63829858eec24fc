"""Every name of the MDIO v1 layout (multidimio 1.x), in one place, like :mod:`mdio_catalog.core.layout` for v0.

One xarray-style dataset per survey, Zarr v3 (or v2 with consolidated metadata), all arrays at the root:

    <root>/                 attributes: apiVersion "1.x", createdOn, name (template), attributes{defaultVariableName,
                            surveyType, gatherType, ...}
    <root>/<dim>            1-D dimension coordinates (inline, crossline, offset, time or depth, ...)
    <root>/amplitude        the default variable (``attributes.defaultVariableName``), ``dimension_names`` = dims,
                            attribute ``statsV1`` (JSON: count, sum, sumSquares, min, max, histogram)
    <root>/trace_mask       bool, spatial dims
    <root>/headers          structured SEG-Y trace headers (rev1 fields without bytes 233-240), spatial dims
    <root>/cdp_x, cdp_y     float64 coordinates over the spatial dims, already scaled
    <root>/segy_file_header scalar; attributes textHeader (40 lines joined by newlines), binaryHeader (dict)
"""

from __future__ import annotations

import json
from typing import Any, Final

ATTR_API_VERSION: Final = "apiVersion"
ATTR_CREATED: Final = "createdOn"
ATTR_NAME: Final = "name"
ATTR_ATTRIBUTES: Final = "attributes"
ATTR_DEFAULT_VARIABLE: Final = "defaultVariableName"
DEFAULT_VARIABLE: Final = "amplitude"

TRACE_MASK: Final = "trace_mask"
HEADERS: Final = "headers"
FILE_HEADER: Final = "segy_file_header"
ATTR_TEXT_HEADER: Final = "textHeader"
ATTR_BINARY_HEADER: Final = "binaryHeader"
ATTR_STATS: Final = "statsV1"
ATTR_COORDINATES: Final = "coordinates"
ATTR_UNITS: Final = "unitsV1"
CDP_X: Final = "cdp_x"
CDP_Y: Final = "cdp_y"

#: Trace-header names that v1 specs commonly give standard words, and the v0 (rev1 standard) name of that word.
HEADER_ALIASES: Final = {"offset": "source_to_receiver_distance"}

#: The binary-header keys multidimio 1.x stores and accepts back on export (its SEG-Y rev1 spec's fields).
BINARY_HEADER_FIELDS: Final = (
    "job_id", "line_num", "reel_num", "data_traces_per_ensemble", "aux_traces_per_ensemble", "sample_interval",
    "orig_sample_interval", "samples_per_trace", "orig_samples_per_trace", "data_sample_format", "ensemble_fold",
    "trace_sorting_code", "vertical_sum_code", "sweep_freq_start", "sweep_freq_end", "sweep_length",
    "sweep_type_code", "sweep_trace_num", "sweep_taper_start", "sweep_taper_end", "taper_type_code",
    "correlated_data_code", "binary_gain_code", "amp_recovery_code", "measurement_system_code",
    "impulse_polarity_code", "vibratory_polarity_code", "fixed_length_trace_flag", "num_extended_text_headers",
    "segy_revision_major", "segy_revision_minor",
)  # fmt: skip

#: v1 names the sample axis by domain; v0 datasets we convert call it "sample" unless told otherwise.
SAMPLE_DIMS: Final = ("time", "depth")
API_VERSION_WRITTEN: Final = "1.1.3"

#: Dataset attributes per template kind (what multidimio 1.x writes for its own templates).
POST_STACK_3D: Final = {"surveyType": "3D", "gatherType": "stacked"}
PRE_STACK_3D: Final = {"surveyType": "3D", "gatherType": "cdp"}


def is_v1_attrs(attrs: dict[str, Any]) -> bool:
    """Whether root attributes are those of a v1 dataset (``apiVersion`` 1.x)."""
    version = attrs.get(ATTR_API_VERSION)
    return isinstance(version, str) and version.split(".", 1)[0] == "1"


def default_variable(attrs: dict[str, Any]) -> str:
    """Name of the data variable (``amplitude`` for seismic templates)."""
    inner = attrs.get(ATTR_ATTRIBUTES) or {}
    name = inner.get(ATTR_DEFAULT_VARIABLE) if isinstance(inner, dict) else None
    return str(name) if name else DEFAULT_VARIABLE


def parse_stats(raw: Any) -> dict[str, float] | None:
    """v0-style statistics (mean, std, rms, min, max) from a ``statsV1`` attribute (a JSON string or a dict)."""
    if raw is None:
        return None
    data = json.loads(raw) if isinstance(raw, str) else dict(raw)
    count = float(data.get("count") or 0)
    if count <= 0:
        return None
    mean = float(data["sum"]) / count
    mean_sq = float(data["sumSquares"]) / count
    return {
        "mean": mean,
        "std": max(mean_sq - mean * mean, 0.0) ** 0.5,
        "rms": mean_sq**0.5,
        "min": float(data["min"]),
        "max": float(data["max"]),
    }


def stats_attr(stats: dict[str, Any], count: int) -> str:
    """A ``statsV1`` JSON string from v0 statistics and the count of samples they were taken over."""
    mean, rms = float(stats.get("mean") or 0.0), float(stats.get("rms") or 0.0)
    return json.dumps(
        {
            "count": int(count),
            "sum": mean * count,
            "sumSquares": rms * rms * count,
            "min": float(stats.get("min") or 0.0),
            "max": float(stats.get("max") or 0.0),
            "histogram": {"counts": [], "binCenters": []},
        }
    )
