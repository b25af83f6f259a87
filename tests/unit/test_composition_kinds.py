"""The composition root wires the DLQs' other feeders (SNS subscriptions, EventBridge targets,
Lambda functions) and the deliveries back to them into every catalog and engine it builds (the
worker, the daily job, the CLI), with the clients it is given, for the kinds DLQ_KINDS names
only; nothing touches the network while building."""

from __future__ import annotations

import io
from typing import Any

import boto3
import pytest
from slack_sdk import WebClient

from bot.composition import build_cli_context, build_daily_job, build_worker, delivery_targets
from bot.config import EngineSettings
from bot.delivery_gateway import DeliveryGateway
from bot.feeder_directory import FeederDirectoryGateway
from bot.feeders import Kind
from bot.sqs_gateway import SqsGateway
from tests.unit.test_composition import ENV, NOWHERE


@pytest.fixture
def clients() -> dict[str, Any]:
    return {
        "sqs_client": boto3.client("sqs", **NOWHERE),
        "dynamodb_client": boto3.client("dynamodb", **NOWHERE),
        "lambda_client": boto3.client("lambda", **NOWHERE),
        "sns_client": boto3.client("sns", **NOWHERE),
        "events_client": boto3.client("events", **NOWHERE),
        "slack_client": WebClient(token="xoxb-test", base_url="http://127.0.0.1:9/api/"),
    }


def _readers(directory: Any) -> dict[Kind, Any]:
    assert isinstance(directory, FeederDirectoryGateway)
    return {kind: read.__self__ for kind, read in directory.readers.items()}


def test_the_worker_reads_every_kind_and_delivers_through_the_clients_it_is_given(
    clients: dict[str, Any],
) -> None:
    # When the worker is built with every client injected (DLQ_KINDS unset: every kind)
    worker = build_worker(ENV, **clients)
    queues = worker.runner.queues
    # Then its catalogs read each kind through the injected clients
    readers = _readers(queues.catalog().feeder_directory)
    assert set(readers) == {Kind.SNS, Kind.EVENTS, Kind.LAMBDA}
    assert readers[Kind.SNS].client is clients["sns_client"]
    assert readers[Kind.EVENTS].client is clients["events_client"]
    assert readers[Kind.LAMBDA].client is clients["lambda_client"]
    # And its engine delivers to functions and topics at the same endpoints, through clients
    # that never retry a delivery (a retried invoke or publish can deliver twice)
    targets = queues.engine().targets
    assert isinstance(targets, DeliveryGateway)
    for delivering, injected in (
        (targets.lambda_.invoke_client, clients["lambda_client"]),
        (targets.sns.publish_client, clients["sns_client"]),
    ):
        assert delivering is not injected
        assert delivering.meta.endpoint_url == injected.meta.endpoint_url
        assert delivering.meta.config.retries["total_max_attempts"] == 1


def test_the_daily_job_reads_the_configured_kinds_only(clients: dict[str, Any]) -> None:
    # Given DLQ_KINDS naming SNS alone (the deployment has no rights for the others)
    job = build_daily_job({**ENV, "DLQ_KINDS": "sns"}, **clients)
    # Then its catalog reads SNS subscriptions and nothing else, and its engine can deliver
    assert set(_readers(job.continuation.catalog.feeder_directory)) == {Kind.SNS}
    assert isinstance(job.continuation.redriver.engine.targets, DeliveryGateway)


def test_with_sqs_alone_nothing_else_is_read_or_delivered_to(clients: dict[str, Any]) -> None:
    worker = build_worker({**ENV, "DLQ_KINDS": "sqs"}, **clients)
    assert _readers(worker.runner.queues.catalog().feeder_directory) == {}
    assert worker.runner.queues.engine().targets is None
    assert delivery_targets(EngineSettings.from_env({"DLQ_KINDS": "sqs"})) is None


def test_the_cli_reads_feeders_and_delivers_through_lazily_made_gateways(
    clients: dict[str, Any],
) -> None:
    # Given the CLI's context
    context = build_cli_context(
        {"DLQ_KINDS": "lambda"},
        out=io.StringIO(),
        err=io.StringIO(),
        gateway=SqsGateway(clients["sqs_client"]),
    )
    # Then a command's catalog reads Lambda's feeders, and its engine can invoke functions
    assert set(_readers(context.catalog.feeder_directory)) == {Kind.LAMBDA}
    assert isinstance(context.targets, DeliveryGateway)


def test_the_scope_the_deployment_gives_reaches_every_gateway(clients: dict[str, Any]) -> None:
    env = {
        **ENV,
        "DLQ_SNS_TOPICS": "orders*",
        "DLQ_EVENT_BUSES": "default",
        "DLQ_EVENT_RULES": "placed",
        "DLQ_LAMBDA_FUNCTIONS": "ship-*",
    }
    readers = _readers(build_daily_job(env, **clients).continuation.catalog.feeder_directory)
    assert readers[Kind.SNS].topics == ("orders*",)
    assert (readers[Kind.EVENTS].buses, readers[Kind.EVENTS].rules) == (("default",), ("placed",))
    assert readers[Kind.LAMBDA].functions == ("ship-*",)
