"""Pydantic models of everything a user declares: templates, sources, catalogs, provenance.

Models are immutable, refuse unknown keys (with a did-you-mean), load from YAML/JSON text or files and from Python
objects, and dump to YAML/JSON that loads back equal. Errors are :class:`~mdio_catalog.exceptions.SpecValidationError`
naming the file, line and path of every problem.
"""

from mdio_catalog.specs.base import StrictModel, dump_yaml, parse_json, parse_yaml
from mdio_catalog.specs.catalog import (
    CatalogSpec,
    CredentialSpec,
    DatasetSpec,
    DefaultsSpec,
    NamePattern,
    StorageSpec,
    check_dataset_name,
)
from mdio_catalog.specs.env import expand, expand_tree, redacted
from mdio_catalog.specs.errors import SourceMap, SpecIssue
from mdio_catalog.specs.grid_overrides import GridOverrides
from mdio_catalog.specs.provenance import Histogram, LockEntry, LockFile, ProvenanceRecord, SourceIdentity, Statistics
from mdio_catalog.specs.registry import TemplateRegistry
from mdio_catalog.specs.resolve import (
    ResolvedDataset,
    catalog_registry,
    check_catalog,
    load_catalog,
    resolve,
    resolve_all,
    spec_hash,
)
from mdio_catalog.specs.sources import (
    EmptySource,
    HeaderWord,
    IndexField,
    NumpySource,
    RangeSpec,
    SegyIngestSpec,
    SegySource,
)
from mdio_catalog.specs.template import TemplateSpec
from mdio_catalog.specs.variables import (
    BloscSpec,
    CompressionSpec,
    CreateSpec,
    DimensionSpec,
    HeaderDtypeSpec,
    HeaderFieldSpec,
    LosslessSpec,
    VariableSpec,
    ZfpSpec,
)

__all__ = [
    "BloscSpec",
    "CatalogSpec",
    "CompressionSpec",
    "CreateSpec",
    "CredentialSpec",
    "DatasetSpec",
    "DefaultsSpec",
    "DimensionSpec",
    "EmptySource",
    "GridOverrides",
    "HeaderDtypeSpec",
    "HeaderFieldSpec",
    "HeaderWord",
    "Histogram",
    "IndexField",
    "LockEntry",
    "LockFile",
    "LosslessSpec",
    "NamePattern",
    "NumpySource",
    "ProvenanceRecord",
    "RangeSpec",
    "ResolvedDataset",
    "SegyIngestSpec",
    "SegySource",
    "SourceIdentity",
    "SourceMap",
    "SpecIssue",
    "Statistics",
    "StorageSpec",
    "StrictModel",
    "TemplateRegistry",
    "TemplateSpec",
    "VariableSpec",
    "ZfpSpec",
    "catalog_registry",
    "check_catalog",
    "check_dataset_name",
    "dump_yaml",
    "expand",
    "expand_tree",
    "load_catalog",
    "parse_json",
    "parse_yaml",
    "redacted",
    "resolve",
    "resolve_all",
    "spec_hash",
]
