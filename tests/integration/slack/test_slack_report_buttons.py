"""The daily report's Redrive button offers the selection the report counted (issue 10, item 18):
with AUTO_REDRIVE_TIME_FIELD the report judges "yesterday" by a body field, and so does the
approval card the button opens."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.slack.ids import ActionId
from infra.local.scene import count, create_pair, put_in_dlq
from tests.integration.slack.slack_harness import APPROVER, SlackHarness


def test_the_redrive_button_selects_by_the_reports_time_field(harness: SlackHarness) -> None:
    # Given yesterday's failures by their body's "at" field (sent to SQS today), and one of today
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    pair = create_pair(harness.sqs, "orders")
    bodies = [json.dumps({"at": f"{yesterday}T10:00:00Z", "n": n}) for n in range(3)]
    put_in_dlq(harness.sqs, pair, [*bodies, json.dumps({"at": datetime.now(UTC).isoformat()})])

    # When someone clicks the report's Redrive button, whose value carries the report's time field
    value = json.dumps({"queue": "orders-dlq", "date": yesterday, "time_field": "at"})
    harness.click(ActionId.REPORT_REDRIVE, value, user="U_X", message_ts="1.1")
    harness.settle()

    # Then the approval card selects yesterday by that field: the 3 messages the report counted
    card = harness.card()
    blocks = json.dumps(card.body["blocks"])
    assert f"*Selection*\\n`{yesterday} (UTC), by body field" in blocks
    assert "3 message(s) from orders-dlq" in card.body["text"]
    # And approving moves those 3, and leaves today's
    harness.click(
        ActionId.APPROVE, harness.request_id(), user=APPROVER, message_ts=harness.card_ts()
    )
    harness.settle()
    assert count(harness.sqs, pair.source_url) == 3
    assert count(harness.sqs, pair.dlq_url) == 1


def test_a_button_with_a_malformed_time_field_changes_nothing(harness: SlackHarness) -> None:
    # Given a DLQ with messages, and a button value someone forged with a bad time field
    pair = create_pair(harness.sqs, "orders")
    put_in_dlq(harness.sqs, pair, ["a", "b"])
    value = json.dumps({"queue": "orders-dlq", "date": "2026-03-10", "time_field": "a..b"})

    # When it is clicked
    harness.click(ActionId.REPORT_REDRIVE, value, user="U_X", message_ts="1.1")
    harness.settle()

    # Then the clicker is told, no card is posted, and nothing moved
    answer = harness.calls("response_url")[-1].body
    assert "time field" in json.dumps(answer)
    assert harness.calls("chat.postMessage") == []
    assert count(harness.sqs, pair.dlq_url) == 2
