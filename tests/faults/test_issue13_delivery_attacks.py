"""Attacks on issue 13's promise for SNS subscription, EventBridge target and Lambda DLQs: nothing
leaves a DLQ before its copy was confirmed, and nothing is delivered twice or to the wrong place,
under the faults an unlucky operator meets (the local Lambda server refusing, losing or slowing
its answers; the CLI interrupted; a function that keeps failing; feeders that change under a run).

Real parts: moto's server (SQS, SNS, EventBridge, DynamoDB), the local Lambda server (its fault
switch), the CLI in-process or as its own process. Messages are shaped as AWS documents them
(tests/unit/kind_messages.py): moto dead-letters none of them.
"""

from __future__ import annotations

import json
import re
import signal
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config

import handlers.worker
from bot.errors import SendAnswerLostError
from bot.feeder_routing import Delivery, NoDelivery, route
from bot.feeders import Feeder, Kind
from bot.lambda_gateway import LambdaRedriveGateway
from bot.slack.ids import ActionId
from bot.state_table import create_state_table
from infra.local.lambda_server import LambdaServer
from infra.local.scene import count, drain, queue_arn
from tests.faults.cli_process import start_cli
from tests.faults.fault_proxy import Fault, FaultProxy
from tests.integration.cli_helpers import run_cli
from tests.integration.kinds_world import World
from tests.integration.slack.slack_harness import APPROVER, SlackHarness, harness, slack_env
from tests.unit.kind_messages import arn, as_send_entry, lambda_async_dlq_message, sns_envelope

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from infra.local.moto_server import LocalAws

__all__ = ["harness", "slack_env"]  # fixtures

REGION, ACCOUNT = "us-east-1", "123456789012"


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


@pytest.fixture
def lambdas(monkeypatch: pytest.MonkeyPatch) -> Iterator[LambdaServer]:
    with LambdaServer() as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", server.endpoint_url)
        yield server


@pytest.fixture
def env(engine_env: dict[str, str], lambdas: LambdaServer) -> dict[str, str]:
    return {
        **engine_env,
        "AWS_ENDPOINT_URL_LAMBDA": lambdas.endpoint_url,
        "DLQ_QUEUES": "*",
    }


