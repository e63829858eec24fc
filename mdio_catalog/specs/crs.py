"""The coordinate reference system of a dataset's CDP X/Y headers: ``crs: EPSG:NNNN``.

Metadata only (not part of the spec hash: naming the CRS does not change a byte of the data). Checked here by form
and range (EPSG's codes run from 1024 to 32767); whether PROJ knows the code is checked where it is used (STAC).
"""

from __future__ import annotations

import re
from typing import Annotated, Final

from pydantic import AfterValidator, Field

#: EPSG's code space (the EPSG dataset's CRS codes all fall inside it; 0-1023 and 32768+ are not EPSG codes).
EPSG_MIN: Final = 1024
EPSG_MAX: Final = 32767
_EPSG_RE: Final = re.compile(r"^EPSG:(\d{1,6})$", re.IGNORECASE)


def check_epsg(value: str) -> str:
    """``EPSG:NNNN`` upper-cased without leading zeros; a ValueError names what is wrong otherwise."""
    match = _EPSG_RE.match(value.strip())
    if match is None:
        raise ValueError(f"crs {value!r} is not of the form EPSG:NNNN (for example EPSG:32631)")
    code = int(match.group(1))
    if not EPSG_MIN <= code <= EPSG_MAX:
        raise ValueError(f"crs {value!r}: EPSG codes run from {EPSG_MIN} to {EPSG_MAX}")
    return f"EPSG:{code}"


Crs = Annotated[
    str,
    AfterValidator(check_epsg),
    Field(
        description="CRS of the CDP X/Y headers, EPSG:NNNN (metadata: not part of the spec hash; used by STAC).",
        json_schema_extra={"pattern": "^[Ee][Pp][Ss][Gg]:[0-9]{4,5}$", "examples": ["EPSG:32631", "EPSG:23031"]},
    ),
]

__all__ = ["EPSG_MAX", "EPSG_MIN", "Crs", "check_epsg"]
