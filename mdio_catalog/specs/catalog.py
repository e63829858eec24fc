"""The catalog file: named datasets, each a template plus a source plus what it overrides.

Shape (``catalog.yaml``)::

    # yaml-language-server: $schema=../schemas/catalog.schema.json
    version: 1
    name: demo-survey
    root: ./build/mdio                  # or s3://bucket/prefix; relative paths are relative to this file
    root_storage: {credentials: lake}   # how to open the root (storage_options and/or named credentials)
    credentials:
      lake: {key: "${AWS_ACCESS_KEY_ID}", secret: "${AWS_SECRET_ACCESS_KEY}"}
    defaults: {compression: {lossless: true}, chunks: [[128, 128, 128], [16, 16, 16, 512]]}
    patterns: [{pattern: "{survey}_{stage}", values: {stage: [raw, stack]}}]
    datasets:
      north_stack:
        template: PostStack3DTime
        source: {segy: raw/stack.sgy}

Validation here needs nothing but the file: unknown keys, types, names that would escape the root, references to
undefined credentials, chunk counts that disagree with the source, names that match no pattern. Templates and the
environment are checked by :func:`mdio_catalog.specs.resolve.check_catalog` and
:meth:`CatalogSpec.check_environment`.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import AfterValidator, Field, StrictBool, StrictInt, field_validator, model_validator

from mdio_catalog.exceptions import did_you_mean
from mdio_catalog.specs.base import StrictModel, located_errors
from mdio_catalog.specs.crs import Crs
from mdio_catalog.specs.derived import DatasetSource, ExportSpec
from mdio_catalog.specs.env import check_tree, expand_tree, no_references, redacted, undefined, undefined_issue
from mdio_catalog.specs.errors import PathPart, SourceMap, SpecIssue, raise_issues
from mdio_catalog.specs.limits import output_name_problem
from mdio_catalog.specs.sources import CredentialsName, EmptySource, NumpySource, SegySource, Source, StorageOptions
from mdio_catalog.specs.template import Suffix
from mdio_catalog.specs.variables import Chunks, CompressionSpec, Identifier

Problems = list[tuple[tuple[PathPart, ...], str]]

_NAME_RE: Final = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
_FIELD_RE: Final = re.compile(r"\{([^{}]*)\}")
_URL_RE: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")

#: How many earlier versions a dataset keeps beside it (``keep: N``; 0, the default, deletes the replaced one).
Keep = Annotated[StrictInt, Field(ge=0, le=1000)]

#: The layout a build writes: MDIO v0 (Zarr v2, this package's native layout) or v1 (Zarr v3, multidimio 1.x).
OutputFormat = Literal["v0", "v1"]


def check_dataset_name(name: str) -> str:
    """A dataset name is one path component inside the root: no '..', no absolute path, no separator."""
    if not name:
        raise ValueError("a dataset name cannot be empty")
    if name.startswith(("/", "\\", "~")) or re.match(r"^[A-Za-z]:", name) or _URL_RE.match(name):
        raise ValueError(f"dataset name {name!r} is an absolute path or URL: it would escape the catalog root")
    parts = re.split(r"[/\\]", name)
    if ".." in parts or name in (".", ".."):
        raise ValueError(f"dataset name {name!r} would escape the catalog root ('..')")
    if len(parts) > 1:
        raise ValueError(
            f"dataset name {name!r} contains a path separator; a name is one path component "
            "(use patterns[].output to place datasets in folders)"
        )
    if not _NAME_RE.match(name) or name.endswith("."):
        raise ValueError(
            f"dataset name {name!r} may hold only letters, digits, '_', '-' and '.', and must not start with "
            "'.' or '-' or end with '.'"
        )
    return name


DatasetName = Annotated[
    str,
    AfterValidator(check_dataset_name),
    Field(max_length=200, json_schema_extra={"pattern": r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$"}),
]


def output_path_problems(output: str) -> list[str]:
    """Why a dataset's resolved output path (``north/stack.mdio``, inside the root) is not a place to build.

    It must lie strictly inside the root: relative, separated by '/', no empty, '.' or '..' part (a pattern field
    whose value is '..' or '.' must not move or merge a dataset), no part starting with '.' (the staging and
    leftover names of writes beside a target start with '.'), and every part short enough for its staging name
    (:data:`~mdio_catalog.specs.limits.MAX_OUTPUT_NAME_BYTES` bytes).
    """
    shown = repr(output if len(output) <= 60 else output[:57] + "...")
    if not output or output.startswith(("/", "~")) or re.match(r"^[A-Za-z]:", output) or is_url(output):
        return [f"output {shown} is not a relative path inside the root"]
    if "\\" in output or "\0" in output:
        return [f"output {shown} may separate folders only with '/' (no backslashes or NUL)"]
    problems = []
    for part in output.split("/"):
        if part in ("", ".", ".."):
            what = "an empty" if not part else repr(part)
            problems.append(
                f"output {shown} has {what} part: every dataset must be written strictly inside the root, in its "
                "own folder (check the pattern fields that make up the output)"
            )
        elif part.startswith("."):
            problems.append(
                f"output {shown} has the hidden part {part!r}: names starting with '.' are kept for the staging of "
                "writes beside a target"
            )
        else:
            problem = output_name_problem(part)
            if problem is not None:
                problems.append(f"output {shown}: {problem}")
    return problems[:1] if problems else []


def _nested_outputs(outputs: Mapping[str, str]) -> list[tuple[tuple[PathPart, ...], str]]:
    """A dataset whose output lies inside another dataset's output (``a.mdio`` and ``a.mdio/b.mdio``)."""
    problems: list[tuple[tuple[PathPart, ...], str]] = []
    ordered = sorted(outputs)
    for i, outer in enumerate(ordered):
        for inner in ordered[i + 1 :]:
            if not inner.startswith(outer):
                break
            if inner[len(outer)] == "/":
                problems.append(
                    (
                        ("datasets", outputs[inner]),
                        f"dataset {outputs[inner]!r} would be written inside dataset {outputs[outer]!r} "
                        f"({inner!r} is inside {outer!r}); give them separate folders",
                    )
                )
    return problems


