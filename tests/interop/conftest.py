"""Fixtures for interop tests against the reference implementation (multidimio 0.9.3).

The reference lives in its own virtual environment, outside the repository, because its pins
(zarr, numpy, numcodecs...) differ from ours. The session fixture ``reference_python`` creates
that environment on first use (pip from PyPI), and reuses it while its pin list is unchanged.

Location: ``$MDIO_CATALOG_INTEROP_VENV``, else ``~/.cache/mdio_catalog/interop-venv-0.9.3``.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import venv
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

#: Exact pins that install together; changing this list rebuilds the environment.
REFERENCE_PINS: tuple[str, ...] = (
    "multidimio==0.9.3",
    "zarr==3.1.0",
    "numcodecs==0.16.1",
    "segy==0.4.1.post2",
    "zfpy==1.0.1",
    "numpy==2.2.6",
    "dask==2025.7.0",
    "fsspec==2024.12.0",
)
DEFAULT_VENV = Path.home() / ".cache" / "mdio_catalog" / "interop-venv-0.9.3"
PIN_MARKER = ".mdio_catalog_pins"
REFERENCE_TOOL = Path(__file__).with_name("reference_tool.py")
TOOL_TIMEOUT_S = 300


class ReferenceToolError(RuntimeError):
    """The reference tool exited with an error."""

    def __init__(self, cmd: list[str], returncode: int, stdout: str, stderr: str) -> None:
        self.cmd = cmd
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        super().__init__(
            f"reference tool failed (exit {returncode}): {' '.join(cmd)}\n--- stderr ---\n{stderr[-6000:]}"
        )


def interop_venv_dir() -> Path:
    return Path(os.environ.get("MDIO_CATALOG_INTEROP_VENV", str(DEFAULT_VENV))).expanduser()


def _venv_python(venv_dir: Path) -> Path:
    return venv_dir / "bin" / "python"


def _clean_env() -> dict[str, str]:
    """Environment for the reference's processes: nothing from our venv leaks in."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}}
    env["PYTHONNOUSERSITE"] = "1"
    return env


def _venv_is_ready(venv_dir: Path) -> bool:
    python = _venv_python(venv_dir)
    marker = venv_dir / PIN_MARKER
    if not python.exists() or not marker.exists():
        return False
    if marker.read_text().split() != list(REFERENCE_PINS):
        return False
    probe = subprocess.run(
        [str(python), "-c", "import mdio, zarr; assert mdio.__version__ == '0.9.3'"],
        capture_output=True,
        text=True,
        env=_clean_env(),
        check=False,
    )
    return probe.returncode == 0


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_reference_venv(venv_dir: Path) -> Path:
    """Create (or rebuild) the reference venv if needed; return its python. Idempotent."""
    with _file_lock(venv_dir.with_name(venv_dir.name + ".lock")):
        if _venv_is_ready(venv_dir):
            return _venv_python(venv_dir)
        if venv_dir.exists():
            shutil.rmtree(venv_dir)
        venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
        python = _venv_python(venv_dir)
        install = subprocess.run(
            [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", *REFERENCE_PINS],
            capture_output=True,
            text=True,
            env=_clean_env(),
            check=False,
        )
        if install.returncode != 0:
            raise RuntimeError(
                f"could not install the reference pins into {venv_dir}:\n{install.stdout}\n{install.stderr}"
            )
        (venv_dir / PIN_MARKER).write_text("\n".join(REFERENCE_PINS) + "\n")
        if not _venv_is_ready(venv_dir):
            raise RuntimeError(f"reference venv at {venv_dir} installed but `import mdio` fails")
        return python


@pytest.fixture(scope="session")
def reference_python() -> Path:
    """Path of the reference venv's python (multidimio 0.9.3), creating the venv if needed."""
    return ensure_reference_venv(interop_venv_dir())


RunReference = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def run_reference(reference_python: Path) -> RunReference:
    """Run ``reference_tool.py`` with the reference python.

    ``run_reference("read", "--mdio", path, "--out", dump)``; raises ReferenceToolError (with the
    stderr) on a non-zero exit unless ``check=False`` is given, then the CompletedProcess is
    returned for inspection.
    """

    def run(*args: str | os.PathLike[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(reference_python), str(REFERENCE_TOOL), *(str(a) for a in args)]
        proc = subprocess.run(
            cmd, capture_output=True, text=True, env=_clean_env(), timeout=TOOL_TIMEOUT_S, check=False
        )
        if check and proc.returncode != 0:
            raise ReferenceToolError(cmd, proc.returncode, proc.stdout, proc.stderr)
        return proc

    return run


def load_reference_dump(path: Path) -> dict[str, Any]:
    """Load a ``reference_tool.py read`` dump; headers come back as a structured array."""
    with np.load(path, allow_pickle=False) as npz:
        dump: dict[str, Any] = {key: npz[key] for key in npz.files}
    descr = [tuple(field) for field in json.loads(str(dump.pop("headers_descr")))]
    header_dtype = np.lib.format.descr_to_dtype(descr)
    raw = np.ascontiguousarray(dump["headers"])
    dump["headers"] = raw.view(header_dtype).reshape(raw.shape[:-1])
    dump["info"] = json.loads(str(dump["info"]))
    dump["coords"] = {name: dump.pop(f"coord_{name}") for name in dump["info"]["dim_names"]}
    return dump


ReadReference = Callable[..., dict[str, Any]]


@pytest.fixture
def read_with_reference(run_reference: RunReference, tmp_path: Path) -> ReadReference:
    """Open a store with the reference's MDIOReader and return the loaded dump (see load_reference_dump)."""
    counter = iter(range(1_000_000))

    def read(mdio_path: Path, access_pattern: str = "012") -> dict[str, Any]:
        out = tmp_path / f"reference_read_{next(counter)}.npz"
        run_reference("read", "--mdio", mdio_path, "--out", out, "--access-pattern", access_pattern)
        return load_reference_dump(out)

    return read
