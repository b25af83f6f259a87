"""The composition root builds every function from an environment and the clients it is given:
an injected client is the one used (no other is made), nothing touches the network while
building, and a handler builds once per cold start."""

from __future__ import annotations

import io
from typing import Any

import boto3
import pytest
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.composition import (
    ColdStart,
    build_cli_context,
    build_daily_job,
    build_endpoint,
    build_failure_router,
    build_worker,
)
from bot.errors import ConfigError
from bot.sqs_gateway import SqsGateway

ENV = {
    "SLACK_BOT_TOKEN": "xoxb-test",
    "SLACK_SIGNING_SECRET": "test-signing-secret",
    "JOB_SIGNING_KEY": "k" * 32,
    "SLACK_TEAM_ID": "T_LOCAL",
    "WORKER_FUNCTION_NAME": "dlq-redrive-worker",
    "STATE_TABLE": "dlq-redrive-state",
    "REPORT_CHANNEL": "C0REPORT",
    "AWS_DEFAULT_REGION": "us-east-1",
}
# Clients for an endpoint nothing listens on: building must not call it.
NOWHERE = {
    "region_name": "us-east-1",
    "endpoint_url": "http://127.0.0.1:9",
    "aws_access_key_id": "unused",
    "aws_secret_access_key": "unused",
}


@pytest.fixture
def clients() -> dict[str, Any]:
    return {
        "sqs_client": boto3.client("sqs", **NOWHERE),
        "sqs_send_client": boto3.client("sqs", **NOWHERE),
        "dynamodb_client": boto3.client("dynamodb", **NOWHERE),
        "lambda_client": boto3.client("lambda", **NOWHERE),
        "slack_client": WebClient(token="xoxb-test", base_url="http://127.0.0.1:9/api/"),
    }


def test_the_worker_uses_every_client_it_is_given(clients: dict[str, Any]) -> None:
    # When the worker is built with every client injected
    worker = build_worker(ENV, **clients)
    # Then SQS (both clients), the state table, Lambda and Slack go through those
    assert worker.gateway.client is clients["sqs_client"]
    assert worker.gateway.send_client is clients["sqs_send_client"]
    assert worker.state.table.client is clients["dynamodb_client"]  # type: ignore[attr-defined]
    assert worker.runner.dispatcher.transport.lambdas.client is clients["lambda_client"]  # type: ignore[attr-defined]
    assert worker.slack.client is clients["slack_client"]  # type: ignore[attr-defined]


def test_an_injected_sqs_client_gets_a_send_client_without_retries_for_its_endpoint(
    clients: dict[str, Any],
) -> None:
    # When the SQS client is injected but not the one for sends
    worker = build_worker(ENV, **{k: v for k, v in clients.items() if k != "sqs_send_client"})
    # Then sends go through a client of their own, to the same endpoint, that never retries
    send = worker.gateway.send_client
    assert send is not clients["sqs_client"]
    assert send.meta.endpoint_url == clients["sqs_client"].meta.endpoint_url
    assert send.meta.config.retries["total_max_attempts"] == 1


def test_the_daily_job_uses_every_client_it_is_given(clients: dict[str, Any]) -> None:
    job = build_daily_job(ENV, **clients)
    assert job.report_run.gateway.client is clients["sqs_client"]
    assert job.leases.table.client is clients["dynamodb_client"]  # type: ignore[attr-defined]
    assert job.snapshots.table.client is clients["dynamodb_client"]  # type: ignore[attr-defined]
    assert job.continuation.invoker.client is clients["lambda_client"]  # type: ignore[attr-defined]
    slack = job.continuation.poster.slack  # the Slack gateway around the injected client
    assert getattr(slack, "client", slack) is clients["slack_client"]


def _rate_limit_retries(client: WebClient) -> list[int]:
    return [
        handler.max_retry_count
        for handler in client.retry_handlers
        if isinstance(handler, RateLimitErrorRetryHandler)
    ]


