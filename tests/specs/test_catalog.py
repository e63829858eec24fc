"""Catalog files: round trips, every kind of bad input with its file and line, resolution, spec hashes."""

from __future__ import annotations

from pathlib import Path

import pytest

from mdio_catalog.exceptions import DatasetNotFoundError, SpecValidationError
from mdio_catalog.specs.catalog import CatalogSpec, CredentialSpec, DatasetSpec, check_dataset_name, join_location
from mdio_catalog.specs.env import REDACTED
from mdio_catalog.specs.errors import SpecIssue
from mdio_catalog.specs.grid_overrides import GridOverrides
from mdio_catalog.specs.registry import TemplateRegistry
from mdio_catalog.specs.resolve import check_catalog, load_catalog, resolve, resolve_all, spec_hash
from mdio_catalog.specs.sources import EmptySource, IndexField, NumpySource, SegySource
from mdio_catalog.specs.variables import CompressionSpec, DimensionSpec

CATALOG = """\
# yaml-language-server: $schema=../schemas/catalog.schema.json
version: 1
name: demo-survey
root: ./build/mdio
root_storage: {credentials: lake}
templates: [my_templates]
credentials:
  lake: {key: "${AWS_ACCESS_KEY_ID}", secret: "${AWS_SECRET_ACCESS_KEY:-none}"}
defaults:
  chunks: [[64, 64, 64]]
  compression: {lossless: true}
patterns:
  - pattern: "{survey}_{stage}"
    values: {stage: [stack, shots, synth, grid, gathers]}
    output: "{survey}/{stage}.mdio"
datasets:
  north_stack:
    template: PostStack3DTime
    source:
      segy: raw/stack.sgy
      index: [{name: inline, byte: 189, type: int32}, {name: crossline, byte: 193, type: int32}]
    chunks: [128, 128, 128]
    compression: {lossless: false, tolerance: 0.01}
    access_patterns: {fast_il: [4, 512, 512], fast_z: null}
    description: Final migrated stack.
    tags: [final]
  north_shots:
    template: StreamerShotGathers3D
    source:
      segy: s3://bucket/raw/shots.sgy
      credentials: lake
      grid_overrides: {AutoChannelWrap: true, AutoChannelTraceQC: 1000000}
  north_gathers:
    template: MyGathers
    source: {segy: raw/gathers.sgy}
  north_synth:
    source:
      numpy: arrays/synth.npz
      key: data
      index_names: [inline, crossline, sample]
      index_coords: {inline: {start: 100}, sample: {start: 0, step: 4}}
    chunks: [32, 32, 256]
  north_grid:
    template: PostStack3DDepth
    source:
      empty:
        - {name: inline, start: 1, count: 100}
        - {name: crossline, start: 1, count: 200}
        - {name: depth, start: 0, step: 5, count: 801}
"""

USER_TEMPLATE = """\
# yaml-language-server: $schema=../../schemas/template.schema.json
name: MyGathers
description: CDP gathers with offsets at byte 37.
domain: time
index: [{name: cdp, byte: 21}, {name: offset, byte: 37}]
default_chunks: [16, 64, 256]
access_patterns: {offset_planes: [512, 1, 512]}
"""

ENV = {"AWS_ACCESS_KEY_ID": "AKIA"}


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    (tmp_path / "my_templates").mkdir()
    (tmp_path / "my_templates" / "mine.yaml").write_text(USER_TEMPLATE)
    (tmp_path / "catalog.yaml").write_text(CATALOG)
    return tmp_path


def write(folder: Path, text: str) -> Path:
    path = folder / "catalog.yaml"
    path.write_text(text)
    return path


def error_of(folder: Path, text: str, env: dict[str, str] | None = None) -> SpecValidationError:
    path = write(folder, text)
    with pytest.raises(SpecValidationError) as info:
        load_catalog(path, env=env)
    return info.value


# --- round trips --------------------------------------------------------------------------------------------------
def test_catalog_round_trips(catalog_dir: Path):
    catalog = load_catalog(catalog_dir / "catalog.yaml", env=ENV)
    assert set(catalog.datasets) == {"north_stack", "north_shots", "north_gathers", "north_synth", "north_grid"}
    # YAML -> model -> YAML -> model, and JSON.
    text = catalog.to_yaml(schema="../schemas/catalog.schema.json")
    assert CatalogSpec.from_yaml(text) == catalog
    assert CatalogSpec.from_yaml(text).to_yaml(schema="../schemas/catalog.schema.json") == text
    assert CatalogSpec.from_json(catalog.to_json()) == catalog
    # Full dumps (defaults written out) load back equal too.
    assert CatalogSpec.from_yaml(catalog.to_yaml(exclude_defaults=False)) == catalog
    # Credentials keep their references in dumps; the values never appear.
    assert "${AWS_ACCESS_KEY_ID}" in text
    assert "AKIA" not in text


