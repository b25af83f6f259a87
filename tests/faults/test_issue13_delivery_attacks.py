"""Attacks on issue 13's promise for SNS subscription, EventBridge target and Lambda DLQs: nothing
leaves a DLQ before its copy was confirmed, and nothing is delivered twice or to the wrong place,
under the faults an unlucky operator meets (the local Lambda server refusing, losing or slowing
its answers; the CLI interrupted; a function that keeps failing; feeders that change under a run).

Real parts: moto's server (SQS, SNS, EventBridge, DynamoDB), the local Lambda server (its fault
switch), the CLI in-process or as its own process. Messages are shaped as AWS documents them
(tests/unit/kind_messages.py): moto dead-letters none of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from bot.state_table import create_state_table
from infra.local.lambda_server import LambdaServer
from infra.local.scene import count, queue_arn
from tests.integration.cli_helpers import run_cli
from tests.unit.kind_messages import as_send_entry, lambda_async_dlq_message

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from infra.local.moto_server import LocalAws

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
    dlq_url, dlq_arn = make_queue(sqs, "thumbs-dlq")

    def still_failing(event: Any, context: Any) -> None:
        message = lambda_async_dlq_message(event)
        boto3.client("sqs").send_message(QueueUrl=dlq_url, **as_send_entry(message))

    lambdas.register("thumbnailer", still_failing, dead_letter_arn=dlq_arn)
    sqs.send_message(
        QueueUrl=dlq_url, **as_send_entry(lambda_async_dlq_message({"key": "broken.heic"}))
    )
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
