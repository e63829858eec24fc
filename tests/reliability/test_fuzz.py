"""Property-based tests: catalog text and data, and SEG-Y file headers, end in success or an error of our tree.

Hypothesis draws fuzzed YAML text (random, and edits of a valid catalog), model-shaped catalog data (the right
keys with wrong, hostile or missing values), random and structured 3600-byte SEG-Y file headers with any file size,
and whole small files opened by the reader. Every input must either load or raise :class:`MDIOError`; anything else
(a parser's exception, a RecursionError, a MemoryError, a numpy ValueError) is an escape. Example counts are small
by default (the suite stays fast); ``FUZZ_EXAMPLES=2000`` runs more.
"""

from __future__ import annotations

import os
import struct
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdio_catalog.catalog import Catalog
from mdio_catalog.exceptions import MDIOError
from mdio_catalog.segy.binary_header import detect_endian, endian_scores, parse_binary_header
from mdio_catalog.segy.layout import resolve_layout
from mdio_catalog.segy.reader import SegyFile
from mdio_catalog.specs import CatalogSpec, dump_yaml, parse_json
from tests.data.bad.make_corpus import write_segy

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
#: Derandomized unless more examples are asked for: the default suite sees the same inputs on every run.
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    derandomize="FUZZ_EXAMPLES" not in os.environ,
)

#: Outcomes per test (printed at the end of the module with -s; the closing figures of the reliability issues).
OUTCOMES: dict[str, Counter[str]] = {}


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    for name, counts in sorted(OUTCOMES.items()):
        print(f"\n{name}: {sum(counts.values())} examples: " + ", ".join(f"{k} {v}" for k, v in counts.most_common()))


def outcome(test: str, call: Any, *args: Any, **kwargs: Any) -> Any:
    """Run ``call``; an error of our tree is an outcome, any other exception fails the test."""
    counts = OUTCOMES.setdefault(test, Counter())
    try:
        result = call(*args, **kwargs)
    except MDIOError as exc:
        counts[type(exc).__name__] += 1
        return None
    counts["ok"] += 1
    return result


def same(a: CatalogSpec, b: CatalogSpec) -> bool:
    """Equal specs (NaN equal to NaN: compared through the repr of their data)."""
    return repr(a.to_data()) == repr(b.to_data())


VALID = """\
# yaml-language-server: $schema=../schemas/catalog.schema.json
version: 1
name: fuzz
root: ./out
defaults: {compression: {lossless: true}, chunks: [[4, 4, 8]]}
patterns: [{pattern: "{survey}_{stage}", values: {stage: [raw, stack]}, output: "{survey}/{stage}.mdio"}]
datasets:
  north_stack:
    <<: &base {template: PostStack3DTime, chunks: [4, 4, 8]}
    source:
      segy: data/stack.sgy
      index: [{name: inline, byte: 189, type: int32}, {name: crossline, byte: 193}]
    access_patterns: {fast_z: [8, 8, 2]}
    description: "a \\x41 value"
  south_raw:
    source: {numpy: data/x.npy, index_names: [a, b], index_coords: {a: {start: 0, step: 2}}}
    tags: [one, two]
  south_stack: {<<: *base, source: {segy: data/south.sgy}}
"""

TOKENS = [
    *"abc019 :-[]{},&*!<>|'\"#\n?%@`~\t.\\/=+_",
    "\x97",
    "\x00",
    "\x1b",
    "\u2028",
    "\ufeff",
    "é",
    "\ud7ff",
    "\U0001f600",
    "<<: ",
    "&a ",
    "*a",
    "!foo ",
    "!!int ",
    "!!python/object ",
    "!!binary ",
    "0o17",
    "020",
    "1:04",
    "0b101",
    "1e5",
    ".inf",
    "yes",
    "~",
    "null",
    "%YAML 1.1\n",
    "---\n",
    "...\n",
    "? ",
    ": ",
    "- ",
    "  ",
    "\n  ",
    "version: 1\n",
    "datasets:\n",
    "  x:\n",
    "    source: {segy: a.sgy}\n",
    "name: n\n",
    "root: r\n",
]
yamlish = st.lists(st.sampled_from(TOKENS), max_size=80).map("".join)


@FUZZ
@given(text=st.one_of(st.text(max_size=300), yamlish))
def test_random_text_loads_or_raises_our_error(text: str) -> None:
    outcome("random text", CatalogSpec.from_yaml, text, source="fuzz.yaml")
    outcome("random text as JSON", parse_json, text, "fuzz.json")


