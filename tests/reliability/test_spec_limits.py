"""Bounded cost on hostile YAML: size, nesting and alias limits (with the settings that raise them), YAML 1.2
scalars, tags, merge keys, and the cost of refusing (peak memory and time, bar: < 200 MB, < 2 s)."""

from __future__ import annotations

import contextlib
import math
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mdio_catalog.exceptions import MDIOError, NotRegularFileError, SpecLimitError, SpecValidationError
from mdio_catalog.settings import get_settings
from mdio_catalog.specs import CatalogSpec, LockFile, dump_yaml, parse_json, parse_yaml
from mdio_catalog.specs.limits import MAX_OUTPUT_NAME_BYTES, SpecLimits

REPO = Path(__file__).resolve().parents[2]
HEAD = "version: 1\nname: limits\nroot: ./out\n"
DATASET = "  stack:\n    template: PostStack3DTime\n    source: {segy: stack.sgy}\n    chunks: [4, 4, 8]\n"


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("SPEC_MAX_BYTES", "SPEC_MAX_DEPTH", "SPEC_MAX_NODES", "SPEC_MAX_ALIAS_NODES", "MAX_CHUNK_MIB"):
        monkeypatch.delenv(f"MDIO_CATALOG_{name}", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def laughs(levels: int, width: int = 10) -> str:
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def cost(call: Callable[[], Any]) -> tuple[float, float, BaseException | None]:
    """Seconds (without tracing), peak MiB allocated (traced), and the exception ``call`` raised."""
    started = time.perf_counter()
    error: BaseException | None = None
    try:
        call()
    except MDIOError as exc:
        error = exc
    seconds = time.perf_counter() - started
    tracemalloc.start()
    try:
        with contextlib.suppress(MDIOError):
            call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return seconds, peak / 2**20, error


# --- the limits, and the settings that raise them ----------------------------------------------------------------
@pytest.mark.parametrize("levels", [9, 30])
def test_billion_laughs_is_refused_cheaply(levels: int) -> None:
    seconds, peak, error = cost(lambda: CatalogSpec.from_yaml(HEAD + laughs(levels), source="bomb.yaml"))
    assert isinstance(error, SpecLimitError)
    assert str(error).startswith("bomb.yaml:")
    assert "MDIO_CATALOG_SPEC_MAX_ALIAS_NODES" in str(error)
    assert seconds < 2
    assert peak < 200


def test_merge_key_bombs_are_refused_too() -> None:
    text = "m0: &m0 {a: 1, b: 2}\n" + "".join(
        f"m{i}: &m{i} {{<<: [{', '.join([f'*m{i - 1}'] * 10)}], k{i}: 1}}\n" for i in range(1, 12)
    )
    seconds, peak, error = cost(lambda: parse_yaml(text, "merge.yaml"))
    assert isinstance(error, SpecLimitError)
    assert seconds < 2
    assert peak < 200


def test_alias_limit_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    text = laughs(3)  # 1,000 values through aliases
    parse_yaml(text)
    monkeypatch.setenv("MDIO_CATALOG_SPEC_MAX_ALIAS_NODES", "500")
    get_settings.cache_clear()
    with pytest.raises(SpecLimitError, match="more than 500 values"):
        parse_yaml(text, "f.yaml")


@pytest.mark.parametrize("style", ["flow", "block"])
def test_deep_nesting_is_refused_at_the_limit(style: str) -> None:
    depth = 100_000 if style == "flow" else 2_000
    if style == "flow":
        text = "x: " + "[" * depth + "]" * depth + "\n"
    else:
        text = "".join("  " * i + f"k{i}:\n" for i in range(depth)) + "  " * depth + "v\n"
    seconds, peak, error = cost(lambda: parse_yaml(text, "deep.yaml"))
    assert isinstance(error, SpecLimitError), error
    assert "MDIO_CATALOG_SPEC_MAX_DEPTH" in str(error)
    assert str(error).startswith("deep.yaml:")
    assert seconds < 2
    assert peak < 200


def test_depth_setting_and_depth_through_aliases(monkeypatch: pytest.MonkeyPatch) -> None:
    nested = "x: " + "[" * 60 + "]" * 60 + "\n"
    parse_yaml(nested)
    monkeypatch.setenv("MDIO_CATALOG_SPEC_MAX_DEPTH", "20")
    get_settings.cache_clear()
    with pytest.raises(SpecLimitError, match="deeper than 20 levels"):
        parse_yaml(nested)
    # Depth counts aliases expanded: each level alone is shallow, together they are not.
    chained = "a: &a [[[[[[[[[[1]]]]]]]]]]\nb: &b [[[[[[[[[[*a]]]]]]]]]]\nc: [[[[[*b]]]]]\n"
    with pytest.raises(SpecLimitError, match="deeper than 20 levels"):
        parse_yaml(chained)


def test_size_limit_reads_no_more_than_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = tmp_path / "big.yaml"
    with big.open("w", encoding="utf-8") as handle:
        handle.write(HEAD + "datasets:\n" + DATASET)
        for _ in range(50):  # 50 MiB of comments
            handle.write(("# " + "x" * 1021 + "\n") * 1024)
    seconds, peak, error = cost(lambda: CatalogSpec.from_file(big))
    assert isinstance(error, SpecLimitError)
    assert f"{big}: the file is 52," in str(error)
    assert "MDIO_CATALOG_SPEC_MAX_BYTES" in str(error)
    assert seconds < 2
    assert peak < 200
    monkeypatch.setenv("MDIO_CATALOG_SPEC_MAX_BYTES", str(60 * 2**20))
    get_settings.cache_clear()
    assert list(CatalogSpec.from_file(big).datasets) == ["stack"]


@pytest.mark.parametrize("case", ["4 MiB catalog (limit), 38k datasets", "4 MiB of one list (2M values)"])
def test_the_largest_files_within_the_size_limit_are_cheap(case: str) -> None:
    """4 MiB (the size limit) of as many values as it can hold, loaded in a fresh process (benchmarks/spec_limits.py):
    read, or refused at the value limit, within the bar."""
    import sys

    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from spec_limits import run
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    row = run(case, trace=False)
    assert row["bytes"] <= 4 * 2**20
    assert "values in one spec file" in str(row["outcome"]) or row["outcome"] == "read"
    assert float(row["seconds"]) < 2  # type: ignore[arg-type]
    assert float(row["rss_mib"]) < 200  # type: ignore[arg-type]


def test_lock_files_are_not_size_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MDIO_CATALOG_SPEC_MAX_BYTES", "100")
    get_settings.cache_clear()
    text = "version: 1\ncatalog: " + "c" * 200 + "\nentries: {}\n"
    assert LockFile.from_yaml(text).catalog == "c" * 200
    with pytest.raises(SpecLimitError, match="MDIO_CATALOG_SPEC_MAX_BYTES"):
        CatalogSpec.from_yaml(HEAD + "description: " + "d" * 200 + "\n", source="c.yaml")


def test_json_fallback_is_bounded_too() -> None:
    deep = '{"a":\t' + "[" * 5000 + "]" * 5000 + "}"  # a tab: YAML refuses it, json reads it
    with pytest.raises(SpecLimitError):
        parse_json(deep, "deep.json")
    limits = SpecLimits(max_bytes=None, max_depth=64, max_nodes=100, max_alias_nodes=0)
    with pytest.raises(SpecLimitError, match="more than 100 values"):
        parse_json('{"a":\t[' + ",".join(["1"] * 200) + "]}", "wide.json", limits=limits)


# --- YAML 1.2 scalars, tags and keys -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("plain", "value"),
    [
        ("20", 20),
        ("-7", -7),
        ("0", 0),
        ("0o20", 16),
        ("0x1F", 31),
        ("1e-05", 1e-05),
        ("1E5", 1e5),
        (".5", 0.5),
        ("+.5", 0.5),
        ("-.inf", -math.inf),
        ("~", None),
        ("Null", None),
        ("TRUE", True),
        ("yes", "yes"),  # YAML 1.1: true
        ("on", "on"),  # YAML 1.1: true
        ("1:04", "1:04"),  # YAML 1.1: 64
        ("0b10000", "0b10000"),  # YAML 1.1: 16
        ("1_000", "1_000"),  # YAML 1.1: 1000
        ("2026-12-06", "2026-12-06"),  # YAML 1.1: a date
    ],
)
def test_plain_scalars_read_as_yaml_12_reads_them(plain: str, value: Any) -> None:
    assert parse_yaml(f"v: {plain}\n")[0]["v"] == value


