"""mdio_catalog: the MDIO v0 seismic format and a declarative dataset catalog.

The public API mirrors the reference MDIO library (``from mdio_catalog import MDIOReader, segy_to_mdio``).
"""

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
from mdio_catalog.version import __version__

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
