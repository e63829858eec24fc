"""The v0 layout names, checked against mdio-v0-format.md (store layout section)."""

from __future__ import annotations

import pytest

from mdio_catalog.core import layout


def test_format_and_chunk_keys():
    assert layout.ZARR_FORMAT == 2
    assert layout.CHUNK_KEY_ENCODING == {"name": "v2", "separator": "/"}


@pytest.mark.parametrize(("ndim", "pattern"), [(2, "01"), (3, "012"), (4, "0123"), (5, "01234")])
def test_default_access_pattern(ndim, pattern):
    assert layout.default_access_pattern(ndim) == pattern


def test_array_paths_match_the_format_document():
    assert layout.data_array_name("012") == "chunked_012"
    assert layout.data_array_path("012") == "data/chunked_012"
    assert layout.data_array_path("fast_il") == "data/chunked_fast_il"
    assert layout.header_array_name("012") == "chunked_012_trace_headers"
    assert layout.header_array_path("fast_il") == "metadata/chunked_fast_il_trace_headers"
    assert layout.live_mask_path() == "metadata/live_mask"


def test_attribute_names():
    assert (layout.ATTR_API_VERSION, layout.ATTR_CREATED, layout.ATTR_DIMENSION, layout.ATTR_TRACE_COUNT) == (
        "api_version",
        "created",
        "dimension",
        "trace_count",
    )
    assert set(layout.STAT_KEYS) == {"mean", "std", "rms", "min", "max"}
    assert (layout.ATTR_TEXT_HEADER, layout.ATTR_BINARY_HEADER) == ("text_header", "binary_header")


@pytest.mark.parametrize(
    ("pattern", "valid"),
    [("012", True), ("fast_il", True), ("Z9", True), ("", False), ("a/b", False), ("a b", False), ("il-fast", False)],
)
def test_is_valid_access_pattern(pattern, valid):
    assert layout.is_valid_access_pattern(pattern) is valid


@pytest.mark.parametrize(
    ("array_name", "pattern"),
    [
        ("chunked_012", "012"),
        ("chunked_fast_il", "fast_il"),
        ("chunked_012_trace_headers", None),
        ("live_mask", None),
        ("data", None),
    ],
)
def test_access_pattern_of(array_name, pattern):
    assert layout.access_pattern_of(array_name) == pattern
