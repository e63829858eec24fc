"""Compressors, variables and whole empty datasets as specs: the declarative side of ``create_empty``.

``VariableSpec.to_config()`` gives the :class:`~mdio_catalog.core.factory.MDIOVariableConfig` the factory takes and
``CreateSpec.to_config()`` the :class:`~mdio_catalog.core.factory.MDIOCreateConfig` (with its Grid); ``from_config``
goes the other way. The core is imported only inside those methods, so the specs stay importable on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal

import numpy as np
from pydantic import AfterValidator, BeforeValidator, Field, StrictBool, StrictFloat, StrictInt, model_validator

from mdio_catalog.exceptions import SpecError
from mdio_catalog.specs.base import StrictModel, located_errors
from mdio_catalog.specs.limits import chunk_size_problem

if TYPE_CHECKING:
    from numcodecs.abc import Codec

    from mdio_catalog.core.dimension import Dimension
    from mdio_catalog.core.factory import MDIOCreateConfig, MDIOVariableConfig

#: A positive integer given as an integer (``"128"`` is refused, not converted).
PositiveInt = Annotated[StrictInt, Field(gt=0)]


def _bounded_chunks(chunks: tuple[int, ...]) -> tuple[int, ...]:
    problem = chunk_size_problem(chunks)
    if problem is not None:
        raise ValueError(problem)
    return chunks


#: A chunk shape: one positive entry per dimension, at most ``MDIO_CATALOG_MAX_CHUNK_MIB`` of 4-byte values.
Chunks = Annotated[tuple[PositiveInt, ...], Field(min_length=1), AfterValidator(_bounded_chunks)]
Number = StrictInt | StrictFloat
#: A name that becomes part of an array name or a path: letters, digits and underscores.
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=128)]

#: Numeric sample types a variable may hold.
DTYPES: Final = (
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
)

#: The converters' default ZFP tolerance.
DEFAULT_TOLERANCE: Final = 0.01

_SHUFFLE: Final = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2, "auto": -1}


def canonical_dtype(value: Any) -> str:
    """``"f4"``, ``"<f4"``, ``np.float32`` -> ``"float32"``; only the numeric types of :data:`DTYPES`."""
    try:
        name = np.dtype(value).name
    except TypeError:
        raise ValueError(f"{value!r} is not a numeric type; use one of {', '.join(DTYPES)}") from None
    if name not in DTYPES:
        raise ValueError(f"{value!r} is not a numeric type; use one of {', '.join(DTYPES)}")
    return name


DType = Annotated[str, BeforeValidator(canonical_dtype), Field(json_schema_extra={"enum": list(DTYPES)})]


# --- compressors ----------------------------------------------------------------------------------------------------
class CompressionSpec(StrictModel):
    """The converters' pair: lossless (Blosc/zstd) or lossy ZFP with an absolute error ``tolerance``, or (for
    datasets derived from datasets) a quality target ``snr_db``/``psnr_db`` from which the build picks the tolerance
    and measures the result -- a target says what the user wants, a tolerance is a guess at it."""

    lossless: StrictBool = Field(description="Lossless Blosc/zstd (true) or lossy ZFP (false).")
    tolerance: Annotated[float, Field(gt=0)] | None = Field(
        None, description="Absolute error bound of lossy ZFP compression (lossless: false only; default 0.01)."
    )
    snr_db: Annotated[float, Field(gt=0, le=200)] | None = Field(
        None, description="Lossy by quality: the signal-to-noise ratio (dB) the result must reach."
    )
    psnr_db: Annotated[float, Field(gt=0, le=300)] | None = Field(
        None, description="Lossy by quality: the peak signal-to-noise ratio (dB) the result must reach."
    )

    @model_validator(mode="after")
    def _tolerance_is_lossy(self) -> CompressionSpec:
        given = [k for k in ("tolerance", "snr_db", "psnr_db") if getattr(self, k) is not None]
        if self.lossless and given:
            raise located_errors(
                "CompressionSpec",
                [((k,), f"{k} applies to lossy compression: set lossless: false") for k in given],
            )
        if len(given) > 1:
            raise located_errors(
                "CompressionSpec",
                [((given[1],), f"give one of tolerance, snr_db or psnr_db, not {' and '.join(given)}")],
            )
        return self

    @property
    def quality_target(self) -> tuple[str, float] | None:
        """``("snr", 40.0)`` / ``("psnr", 60.0)`` when lossy by quality, else None."""
        if self.snr_db is not None:
            return "snr", self.snr_db
        if self.psnr_db is not None:
            return "psnr", self.psnr_db
        return None

    @property
    def compression_tolerance(self) -> float:
        """The converters' ``compression_tolerance`` argument (0.01 unless given)."""
        return self.tolerance if self.tolerance is not None else DEFAULT_TOLERANCE

    def explicit(self) -> CompressionSpec:
        """The same compression with the tolerance written out when lossy."""
        if self.lossless or self.quality_target is not None:
            return self
        return CompressionSpec(lossless=False, tolerance=self.compression_tolerance)

    def to_compressor(self) -> BloscSpec | ZfpSpec | LosslessSpec:
        """The equivalent compressor spec."""
        if self.lossless:
            return LosslessSpec(id="lossless")
        return ZfpSpec(id="zfp", tolerance=self.compression_tolerance)


