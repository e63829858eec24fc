"""Fetching the chunk objects of one Zarr array, from local files or an object store, and handing each to a
decoder as it arrives.

One path for every reader: a region read becomes a list of :class:`ChunkTask` (which chunk, which part of it,
where in the output); :meth:`ChunkObjects.fetch` gets each chunk object exactly once and calls ``handle(task,
bytes)`` on a pool of decoding threads (``None`` for a chunk that was never written).

- Local folders: each task reads its file into a per-thread buffer with ``readv`` (no allocation per chunk).
- Object stores (``s3://``, ``gs://``, any async fsspec filesystem): one GET per chunk object (s3fs would first
  ask for the size with a HEAD; we tell it not to), ``requests_in_flight`` requests at a time on fsspec's event
  loop, each decoded on the thread pool as soon as it arrives. A request slot is held until its chunk is decoded,
  so memory stays bounded by ``requests_in_flight`` compressed chunks whatever the region's size.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import fsspec
from fsspec.asyn import sync

from mdio_catalog.core.pin import DatasetPin
from mdio_catalog.settings import get_settings

Handle = Callable[["ChunkTask", "memoryview | bytes | None"], None]

_local = threading.local()


@dataclass(frozen=True)
class ChunkTask:
    """One chunk of a region read: its chunk index, the part of the chunk wanted, and where it goes."""

    index: tuple[int, ...]
    inside: tuple[Any, ...]
    target: tuple[slice, ...]

    @property
    def key(self) -> str:
        """The chunk's key below the array ('/'-separated, Zarr v2)."""
        return "/".join(map(str, self.index))


class ChunkObjects(Protocol):
    """Where an array's chunk objects are fetched from."""

    def fetch(self, tasks: Sequence[ChunkTask], handle: Handle, parallel: bool = True) -> None:
        """Call ``handle(task, raw)`` once per task; ``raw`` is None when the chunk object does not exist."""
        ...


@lru_cache(maxsize=4)
def decode_pool(workers: int) -> ThreadPoolExecutor:
    """The process-wide pool that decodes chunks (one more thread than cores so I/O overlaps decoding)."""
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mdio-chunks")


def _pool() -> ThreadPoolExecutor:
    return decode_pool(get_settings().workers + 1)


# --- local folders ------------------------------------------------------------------------------------------------
def _read_all(fd: int) -> memoryview:
    """The whole file into this thread's reusable buffer (no allocation per chunk)."""
    size = os.fstat(fd).st_size
    scratch: bytearray | None = getattr(_local, "scratch", None)
    if scratch is None or len(scratch) < size:
        scratch = _local.scratch = bytearray(max(size, 1 << 20))
    view = memoryview(scratch)[:size]
    done = 0
    while done < size:
        got = os.readv(fd, [view[done:]])
        if got == 0:
            break
        done += got
    return view[:done]


class LocalChunkFiles:
    """Chunk files of an array in a local folder (relative to a pinned dataset folder when ``pin`` is given)."""

    def __init__(self, folder: str, pin: DatasetPin | None = None, array_path: str = "") -> None:
        self.folder = folder
        self.pin = pin
        self.array_path = array_path

    def _one(self, task: ChunkTask, handle: Handle) -> None:
        try:
            if self.pin is not None:
                fd = self.pin.open(os.path.join(self.array_path, *map(str, task.index)))
            else:
                fd = os.open(os.path.join(self.folder, *map(str, task.index)), os.O_RDONLY)
        except FileNotFoundError:  # never written: the fill value (unless the pinned version is being deleted)
            if self.pin is not None:
                self.pin.check_missing(os.path.join(self.array_path, task.key))
            handle(task, None)
            return
        try:
            raw = _read_all(fd)
        finally:
            os.close(fd)
        handle(task, raw)

    def fetch(self, tasks: Sequence[ChunkTask], handle: Handle, parallel: bool = True) -> None:
        if parallel and len(tasks) > 1:
            for _ in _pool().map(lambda task: self._one(task, handle), tasks):
                pass
        else:
            for task in tasks:
                self._one(task, handle)


# --- object stores ------------------------------------------------------------------------------------------------
class RemoteChunkObjects:
    """Chunk objects of an array below ``root`` on an asynchronous fsspec filesystem (S3, GCS, ...).

    ``fast_store`` (an obstore store for the same bucket, where the options allow) serves the GETs instead of
    s3fs: its Rust HTTP client spends about half the CPU per request of aiobotocore, which matters when hundreds of
    chunk requests are in flight on a small machine. ``fast_prefix`` is the array's key inside that store.
    """

    def __init__(
        self, fs: Any, root: str, requests_in_flight: int, fast_store: Any = None, fast_prefix: str = ""
    ) -> None:
        self.fs = fs
        self.root = root.rstrip("/")
        self.in_flight = max(1, requests_in_flight)
        self.fast_store = fast_store
        self.fast_prefix = fast_prefix.strip("/")
        # s3fs checks an object's size with a HEAD before a whole-object GET unless told to use one request.
        self._get_options = {"max_concurrency": 1} if "max_concurrency" in _parameters(fs._cat_file) else {}

    async def _get(self, task: ChunkTask) -> Any:
        if self.fast_store is not None:
            import obstore
            from obstore.exceptions import NotFoundError

            try:
                response = await obstore.get_async(self.fast_store, f"{self.fast_prefix}/{task.key}")
                return await response.bytes_async()  # a buffer: decoded without another copy
            except (NotFoundError, FileNotFoundError):  # obstore raises the builtin for a missing key
                return None
        try:
            data: bytes = await self.fs._cat_file(f"{self.root}/{task.key}", **self._get_options)
        except FileNotFoundError:
            return None
        return data

    async def _pipeline(self, tasks: Sequence[ChunkTask], handle: Handle) -> None:
        loop = asyncio.get_running_loop()
        pool = _pool()
        pending = iter(tasks)

        async def lane() -> None:
            for task in pending:  # lanes share one iterator: each task is taken once
                data = await self._get(task)
                await loop.run_in_executor(pool, handle, task, data)

        lanes = [asyncio.ensure_future(lane()) for _ in range(min(self.in_flight, len(tasks)))]
        try:
            await asyncio.gather(*lanes)
        finally:
            for running in lanes:
                running.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.gather(*lanes, return_exceptions=True)

    async def _gather(self, tasks: Sequence[ChunkTask]) -> list[bytes | None]:
        semaphore = asyncio.Semaphore(self.in_flight)

        async def one(task: ChunkTask) -> bytes | None:
            async with semaphore:
                return await self._get(task)

        return list(await asyncio.gather(*(one(task) for task in tasks)))

    def fetch(self, tasks: Sequence[ChunkTask], handle: Handle, parallel: bool = True) -> None:
        if not tasks:
            return
        if parallel:
            sync(self.fs.loop, self._pipeline, tasks, handle)
            return
        # The caller decodes in its own thread: fetch the (few) chunks of its block concurrently, then decode.
        for task, data in zip(tasks, sync(self.fs.loop, self._gather, tasks), strict=True):
            handle(task, data)


