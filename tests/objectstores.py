"""Pytest plugin: real local S3 and GCS servers, spoken to over HTTP.

Registered from ``tests/conftest.py`` with ``pytest_plugins = ["tests.objectstores"]``.

Fixtures
--------
``s3_server`` (session)
    Endpoint URL (``http://127.0.0.1:<port>``) of a moto ``ThreadedMotoServer`` bound to a free port.
``s3_bucket`` (function)
    A :class:`BucketHandle` for a fresh, uniquely named bucket on that server. At teardown every moto
    backend is reset (``POST /moto-api/reset``), and the s3fs instance cache is cleared before and after.
``s3_auth`` (function)
    Turns on moto's IAM authentication for one test and yields an :class:`S3Auth` with a valid IAM key
    pair (policy ``s3:*``) plus deliberately bad ones. Without it moto accepts any credentials.
``gcs_server`` (session)
    Endpoint URL of an in-memory ``gcp-storage-emulator`` (no authentication at all).
``gcs_bucket`` (function)
    A :class:`BucketHandle` for a fresh bucket there; the emulator is wiped at teardown.
``no_internet`` (function)
    Refuses TCP connections to anything but loopback and DNS lookups of anything but local names.
    Applied automatically to every test marked ``objectstore`` and to the bucket fixtures.
The whole session also runs with fake AWS credentials and no AWS/GCP config files, metadata servers or
emulator hosts from the environment (``_isolated_cloud_env``), so real credentials are never used.

storage_options shapes (zarr-python 3, fsspec, s3fs, gcsfs)
-----------------------------------------------------------
Plain URLs: pass the filesystem's own options, flat::

    s3:  {"key": "testing", "secret": "testing",
          "client_kwargs": {"endpoint_url": "http://127.0.0.1:PORT", "region_name": "us-east-1"}}
    gs:  {"endpoint_url": "http://127.0.0.1:PORT", "token": "anon", "project": "test-project"}

    zarr.storage.FsspecStore.from_url("s3://bucket/ds.zarr", storage_options=opts)
    zarr.open_group("gs://bucket/ds.zarr", storage_options=opts, mode="r")

``FsspecStore.from_url`` adds ``asynchronous=True`` to those options itself.

Chained URLs (``simplecache::s3://bucket/ds.zarr``): fsspec's ``url_to_fs`` gives each layer the
options found under its protocol name, and gives the leftover top-level options to the *outermost* layer
only. ``simplecache`` silently swallows s3fs/gcsfs keywords, so flat options leave the inner filesystem
with its defaults: the real AWS/GCS endpoint and the ambient credential chain, with no error until the
first request (the ``no_internet`` guard turns that into an immediate failure). So nest them::

    {"simplecache": {"cache_storage": "/some/dir"},
     "s3": {**s3_opts, "asynchronous": True}}        # or "gs": {**gs_opts, "asynchronous": True}

The inner ``"asynchronous": True`` matters. zarr calls the cache layer's coroutine methods on zarr's own
event loop, and ``SimpleCacheFileSystem._cat_file`` awaits the inner filesystem's ``_get_file`` directly.
Without the flag the inner options equal those of an ordinary synchronous ``S3FileSystem(**opts)`` /
``GCSFileSystem(**opts)``. fsspec's instance cache then hands back that same instance, whose HTTP session
belongs to fsspec's I/O loop, and the read fails with ``RuntimeError: ... attached to a different loop``.
s3fs wraps that error in ``botocore.exceptions.HTTPClientError``; gcsfs lets it through as is. This
happens whenever something in the process already used a synchronous filesystem with the same options
(e.g. ``BucketHandle.fs``). ``"skip_instance_cache": True`` in the inner options also avoids it.
``BucketHandle.simplecache_url`` / ``simplecache_storage_options`` build these shapes.
"""

from __future__ import annotations

import copy
import errno
import functools
import http.server
import ipaddress
import json
import logging
import os
import re
import socket
import sys
import threading
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

# gcsfs reads this when it is imported. With the default ("true") gcsfs.GCSFileSystem is the experimental
# ExtendedGcsFileSystem, which asks the storage-control gRPC API for each bucket's type; against the
# emulator that waits out a 60 s timeout per bucket. NO_GCE_CHECK stops google-auth's metadata-server probe.
os.environ["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"] = "false"
os.environ["NO_GCE_CHECK"] = "true"
if "gcsfs" in sys.modules and sys.modules["gcsfs"].GCSFileSystem.__name__ != "GCSFileSystem":
    raise RuntimeError(
        "gcsfs was imported before tests.objectstores could set GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false; "
        "register the plugin in tests/conftest.py before anything imports gcsfs."
    )

