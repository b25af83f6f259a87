"""The daily job keeps each DLQ's last scan facts for the App Home (bot.daily.scan_facts), on moto
through the real handler: the figures its report shows (oldest, next expiry, top error groups,
how much it read), equal to what was seeded."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.daily.scan_facts import ScanFactsStore
from bot.slack.home_model import ErrorGroupFact
from bot.state_table import StateTable
from infra.local.scene import create_pair
from tests.integration.daily.daily_support import STATE_TABLE, Daily

RUN = "2026-03-11T06:00:00Z"
RETENTION_S = 86_400


def _error(value: str) -> dict[str, Any]:
    return {"error": {"DataType": "String", "StringValue": value}}


def _sent_timestamps(sqs: Any, url: str, expected: int) -> list[datetime]:
    """The SentTimestamp of every message of ``url`` (received by the test, after the run)."""
    seen: dict[str, datetime] = {}
    for _ in range(20):
        got = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["SentTimestamp"]
        ).get("Messages", [])
        for message in got:
            millis = int(message["Attributes"]["SentTimestamp"])
            seen[message["MessageId"]] = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(
                milliseconds=millis
            )
        if len(seen) == expected:
            break
    assert len(seen) == expected
    return sorted(seen.values())


def test_the_job_keeps_what_its_scan_found_as_the_report_shows_it(daily: Daily, sqs: Any) -> None:
    # Given orders-dlq keeping messages a day: 2 timeouts and 1 declined (by ERROR_ATTRIBUTE);
    # and payments-dlq with 15 messages of one body shape, more than the sample of 10
    orders = create_pair(sqs, "orders")
    sqs.set_queue_attributes(
        QueueUrl=orders.dlq_url, Attributes={"MessageRetentionPeriod": str(RETENTION_S)}
    )
    for error in ("Timeout", "Declined", "Timeout"):
        sqs.send_message(QueueUrl=orders.dlq_url, MessageBody="{}", MessageAttributes=_error(error))
    payments = create_pair(sqs, "payments")
    for n in range(15):
        sqs.send_message(QueueUrl=payments.dlq_url, MessageBody=json.dumps({"k": n}))
    daily.configure(ERROR_ATTRIBUTE="error", REPORT_SAMPLE_SIZE="10")
    before = datetime.now(UTC)

    # When the 06:00 job runs
    daily.run(RUN)
    after = datetime.now(UTC)

    # Then each DLQ's facts are stored, as of the report's scan
    facts = ScanFactsStore(StateTable(STATE_TABLE)).get_many(["orders-dlq", "payments-dlq"])
    kept = facts["orders-dlq"]
    assert before <= kept.scanned_at <= after
    # orders-dlq read whole: exactly its 3 messages, its oldest, when that one expires, the groups
    sent = _sent_timestamps(sqs, orders.dlq_url, 3)
    assert (kept.messages, kept.complete) == (3, True)
    assert kept.oldest_sent == sent[0]
    assert kept.next_expiry == sent[0] + timedelta(seconds=RETENTION_S)
    assert kept.top_errors == (ErrorGroupFact("Timeout", 2), ErrorGroupFact("Declined", 1))
    # payments-dlq read in part: 10 of 15, lower bounds
    partial = facts["payments-dlq"]
    assert (partial.messages, partial.complete) == (10, False)
    assert partial.top_errors == (ErrorGroupFact("json {k:num}", 10),)
    # And the report showed the same groups
    text = daily.report_text()
    assert "`Timeout` ×2" in text and "`Declined` ×1" in text and "`json {k:num}` ×10" in text
