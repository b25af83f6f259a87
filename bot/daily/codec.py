"""The daily report's frozen records as JSON and back: pure, no I/O.

A continuation runs in another invocation: it gets the auto-redrive's results in its event, and
the last one re-renders the report from the stored ``DailyReport`` to update the posted message.
Both go through ``to_json`` / ``from_json``, driven by the dataclasses' type hints, so a field
added to a record travels without a second list of fields to keep in step.

Supported field types: ``str``, ``int``, ``float``, ``bool``, ``None``, ``date``, ``datetime``
(ISO 8601), ``X | None``, ``tuple[X, ...]``, ``tuple[X, Y]``, ``dict[str, X]`` and nested frozen
dataclasses. Anything else raises ``TypeError`` (a test encodes a full report).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date, datetime
from typing import Any, TypeVar

T = TypeVar("T")


def to_json(value: Any) -> Any:
    """``value`` (a dataclass instance, or anything inside one) as JSON-ready data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot encode {type(value).__name__}")


def from_json(kind: type[T], data: Any) -> T:
    """A ``kind`` dataclass from what ``to_json`` made of one. Fields missing from ``data`` (an
    older event) take their defaults; unknown keys are ignored. ValueError or TypeError on data
    of the wrong shape."""
    value: T = _decode(kind, data)
    return value


def _decode(hint: Any, data: Any) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if data is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _decode(inner, data)
    if origin is tuple:
        if not isinstance(data, list):
            raise TypeError(f"expected a list, got {type(data).__name__}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], item) for item in data)
        return tuple(_decode(a, item) for a, item in zip(args, data, strict=True))
    if origin is dict:
        if not isinstance(data, dict):
            raise TypeError(f"expected an object, got {type(data).__name__}")
        return {str(key): _decode(args[1], item) for key, item in data.items()}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if not isinstance(data, dict):
            raise TypeError(f"expected an object for {hint.__name__}, got {type(data).__name__}")
        hints = typing.get_type_hints(hint)
        known = {
            f.name: _decode(hints[f.name], data[f.name])
            for f in dataclasses.fields(hint)
            if f.init and f.name in data
        }
        return hint(**known)
    if hint is datetime:
        return datetime.fromisoformat(str(data))
    if hint is date:
        return date.fromisoformat(str(data))
    if hint is bool:
        if not isinstance(data, bool):
            raise TypeError(f"expected true or false, got {data!r}")
        return data
    if hint in (int, float, str):
        if isinstance(data, bool) or not isinstance(data, int | float | str):
            raise TypeError(f"expected a {hint.__name__}, got {data!r}")
        return hint(data)
    raise TypeError(f"cannot decode into {hint!r}")
