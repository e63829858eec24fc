"""Textual headers: encoding detection, lossless 40 x 80 decoding, encoding back, extended headers."""

from __future__ import annotations

import pytest

from mdio_catalog.exceptions import SegyFormatError, SegyTruncatedError
from mdio_catalog.segy.text_header import (
    TextEncoding,
    decode_text,
    decode_text_header,
    detect_text_encoding,
    encode_text_header,
    is_end_text_stanza,
    read_extended_text_headers,
)

CARDS = [f"C{i:2d} CLIENT: ACME   LINE {i * 7:5d}   PROCESSED 2024-01-0{i % 9 + 1}" for i in range(1, 41)]


@pytest.mark.parametrize("encoding", ["ebcdic", "ascii"])
def test_round_trip_and_detection(encoding: TextEncoding) -> None:
    raw = encode_text_header(CARDS, encoding)
    assert len(raw) == 3200
    assert detect_text_encoding(raw) == encoding
    lines = decode_text_header(raw)
    assert len(lines) == 40
    assert all(len(line) == 80 for line in lines)
    assert [line.rstrip() for line in lines] == CARDS
    assert encode_text_header(lines, encoding) == raw


def test_every_byte_survives_a_round_trip() -> None:
    raw = bytes(range(256)) * 12 + bytes(128)
    encodings: tuple[TextEncoding, ...] = ("ebcdic", "ascii")
    for encoding in encodings:
        lines = decode_text_header(raw, encoding)
        assert encode_text_header(lines, encoding) == raw


def test_detection_on_sparse_and_empty_headers() -> None:
    sparse_ascii = bytes(160) + b"COMPANY Geometrics" + bytes(3200 - 178)  # mostly NUL, a few ASCII words
    assert detect_text_encoding(sparse_ascii) == "ascii"
    sparse_ebcdic = bytes(160) + "COMPANY Geometrics".encode("cp037") + bytes(3200 - 178)
    assert detect_text_encoding(sparse_ebcdic) == "ebcdic"
    assert detect_text_encoding(bytes(3200)) == "ebcdic"  # nothing to go on: the standard wins


def test_printable_lines_replace_control_characters() -> None:
    raw = b"C 1 HELLO\x00\x00" + bytes(3189)
    lines = decode_text_header(raw, "ascii", printable=True)
    assert lines[0].startswith("C 1 HELLO  ")
    assert "\x00" not in "".join(lines)


def test_encode_pads_cuts_and_replaces() -> None:
    raw = encode_text_header("C 1 short", "ascii")
    assert raw[:9] == b"C 1 short"
    assert raw[9:] == b" " * 3191
    assert len(encode_text_header("x" * 5000)) == 3200
    long_line = encode_text_header(["y" * 100, "z"], "ascii")
    assert long_line[:80] == b"y" * 80
    assert long_line[80:81] == b"z"
    assert encode_text_header(["\u20ac uro"], "ascii")[:5] == b"? uro"
    with pytest.raises(SegyFormatError, match="40 lines"):
        encode_text_header(["a"] * 41)
    with pytest.raises(SegyFormatError, match="3200 bytes"):
        decode_text_header(b"short")
    with pytest.raises(SegyFormatError, match="'ebcdic' or 'ascii'"):
        decode_text(b"abc", "utf8")  # type: ignore[arg-type]


@pytest.mark.parametrize("encoding", ["ebcdic", "ascii"])
def test_end_text_stanza(encoding: TextEncoding) -> None:
    assert is_end_text_stanza(encode_text_header("((SEG: EndText))", encoding))
    assert is_end_text_stanza(encode_text_header("((seg:endtext))", encoding))
    assert not is_end_text_stanza(encode_text_header("((SEG: Other))", encoding))


def _blocks(*texts: str) -> list[bytes]:
    return [encode_text_header(t, "ascii") for t in texts]


def test_read_extended_counted_and_variable() -> None:
    blocks = _blocks("((A))", "((B))", "((SEG: EndText))", "trace data follows")
    assert read_extended_text_headers(lambda i: blocks[i], 0) == []
    assert read_extended_text_headers(lambda i: blocks[i], 2) == blocks[:2]
    assert read_extended_text_headers(lambda i: blocks[i], -1) == blocks[:3]


def test_read_extended_errors() -> None:
    blocks = _blocks("((A))")
    with pytest.raises(SegyTruncatedError, match="extended textual header 2"):
        read_extended_text_headers(lambda i: blocks[i] if i < 1 else b"xx", 2)
    with pytest.raises(SegyFormatError, match="EndText"):
        read_extended_text_headers(lambda i: blocks[0], -1, max_blocks=5)
    with pytest.raises(SegyFormatError, match="3505"):
        read_extended_text_headers(lambda i: blocks[0], -2)