@FUZZ
@given(data=st.data())
def test_edited_catalog_loads_or_raises_our_error(data: st.DataObject) -> None:
    text = VALID
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(text)))
        action = data.draw(st.sampled_from(["insert", "delete", "replace", "duplicate"]))
        token = data.draw(st.sampled_from(TOKENS))
        if action == "insert":
            text = text[:at] + token + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + data.draw(st.integers(1, 20)) :]
        elif action == "replace":
            text = text[:at] + token + text[at + len(token) :]
        else:
            end = data.draw(st.integers(at, min(len(text), at + 200)))
            text = text[:end] + text[at:end] + text[end:]
    spec = outcome("edited catalog", CatalogSpec.from_yaml, text, source="fuzz.yaml")
    if spec is not None:
        outcome("edited catalog resolved", Catalog.from_model, spec)
        assert same(CatalogSpec.from_yaml(spec.to_yaml()), spec)


# --- model-shaped data ---------------------------------------------------------------------------------------------
scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.integers(-3, 600),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["..", ".", "/etc", "a/b", "~", "s3://b/k", "${HOME}", "${NOPE}", "\x97", "x" * 300, "", "020"]),
)
anything = st.recursive(
    scalar,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
ints = st.lists(st.one_of(st.integers(-2, 10**7), st.integers(10**8, 10**12), scalar), max_size=5)
names = st.one_of(
    st.text(max_size=12), st.sampled_from(["north_stack", "s.._x", "s._x", "s.git_x", "a" * 199, "..", "x/y", "."])
)
index_field = st.fixed_dictionaries(
    {"name": names},
    optional={
        "byte": st.one_of(st.integers(-5, 300), scalar),
        "type": st.one_of(st.sampled_from(["int16", "int32", "uint8", "float32", "int23"]), scalar),
    },
)
segy_source = st.fixed_dictionaries(
    {"segy": st.one_of(st.sampled_from(["data/stack.sgy", "/dev/zero", "s3://b/k.sgy", ""]), scalar)},
    optional={
        "index": st.one_of(st.lists(index_field, max_size=4), scalar),
        "grid_overrides": anything,
        "credentials": scalar,
        "storage_options": anything,
        "endian": scalar,
        "sample_format": scalar,
    },
)
numpy_source = st.fixed_dictionaries(
    {"numpy": st.one_of(st.sampled_from(["x.npy", "x.npz", "x.txt"]), scalar)},
    optional={"key": scalar, "index_names": st.one_of(st.lists(names, max_size=4), scalar), "index_coords": anything},
)
empty_source = st.fixed_dictionaries(
    {
        "empty": st.lists(
            st.fixed_dictionaries({"name": names}, optional={"coords": anything, "count": ints}), max_size=4
        )
    }
)
dataset = st.fixed_dictionaries(
    {"source": st.one_of(segy_source, numpy_source, empty_source, anything)},
    optional={
        "template": st.one_of(
            st.sampled_from(["PostStack3DTime", "PreStackShotGathers3DTime", "Nope", "t.yaml"]), scalar
        ),
        "chunks": st.one_of(ints, scalar),
        "access_patterns": st.dictionaries(st.text(max_size=6), st.one_of(st.none(), ints), max_size=3),
        "compression": anything,
        "description": scalar,
        "tags": anything,
    },
)
pattern = st.fixed_dictionaries(
    {"pattern": st.one_of(st.sampled_from(["{survey}_{stage}", "s{survey}_{stage}", "{a}", "x"]), scalar)},
    optional={
        "values": anything,
        "output": st.one_of(
            st.sampled_from(["{survey}/{stage}.mdio", "{survey}", "{name}", "../{name}", "{survey}.mdio/{stage}"]),
            scalar,
        ),
    },
)
good_source = st.sampled_from(
    [
        {"segy": "data/stack.sgy"},
        {"numpy": "x.npy", "index_names": ["a", "b"]},
        {"empty": [{"name": "inline", "count": 4}, {"name": "sample", "coords": {"start": 0, "step": 4}, "count": 8}]},
    ]
)
good_dataset = st.fixed_dictionaries(
    {"source": good_source},
    optional={"template": st.sampled_from(["PostStack3DTime", "Nope"]), "chunks": ints, "description": scalar},
)
good_pattern = st.fixed_dictionaries(
    {"pattern": st.sampled_from(["{survey}_{stage}", "s{survey}_{stage}"])},
    optional={"output": st.sampled_from(["{survey}/{stage}.mdio", "{survey}", "{name}", "{survey}.mdio/{stage}"])},
)
plausible_catalog = st.fixed_dictionaries(
    {"version": st.just(1), "name": st.just("fuzz"), "root": st.just("./out")},
    optional={
        "datasets": st.dictionaries(names, st.one_of(good_dataset, good_dataset, dataset), max_size=3),
        "patterns": st.lists(good_pattern, max_size=2),
    },
)
hostile_catalog = st.fixed_dictionaries(
    {
        "version": st.one_of(st.just(1), scalar),
        "name": st.one_of(st.just("fuzz"), scalar),
        "root": st.one_of(st.just("./out"), scalar),
    },
    optional={
        "datasets": st.dictionaries(names, st.one_of(good_dataset, dataset), max_size=3),
        "patterns": st.lists(pattern, max_size=2),
        "defaults": anything,
        "credentials": anything,
        "templates": anything,
        "root_storage": anything,
    },
)
catalog_data = st.one_of(plausible_catalog, hostile_catalog)


@FUZZ
@given(data=catalog_data)
def test_model_shaped_data_loads_or_raises_our_error(data: dict[str, Any]) -> None:
    spec = outcome("catalog data", CatalogSpec.from_data, data)
    text = dump_yaml(data)
    from_text = outcome("catalog data as YAML", CatalogSpec.from_yaml, text, source="fuzz.yaml")
    if spec is not None:
        outcome("catalog data resolved", Catalog.from_model, spec)
        assert same(CatalogSpec.from_yaml(spec.to_yaml()), spec)
        assert from_text is not None
        assert same(from_text, spec)


# --- SEG-Y file headers ---------------------------------------------------------------------------------------------
def _valid_file_header() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "v.sgy")
        write_segy(path)
        return path.read_bytes()[:3600]


