"""The exception tree: every error is an MDIOError and the builtin that fits; did_you_mean suggestions."""

from __future__ import annotations

import builtins
import inspect

import pytest

from mdio_catalog import exceptions as exc
from mdio_catalog.exceptions import MDIOError, did_you_mean

ERRORS = [
    cls
    for _, cls in inspect.getmembers(exc, inspect.isclass)
    if issubclass(cls, BaseException) and cls.__module__ == exc.__name__
]
BUILTIN_ERRORS = {
    cls
    for cls in vars(builtins).values()
    if inspect.isclass(cls) and issubclass(cls, Exception) and cls is not Exception
}

#: What the design (DESIGN.md, mdio-v0-format.md, the API reference) says each error must also be.
EXPECTED_BUILTINS: dict[str, tuple[type[BaseException], ...]] = {
    "MDIONotFoundError": (FileNotFoundError,),
    "MDIOAlreadyExistsError": (FileExistsError,),
    "MDIOReadOnlyError": (PermissionError,),
    "StorageError": (OSError,),
    "CredentialsError": (OSError, PermissionError),
    "InvalidModeError": (ValueError,),
    "InvalidBackendError": (ValueError,),
    "AccessPatternError": (ValueError,),
    "MDIOFormatError": (ValueError,),
    "ShapeError": (ValueError,),
    "IndexOutOfRangeError": (IndexError,),
    "CoordinateNotFoundError": (ValueError,),
    "DimensionNotFoundError": (KeyError,),
    "SerializationError": (ValueError,),
    "PayloadKeyError": (KeyError, ValueError),
    "GridTraceCountError": (ValueError,),
    "GridSparsityError": (ValueError,),
    "GridOverrideError": (ValueError,),
    "SegyError": (ValueError,),
    "SegyTruncatedError": (ValueError,),
    "SegyFormatError": (ValueError,),
    "HeaderFieldError": (ValueError,),
    "SpecError": (ValueError,),
    "CatalogError": (RuntimeError,),
    "ExportError": (ValueError,),
}


def test_module_defines_the_tree():
    names = {cls.__name__ for cls in ERRORS}
    assert "MDIOError" in names
    assert set(EXPECTED_BUILTINS) <= names


@pytest.mark.parametrize("cls", ERRORS, ids=lambda c: c.__name__)
def test_every_error_is_an_mdio_error_and_a_builtin(cls):
    assert issubclass(cls, MDIOError)
    assert issubclass(cls, Exception)
    if cls is not MDIOError:
        assert any(issubclass(cls, b) for b in BUILTIN_ERRORS), f"{cls.__name__} inherits no specific builtin"
    # Instances are caught both ways.
    with pytest.raises(MDIOError):
        raise cls("boom")


@pytest.mark.parametrize(("name", "bases"), sorted(EXPECTED_BUILTINS.items()))
def test_expected_builtins(name, bases):
    cls = getattr(exc, name)
    for base in bases:
        assert issubclass(cls, base), f"{name} should also be a {base.__name__}"
        with pytest.raises(base):
            raise cls("boom")


def test_segy_errors_share_a_parent():
    for name in ("SegyTruncatedError", "SegyFormatError", "HeaderFieldError"):
        assert issubclass(getattr(exc, name), exc.SegyError)
    assert issubclass(exc.CredentialsError, exc.StorageError)
    assert issubclass(exc.PayloadKeyError, exc.SerializationError)


@pytest.mark.parametrize("cls", [c for c in ERRORS if issubclass(c, KeyError)], ids=lambda c: c.__name__)
def test_key_errors_print_the_sentence(cls):
    # KeyError's str() quotes its argument; ours must read as the plain message.
    message = "No dimension named 'x'."
    assert str(cls(message)) == message
    assert str(cls()) == ""


def test_not_found_keeps_os_error_fields():
    err = exc.MDIONotFoundError(2, "No such file", "/x")
    assert err.errno == 2
    assert err.filename == "/x"


@pytest.mark.parametrize(
    ("word", "choices", "expected"),
    [
        ("inlin", ["inline", "crossline", "sample"], ", did you mean 'inline'?"),
        ("crosline", ("inline", "crossline"), ", did you mean 'crossline'?"),
        ("azimuth", ["inline", "crossline"], ""),
        ("x", [], ""),
        (189, [1890, 42], ", did you mean '1890'?"),
    ],
)
def test_did_you_mean(word, choices, expected):
    assert did_you_mean(word, choices) == expected


def test_did_you_mean_accepts_any_iterable():
    assert did_you_mean("sampel", (n for n in ["sample", "offset"])) == ", did you mean 'sample'?"
