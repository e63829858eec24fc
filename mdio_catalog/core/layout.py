"""Every group, array and attribute name of the MDIO v0 layout, in one place.

The reference implementation (multidimio 0.9.3) writes this hierarchy; we read and write exactly the same names
so datasets move freely between the two. Nothing else in the package spells these strings.

    <root>/                       .zgroup .zattrs .zmetadata
    <root>/data/chunked_<ap>      trace samples, grid shape (sample axis last)
    <root>/metadata/              .zattrs: text_header, binary_header
    <root>/metadata/chunked_<ap>_trace_headers
    <root>/metadata/live_mask
"""

from __future__ import annotations

import re
from typing import Any, Final

ZARR_FORMAT: Final = 2
CHUNK_KEY_ENCODING: Final[dict[str, Any]] = {"name": "v2", "separator": "/"}

DATA_GROUP: Final = "data"
METADATA_GROUP: Final = "metadata"
LIVE_MASK: Final = "live_mask"
ARRAY_PREFIX: Final = "chunked_"
HEADER_SUFFIX: Final = "_trace_headers"

# Root attributes.
ATTR_API_VERSION: Final = "api_version"
ATTR_CREATED: Final = "created"
ATTR_DIMENSION: Final = "dimension"
ATTR_TRACE_COUNT: Final = "trace_count"
STAT_KEYS: Final = ("mean", "std", "rms", "min", "max")

# Metadata-group attributes.
ATTR_TEXT_HEADER: Final = "text_header"
ATTR_BINARY_HEADER: Final = "binary_header"

# Our own additions (ignored by the reference, which reads only the keys above).
ATTR_CATALOG: Final = "mdio_catalog"
#: Our own metadata arrays for exact SEG-Y round trips (the reference never opens them): rev 2 additional trace
#: headers (raw bytes per cell) and the positions / original bits of unnormalised IBM sample words.
ADDITIONAL_HEADERS: Final = "additional_trace_headers"
IBM_POSITIONS: Final = "unnormalised_ibm_positions"
IBM_WORDS: Final = "unnormalised_ibm_words"

#: Names of the sample dimension and of the synthetic dimension that NonBinned/HasDuplicates add.
SAMPLE_DIM: Final = "sample"
TRACE_DIM: Final = "trace"

_PATTERN_RE: Final = re.compile(r"^[A-Za-z0-9_]+$")


def default_access_pattern(ndim: int) -> str:
    """The pattern of a dataset chunked along every dimension: "012" for 3-D, "0123" for 4-D."""
    return "".join(str(i) for i in range(ndim))


def is_valid_access_pattern(pattern: str) -> bool:
    """Access patterns become array names, so they must be plain identifiers (no '/', no spaces)."""
    return bool(_PATTERN_RE.match(pattern))


def data_array_name(access_pattern: str) -> str:
    """Name of the trace array of ``access_pattern`` inside the data group."""
    return f"{ARRAY_PREFIX}{access_pattern}"


def data_array_path(access_pattern: str) -> str:
    return f"{DATA_GROUP}/{data_array_name(access_pattern)}"


def header_array_name(access_pattern: str) -> str:
    """Name of the trace-header array that travels with the trace array of ``access_pattern``."""
    return f"{ARRAY_PREFIX}{access_pattern}{HEADER_SUFFIX}"


def header_array_path(access_pattern: str) -> str:
    return f"{METADATA_GROUP}/{header_array_name(access_pattern)}"


def live_mask_path() -> str:
    return f"{METADATA_GROUP}/{LIVE_MASK}"


def access_pattern_of(array_name: str) -> str | None:
    """Inverse of :func:`data_array_name`: the pattern of a data-array name, or None if it is not one."""
    if array_name.startswith(ARRAY_PREFIX) and not array_name.endswith(HEADER_SUFFIX):
        return array_name[len(ARRAY_PREFIX) :]
    return None
