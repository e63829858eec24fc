"""Where a dataset's traces come from: a SEG-Y file, a NumPy file, or nothing (an empty dataset).

A source is told apart by the key it holds: ``segy:``, ``numpy:`` or ``empty:``. Paths are URLs or paths relative
to the catalog file; ``storage_options`` may use ``${VAR}`` references and ``credentials`` names an entry of the
catalog's ``credentials``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Final, Literal

from pydantic import BeforeValidator, Field, StrictInt, field_validator, model_validator

from mdio_catalog.exceptions import GridOverrideError
from mdio_catalog.specs.base import StrictModel, key_discriminator, located_errors, union_tag
from mdio_catalog.specs.derived import DatasetSource
from mdio_catalog.specs.env import check_tree, expand_tree, no_references
from mdio_catalog.specs.grid_overrides import GridOverrides
from mdio_catalog.specs.variables import (
    Chunks,
    CompressionSpec,
    DimensionSpec,
    DType,
    HeaderDtypeSpec,
    Identifier,
    Number,
    PositiveInt,
)

#: Trace-header word types and their sizes in bytes (``ibm32`` is a 32-bit IBM float).
HEADER_TYPE_SIZES: Final[dict[str, int]] = {
    "int8": 1,
    "uint8": 1,
    "int16": 2,
    "uint16": 2,
    "int32": 4,
    "uint32": 4,
    "int64": 8,
    "uint64": 8,
    "float16": 2,
    "float32": 4,
    "float64": 8,
    "ibm32": 4,
}
HeaderType = Literal[
    "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float16", "float32", "float64", "ibm32"
]
TRACE_HEADER_BYTES: Final = 240

#: SEG-Y sample format codes (binary header byte 3225) and their names.
SAMPLE_FORMAT_CODES: Final[dict[str, int]] = {
    "ibm32": 1,
    "int32": 2,
    "int16": 3,
    "float32": 5,
    "float64": 6,
    "int24": 7,
    "int8": 8,
    "int64": 9,
    "uint32": 10,
    "uint16": 11,
    "uint64": 12,
    "uint24": 15,
    "uint8": 16,
}

#: Dimension names the layout reserves: the sample axis and the axis NonBinned/HasDuplicates add.
SAMPLE_DIM: Final = "sample"
TRACE_DIM: Final = "trace"

Path = Annotated[str, Field(min_length=1)]


def _check_fits(byte: int | None, kind: str) -> None:
    if byte is None:
        return
    last = byte + HEADER_TYPE_SIZES[kind] - 1
    if last > TRACE_HEADER_BYTES:
        raise ValueError(
            f"bytes {byte}..{last} ({kind}) fall outside the {TRACE_HEADER_BYTES}-byte trace header "
            f"(a {kind} starts at byte {TRACE_HEADER_BYTES - HEADER_TYPE_SIZES[kind] + 1} at the latest)"
        )


class HeaderWord(StrictModel):
    """A trace-header word: 1-based byte and type (``{byte: 181, type: int32}``)."""

    byte: Annotated[StrictInt, Field(ge=1, le=TRACE_HEADER_BYTES)] = Field(description="1-based byte in the header.")
    type: HeaderType = Field("int32", description="Type of the word.")

    @model_validator(mode="after")
    def _fits(self) -> HeaderWord:
        _check_fits(self.byte, self.type)
        return self


class IndexField(StrictModel):
    """An index dimension read from the trace headers: its name, 1-based byte and type.

    ``byte`` is null only for ``cable`` computed by the CalculateCable grid override.
    """

    name: Identifier = Field(description="Dimension name (inline, crossline, offset, shot_point, ...).")
    byte: Annotated[StrictInt, Field(ge=1, le=TRACE_HEADER_BYTES)] | None = Field(
        description="1-based byte in the 240-byte trace header (null: computed by a grid override)."
    )
    type: HeaderType = Field("int32", description="Type of the header word.")

    @model_validator(mode="after")
    def _fits(self) -> IndexField:
        _check_fits(self.byte, self.type)
        return self


def check_index(
    index: Sequence[IndexField], overrides: GridOverrides | None, where: tuple[str | int, ...] = ()
) -> list[tuple[tuple[str | int, ...], str]]:
    """Problems of an index with its grid overrides, as ``(path, message)``; ``where`` is the overrides' path.

    Without overrides (they will come from a template) only the names are checked.
    """
    problems: list[tuple[tuple[str | int, ...], str]] = []
    names = [f.name for f in index]
    for i, name in enumerate(names):
        if name in names[:i]:
            problems.append((("index", i, "name"), f"index {name!r} is named twice"))
        if name == SAMPLE_DIM:
            problems.append((("index", i, "name"), f"{SAMPLE_DIM!r} is the sample axis; it cannot be an index"))
    if overrides is None:
        return problems
    for i, field in enumerate(index):
        if field.byte is None and not (field.name == "cable" and overrides.calculate_cable):
            problems.append(
                (("index", i, "byte"), f"index {field.name!r} has no byte; only 'cable' with CalculateCable can")
            )
    try:
        overrides.check_index_names(names)
    except GridOverrideError as exc:
        problems.append((where or ("grid_overrides",), str(exc)))
    return problems


def _sample_format(value: Any) -> Any:
    if isinstance(value, str):
        if value.lower() not in SAMPLE_FORMAT_CODES:
            raise ValueError(f"unknown sample format {value!r}; use one of {', '.join(SAMPLE_FORMAT_CODES)}")
        return SAMPLE_FORMAT_CODES[value.lower()]
    return value


SampleFormat = Annotated[
    Literal[1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 15, 16],
    BeforeValidator(_sample_format, json_schema_input_type=int | str),
]


def _storage_options(value: dict[str, Any]) -> dict[str, Any]:
    problems = check_tree(value)
    if problems:
        raise ValueError(problems[0][1])
    return value


StorageOptions = Annotated[dict[str, Any], Field(description="fsspec options; ${VAR} references are expanded.")]
CredentialsName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.-]*$", description="A catalog credential.")]


class SegySource(StrictModel):
    """A SEG-Y file and how to index it; what is left out comes from the dataset's template."""

    schema_name = "segy-source"

    segy: Path = Field(description="URL or path of the SEG-Y file (relative paths: to the catalog file).")
    index: Annotated[list[IndexField], Field(min_length=1)] | None = Field(
        None, description="Index dimensions in order (from the template when omitted)."
    )
    grid_overrides: GridOverrides | None = Field(
        None, description="Grid overrides (from the template when omitted; {} switches them off)."
    )
    coordinates: dict[Identifier, HeaderWord] | None = Field(
        None, description="Header words worth keeping as coordinates (from the template when omitted)."
    )
    endian: Literal["big", "little"] | None = Field(None, description="Byte order (detected when omitted).")
    sample_format: SampleFormat | None = Field(
        None, description="Sample format code or name, overriding the binary header (e.g. 5 or float32)."
    )
    storage_options: StorageOptions = Field(default_factory=dict)
    credentials: CredentialsName | None = Field(None, description="Name of an entry of the catalog's credentials.")

    @field_validator("segy")
    @classmethod
    def _plain_path(cls, value: str) -> str:
        return no_references(value, "segy")

    @field_validator("storage_options")
    @classmethod
    def _references(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _storage_options(value)

    @model_validator(mode="after")
    def _index_and_overrides(self) -> SegySource:
        if self.index is not None:
            problems = check_index(self.index, self.grid_overrides)
            if problems:
                raise located_errors("SegySource", problems)
        return self

    @property
    def url(self) -> str:
        return self.segy


class SegyIngestSpec(SegySource):
    """One SEG-Y ingestion on its own, without a catalog: everything :func:`mdio_catalog.segy_to_mdio` takes.

    Like a catalog's SEG-Y source plus where to write, chunks and compression; the index is required (there is no
    template) and access goes through ``storage_options`` / ``output_storage_options`` (there are no named
    credentials). ``${VAR}`` references in both are expanded by :meth:`to_kwargs`.
    """

    schema_name = "segy-ingest"

    index: Annotated[list[IndexField], Field(min_length=1)] = Field(description="Index dimensions in order.")
    output: Path = Field(description="Where the MDIO dataset goes (local path or fsspec URL).")
    chunks: Chunks | None = Field(None, description="Chunks: one per index plus the sample axis.")
    compression: CompressionSpec = Field(
        default_factory=lambda: CompressionSpec(lossless=True),
        description="{lossless: true} or {lossless: false, tolerance}.",
    )
    output_storage_options: StorageOptions = Field(default_factory=dict)

    @field_validator("output")
    @classmethod
    def _plain_output(cls, value: str) -> str:
        return no_references(value, "output")

    @field_validator("output_storage_options")
    @classmethod
    def _output_references(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _storage_options(value)

    @model_validator(mode="after")
    def _standalone(self) -> SegyIngestSpec:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        if self.credentials is not None:
            problems.append((("credentials",), "named credentials need a catalog; give storage_options instead"))
        if self.chunks is not None and len(self.chunks) != len(self.index) + 1:
            problems.append(
                (
                    ("chunks",),
                    f"{len(self.chunks)} chunk sizes; {len(self.index)} index dimensions plus the sample axis "
                    f"need {len(self.index) + 1}",
                )
            )
        if problems:
            raise located_errors("SegyIngestSpec", problems)
        return self

    def to_kwargs(self, env: Mapping[str, str] | None = None, *, overwrite: bool = False) -> dict[str, Any]:
        """Keyword arguments of :func:`mdio_catalog.segy_to_mdio` (storage options expanded from ``env``)."""
        overrides = self.grid_overrides or GridOverrides()
        return {
            "segy_path": self.segy,
            "mdio_path_or_buffer": self.output,
            "index_bytes": [f.byte for f in self.index],
            "index_names": [f.name for f in self.index],
            "index_types": [f.type for f in self.index],
            "chunksize": tuple(self.chunks) if self.chunks is not None else None,
            "lossless": self.compression.lossless,
            "compression_tolerance": self.compression.compression_tolerance,
            "storage_options_input": expand_tree(self.storage_options, env, ("storage_options",)) or None,
            "storage_options_output": expand_tree(self.output_storage_options, env, ("output_storage_options",))
            or None,
            "overwrite": overwrite,
            "grid_overrides": overrides.to_reference() if overrides.active else None,
        }


class RangeSpec(StrictModel):
    """Evenly spaced coordinates: ``start`` and ``step`` (the count comes from the array)."""

    start: Number = 0
    step: Number = 1

    @field_validator("step")
    @classmethod
    def _nonzero(cls, value: float) -> float:
        if value == 0:
            raise ValueError("step must not be 0")
        return value


class NumpySource(StrictModel):
    """A ``.npy`` file, or one array of a ``.npz`` file, written as a complete dataset (every trace live)."""

    schema_name = "numpy-source"

    numpy: Path = Field(description="URL or path of a .npy or .npz file (relative paths: to the catalog file).")
    key: str | None = Field(None, description="Array name inside a .npz file (the only array when omitted).")
    index_names: Annotated[list[Identifier], Field(min_length=2)] | None = Field(
        None, description="Names of all dimensions, the sample axis last (dim_0, ..., sample when omitted)."
    )
    index_coords: dict[Identifier, Annotated[list[Number], Field(min_length=1)] | RangeSpec] | None = Field(
        None, description="Coordinates per dimension: a list, or {start, step} (0, 1, ... when omitted)."
    )
    storage_options: StorageOptions = Field(default_factory=dict)
    credentials: CredentialsName | None = Field(None, description="Name of an entry of the catalog's credentials.")

    @field_validator("numpy")
    @classmethod
    def _plain_path(cls, value: str) -> str:
        return no_references(value, "numpy")

    @field_validator("storage_options")
    @classmethod
    def _references(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _storage_options(value)

    @model_validator(mode="after")
    def _consistent(self) -> NumpySource:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        suffix = self.numpy.lower().rsplit(".", 1)[-1] if "." in self.numpy else ""
        if suffix not in ("npy", "npz"):
            problems.append((("numpy",), f"{self.numpy!r} is not a .npy or .npz file"))
        if self.key is not None and suffix == "npy":
            problems.append((("key",), "key selects an array of a .npz file; a .npy file holds one array"))
        if self.index_names is not None:
            for i, name in enumerate(self.index_names):
                if name in self.index_names[:i]:
                    problems.append((("index_names", i), f"dimension {name!r} is named twice"))
            for name in self.index_coords or {}:
                if name not in self.index_names:
                    problems.append((("index_coords", name), f"{name!r} is not one of index_names {self.index_names}"))
        elif self.index_coords:
            problems.append((("index_coords",), "index_coords needs index_names"))
        if problems:
            raise located_errors("NumpySource", problems)
        return self

    @property
    def url(self) -> str:
        return self.numpy


class EmptySource(StrictModel):
    """No source: an empty dataset laid out on the given dimensions (sample axis last), to be filled later."""

    schema_name = "empty-source"

    empty: Annotated[list[DimensionSpec], Field(min_length=2)] = Field(
        description="Dimensions in order, the sample axis last."
    )
    dtype: DType = Field("float32", description="Sample type.")
    header_dtype: HeaderDtypeSpec | None = Field(None, description="Trace-header layout (SEG-Y rev1 by default).")

    @model_validator(mode="after")
    def _unique(self) -> EmptySource:
        """Names once each; coordinates finite, unique and within the size limits (see ``dimension_checks``)."""
        from mdio_catalog.specs.dimension_checks import dimension_problems

        names = [d.name for d in self.empty]
        problems: list[tuple[tuple[str | int, ...], str]] = [
            (("empty", i, "name"), f"dimension {name!r} is defined twice")
            for i, name in enumerate(names)
            if name in names[:i]
        ]
        problems += dimension_problems(self.empty, ("empty",))
        if problems:
            raise located_errors("EmptySource", problems)
        return self

    @property
    def url(self) -> None:
        return None


SourceKind = Literal["segy", "numpy", "empty", "dataset"]
_SOURCE_KEYS: Final = {
    "segy": "SegySource",
    "numpy": "NumpySource",
    "empty": "EmptySource",
    "dataset": "DatasetSource",
}

#: A dataset's source, told apart by its ``segy:``, ``numpy:``, ``empty:`` or ``dataset:`` key.
Source = Annotated[
    Annotated[SegySource, union_tag("SegySource")]
    | Annotated[NumpySource, union_tag("NumpySource")]
    | Annotated[EmptySource, union_tag("EmptySource")]
    | Annotated[DatasetSource, union_tag("DatasetSource")],
    key_discriminator(
        _SOURCE_KEYS,
        "a source needs exactly one of the keys 'segy' (a SEG-Y file), 'numpy' (a .npy/.npz file), 'empty' "
        "(a list of dimensions) or 'dataset' (another dataset of the catalog)",
    ),
]


def source_kind(source: SegySource | NumpySource | EmptySource | DatasetSource) -> SourceKind:
    """``segy``, ``numpy``, ``empty`` or ``dataset``."""
    if isinstance(source, SegySource):
        return "segy"
    if isinstance(source, NumpySource):
        return "numpy"
    if isinstance(source, DatasetSource):
        return "dataset"
    return "empty"


__all__ = [
    "HEADER_TYPE_SIZES",
    "SAMPLE_DIM",
    "SAMPLE_FORMAT_CODES",
    "TRACE_DIM",
    "DatasetSource",
    "EmptySource",
    "HeaderType",
    "HeaderWord",
    "IndexField",
    "NumpySource",
    "PositiveInt",
    "RangeSpec",
    "SegyIngestSpec",
    "SegySource",
    "Source",
    "SourceKind",
    "check_index",
    "source_kind",
]
