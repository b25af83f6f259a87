"""The daily report records what its feeder scan found for the cheap readers (the alert check
and the App Home tab, ``bot.watched_dlqs``): each feeder-fed DLQ's URL and feeder kinds, the
kinds it could not read and why, and when (``bot.alerts.store.FedDlqStore``). Through
``handlers.daily.handler`` on moto, the local Lambda server and an EventBridge refusing reads."""

from __future__ import annotations

from typing import Any

import boto3

from bot.alerts.store import FedDlqStore
from bot.feeders import Kind
from bot.state_table import StateTable
from infra.local.kinds_scene import KindsBuilder
from infra.local.lambda_server import LambdaServer
from infra.local.scene import create_pair, put_in_dlq
from tests.integration.daily.daily_support import STATE_TABLE, Daily
from tests.integration.daily.test_daily_kinds import (
    _tomorrow_six_am,
    events_denied,
    lambda_kinds,
    sns_kind,
)

__all__ = ["events_denied"]  # fixture


def test_the_report_records_each_fed_dlqs_kinds_and_the_kinds_it_could_not_read(
    daily: Daily, sqs: Any, lambdas: LambdaServer, events_denied: str
) -> None:
    # Given an SQS DLQ, an SNS subscription's DLQ, a function's async DLQ and an on-failure
    # destination, and EventBridge refusing to be read
    scene = KindsBuilder(sqs, lambdas)
    put_in_dlq(sqs, create_pair(sqs, "orders"), ["o1"])
    sns_kind(scene)
    lambda_kinds(scene)

    # When the daily report runs
    daily.run(_tomorrow_six_am(), events_client=boto3.client("events", endpoint_url=events_denied))

    # Then its record names each feeder-fed DLQ with its feeder kinds (the SQS one is found by
    # ListQueues, not recorded), the kind it could not read and why, and when
    record = FedDlqStore(StateTable(STATE_TABLE, boto3.client("dynamodb"))).latest()
    assert record.kinds == {
        "alerts-dlq": (Kind.SNS,),
        "resize-dlq": (Kind.LAMBDA,),
        "notify-dlq": (Kind.LAMBDA,),
    }
    assert sorted(record.urls) == ["alerts-dlq", "notify-dlq", "resize-dlq"]
    assert [kind for kind, _ in record.unread] == [Kind.EVENTS]
    assert "AccessDeniedException" in record.unread[0][1]
    assert record.recorded_at is not None
