"""${VAR} / ${VAR:-default} expansion and redaction of secrets."""

from __future__ import annotations

import pytest

from mdio_catalog.exceptions import SpecValidationError, UndefinedVariableError
from mdio_catalog.specs.env import (
    REDACTED,
    EnvReference,
    check_tree,
    expand,
    expand_tree,
    redacted,
    references,
    undefined,
)
from mdio_catalog.specs.errors import SourceMap

ENV = {"KEY": "k1", "EMPTY": "", "REGION": "eu"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${KEY}", "k1"),
        ("prefix-${KEY}-${REGION}", "prefix-k1-eu"),
        ("${MISSING:-fallback}", "fallback"),
        ("${MISSING:-}", ""),
        ("${EMPTY:-fallback}", ""),  # set but empty is set
        ("$${KEY}", "${KEY}"),
        ("cost $5", "cost $5"),
        ("no references", "no references"),
    ],
)
def test_expand(text, expected):
    assert expand(text, ENV) == expected


def test_undefined_variable_names_it():
    with pytest.raises(UndefinedVariableError, match="'NOPE' is not set") as info:
        expand("${NOPE}", ENV)
    assert isinstance(info.value, KeyError)
    assert str(info.value).startswith("environment variable 'NOPE'")


@pytest.mark.parametrize("text", ["${", "${1X}", "${A-B}", "x${}"])
def test_malformed_references_are_value_errors(text):
    with pytest.raises(ValueError, match=r"environment reference|unterminated"):
        references(text)


def test_references_and_defaults():
    assert references("${A}${B:-x}$$") == [EnvReference("A"), EnvReference("B", "x")]


def test_expand_tree_reports_every_undefined_variable_with_its_line():
    source_map = SourceMap(
        "c.yaml", {("credentials", "lake", "key"): (4, 10), ("credentials", "lake", "secret"): (5, 12)}
    )
    value = {"key": "${NO_KEY}", "secret": "${NO_SECRET}", "nested": ["${KEY}"]}
    with pytest.raises(SpecValidationError) as info:
        expand_tree(value, ENV, ("credentials", "lake"), source_map)
    text = str(info.value)
    assert "c.yaml:4:10: credentials.lake.key: environment variable 'NO_KEY' is not set" in text
    assert "c.yaml:5:12: credentials.lake.secret: environment variable 'NO_SECRET' is not set" in text
    assert expand_tree({"a": ["${KEY}", 3, True]}, ENV) == {"a": ["k1", 3, True]}
    assert undefined({"a": "${X}"}, {}) == [(("a",), "X")]


def test_check_tree_finds_bad_syntax():
    assert check_tree({"a": {"b": "${1}"}}, ("opts",))[0][0] == ("opts", "a", "b")


def test_redacted_hides_secret_keys_and_keeps_the_rest():
    options = {
        "key": "AKIA",
        "secret": "s",
        "token": None,
        "anon": False,
        "endpoint_url": "http://x",
        "client_kwargs": {"region_name": "eu", "aws_session_token": "t"},
    }
    out = redacted(options)
    assert out["key"] == out["secret"] == out["client_kwargs"]["aws_session_token"] == REDACTED
    assert out["token"] is None
    assert out["anon"] is False
    assert out["endpoint_url"] == "http://x"
    assert out["client_kwargs"]["region_name"] == "eu"
    assert redacted({"user": "me"}, all_values=True) == {"user": REDACTED}
    assert options["key"] == "AKIA"  # a copy
