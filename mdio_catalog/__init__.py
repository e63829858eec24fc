"""mdio_catalog: the MDIO v0 seismic format and a declarative dataset catalog.

The public API mirrors the reference MDIO library (``from mdio_catalog import MDIOReader, segy_to_mdio``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mdio_catalog.version import __version__

if TYPE_CHECKING:  # the names below, for type checkers and editors; loaded on first use at run time
    from mdio_catalog.api.accessor import MDIOAccessor, MDIOReader, MDIOWriter
    from mdio_catalog.api.convenience import copy_mdio, rechunk, rechunk_batch
    from mdio_catalog.api.xarray_view import open_dataset
    from mdio_catalog.converters.mdio_to_segy import mdio_to_segy
    from mdio_catalog.converters.numpy import numpy_to_mdio
    from mdio_catalog.converters.segy import segy_to_mdio
    from mdio_catalog.core.dimension import Dimension, DimensionSerializer
    from mdio_catalog.core.factory import MDIOCreateConfig, MDIOVariableConfig, create_empty, create_empty_like
    from mdio_catalog.core.grid import Grid
    from mdio_catalog.exceptions import GridTraceCountError, MDIOError, MDIONotFoundError, ShapeError
    from mdio_catalog.v1.convert import convert_mdio

#: Where each public name lives. Importing the package stays cheap (zarr, numpy codecs and dask load on first use),
#: so a command that only reads the catalog (``status``, ``list``) does not pay for the format layers.
_PUBLIC = {
    "MDIOAccessor": "mdio_catalog.api.accessor",
    "MDIOReader": "mdio_catalog.api.accessor",
    "MDIOWriter": "mdio_catalog.api.accessor",
    "copy_mdio": "mdio_catalog.api.convenience",
    "rechunk": "mdio_catalog.api.convenience",
    "rechunk_batch": "mdio_catalog.api.convenience",
    "open_dataset": "mdio_catalog.api.xarray_view",
    "mdio_to_segy": "mdio_catalog.converters.mdio_to_segy",
    "numpy_to_mdio": "mdio_catalog.converters.numpy",
    "segy_to_mdio": "mdio_catalog.converters.segy",
    "Dimension": "mdio_catalog.core.dimension",
    "DimensionSerializer": "mdio_catalog.core.dimension",
    "MDIOCreateConfig": "mdio_catalog.core.factory",
    "MDIOVariableConfig": "mdio_catalog.core.factory",
    "create_empty": "mdio_catalog.core.factory",
    "create_empty_like": "mdio_catalog.core.factory",
    "Grid": "mdio_catalog.core.grid",
    "GridTraceCountError": "mdio_catalog.exceptions",
    "MDIOError": "mdio_catalog.exceptions",
    "MDIONotFoundError": "mdio_catalog.exceptions",
    "ShapeError": "mdio_catalog.exceptions",
    "convert_mdio": "mdio_catalog.v1.convert",
}


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'mdio_catalog' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])


__all__ = [
    "Dimension",
    "DimensionSerializer",
    "Grid",
    "GridTraceCountError",
    "MDIOAccessor",
    "MDIOCreateConfig",
    "MDIOError",
    "MDIONotFoundError",
    "MDIOReader",
    "MDIOVariableConfig",
    "MDIOWriter",
    "ShapeError",
    "__version__",
    "convert_mdio",
    "copy_mdio",
    "create_empty",
    "create_empty_like",
    "mdio_to_segy",
    "numpy_to_mdio",
    "open_dataset",
    "rechunk",
    "rechunk_batch",
    "segy_to_mdio",
]
