"""Bad catalogs: precise errors naming the catalog file and line, and nothing built (no output, no lock)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mdio_catalog.catalog import Catalog
from mdio_catalog.exceptions import MDIONotFoundError, SpecError
from tests.catalog import lock_files, post_stack_segy

HEAD = """\
version: 1
name: bad-catalog
root: ./out
"""

GOOD = """\
  good:
    template: PostStack3DTime
    source: {segy: data/stack.sgy}
    chunks: [4, 4, 8]
"""

#: (id, datasets text, marker on the line the error must name, substrings the message must hold)
CASES = [
    (
        "unknown-key",
        "  stack:\n    template: PostStack3DTime\n    source: {segy: data/stack.sgy}\n    chunk: [4, 4, 8]\n",
        "chunk:",
        ["datasets.stack.chunk", "unknown key", "did you mean 'chunks'"],
    ),
    (
        "unknown-nested-key",
        "  stack:\n    template: PostStack3DTime\n    source: {segy: data/stack.sgy, grid_overides: {}}\n",
        "grid_overides",
        ["grid_overides", "unknown key", "did you mean 'grid_overrides'"],
    ),
    (
        "wrong-type-chunks",
        "  stack:\n    template: PostStack3DTime\n    source: {segy: data/stack.sgy}\n    chunks: [4, four, 8]\n",
        "four",
        ["datasets.stack.chunks[1]", "integer"],
    ),
    (
        "wrong-type-byte",
        "  stack:\n    source:\n      segy: data/stack.sgy\n      index:\n        - {name: inline, byte: '189'}\n"
        "        - {name: crossline, byte: 193}\n",
        "'189'",
        ["datasets.stack.source.index[0].byte", "integer"],
    ),
    (
        "unknown-template",
        "  stack:\n    template: PostStack3DTiem\n    source: {segy: data/stack.sgy}\n",
        "PostStack3DTiem",
        ["datasets.stack.template", "PostStack3DTiem", "did you mean 'PostStack3DTime'"],
    ),
    (
        "missing-template-file",
        "  stack:\n    template: my_templates/missing.yaml\n    source: {segy: data/stack.sgy}\n",
        "my_templates/missing.yaml",
        ["datasets.stack.template", "missing.yaml", "does not exist"],
    ),
    (
        "unknown-credentials",
        "  stack:\n    template: PostStack3DTime\n    source: {segy: data/stack.sgy, credentials: lak}\n",
        "credentials: lak",
        ["datasets.stack.source.credentials", "unknown credentials 'lak'"],
    ),
    (
        "unknown-source-kind",
        "  stack:\n    template: PostStack3DTime\n    source: {sgy: data/stack.sgy}\n",
        "sgy:",
        ["datasets.stack.source", "segy"],
    ),
    (
        "chunk-count",
        "  stack:\n    template: PostStack3DTime\n    source: {segy: data/stack.sgy}\n    chunks: [4, 8]\n",
        "chunks:",
        ["datasets.stack.chunks", "2 chunk sizes"],
    ),
    (
        "overrides-contradict-template-index",
        "  stack:\n    template: PostStack3DTime\n    source:\n      segy: data/stack.sgy\n"
        "      grid_overrides: {AutoChannelWrap: true}\n",
        "grid_overrides",
        ["datasets.stack.source.grid_overrides", "AutoChannelWrap", "'cable'", "'channel'"],
    ),
    (
        "overrides-contradict-own-index",
        "  shots:\n    source:\n      segy: data/stack.sgy\n      index: [{name: shot_point, byte: 17}, "
        "{name: channel, byte: 13}]\n      grid_overrides: {ChannelWrap: true, ChannelsPerCable: 4}\n",
        "grid_overrides",
        ["datasets.shots.source.grid_overrides", "ChannelWrap", "'cable'"],
    ),
    (
        "index-contradicts-template-overrides",
        "  shots:\n    template: StreamerShotGathers3D\n    source:\n      segy: data/stack.sgy\n"
        "      index: [{name: shot_point, byte: 17}, {name: cable, byte: 137, type: int16}, {name: chan, byte: 13}]\n",
        "StreamerShotGathers3D",
        ["datasets.shots", "AutoChannelWrap", "'channel'"],
    ),
    (
        "duplicate-dataset",
        GOOD + "  good:\n    template: PostStack3DTime\n    source: {segy: data/stack.sgy}\n",
        "  good:\n    template: PostStack3DTime\n    source: {segy: data/stack.sgy}\n",  # the second one
        ["duplicate key 'good'", "first defined on line 5"],
    ),
    (
        "escaping-name",
        "  ../escape:\n    template: PostStack3DTime\n    source: {segy: data/stack.sgy}\n",
        "../escape:",
        ["'../escape'", "escape the catalog root"],
    ),
    (
        "nested-escaping-name",
        "  a/../../escape:\n    template: PostStack3DTime\n    source: {segy: data/stack.sgy}\n",
        "a/../../escape:",
        ["'a/../../escape'", "escape the catalog root"],
    ),
    (
        "absolute-name",
        "  /tmp/absolute:\n    template: PostStack3DTime\n    source: {segy: data/stack.sgy}\n",
        "/tmp/absolute:",
        ["'/tmp/absolute'", "escape the catalog root"],
    ),
]


def line_of(text: str, marker: str) -> int:
    """1-based line of the last occurrence of ``marker`` (its first line when it spans several)."""
    position = text.rindex(marker)
    return text.count("\n", 0, position) + 1


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    post_stack_segy(tmp_path / "data" / "stack.sgy")
    return tmp_path


def assert_nothing_built(folder: Path) -> None:
    assert not (folder / "out").exists()
    assert lock_files(folder) == {}


def load_and_build(path: Path) -> None:
    catalog = Catalog.from_file(path)
    catalog.build()


@pytest.mark.parametrize(("datasets", "marker", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_catalog_is_a_located_error_and_builds_nothing(
    folder: Path, datasets: str, marker: str, expected: list[str]
) -> None:
    # a valid dataset first: nothing of it may be built either
    text = HEAD + "datasets:\n" + (GOOD if "  good:" not in datasets else "") + datasets
    path = folder / "catalog.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        load_and_build(path)
    message = str(info.value)
    assert f"{path}:{line_of(text, marker)}:" in message, message
    for part in expected:
        assert part in message, (part, message)
    assert_nothing_built(folder)


def test_several_problems_are_reported_at_once(folder: Path) -> None:
    text = (
        HEAD
        + "datasets:\n  a:\n    template: PostStack3DTiem\n    source: {segy: data/stack.sgy}\n"
        + "  b:\n    template: PostStack3DTime\n    source: {segy: data/stack.sgy}\n    chunks: [4, 8]\n"
    )
    path = folder / "catalog.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        load_and_build(path)
    message = str(info.value)
    assert f"{path}:{line_of(text, 'PostStack3DTiem')}:" in message
    assert f"{path}:{line_of(text, 'chunks: [4, 8]')}:" in message
    assert_nothing_built(folder)


def test_missing_source_file_is_not_found_and_names_the_entry(folder: Path) -> None:
    text = HEAD + "datasets:\n  stack:\n    template: PostStack3DTime\n    source: {segy: data/nothere.sgy}\n"
    path = folder / "catalog.yaml"
    path.write_text(text)
    catalog = Catalog.from_file(path)
    with pytest.raises(MDIONotFoundError) as info:
        catalog.build()
    message = str(info.value)
    assert "nothere.sgy" in message
    assert f"{path}:{line_of(text, 'nothere.sgy')}" in message, message
    assert_nothing_built(folder)


def test_missing_source_file_builds_nothing_of_the_catalog(folder: Path) -> None:
    """A valid dataset before the one with a missing source: nothing is built from the invalid catalog."""
    text = (
        HEAD + "datasets:\n" + GOOD + "  stack:\n    template: PostStack3DTime\n    source: {segy: data/nothere.sgy}\n"
    )
    path = folder / "catalog.yaml"
    path.write_text(text)
    catalog = Catalog.from_file(path)
    with pytest.raises(MDIONotFoundError):
        catalog.build()
    assert_nothing_built(folder)


def test_missing_numpy_source_is_not_found(folder: Path) -> None:
    text = (
        HEAD + "datasets:\n  vel:\n    source: {numpy: data/nothere.npy, index_names: [a, b, sample]}\n"
        "    chunks: [2, 2, 2]\n"
    )
    path = folder / "catalog.yaml"
    path.write_text(text)
    with pytest.raises(MDIONotFoundError) as info:
        Catalog.from_file(path).build()
    assert "nothere.npy" in str(info.value)
    assert_nothing_built(folder)


def test_missing_catalog_file(tmp_path: Path) -> None:
    with pytest.raises(MDIONotFoundError):
        Catalog.from_file(tmp_path / "nothere.yaml")


UNDEFINED = """\
version: 1
name: env-catalog
root: ./out
credentials:
  lake:
    key: "${CAT_TEST_UNDEFINED_KEY}"
    secret: "${CAT_TEST_UNDEFINED_SECRET:-fallback}"
