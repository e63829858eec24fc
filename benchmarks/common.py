"""Facade: the shared benchmark helpers now live in ``benchmarks/support/``, one module per concern.

Kept so that ``from common import ...`` in the scripts keeps working; it re-exports every public name of
``support`` (see its docstring or benchmarks/README.md for the modules). New code may import ``support.<module>``.
"""

from support import *  # noqa: F403
from support.environments import *  # noqa: F403
from support.files import *  # noqa: F403
from support.ingest_runs import *  # noqa: F403
from support.machine import *  # noqa: F403
from support.memory import *  # noqa: F403
from support.reports import *  # noqa: F403
from support.segy import *  # noqa: F403
from support.segy_files import *  # noqa: F403
from support.surveys import *  # noqa: F403
from support.workers import *  # noqa: F403
