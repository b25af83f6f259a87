"""What the 06:00 auto-redrive leaves for a human: a message that cannot carry the redrive
counter still stops after MAX_REDRIVES (counted in the state table), and a DLQ with several
sources whose messages do not say theirs (as on moto) is not refused: those wait for a human."""

from __future__ import annotations

import json
from typing import Any

from infra.local.scene import count, create_pair, fail_again, put_in_dlq
from tests.integration.daily.daily_support import Daily

TEN_ATTRIBUTES = {f"a{i}": {"DataType": "String", "StringValue": str(i)} for i in range(10)}
YESTERDAY = json.dumps({"at": "2026-03-10T10:00:00Z"})  # for every run on 11 March below


def test_a_message_without_room_for_the_counter_needs_a_human_after_max_redrives(
    daily: Daily, sqs: Any
) -> None:
    # Given one of yesterday's messages with SQS's maximum of 10 attributes (no room for
    # dlq-redrive-count) in an auto-redriven DLQ, and MAX_REDRIVES 3
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [YESTERDAY], attributes=TEN_ATTRIBUTES)
    daily.configure(AUTO_REDRIVE="*", AUTO_REDRIVE_TIME_FIELD="at", MAX_REDRIVES="3")

    # When three runs redrive it and each time it fails back into the DLQ
    for minute in range(3):
        outcome = daily.run(f"2026-03-11T06:0{minute}:00Z")
        assert outcome["moved"] == 1, outcome
        fail_again(sqs, orders)
        assert count(sqs, orders.dlq_url) == 1

    # Then the fourth run leaves it in the DLQ and reports it as needing a human
    fourth = daily.run("2026-03-11T06:03:00Z")
    assert fourth["moved"] == 0
    assert count(sqs, orders.dlq_url) == 1 and count(sqs, orders.source_url) == 0
    assert "1 poison left for a human" in daily.report_text()
    # ... and it still has its 10 attributes, untouched
    (message,) = sqs.receive_message(
        QueueUrl=orders.dlq_url, MessageAttributeNames=["All"], VisibilityTimeout=0
    )["Messages"]
    assert set(message["MessageAttributes"]) == set(TEN_ATTRIBUTES)


def test_a_dlq_with_two_sources_moves_nothing_it_cannot_route_and_says_why(
    daily: Daily, sqs: Any
) -> None:
    # Given a DLQ shared by two source queues; moto records no source on its messages
    eu = create_pair(sqs, "orders-eu", dlq_name="shared-dlq")
    us = create_pair(sqs, "orders-us", dlq_name="shared-dlq")
    put_in_dlq(sqs, eu, [YESTERDAY])
    put_in_dlq(sqs, us, [YESTERDAY, YESTERDAY])
    daily.configure(AUTO_REDRIVE="*", AUTO_REDRIVE_TIME_FIELD="at")

    # When the 06:00 run auto-redrives it
    outcome = daily.run("2026-03-11T06:00:00Z")

    # Then it is not an auto-redrive error: the three stay in the DLQ (visible), counted as
    # waiting for a human, with the reason
    assert outcome["redrive_errors"] == [] and outcome["moved"] == 0
    assert count(sqs, eu.dlq_url) == 3
    assert count(sqs, eu.source_url) == 0 and count(sqs, us.source_url) == 0
    text = daily.report_text()
    assert "Auto-redrive failed" not in text
    assert "3 with no recorded source left for a human" in text


def test_a_message_without_room_for_the_counter_in_its_64_kib_source_needs_a_human_too(
    daily: Daily, sqs: Any
) -> None:
    # Given one of yesterday's messages that fits its source queue's MaximumMessageSize of
    # 64 KiB, but not with dlq-redrive-count (the counter takes 24 bytes; 10 are left)
    orders = create_pair(sqs, "orders")
    sqs.set_queue_attributes(
        QueueUrl=orders.source_url, Attributes={"MaximumMessageSize": str(64 * 1024)}
    )
    prefix = YESTERDAY.removesuffix("}") + ', "pad": "'
    body = prefix + "x" * (64 * 1024 - 10 - len(prefix) - 2) + '"}'
    assert len(body) == 64 * 1024 - 10 and json.loads(body)["at"]
    put_in_dlq(sqs, orders, [body])
    daily.configure(AUTO_REDRIVE="*", AUTO_REDRIVE_TIME_FIELD="at", MAX_REDRIVES="3")

    # When three runs redrive it (without the counter) and each time it fails back
    for minute in range(3):
        outcome = daily.run(f"2026-03-11T06:0{minute}:00Z")
        assert outcome["moved"] == 1, outcome
        fail_again(sqs, orders)

    # Then the fourth run leaves it in the DLQ for a human
    fourth = daily.run("2026-03-11T06:03:00Z")
    assert fourth["moved"] == 0
    assert count(sqs, orders.dlq_url) == 1 and count(sqs, orders.source_url) == 0
    assert "1 poison left for a human" in daily.report_text()


def test_a_fifo_auto_redrive_held_up_by_a_message_it_did_not_select_says_so(
    daily: Daily, sqs: Any
) -> None:
    # Given a FIFO DLQ: group "a" has a message of the 9th, then one of the 10th; between them,
    # ten messages of other groups of the 9th (so the two are not received together)
    orders = create_pair(sqs, "orders.fifo")
    groups = ["a", *(f"z{n}" for n in range(10)), "a"]
    days = ["2026-03-09"] * 11 + ["2026-03-10"]
    for n, (group, day) in enumerate(zip(groups, days, strict=True)):
        sqs.send_message(
            QueueUrl=orders.dlq_url,
            MessageBody=json.dumps({"at": f"{day}T10:00:00Z", "n": n}),
            MessageGroupId=group,
            MessageDeduplicationId=str(n),
        )
    daily.configure(AUTO_REDRIVE="*", AUTO_REDRIVE_TIME_FIELD="at")

    # When the 06:00 run of the 11th auto-redrives the 10th (on one worker: moto's FIFO
    # receives race each other)
    outcome = daily.run("2026-03-11T06:00:00Z", redrive_workers=1)

    # Then SQS never handed out a's message of the 10th while the run held its first one, and
    # the report says the auto-redrive could not see past the 11 groups it held, never that it
    # counted yesterday exactly; the message is still in the DLQ
    assert outcome["moved"] == 0
    text = daily.report_text()
    line = next(row for row in text.splitlines() if row.startswith("Auto-redrive of"))
    # (its counts are of what it looked at, and it says how many it did not: 12 - 11)
    assert line == (
        "Auto-redrive of 2026-03-10: of the 11 it looked at: moved 0 back, 11 outside the "
        "selection left; could not see past held messages of 11 FIFO groups: ≈ 1 not looked at "
        "(left in the DLQ)"
    )
    assert "Yesterday: 0 arrived" not in text
    assert count(sqs, orders.source_url) == 0 and count(sqs, orders.dlq_url) == 12
