"""Where datasets live: local paths and fsspec URLs turned into Zarr stores, with errors that say what to do.

Local paths use zarr's ``LocalStore``; anything with a protocol (``s3://``, ``gs://``, ``memory://`` ...) goes
through fsspec with the caller's ``storage_options``. ``disk_cache=True`` chains fsspec's ``simplecache`` in front
of a remote store so that chunks read once are served from local disk afterwards.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fsspec
import zarr
from fsspec.core import split_protocol
from zarr.abc.store import Store
from zarr.errors import GroupNotFoundError
from zarr.storage import FsspecStore, LocalStore

from mdio_catalog.core.recording import recordable
from mdio_catalog.exceptions import (
    CredentialsError,
    MDIOError,
    MDIOFormatError,
    MDIONotFoundError,
    StorageError,
)

_LOCAL_PROTOCOLS = (None, "file", "local")


def _is_local(url: str) -> bool:
    return split_protocol(url)[0] in _LOCAL_PROTOCOLS


@dataclass(frozen=True)
class Location:
    """A dataset address: a local path or an fsspec URL plus the options to reach it."""

    url: str
    storage_options: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, path_or_url: str | os.PathLike[str], storage_options: Mapping[str, Any] | None = None) -> Location:
        url = os.fspath(path_or_url)
        url = str(Path(split_protocol(url)[1]).expanduser().resolve()) if _is_local(url) else url.rstrip("/")
        return cls(url=url, storage_options=dict(storage_options or {}))

    @property
    def is_local(self) -> bool:
        return _is_local(self.url)

    @property
    def protocol(self) -> str:
        return split_protocol(self.url)[0] or "file"

    @property
    def name(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[-1]

    def filesystem(self) -> tuple[fsspec.AbstractFileSystem, str]:
        """The fsspec filesystem and the path inside it."""
        fs, path = fsspec.core.url_to_fs(self.url, **dict(self.storage_options))
        return fs, path

    def sibling(self, name: str) -> Location:
        """A location next to this one (same folder or prefix, same options)."""
        parent = self.url.rstrip("/").rsplit("/", 1)[0]
        return Location(url=f"{parent}/{name}", storage_options=self.storage_options)

    def __str__(self) -> str:
        return self.url


@contextlib.contextmanager
def storage_errors(location: Location | str) -> Iterator[None]:
    """Translate backend errors (botocore, gcsfs, OS) into our tree, naming the location."""
    try:
        yield
    except MDIOError:
        raise
    except PermissionError as exc:
        raise CredentialsError(f"Access denied to {location}: {exc}. Check credentials/storage_options.") from exc
    except FileNotFoundError as exc:
        raise MDIONotFoundError(f"Not found: {location} ({exc}).") from exc
    except OSError as exc:
        raise StorageError(f"Storage error at {location}: {exc}") from exc
    except Exception as exc:
        # botocore/aiohttp errors do not derive from OSError; recognise the common ones by name.
        text = f"{type(exc).__name__}: {exc}"
        if any(k in text for k in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "Forbidden")):
            raise CredentialsError(f"Access denied to {location}: {text}") from exc
        if any(k in text for k in ("NoSuchBucket", "NoSuchKey", "404")):
            raise MDIONotFoundError(f"Not found: {location} ({text}).") from exc
        if any(k in text for k in ("EndpointConnectionError", "ClientConnectorError", "ConnectTimeout")):
            raise StorageError(f"Cannot reach the store for {location}: {text}") from exc
        if isinstance(exc, RuntimeError | ValueError) and any(k in text.lower() for k in ("decompress", "decod")):
            raise MDIOFormatError(
                f"{location}: a stored chunk cannot be decoded ({text}); the dataset is damaged, rebuild it."
            ) from exc
        raise


def open_store(location: Location, read_only: bool = True, disk_cache: bool = False) -> Store:
    """A zarr store for ``location``; ``disk_cache`` puts fsspec's simplecache in front of remote reads."""
    with storage_errors(location):
        if location.is_local:
            if read_only:
                return LocalStore(location.url, read_only=True)
            Path(location.url).mkdir(parents=True, exist_ok=True)
            return recordable(location.url, LocalStore(location.url, read_only=False))
        options = dict(location.storage_options)
        if location.protocol in ("s3", "s3a"):
            # One request per object: with max_concurrency > 1 s3fs sends a HEAD before every whole-object GET.
            options.setdefault("max_concurrency", 1)
        url = location.url
        if disk_cache:
            from mdio_catalog.settings import get_settings

            cache_dir = get_settings().cache_dir / "simplecache"
            # Nested per layer; the inner filesystem must be asynchronous (zarr awaits it on its own loop) or
            # fsspec hands back a cached synchronous instance bound to another event loop.
            options = {
                location.protocol: {**options, "asynchronous": True},
                "simplecache": {"cache_storage": str(cache_dir)},
            }
            url = f"simplecache::{url}"
            # simplecache caches whole files and is read-only; writes go to the store itself.
            read_only = True
        store = FsspecStore.from_url(url, storage_options=options, read_only=read_only)
        return store if read_only else recordable(location.url, store)