def test_catalog_built_in_python_dumps_and_loads_back_equal():
    catalog = CatalogSpec(
        version=1,
        name="py",
        root="s3://bucket/prefix",
        credentials={"lake": CredentialSpec(key="${K}", secret="${S}")},
        datasets={
            "stack": DatasetSpec(
                template="PostStack3DTime",
                source=SegySource(segy="raw/a.sgy", credentials="lake"),
                compression=CompressionSpec(lossless=True),
            ),
            "synth": DatasetSpec(source=NumpySource(numpy="a.npy", index_names=["a", "b"]), chunks=(4, 8)),
            "grid": DatasetSpec(
                source=EmptySource(
                    empty=[DimensionSpec(name="a", start=0, count=4), DimensionSpec(name="sample", coords=[0, 4])]
                )
            ),
        },
    )
    assert CatalogSpec.from_yaml(catalog.to_yaml()) == catalog
    assert CatalogSpec.from_data(catalog.to_data()) == catalog
    check_catalog(catalog)
    assert catalog.output_url("stack") == "s3://bucket/prefix/stack.mdio"


# --- bad input, with file and line ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "    chunks: [128, 128, 128]\n",
            "    chunk: [128, 128, 128]\n",
            ":22:5: datasets.north_stack.chunk: unknown key 'chunk', did you mean 'chunks'?",
        ),
        (
            "    chunks: [128, 128, 128]\n",
            "    chunks: [128, 128]\n",
            ":22:5: datasets.north_stack.chunks: 2 chunk sizes; the dataset has 2 index dimensions "
            "['inline', 'crossline'] plus the sample axis: 3",
        ),
        (
            "    chunks: [128, 128, 128]\n",
            "    chunks: 128\n",
            ":22:5: datasets.north_stack.chunks: Input should be a valid tuple",
        ),
        (
            "byte: 193, type: int32}",
            "byte: 193, type: int23}",
            ":21:84: datasets.north_stack.source.index[1].type: 'int23' is not allowed, did you mean 'int32'?",
        ),
        ("version: 1\n", "version: 2\n", ":2:1: version: Input should be 1"),
        (
            "    template: MyGathers\n",
            "    template: MyGather\n",
            ":34:5: datasets.north_gathers.template: unknown template 'MyGather', did you mean 'MyGathers'?",
        ),
        (
            "    template: PostStack3DTime\n",
            "    template: ./nowhere.yaml\n",
            ":18:5: datasets.north_stack.template: template file",
        ),
        (
            "      credentials: lake\n",
            "      credentials: lakes\n",
            ":31:7: datasets.north_shots.source.credentials: unknown credentials 'lakes', did you mean 'lake'? "
            "(defined: lake)",
        ),
        (
            "      grid_overrides: {AutoChannelWrap: true, AutoChannelTraceQC: 1000000}\n",
            "      grid_overrides: {AutoShotWrap: true}\n",
            ":32:7: datasets.north_shots.source.grid_overrides: Grid overrides AutoShotWrap need the index names "
            "'shot_line', 'gun'",
        ),
        (
            "    source: {segy: raw/gathers.sgy}\n",
            "    source: {segy: raw/gathers.sgy, grid_overrides: {AutoShotWrap: true}}\n",
            ":35:37: datasets.north_gathers.source.grid_overrides: Grid overrides AutoShotWrap need the index "
            "names 'shot_line'",
        ),
        (
            "    access_patterns: {fast_il: [4, 512, 512], fast_z: null}\n",
            "    access_patterns: {fast_il: [4, 512], fst_z: null}\n",
            ":24:42: datasets.north_stack.access_patterns.fst_z: the template suggests no access pattern 'fst_z', "
            "did you mean 'fast_z'?",
        ),
        (
            "    template: PostStack3DDepth\n",
            "    template: PostStack3DDepth\n    chunks: [1, 2]\n",
            ":45:5: datasets.north_grid.chunks: 2 chunk sizes for 3 dimensions ['inline', 'crossline', 'depth']",
        ),
        (
            "  north_grid:\n",
            "  north_gride:\n",
            ":43:3: datasets.north_gride: stage 'gride' is not one of stack, shots, synth, grid, gathers, "
            "did you mean 'grid'?",
        ),
        (
            "  north_grid:\n",
            "  northgrid:\n",
            ":43:3: datasets.northgrid: dataset name 'northgrid' matches no pattern ('{survey}_{stage}')",
        ),
        (
            "  north_grid:\n",
            "  North_stack:\n",
            ":43:3: datasets.North_stack: dataset 'North_stack' differs from 'north_stack' only in case",
        ),
        (
            "root: ./build/mdio\n",
            "root: ${ROOT}\n",
            ":4:1: root: environment references are only expanded in credentials and storage_options",
        ),
        (
            "        - {name: depth, start: 0, step: 5, count: 801}\n",
            "        - {name: depth, start: 0, step: 5}\n",
            ":49:11: datasets.north_grid.source.empty[2].count: dimension 'depth' needs coords, or start and count",
        ),
        (
            "      numpy: arrays/synth.npz\n",
            "      numpy: arrays/synth.npz\n      segy: a.sgy\n",
            ":37:5: datasets.north_synth.source: a source needs exactly one of the keys",
        ),
        ("templates: [my_templates]\n", "templates: [my_templates, missing]\n", ":6:27: templates[1]: template path"),
    ],
)
def test_bad_catalogs_name_file_line_and_path(catalog_dir: Path, old: str, new: str, expected: str):
    assert old in CATALOG
    error = error_of(catalog_dir, CATALOG.replace(old, new), env=ENV)
    assert f"{catalog_dir / 'catalog.yaml'}{expected}" in str(error), str(error)
    assert all(isinstance(i, SpecIssue) and i.source == str(catalog_dir / "catalog.yaml") for i in error.issues)


