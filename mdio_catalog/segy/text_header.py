"""The 3200-byte textual headers: EBCDIC or ASCII detection, 40 x 80 card images, and back.

Decoding is lossless (EBCDIC through code page 037, ASCII through Latin-1, both map all 256 bytes), so
``encode_text_header(decode_text_header(raw), encoding) == raw`` and exporting a file keeps its header bytes.
The encoding is guessed per 3200-byte block, because real files mix them (an ASCII extended header after an
EBCDIC main header).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Final, Literal

import numpy as np

from mdio_catalog.core.headers import TEXT_HEADER_SIZE
from mdio_catalog.exceptions import SegyFormatError, SegyTruncatedError

TextEncoding = Literal["ebcdic", "ascii"]

LINES: Final = 40
LINE_WIDTH: Final = 80

_CODECS: Final[dict[str, str]] = {"ebcdic": "cp037", "ascii": "latin-1"}


def _byte_set(ranges: Sequence[tuple[int, int]]) -> np.ndarray:
    mask = np.zeros(256, dtype=bool)
    for lo, hi in ranges:
        mask[lo : hi + 1] = True
    return mask


# Letters, digits and the space in each encoding. The two sets are disjoint, so counting how many bytes fall
# in each is a robust vote even for headers that are mostly NUL or hold only a few words.
_ASCII_TEXT: Final = _byte_set([(0x20, 0x20), (0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)])
_EBCDIC_TEXT: Final = _byte_set(
    [
        (0x40, 0x40),
        (0x81, 0x89),
        (0x91, 0x99),
        (0xA2, 0xA9),
        (0xC1, 0xC9),
        (0xD1, 0xD9),
        (0xE2, 0xE9),
        (0xF0, 0xF9),
    ]
)

#: The stanza that closes a variable run of extended textual headers (SEG-Y rev 2, ``((SEG: EndText))``).
_END_TEXT: Final = re.compile(r"\(\(\s*SEG\s*:\s*ENDTEXT\s*\)\)", re.IGNORECASE)


def detect_text_encoding(raw: bytes) -> TextEncoding:
    """Guess whether a textual header block is EBCDIC or ASCII.

    Each byte votes for the encoding in which it is a letter, digit or space; EBCDIC (the standard) wins ties,
    such as an all-NUL block.
    """
    arr = np.frombuffer(bytes(raw), dtype=np.uint8)
    ascii_votes = int(_ASCII_TEXT[arr].sum())
    ebcdic_votes = int(_EBCDIC_TEXT[arr].sum())
    return "ascii" if ascii_votes > ebcdic_votes else "ebcdic"


def decode_text(raw: bytes, encoding: TextEncoding | None = None) -> str:
    """Decode a textual block to one string of the same length (lossless; encoding guessed when not given)."""
    enc = encoding or detect_text_encoding(raw)
    return bytes(raw).decode(_codec(enc))


def decode_text_header(raw: bytes, encoding: TextEncoding | None = None, *, printable: bool = False) -> list[str]:
    """Decode a 3200-byte textual header to 40 lines of 80 characters.

    With ``printable=True`` control characters (NUL padding and the like) become spaces, for display; the
    default keeps every character so that :func:`encode_text_header` gives back the original bytes.
    """
    if len(raw) != TEXT_HEADER_SIZE:
        raise SegyFormatError(f"a textual header has {TEXT_HEADER_SIZE} bytes, got {len(raw)}")
    text = decode_text(raw, encoding)
    if printable:
        text = "".join(c if c.isprintable() else " " for c in text)
    return [text[i : i + LINE_WIDTH] for i in range(0, TEXT_HEADER_SIZE, LINE_WIDTH)]


def encode_text_header(text: str | Sequence[str], encoding: TextEncoding = "ebcdic") -> bytes:
    """Encode a header to exactly 3200 bytes.

    ``text`` is either one string (cut or space-padded to 3200 characters) or a sequence of at most 40 lines,
    each cut or space-padded to 80 characters. Characters the encoding lacks become ``?``.
    """
    if isinstance(text, str):
        flat = text
    else:
        lines = list(text)
        if len(lines) > LINES:
            raise SegyFormatError(f"a textual header holds {LINES} lines, got {len(lines)}")
        flat = "".join(line[:LINE_WIDTH].ljust(LINE_WIDTH) for line in lines)
    flat = flat[:TEXT_HEADER_SIZE].ljust(TEXT_HEADER_SIZE)
    return flat.encode(_codec(encoding), errors="replace")


def is_end_text_stanza(raw: bytes) -> bool:
    """True when an extended header block holds the ``((SEG: EndText))`` stanza, in either encoding."""
    return any(_END_TEXT.search(bytes(raw).decode(codec)) for codec in _CODECS.values())


def read_extended_text_headers(
    read_block: Callable[[int], bytes], count: int, *, max_blocks: int = 10_000
) -> list[bytes]:
    """Collect the extended textual header blocks that follow the binary header.

    ``count`` is binary-header byte 3505: ``0`` none, ``n > 0`` exactly ``n`` blocks, ``-1`` a variable number
    ending with (and including) the block that holds ``((SEG: EndText))``. ``read_block(i)`` returns the i-th
    3200-byte block, or fewer bytes where the file ends; a short block is a :class:`SegyTruncatedError`.
    """
    if count < -1:
        raise SegyFormatError(f"binary header byte 3505 (extended textual headers) is {count}; expected -1 or more")
    blocks: list[bytes] = []
    limit = count if count >= 0 else max_blocks
    for i in range(limit):
        block = read_block(i)
        if len(block) != TEXT_HEADER_SIZE:
            expected = f"{count}" if count >= 0 else "a variable number of"
            raise SegyTruncatedError(
                f"the file ends inside extended textual header {i + 1} "
                f"({len(block)} of {TEXT_HEADER_SIZE} bytes); "
                f"the binary header announces {expected} extended textual header(s)"
            )
        blocks.append(block)
        if count < 0 and is_end_text_stanza(block):
            return blocks
    if count < 0:
        raise SegyFormatError(
            f"no ((SEG: EndText)) stanza within {max_blocks} extended textual headers (binary header byte 3505 is -1)"
        )
    return blocks


def _codec(encoding: str) -> str:
    try:
        return _CODECS[encoding]
    except KeyError:
        raise SegyFormatError(f"text encoding must be 'ebcdic' or 'ascii', not {encoding!r}") from None