import fsspec
import gcsfs
import s3fs
from fsspec.implementations.cached import SimpleCacheFileSystem

AWS_REGION = "us-east-1"
FAKE_AWS_KEY = "testing"
FAKE_AWS_SECRET = "testing"
GCS_PROJECT = "test-project"

_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


# --------------------------------------------------------------------------------------------------------
# Handles given to tests
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BucketHandle:
    """A fresh bucket on a local object-store server."""

    protocol: str  # "s3" or "gs"
    name: str
    endpoint_url: str
    fs: fsspec.AbstractFileSystem
    _options: Mapping[str, Any] = field(repr=False)

    @property
    def storage_options(self) -> dict[str, Any]:
        """Options for fsspec / s3fs / gcsfs / zarr with a plain ``s3://`` or ``gs://`` URL (a copy)."""
        return copy.deepcopy(dict(self._options))

    def url(self, path: str = "") -> str:
        """``"s3://bucket/path"`` (or ``gs://``)."""
        return f"{self.protocol}://{self.name}/{path.lstrip('/')}"

    def simplecache_url(self, path: str = "") -> str:
        """``"simplecache::s3://bucket/path"``: reads go through a local whole-file cache."""
        return f"simplecache::{self.url(path)}"

    def simplecache_storage_options(self, cache_storage: str | os.PathLike[str]) -> dict[str, Any]:
        """Nested options for :meth:`simplecache_url` (see the module docstring for why)."""
        return {
            "simplecache": {"cache_storage": os.fspath(cache_storage)},
            self.protocol: {**self.storage_options, "asynchronous": True},
        }


@dataclass(frozen=True)
class S3Auth:
    """Credentials while moto enforces IAM authentication (see the ``s3_auth`` fixture)."""

    endpoint_url: str
    key: str
    secret: str

    def storage_options(self, key: str | None = None, secret: str | None = None) -> dict[str, Any]:
        """s3fs options with the valid key pair, or with ``key``/``secret`` substituted."""
        return {
            "key": self.key if key is None else key,
            "secret": self.secret if secret is None else secret,
            "client_kwargs": {"endpoint_url": self.endpoint_url, "region_name": AWS_REGION},
        }

    @property
    def unknown_key_options(self) -> dict[str, Any]:
        """An access key id that moto has never issued."""
        return self.storage_options(key="AKIAUNKNOWNUNKNOWN00", secret="not-a-secret")

    @property
    def wrong_secret_options(self) -> dict[str, Any]:
        """The valid access key id with a wrong secret (signature mismatch)."""
        return self.storage_options(secret="wrong-" + self.secret)