class LosslessSpec(StrictModel):
    """The package's lossless default: Blosc/zstd with byte shuffle (``MDIO_CATALOG_LOSSLESS_*`` settings)."""

    id: Literal["lossless"]

    def to_codec(self) -> Codec:
        from mdio_catalog.core.compressors import lossless_compressor

        return lossless_compressor()


class BloscSpec(StrictModel):
    """Blosc with explicit settings (the reference's own: zstd, level 5, byte shuffle, automatic blocks)."""

    id: Literal["blosc"]
    cname: Literal["zstd", "lz4", "lz4hc", "blosclz", "zlib", "snappy"] = Field("zstd", description="Codec.")
    clevel: Annotated[StrictInt, Field(ge=0, le=9)] = Field(5, description="Compression level 0-9.")
    shuffle: Literal["noshuffle", "shuffle", "bitshuffle", "auto"] = Field("shuffle", description="Shuffle filter.")
    blocksize: Annotated[StrictInt, Field(ge=0)] = Field(0, description="Block size in bytes (0: automatic).")

    def to_codec(self) -> Codec:
        from numcodecs import Blosc

        return Blosc(cname=self.cname, clevel=self.clevel, shuffle=_SHUFFLE[self.shuffle], blocksize=self.blocksize)


class ZfpSpec(StrictModel):
    """ZFP in fixed-accuracy mode: the absolute error of every sample stays within ``tolerance``."""

    id: Literal["zfp"]
    tolerance: Annotated[float, Field(gt=0)] = Field(description="Absolute error bound.")

    def to_codec(self) -> Codec:
        from mdio_catalog.core.compressors import lossy_compressor

        return lossy_compressor(self.tolerance)


def _compressor_shorthand(value: Any) -> Any:
    """``"lossless"``/``"blosc"`` and ``{lossless: bool, tolerance}`` -> the full ``{id: ...}`` form."""
    if isinstance(value, str):
        if value == "lossy":
            raise ValueError("'lossy' needs a tolerance: write {id: zfp, tolerance: 0.01}")
        return {"id": value}
    if isinstance(value, dict) and "id" not in value and "lossless" in value:
        return CompressionSpec.model_validate(value).to_compressor()
    return value


CompressorSpec = Annotated[
    BloscSpec | ZfpSpec | LosslessSpec,
    Field(discriminator="id"),
    BeforeValidator(
        _compressor_shorthand,
        json_schema_input_type=BloscSpec | ZfpSpec | LosslessSpec | CompressionSpec | Literal["lossless", "blosc"],
    ),
]


def compressor_from_codec(codec: Any) -> BloscSpec | ZfpSpec | None:
    """The spec of a numcodecs codec (Blosc or ZFPY fixed-accuracy); None for None/"auto"."""
    if codec is None or codec == "auto":
        return None
    if isinstance(codec, list | tuple):
        if len(codec) > 1:
            raise SpecError("A variable takes one compressor; got several.")
        return compressor_from_codec(codec[0]) if codec else None
    config = codec.get_config() if hasattr(codec, "get_config") else dict(codec)
    if config.get("id") == "blosc":
        shuffle = {v: k for k, v in _SHUFFLE.items()}[int(config.get("shuffle", 1))]
        return BloscSpec(
            id="blosc",
            cname=config.get("cname", "zstd"),
            clevel=int(config.get("clevel", 5)),
            shuffle=shuffle,
            blocksize=int(config.get("blocksize", 0)),
        )
    if config.get("id") == "zfpy" and config.get("mode") == 4:
        return ZfpSpec(id="zfp", tolerance=float(config["tolerance"]))
    raise SpecError(f"No spec for the compressor {config!r}; specs describe Blosc and ZFP fixed-accuracy.")


