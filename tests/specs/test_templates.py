"""The template library (templates/*.yaml) and the registry that hands out copies."""

from __future__ import annotations

from pathlib import Path

import pytest

from mdio_catalog.exceptions import SpecValidationError, TemplateNotFoundError
from mdio_catalog.segy.trace_headers import STANDARD_FIELDS
from mdio_catalog.specs.registry import TemplateRegistry, builtin_template_dir, is_template_path
from mdio_catalog.specs.template import TemplateSpec

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates"
TEMPLATE_FILES = sorted(TEMPLATE_DIR.glob("*.yaml"))

#: What the issue asks the library to cover, by template name.
REQUIRED = {
    "PostStack2DTime",
    "PostStack2DDepth",
    "PostStack3DTime",
    "PostStack3DDepth",
    "PreStackCdpOffsetGathers2DTime",
    "PreStackCdpOffsetGathers3DTime",
    "PreStackCdpAngleGathers2DTime",
    "PreStackCdpAngleGathers3DTime",
    "PreStackCocaGathers3DTime",
    "StreamerShotGathers2D",
    "StreamerShotGathers3D",
    "StreamerFieldRecords3D",
    "ObnReceiverGathers3D",
    "ShotReceiverLineGathers3D",
}


def test_builtin_folder_is_found_from_the_package():
    assert builtin_template_dir() == TEMPLATE_DIR
    assert set(TemplateRegistry.builtin().names()) >= REQUIRED


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda p: p.stem)
def test_every_template_loads_validates_and_round_trips(path: Path):
    text = path.read_text()
    assert text.startswith("# yaml-language-server: $schema=../schemas/template.schema.json\n")
    template = TemplateSpec.from_file(path)
    assert template.name == path.stem
    assert template.description
    assert template.default_chunks is not None
    assert len(template.default_chunks) == len(template.index) + 1
    # Model -> YAML -> model, and the file -> model -> YAML -> model.
    assert TemplateSpec.from_yaml(template.to_yaml()) == template
    assert TemplateSpec.from_json(template.to_json()) == template
    # Every index byte the description names is the one the template reads.
    for field in template.index:
        assert f"{field.name} at byte {field.byte}" in " ".join(template.description.split())
    # Coordinates named after standard header words sit at the standard bytes.
    for name, word in template.coordinates.items():
        if name in STANDARD_FIELDS:
            assert (word.byte, word.type) == STANDARD_FIELDS[name], name
    # Chunks of one trace dimension stay within a sane memory size (float32).
    size = 4
    for chunk in template.default_chunks:
        size *= chunk
    assert 256 * 1024 <= size <= 16 * 2**20


def test_domains_and_coordinates():
    registry = TemplateRegistry.builtin()
    assert registry.get("PostStack3DDepth").domain == "depth"
    assert {"cdp_x", "cdp_y"} <= set(registry.get("PreStackCdpAngleGathers3DTime").coordinates)
    shots = registry.get("StreamerShotGathers3D")
    assert {"source_coord_x", "source_coord_y", "group_coord_x", "group_coord_y"} <= set(shots.coordinates)
    assert shots.grid_overrides.auto_channel_wrap
    assert registry.get("PreStackCocaGathers3DTime").index_names == ("inline", "crossline", "offset", "azimuth")
    assert registry.get("StreamerFieldRecords3D").dimension_names[-1] == "sample"


def test_registry_hands_out_copies():
    registry = TemplateRegistry.builtin()
    first = registry.get("PostStack3DTime")
    first.coordinates["junk"] = first.coordinates["cdp_x"]
    first.access_patterns.clear()
    first.index.pop()
    second = registry.get("PostStack3DTime")
    assert "junk" not in second.coordinates
    assert second.access_patterns
    assert len(second.index) == 2
    assert second is not registry.get("PostStack3DTime")


def test_unknown_template_suggests_the_closest():
    with pytest.raises(
        TemplateNotFoundError, match="unknown template 'PostStack3DTim', did you mean 'PostStack3DTime'"
    ) as info:
        TemplateRegistry.builtin().get("PostStack3DTim")
    assert isinstance(info.value, KeyError)


USER_TEMPLATE = """name: MyGathers
domain: time
index: [{name: cdp, byte: 21}, {name: offset, byte: 37}]
default_chunks: [16, 64, 256]
"""


def test_user_templates_by_folder_file_and_reference(tmp_path: Path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "my.yaml").write_text(USER_TEMPLATE)
    (tmp_path / "mine" / "notes.txt").write_text("not a template")
    registry = TemplateRegistry.from_paths([tmp_path / "mine"])
    assert "MyGathers" in registry
    assert "PostStack3DTime" in registry
    assert registry.source_of("MyGathers") == str((tmp_path / "mine" / "my.yaml").resolve())
    assert "MyGathers" not in TemplateRegistry.builtin()  # the base registry is unchanged
    assert registry.get("mine/my.yaml", base=tmp_path).name == "MyGathers"
    assert registry.with_paths([tmp_path / "mine"]).names() == registry.names()  # same file again is fine
    assert is_template_path("./x.yaml")
    assert is_template_path("a/b")
    assert not is_template_path("PostStack3DTime")


def test_user_template_errors_name_their_file(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(USER_TEMPLATE.replace("domain: time", "domain: tiem"))
    with pytest.raises(SpecValidationError, match=rf"{bad}:2:1: domain: 'tiem' is not allowed, did you mean 'time'"):
        TemplateRegistry().with_paths([bad])
    with pytest.raises(TemplateNotFoundError, match="does not exist"):
        TemplateRegistry().with_paths([tmp_path / "nope"])
    clash = tmp_path / "clash.yaml"
    clash.write_text(USER_TEMPLATE.replace("MyGathers", "PostStack3DTime"))
    with pytest.raises(SpecValidationError, match="template 'PostStack3DTime' is already defined in"):
        TemplateRegistry.builtin().with_paths([clash])


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (("default_chunks: [16, 64, 256]", "default_chunks: [16, 256]"), "default_chunks: 2 chunk sizes"),
        (("domain: time", "domain: time\ngrid_overrides: {AutoChannelWrap: true}"), "need the index names 'cable'"),
        (("domain: time", "domain: time\naccess_patterns: {fast: [1, 2]}"), "access_patterns.fast: 2 chunk sizes"),
        (("domain: time", "domain: time\ncoordinates: {x: {byte: 238}}"), "coordinates.x: bytes 238..241"),
    ],
)
def test_template_errors(change, fragment):
    with pytest.raises(SpecValidationError) as info:
        TemplateSpec.from_yaml(USER_TEMPLATE.replace(*change), source="t.yaml")
    assert fragment in str(info.value)
