"""A second S3 endpoint for the read benchmarks: nginx serving a folder as a path-style S3 bucket (GET and HEAD).

moto answers every request in Python, about 3 ms of CPU each, on the same two cores as the client being measured:
reading 784 chunk objects then costs the *server* ~2.5 s, whoever the client is, and both clients look alike. A
real object store spends none of the client machine's CPU. nginx (C, one worker process) answers a ranged or whole
GET in tens of microseconds, so with it the client's own cost per request -- what this benchmark compares -- is
what is measured. Reads need nothing but GET and HEAD of keys (both implementations open consolidated metadata
and read chunk keys; a missing key is a 404, which both treat as an empty chunk). Writes are not served: the
stores are written to the folder by each implementation's local ingestion beforehand.

Every request is logged as ``METHOD URI STATUS`` (one line), so requests are counted from the server's side as
with moto. ``/<bucket>/__marker__/*`` answers 200 to any HEAD (the benchmark's step markers).

nginx comes from Debian's ``nginx-light`` package; the benchmark installs it with apt-get when it is missing.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

CONFIG = """\
{load_module}
worker_processes 1;
daemon off;
pid {pid};
error_log {error_log} warn;
events {{ worker_connections 1024; }}
http {{
    log_format s3 '"$request_method $request_uri HTTP" $status';
    access_log {access_log} s3;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    keepalive_timeout 120s;
    types {{ }}
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location ~ ^/[^/]+/__marker__/ {{ return 200; }}
{locations}
    }}
}}
"""


def ensure_nginx(log: Any) -> str:
    """Path of the nginx binary, installed from Debian's packages when absent."""
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found:
        return found
    log("installing nginx-light (apt-get) for the static S3 endpoint ...")
    subprocess.run(["apt-get", "install", "-y", "-q", "nginx-light"], check=True, stdout=subprocess.DEVNULL)
    return shutil.which("nginx") or "/usr/sbin/nginx"


ECHO_MODULE = "/usr/lib/nginx/modules/ngx_http_echo_module.so"


def latency_config(latency_ms: float) -> dict[str, str]:
    """Config pieces: files served at once, or after ``latency_ms`` (the echo module's timer, no CPU spent)."""
    if not latency_ms:
        return {"load_module": "", "locations": "        location / { try_files $uri =404; }"}
    return {
        "load_module": f"load_module {ECHO_MODULE};",
        "locations": (
            f"        location / {{ echo_sleep {latency_ms / 1000:.3f}; echo_exec @file; }}\n"
            "        location @file { try_files $uri =404; }"
        ),
    }


class StaticS3Server:
    """nginx serving ``root`` (whose sub-folders are buckets) on a free loopback port."""

    def __init__(self, workdir: Path, root: Path, log: Any = print, latency_ms: float = 0.0) -> None:
        binary = ensure_nginx(log)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        conf_dir = (workdir / "nginx").resolve()
        conf_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = conf_dir / "access.log"
        self.log_path.write_text("")
        conf = conf_dir / "nginx.conf"
        conf.write_text(
            CONFIG.format(
                pid=conf_dir / "nginx.pid",
                error_log=conf_dir / "error.log",
                access_log=self.log_path,
                port=self.port,
                root=root.resolve(),
                **latency_config(latency_ms),
            )
        )
        self.proc = subprocess.Popen(
            [binary, "-p", str(conf_dir), "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        self.endpoint = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("nginx did not start")

    @property
    def options(self) -> dict[str, Any]:
        return {
            "key": "bench",
            "secret": "bench",
            "client_kwargs": {"endpoint_url": self.endpoint, "region_name": "us-east-1"},
        }

    def requests(self) -> list[tuple[str, str]]:
        """(method, path) of every request so far (nginx writes its log line when the response is complete)."""
        out = []
        for raw in self.log_path.read_text(errors="replace").splitlines():
            match = re.search(r'"([A-Z]+) (\S+) HTTP', raw)
            if match:
                out.append((match.group(1), match.group(2)))
        return out

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