# --------------------------------------------------------------------------------------------------------
# Environment isolation and network guard
# --------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def _isolated_cloud_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Fake AWS credentials and no cloud config for the whole session, so real credentials never leak in."""
    empty = tmp_path_factory.mktemp("cloud-config")
    missing = str(empty / "does-not-exist")
    with pytest.MonkeyPatch.context() as mp:
        for var in (
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
            "AWS_SESSION_TOKEN",
            "AWS_SECURITY_TOKEN",
            "AWS_ROLE_ARN",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_S3",
            "AWS_REGION",
            "GOOGLE_APPLICATION_CREDENTIALS",
            "GOOGLE_CLOUD_PROJECT",
            "STORAGE_EMULATOR_HOST",
        ):
            mp.delenv(var, raising=False)
        mp.setenv("AWS_ACCESS_KEY_ID", FAKE_AWS_KEY)
        mp.setenv("AWS_SECRET_ACCESS_KEY", FAKE_AWS_SECRET)
        mp.setenv("AWS_DEFAULT_REGION", AWS_REGION)
        mp.setenv("AWS_CONFIG_FILE", missing)
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", missing)
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        mp.setenv("CLOUDSDK_CONFIG", str(empty))
        mp.setenv("NO_GCE_CHECK", "true")
        mp.setenv("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
        yield


def _host_is_local(host: object) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host.lower() in _LOCAL_NAMES or host == socket.gethostname():
        return True
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True  # a literal address needs no DNS; connect() decides whether it is allowed


def _address_is_loopback(address: object) -> bool:
    if not isinstance(address, tuple) or not address:
        return True  # AF_UNIX paths and the like
    host = address[0]
    if isinstance(host, str) and host.lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(str(host).split("%", 1)[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture
def no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail fast (instead of reaching the internet) on non-local DNS lookups and non-loopback TCP connects."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(sock: socket.socket, address: object) -> None:
        if (
            sock.family in (socket.AF_INET, socket.AF_INET6)
            and sock.type == socket.SOCK_STREAM
            and not _address_is_loopback(address)
        ):
            raise OSError(errno.ENETUNREACH, f"tests.objectstores network guard: refused to connect to {address}")

    def connect(self: socket.socket, address: Any) -> None:
        check(self, address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(self, address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _host_is_local(host):
            raise socket.gaierror(socket.EAI_NONAME, f"tests.objectstores network guard: refused to resolve {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture(autouse=True)
def _objectstore_network_guard(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("objectstore") is not None:
        request.getfixturevalue("no_internet")


def _clear_fsspec_instance_caches() -> None:
    s3fs.S3FileSystem.clear_instance_cache()
    gcsfs.GCSFileSystem.clear_instance_cache()
    SimpleCacheFileSystem.clear_instance_cache()


def _unique_bucket_name() -> str:
    return f"test-{uuid.uuid4().hex[:16]}"


# --------------------------------------------------------------------------------------------------------
# S3: moto server
# --------------------------------------------------------------------------------------------------------


def _post(url: str, data: bytes = b"") -> bytes:
    # text/plain: with urllib's default form content type werkzeug would parse the body away
    request = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        body: bytes = resp.read()
        return body


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """Endpoint URL of a moto server on 127.0.0.1 and a free port, for the whole session."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def s3_storage_options(endpoint_url: str) -> dict[str, Any]:
    """s3fs options for the moto server with the fake credentials."""
    return {
        "key": FAKE_AWS_KEY,
        "secret": FAKE_AWS_SECRET,
        "client_kwargs": {"endpoint_url": endpoint_url, "region_name": AWS_REGION},
    }


@pytest.fixture
def s3_bucket(s3_server: str, no_internet: None) -> Iterator[BucketHandle]:
    """A fresh bucket on the moto server; all moto state is reset afterwards."""
    _clear_fsspec_instance_caches()
    options = s3_storage_options(s3_server)
    fs = s3fs.S3FileSystem(**options)
    name = _unique_bucket_name()
    # Not fs.mkdir(): with region_name="us-east-1" s3fs sends LocationConstraint=us-east-1, which S3 rejects.
    fs.call_s3("create_bucket", Bucket=name)
    try:
        yield BucketHandle(protocol="s3", name=name, endpoint_url=s3_server, fs=fs, _options=options)
    finally:
        _clear_fsspec_instance_caches()
        _post(f"{s3_server}/moto-api/reset-auth", b"inf")
        _post(f"{s3_server}/moto-api/reset")


@pytest.fixture
def s3_auth(s3_bucket: BucketHandle) -> Iterator[S3Auth]:
    """Make moto check signatures and IAM policies for this test (it accepts anything by default).

    Creates IAM user with an ``s3:*`` policy while auth is still off, then sets moto's
    INITIAL_NO_AUTH_ACTION_COUNT to 0 through ``POST /moto-api/reset-auth``. From then on the fake
    ``testing`` key (and so ``s3_bucket.fs``) is rejected too. Restored at teardown.
    """
    import boto3

    iam = boto3.client(
        "iam",
        endpoint_url=s3_bucket.endpoint_url,
        region_name=AWS_REGION,
        aws_access_key_id=FAKE_AWS_KEY,
        aws_secret_access_key=FAKE_AWS_SECRET,
    )
    user = f"user-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=user)
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    iam.put_user_policy(UserName=user, PolicyName="s3-all", PolicyDocument=json.dumps(policy))
    access_key = iam.create_access_key(UserName=user)["AccessKey"]
    _clear_fsspec_instance_caches()
    _post(f"{s3_bucket.endpoint_url}/moto-api/reset-auth", b"0")
    try:
        yield S3Auth(
            endpoint_url=s3_bucket.endpoint_url,
            key=access_key["AccessKeyId"],
            secret=access_key["SecretAccessKey"],
        )
    finally:
        _post(f"{s3_bucket.endpoint_url}/moto-api/reset-auth", b"inf")


# --------------------------------------------------------------------------------------------------------
# GCS: gcp-storage-emulator
# --------------------------------------------------------------------------------------------------------


class _BacklogHTTPServer(http.server.HTTPServer):
    # The emulator serves one request at a time over HTTP/1.0. With the default listen backlog of 5,
    # gcsfs's parallel connections overflow it and the kernel drops SYNs: every batch of chunk reads
    # then stalls for the 1 s SYN retransmit. A deep backlog queues them instead.
    request_queue_size = 256

    def handle_error(self, request: Any, client_address: Any) -> None:
        # clients (aiohttp) may drop a connection before the emulator has written its reply
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class GcsEmulator:
    """In-memory gcp-storage-emulator on 127.0.0.1 and a free port, in a daemon thread."""

    def __init__(self) -> None:
        from gcp_storage_emulator.server import RequestHandler
        from gcp_storage_emulator.storage import Storage

        logging.getLogger("gcp_storage_emulator").setLevel(logging.CRITICAL)  # logs every 404 as an error
        self.storage = Storage(use_memory_fs=True)
        self._httpd = _BacklogHTTPServer(("127.0.0.1", 0), functools.partial(RequestHandler, self.storage))
        host, port = self._httpd.server_address[:2]
        self.endpoint_url = f"http://{host!s}:{port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="gcs-emulator", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wipe(self) -> None:
        self.storage.wipe()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


@pytest.fixture(scope="session")
def _gcs_emulator() -> Iterator[GcsEmulator]:
    emulator = GcsEmulator()
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture(scope="session")
def gcs_server(_gcs_emulator: GcsEmulator) -> str:
    """Endpoint URL of the in-memory GCS emulator, for the whole session."""
    return _gcs_emulator.endpoint_url


def gcs_storage_options(endpoint_url: str) -> dict[str, Any]:
    """gcsfs options for the emulator (anonymous; the emulator checks no credentials)."""
    return {"endpoint_url": endpoint_url, "token": "anon", "project": GCS_PROJECT}


@pytest.fixture
def gcs_bucket(_gcs_emulator: GcsEmulator, no_internet: None) -> Iterator[BucketHandle]:
    """A fresh bucket on the GCS emulator; the emulator is wiped afterwards."""
    _clear_fsspec_instance_caches()
    options = gcs_storage_options(_gcs_emulator.endpoint_url)
    fs = gcsfs.GCSFileSystem(**options)
    name = _unique_bucket_name()
    fs.mkdir(name)
    try:
        yield BucketHandle(protocol="gs", name=name, endpoint_url=_gcs_emulator.endpoint_url, fs=fs, _options=options)
    finally:
        _clear_fsspec_instance_caches()
        _gcs_emulator.wipe()


class S3RequestLog:
    """The requests the moto server answered while it was recording, from its werkzeug access log."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._lock = threading.Lock()

    def record(self, message: str) -> None:
        with self._lock:
            self.lines.append(message)

    def clear(self) -> None:
        with self._lock:
            self.lines.clear()

    def requests(self) -> list[tuple[str, str]]:
        """``(method, path)`` of every request recorded, in order."""
        out = []
        with self._lock:
            for line in self.lines:
                parts = re.sub(r"\x1b\[[0-9;]*m", "", line).split('"')  # werkzeug colours 4xx lines
                if len(parts) > 1 and len(parts[1].split()) >= 2:
                    method, path = parts[1].split()[:2]
                    out.append((method, path))
        return out

    def count(self, method: str | None = None) -> int:
        return sum(1 for m, _ in self.requests() if method is None or m == method)


class _LogHandler(logging.Handler):
    def __init__(self, log: S3RequestLog) -> None:
        super().__init__(logging.INFO)
        self.log = log

    def emit(self, record: logging.LogRecord) -> None:
        self.log.record(record.getMessage())


@pytest.fixture
def s3_requests(s3_bucket: BucketHandle) -> Iterator[S3RequestLog]:
    """Records every request the moto server answers during the test (call ``.clear()`` before a measurement)."""
    log = S3RequestLog()
    logger = logging.getLogger("werkzeug")
    handler = _LogHandler(log)
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(handler)
    try:
        yield log
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def unused_local_port() -> int:
    """A loopback TCP port with nothing listening (bound then released; fine for tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


__all__ = [
    "AWS_REGION",
    "GCS_PROJECT",
    "BucketHandle",
    "GcsEmulator",
    "S3Auth",
    "S3RequestLog",
    "gcs_storage_options",
    "s3_storage_options",
    "unused_local_port",
]
