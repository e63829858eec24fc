"""The JSON Schema files in schemas/ match the models, and the YAML files of the repository validate against them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mdio_catalog.specs.base import parse_yaml
from mdio_catalog.specs.schema import SPEC_KINDS, main, render_all, stale_schemas

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"


def test_schema_files_match_the_models():
    generated = render_all()
    on_disk = {p.name for p in SCHEMAS.glob("*.schema.json")}
    assert on_disk == set(generated), "schemas/ has stale or missing files"
    stale = stale_schemas(SCHEMAS)
    assert not stale, f"regenerate with: python -m mdio_catalog.specs.schema --out schemas ({stale})"


def test_every_kind_has_a_schema_with_an_id():
    assert {
        "catalog",
        "dataset",
        "template",
        "segy-source",
        "create",
        "variable",
        "grid-overrides",
        "provenance",
        "lock",
    } <= set(SPEC_KINDS)
    for name, text in render_all().items():
        schema = json.loads(text)
        assert schema["$id"] == name
        assert schema["$schema"].startswith("https://json-schema.org/")


def test_generator_writes_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["--out", str(tmp_path), "--check"]) == 1
    assert main(["--out", str(tmp_path)]) == 0
    assert main(["--out", str(tmp_path), "--check"]) == 0
    (tmp_path / "catalog.schema.json").write_text("{}")
    assert main(["--out", str(tmp_path), "--check"]) == 1
    assert "catalog.schema.json is out of date" in capsys.readouterr().out


def _validator(kind: str):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((SCHEMAS / f"{kind}.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("path", sorted((ROOT / "templates").glob("*.yaml")), ids=lambda p: p.stem)
def test_templates_validate_against_their_schema(path: Path):
    first = path.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schemas/template.schema.json"
    assert (path.parent / first.split("=", 1)[1]).resolve() == SCHEMAS / "template.schema.json"
    data, _ = parse_yaml(path.read_text())
    errors = list(_validator("template").iter_errors(data))
    assert not errors, errors


def test_schema_catches_what_editors_should_flag():
    validator = _validator("catalog")
    good = {"version": 1, "name": "x", "root": "out", "datasets": {"a": {"source": {"segy": "a.sgy"}}}}
    assert not list(validator.iter_errors(good))
    bad_key = {**good, "datasets": {"a": {"source": {"segy": "a.sgy"}, "chunk": [1]}}}
    assert list(validator.iter_errors(bad_key))
    two_sources = {**good, "datasets": {"a": {"source": {"segy": "a.sgy", "numpy": "b.npy"}}}}
    assert list(validator.iter_errors(two_sources))
    shorthand = {"name": "v", "compressors": "lossless"}
    assert not list(_validator("variable").iter_errors(shorthand))
