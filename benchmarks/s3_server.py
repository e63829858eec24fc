"""The benchmarks' S3 server: moto's server mode with one change, so that the server is not what is measured.

moto keeps each object in a spooled temporary file and, for every GET, reads the *whole* object back and slices
the requested range out of it: a 1 MB ranged read of a 679 MB SEG-Y costs a 679 MB read inside the server
(~0.2 s of its CPU), which no real object store does. Here an object's bytes are read from the spool once and
kept in memory until the object is written again, so a ranged GET costs what the range costs. Requests, responses
and the access log (one line per request, used to count requests) are moto's own. Both implementations are
measured against this same server.

``--latency-ms L`` delays every response by L milliseconds (a sleep in the request's thread, no CPU): real object
stores answer a GET after 10-50 ms of first-byte latency, while moto on loopback answers at once and is bound by
its own CPU instead, so the two settings show a client's behaviour in both regimes.

Usage: ``python benchmarks/s3_server.py PORT [--latency-ms L]`` (serves on 127.0.0.1).
"""

from __future__ import annotations

import sys
from typing import Any

from moto.s3.models import FakeKey

_original = FakeKey.value


def _cached_value(self: Any) -> bytes:
    cached = self.__dict__.get("_bench_cached_value")
    if cached is None:
        cached = _original.fget(self)  # type: ignore[misc]
        self.__dict__["_bench_cached_value"] = cached
    return cached  # type: ignore[no-any-return]


def _set_value(self: Any, new_value: bytes) -> None:
    self.__dict__.pop("_bench_cached_value", None)
    _original.fset(self, new_value)  # type: ignore[misc]


FakeKey.value = property(_cached_value, _set_value)  # type: ignore[method-assign,assignment]


def _add_latency(seconds: float) -> None:
    import time

    from werkzeug.serving import WSGIRequestHandler

    original = WSGIRequestHandler.run_wsgi

    def delayed(self: Any) -> None:
        time.sleep(seconds)
        original(self)

    WSGIRequestHandler.run_wsgi = delayed  # type: ignore[method-assign]


def main() -> None:
    from moto.server import main as moto_main

    if "--latency-ms" in sys.argv:
        _add_latency(float(sys.argv[sys.argv.index("--latency-ms") + 1]) / 1000)
    moto_main(["-H", "127.0.0.1", "-p", sys.argv[1]])


if __name__ == "__main__":
    main()