def make_queue(sqs: SQSClient, name: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return url, queue_arn(sqs, url)


def a_function_that_keeps_failing(sqs: SQSClient, lambdas: LambdaServer) -> str:
    """The thumbnailer, failing every event: as Lambda does, each one is written to the function's
    DLQ (thumbs-dlq) again, the payload as it was, with a new RequestID; the DLQ starts with one
    failed event. Returns the DLQ's URL."""
    dlq_url, dlq_arn = make_queue(sqs, "thumbs-dlq")

    def still_failing(event: Any, context: Any) -> None:
        message = lambda_async_dlq_message(event)
        boto3.client("sqs").send_message(QueueUrl=dlq_url, **as_send_entry(message))

    lambdas.register("thumbnailer", still_failing, dead_letter_arn=dlq_arn)
    sqs.send_message(
        QueueUrl=dlq_url, **as_send_entry(lambda_async_dlq_message({"key": "broken.heic"}))
    )
    return dlq_url


# --- the poison rule: a function that keeps failing -------------------------------------------


def test_a_cli_with_a_state_table_stops_a_function_that_keeps_failing(
    aws: LocalAws,
    sqs: SQSClient,
    lambdas: LambdaServer,
    env: dict[str, str],
) -> None:
    # Given a function that still fails: Lambda writes each event it could not process to the
    # function's DLQ again, the payload as it was, with a new RequestID (an invoke's payload
    # carries no counter), and a CLI user whose environment names the state table
    dlq_url = a_function_that_keeps_failing(sqs, lambdas)
    create_state_table(boto3.client("dynamodb"), "dlq-redrive-state")
    cli_env = {**env, "MAX_REDRIVES": "2", "STATE_TABLE": "dlq-redrive-state"}
    # When the operator redrives the DLQ again and again (a cron job, an impatient human)
    results = []
    for _ in range(4):
        results.append(run_cli(["redrive", "thumbs-dlq"], cli_env))
        lambdas.wait_idle()
    # Then the function was invoked MAX_REDRIVES times, not once per run forever, and the runs
    # after that hold the message for a human and say so
    invoked = [i.payload for i in lambdas.calls_to("thumbnailer")]
    assert invoked == [{"key": "broken.heic"}] * 2, [(r.out, r.err) for r in results]
    assert count(sqs, dlq_url) == 1
    last = " ".join(results[-1].out.split())
    assert "needs a human (poison) 1" in last and "moved 0" in last, results[-1].out
    # and the runs that invoked it say the ledger counted it, not that the CLI cannot count it
    assert "count toward MAX_REDRIVES in the state table's ledger" in results[0].out
    assert "the CLI cannot count" not in results[0].out


# --- Ctrl-C / SIGTERM in the middle of a function redrive -------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_in_a_function_redrive_leaves_each_event_in_the_dlq_or_invoked_once(
    aws: LocalAws, sqs: SQSClient, lambdas: LambdaServer, signum: signal.Signals
) -> None:
    # Given 300 events a function failed asynchronously, in its DLQ (a function that works again)
    dlq_url, dlq_arn = make_queue(sqs, "resize-dlq")
    lambdas.register("resizer", lambda event, context: None, dead_letter_arn=dlq_arn)
    events = [{"n": n} for n in range(300)]
    for start in range(0, len(events), 10):
        sqs.send_message_batch(
            QueueUrl=dlq_url,
            Entries=[
                {"Id": str(i), **as_send_entry(lambda_async_dlq_message(event))}
                for i, event in enumerate(events[start : start + 10])
            ],
        )
    # When the operator interrupts the redrive once some events were invoked
    command = [sys.executable, "-m", "bot.cli", "redrive", "resize-dlq", "--rate", "40"]
    process = start_cli(command, aws, AWS_ENDPOINT_URL_LAMBDA=lambdas.endpoint_url, DLQ_QUEUES="*")
    try:
        give_up = time.monotonic() + 60
        while len(lambdas.calls_to("resizer")) < 30:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < give_up, "the redrive never got going"
            time.sleep(0.02)
        process.send_signal(signum)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    lambdas.wait_idle()
    # Then it stopped (status 3), every event is either still in the DLQ or was invoked exactly
    # once (never both, never twice), and the summary's moved is the number invoked. (How soon it
    # stops is not asserted here: a signal Linux handed to a worker thread was acted on only at
    # the end until b3ad272; test_engine_stops.py's ..._hands_to_a_worker_thread_... pins that.)
    assert process.returncode == 3, (out, err)
    invoked = [json.dumps(i.payload, sort_keys=True) for i in lambdas.calls_to("resizer")]
    left = [m["Body"] for m in drain(sqs, dlq_url)]
    left_events = [json.dumps(json.loads(body), sort_keys=True) for body in left]
    assert len(invoked) == len(set(invoked)), "an event was invoked twice"
    assert not set(invoked) & set(left_events), "an invoked event is still in the DLQ"
    assert sorted(invoked + left_events) == sorted(json.dumps(e, sort_keys=True) for e in events)
    moved_row = re.search(r"^moved\s+(\d+)$", out, re.MULTILINE)
    assert moved_row, out
    assert int(moved_row.group(1)) == len(invoked), out


# --- feeders that change between the approval's count and the run ----------------------------


