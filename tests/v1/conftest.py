"""Fixtures for tests against multidimio 1.x (the v1 layout's own library), in its own virtual environment.

Like the 0.9.3 interop venv (tests/interop/conftest.py): created on first use with pip from PyPI, reused while
its pin list is unchanged, and only ever run through ``v1_tool.py`` in a subprocess; the package never imports it.

Location: ``$MDIO_CATALOG_INTEROP_VENV_V1``, else ``~/.cache/mdio_catalog/interop-venv-v1``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import venv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import segyio

from tests.interop.conftest import ReferenceToolError, _clean_env, _file_lock

V1_PINS: tuple[str, ...] = ("multidimio==1.1.3", "segy==0.6.1", "zarr==3.1.6", "xarray==2026.9.0", "numpy==2.4.6")
DEFAULT_VENV = Path.home() / ".cache" / "mdio_catalog" / "interop-venv-v1"
PIN_MARKER = ".mdio_catalog_pins"
V1_TOOL = Path(__file__).with_name("v1_tool.py")
SEGY_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "segy"


def _venv_dir() -> Path:
    return Path(os.environ.get("MDIO_CATALOG_INTEROP_VENV_V1", str(DEFAULT_VENV))).expanduser()


def _ready(venv_dir: Path) -> bool:
    python = venv_dir / "bin" / "python"
    marker = venv_dir / PIN_MARKER
    if not python.exists() or not marker.exists() or marker.read_text().split() != list(V1_PINS):
        return False
    probe = [str(python), "-c", "import mdio; assert mdio.__version__ == '1.1.3'"]
    return subprocess.run(probe, capture_output=True, env=_clean_env(), check=False).returncode == 0


def ensure_v1_venv(venv_dir: Path) -> Path:
    """Create (or rebuild) the multidimio 1.x venv if needed; return its python. Idempotent."""
    with _file_lock(venv_dir.with_name(venv_dir.name + ".lock")):
        python = venv_dir / "bin" / "python"
        if _ready(venv_dir):
            return python
        if not (python.exists() and _installed(python)):
            if venv_dir.exists():
                shutil.rmtree(venv_dir)
            venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
            cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", *V1_PINS]
            done = subprocess.run(cmd, capture_output=True, text=True, env=_clean_env(), check=False)
            if done.returncode != 0:
                raise RuntimeError(f"could not install {V1_PINS} into {venv_dir}:\n{done.stdout}\n{done.stderr}")
        (venv_dir / PIN_MARKER).write_text("\n".join(V1_PINS) + "\n")
        if not _ready(venv_dir):
            raise RuntimeError(f"multidimio 1.x venv at {venv_dir} installed but `import mdio` fails")
        return python


def _installed(python: Path) -> bool:
    """Whether the pinned versions are what the venv already holds (a venv built by hand is adopted)."""
    want = dict(p.split("==") for p in V1_PINS)
    code = f"import json, importlib.metadata as m; print(json.dumps({{n: m.version(n) for n in {list(want)!r}}}))"
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, env=_clean_env(), check=False)
    return done.returncode == 0 and json.loads(done.stdout) == want


RunV1 = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def run_v1() -> RunV1:
    """Run ``v1_tool.py`` with multidimio 1.x's python; raises ReferenceToolError with its stderr on failure."""
    python = ensure_v1_venv(_venv_dir())

    def run(*args: str | os.PathLike[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(python), str(V1_TOOL), *(str(a) for a in args)]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=_clean_env(), timeout=300, check=False)
        if check and proc.returncode != 0:
            raise ReferenceToolError(cmd, proc.returncode, proc.stdout, proc.stderr)
        return proc

    return run


def load_v1_dump(path: Path) -> dict[str, Any]:
    """A ``v1_tool.py read`` dump with the headers back as a structured array."""
    with np.load(path, allow_pickle=False) as npz:
        dump: dict[str, Any] = {key: npz[key] for key in npz.files}
    dump["dims"] = json.loads(str(dump["dims"]))
    if "headers" in dump:
        dtype = np.lib.format.descr_to_dtype([tuple(f) for f in json.loads(str(dump.pop("headers_descr")))])
        raw = np.ascontiguousarray(dump["headers"])
        dump["headers"] = raw.view(dtype).reshape(raw.shape[:-1])
    return dump


def with_coordinate_scalar(src: Path, dst: Path, scalar: int = 1) -> Path:
    """A copy of ``src`` whose trace headers say coordinate scalar ``scalar`` where they said 0.

    multidimio 1.x refuses rev1 files with scalar 0 (several public files have it); the copy is the file both
    sides ingest, and segyio reads the copy as the oracle.
    """
    shutil.copyfile(src, dst)
    with segyio.open(dst, "r+", ignore_geometry=True) as f:
        for i in range(f.tracecount):
            if f.header[i][segyio.TraceField.SourceGroupScalar] == 0:
                f.header[i] = {segyio.TraceField.SourceGroupScalar: scalar}
    return dst


@pytest.fixture(scope="session")
def segy_data() -> Path:
    if not SEGY_DATA.is_dir():
        pytest.skip(f"public SEG-Y files not found at {SEGY_DATA}")
    return SEGY_DATA


# The 0.9.3 reference's fixtures (its own venv), for v1 -> v0 conversions it must open.
from tests.interop.conftest import read_with_reference, reference_python, run_reference  # noqa: E402

__all__ = ["read_with_reference", "reference_python", "run_reference"]