datasets:
  stack:
    template: PostStack3DTime
    source: {segy: data/stack.sgy, credentials: lake}
    chunks: [4, 4, 8]
"""


def test_undefined_environment_variable_is_a_located_error_and_builds_nothing(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CAT_TEST_UNDEFINED_KEY", raising=False)
    monkeypatch.delenv("CAT_TEST_UNDEFINED_SECRET", raising=False)
    path = folder / "catalog.yaml"
    path.write_text(UNDEFINED)
    with pytest.raises(SpecError) as info:
        load_and_build(path)
    message = str(info.value)
    assert "CAT_TEST_UNDEFINED_KEY" in message
    assert f"{path}:{line_of(UNDEFINED, 'CAT_TEST_UNDEFINED_KEY')}:" in message, message
    assert "credentials.lake.key" in message
    # the one with a default is fine
    assert "CAT_TEST_UNDEFINED_SECRET" not in message
    assert_nothing_built(folder)


def test_undefined_environment_variable_of_the_root(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CAT_TEST_UNDEFINED_ROOT", raising=False)
    text = (
        "version: 1\nname: env-root\nroot: s3://bucket/prefix\n"
        "root_storage:\n  storage_options: {secret: '${CAT_TEST_UNDEFINED_ROOT}'}\n"
        "datasets:\n" + GOOD
    )
    path = folder / "catalog.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        load_and_build(path)
    message = str(info.value)
    assert "CAT_TEST_UNDEFINED_ROOT" in message
    assert f"{path}:{line_of(text, 'CAT_TEST_UNDEFINED_ROOT')}:" in message, message
    assert lock_files(folder) == {}