def test_an_sns_envelope_is_not_invoked_into_a_function_once_its_subscription_is_gone() -> None:
    # Given a DLQ that a queue subscription of topic "orders" and a function's async invokes
    # both dead-letter into, and a message the subscription could not deliver (its envelope)
    dlq = arn("sqs", "shared-dlq")
    topic = arn("sns", "orders")
    subscription = Feeder(
        kind=Kind.SNS,
        dlq_arn=dlq,
        name=topic + ":3f1c",
        target_arn=arn("sqs", "orders-inbox"),
        protocol="sqs",
        topic_arn=topic,
    )
    function = Feeder(
        kind=Kind.LAMBDA,
        dlq_arn=dlq,
        name="resizer",
        target_arn=function_arn("resizer"),
        protocol="lambda",
    )
    message = sns_envelope('{"orderId":"o-9"}', topic_arn=topic)
    approved = route(message, [subscription, function], has_sqs_sources=False)
    assert isinstance(approved, Delivery) and approved.arn == arn("sqs", "orders-inbox")
    # When the subscription is deleted before the run (the approval counted it going there)
    at_run = route(message, [function], has_sqs_sources=False)
    # Then the run does not invoke the function with SNS's envelope (it never failed it): the
    # message stays, saying that no subscription of its topic feeds the DLQ any more
    assert isinstance(at_run, NoDelivery), at_run
    assert at_run.code == "UnknownTarget" and topic in at_run.reason


# --- an invoke answered after the client's read timeout -----------------------------------------


def test_an_invoke_answered_past_the_read_timeout_is_unconfirmed_not_refused(
    aws: LocalAws, lambdas: LambdaServer
) -> None:
    # Given a function and a network that holds Lambda's 202 back past the client's read timeout
    # (the invoke client as the app makes it: no retry of a delivery)
    lambdas.register("resizer", lambda event, context: None)
    slow = lambda action, seen: Fault.SLOW_ANSWER  # noqa: E731
    with FaultProxy(lambdas.endpoint_url, slow, slow_answer_s=2.0) as proxy:
        client = boto3.client(
            "lambda",
            endpoint_url=proxy.endpoint,
            config=Config(read_timeout=0.5, retries={"total_max_attempts": 1}),
        )
        gateway = LambdaRedriveGateway(invoke_client=client)
        # When an event is invoked through it
        with pytest.raises(SendAnswerLostError):
            gateway.invoke_event(function_arn("resizer"), b'{"n": 1}')
    lambdas.wait_idle()
    # Then the caller is told the answer was lost (the message stays, unconfirmed, never sent
    # again in the run), not that Lambda refused it: Lambda had queued it and ran it once
    assert [i.payload for i in lambdas.calls_to("resizer")] == [{"n": 1}]


def test_one_cli_run_without_a_state_table_does_not_loop_a_function_that_keeps_failing(
    aws: LocalAws, sqs: SQSClient, lambdas: LambdaServer, env: dict[str, str]
) -> None:
    # Given a function that fails at once, each failed event dead-lettered again with a new
    # RequestID, and a CLI user with no state table (the counter alone, which a function's
    # payload cannot carry)
    dlq_url = a_function_that_keeps_failing(sqs, lambdas)
    # When the operator runs one redrive
    result = run_cli(["redrive", "thumbs-dlq"], {**env, "MAX_REDRIVES": "2"})
    lambdas.wait_idle()
    # Then the run did not invoke it again each time it came back (it comes back at once; on a
    # loaded machine the run may end before it does): at most MAX_REDRIVES times, and the copy
    # that came back the last time is still there
    invoked = [i.payload for i in lambdas.calls_to("thumbnailer")]
    assert invoked in ([{"key": "broken.heic"}], [{"key": "broken.heic"}] * 2), result.out
    assert count(sqs, dlq_url) == 1


# --- an approved Slack run of a function's DLQ over several invocations --------------------------


