"""JSON Schema of every spec kind, written to ``schemas/<kind>.schema.json`` for editors and checked by a test.

``python -m mdio_catalog.specs.schema --out schemas`` regenerates the files; ``--check`` exits 1 when a file is
missing or differs from the models (what the test does in memory).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from mdio_catalog.specs.base import StrictModel
from mdio_catalog.specs.catalog import CatalogSpec, DatasetSpec
from mdio_catalog.specs.grid_overrides import GridOverrides
from mdio_catalog.specs.provenance import LockEntry, LockFile, ProvenanceRecord
from mdio_catalog.specs.resolve import ResolvedDataset
from mdio_catalog.specs.sources import EmptySource, NumpySource, SegyIngestSpec, SegySource
from mdio_catalog.specs.template import TemplateSpec
from mdio_catalog.specs.variables import CreateSpec, VariableSpec

#: Every spec kind with a schema file, by file stem.
SPEC_KINDS: Final[dict[str, type[StrictModel]]] = {
    model.schema_name: model
    for model in (
        CatalogSpec,
        DatasetSpec,
        TemplateSpec,
        SegySource,
        SegyIngestSpec,
        NumpySource,
        EmptySource,
        CreateSpec,
        VariableSpec,
        GridOverrides,
        ResolvedDataset,
        ProvenanceRecord,
        LockFile,
        LockEntry,
    )
}

JSON_SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"


def schema_filename(kind: str) -> str:
    return f"{kind}.schema.json"


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of one spec kind (the keys as written in files, i.e. aliases)."""
    model = SPEC_KINDS[kind]
    schema = model.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": JSON_SCHEMA_DIALECT, "$id": schema_filename(kind), **schema}


def render(kind: str) -> str:
    """The file text of one schema (stable: same models, same bytes)."""
    return json.dumps(json_schema(kind), indent=2, ensure_ascii=False) + "\n"


def render_all() -> dict[str, str]:
    """File name -> text for every spec kind."""
    return {schema_filename(kind): render(kind) for kind in SPEC_KINDS}


def write_schemas(out: str | Path) -> list[Path]:
    """Write every schema into ``out`` (created if needed); return the paths written."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_all().items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def stale_schemas(folder: str | Path) -> list[str]:
    """Names of schema files in ``folder`` that are missing or differ from the models."""
    folder = Path(folder)
    stale = []
    for name, text in render_all().items():
        path = folder / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mdio_catalog.specs.schema", description=__doc__)
    parser.add_argument("--out", default="schemas", help="folder of the schema files (default: ./schemas)")
    parser.add_argument("--check", action="store_true", help="only report files that differ; exit 1 if any")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_schemas(args.out)
        for name in stale:
            print(f"{Path(args.out) / name} is out of date; run python -m mdio_catalog.specs.schema --out {args.out}")
        return 1 if stale else 0
    for path in write_schemas(args.out):
        print(path)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
