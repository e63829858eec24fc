"""Every spec kind: model -> YAML/JSON -> model is equal, and canonical YAML -> model -> YAML is the same text."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from mdio_catalog.specs.base import StrictModel
from mdio_catalog.specs.catalog import CatalogSpec, DatasetSpec
from mdio_catalog.specs.grid_overrides import GridOverrides
from mdio_catalog.specs.provenance import LockFile, ProvenanceRecord
from mdio_catalog.specs.resolve import ResolvedDataset, resolve
from mdio_catalog.specs.schema import SPEC_KINDS
from mdio_catalog.specs.sources import EmptySource, NumpySource, SegySource
from mdio_catalog.specs.template import TemplateSpec
from mdio_catalog.specs.variables import CreateSpec, VariableSpec

SEGY = {
    "segy": "raw/shots.sgy",
    "index": [{"name": "shot_point", "byte": 17}, {"name": "cable", "byte": 137, "type": "int16"},
              {"name": "channel", "byte": 13}],
    "grid_overrides": {"AutoChannelWrap": True, "AutoChannelTraceQC": 100000},
    "coordinates": {"source_coord_x": {"byte": 73}},
    "endian": "little",
    "sample_format": 5,
    "storage_options": {"anon": True, "client_kwargs": {"region_name": "eu-west-1"}},
}  # fmt: skip
NUMPY = {"numpy": "a.npz", "key": "data", "index_names": ["a", "sample"], "index_coords": {"a": {"start": 3}}}
EMPTY = {"empty": [{"name": "a", "start": 1, "count": 3}, {"name": "sample", "coords": [0.0, 0.5]}], "dtype": "int16"}
VARIABLE = {
    "name": "chunked_012",
    "dtype": "float64",
    "chunks": [4, 4, 8],
    "compressors": {"id": "blosc", "cname": "lz4", "clevel": 3},
    "header_dtype": {"fields": [{"name": "inline", "type": "int32", "byte": 189}], "itemsize": 240},
}
TEMPLATE = {
    "name": "Mine",
    "description": "Mine.",
    "domain": "depth",
    "index": [{"name": "cdp", "byte": 21}],
    "default_chunks": [64, 512],
    "coordinates": {"cdp_x": {"byte": 181}},
    "grid_overrides": {"NonBinned": True, "chunksize": 16},
    "access_patterns": {"fast": [1, 16, 512]},
}
DATASET = {
    "template": "PostStack3DTime",
    "source": {"segy": "a.sgy"},
    "chunks": [8, 8, 8],
    "compression": {"lossless": False, "tolerance": 0.5},
    "access_patterns": {"fast_z": None, "other": [1, 2, 3]},
    "description": "text",
    "tags": ["a", "b"],
}
RECORD = {
    "dataset": "a",
    "spec_hash": "0" * 64,
    "source": {"kind": "segy", "url": "a.sgy", "size": 10, "mtime": datetime(2024, 1, 1, tzinfo=UTC)},
    "started": datetime(2024, 1, 1, tzinfo=UTC),
    "finished": datetime(2024, 1, 1, 0, 1, tzinfo=UTC),
    "output": "out/a.mdio",
}


def _resolved() -> ResolvedDataset:
    catalog = CatalogSpec.from_data(
        {"version": 1, "name": "c", "root": "out", "datasets": {"a": {**DATASET, "access_patterns": {}}}}
    )
    return resolve(catalog, "a")


SAMPLES: dict[str, Any] = {
    "catalog": {
        "version": 1,
        "name": "c",
        "root": "s3://bucket/x",
        "root_storage": {"credentials": "lake", "storage_options": {"endpoint_url": "${ENDPOINT:-http://x}"}},
        "templates": ["more"],
        "credentials": {"lake": {"key": "${K}", "secret": "${S}", "options": {"profile_name": "p"}}},
        "defaults": {"chunks": [[4, 4, 4]], "compression": {"lossless": True}, "credentials": "lake"},
        "patterns": [{"pattern": "{survey}_{stage}", "values": {"stage": ["raw"]}, "output": "{survey}/{name}.mdio"}],
        "datasets": {"n_raw": {"source": SEGY}},
    },
    "dataset": DATASET,
    "template": TEMPLATE,
    "segy-source": SEGY,
    "segy-ingest": {
        **SEGY,
        "output": "s3://b/x.mdio",
        "chunks": [1, 2, 3, 4],
        "compression": {"lossless": False},
        "output_storage_options": {"key": "${KEY:-k}"},
    },
    "numpy-source": NUMPY,
    "empty-source": EMPTY,
    "create": {"path": "x.mdio", "dimensions": EMPTY["empty"], "variables": [{**VARIABLE, "chunks": [1, 2]}]},
    "variable": VARIABLE,
    "grid-overrides": {"ChannelWrap": True, "ChannelsPerCable": 800, "CalculateCable": True},
    "provenance": RECORD,
    "lock": {"version": 1, "catalog": "c", "entries": {"a": RECORD}},
    "lock-entry": {"version": 1, "catalog": "c", "current": RECORD},
}


def test_every_kind_has_a_sample():
    assert set(SAMPLES) | {"resolved-dataset"} == set(SPEC_KINDS)


@pytest.mark.parametrize("kind", sorted(SPEC_KINDS))
def test_round_trips(kind: str):
    model_class = SPEC_KINDS[kind]
    model: StrictModel = _resolved() if kind == "resolved-dataset" else model_class.from_data(SAMPLES[kind])
    schema = f"../schemas/{kind}.schema.json"
    # model -> YAML -> model, model -> JSON -> model, model -> data -> model
    text = model.to_yaml(schema=schema)
    assert model_class.from_yaml(text) == model
    assert model_class.from_json(model.to_json()) == model
    assert model_class.from_data(model.to_data()) == model
    assert model_class.from_yaml(model.to_yaml(exclude_defaults=False)) == model
    # YAML -> model -> YAML gives back the same (canonical) text
    assert model_class.from_yaml(text).to_yaml(schema=schema) == text


def test_python_built_models_equal_loaded_ones():
    assert SegySource.from_data(SEGY) == SegySource(**SEGY)
    assert NumpySource.from_data(NUMPY) == NumpySource(**NUMPY)
    assert EmptySource.from_data(EMPTY) == EmptySource(**EMPTY)
    assert VariableSpec.from_data(VARIABLE) == VariableSpec(**VARIABLE)
    assert TemplateSpec.from_data(TEMPLATE).grid_overrides == GridOverrides(NonBinned=True, chunksize=16)
    assert DatasetSpec.from_data(DATASET) == DatasetSpec(**DATASET)
    assert CreateSpec.from_data(SAMPLES["create"]).shape == (3, 2)
    assert ProvenanceRecord.from_data(RECORD) == ProvenanceRecord(**RECORD)
    assert LockFile.from_data(SAMPLES["lock"]).entries["a"] == ProvenanceRecord(**RECORD)
