"""The daily auto-redrive starts with a canary (DAILY_CANARY_SIZE, default 10), on moto.

The test plays the source queue's consumer in a thread: a broken one receives without deleting,
so SQS (the source's RedrivePolicy, maxReceiveCount 1) dead-letters each copy again, with its
attributes and the canary's lineage; a working one receives and deletes. The canary stops the
auto-redrive on the first (ten moved, not the day's thirty) and lets it proceed on the second.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from infra.local.scene import QueuePair, count, create_pair, put_in_dlq
from tests.integration.daily.daily_support import Daily

RUN = "2026-03-11T06:00:00Z"  # yesterday is 10 March (UTC)
DAY_BODIES = [json.dumps({"at": f"2026-03-10T08:{n:02d}:00Z", "n": n}) for n in range(30)]
TIMEOUT = {"error": {"DataType": "String", "StringValue": "Timeout calling <payments>"}}


@contextmanager
def consumer(
    sqs: Any, pair: QueuePair, *, working: bool, log: list[str] | None = None
) -> Iterator[list[int]]:
    """A consumer of the source queue until the block ends; yields [messages it received].
    ``log``: the source's name is appended for each message it receives (shared, in order)."""
    stop = threading.Event()
    received = [0]

    def run() -> None:
        while not stop.is_set():
            answer = sqs.receive_message(
                QueueUrl=pair.source_url,
                MaxNumberOfMessages=10,
                # A broken consumer gives each message straight back: its next receive makes
                # SQS dead-letter it (received more than maxReceiveCount times)
                VisibilityTimeout=30 if working else 0,
                WaitTimeSeconds=0,
            )
            messages = answer.get("Messages", [])
            received[0] += len(messages)
            if log is not None:
                log.extend([pair.source_name] * len(messages))  # list.extend: atomic under the GIL
            if working and messages:
                sqs.delete_message_batch(
                    QueueUrl=pair.source_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(messages)
                    ],
                )
            stop.wait(0.2)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield received
    finally:
        stop.set()
        thread.join(timeout=10)


@pytest.fixture
def orders(daily: Daily, sqs: Any) -> QueuePair:
    # Given 30 messages of yesterday in orders-dlq, each with the error "Timeout calling ..."
    pair = create_pair(sqs, "orders")
    # Its consumer's visibility timeout (x maxReceiveCount 1) is under the 10 s watched, so the
    # daily does not stretch its wait to the source's settings (bot.daily.canary_run)
    sqs.set_queue_attributes(QueueUrl=pair.source_url, Attributes={"VisibilityTimeout": "5"})
    put_in_dlq(sqs, pair, DAY_BODIES, attributes=TIMEOUT)
    daily.configure(
        AUTO_REDRIVE="orders-dlq",
        AUTO_REDRIVE_TIME_FIELD="at",
        ERROR_ATTRIBUTE="error",
        DAILY_CANARY_WAIT_S="10",
    )
    return pair


def test_the_canary_stops_the_auto_redrive_when_the_consumer_still_fails(
    daily: Daily, sqs: Any, orders: QueuePair
) -> None:
    # When the 06:00 run auto-redrives into a consumer that still fails everything
    with consumer(sqs, orders, working=False) as received:
        outcome = daily.run(RUN)
    # Then only the canary's ten moved; they came back, and the rest never left the DLQ
    assert received[0] >= 10
    assert outcome["moved"] == 10
    assert count(sqs, orders.source_url) == 0
    assert count(sqs, orders.dlq_url) == 30  # 20 never moved, 10 came back: nothing lost
    # And the report says what the canary did, what came back, and what it left
    text = daily.report_text()
    assert "Auto-redrive of 2026-03-10: moved 10 back" in text
    assert (
        "The canary moved 10; 10 came back to the DLQ within " in text
        and "more than the 1 allowed (10% of the canary): the consumer is still failing, so the "
        "rest was not moved."
        in text
    )
    assert "Came back with: `Timeout calling &lt;payments&gt;` ×10." in text
    assert "*≈ 30* left in the DLQ." in text
    # And it did not hand the rest over to a continuation
    assert outcome["continuing"] == []


def test_the_canary_lets_the_auto_redrive_proceed_when_the_consumer_works(
    daily: Daily, sqs: Any, orders: QueuePair
) -> None:
    # When the 06:00 run auto-redrives into a consumer that now works
    with consumer(sqs, orders, working=True):
        outcome = daily.run(RUN)
    # Then the canary's ten moved, none came back over the wait, and the rest followed: all 30
    assert outcome["moved"] == 30
    assert count(sqs, orders.dlq_url) == 0
    text = daily.report_text()
    assert "Auto-redrive of 2026-03-10: moved 30 back" in text
    assert "The canary moved 10; 0 came back to the DLQ within 10 s (at most 1 allowed)" in text
    assert "so the rest was run: it moved 20." in text
    assert "left in the DLQ." not in text


def test_a_canary_size_of_zero_moves_everything_at_once(
    daily: Daily, sqs: Any, orders: QueuePair
) -> None:
    # Given the canary turned off, and the consumer still failing
    daily.configure(DAILY_CANARY_SIZE="0")
    with consumer(sqs, orders, working=False):
        outcome = daily.run(RUN)
    # Then the whole day moved at once (what the canary is there to prevent), no canary line
    assert outcome["moved"] == 30
    assert "canary" not in daily.report_text().lower()


def test_canaries_of_several_dlqs_are_watched_side_by_side(
    daily: Daily, sqs: Any, orders: QueuePair
) -> None:
    # Given a second DLQ with 30 messages of yesterday, both auto-redriven, both consumers working
    payments = create_pair(sqs, "payments")
    put_in_dlq(sqs, payments, DAY_BODIES, attributes=TIMEOUT)
    daily.configure(AUTO_REDRIVE="orders-dlq,payments-dlq")
    log: list[str] = []
    # When the 06:00 run auto-redrives both
    with (
        consumer(sqs, orders, working=True, log=log),
        consumer(sqs, payments, working=True, log=log),
    ):
        outcome = daily.run(RUN)
        # The run ends when the last copies are sent; the consumers may not have received them
        # yet (the order below needs every leader's message in the log: flaked 1 run in ~10).
        deadline = time.monotonic() + 30
        while len(log) < 60 and time.monotonic() < deadline:
            time.sleep(0.1)
    # Then both moved everything
    assert outcome["moved"] == 60
    # And the second DLQ's canary reached its consumer before the first DLQ's rest did (its
    # canary's 10 first, then a 10 s wait): the waits ran side by side, not one after the other
    first = log.index("payments") if log[0] == "orders" else log.index("orders")
    leader = log[0]
    eleventh_of_leader = [i for i, name in enumerate(log) if name == leader][10]
    assert first < eleventh_of_leader
