"""Run the ``mdio-catalog`` console script as a real process, and check what a strict JSON parser accepts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

SCRIPT = Path(sys.executable).with_name("mdio-catalog")


def cli(*args: str, cwd: Path, timeout: float = 180) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``mdio-catalog ARGS`` run in ``cwd``."""
    env = {**os.environ, "MDIO_CATALOG_PROGRESS": "false"}
    done = subprocess.run(
        [str(SCRIPT), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    return done.returncode, done.stdout, done.stderr


def _refuse(constant: str) -> Any:
    raise ValueError(f"not strict JSON: {constant}")


def strict_loads(text: str) -> Any:
    """``json.loads`` that refuses ``NaN``, ``Infinity`` and ``-Infinity`` (what RFC 8259 parsers do)."""
    return json.loads(text, parse_constant=_refuse)


def assert_one_line_error(code: int, out: str, err: str, *words: str) -> str:
    """A command that failed as our CLI should: exit 2, one ``error:`` line (last; ``build`` may say what it
    started before), no traceback; the line."""
    lines = err.splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert code == 2, (code, out, err)
    assert len(errors) == 1, err
    assert lines[-1] == errors[0], err
    assert "Traceback" not in out + err
    assert "unexpected" not in err, err
    for word in words:
        assert word in errors[0], (word, errors[0])
    return errors[0]