def test_duplicate_dataset_names_are_caught_by_the_loader(catalog_dir: Path):
    text = CATALOG.replace("  north_grid:\n", "  north_stack:\n")
    error = error_of(catalog_dir, text)
    assert str(error).startswith(
        f"{catalog_dir / 'catalog.yaml'}:43:3: datasets.north_stack: duplicate key 'north_stack' "
        "(first defined on line 17)"
    )


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("../evil", "would escape the catalog root ('..')"),
        ("a/../../b", "would escape the catalog root ('..')"),
        ("/abs/path", "is an absolute path or URL"),
        ("C:\\\\data", "is an absolute path or URL"),
        ("~user", "is an absolute path or URL"),
        ("s3://bucket/x", "is an absolute path or URL"),
        ("sub/name", "contains a path separator"),
        ("..", "would escape the catalog root"),
        (".hidden", "may hold only letters"),
        ("bad name", "may hold only letters"),
    ],
)
def test_names_that_would_escape_the_root(tmp_path: Path, name: str, fragment: str):
    text = f'version: 1\nname: x\nroot: out\ndatasets:\n  "{name}":\n    source: {{segy: a.sgy}}\n'
    error = error_of(tmp_path, text)
    assert "catalog.yaml:5:3: datasets[" in str(error)
    assert fragment in str(error)
    with pytest.raises(ValueError, match="dataset name"):
        check_dataset_name(name.replace("\\\\", "\\"))


def test_all_problems_of_a_catalog_are_reported_at_once(catalog_dir: Path):
    text = CATALOG.replace("template: MyGathers", "template: Nope").replace("fast_z: null", "fst_z: null")
    error = error_of(catalog_dir, text)
    assert str(error).startswith(f"2 problems in {catalog_dir / 'catalog.yaml'}:")
    paths = {i.path for i in error.issues}
    assert paths == {("datasets", "north_gathers", "template"), ("datasets", "north_stack", "access_patterns", "fst_z")}
    # Structural problems come first (templates are looked up once the file itself is valid).
    error = error_of(catalog_dir, CATALOG.replace("[32, 32, 256]", "[32, 256]").replace("[4, 512, 512]", "[4, 512]"))
    assert {i.path for i in error.issues} == {("datasets", "north_synth", "chunks")}


def test_nothing_resolves_from_an_invalid_catalog(catalog_dir: Path):
    path = write(catalog_dir, CATALOG.replace("template: MyGathers", "template: Nope"))
    catalog = CatalogSpec.from_file(path)  # structurally fine...
    with pytest.raises(SpecValidationError, match="unknown template 'Nope'"):
        resolve_all(catalog)  # ...but no dataset of it resolves
    with pytest.raises(DatasetNotFoundError, match="did you mean 'north_stack'"):
        resolve(catalog, "north_stak")


