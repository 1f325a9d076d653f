"""Writing TOML (the standard library only reads it): enough for chainrule's config files.

Supports what a config holds: tables of tables, strings, booleans, integers, floats, lists of
those, and lists of tables (written as arrays of inline tables, as the architecture is).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any


def dumps(document: Mapping[str, Any]) -> str:
    """``document`` as TOML text; ``tomllib.loads(dumps(d)) == d`` for supported values."""
    lines: list[str] = []
    _table(document, [], lines)
    return "\n".join(lines).strip() + "\n"


def inline(value: Any) -> str:
    """One value as TOML source text (a table as an inline table), e.g. for messages."""
    return _value(value)


def _table(table: Mapping[str, Any], path: list[str], lines: list[str]) -> None:
    scalars = {k: v for k, v in table.items() if not isinstance(v, Mapping)}
    tables = {k: v for k, v in table.items() if isinstance(v, Mapping)}
    if path and (scalars or not tables):
        lines.append(f"[{'.'.join(_key(p) for p in path)}]")
    for key, value in scalars.items():
        lines.append(f"{_key(key)} = {_value(value)}")
    if scalars or (path and not tables):
        lines.append("")
    for key, value in tables.items():
        _table(value, [*path, key], lines)


def _key(key: str) -> str:
    bare = key.replace("_", "").replace("-", "").isalnum() and key.isascii()
    return key if bare else json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        # A JSON string is a TOML basic string, except that TOML forbids a raw DEL (U+007F),
        # which JSON leaves unescaped.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} value {value!r} to TOML")
