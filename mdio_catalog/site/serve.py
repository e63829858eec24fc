"""Serve a built catalog site on 127.0.0.1 (never on every interface): the standard library's file server.

``docs serve`` exists for convenience only: the site works from ``file://`` too. The server is read-only, serves
only the site folder, and logs nothing unless asked, so it can run under tests.
"""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from mdio_catalog.exceptions import ArgumentError, MDIONotFoundError

HOST = "127.0.0.1"


class _QuietHandler(SimpleHTTPRequestHandler):
    verbose = False

    def log_message(self, format: str, *args: Any) -> None:
        if self.verbose:
            super().log_message(format, *args)


def make_server(folder: str | Path, port: int = 8000, *, verbose: bool = False) -> ThreadingHTTPServer:
    """A server for ``folder`` on 127.0.0.1:``port`` (0 picks a free port; read it from ``server_address``)."""
    folder = Path(folder)
    if not (folder / "index.html").is_file():
        raise MDIONotFoundError(f"No site at {folder} (no index.html); run 'mdio-catalog docs build' first.")
    handler = type("Handler", (_QuietHandler,), {"verbose": verbose})
    try:
        return ThreadingHTTPServer((HOST, port), functools.partial(handler, directory=str(folder)))
    except OSError as exc:
        raise ArgumentError(f"Cannot listen on {HOST}:{port} ({exc.strerror or exc}); pick another --port.") from exc


def serve_in_thread(folder: str | Path, port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    """Start a server in a daemon thread; returns it (call ``shutdown()``) and its base URL."""
    server = make_server(folder, port)
    threading.Thread(target=server.serve_forever, daemon=True, name="mdio-catalog-site").start()
    host, bound = server.server_address[:2]
    return server, f"http://{host!s}:{bound}/"
