"""Package settings, read from ``MDIO_CATALOG_*`` environment variables (``__`` separates nested keys)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_workers() -> int:
    return max(1, os.cpu_count() or 1)


class SparsitySettings(BaseModel):
    """How much larger than the trace count a grid may be before we warn or refuse.

    A plain model, not a ``BaseSettings``: it is filled only through ``MDIO_CATALOG_SPARSITY__*`` by
    :class:`MDIOSettings` (as a settings class it would also read unprefixed ``WARN_RATIO``/``ERROR_RATIO``).
    """

    warn_ratio: float = Field(2.0, gt=0, description="Warn when grid cells / traces exceeds this.")
    error_ratio: float = Field(10.0, gt=0, description="Refuse when grid cells / traces exceeds this.")


class MDIOSettings(BaseSettings):
    """Tunables that belong to the machine or the user, not to a dataset spec."""

    model_config = SettingsConfigDict(env_prefix="MDIO_CATALOG_", env_nested_delimiter="__", extra="ignore")

    workers: int = Field(default_factory=_default_workers, ge=1, description="Parallel workers for I/O.")
    cache_dir: Path = Field(
        default_factory=lambda: Path.home() / ".cache" / "mdio_catalog", description="Local cache folder."
    )
    progress: bool = Field(True, description="Show progress bars on long work.")
    sparsity: SparsitySettings = Field(default_factory=SparsitySettings)
    catalog: Path | None = Field(None, description="Catalog file used when none is given on the command line.")
    target_chunk_mib: float = Field(2.0, gt=0, description="Target size of a default chunk in MiB.")
    rechunk_memory_mib: float = Field(
        1024, gt=0, description="Largest block rechunk_batch holds in memory to read the source only once."
    )
    lossless_clevel: int = Field(
        1, ge=0, le=9, description="Blosc/zstd level of lossless data (the reference uses 5: slower, no smaller)."
    )
    s3_client: Literal["obstore", "s3fs"] = Field(
        "obstore", description="Client for S3 chunk reads: obstore (less CPU per request) or s3fs."
    )
    requests_in_flight: int = Field(
        64, ge=1, description="Chunk requests kept in flight per read on object stores (S3, GCS)."
    )
    lossless_blocksize: int = Field(
        2**20, ge=0, description="Blosc block size in bytes (0 = Blosc's choice; 1 MiB compresses better and faster)."
    )
    scheduler: str | None = Field(
        None,
        description=(
            "dask scheduler address (tcp://HOST:8786) the CLI hands work to when neither --scheduler nor --cluster "
            "is given; local:N starts a local cluster of N worker processes instead."
        ),
    )
    scheduler_timeout: float = Field(10.0, gt=0, description="Seconds to wait for a dask scheduler to answer.")
    spec_max_bytes: int = Field(
        4 * 2**20, ge=1, description="Largest catalog or template file read, in bytes (catalog.lock is not bounded)."
    )
    spec_max_depth: int = Field(
        64, ge=1, le=10_000, description="Deepest nesting of mappings and lists in a spec file, aliases expanded."
    )
    spec_max_nodes: int = Field(
        250_000, ge=1, description="Most values in one catalog or template file, aliases expanded."
    )
    spec_max_alias_nodes: int = Field(
        100_000, ge=0, description="Most values YAML aliases (*name, <<: *name) may add to one spec file."
    )
    max_chunk_mib: float = Field(
        1024, gt=0, description="Largest uncompressed chunk in MiB (specs assume 4-byte values)."
    )
    checksums: bool = Field(
        True,
        description=(
            "Record a CRC32C of every stored chunk object when a dataset is published (checksums/ group; "
            "`mdio-catalog verify` compares against it)."
        ),
    )
    segy_spill: bool = Field(
        True,
        description=(
            "Keep the remote SEG-Y bytes a header scan downloads in an unlinked temporary file (TMPDIR, only when it "
            "has room), so ingestion downloads each byte once instead of twice."
        ),
    )


@lru_cache(maxsize=1)
def get_settings() -> MDIOSettings:
    """The settings of this process (cached; call ``get_settings.cache_clear()`` after changing the env)."""
    return MDIOSettings()
