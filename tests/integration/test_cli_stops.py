"""How a CLI redrive stops, against moto's server: a rate that could outlast the visibility
timeout is refused, the deadline is kept under a slow rate, a DLQ with several sources and no
recorded source per message, and what ``remaining`` counts."""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from infra.local.scene import count, create_pair, drain, put_in_dlq
from tests.integration.cli_helpers import CallRecorder, run_cli

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


def visibility(sqs: SQSClient, url: str) -> tuple[int, int]:
    """(visible, not visible) of a queue."""
    attrs = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        int(attrs["ApproximateNumberOfMessages"]),
        int(attrs["ApproximateNumberOfMessagesNotVisible"]),
    )


def test_a_rate_that_could_outlast_the_visibility_timeout_is_refused(
    sqs: SQSClient, engine_env: dict
) -> None:
    # Given a DLQ with messages
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, ["a", "b"])
    recorder = CallRecorder()

    # When a redrive asks for 0.1 msg/s on 8 workers (a worker would wait 800 s for 10 tokens)
    result = run_cli(
        ["redrive", "orders-dlq", "--rate", "0.1", "--workers", "8"], engine_env, recorder.gateway
    )

    # Then it is refused with one line saying why and what would work, touching nothing
    assert result.code == 2, result.out
    assert result.err.count("\n") == 1
    assert "longer than the 300 s visibility timeout" in result.err
    assert "at most 3 workers at this rate" in result.err
    assert not recorder.calls, recorder.names()
    assert visibility(sqs, orders.dlq_url) == (2, 0)


def test_a_one_second_deadline_is_kept_under_a_slow_rate(sqs: SQSClient, engine_env: dict) -> None:
    # Given 30 messages and --rate 1 (each batch of 10 needs 10 s of tokens)
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [f"m{i}" for i in range(30)])

    # When a redrive is given one second
    started = time.monotonic()
    result = run_cli(
        ["--json", "redrive", "orders-dlq", "--rate", "1", "--workers", "1", "--deadline", "1"],
        engine_env,
    )
    took = time.monotonic() - started

    # Then it stopped at its deadline (not after the 10 s wait for the next tokens: a generous
    # 5× bound), having moved the first batch, and says what is left
    assert result.code == 3, result.err
    report = result.json
    assert report["stopped"] == "deadline" and report["complete"] is False
    assert report["moved"] == 10 and report["remaining"] == 20
    assert took < 5.0
    assert count(sqs, orders.source_url) == 10 and visibility(sqs, orders.dlq_url) == (20, 0)


def test_several_sources_without_recorded_sources_say_use_to_and_hold_nothing_back(
    sqs: SQSClient, engine_env: dict
) -> None:
    # Given a DLQ shared by two sources; moto records no DeadLetterQueueSourceArn
    eu = create_pair(sqs, "orders-eu", dlq_name="shared-dlq")
    us = create_pair(sqs, "orders-us", dlq_name="shared-dlq")
    put_in_dlq(sqs, eu, ["from eu"])
    put_in_dlq(sqs, us, ["from us 1", "from us 2"])

    # When it is redriven without --to
    result = run_cli(["redrive", "shared-dlq"], engine_env)

    # Then nothing moved, the summary counts the three as needing a human with the reason, the
    # error line says to use --to, and the three are visible again at once
    assert result.code == 2
    assert re.search(r"needs a human \(no source\) +3\n", result.out), result.out
    assert (
        "no source recorded and 'shared-dlq' has 2 source queues (orders-eu, orders-us); "
        "choose one with --to QUEUE" in result.out
    )
    assert "--to QUEUE" in result.err and "2 source queues (orders-eu, orders-us)" in result.err
    assert visibility(sqs, eu.dlq_url) == (3, 0)
    assert count(sqs, eu.source_url) == 0 and count(sqs, us.source_url) == 0


def test_remaining_counts_what_another_consumer_holds(sqs: SQSClient, engine_env: dict) -> None:
    # Given 5 messages, 2 of them received (in flight) by someone else
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [f"m{i}" for i in range(5)])
    held = sqs.receive_message(
        QueueUrl=orders.dlq_url, MaxNumberOfMessages=2, VisibilityTimeout=300
    )
    assert len(held["Messages"]) == 2

    # When the DLQ is redriven
    result = run_cli(["--json", "redrive", "orders-dlq"], engine_env)

    # Then the three visible ones moved, and remaining counts the two in flight
    assert result.code == 0, result.err
    report = result.json
    assert report["complete"] is True and report["moved"] == 3
    assert report["remaining"] == 2
    in_flight = {m["Body"] for m in held["Messages"]}
    moved = {m["Body"] for m in drain(sqs, orders.source_url)}
    assert moved == {f"m{i}" for i in range(5)} - in_flight


def test_a_delete_sqs_refuses_after_the_send_is_status_1(sqs: SQSClient, engine_env: dict) -> None:
    # Given two DLQs of 3 messages, and SQS refusing every DeleteMessageBatch (InternalError)
    for name in ("orders", "invoices"):
        put_in_dlq(sqs, create_pair(sqs, name), [f"{name}-{i}" for i in range(3)])
    recorder = CallRecorder()

    def refuse(**_: object) -> None:
        raise ClientError({"Error": {"Code": "InternalError", "Message": "no"}}, "Delete")

    recorder.client.meta.events.register("before-parameter-build.sqs.DeleteMessageBatch", refuse)

    # When each is redriven (one with a summary, one as JSON)
    text = run_cli(["redrive", "orders-dlq"], engine_env, recorder.gateway)
    as_json = run_cli(["--json", "redrive", "invoices-dlq"], engine_env, recorder.gateway)

    # Then the copies were sent but are still in the DLQ: the run says so and is no success
    assert text.code == 1, text.out
    assert "3 were sent but could not be deleted from the DLQ" in text.out
    assert as_json.code == 1, as_json.out
    assert as_json.json["warnings"]["sent_but_not_deleted"] == 3
    assert as_json.json["complete"] is False


def test_a_fifo_scan_held_up_by_a_message_it_did_not_select_is_status_1(
    sqs: SQSClient, engine_env: dict
) -> None:
    # Given a FIFO DLQ: group "a" has a message of the 24th, then one of the 25th; between them,
    # ten messages of other groups (so the two are not received together)
    orders = create_pair(sqs, "orders.fifo")
    groups = ["a", *(f"z{n}" for n in range(10)), "a"]
    days = ["2026-11-24"] * 11 + ["2026-11-25"]
    for n, (group, day) in enumerate(zip(groups, days, strict=True)):
        sqs.send_message(
            QueueUrl=orders.dlq_url,
            MessageBody=json.dumps({"day": day, "n": n}),
            MessageGroupId=group,
            MessageDeduplicationId=str(n),
        )

    # When the 25th is redriven (on one worker: moto's FIFO receives race each other)
    argv = ["redrive", "orders-dlq.fifo", "--date", "2026-11-25", "--time-field", "day"]
    argv += ["--workers", "1"]
    text = run_cli(argv, engine_env)
    as_json = run_cli(["--json", *argv], engine_env)

    # Then SQS never handed out a's message of the 25th while the run held its first one: the
    # run does not claim it saw everything (status 1, a warning, blocked_groups), and the
    # message is still in the DLQ
    assert text.code == 1, text.out
    assert "may not have seen every message of 11 FIFO message group(s)" in text.out
    assert as_json.code == 1 and as_json.json["blocked_groups"] == 11
    assert as_json.json["moved"] == 0 and as_json.json["complete"] is False
    assert count(sqs, orders.source_url) == 0 and len(drain(sqs, orders.dlq_url)) == 12