@pytest.mark.parametrize("plain", ["020", "-010", "0089", "+00"])
def test_leading_zero_integers_are_refused_not_guessed(plain: str) -> None:
    with pytest.raises(SpecValidationError, match=r"^f.yaml:1:4: v: .*leading zero|^f.yaml:1:4: v: .*ambiguous"):
        parse_yaml(f"v: {plain}\n", "f.yaml")
    assert parse_yaml(f"v: '{plain}'\n")[0]["v"] == plain


@pytest.mark.parametrize(
    "text",
    [
        "v: !foo 1\n",
        "v: !!python/name:os.system x\n",
        "v: !!binary aGk=\n",
        "v: !!timestamp 2026-01-01\n",
        "v: !foo {a: 1}\n",
        "v: !!set {a}\n",
        "v: !<tag:example.com,2000:x> 1\n",
    ],
)
def test_unknown_tags_are_located_errors_naming_the_file(text: str) -> None:
    with pytest.raises(SpecValidationError, match=r"^catalog.yaml:1:4: v: unknown tag"):
        parse_yaml(text, "catalog.yaml")


def test_standard_tags_are_read() -> None:
    data, _ = parse_yaml("a: !!int '12'\nb: !!str 12\nc: !!float 1\nd: !!bool 'true'\ne: !!null ''\nf: ! 12\n")
    assert data == {"a": 12, "b": "12", "c": 1.0, "d": True, "e": None, "f": "12"}
    with pytest.raises(SpecValidationError, match="is not an integer"):
        parse_yaml("a: !!int x\n")