# --- trace-header layouts ---------------------------------------------------------------------------------------------
class HeaderFieldSpec(StrictModel):
    """One word of a structured trace-header type: name, numeric type and (optionally) 1-based byte."""

    name: Identifier
    type: DType = Field(description="Numeric type of the word (stored little-endian).")
    byte: PositiveInt | None = Field(None, description="1-based byte of the word; packed in order when omitted.")


class HeaderDtypeSpec(StrictModel):
    """A structured numpy dtype for trace headers (default: the 240-byte SEG-Y rev1 layout)."""

    fields: Annotated[list[HeaderFieldSpec], Field(min_length=1)]
    itemsize: PositiveInt | None = Field(None, description="Bytes per header; at least the end of the last word.")

    @model_validator(mode="after")
    def _layout(self) -> HeaderDtypeSpec:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        names = [f.name for f in self.fields]
        for i, name in enumerate(names):
            if name in names[:i]:
                problems.append((("fields", i, "name"), f"header word {name!r} is defined twice"))
        given = [f.byte is not None for f in self.fields]
        if any(given) and not all(given):
            problems.append((("fields",), "give a byte for every header word or for none"))
        elif not problems:
            try:
                self.to_numpy()
            except (ValueError, TypeError) as exc:
                problems.append(((), f"not a valid header layout: {exc}"))
        if problems:
            raise located_errors("HeaderDtypeSpec", problems)
        return self

    def to_numpy(self) -> np.dtype:
        """The structured little-endian dtype."""
        formats = [np.dtype(f.type).newbyteorder("<") for f in self.fields]
        spec: dict[str, Any] = {"names": [f.name for f in self.fields], "formats": formats}
        if self.fields[0].byte is not None:
            spec["offsets"] = [int(f.byte) - 1 for f in self.fields]  # type: ignore[arg-type]
        if self.itemsize is not None:
            spec["itemsize"] = self.itemsize
        return np.dtype(spec)  # type: ignore[call-overload]

    @classmethod
    def from_numpy(cls, dtype: Any) -> HeaderDtypeSpec:
        """The spec of a structured numpy dtype (byte order is not kept: MDIO stores headers little-endian)."""
        dtype = np.dtype(dtype)
        if dtype.fields is None:
            raise SpecError(f"A header dtype must be structured, got {dtype}.")
        fields = [
            HeaderFieldSpec(name=name, type=np.dtype(sub).name, byte=int(offset) + 1)
            for name, (sub, offset, *_rest) in sorted(dtype.fields.items(), key=lambda kv: kv[1][1])
        ]
        return cls(fields=fields, itemsize=dtype.itemsize)


# --- variables and datasets -----------------------------------------------------------------------------------------
class VariableSpec(StrictModel):
    """A trace variable of an MDIO dataset (``chunked_<access pattern>``), as MDIOVariableConfig."""

    schema_name = "variable"

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_]+$")] = Field(
        description="Array name, e.g. chunked_012 (letters, digits, underscores)."
    )
    dtype: DType = Field("float32", description="Sample type.")
    chunks: Chunks | None = Field(None, description="Chunk shape, one entry per dimension (zarr guesses if omitted).")
    compressors: CompressorSpec | None = Field(None, description="Compressor (lossless by default).")
    header_dtype: HeaderDtypeSpec | None = Field(None, description="Trace-header layout (SEG-Y rev1 by default).")

    def to_config(self) -> MDIOVariableConfig:
        """The factory's dataclass."""
        from mdio_catalog.core.factory import MDIOVariableConfig

        return MDIOVariableConfig(
            name=self.name,
            dtype=self.dtype,
            chunks=tuple(self.chunks) if self.chunks is not None else None,
            compressors=self.compressors.to_codec() if self.compressors is not None else None,
            header_dtype=self.header_dtype.to_numpy() if self.header_dtype is not None else None,
        )

    @classmethod
    def from_config(cls, config: MDIOVariableConfig) -> VariableSpec:
        """The spec of a factory dataclass (Blosc and ZFP compressors; the standard header type stays None)."""
        from mdio_catalog.core.headers import TRACE_HEADER_DTYPE

        header = config.header_dtype
        keep_header = header is not None and np.dtype(header) != TRACE_HEADER_DTYPE
        return cls(
            name=config.name,
            dtype=canonical_dtype(config.dtype),
            chunks=tuple(int(c) for c in config.chunks) if config.chunks else None,
            compressors=compressor_from_codec(config.compressors),
            header_dtype=HeaderDtypeSpec.from_numpy(header) if keep_header else None,
        )