def is_url(ref: str) -> bool:
    """``s3://...``, ``gs://...``, ``file://...``: a URL rather than a local path."""
    return bool(_URL_RE.match(ref))


def join_location(base: str | Path | None, ref: str) -> str:
    """``ref`` as is when it is a URL or an absolute path, else relative to ``base`` (a folder or URL)."""
    if is_url(ref) or os.path.isabs(ref) or base is None:
        return ref
    base = str(base)
    if is_url(base):
        return posixpath.join(base.rstrip("/"), ref)
    return os.path.normpath(os.path.join(base, ref))


class CredentialSpec(StrictModel):
    """Named credentials, merged into the storage options of whatever references them.

    Values may be ``${VAR}`` / ``${VAR:-default}`` references; they are expanded when a store is opened and are
    never written out (dumps meant for people or provenance show ``***``).
    """

    key: str | None = Field(None, description="Access key id (S3).")
    secret: str | None = Field(None, description="Secret access key (S3).")
    token: str | None = Field(None, description="Session token (S3), or token / key file (GCS).")
    profile: str | None = Field(None, description="Named profile (S3).")
    anon: StrictBool | None = Field(None, description="Anonymous access.")
    account_name: str | None = Field(None, description="Storage account (Azure).")
    account_key: str | None = Field(None, description="Account key (Azure).")
    sas_token: str | None = Field(None, description="Shared access signature (Azure).")
    connection_string: str | None = Field(None, description="Connection string (Azure).")
    client_id: str | None = Field(None, description="Service principal id (Azure).")
    client_secret: str | None = Field(None, description="Service principal secret (Azure).")
    tenant_id: str | None = Field(None, description="Tenant (Azure).")
    project: str | None = Field(None, description="Project (GCS).")
    username: str | None = Field(None, description="User name (HTTP, SFTP, ...).")
    password: str | None = Field(None, description="Password (HTTP, SFTP, ...).")
    options: dict[str, Any] = Field(
        default_factory=dict, description="Any other fsspec option (endpoint_url, client_kwargs, ...)."
    )

    @model_validator(mode="after")
    def _references(self) -> CredentialSpec:
        problems = check_tree(self.to_data())
        if problems:
            raise located_errors("CredentialSpec", problems)
        return self

    def to_storage_options(self, env: Mapping[str, str] | None = None, *, expand: bool = True) -> dict[str, Any]:
        """The storage options these credentials stand for, references expanded (``os.environ`` by default)."""
        options = {**self.options, **self.model_dump(exclude={"options"}, exclude_none=True)}
        return expand_tree(options, env) if expand else options


