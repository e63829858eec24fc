"""``crs: EPSG:NNNN`` on a dataset or under defaults: checked by form and EPSG's range with the file and line of a
bad value, normalised, inherited from defaults, and not part of the spec hash (metadata)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mdio_catalog.exceptions import SpecValidationError
from mdio_catalog.specs.catalog import DatasetSpec
from mdio_catalog.specs.crs import check_epsg
from mdio_catalog.specs.resolve import load_catalog, resolve, spec_hash

EMPTY = "{empty: [{name: inline, start: 1, count: 2}, {name: sample, start: 0, count: 3}]}"


def _catalog(folder: Path, *, defaults: str = "", crs: str = "") -> Path:
    path = folder / "catalog.yaml"
    lines = ["version: 1", "name: c", "root: ./out"]
    if defaults:
        lines.append(f"defaults: {{crs: {defaults}}}")
    lines += ["datasets:", "  a:", f"    source: {EMPTY}"]
    if crs:
        lines.append(f"    crs: {crs}")
    lines += ["  b:", f"    source: {EMPTY}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("given", "expected"), [("EPSG:23031", "EPSG:23031"), ("epsg:4326", "EPSG:4326"), (" EPSG:02154", "EPSG:2154")]
)
def test_good_codes_are_normalised(given: str, expected: str) -> None:
    assert check_epsg(given) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("WGS84", "not of the form EPSG:NNNN"),
        ("EPSG:99999", "1024 to 32767"),
        ("EPSG:12", "1024 to 32767"),
        ("ESRI:102100", "not of the form"),
    ],
)
def test_bad_codes_are_located(tmp_path: Path, value: str, message: str) -> None:
    with pytest.raises(SpecValidationError) as info:
        load_catalog(_catalog(tmp_path, crs=value))
    text = str(info.value)
    assert message in text
    assert "catalog.yaml:7" in text  # the line of the crs key
    assert "datasets.a.crs" in text


def test_defaults_apply_and_the_hash_ignores_the_crs(tmp_path: Path) -> None:
    plain = load_catalog(_catalog(tmp_path))
    named = load_catalog(_catalog(tmp_path, defaults="EPSG:23031", crs="EPSG:32631"))
    assert resolve(named, "a").crs == "EPSG:32631"
    assert resolve(named, "b").crs == "EPSG:23031"
    assert resolve(plain, "a").crs is None
    for name in ("a", "b"):
        assert spec_hash(resolve(named, name)) == spec_hash(resolve(plain, name))
    source = {"empty": [{"name": "inline", "start": 1, "count": 2}, {"name": "sample", "start": 0, "count": 3}]}
    assert DatasetSpec.model_validate({"source": source, "crs": "epsg:4326"}).crs == "EPSG:4326"