VALID_HEADER = _valid_file_header()

#: Binary-header words worth fuzzing: (byte, struct code).
WORDS = [
    (3217, "h"),
    (3221, "H"),
    (3225, "h"),
    (3269, "i"),
    (3297, "I"),
    (3501, "B"),
    (3502, "B"),
    (3505, "h"),
    (3507, "h"),
    (3529, "i"),
    (3255, "h"),
]


@st.composite
def file_headers(draw: st.DrawFn) -> bytes:
    """Random bytes, or the valid header with some binary-header words set to random values in either byte order."""
    if draw(st.booleans()):
        return draw(st.binary(min_size=3600, max_size=3600))
    header = bytearray(VALID_HEADER)
    order = draw(st.sampled_from([">", "<"]))
    for byte, code in draw(st.lists(st.sampled_from(WORDS), max_size=5)):
        bits = struct.calcsize(code) * 8
        low, high = (0, 2**bits - 1) if code.isupper() or code == "B" else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
        struct.pack_into(order + code, header, byte - 1, draw(st.integers(low, high)))
    return bytes(header)


@FUZZ
@given(
    header=file_headers(),
    size=st.one_of(st.integers(0, 10**6), st.integers(0, 2**50)),
    tail=st.binary(max_size=2000),
    endian=st.sampled_from([None, "big", "little"]),
    sample_format=st.sampled_from([None, None, 1, 5, 8, 99, "ibm", "nope"]),
)
def test_binary_header_and_layout_resolve_or_raise_our_error(
    header: bytes, size: int, tail: bytes, endian: Any, sample_format: Any
) -> None:
    data = header + tail

    def read(offset: int, length: int) -> bytes:
        end = min(offset + length, size)
        chunk = data[offset:end]
        return chunk + bytes(max(0, end - offset - len(chunk)))

    for order in ("big", "little"):
        outcome("binary header", parse_binary_header, header[3200:], order)
    outcome("endian", detect_endian, header[3200:])
    endian_scores(header[3200:])
    outcome("layout", resolve_layout, header, size, read, endian=endian, sample_format=sample_format)


@FUZZ
@given(header=file_headers(), body=st.binary(max_size=3000), endian=st.sampled_from([None, "big", "little"]))
def test_small_files_open_or_raise_our_error(header: bytes, body: bytes, endian: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "f.sgy")
        path.write_bytes(header + body)
        segy = outcome("segy file", SegyFile, path, endian=endian)
        if segy is None:
            return
        with segy:
            n = min(segy.n_traces, 3)
            outcome("segy file headers", segy.header_columns, ["inline", "crossline"], 0, n)
            outcome("segy file traces", segy.read_traces, 0, n)
            outcome("segy file text", lambda: (segy.text_header, segy.binary_header))