class StorageSpec(StrictModel):
    """How to open a location: fsspec storage options and/or the name of catalog credentials."""

    storage_options: StorageOptions = Field(default_factory=dict)
    credentials: CredentialsName | None = Field(None, description="Name of an entry of the catalog's credentials.")

    @field_validator("storage_options")
    @classmethod
    def _references(cls, value: dict[str, Any]) -> dict[str, Any]:
        problems = check_tree(value)
        if problems:
            raise ValueError(problems[0][1])
        return value


class DefaultsSpec(StrictModel):
    """What every dataset gets unless it or its template says otherwise."""

    chunks: list[Chunks] = Field(
        default_factory=list,
        description="Default chunk shapes; a dataset takes the one with as many entries as it needs (index + sample).",
    )
    compression: CompressionSpec | None = Field(None, description="Default compression (lossless when omitted).")
    storage_options: StorageOptions = Field(default_factory=dict)
    credentials: CredentialsName | None = Field(None, description="Credentials of sources that name none.")
    crs: Crs | None = None
    keep: Keep = Field(
        0, description="Earlier versions each dataset keeps for rollback (0: a rebuild deletes the replaced one)."
    )
    format: OutputFormat = Field("v0", description="Layout written: v0 (Zarr v2) or v1 (Zarr v3, multidimio 1.x).")

    @model_validator(mode="after")
    def _consistent(self) -> DefaultsSpec:
        problems: Problems = []
        lengths = [len(c) for c in self.chunks]
        for i, n in enumerate(lengths):
            if n in lengths[:i]:
                problems.append((("chunks", i), f"two default chunk shapes have {n} entries; keep one"))
        problems += check_tree(self.storage_options, ("storage_options",))
        if problems:
            raise located_errors("DefaultsSpec", problems)
        return self

    def chunks_for(self, count: int | None) -> tuple[int, ...] | None:
        """The default chunk shape with ``count`` entries, if any."""
        return next((tuple(c) for c in self.chunks if len(c) == count), None)


