"""A message body and its edit, with no I/O: whether a body is JSON (as RFC 8259 means it, not
as Python's json module reads it), its sha256, and the diff of an edit. Shared by the CLI's
``edit`` and Slack's Edit & resend, so both judge and show an edit the same way.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any


def body_sha256(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


class NotJsonError(ValueError):
    """Text Python's json module reads but JSON (RFC 8259) does not mean: consumers in other
    languages would refuse it, or read it otherwise than the card's diff shows it."""


def _no_constant(name: str) -> Any:
    # Python reads NaN, Infinity and -Infinity; RFC 8259 has no such values, and JSON.parse,
    # Go's encoding/json and Jackson (by default) refuse them.
    raise NotJsonError(f"{name} is not a JSON value")


def _unique_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # The diff shows the parsed object, where the last of two same names wins: the first,
    # which some parsers keep, would be sent without being shown (RFC 8259: names "SHOULD be
    # unique"; RFC 7493, I-JSON: "MUST NOT have duplicate names").
    parsed = dict(pairs)
    if len(parsed) != len(pairs):
        raise NotJsonError("a name appears twice in one object")
    return parsed


def parse_json(body: str, parse_float: Callable[[str], Any] | None = None) -> Any:
    """``body`` parsed as JSON; ValueError when it is not JSON (``NotJsonError`` when it is
    JSON only to Python: NaN, Infinity, a name twice in one object), also when it nests deeper
    than the parser can go (3,000 ``[`` would raise RecursionError)."""
    try:
        return json.loads(
            body,
            parse_float=parse_float,
            parse_constant=_no_constant,
            object_pairs_hook=_unique_names,
        )
    except RecursionError as exc:
        raise ValueError("nested too deeply") from exc


def is_json(body: str) -> bool:
    try:
        parse_json(body)
    except ValueError:
        return False
    return True


def pretty_lines(body: str) -> list[str] | None:
    """``body`` pretty-printed, when that shows every value as a consumer reads it; None when
    it is not JSON (or nests too deeply), or when a number has more digits than a double keeps:
    json would print the double, which is neither literal, so a change of those digits (read
    by a consumer that parses decimals, as payment code does) would not show."""
    from decimal import Decimal  # the worker's only, as difflib

    lossy = False

    def number(text: str) -> float:
        nonlocal lossy
        value = float(text)
        lossy = lossy or Decimal(text) != Decimal(repr(value))
        return value

    try:
        parsed = parse_json(body, parse_float=number)
    except ValueError:
        return None
    return None if lossy else json.dumps(parsed, indent=2, ensure_ascii=False).split("\n")


def edit_diff(old: str, new: str, *, was_json: bool) -> str:
    """The change as a unified diff: of the pretty-printed JSON when the bodies are JSON and
    that shows them exactly (so a one-line body shows the field that changed), else of the
    text's lines."""
    import difflib  # the worker's only: 2 ms the endpoint's cold start need not pay

    before, after = (pretty_lines(old), pretty_lines(new)) if was_json else (None, None)
    if before is None or after is None or before == after:
        # A change of spacing or escapes alone is a change of the bytes sent: shown as written,
        # cut at "\n" only (splitlines also cuts at "\r", U+2028, ..., whose changes it hides).
        before, after = old.split("\n"), new.split("\n")
    return "\n".join(difflib.unified_diff(before, after, "before", "after", lineterm=""))