# --- environment ----------------------------------------------------------------------------------------------------
def test_undefined_environment_variables_are_located(catalog_dir: Path):
    error = error_of(catalog_dir, CATALOG, env={})
    assert str(error) == (
        f"{catalog_dir / 'catalog.yaml'}:8:10: credentials.lake.key: "
        "environment variable 'AWS_ACCESS_KEY_ID' is not set "
        "(set it, or write ${AWS_ACCESS_KEY_ID:-default} for a fallback)"
    )
    catalog = load_catalog(catalog_dir / "catalog.yaml")  # without env: the environment is not checked yet
    with pytest.raises(SpecValidationError, match="AWS_ACCESS_KEY_ID"):
        catalog.check_environment(["north_synth"], env={})  # the root needs the credentials too


def test_storage_options_are_expanded_only_when_asked(catalog_dir: Path):
    catalog = load_catalog(catalog_dir / "catalog.yaml")
    assert catalog.source_storage_options("north_shots", env=ENV) == {"key": "AKIA", "secret": "none"}
    assert catalog.source_storage_options("north_stack", env={}) == {}
    assert catalog.root_storage_options(env={"AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "S"}) == {
        "key": "A",
        "secret": "S",
    }
    redacted = catalog.redacted()
    assert redacted["credentials"]["lake"] == {"key": REDACTED, "secret": REDACTED}


# --- resolution -----------------------------------------------------------------------------------------------------
def test_resolve_merges_template_defaults_and_dataset(catalog_dir: Path):
    catalog = load_catalog(catalog_dir / "catalog.yaml")
    resolved = resolve_all(catalog)

    stack = resolved["north_stack"]
    assert stack.kind == "segy"
    assert stack.domain == "time"
    assert stack.template == "PostStack3DTime"
    assert stack.dimensions == ("inline", "crossline", "sample")
    assert stack.chunks == (128, 128, 128)
    assert stack.compression == CompressionSpec(lossless=False, tolerance=0.01)
    assert stack.access_patterns == {"fast_il": (4, 512, 512), "fast_z": (512, 512, 4)}
    assert stack.output == "north/stack.mdio"
    assert stack.fields == {"survey": "north", "stage": "stack"}
    assert set(stack.source.coordinates or {}) == {"cdp_x", "cdp_y", "coordinate_scalar"}
    kwargs = stack.segy_to_mdio_kwargs(catalog.source_url("north_stack") or "", catalog.output_url("north_stack"))
    assert kwargs["segy_path"] == str(catalog_dir / "raw" / "stack.sgy")
    assert kwargs["mdio_path_or_buffer"] == str(catalog_dir / "build" / "mdio" / "north" / "stack.mdio")
    assert kwargs["index_bytes"] == [189, 193]
    assert kwargs["chunksize"] == (128, 128, 128)
    assert (kwargs["lossless"], kwargs["compression_tolerance"], kwargs["grid_overrides"]) == (False, 0.01, None)

    shots = resolved["north_shots"]
    assert [f.byte for f in shots.index] == [17, 137, 13]
    assert shots.grid_overrides == GridOverrides.parse({"AutoChannelWrap": True, "AutoChannelTraceQC": 1000000})
    assert shots.chunks == (8, 2, 128, 1024)
    assert shots.compression == CompressionSpec(lossless=True)
    assert shots.source.credentials == "lake"
    assert catalog.source_url("north_shots") == "s3://bucket/raw/shots.sgy"

    gathers = resolved["north_gathers"]
    assert gathers.template == "MyGathers"
    assert [f.name for f in gathers.index] == ["cdp", "offset"]
    assert gathers.chunks == (16, 64, 256)

    synth = resolved["north_synth"]
    assert synth.kind == "numpy"
    assert synth.dimensions == ("inline", "crossline", "sample")
    numpy_kwargs = synth.numpy_to_mdio_kwargs("out.mdio", (3, 2, 4))
    assert numpy_kwargs["index_coords"]["inline"].tolist() == [100, 101, 102]
    assert numpy_kwargs["index_coords"]["sample"].tolist() == [0, 4, 8, 12]
    assert numpy_kwargs["index_coords"]["crossline"].tolist() == [0, 1]
    assert numpy_kwargs["chunksize"] == (32, 32, 256)

    grid = resolved["north_grid"]
    assert grid.kind == "empty"
    assert grid.domain == "depth"
    assert grid.chunks == (128, 128, 128)
    create = grid.create_spec("mem.mdio")
    assert [v.name for v in create.variables] == ["chunked_012"]
    assert create.to_config().grid.shape == (100, 200, 801)


def test_template_overrides_contradicting_the_dataset_index(tmp_path: Path):
    text = """version: 1
name: x
root: out
datasets:
  shots:
    template: StreamerShotGathers3D
    source:
      segy: a.sgy
      index: [{name: shot_point, byte: 17}, {name: channel, byte: 13}]
"""
    error = error_of(tmp_path, text)
    assert (
        "catalog.yaml:6:5: datasets.shots.template: Grid overrides AutoChannelWrap need the index names 'cable'"
        in str(error)
    )
    assert "(template 'StreamerShotGathers3D')" in str(error)


def test_catalog_default_chunks_apply_by_length(tmp_path: Path):
    text = (
        "version: 1\nname: x\nroot: out\ndefaults: {chunks: [[8, 8, 8], [4, 4]]}\n"
        "datasets:\n  a:\n    source: {segy: a.sgy, index: [{name: cdp, byte: 21}]}\n"
    )
    catalog = CatalogSpec.from_file(write(tmp_path, text))
    assert resolve(catalog, "a").chunks == (4, 4)
    with pytest.raises(SpecValidationError, match="two default chunk shapes have 2 entries"):
        CatalogSpec.from_yaml(text.replace("[[8, 8, 8], [4, 4]]", "[[8, 8], [4, 4]]"))


# --- spec hash ------------------------------------------------------------------------------------------------------
def test_spec_hash_is_stable_and_ignores_free_text(catalog_dir: Path):
    catalog = load_catalog(catalog_dir / "catalog.yaml")
    base = {name: spec_hash(r) for name, r in resolve_all(catalog).items()}
    assert len(set(base.values())) == len(base)
    assert all(len(h) == 64 for h in base.values())

    # Same text, new process-independent objects: same hashes.
    again = load_catalog(write(catalog_dir, CATALOG))
    assert {n: spec_hash(r) for n, r in resolve_all(again).items()} == base

    # Free text, tags, credentials and storage options do not change what is built.
    edited = (
        CATALOG.replace("Final migrated stack.", "Something else entirely.")
        .replace("tags: [final]", "tags: [old, other]")
        .replace("      credentials: lake\n", "      storage_options: {anon: true}\n")
    )
    changed = load_catalog(write(catalog_dir, edited))
    assert {n: spec_hash(r) for n, r in resolve_all(changed).items()} == base

    # What is built does.
    rechunked = load_catalog(write(catalog_dir, CATALOG.replace("[128, 128, 128]", "[64, 128, 128]")))
    assert spec_hash(resolve(rechunked, "north_stack")) != base["north_stack"]
    moved = load_catalog(write(catalog_dir, CATALOG.replace("byte: 193, type: int32", "byte: 17, type: int32")))
    assert spec_hash(resolve(moved, "north_stack")) != base["north_stack"]


def test_resolved_dataset_round_trips_and_redacts(catalog_dir: Path):
    from mdio_catalog.specs.resolve import ResolvedDataset

    catalog = load_catalog(catalog_dir / "catalog.yaml")
    for resolved in resolve_all(catalog).values():
        assert ResolvedDataset.from_yaml(resolved.to_yaml()) == resolved
        assert ResolvedDataset.from_data(resolved.redacted_data()) == resolved
    secret = SegySource(
        segy="a.sgy", storage_options={"secret": "s3cr3t", "anon": False}, index=[IndexField(name="cdp", byte=21)]
    )
    catalog = CatalogSpec(version=1, name="x", root="out", datasets={"a": DatasetSpec(source=secret)})
    data = resolve(catalog, "a").redacted_data()
    assert data["source"]["storage_options"] == {"secret": REDACTED, "anon": False}


def test_join_location():
    assert join_location("/cat", "raw/a.sgy") == "/cat/raw/a.sgy"
    assert join_location("/cat", "s3://b/a.sgy") == "s3://b/a.sgy"
    assert join_location("/cat", "/abs/a.sgy") == "/abs/a.sgy"
    assert join_location("s3://bucket/cat", "raw/a.sgy") == "s3://bucket/cat/raw/a.sgy"
    assert join_location(None, "raw/a.sgy") == "raw/a.sgy"


def test_registry_argument_is_used(catalog_dir: Path):
    catalog = CatalogSpec.from_file(catalog_dir / "catalog.yaml")
    with pytest.raises(SpecValidationError, match="unknown template 'PostStack3DTime'"):
        resolve(catalog, "north_stack", TemplateRegistry())
