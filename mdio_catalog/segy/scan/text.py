"""What the 40-line text header says about a file: its domain (time or depth) and the bytes it names as keys.

Pure functions of the text lines; they only nudge the proposal (a reason, a small prior bonus), never decide it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final, Literal

from mdio_catalog.core.headers import TRACE_HEADER_SIZE

_DEPTH_PATTERNS: Final = (
    r"\bIN DEPTH\b",
    r"\bDEPTH (MIN|MAX|RANGE|DOMAIN)\b",
    r"\bDEPTH MIGRAT",
    r"\bPSDM\b",
    r"\bSAMPLE INTERVAL\W+[\d.]+\s*(M|FT|METRES?|METERS?|FEET)\b",
)
_TIME_PATTERNS: Final = (
    r"\bIN TIME\b",
    r"\bTIME (MIN|MAX|RANGE|DOMAIN)\b",
    r"\bTWT\b",
    r"\bPSTM\b",
    r"\bSAMPLE INTERVAL\W+[\d.]+\s*(MS|MSEC|US|SEC|S)\b",
)


def guess_domain(lines: Sequence[str]) -> tuple[Literal["time", "depth"], str]:
    """The domain the text header speaks of (time when it says nothing), and the reason to show."""
    text = "\n".join(lines).upper()
    depth = sum(len(re.findall(p, text)) for p in _DEPTH_PATTERNS)
    time = sum(len(re.findall(p, text)) for p in _TIME_PATTERNS)
    if depth > time:
        return "depth", "Domain: depth (the text header speaks of depth); change the template if it is time."
    if time:
        return "time", "Domain: time (the text header speaks of time)."
    return "time", "Domain: time (assumed: the text header does not say); use a *Depth template for depth data."


_HINT_ROLES: Final = {
    "inline": r"\b(?:3D\s+)?(?:IN-?LINE|ILINE|INL)(?:\s+(?:NUMBER|NO\.?|NUM))?\b",
    "crossline": r"\b(?:3D\s+)?(?:X-?LINE|CROSS-?LINE|XLINE|CRL|XL)(?:\s+(?:NUMBER|NO\.?|NUM))?\b",
}


def text_byte_hints(lines: Sequence[str]) -> dict[str, int]:
    """Bytes the text header names for inline and crossline ("INLINE: 189-192", "Xline number : bytes 21-24")."""
    hints: dict[str, int] = {}
    for line in lines:
        upper = line.upper()
        for role, pattern in _HINT_ROLES.items():
            for match in re.finditer(pattern, upper):
                tail = upper[match.end() : match.end() + 40]
                found = re.match(r"[^0-9A-Z]*(?:BYTES?|POS(?:ITION)?S?)?[^0-9A-Z]*(\d{1,3})\s*[-–]\s*(\d{1,3})\b", tail)
                if not found:
                    continue
                first, last = int(found.group(1)), int(found.group(2))
                if last - first in (1, 3) and 1 <= first <= TRACE_HEADER_SIZE - 1:
                    hints.setdefault(role, first)
    return hints
