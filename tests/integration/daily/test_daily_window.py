"""The auto-redrive takes what is new since the previous run (issue 10, item 15).

A standard DLQ keeps a message's original SentTimestamp: a message sent at 23:30 that dead-letters
after the next 06:00 run has a time inside the window that run already went through. The next
run takes that day again, so the straddler is moved back one morning later, and the report says
exactly which days it took. The scheduled event's time is the clock here: "yesterday" comes from it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot.slack.web_api import SlackError
from infra.local.scene import count, create_pair, drain
from tests.integration.daily.daily_support import Daily


def _six_am(day: date) -> str:
    return datetime(day.year, day.month, day.day, 6, tzinfo=UTC).isoformat()


def test_a_message_that_dead_letters_after_the_run_is_taken_the_next_morning(
    daily: Daily, sqs: Any
) -> None:
    # Given a message sent to its source queue today (its SentTimestamp), not dead-lettered yet
    orders = create_pair(sqs, "orders", max_receive_count=1)
    sqs.send_message(QueueUrl=orders.source_url, MessageBody="straddler")
    [received] = sqs.receive_message(
        QueueUrl=orders.source_url, VisibilityTimeout=0, AttributeNames=["SentTimestamp"]
    )["Messages"]
    sent_day = datetime.fromtimestamp(int(received["Attributes"]["SentTimestamp"]) / 1000, UTC)
    day = sent_day.date()
    daily.configure(AUTO_REDRIVE="*")

    # When the next morning's run goes through that day while the message is still being retried
    first = daily.run(_six_am(day + timedelta(days=1)))
    # And the message dead-letters after that run (its consumer failed once more)
    while count(sqs, orders.source_url):
        sqs.receive_message(QueueUrl=orders.source_url, VisibilityTimeout=0)
    assert count(sqs, orders.dlq_url) == 1
    # And the morning after, the run's first post is refused, and Lambda retries the run
    daily.slack.state.refuse("chat.postMessage", "internal_error")
    with pytest.raises(SlackError):
        daily.run(_six_am(day + timedelta(days=2)))
    second = daily.run(_six_am(day + timedelta(days=2)))

    # Then the first run had nothing to move, and the second moved the straddler back
    assert first["moved"] == 0
    assert second["moved"] == 1
    assert [m["Body"] for m in drain(sqs, orders.source_url)] == ["straddler"]
    assert count(sqs, orders.dlq_url) == 0
    # And the report says exactly what it took: both days (the retry took the same window)
    took = f"{day.isoformat()} to {(day + timedelta(days=1)).isoformat()}"
    assert f"Auto-redrive of {took}: moved 1 back" in daily.report_text()
