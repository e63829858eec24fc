"""``${VAR}`` and ``${VAR:-default}`` references to environment variables, and redaction of secrets.

References are allowed in credentials and storage options only. Specs keep the references as written (so dumps
round-trip and never hold a secret); :func:`expand` and :func:`expand_tree` replace them with values at the
moment a store is opened. ``$$`` writes a literal ``$``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from mdio_catalog.exceptions import UndefinedVariableError
from mdio_catalog.specs.errors import PathPart, SourceMap, SpecIssue, raise_issues

_TOKEN: Final = re.compile(r"\$\$|\$\{([^{}]*)\}|\$\{")
_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

#: Shown instead of a secret in dumps meant for people or provenance.
REDACTED: Final = "***"

#: Storage-option keys whose values are secrets (matched as substrings of the lower-cased key).
SECRET_WORDS: Final = (
    "secret",
    "token",
    "password",
    "passwd",
    "credential",
    "key",
    "sas",
    "connection_string",
    "auth",
    "signature",
)


@dataclass(frozen=True)
class EnvReference:
    """One ``${NAME}`` or ``${NAME:-default}`` in a string."""

    name: str
    default: str | None = None


def references(text: str) -> list[EnvReference]:
    """Every reference in ``text``; a malformed one (``${``, ``${1X}``, ``${A-B}``) is a ValueError."""
    refs = []
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if token == "$$":
            continue
        if match.group(1) is None:
            raise ValueError(f"unterminated '${{' in {text!r}; write '$$' for a literal '$'")
        body = match.group(1)
        name, sep, default = body.partition(":-")
        if not _NAME.fullmatch(name):
            raise ValueError(
                f"invalid environment reference '${{{body}}}' in {text!r}: use ${{NAME}} or ${{NAME:-default}} "
                "with NAME made of letters, digits and underscores"
            )
        refs.append(EnvReference(name, default if sep else None))
    return refs


def has_references(text: str) -> bool:
    """True when ``text`` contains ``${``."""
    return "${" in text


def expand(text: str, env: Mapping[str, str] | None = None) -> str:
    """Replace every reference by its value (``os.environ`` by default); UndefinedVariableError if unset."""
    env = os.environ if env is None else env
    references(text)  # syntax first

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, sep, default = match.group(1).partition(":-")
        if name in env:
            return env[name]
        if sep:
            return default
        raise UndefinedVariableError(
            f"environment variable {name!r} is not set (write ${{{name}:-default}} for a fallback)"
        )

    return _TOKEN.sub(replace, text)


def check_tree(value: Any, path: tuple[PathPart, ...] = ()) -> list[tuple[tuple[PathPart, ...], str]]:
    """Syntax errors of the references in every string of a nested value, as ``(path, message)`` pairs."""
    problems: list[tuple[tuple[PathPart, ...], str]] = []
    for where, text in _strings(value, path):
        try:
            references(text)
        except ValueError as exc:
            problems.append((where, str(exc)))
    return problems


def undefined(
    value: Any, env: Mapping[str, str] | None = None, path: tuple[PathPart, ...] = ()
) -> list[tuple[tuple[PathPart, ...], str]]:
    """``(path, variable)`` for every reference without a value or default in a nested value."""
    env = os.environ if env is None else env
    missing: list[tuple[tuple[PathPart, ...], str]] = []
    for where, text in _strings(value, path):
        try:
            refs = references(text)
        except ValueError:
            continue
        missing.extend((where, ref.name) for ref in refs if ref.default is None and ref.name not in env)
    return missing


def expand_tree(
    value: Any,
    env: Mapping[str, str] | None = None,
    path: tuple[PathPart, ...] = (),
    source_map: SourceMap | None = None,
) -> Any:
    """A copy of a nested value with every string expanded; all undefined variables are reported at once,
    each with its path (and file and line when ``source_map`` is given)."""
    env = os.environ if env is None else env
    missing = undefined(value, env, path)
    if missing:
        source_map = source_map or SourceMap()
        raise_issues([undefined_issue(source_map, where, name) for where, name in missing])
    return _map_strings(value, lambda text: expand(text, env))


def undefined_issue(source_map: SourceMap, path: Sequence[PathPart], name: str) -> SpecIssue:
    return source_map.issue(
        path, f"environment variable {name!r} is not set (set it, or write ${{{name}:-default}} for a fallback)"
    )


def is_secret_key(key: str) -> bool:
    """True for storage-option keys that hold secrets (``secret``, ``token``, ``account_key``, ...)."""
    lowered = key.lower()
    return any(word in lowered for word in SECRET_WORDS)


def redacted(value: Any, *, all_values: bool = False) -> Any:
    """A copy with secrets replaced by ``***``: values under secret-looking keys, or every value if
    ``all_values`` (credentials). Environment references count as secrets too: their defaults may be."""

    def walk(item: Any, secret: bool) -> Any:
        if isinstance(item, Mapping):
            return {k: walk(v, secret or is_secret_key(str(k))) for k, v in item.items()}
        if isinstance(item, list | tuple):
            return [walk(v, secret) for v in item]
        if secret and item is not None and not isinstance(item, bool):
            return REDACTED
        return item

    return walk(value, all_values)


def _strings(value: Any, path: tuple[PathPart, ...]) -> list[tuple[tuple[PathPart, ...], str]]:
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, Mapping):
        return [s for k, v in value.items() for s in _strings(v, (*path, k))]
    if isinstance(value, list | tuple):
        return [s for i, v in enumerate(value) for s in _strings(v, (*path, i))]
    return []


def _map_strings(value: Any, func: Any) -> Any:
    if isinstance(value, str):
        return func(value)
    if isinstance(value, Mapping):
        return {k: _map_strings(v, func) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_map_strings(v, func) for v in value]
    return value


def no_references(value: str, what: str) -> str:
    """Refuse ``${...}`` outside credentials and storage options (a field validator helper)."""
    if has_references(value):
        raise ValueError(
            f"environment references are only expanded in credentials and storage_options, not in {what} ({value!r})"
        )
    return value


__all__ = [
    "REDACTED",
    "EnvReference",
    "check_tree",
    "expand",
    "expand_tree",
    "has_references",
    "is_secret_key",
    "no_references",
    "redacted",
    "references",
    "undefined",
]