class NamePattern(StrictModel):
    """A naming rule: ``{survey}_{stage}`` splits dataset names into fields; ``output`` places the dataset."""

    pattern: Annotated[str, Field(min_length=1)] = Field(description='Dataset-name pattern, e.g. "{survey}_{stage}".')
    values: dict[Identifier, Annotated[list[str], Field(min_length=1)]] = Field(
        default_factory=dict, description="Allowed values of some fields, e.g. stage: [raw, migrated, stack]."
    )
    output: str | None = Field(
        None, description='Path of the dataset inside the root, e.g. "{survey}/{stage}.mdio" (default {name}.mdio).'
    )

    @model_validator(mode="after")
    def _consistent(self) -> NamePattern:
        problems: Problems = []
        fields = _FIELD_RE.findall(self.pattern)
        if not fields:
            problems.append((("pattern",), f"pattern {self.pattern!r} has no {{field}}"))
        for i, field in enumerate(fields):
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", field):
                problems.append((("pattern",), f"{{{field}}} is not a field name (letters, digits, underscores)"))
            elif field in fields[:i]:
                problems.append((("pattern",), f"field {{{field}}} appears twice"))
        for i in range(len(fields) - 1):
            if f"{{{fields[i]}}}{{{fields[i + 1]}}}" in self.pattern:
                problems.append((("pattern",), "two fields must be separated by text, e.g. {survey}_{stage}"))
        for name in self.values:
            if name not in fields:
                problems.append(
                    (("values", name), f"{name!r} is not a field of {self.pattern!r}{did_you_mean(name, fields)}")
                )
        if self.output is not None:
            for field in _FIELD_RE.findall(self.output):
                if field not in (*fields, "name"):
                    problems.append((("output",), f"{{{field}}} is not a field of {self.pattern!r} (or {{name}})"))
            parts = re.split(r"[/\\]", self.output)
            if self.output.startswith(("/", "\\", "~")) or is_url(self.output) or ".." in parts or "" in parts:
                problems.append((("output",), f"output {self.output!r} must be a relative path inside the root"))
            try:
                no_references(self.output, "output")
            except ValueError as exc:
                problems.append((("output",), str(exc)))
        if problems:
            raise located_errors("NamePattern", problems)
        return self

    @property
    def fields(self) -> list[str]:
        return _FIELD_RE.findall(self.pattern)

    def regex(self) -> re.Pattern[str]:
        parts = []
        position = 0
        for match in _FIELD_RE.finditer(self.pattern):
            parts.append(re.escape(self.pattern[position : match.start()]))
            parts.append(f"(?P<{match.group(1)}>.+?)")
            position = match.end()
        parts.append(re.escape(self.pattern[position:]))
        return re.compile("".join(parts))

    def match(self, name: str) -> dict[str, str] | None:
        """The fields of ``name``, or None when the name does not have the pattern's shape."""
        found = self.regex().fullmatch(name)
        return dict(found.groupdict()) if found else None

    def field_problems(self, fields: Mapping[str, str]) -> list[str]:
        out = []
        for field, allowed in self.values.items():
            value = fields.get(field)
            if value is not None and value not in allowed:
                out.append(
                    f"{field} {value!r} is not one of {', '.join(allowed)}{did_you_mean(value, allowed)} "
                    f"(pattern {self.pattern!r})"
                )
        return out

    def output_path(self, name: str, fields: Mapping[str, str]) -> str:
        if self.output is None:
            return f"{name}.mdio"
        return self.output.format(name=name, **fields)


V1_PATTERNS_MESSAGE: Final = (
    "an MDIO v1 dataset stores the traces in one chunking only: extra access patterns need format: v0"
)


class DatasetSpec(StrictModel):
    """One dataset of the catalog: a template (optional), a source, and what it overrides."""

    schema_name = "dataset"

    template: Annotated[str, Field(min_length=1)] | None = Field(
        None, description="A template name (templates/) or a path to a template file, relative to the catalog."
    )
    source: Source = Field(
        description="segy: a SEG-Y file | numpy: a .npy/.npz file | empty: dimensions | dataset: another dataset."
    )
    chunks: Chunks | None = Field(
        None, description="Chunks: one per index dimension plus the sample axis (template or defaults if omitted)."
    )
    compression: CompressionSpec | None = Field(None, description="{lossless: true} or {lossless: false, tolerance}.")
    access_patterns: dict[Suffix, Chunks | None] = Field(
        default_factory=dict,
        description="Extra access patterns: suffix -> chunks of every dimension (null: the template's suggestion).",
    )
    format: OutputFormat | None = Field(
        None, description="Layout written: v0 (Zarr v2) or v1 (Zarr v3, what multidimio 1.x opens); default: defaults."
    )
    description: str = Field("", description="Free text; not part of the spec hash.")
    tags: list[str] = Field(default_factory=list, description="Free labels; not part of the spec hash.")
    crs: Crs | None = None
    keep: Keep | None = Field(
        None, description="Earlier versions kept for rollback (default: defaults.keep, 0); not part of the spec hash."
    )

    @field_validator("template")
    @classmethod
    def _plain_template(cls, value: str | None) -> str | None:
        return None if value is None else no_references(value, "template")

    @model_validator(mode="after")
    def _consistent(self) -> DatasetSpec:
        problems: Problems = []
        expected = self.chunk_count
        if self.chunks is not None and expected is not None and len(self.chunks) != expected:
            problems.append((("chunks",), chunk_count_message(len(self.chunks), self.source)))
        if self.template is None:
            for suffix, chunks in self.access_patterns.items():
                if chunks is None:
                    problems.append(
                        (("access_patterns", suffix), "null takes the template's suggestion, but there is no template")
                    )
        if self.format == "v1" and self.access_patterns:
            problems.append((("access_patterns",), V1_PATTERNS_MESSAGE))
        if problems:
            raise located_errors("DatasetSpec", problems)
        return self

    @property
    def kind(self) -> Literal["segy", "numpy", "empty", "dataset"]:
        from mdio_catalog.specs.sources import source_kind

        return source_kind(self.source)

    @property
    def chunk_count(self) -> int | None:
        """How many chunk sizes the source asks for, when the source alone tells (else the template does)."""
        source = self.source
        if isinstance(source, SegySource):
            return len(source.index) + 1 if source.index is not None else None
        if isinstance(source, NumpySource):
            return len(source.index_names) if source.index_names is not None else None
        if isinstance(source, DatasetSource):
            return None  # the upstream's dimensions: known once it is built
        return len(source.empty)