def exists(location: Location) -> bool:
    """Whether anything (a dataset or other files) is stored at ``location``."""
    with storage_errors(location):
        if location.is_local:
            local = Path(location.url)
            return local.exists() and (not local.is_dir() or any(local.iterdir()))
        fs, path = location.filesystem()
        fs.invalidate_cache()
        return bool(fs.exists(path))


#: The root metadata file of a Zarr group: v2 (MDIO v0, and v1 written as Zarr v2) and v3 (MDIO v1).
ROOT_METADATA = (".zgroup", "zarr.json")


def is_mdio(location: Location) -> bool:
    """Whether ``location`` holds a complete MDIO root (a group whose metadata was written last): ``.zgroup`` (Zarr
    v2: MDIO v0) or ``zarr.json`` (Zarr v3: MDIO v1)."""
    with storage_errors(location):
        if location.is_local:
            return any((Path(location.url) / name).is_file() for name in ROOT_METADATA)
        fs, path = location.filesystem()
        fs.invalidate_cache()
        return any(fs.exists(f"{path}/{name}") for name in ROOT_METADATA)


def remove(location: Location) -> None:
    """Delete everything stored at ``location`` (no error when nothing is there)."""
    with storage_errors(location):
        if location.is_local:
            import shutil

            local = Path(location.url)
            if local.is_dir():
                shutil.rmtree(local)
            elif local.exists():
                local.unlink()
            return
        fs, path = location.filesystem()
        if fs.exists(path):
            fs.rm(path, recursive=True)
        fs.invalidate_cache()


def refuse_existing(location: Location, overwrite: bool) -> None:
    """Raise unless ``location`` is free, or ``overwrite`` and it holds an MDIO dataset (anything else there is
    refused with ForeignContentError and never deleted); see :mod:`mdio_catalog.core.publish`."""
    from mdio_catalog.core.publish import check_replaceable

    check_replaceable(location, overwrite)


@contextlib.contextmanager
def staged_write(location: Location, overwrite: bool) -> Iterator[Location]:
    """Write a whole dataset beside ``location`` and make it current only when complete
    (:func:`mdio_catalog.core.publish.staged_write`, which owns publishing)."""
    from mdio_catalog.core.publish import staged_write as publish_staged_write

    with publish_staged_write(location, overwrite) as staging:
        yield staging


def open_root(location: Location, mode: str = "r", disk_cache: bool = False) -> zarr.Group:
    """Open an existing MDIO root group.

    Readers use the consolidated metadata when present (one request on object stores); writers read the live
    metadata, so that arrays they or others add are seen (the consolidated copy is rewritten after each change).
    """
    missing = MDIONotFoundError(
        f"No MDIO dataset at {location} (no Zarr group there). Check the path and storage_options."
    )
    # On object stores a read-only open is just the three metadata GETs zarr makes (.zgroup, .zattrs, .zmetadata,
    # concurrently): a missing .zgroup fails it, so no separate existence check is needed.
    if not (mode == "r" and not location.is_local) and not is_mdio(location):
        raise missing
    store = open_store(location, read_only=(mode == "r"), disk_cache=disk_cache)
    with storage_errors(location):
        try:
            if mode == "r":
                return zarr.open_group(store, mode="r", zarr_format=2, use_consolidated=None)
            return zarr.open_group(store, mode="r+", zarr_format=2, use_consolidated=False)
        except GroupNotFoundError:
            raise missing from None
        except (ValueError, TypeError, KeyError) as exc:  # metadata zarr cannot parse (a negative shape, ...)
            if isinstance(exc, MDIOError):
                raise
            raise MDIOFormatError(f"{location}: malformed Zarr metadata: {exc}") from None
