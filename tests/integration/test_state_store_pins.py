"""An approval's pin through the real state table gateway on the local DynamoDB (moto, which keeps
DynamoDB's 400 KB item limit): the most ids a pin names come back whole, split over the request
item and part items of its partition, and a request whose part is gone can never run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest

from bot.selection import PIN_MAX_IDS, pin_digest
from bot.state import StateStore
from bot.state_model import ApprovalRequest, PinUnreadableError
from bot.state_table import StateTable, create_state_table
from infra.local.moto_server import LocalAws

TABLE = "dlq-redrive-state"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
REQUEST_ID = "20261201-120000-abcdef"


def _request(digests: frozenset[bytes]) -> ApprovalRequest:
    return ApprovalRequest(
        REQUEST_ID,
        "orders-dlq",
        {},
        "all messages",
        len(digests),
        "U_ALICE",
        "C_OPS",
        NOW,
        NOW + timedelta(hours=1),
        pin_sent_before=NOW,
        pin_digests=digests,
    )


def _sort_keys() -> list[str]:
    """The partition's sort keys (a Query reads 1 MB a page: the gateway reads every page)."""
    items = StateTable(TABLE).query(f"REQUEST#{REQUEST_ID}", doing="list the partition")
    return sorted(item["sk"]["S"] for item in items)


def test_a_pin_of_the_most_ids_round_trips_through_dynamodb(aws: LocalAws) -> None:
    # Given a request pinned to PIN_MAX_IDS (100,000) counted messages
    client = boto3.client("dynamodb")
    create_state_table(client, TABLE)
    store = StateStore(StateTable(TABLE, client))
    digests = frozenset(pin_digest(f"message-{i}") for i in range(PIN_MAX_IDS))

    # When it is stored and read back through the gateway
    store.put_request(_request(digests))
    stored = store.get_request(REQUEST_ID)

    # Then every digest is back, from the request item and its 3 parts
    assert stored is not None and stored.pin_unreadable is None
    assert stored.approved_pin.digests == digests
    assert _sort_keys() == ["PIN#0001", "PIN#0002", "PIN#0003", "REQUEST"]


def test_a_request_whose_part_is_gone_cannot_run(aws: LocalAws) -> None:
    # Given a small pin stored 3 digests an item (as production splits big ones), one part gone
    client = boto3.client("dynamodb")
    create_state_table(client, TABLE)
    store = StateStore(StateTable(TABLE, client), pin_part_digests=3)
    digests = frozenset(pin_digest(f"message-{i}") for i in range(10))
    store.put_request(_request(digests))
    assert _sort_keys() == ["PIN#0001", "PIN#0002", "PIN#0003", "REQUEST"]
    whole = store.get_request(REQUEST_ID)
    assert whole is not None and whole.pin_digests == digests
    client.delete_item(
        TableName=TABLE, Key={"pk": {"S": f"REQUEST#{REQUEST_ID}"}, "sk": {"S": "PIN#0003"}}
    )

    # When it is read again, it has no pin to run and says why
    stored = store.get_request(REQUEST_ID)
    assert stored is not None and stored.pin_digests is None
    with pytest.raises(PinUnreadableError, match="stored in 4 parts and 3 of them were found"):
        _ = stored.approved_pin