def chunk_count_message(
    given: int, source: SegySource | NumpySource | EmptySource | DatasetSource, names: Iterable[str] = ()
) -> str:
    names = list(names)
    if isinstance(source, SegySource):
        names = names or [f.name for f in source.index or []]
        return (
            f"{given} chunk sizes; the dataset has {len(names)} index dimensions {names} plus the sample axis: "
            f"{len(names) + 1}"
        )
    if isinstance(source, NumpySource):
        names = names or list(source.index_names or [])
    elif isinstance(source, EmptySource):
        names = names or [d.name for d in source.empty]
    return f"{given} chunk sizes for {len(names)} dimensions {names}"


class CatalogSpec(StrictModel):
    """A catalog file: where datasets go, how to reach storage, and every dataset by name."""

    schema_name = "catalog"

    version: Literal[1] = Field(description="Catalog file format version.")
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=200)] = Field(
        description="Catalog name (written into the lock file)."
    )
    description: str = Field("", description="Free text.")
    root: Annotated[str, Field(min_length=1)] = Field(
        description="Where datasets are written: a folder (relative to this file) or a URL (s3://bucket/prefix)."
    )
    root_storage: StorageSpec = Field(default_factory=StorageSpec, description="How to open the root.")
    templates: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list, description="Extra template files or folders, relative to this file."
    )
    credentials: dict[CredentialsName, CredentialSpec] = Field(
        default_factory=dict, description="Named credentials; values may be ${VAR} references."
    )
    defaults: DefaultsSpec = Field(default_factory=DefaultsSpec, description="Defaults of every dataset.")
    patterns: list[NamePattern] = Field(
        default_factory=list, description="Naming rules; when given, every dataset name must match one."
    )
    datasets: dict[DatasetName, DatasetSpec] = Field(default_factory=dict, description="Datasets by name.")
    exports: dict[DatasetName, ExportSpec] = Field(
        default_factory=dict, description="SEG-Y deliveries by name: {dataset, path, endian}."
    )

    @field_validator("root")
    @classmethod
    def _plain_root(cls, value: str) -> str:
        return no_references(value, "root")

    @model_validator(mode="after")
    def _consistent(self) -> CatalogSpec:
        problems: Problems = []
        problems += self._credential_problems()
        problems += self._name_problems()
        if problems:
            raise located_errors("CatalogSpec", problems)
        return self

    def _credential_problems(self) -> Problems:
        known = list(self.credentials)
        refs: list[tuple[tuple[PathPart, ...], str | None]] = [
            (("defaults", "credentials"), self.defaults.credentials),
            (("root_storage", "credentials"), self.root_storage.credentials),
        ]
        for name, dataset in self.datasets.items():
            if isinstance(dataset.source, SegySource | NumpySource):
                refs.append((("datasets", name, "source", "credentials"), dataset.source.credentials))
        refs += [(("exports", name, "credentials"), export.credentials) for name, export in self.exports.items()]
        return [
            (path, f"unknown credentials {ref!r}{did_you_mean(ref, known)} (defined: {', '.join(known) or 'none'})")
            for path, ref in refs
            if ref is not None and ref not in self.credentials
        ]

    def _name_problems(self) -> Problems:
        problems: Problems = []
        lowered: dict[str, str] = {}
        outputs: dict[str, str] = {}
        for name in self.datasets:
            other = lowered.setdefault(name.lower(), name)
            if other != name:
                problems.append(
                    (("datasets", name), f"dataset {name!r} differs from {other!r} only in case (they would collide)")
                )
            fields, messages = self._match_patterns(name)
            problems += [(("datasets", name), m) for m in messages]
            if messages:
                continue
            output = self.output_path(name, fields)
            messages = output_path_problems(output)
            problems += [(("datasets", name), f"dataset {name!r}: {m}") for m in messages]
            if messages:
                continue
            first = outputs.setdefault(output.lower(), name)
            if first != name:
                problems.append((("datasets", name), f"datasets {first!r} and {name!r} would both write {output!r}"))
        problems += _nested_outputs(outputs)
        for name, export in self.exports.items():
            if name in self.datasets:
                problems.append((("exports", name), f"export {name!r} has the name of a dataset; names are shared"))
            if not is_url(export.path):
                problems += [
                    (("exports", name, "path"), f"export {name!r}: {m}") for m in output_path_problems(export.path)
                ]
                if any(export.path.lower().startswith(out + "/") or export.path.lower() == out for out in outputs):
                    problems.append((("exports", name, "path"), f"export {name!r} would be written inside a dataset"))
        return problems

    def _match_patterns(self, name: str) -> tuple[dict[str, str], list[str]]:
        if not self.patterns:
            return {}, []
        for pattern in self.patterns:
            fields = pattern.match(name)
            if fields is not None:
                return fields, pattern.field_problems(fields)
        shapes = ", ".join(repr(p.pattern) for p in self.patterns)
        return {}, [f"dataset name {name!r} matches no pattern ({shapes})"]

    # --- names and places ----------------------------------------------------------------------------------------
    def fields_of(self, name: str) -> dict[str, str]:
        """The pattern fields of a dataset name (``{"survey": "north", "stage": "stack"}``)."""
        return self._match_patterns(name)[0]

    def pattern_of(self, name: str) -> NamePattern | None:
        return next((p for p in self.patterns if p.match(name) is not None), None)

    def output_path(self, name: str, fields: Mapping[str, str] | None = None) -> str:
        """Where the dataset goes inside the root (``<name>.mdio`` unless a pattern says otherwise)."""
        pattern = self.pattern_of(name)
        if pattern is None:
            return f"{name}.mdio"
        return pattern.output_path(name, fields if fields is not None else self.fields_of(name))

    @property
    def base_dir(self) -> str | None:
        """The folder of the catalog file this spec was loaded from (relative paths start there)."""
        source = self.source_map.source if self.source_map is not None else None
        return str(Path(source).parent) if source and not source.startswith("<") else None

    def root_url(self, base: str | Path | None = None) -> str:
        """The root as a URL or path, relative roots joined to ``base`` (default: the catalog's folder)."""
        return join_location(base if base is not None else self.base_dir, self.root)

    def output_url(self, name: str, base: str | Path | None = None) -> str:
        """Where dataset ``name`` is written."""
        root = self.root_url(base)
        path = self.output_path(name)
        return posixpath.join(root.rstrip("/"), path) if is_url(root) else os.path.join(root, *path.split("/"))

    def export_url(self, name: str, base: str | Path | None = None) -> str:
        """Where export ``name`` is written: its URL, or its path inside the root."""
        path = self.exports[name].path
        if is_url(path):
            return path
        root = self.root_url(base)
        return posixpath.join(root.rstrip("/"), path) if is_url(root) else os.path.join(root, *path.split("/"))

    def export_storage_options(self, name: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Storage options of export ``name``: the root's for a path inside it, else its credentials and options."""
        export = self.exports[name]
        if not is_url(export.path):
            return self.root_storage_options(env)
        parts: list[tuple[tuple[PathPart, ...], dict[str, Any]]] = []
        if export.credentials is not None and export.credentials in self.credentials:
            options = self.credentials[export.credentials].to_storage_options(expand=False)
            parts.append((("credentials", export.credentials), options))
        parts.append((("exports", name, "storage_options"), export.storage_options))
        return self._expand(parts, env)

    def source_url(self, name: str, base: str | Path | None = None) -> str | None:
        """The source file of dataset ``name`` (None for empty datasets), relative paths joined to ``base``."""
        url = self.datasets[name].source.url
        return None if url is None else join_location(base if base is not None else self.base_dir, url)

    # --- storage options and the environment ---------------------------------------------------------------------
    def _source_options(self, name: str) -> list[tuple[tuple[PathPart, ...], dict[str, Any]]]:
        """(path, options) in merge order for the source of ``name``: defaults, credentials, the source's own."""
        source = self.datasets[name].source
        if isinstance(source, EmptySource | DatasetSource):
            return []  # a derived dataset reads its upstream with the root's options
        parts: list[tuple[tuple[PathPart, ...], dict[str, Any]]] = [
            (("defaults", "storage_options"), self.defaults.storage_options)
        ]
        credentials = source.credentials or self.defaults.credentials
        if credentials is not None and credentials in self.credentials:
            parts.append((("credentials", credentials), self.credentials[credentials].to_storage_options(expand=False)))
        parts.append((("datasets", name, "source", "storage_options"), source.storage_options))
        return parts

    def _root_options(self) -> list[tuple[tuple[PathPart, ...], dict[str, Any]]]:
        parts: list[tuple[tuple[PathPart, ...], dict[str, Any]]] = []
        credentials = self.root_storage.credentials
        if credentials is not None and credentials in self.credentials:
            parts.append((("credentials", credentials), self.credentials[credentials].to_storage_options(expand=False)))
        parts.append((("root_storage", "storage_options"), self.root_storage.storage_options))
        return parts

    def _expand(
        self, parts: list[tuple[tuple[PathPart, ...], dict[str, Any]]], env: Mapping[str, str] | None
    ) -> dict[str, Any]:
        self._raise_undefined(parts, env)
        merged: dict[str, Any] = {}
        for _, options in parts:
            merged.update(expand_tree(options, env))
        return merged

    def _raise_undefined(
        self, parts: list[tuple[tuple[PathPart, ...], dict[str, Any]]], env: Mapping[str, str] | None
    ) -> None:
        issues = self._undefined(parts, env)
        if issues:
            raise_issues(issues, self.source_map.source if self.source_map else None)

    def _undefined(
        self, parts: list[tuple[tuple[PathPart, ...], dict[str, Any]]], env: Mapping[str, str] | None
    ) -> list[SpecIssue]:
        source_map = self.source_map or SourceMap()
        return [
            undefined_issue(source_map, where, var) for path, opts in parts for where, var in undefined(opts, env, path)
        ]

    def source_storage_options(self, name: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Storage options to open the source of ``name``: defaults, then its credentials, then its own options,
        with ``${VAR}`` expanded from ``env`` (``os.environ`` by default). Undefined variables are located errors."""
        return self._expand(self._source_options(name), env)

    def root_storage_options(self, env: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Storage options to open the root (its credentials, then its storage options), expanded."""
        return self._expand(self._root_options(), env)

    def check_environment(self, names: Iterable[str] | None = None, env: Mapping[str, str] | None = None) -> None:
        """Raise one located error listing every undefined variable that building ``names`` (default: all) needs."""
        names = list(self.datasets) if names is None else list(names)
        parts = self._root_options()
        for name in names:
            parts += self._source_options(name)
        self._raise_undefined(parts, env)

    def redacted(self) -> dict[str, Any]:
        """The catalog as data with every credential value and secret-looking storage option shown as ``***``."""
        data = redact_storage_options(self.to_data())
        if "credentials" in data:
            data["credentials"] = redacted(data["credentials"], all_values=True)
        return data


def redact_storage_options(data: Any) -> Any:
    """A copy of nested data where the secret-looking entries of every ``storage_options`` mapping are ``***``."""
    if isinstance(data, Mapping):
        return {k: redacted(v) if k == "storage_options" else redact_storage_options(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [redact_storage_options(v) for v in data]
    return data
