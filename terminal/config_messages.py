"""Turn pydantic validation errors into one line per problem an operator can act on.

A technician at the kiosk (or ``printkiosk doctor``) reads these lines, so each names the
file, the dotted key, the value found and what is allowed, e.g.
``kiosk.toml: printer.snmp.port: 'abc' is not an integer between 1 and 65535``.
Validators in :mod:`terminal.config` raise ``ValueError`` with the "what is allowed" part
already phrased; the built-in pydantic error types are phrased here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

_MISSING = object()


def _describe_builtin(error: Mapping[str, Any], allowed_keys: Sequence[str]) -> str:
    kind = str(error.get("type", ""))
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    if kind == "missing":
        return "is required but missing"
    if kind == "extra_forbidden":
        allowed = ", ".join(allowed_keys) if allowed_keys else "none"
        return f"is not a known key (allowed here: {allowed})"
    if kind == "literal_error":
        return f"is not one of {ctx.get('expected', '')}"
    if kind in {"string_type", "str_type"}:
        return "is not a text string"
    if kind in {"bool_type", "bool_parsing"}:
        return "is not true or false"
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return "is not an integer"
    if kind in {"float_type", "float_parsing"}:
        return "is not a number"
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return "is not a table"
    if kind in {"list_type"}:
        return "is not a list"
    if kind == "value_error":
        message = str(error.get("msg", ""))
        return message.removeprefix("Value error, ")
    return str(error.get("msg", "is not valid"))


def format_errors(
    file_label: str,
    errors: Sequence[Mapping[str, Any]],
    data: Mapping[str, Any],
    allowed_keys_at: Mapping[tuple[str, ...], Sequence[str]],
) -> list[str]:
    """One message per pydantic error: ``file: dotted.key: 'value' <what is allowed>``."""
    lines: list[str] = []
    for error in errors:
        loc = tuple(str(part) for part in error.get("loc", ()))
        key = ".".join(loc) if loc else "(top level)"
        value = _lookup(data, loc)
        parent_allowed = allowed_keys_at.get(loc[:-1], ())
        description = _describe_builtin(error, parent_allowed)
        if value is _MISSING or error.get("type") == "missing":
            lines.append(f"{file_label}: {key}: {description}")
        else:
            lines.append(f"{file_label}: {key}: {value!r} {description}")
    return lines


def _lookup(data: Mapping[str, Any], loc: tuple[str, ...]) -> object:
    node: object = data
    for part in loc:
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node