def test_the_slack_clients_it_makes_wait_out_rate_limits(clients: dict[str, Any]) -> None:
    # Given no Slack client injected
    clients.pop("slack_client")
    # When the worker and the daily job are built
    worker_client = build_worker(ENV, **clients).slack.client  # type: ignore[attr-defined]
    daily_slack = build_daily_job(ENV, **clients).continuation.poster.slack
    daily_client = daily_slack.client  # type: ignore[attr-defined]
    # Then both come from the one Slack client maker, each waiting out 429s: the daily report
    # (several posts in a row) up to 3 in a row with slack_sdk's 30 s per call, the worker 2 in 10 s
    assert (_rate_limit_retries(worker_client), worker_client.timeout) == ([2], 10)
    assert (_rate_limit_retries(daily_client), daily_client.timeout) == ([3], 30)


def test_the_endpoint_uses_the_slack_client_it_is_given(clients: dict[str, Any]) -> None:
    endpoint = build_endpoint(
        ENV, lambda_client=clients["lambda_client"], slack_client=clients["slack_client"]
    )
    assert endpoint.app.client is clients["slack_client"]


def test_a_function_without_its_state_table_is_not_built(clients: dict[str, Any]) -> None:
    env = {k: v for k, v in ENV.items() if k != "STATE_TABLE"}
    for build in (build_worker, build_daily_job):
        with pytest.raises(ConfigError, match="STATE_TABLE is not set"):
            build(env, **clients)


def test_the_cli_context_makes_its_gateway_on_first_use_or_takes_the_one_given(
    clients: dict[str, Any],
) -> None:
    # A context for --help or a usage error makes no client (and needs no region)
    context = build_cli_context({"TIMEZONE": "UTC"}, out=io.StringIO(), err=io.StringIO())
    assert context.settings.timezone.key == "UTC"
    assert context._gateway is None
    # An injected gateway is the one every command uses
    gateway = SqsGateway(clients["sqs_client"])
    given = build_cli_context({}, out=io.StringIO(), err=io.StringIO(), gateway=gateway)
    assert given.gateway is gateway and given.catalog.gateway is gateway


def test_a_cold_start_builds_once_and_tests_can_rebuild_or_replace() -> None:
    # Given a builder that counts its builds
    built: list[tuple[dict[str, str], dict[str, Any]]] = []

    def build(env: dict[str, str], **options: Any) -> str:
        built.append((env, options))
        return f"built #{len(built)}"

    cold = ColdStart(build, {"FROM": "environ"})
    # Then nothing is built until first use, and then once however often it is used
    assert built == []
    assert cold() == cold() == "built #1"
    # And a test can build it from another environment, with options, or swap it
    cold.reset({"FROM": "test"}, clock="fixed")
    assert cold() == "built #2" and built[-1] == ({"FROM": "test"}, {"clock": "fixed"})
    cold.use("a fake")
    assert cold() == "a fake"
    cold.use(None)
    assert cold() == "built #3" and built[-1] == ({"FROM": "environ"}, {})


def test_the_failure_router_hands_worker_records_to_the_worker_and_others_to_the_daily(
    clients: dict[str, Any],
) -> None:
    # Given the on-failure handler as Lambda builds it
    router = build_failure_router(ENV, **clients)
    arn = "arn:aws:lambda:us-east-1:123456789012:function:{}:$LATEST"
    # When an unsigned record of the worker's arrives, Then the worker's rules refuse it
    worker_record = {
        "requestContext": {"requestId": "r1", "functionArn": arn.format("dlq-redrive-worker")},
        "requestPayload": {"kind": "decision", "request_id": "q1", "user": "U_BOB"},
        "responsePayload": {"errorMessage": "Task timed out after 900.00 seconds"},
    }
    assert router.handle(worker_record) == {"ok": False, "refused": "unsigned"}
    # And a record of another function goes to the daily job's rules, which refuse an event
    # that is not the daily's (nothing to mark failed, nothing to retry)
    daily_record = {
        "requestContext": {
            "requestId": "r2",
            "functionArn": arn.format("dlq-redrive-daily"),
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": {"nonsense": True},
        "responsePayload": {"errorMessage": "boom"},
    }
    refused = router.handle(daily_record)
    assert refused["ok"] is False and "refused" in refused
