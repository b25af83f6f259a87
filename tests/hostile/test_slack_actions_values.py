"""Hostile values of the issue 12 buttons (peek Discard, the report's error-group and expiry
buttons), as the endpoint reads them back from a click: anything but the form each button
carries is refused before any work is handed over."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.errors import UsageError
from bot.slack.button_values import MAX_VALUE_CHARS, ButtonValue, parse_button_value
from bot.slack.ids import ActionId

UNTIL = "2026-12-02T03:00:00+09:00"


@pytest.mark.parametrize(
    ("action", "value", "expected"),
    [
        (
            ActionId.PEEK_DISCARD,
            {"queue": "orders-dlq", "message_id": "5fea7756-0ea4-451a-a703-a558b933e274"},
            ButtonValue("orders-dlq", message_id="5fea7756-0ea4-451a-a703-a558b933e274"),
        ),
        (
            ActionId.REPORT_ERROR_DISCARD,
            {"queue": "orders-dlq", "error": "#0123456789ab", "date": "2026-12-01"},
            ButtonValue("orders-dlq", date="2026-12-01", error="#0123456789ab"),
        ),
        (
            ActionId.REPORT_ERROR_REDRIVE,
            {"queue": "orders-dlq.fifo", "error": "#0123456789ab"},
            ButtonValue("orders-dlq.fifo", error="#0123456789ab"),
        ),
        (
            ActionId.REPORT_EXPIRING_EXPORT,
            {"queue": "orders-dlq", "until": UNTIL},
            ButtonValue("orders-dlq", until=UNTIL),
        ),
    ],
)
def test_each_buttons_value_is_read(
    action: ActionId, value: dict[str, str], expected: ButtonValue
) -> None:
    assert parse_button_value(action, json.dumps(value)) == expected


@pytest.mark.parametrize(
    ("action", "value", "complaint"),
    [
        # a key of another button, or one missing
        (
            ActionId.PEEK_DISCARD,
            {"queue": "q", "message_id": "m", "error": "#0123456789ab"},
            "not valid",
        ),
        (ActionId.PEEK_DISCARD, {"queue": "q"}, "not valid"),
        (ActionId.PEEK_DISCARD, {"queue": "q", "message_id": None}, "not valid"),
        (ActionId.REPORT_ERROR_DISCARD, {"queue": "q", "until": UNTIL}, "not valid"),
        (ActionId.REPORT_EXPIRING_REDRIVE, {"queue": "q", "until": UNTIL, "limit": 9}, "not valid"),
        # forms: a label instead of its digest, upper-case hex, a mention in an id, no offset
        (ActionId.REPORT_ERROR_REDRIVE, {"queue": "q", "error": "TimeoutError"}, "error group"),
        (ActionId.REPORT_ERROR_REDRIVE, {"queue": "q", "error": "#0123456789AB"}, "error group"),
        (ActionId.REPORT_ERROR_REDRIVE, {"queue": "q", "error": ["#0123456789ab"]}, "error group"),
        (ActionId.PEEK_DISCARD, {"queue": "q", "message_id": "<!channel> x"}, "message id"),
        (ActionId.PEEK_DISCARD, {"queue": "q", "message_id": "m" * 129}, "message id"),
        (ActionId.PEEK_DISCARD, {"queue": "../etc", "message_id": "m"}, "no valid queue"),
        (ActionId.REPORT_EXPIRING_EXPORT, {"queue": "q", "until": "2026-12-02T03:00"}, "time"),
        (ActionId.REPORT_EXPIRING_EXPORT, {"queue": "q", "until": "tomorrow"}, "time"),
        (ActionId.REPORT_EXPIRING_EXPORT, {"queue": "q", "until": 1764640800}, "time"),
    ],
)
def test_a_forged_value_is_refused_saying_why(
    action: ActionId, value: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(UsageError, match=complaint):
        parse_button_value(action, json.dumps(value))


def test_a_value_longer_than_any_button_carries_is_refused() -> None:
    # Slack's buttons carry at most 2,000 characters: a longer value is no click of ours
    value = json.dumps({"queue": "q", "message_id": "m"}) + " " * MAX_VALUE_CHARS
    with pytest.raises(UsageError, match="not valid"):
        parse_button_value(ActionId.PEEK_DISCARD, value)


def test_a_button_the_app_never_renders_has_no_value_to_read() -> None:
    with pytest.raises(UsageError, match="not valid"):
        parse_button_value("dlq_redrive.approve", json.dumps({"queue": "q"}))