class DimensionSpec(StrictModel):
    """A named dimension: explicit ``coords``, or ``start`` + ``count`` (+ ``step``, default 1)."""

    name: Identifier
    coords: Annotated[list[Number], Field(min_length=1)] | None = Field(None, description="Coordinate labels.")
    start: Number | None = Field(None, description="First coordinate (with count).")
    step: Number = Field(1, description="Spacing of the coordinates (with start and count).")
    count: PositiveInt | None = Field(None, description="Number of coordinates (with start).")

    @model_validator(mode="after")
    def _one_form(self) -> DimensionSpec:
        ranged = self.start is not None or self.count is not None or self.step != 1
        if self.coords is not None and ranged:
            raise located_errors("DimensionSpec", [(("coords",), "give coords or start/step/count, not both")])
        if self.coords is None and (self.start is None or self.count is None):
            missing = "start" if self.start is None else "count"
            raise located_errors(
                "DimensionSpec", [((missing,), f"dimension {self.name!r} needs coords, or start and count")]
            )
        if self.step == 0:
            raise located_errors("DimensionSpec", [(("step",), "step must not be 0")])
        return self

    @property
    def size(self) -> int:
        return len(self.coords) if self.coords is not None else int(self.count or 0)

    def values(self) -> np.ndarray:
        """The coordinates as a numpy vector (integers when start and step are)."""
        if self.coords is not None:
            return np.asarray(self.coords)
        start, step = self.start, self.step
        if isinstance(start, int) and isinstance(step, int):
            return start + step * np.arange(self.size, dtype=np.int64)
        return float(start) + float(step) * np.arange(self.size, dtype=np.float64)  # type: ignore[arg-type]

    def to_dimension(self) -> Dimension:
        from mdio_catalog.core.dimension import Dimension

        return Dimension(self.values(), self.name)

    @classmethod
    def from_values(cls, name: str, values: Sequence[Any] | np.ndarray) -> DimensionSpec:
        """Evenly spaced integers become start/step/count; anything else keeps its coords."""
        array = np.asarray(values)
        if array.size >= 2 and array.dtype.kind in "iu":
            steps = np.diff(array.astype(np.int64))
            if steps[0] != 0 and bool(np.all(steps == steps[0])):
                return cls(name=name, start=int(array[0]), step=int(steps[0]), count=int(array.size))
        return cls(name=name, coords=array.tolist())


class CreateSpec(StrictModel):
    """An empty MDIO dataset to lay out: where, on which dimensions (sample axis last), with which variables."""

    schema_name = "create"

    path: str = Field(min_length=1, description="Where the dataset goes (local path or fsspec URL).")
    dimensions: Annotated[list[DimensionSpec], Field(min_length=2)] = Field(
        description="Dimensions in order, the sample axis last."
    )
    variables: list[VariableSpec] = Field(default_factory=list, description="Trace variables (chunked_<pattern>).")

    @model_validator(mode="after")
    def _consistent(self) -> CreateSpec:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        names = [d.name for d in self.dimensions]
        for i, name in enumerate(names):
            if name in names[:i]:
                problems.append((("dimensions", i, "name"), f"dimension {name!r} is defined twice"))
        seen: list[str] = []
        for i, variable in enumerate(self.variables):
            if variable.name in seen:
                problems.append((("variables", i, "name"), f"variable {variable.name!r} is defined twice"))
            seen.append(variable.name)
            if variable.chunks is not None and len(variable.chunks) != len(names):
                problems.append(
                    (
                        ("variables", i, "chunks"),
                        f"{len(variable.chunks)} chunk sizes for {len(names)} dimensions {names}",
                    )
                )
        if problems:
            raise located_errors("CreateSpec", problems)
        return self

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(d.size for d in self.dimensions)

    def to_config(self) -> MDIOCreateConfig:
        """The factory's dataclass, with the Grid built from the dimensions."""
        from mdio_catalog.core.factory import MDIOCreateConfig
        from mdio_catalog.core.grid import Grid

        return MDIOCreateConfig(
            path=self.path,
            grid=Grid([d.to_dimension() for d in self.dimensions]),
            variables=[v.to_config() for v in self.variables],
        )

    @classmethod
    def from_config(cls, config: MDIOCreateConfig) -> CreateSpec:
        return cls(
            path=str(config.path),
            dimensions=[DimensionSpec.from_values(d.name, d.values) for d in config.grid.dims],
            variables=[VariableSpec.from_config(v) for v in config.variables],
        )