def _parameters(function: Any) -> Mapping[str, Any]:
    try:
        return inspect.signature(function).parameters
    except (TypeError, ValueError):
        return {}


def remote_filesystem(url: str, storage_options: Mapping[str, Any]) -> tuple[Any, str]:
    """A synchronous-mode fsspec filesystem for ``url`` (its coroutines run on fsspec's I/O loop) and the path in
    it, with a connection pool large enough for the requests we keep in flight."""
    options = dict(storage_options)
    protocol = url.split("://", 1)[0]
    if protocol in ("s3", "s3a"):
        config = dict(options.get("config_kwargs") or {})
        config.setdefault("max_pool_connections", max(10, get_settings().requests_in_flight))
        options["config_kwargs"] = config
    options.pop("asynchronous", None)
    fs, path = fsspec.core.url_to_fs(url, **options)
    return fs, path


#: s3fs options that have an obstore equivalent; anything else (profiles, SSE, requester pays ...) keeps s3fs.
_S3_OPTIONS = {"key", "secret", "token", "anon", "client_kwargs", "config_kwargs", "asynchronous", "max_concurrency",
               "skip_instance_cache", "use_listings_cache", "default_block_size"}  # fmt: skip
_S3_CLIENT_KWARGS = {"endpoint_url", "region_name"}


def s3_fast_store(url: str, storage_options: Mapping[str, Any]) -> tuple[Any, str] | None:
    """An obstore ``S3Store`` for the bucket of ``url`` and the key prefix inside it, when obstore is installed and
    every option translates (explicit key and secret, or anonymous access); else None (s3fs serves the reads)."""
    protocol, _, rest = url.partition("://")
    if protocol not in ("s3", "s3a") or get_settings().s3_client != "obstore":
        return None
    try:
        from obstore.store import S3Store
    except ImportError:
        return None
    options = dict(storage_options)
    client = dict(options.get("client_kwargs") or {})
    anonymous = bool(options.get("anon"))
    if set(options) - _S3_OPTIONS or set(client) - _S3_CLIENT_KWARGS:
        return None
    if not anonymous and not (options.get("key") and options.get("secret")):
        return None  # the ambient credential chain (profiles, instance roles) stays with botocore
    bucket, _, prefix = rest.partition("/")
    config: dict[str, Any] = {"region": client.get("region_name") or "us-east-1"}
    endpoint = client.get("endpoint_url")
    client_options: dict[str, Any] = {}
    if endpoint:
        config["endpoint"] = endpoint
        config["virtual_hosted_style_request"] = False  # custom endpoints (MinIO, moto, Ceph) use path-style
        if str(endpoint).startswith("http://"):
            client_options["allow_http"] = True
    if anonymous:
        config["skip_signature"] = True
    else:
        config["access_key_id"] = options["key"]
        config["secret_access_key"] = options["secret"]
        if options.get("token"):
            config["token"] = options["token"]
    pool = max(10, get_settings().requests_in_flight)
    client_options["pool_max_idle_per_host"] = str(pool)
    return S3Store(bucket, client_options=client_options, **config), prefix  # type: ignore[arg-type]


def chunk_objects(
    url: str, storage_options: Mapping[str, Any], is_local: bool, array_path: str, pin: DatasetPin | None = None
) -> ChunkObjects | None:
    """Where the chunks of ``array_path`` below the dataset ``url`` come from (None: let zarr read them); local
    chunk files are opened relative to ``pin`` when given (the version the caller read the metadata of)."""
    if is_local:
        return LocalChunkFiles(os.path.join(url, array_path), pin, array_path)
    fs, root = remote_filesystem(url, storage_options)
    if not getattr(fs, "async_impl", False) or getattr(fs, "loop", None) is None:
        return None
    fast = s3_fast_store(url, storage_options)
    store, prefix = fast if fast is not None else (None, "")
    return RemoteChunkObjects(
        fs,
        f"{root.rstrip('/')}/{array_path}",
        get_settings().requests_in_flight,
        fast_store=store,
        fast_prefix=f"{prefix.strip('/')}/{array_path}".strip("/"),
    )