def test_merge_keys_are_read_and_duplicates_refused() -> None:
    data, source_map = parse_yaml("a: &a {x: 1, y: 2}\nb: &b {y: 3, z: 4}\nc:\n  <<: [*a, *b]\n  x: 0\n")
    assert data["c"] == {"x": 0, "y": 2, "z": 4}  # own keys win, then the first mapping named
    assert source_map.locate(("c", "x")) == (5, 3)
    with pytest.raises(SpecValidationError, match=r"f.yaml:3:19: c: duplicate merge key '<<' \(first on line 3\)"):
        parse_yaml("a: &a {x: 1}\nb: &b {y: 1}\nc: {<<: *a, z: 1, <<: *b}\n", "f.yaml")
    with pytest.raises(SpecValidationError, match="takes a mapping or a list of mappings"):
        parse_yaml("a: &a [1]\nc: {<<: *a}\n")
    # A quoted '<<' is a plain key, not a merge.
    assert parse_yaml("c: {'<<': 1}\n")[0] == {"c": {"<<": 1}}


def test_aliases_are_copies() -> None:
    data, _ = parse_yaml("a: &a {x: [1]}\nb: *a\n")
    assert data["a"] == data["b"]
    assert data["a"] is not data["b"]
    assert data["a"]["x"] is not data["b"]["x"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: *nope\n", "undefined YAML alias *nope"),
        ("a: &r [1, *r]\n", "recursive YAML alias *r"),
        ("a: 1\n---\nb: 2\n", "one YAML document"),
        ("? [1, 2]\n: x\n", "keys must be plain values"),
        ("a: b\x85c\x97\n", "U+0097"),
    ],
)
def test_other_structural_problems_are_located(text: str, message: str) -> None:
    with pytest.raises(SpecValidationError, match=r"^f.yaml:\d+:\d+: ") as info:
        parse_yaml(text, "f.yaml")
    assert message in str(info.value)


def test_dumps_quote_what_yaml_12_would_read_differently() -> None:
    data = {"s": ["0o17", "1e5", "+.5", "089", "020", "yes", "1:04", "2026-01-01", "1_000", "~", "", "<<"]}
    text = dump_yaml(data)
    assert parse_yaml(text)[0] == data


