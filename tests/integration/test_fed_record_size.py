"""The daily report's record of the feeder-fed DLQs is one DynamoDB item, and "The maximum item
size in DynamoDB is 400 KB, which includes both attribute name binary length (UTF-8 length) and
attribute value lengths" (DynamoDB developer guide, service quotas). With each DLQ's kinds kept
beside its URL, the most the record holds (``MAX_FED_DLQS``) must still fit, names and URLs as
long as SQS allows (a queue name: at most 80 characters), on moto, which enforces the limit."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3

from bot.alerts.store import MAX_FED_DLQS, FedDlqStore
from bot.feeders import Kind
from bot.state_table import StateTable, create_state_table
from infra.local.moto_server import LocalAws

TABLE = "dlq-redrive-state"
NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
ALL_FEEDERS = (Kind.SNS, Kind.EVENTS, Kind.LAMBDA)


def test_the_fullest_record_fits_in_one_item(aws: LocalAws) -> None:
    # Given as many fed DLQs as the record keeps, each with an 80-character name, the URL of
    # a queue in a long region, and every feeder kind
    create_state_table(boto3.client("dynamodb"), TABLE)
    names = [f"{n:05d}-" + "d" * 74 for n in range(MAX_FED_DLQS)]
    urls = {name: f"https://sqs.ap-southeast-4.amazonaws.com/123456789012/{name}" for name in names}
    store = FedDlqStore(StateTable(TABLE, boto3.client("dynamodb")))

    # When the daily report records them
    store.record(urls, kinds=dict.fromkeys(names, ALL_FEEDERS), now=NOW)

    # Then DynamoDB took the item, and every DLQ reads back with its kinds
    record = store.latest()
    assert record.urls == urls
    assert record.kinds == dict.fromkeys(names, ALL_FEEDERS)
