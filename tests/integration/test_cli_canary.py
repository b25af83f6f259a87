"""``dlq-redrive redrive --canary N`` (issue 12) on moto's SQS, at the command line: what it prints
and the status it exits with when the source's consumer still fails everything (it stops after N,
exit 1, "the consumer is still failing") and when the consumer works (it moves the rest, exit 0).
The mechanism itself is tested by H1's tests of ``bot.canary``."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from infra.local.scene import QueuePair, count, create_pair, put_in_dlq
from tests.integration.cli_helpers import CallRecorder, run_cli

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


@contextmanager
def consumer(sqs: SQSClient, pair: QueuePair, *, fails: bool) -> Iterator[list[str]]:
    """A consumer of the source queue running beside the CLI: one that fails every message
    (receives it and never deletes it, so SQS dead-letters it again past maxReceiveCount), or
    one that handles it (deletes it). Yields the bodies it handled."""
    handled: list[str] = []
    stop = threading.Event()

    def work() -> None:
        while not stop.is_set():
            got = sqs.receive_message(
                QueueUrl=pair.source_url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=0,
                WaitTimeSeconds=0,
            ).get("Messages", [])
            for message in got:
                if not fails:
                    sqs.delete_message(
                        QueueUrl=pair.source_url, ReceiptHandle=message["ReceiptHandle"]
                    )
                    handled.append(message["Body"])
            stop.wait(0.1)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        yield handled
    finally:
        stop.set()
        thread.join(10)


def test_the_canary_stops_the_run_when_the_consumer_still_fails(
    sqs: SQSClient, engine_env: dict
) -> None:
    # Given 30 messages in the DLQ, and a consumer of the source that fails every message
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [json.dumps({"n": n}) for n in range(30)])

    # When the DLQ is redriven with a canary of 5
    with consumer(sqs, orders, fails=True):
        result = run_cli(
            ["--json", "redrive", "orders-dlq", "--canary", "5", "--canary-wait", "15"],
            engine_env,
        )

    # Then 5 moved, they came back, and the rest did not move: exit 1, stopped
    assert result.code == 1, result.err
    outcome = result.json
    assert outcome["stopped"] is True and outcome["rest"] is None
    assert outcome["canary"]["moved"] == 5
    assert outcome["returned"] >= 1
    assert "still failing" in outcome["words"]
    assert count(sqs, orders.dlq_url) + count(sqs, orders.source_url) == 30


def test_the_canary_words_on_a_terminal(sqs: SQSClient, engine_env: dict) -> None:
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [json.dumps({"n": n}) for n in range(12)])

    with consumer(sqs, orders, fails=True):
        result = run_cli(
            ["redrive", "orders-dlq", "--canary", "3", "--canary-wait", "15"], engine_env
        )

    assert result.code == 1, result.err
    assert "canary:" in result.out and "the consumer is still failing" in result.out
    assert "the rest:" not in result.out


def test_the_canary_proceeds_when_the_consumer_works(sqs: SQSClient, engine_env: dict) -> None:
    # Given 30 messages in the DLQ, and a consumer that handles every message
    orders = create_pair(sqs, "orders")
    bodies = [json.dumps({"n": n}) for n in range(30)]
    put_in_dlq(sqs, orders, bodies)

    # When the DLQ is redriven with a canary of 5, watched for 2 seconds
    with consumer(sqs, orders, fails=False) as handled:
        result = run_cli(
            ["--json", "redrive", "orders-dlq", "--canary", "5", "--canary-wait", "2"],
            engine_env,
        )
        # (the consumer keeps working until the rest has been handled)
        for _ in range(100):
            if len(handled) == 30:
                break
            threading.Event().wait(0.1)

    # Then the canary moved 5, none came back, the rest moved: exit 0
    assert result.code == 0, result.err
    outcome = result.json
    assert outcome["stopped"] is False and outcome["returned"] == 0
    assert outcome["canary"]["moved"] == 5 and outcome["rest"]["moved"] == 25
    assert sorted(handled) == sorted(bodies)
    assert count(sqs, orders.dlq_url) == 0


def test_canary_options_that_make_no_sense_are_usage_errors(
    sqs: SQSClient, engine_env: dict
) -> None:
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, ["a"])
    cases = {
        ("--canary", "5", "--dry-run"): "cannot be a --dry-run",
        ("--canary-wait", "5"): "--canary-wait needs --canary N",
        ("--canary-max-returned", "0.5"): "--canary-max-returned needs --canary N",
        ("--canary", "0"): "must be at least 1",
        ("--canary", "5", "--canary-max-returned", "1.5"): "between 0 and 1",
        ("--canary", "5", "--canary-max-returned", "1"): "below 1",
        ("--canary", "5", "--canary-wait", "-1"): "must be at least 0",
        ("--canary", "5", "--native"): "--native moves the whole DLQ",
    }
    for extra, says in cases.items():
        recorder = CallRecorder()
        result = run_cli(["redrive", "orders-dlq", *extra], engine_env, recorder.gateway)
        assert result.code == 2, (extra, result.err)
        assert says in result.err, (extra, result.err)
        assert not recorder.touched_messages()
    assert count(sqs, orders.dlq_url) == 1