# --- files --------------------------------------------------------------------------------------------------------
def test_spec_files_must_be_regular_files(tmp_path: Path) -> None:
    import os

    os.mkfifo(tmp_path / "fifo.yaml")
    started = time.monotonic()
    with pytest.raises(NotRegularFileError, match="FIFO"):
        CatalogSpec.from_file(tmp_path / "fifo.yaml")
    (tmp_path / "loop.yaml").symlink_to("loop.yaml")
    with pytest.raises(NotRegularFileError, match="symlink loop"):
        CatalogSpec.from_file(tmp_path / "loop.yaml")
    with pytest.raises(SpecValidationError, match="cannot read CatalogSpec file: No such file"):
        CatalogSpec.from_file(tmp_path / "missing.yaml")
    assert time.monotonic() - started < 5


def test_encoding_errors_are_located(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(HEAD.encode() + b"description: ok\xff\xfeno\n")
    with pytest.raises(SpecValidationError, match=rf"^{path}:4:16: byte ff cannot be read"):
        CatalogSpec.from_file(path)
    path.write_bytes(b"\xef\xbb\xbf" + HEAD.encode())  # a UTF-8 byte-order mark is fine
    assert CatalogSpec.from_file(path).name == "limits"


def test_output_names_leave_room_for_staging() -> None:
    name = "a" * (MAX_OUTPUT_NAME_BYTES - len(".mdio"))
    ok = CatalogSpec.from_yaml(HEAD + f"datasets:\n  {name}:\n" + DATASET[DATASET.index("\n") + 1 :])
    assert list(ok.datasets) == [name]
    too_long = name + "b"
    with pytest.raises(SpecValidationError, match=f"at most {MAX_OUTPUT_NAME_BYTES} bytes") as info:
        CatalogSpec.from_yaml(HEAD + f"datasets:\n  {too_long}:\n" + DATASET[DATASET.index("\n") + 1 :], source="c")
    assert ".partial" not in str(info.value)
    # The longest name a write makes beside the longest accepted output (the owner marker's temporary name of a
    # nested staging) still fits the file-system limit of 255 bytes; tests/reliability/test_long_names.py builds it.
    token = "0" * 12
    assert len(f"..{name}.mdio.partial-{token}.owner-{token}.tmp-{token}".encode()) == 255


def test_huge_chunks_are_spec_errors_with_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    text = HEAD + "datasets:\n  stack:\n    template: PostStack3DTime\n    source: {segy: s.sgy}\n"
    with pytest.raises(SpecValidationError, match=r"c.yaml:8:5: datasets.stack.chunks: chunk shape"):
        CatalogSpec.from_yaml(text + "    chunks: [1024, 1024, 1024]\n", source="c.yaml")
    monkeypatch.setenv("MDIO_CATALOG_MAX_CHUNK_MIB", "8192")
    get_settings.cache_clear()
    assert CatalogSpec.from_yaml(text + "    chunks: [1024, 1024, 1024]\n").datasets["stack"].chunks == (1024,) * 3


def test_converters_refuse_output_names_that_cannot_be_staged(tmp_path: Path) -> None:
    import numpy as np

    from mdio_catalog import numpy_to_mdio, segy_to_mdio
    from mdio_catalog.exceptions import ArgumentError
    from tests.data.bad.make_corpus import write_segy

    long_name = tmp_path / ("a" * 246 + ".mdio")
    with pytest.raises(ArgumentError, match=r"output name 'a+'\.\.\. is 251 bytes") as info:
        numpy_to_mdio(np.zeros((4, 8), dtype="float32"), str(long_name), (4, 8))
    assert ".partial" not in str(info.value)
    write_segy(tmp_path / "s.sgy")
    with pytest.raises(ArgumentError, match=f"at most {MAX_OUTPUT_NAME_BYTES} bytes"):
        segy_to_mdio(tmp_path / "s.sgy", long_name, [189, 193], ["inline", "crossline"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.sgy"]
    numpy_to_mdio(
        np.zeros((4, 8), dtype="float32"), str(tmp_path / ("b" * (MAX_OUTPUT_NAME_BYTES - 5) + ".mdio")), (4, 8)
    )
