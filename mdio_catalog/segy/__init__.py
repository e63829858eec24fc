"""SEG-Y codecs and a fast, thread-safe reader.

One module per job: ``ibm`` (IBM float <-> IEEE), ``formats`` (sample formats), ``text_header``,
``binary_header``, ``trace_headers`` (header words as numpy columns), ``source`` (local/fsspec byte access),
``layout`` (where things are in a file) and ``reader`` (:class:`SegyFile`).
"""

from mdio_catalog.segy.binary_header import (
    detect_endian,
    encode_binary_header,
    parse_binary_header,
)
from mdio_catalog.segy.formats import SAMPLE_FORMATS, SampleFormat, decode_samples, encode_samples, get_format
from mdio_catalog.segy.ibm import float_to_ibm, ibm_to_float
from mdio_catalog.segy.layout import SegyLayout, resolve_layout
from mdio_catalog.segy.reader import SegyFile
from mdio_catalog.segy.text_header import (
    decode_text_header,
    detect_text_encoding,
    encode_text_header,
)
from mdio_catalog.segy.trace_headers import HeaderField, header_field, normalize_fields

__all__ = [
    "SAMPLE_FORMATS",
    "HeaderField",
    "SampleFormat",
    "SegyFile",
    "SegyLayout",
    "decode_samples",
    "decode_text_header",
    "detect_endian",
    "detect_text_encoding",
    "encode_binary_header",
    "encode_samples",
    "encode_text_header",
    "float_to_ibm",
    "get_format",
    "header_field",
    "ibm_to_float",
    "normalize_fields",
    "parse_binary_header",
    "resolve_layout",
]
