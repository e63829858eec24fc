"""Interpreters and environments for child runs: our venv's python, the reference's (multidimio 0.9.3), clean env."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from . import REPO_ROOT

__all__ = ["clean_env", "our_python", "reference_python"]


def clean_env() -> dict[str, str]:
    """Environment for child interpreters: nothing from the calling virtual environment leaks in."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}}
    env["PYTHONNOUSERSITE"] = "1"
    return env


def our_python() -> Path:
    candidate = REPO_ROOT / ".venv" / "bin" / "python"
    return candidate if candidate.exists() else Path(sys.executable)


def reference_python() -> Path:
    """The reference venv's python (multidimio 0.9.3), created like the interop tests do if missing."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from tests.interop.conftest import ensure_reference_venv, interop_venv_dir

    return ensure_reference_venv(interop_venv_dir())
