"""The daily report's button value, as the Slack app reads it back from a click (untrusted)."""

from __future__ import annotations

import json

import pytest

from bot.errors import UsageError
from bot.slack.button_values import parse_report_value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"queue": "orders-dlq", "date": "2026-03-10"}, ("orders-dlq", "2026-03-10", None)),
        (
            {"queue": "orders-dlq", "date": "2026-03-10", "time_field": "meta.occurred at"},
            ("orders-dlq", "2026-03-10", "meta.occurred at"),
        ),
        # SQS allows 80 characters, ".fifo" included
        ({"queue": "q" * 80}, ("q" * 80, None, None)),
        ({"queue": "q" * 75 + ".fifo"}, ("q" * 75 + ".fifo", None, None)),
    ],
)
def test_a_report_button_value_is_read(value: dict[str, str], expected: tuple[str, ...]) -> None:
    assert parse_report_value(json.dumps(value)) == expected


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ({"queue": "q" * 81}, "no valid queue"),
        ({"queue": "q" * 76 + ".fifo"}, "no valid queue"),
        ({"queue": "orders-dlq", "time_field": "a..b"}, "invalid time field"),
        ({"queue": "orders-dlq", "time_field": " at"}, "invalid time field"),
        ({"queue": "orders-dlq", "time_field": ""}, "invalid time field"),
        ({"queue": "orders-dlq", "time_field": 7}, "invalid time field"),
        ({"queue": "orders-dlq", "time_field": "x" * 201}, "invalid time field"),
        ({"queue": "orders-dlq", "limit": 5}, "not valid"),
    ],
)
def test_a_malformed_report_button_value_is_refused(
    value: dict[str, object], complaint: str
) -> None:
    with pytest.raises(UsageError, match=complaint):
        parse_report_value(json.dumps(value))