def test_a_slack_run_continued_in_a_new_invocation_invokes_no_event_twice(
    harness: SlackHarness,
) -> None:
    # Given 60 events a function failed asynchronously, a worker with a 1-second budget and
    # invokes that take 0.3 s (so the run needs several invocations), and Lambda's answer to
    # the first invoke lost after it queued the event
    world = World(harness.sqs, harness.lambdas)
    events = [{"key": f"img-{n}.heic"} for n in range(60)]
    world.seed("thumbnailer-dlq", *(lambda_async_dlq_message(e) for e in events))
    request_id = harness.request_card("redrive thumbnailer-dlq")
    harness.lambdas.set_timeout("worker", 1.0)
    harness.lambdas.fault("thumbnailer", lose_answer=True)
    invoke_client = handlers.worker.worker().runner.queues.engine().targets.lambda_.invoke_client

    def slow(**_: object) -> None:
        time.sleep(0.3)

    invoke_client.meta.events.register("before-send.lambda.Invoke", slow)
    try:
        # When an approver approves it
        harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=harness.card_ts())
        harness.settle(timeout=120)
    finally:
        invoke_client.meta.events.unregister("before-send.lambda.Invoke", slow)
    # Then the run went over several invocations, every event was invoked exactly once (the
    # one whose answer was lost too: it was queued, so it stays in the DLQ, never invoked again
    # by a later part of the same run), and the DLQ holds only that one
    run = harness.state.get_run(request_id)
    assert run is not None and run.invocation >= 2, run
    invoked = [
        json.dumps(i.payload, sort_keys=True) for i in harness.lambdas.calls_to("thumbnailer")
    ]
    twice = sorted({e for e in invoked if invoked.count(e) > 1})
    assert not twice, f"invoked more than once: {twice}"
    left = count(harness.sqs, world.urls["thumbnailer-dlq"])
    assert sorted(invoked) == sorted(json.dumps(e, sort_keys=True) for e in events), (run, left)
    assert left == 1
    assert run.moved == 59


# --- FIFO: an SNS FIFO topic's subscription of an SQS FIFO queue ------------------------------


def test_a_fifo_subscription_dlq_keeps_each_groups_order_and_stops_a_group_at_its_failure(
    aws: LocalAws, sqs: SQSClient, env: dict[str, str]
) -> None:
    # Given an SNS FIFO topic whose FIFO queue subscriber dead-letters into a FIFO DLQ, and the
    # subscriber's queue taking at most 2 KiB a message
    fifo = {"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    inbox = sqs.create_queue(
        QueueName="orders-inbox.fifo", Attributes={**fifo, "MaximumMessageSize": "2048"}
    )["QueueUrl"]
    dlq_url = sqs.create_queue(QueueName="orders-sub-dlq.fifo", Attributes=fifo)["QueueUrl"]
    sns = boto3.client("sns")
    topic = sns.create_topic(
        Name="orders.fifo",
        Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"},
    )["TopicArn"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn(sqs, inbox),
        Attributes={
            "RawMessageDelivery": "true",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": queue_arn(sqs, dlq_url)}),
        },
    )
    # ... and what SNS could not deliver, in order: group "a" with a message too large for the
    # subscriber's queue second, group "b" whole
    bodies = {
        "a": [
            json.dumps({"g": "a", "n": 0}),
            json.dumps({"g": "a", "n": 1, "pad": "x" * 3000}),
            json.dumps({"g": "a", "n": 2}),
        ],
        "b": [json.dumps({"g": "b", "n": n}) for n in range(3)],
    }
    for n in range(3):
        for group in ("a", "b"):
            sqs.send_message(QueueUrl=dlq_url, MessageBody=bodies[group][n], MessageGroupId=group)
    # When the DLQ is redriven
    result = run_cli(["redrive", "orders-sub-dlq.fifo"], env)
    # Then group b arrived whole and in order; group a's first message arrived, its second
    # failed, and its third stayed behind it (never ahead of it) in the DLQ, in order
    arrived = [m["Body"] for m in drain(sqs, inbox)]
    assert [b for b in arrived if '"b"' in b] == bodies["b"], result.out
    assert [b for b in arrived if '"a"' in b] == bodies["a"][:1], result.out
    left = [m["Body"] for m in drain(sqs, dlq_url)]
    assert left == bodies["a"][1:], result.out
