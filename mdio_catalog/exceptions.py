"""One exception tree for the whole package.

Every error raised on purpose by ``mdio_catalog`` derives from :class:`MDIOError`, and each subclass also
inherits the builtin that fits, so callers can write ``except FileNotFoundError`` or ``except MDIOError`` alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from difflib import get_close_matches


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return a ", did you mean 'x'?" suffix for the closest choice, or an empty string."""
    matches = get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f", did you mean {matches[0]!r}?" if matches else ""


class MDIOError(Exception):
    """Root of every error raised by mdio_catalog."""


# --- stores and datasets -------------------------------------------------------------------------------------
class MDIONotFoundError(MDIOError, FileNotFoundError):
    """A dataset, array, group or file does not exist where it was looked for."""


class MDIOAlreadyExistsError(MDIOError, FileExistsError):
    """The target exists and the caller did not ask to overwrite it."""


class ForeignContentError(MDIOAlreadyExistsError):
    """The output path holds something the library did not write (a user's folder or file, a symbolic link, a
    dataset another catalog built): it is never replaced or deleted."""


class DatasetBusyError(MDIOError, RuntimeError):
    """Another process is writing the same dataset (its lock is held); nothing was changed."""


class DatasetReplacedError(MDIOError, RuntimeError):
    """The dataset an open reader pinned was rebuilt or removed; reopen it to read the new version."""


class VersionNotFoundError(MDIONotFoundError):
    """A build id that is not among a dataset's kept versions (``keep: N``), or whose folder is gone."""


class MDIOReadOnlyError(MDIOError, PermissionError):
    """A write was attempted through a read-only accessor."""


class StorageError(MDIOError, OSError):
    """The storage backend failed (unreachable endpoint, unwritable path, ...)."""


class CredentialsError(StorageError, PermissionError):
    """The object store refused the credentials (missing, wrong or expired)."""


class InvalidModeError(MDIOError, ValueError):
    """An accessor mode outside {'r', 'r+', 'w'}."""


class InvalidBackendError(MDIOError, ValueError):
    """A backend outside {'zarr', 'dask'}."""


class AccessPatternError(MDIOError, ValueError):
    """An access pattern that is malformed, missing from the dataset, or clashes with an existing one."""


class AccessPatternNotFoundError(AccessPatternError, KeyError):
    """The dataset has no arrays for the requested access pattern (a KeyError too, as the reference raises)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class MDIOFormatError(MDIOError, ValueError):
    """A store that exists but does not hold a valid MDIO v0 dataset (missing or malformed metadata)."""


# --- shapes, indices, coordinates ----------------------------------------------------------------------------
class ShapeError(MDIOError, ValueError):
    """Shapes or lengths that do not agree (chunks, coordinates, masks, queries)."""


class IndexOutOfRangeError(MDIOError, IndexError):
    """An index beyond the extent of a dimension."""


class CoordinateNotFoundError(MDIOError, ValueError):
    """A coordinate label that does not exist on its dimension."""


class DimensionNotFoundError(MDIOError, KeyError, ValueError):
    """A dimension name that the dataset does not have (a ValueError too, as the reference raises)."""

    def __str__(self) -> str:  # KeyError quotes its message; a user wants the sentence.
        return str(self.args[0]) if self.args else ""


# --- serialisation --------------------------------------------------------------------------------------------
class SerializationError(MDIOError, ValueError):
    """A payload that cannot be serialised or deserialised (unknown format, missing keys, bad syntax)."""


class PayloadKeyError(SerializationError, KeyError):
    """A payload whose keys do not match what the constructor expects."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


# --- grids and ingestion --------------------------------------------------------------------------------------
class GridTraceCountError(MDIOError, ValueError):
    """The grid cannot hold every trace of the file: several traces map to one cell."""


class GridSparsityError(MDIOError, ValueError):
    """The grid is far larger than the number of traces: the index bytes are very likely wrong."""


class GridOverrideError(MDIOError, ValueError):
    """Grid overrides that are unknown, incomplete, or incompatible with each other or with the index names."""


class SegyError(MDIOError, ValueError):
    """A SEG-Y file that cannot be read as asked."""


class SegyTruncatedError(SegyError):
    """The file size does not match a whole number of traces."""


class SegyEmptyError(SegyError):
    """A SEG-Y file that holds no traces: it has no grid, so no dataset is made of it."""


class SegyFormatError(SegyError):
    """An unknown or unsupported sample format, or inconsistent binary header values."""


class HeaderFieldError(SegyError):
    """A header byte position or type that is outside the header or not supported."""


# --- inputs ---------------------------------------------------------------------------------------------------
class NotRegularFileError(MDIOError, OSError):
    """An input path that is not a regular file (a FIFO, a device, a socket, a directory) or a symlink loop;
    refused before it is opened, so nothing waits on it."""


class NumpySourceError(MDIOError, ValueError):
    """A ``.npy``/``.npz`` source that cannot be read safely (object arrays need pickle, which is never enabled)."""


class ArgumentError(MDIOError, ValueError):
    """A command-line or function argument that cannot be parsed (a byte position or chunk size that is not an
    integer, a JSON option that is not valid JSON, ...)."""


# --- specs and catalog ---------------------------------------------------------------------------------------
class SpecError(MDIOError, ValueError):
    """An invalid spec (unknown key, wrong type, bad reference), with where it was found."""


class SpecValidationError(SpecError):
    """A spec that failed validation; ``issues`` lists every problem with its file, line and path in the spec."""

    def __init__(self, *args: object, issues: Iterable[object] = ()) -> None:
        super().__init__(*args)
        self.issues = tuple(issues)


class TemplateNotFoundError(SpecError, KeyError):
    """A template name the registry does not know, or a template file that does not exist."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class DatasetNotFoundError(SpecError, KeyError):
    """A dataset name that the catalog does not define."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class UndefinedVariableError(SpecError, KeyError):
    """A ``${VAR}`` reference to an environment variable that is not set and has no ``:-default``."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class SpecLimitError(SpecValidationError):
    """A spec file beyond a documented limit (size, nesting depth, values after alias expansion); the message
    names the file, the line and the ``MDIO_CATALOG_SPEC_*`` setting that raises the limit."""


class CatalogError(MDIOError, RuntimeError):
    """The catalog cannot do what was asked (unknown dataset, failed build, ...)."""


class UncommittedSpecError(CatalogError):
    """``build --require-clean``: the spec files of a dataset to build (the catalog file, its templates) have
    uncommitted changes in git; nothing was built."""


class ExportError(MDIOError, ValueError):
    """An export that cannot be done as asked (empty selection, unwritable output, ...)."""


class ClusterError(MDIOError, RuntimeError):
    """A dask cluster could not be reached or started, or lost a task's worker; nothing was published."""


class VersionsUnsupportedError(CatalogError):
    """Keeping earlier versions (``keep: N``) or rolling back asked of a dataset on an object store: they need a
    local root (a version is kept and restored by renaming folders, which object stores cannot do)."""
