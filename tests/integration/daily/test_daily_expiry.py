"""The report flags what expires before the next report, on moto, with seeded messages.

A DLQ keeps messages 1 day (MessageRetentionPeriod 86,400 s); the report is scheduled at the
instant ``t`` between two batches, so the next one is ``t + 1 day`` and the messages that expire
before it are exactly those sent before ``t``. Standard: messages dead-lettered from the source
keep their original SentTimestamp (so time in the source counts); FIFO: sent into the DLQ, whose
SentTimestamp is the entry time, as a FIFO DLQ shows it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infra.local.scene import create_pair, put_in_dlq
from tests.integration.daily.daily_support import Daily, blocks_text, button_values

RETENTION_S = 86_400


def _instant_between(before: Any, after: Any) -> datetime:
    """Run ``before``, pick a whole second after it, wait past it, run ``after``: everything
    ``before`` sent has a SentTimestamp before the instant, everything ``after`` sent one after."""
    before()
    instant = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    time.sleep(max(0.0, (instant - datetime.now(UTC)).total_seconds()) + 0.05)
    after()
    return instant


@pytest.mark.parametrize("name", ["orders", "orders.fifo"])
def test_the_report_counts_exactly_what_expires_before_the_next_one(
    daily: Daily, sqs: Any, name: str
) -> None:
    # Given a DLQ keeping messages one day, 3 messages sent before t and 2 after
    pair = create_pair(sqs, name)
    sqs.set_queue_attributes(
        QueueUrl=pair.dlq_url, Attributes={"MessageRetentionPeriod": str(RETENTION_S)}
    )

    def put(bodies: list[str]) -> None:
        # One FIFO group each: a scan receives one message of a group at a time (the others
        # wait behind it), so with one group it could not see the whole DLQ
        for body in bodies:
            put_in_dlq(sqs, pair, [body], group_id=body)

    t = _instant_between(lambda: put(["old-1", "old-2", "old-3"]), lambda: put(["new-1", "new-2"]))
    oldest = min(
        int(m["Attributes"]["SentTimestamp"])
        for m in sqs.receive_message(
            QueueUrl=pair.dlq_url,
            MaxNumberOfMessages=10,
            AttributeNames=["All"],
            VisibilityTimeout=0,
        )["Messages"]
    )
    # When the report scheduled at t runs (in UTC: the next is at t + 1 day)
    daily.run(t.isoformat().replace("+00:00", "Z"))
    report = daily.reports()[-1].body
    text = blocks_text(report["blocks"])
    # Then it flags exactly the 3 sent before t, and the oldest's expiry is its sent time + 1 day
    sent = datetime.fromtimestamp(oldest / 1000, UTC)
    expires = sent + timedelta(seconds=RETENTION_S)
    assert (
        f":hourglass: *3* expire before the next report ({(t + timedelta(days=1)):%a} "
        f"{(t + timedelta(days=1)).day} {(t + timedelta(days=1)):%b %H:%M}): oldest sent "
        f"{sent:%Y-%m-%d %H:%M} +00:00, expires {expires:%Y-%m-%d %H:%M} +00:00"
    ) in text
    # And its buttons select by sent time: before t
    until = t.isoformat()
    assert ("dlq_redrive.report_expiring_redrive", {"queue": pair.dlq_name, "until": until}) in (
        button_values(report["blocks"])
    )
    assert ("dlq_redrive.report_expiring_export", {"queue": pair.dlq_name, "until": until}) in (
        button_values(report["blocks"])
    )


def test_a_sample_of_part_of_the_dlq_says_at_least(daily: Daily, sqs: Any) -> None:
    # Given 12 messages sent before t and a report that samples at most 10
    pair = create_pair(sqs, "orders")
    sqs.set_queue_attributes(
        QueueUrl=pair.dlq_url, Attributes={"MessageRetentionPeriod": str(RETENTION_S)}
    )
    t = _instant_between(
        lambda: put_in_dlq(sqs, pair, [f"old-{n}" for n in range(12)]), lambda: None
    )
    daily.configure(REPORT_SAMPLE_SIZE="10")
    daily.run(t.isoformat().replace("+00:00", "Z"))
    text = blocks_text(daily.reports()[-1].body["blocks"])
    # Then the count is a bound that says what it was found in
    assert ":hourglass: *≥ 10* expire before the next report" in text
    assert "found in a sample of 10 of ≈ 12" in text
    assert "(an unseen one may expire sooner)" in text
