"""The redrive ledger in the state table, on moto's DynamoDB: counts per DLQ and digest, atomic
additions, more digests than one BatchGetItem takes, and a TTL that outlives a message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
from botocore.exceptions import ClientError

from bot.redrive_ledger import PREFIX, RETENTION, UNREADABLE, StateTableRedriveLedger
from bot.state_table import StateTable, create_state_table
from infra.local.moto_server import LocalAws

TABLE = "dlq-redrive-state"
NOW = datetime(2026, 3, 11, 6, 0, tzinfo=UTC)


def ledger(aws: LocalAws) -> StateTableRedriveLedger:
    client = boto3.client("dynamodb")
    create_state_table(client, TABLE)
    return StateTableRedriveLedger(StateTable(TABLE, client), clock=lambda: NOW)


def test_redrives_add_up_per_dlq_and_digest(aws: LocalAws) -> None:
    store = ledger(aws)
    assert store.counts("orders-dlq", ["a", "b"]) == {}

    store.record("orders-dlq", ["a", "b", "a"])
    store.record("orders-dlq", ["a"])
    store.record("billing-dlq", ["a"])

    assert store.counts("orders-dlq", ["a", "b", "c"]) == {"a": 3, "b": 1}
    assert store.counts("billing-dlq", ["a", "b"]) == {"a": 1}


def test_more_digests_than_one_batch_get_takes(aws: LocalAws) -> None:
    store = ledger(aws)
    digests = [f"{n:064x}" for n in range(250)]  # BatchGetItem takes 100 keys per call
    store.record("orders-dlq", digests)
    assert store.counts("orders-dlq", digests) == dict.fromkeys(digests, 1)


def test_a_count_expires_well_after_a_message_could_come_back(aws: LocalAws) -> None:
    store = ledger(aws)
    store.record("orders-dlq", ["a"])
    item = boto3.client("dynamodb").get_item(
        TableName=TABLE, Key={"pk": {"S": PREFIX + "orders-dlq"}, "sk": {"S": "a"}}
    )["Item"]
    expires = datetime.fromtimestamp(int(item["expires_at"]["N"]), tz=UTC)
    assert expires == NOW + RETENTION
    assert timedelta(days=28) < RETENTION  # 14 days in the source queue, then 14 in the DLQ


def test_a_count_that_cannot_be_read_counts_as_the_limit_reached(aws: LocalAws) -> None:
    # Given a ledger whose table refuses every read (unavailable)
    store = ledger(aws)
    store.record("orders-dlq", ["a"])
    assert isinstance(store.table, StateTable)

    def unavailable(**_: object) -> None:
        raise ClientError(
            {"Error": {"Code": "ServiceUnavailable", "Message": "injected"}}, "BatchGetItem"
        )

    store.table.client.meta.events.register(
        "provide-client-params.dynamodb.BatchGetItem", unavailable
    )

    # When the counts are asked for
    counts = store.counts("orders-dlq", ["a", "b"])

    # Then each is past any MAX_REDRIVES (the messages need a human), rather than none
    assert counts == {"a": UNREADABLE, "b": UNREADABLE}
    assert UNREADABLE > 1_000
