"""SEG-Y byte layout of the synthetic files: big-endian, revision 0 like segyio.create, IBM floats.

Header field tables, the structured dtype of one trace record, and the text and binary file headers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np

__all__ = [
    "BINARY_FIELDS",
    "COORDINATE_SCALAR",
    "FILE_HEADER_BYTES",
    "TRACE_FIELDS",
    "TRACE_HEADER_BYTES",
    "binary_header",
    "record_dtype",
    "text_header",
]

FILE_HEADER_BYTES: Final = 3600
TRACE_HEADER_BYTES: Final = 240


#: Binary header fields we fill: name -> (1-based byte in the file, numpy type).
BINARY_FIELDS: Final[dict[str, tuple[int, str]]] = {
    "job_id": (3201, ">i4"),
    "line_num": (3205, ">i4"),
    "reel_num": (3209, ">i4"),
    "data_traces_per_ensemble": (3213, ">i2"),
    "aux_traces_per_ensemble": (3215, ">i2"),
    "sample_interval": (3217, ">i2"),
    "orig_sample_interval": (3219, ">i2"),
    "samples_per_trace": (3221, ">i2"),
    "orig_samples_per_trace": (3223, ">i2"),
    "data_sample_format": (3225, ">i2"),
    "ensemble_fold": (3227, ">i2"),
    "trace_sorting_code": (3229, ">i2"),
    "measurement_system_code": (3255, ">i2"),
    "segy_revision": (3501, ">i2"),
    "fixed_length_trace_flag": (3503, ">i2"),
    "num_extended_text_headers": (3505, ">i2"),
}

#: Trace header fields we fill: name -> (1-based byte in the trace header, numpy type).
TRACE_FIELDS: Final[dict[str, tuple[int, str]]] = {
    "trace_seq_num_line": (1, ">i4"),
    "trace_seq_num_reel": (5, ">i4"),
    "orig_field_record_num": (9, ">i4"),
    "trace_num_orig_record": (13, ">i4"),
    "ensemble_num": (21, ">i4"),
    "trace_num_ensemble": (25, ">i4"),
    "trace_id_code": (29, ">i2"),
    "data_use": (35, ">i2"),
    "offset": (37, ">i4"),
    "coordinate_scalar": (71, ">i2"),
    "source_coord_x": (73, ">i4"),
    "source_coord_y": (77, ">i4"),
    "group_coord_x": (81, ">i4"),
    "group_coord_y": (85, ">i4"),
    "coordinate_unit": (89, ">i2"),
    "samples_per_trace": (115, ">i2"),
    "sample_interval": (117, ">i2"),
    "cdp_x": (181, ">i4"),
    "cdp_y": (185, ">i4"),
    "inline": (189, ">i4"),
    "crossline": (193, ">i4"),
    "shot_point": (197, ">i4"),
}

COORDINATE_SCALAR: Final = -100  # coordinates are stored in centimetres


def record_dtype(n_samples: int) -> np.dtype:
    """One trace record (240-byte header + IBM samples as big-endian words) as a structured dtype."""
    names = [*TRACE_FIELDS, "samples"]
    formats: list[Any] = [fmt for _, fmt in TRACE_FIELDS.values()] + [(">u4", (n_samples,))]
    offsets = [byte - 1 for byte, _ in TRACE_FIELDS.values()] + [TRACE_HEADER_BYTES]
    return np.dtype(
        {"names": names, "formats": formats, "offsets": offsets, "itemsize": TRACE_HEADER_BYTES + 4 * n_samples}
    )


def text_header(lines: Sequence[str]) -> bytes:
    """A 3200-byte EBCDIC text header: 40 card images ``C 1 ...`` of 80 characters."""
    cards = [f"C{i + 1:2d} {lines[i] if i < len(lines) else ''}"[:80].ljust(80) for i in range(40)]
    cards[-1] = "C40 END TEXTUAL HEADER".ljust(80)
    data = "".join(cards).encode("cp037")
    assert len(data) == 3200
    return data


def binary_header(values: dict[str, int]) -> bytes:
    names = list(BINARY_FIELDS)
    dtype = np.dtype(
        {
            "names": names,
            "formats": [BINARY_FIELDS[n][1] for n in names],
            "offsets": [BINARY_FIELDS[n][0] - 3201 for n in names],
            "itemsize": 400,
        }
    )
    header = np.zeros(1, dtype=dtype)
    for name, value in values.items():
        header[name] = value
    return header.tobytes()
