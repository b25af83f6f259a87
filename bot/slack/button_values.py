"""The values of the buttons the app renders, read back from a click (pure, standard library
only: the endpoint checks them on the ack path).

A button's value comes back from the client, so it is untrusted: anyone in the channel can send
a click with any value. Each action id has the keys it may carry (some required); anything else,
a value too long for a button, or a key of the wrong form is refused with a clear answer before
any work is handed over. What the values mean is decided again by the worker from the DLQ
itself (a digest that matches nothing selects nothing; a queue not watched is refused).
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import NamedTuple

from bot.errors import UsageError
from bot.slack.ids import ActionId

MAX_VALUE_CHARS = 2_000  # Block Kit's limit for a button value: a longer one is no click of ours
# SQS queue names: 1-80 of letters, digits, - and _, with .fifo for FIFO queues.
QUEUE_NAME = re.compile(r"^(?=.{1,80}$)[A-Za-z0-9_-]+(\.fifo)?$")
# A dotted path into a JSON body (AUTO_REDRIVE_TIME_FIELD): parts not empty, no outer spaces.
TIME_FIELD = re.compile(r"(?=.{1,200}$)[^.\s](?:[^.]*[^.\s])?(?:\.[^.\s](?:[^.]*[^.\s])?)*")
# An error group's label digest (bot.error_groups.label_digest): "#" and 12 lowercase hex.
ERROR_DIGEST = re.compile(r"#[0-9a-f]{12}")
# SQS documents no form for message ids (they are UUIDs in practice): printable ASCII without
# spaces, at most 128 characters, which every id SQS hands out fits.
MESSAGE_ID = re.compile(r"[\x21-\x7e]{1,128}")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")

NOT_VALID = "this button's value is not valid; nothing was changed"


class ButtonValue(NamedTuple):
    """What a button's value says, checked for form (not for meaning). A NamedTuple: the
    endpoint defines it at cold start, where a dataclass costs a few times more to create."""

    queue: str
    date: str | None = None
    time_field: str | None = None
    error: str | None = None  # an error group's label digest
    until: str | None = None  # ISO 8601 with an offset
    message_id: str | None = None


_DAY_KEYS = frozenset({"date", "time_field"})
# Per action id: the keys its value must carry, and those it may carry besides.
_KEYS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    ActionId.REPORT_REDRIVE: (frozenset({"queue"}), _DAY_KEYS),
    ActionId.REPORT_PEEK: (frozenset({"queue"}), _DAY_KEYS),
    ActionId.REPORT_ERROR_REDRIVE: (frozenset({"queue", "error"}), _DAY_KEYS),
    ActionId.REPORT_ERROR_DISCARD: (frozenset({"queue", "error"}), _DAY_KEYS),
    ActionId.REPORT_EXPIRING_REDRIVE: (frozenset({"queue", "until"}), frozenset()),
    ActionId.REPORT_EXPIRING_EXPORT: (frozenset({"queue", "until"}), frozenset()),
    ActionId.PEEK_DISCARD: (frozenset({"queue", "message_id"}), frozenset()),
    ActionId.PEEK_EDIT: (frozenset({"queue", "message_id"}), frozenset()),
    ActionId.HOME_PEEK: (frozenset({"queue"}), frozenset()),
    ActionId.HOME_REDRIVE: (frozenset({"queue"}), frozenset()),
    ActionId.HOME_EXPORT: (frozenset({"queue"}), frozenset()),
}


def parse_button_value(action_id: str, raw: str) -> ButtonValue:
    """The value of a click on button ``action_id``, checked; UsageError saying what is wrong
    (nothing was changed) otherwise."""
    keys = _KEYS.get(action_id)
    if keys is None or len(raw) > MAX_VALUE_CHARS:
        raise UsageError(NOT_VALID)
    required, optional = keys
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise UsageError(NOT_VALID) from exc
    if not isinstance(value, dict) or not required <= set(value) <= required | optional:
        raise UsageError(NOT_VALID)
    queue = _checked(value, "queue", QUEUE_NAME, "names no valid queue")
    parsed = ButtonValue(
        queue=queue or "",
        date=_day(value.get("date")),
        time_field=_checked(value, "time_field", TIME_FIELD, "carries an invalid time field"),
        error=_checked(value, "error", ERROR_DIGEST, "carries an invalid error group"),
        until=_instant(value.get("until")),
        message_id=_checked(value, "message_id", MESSAGE_ID, "carries an invalid message id"),
    )
    if any(getattr(parsed, name) is None for name in required) or queue is None:
        raise UsageError(NOT_VALID)  # a required key given as null
    return parsed


def parse_report_value(raw: str) -> tuple[str, str | None, str | None]:
    """A daily-report Redrive/Peek button's value ``{"queue", "date"?, "time_field"?}`` as
    ``(queue, date, time_field)``. The time field is the report's AUTO_REDRIVE_TIME_FIELD: the
    button selects the day by the same time the report counted."""
    value = parse_button_value(ActionId.REPORT_REDRIVE, raw)
    return value.queue, value.date, value.time_field


def _checked(
    value: dict[str, object], name: str, form: re.Pattern[str], problem: str
) -> str | None:
    """``value[name]`` when it has ``form``; None when absent or null (a required key's absence
    is refused by the caller)."""
    text = value.get(name)
    if text is None:
        return None
    if not isinstance(text, str) or not form.fullmatch(text):
        raise UsageError(f"this button {problem}; nothing was changed")
    return text


def _day(day: object) -> str | None:
    if day is None:
        return None
    if isinstance(day, str) and _DAY.fullmatch(day):
        try:
            date.fromisoformat(day)
            return day
        except ValueError:
            pass
    raise UsageError("this button carries an invalid date; nothing was changed")


def _instant(until: object) -> str | None:
    if until is None:
        return None
    if isinstance(until, str) and len(until) <= 40:
        try:
            instant = datetime.fromisoformat(until)
        except ValueError:
            instant = None
        if instant is not None and instant.tzinfo is not None:
            return until
    raise UsageError(
        "this button carries an invalid time (ISO 8601 with an offset); nothing was changed"
    )
