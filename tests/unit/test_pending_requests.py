"""The pending approvals the App Home lists (``StateStore.pending_requests``), on the in-memory
state table: one query of the ``REQUESTS`` index partition and one batch get of the requests it
names, keeping those still pending and not expired."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import AwsError
from bot.selection import pin_digest
from bot.state import StateStore
from bot.state_model import ApprovalRequest, RequestStatus
from tests.unit.approval_requests import approval_request
from tests.unit.fake_state_table import FakeStateTable

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _request(request_id: str, *, asked: datetime = NOW, **changes: object) -> ApprovalRequest:
    return approval_request(
        request_id,
        requested_at=asked,
        selection={"date": "2026-11-30"},
        selection_text="2026-11-30 (UTC), by sent time",
        matched=12,
        **changes,
    )


def test_put_request_indexes_the_request_until_its_approval_expires() -> None:
    # Given a request stored
    table = FakeStateTable()
    StateStore(table).put_request(_request("20261201-115900-aaaaaa"))

    # Then the REQUESTS partition names it, with its DLQ and requester, and DynamoDB's TTL
    # deletes the index item when the approval window closes
    item = table.items[("REQUESTS", "20261201-115900-aaaaaa")]
    assert item["dlq"] == {"S": "orders-dlq"} and item["requester"] == {"S": "U_ALICE"}
    assert item["expires_at"] == {"N": str(int((NOW + timedelta(hours=1)).timestamp()))}


def test_pending_requests_are_those_still_pending_and_not_expired_oldest_first() -> None:
    # Given requests: two pending, one approved, one rejected, one past its window (TTL not
    # yet run: DynamoDB deletes expired items within days, not at once)
    table = FakeStateTable()
    store = StateStore(table)
    store.put_request(_request("20261201-114000-bbbbbb", asked=NOW - timedelta(minutes=20)))
    store.put_request(_request("20261201-113000-aaaaaa", asked=NOW - timedelta(minutes=30)))
    store.put_request(_request("20261201-114500-cccccc", asked=NOW - timedelta(minutes=15)))
    store.decide("20261201-114500-cccccc", RequestStatus.APPROVED, "U_BOB", NOW)
    store.put_request(_request("20261201-115000-dddddd", asked=NOW - timedelta(minutes=10)))
    store.decide("20261201-115000-dddddd", RequestStatus.REJECTED, "U_BOB", NOW)
    store.put_request(_request("20261201-100000-eeeeee", asked=NOW - timedelta(hours=2)))
    table.calls.clear()

    # When the pending ones are read
    pending = store.pending_requests(NOW)

    # Then the two pending ones come back whole, oldest first, with one query and one batch get
    assert [r.request_id for r in pending] == ["20261201-113000-aaaaaa", "20261201-114000-bbbbbb"]
    assert pending[0] == _request("20261201-113000-aaaaaa", asked=NOW - timedelta(minutes=30))
    assert table.calls == ["query", "batch_get"]


def test_a_request_expiring_this_second_is_no_longer_pending() -> None:
    # (approve needs approval_expires_at > now: bot.state.ApprovalStore._decision)
    table = FakeStateTable()
    store = StateStore(table)
    store.put_request(_request("20261201-110000-aaaaaa", asked=NOW - timedelta(hours=1)))
    assert store.pending_requests(NOW) == []
    assert [r.request_id for r in store.pending_requests(NOW - timedelta(seconds=1))] == [
        "20261201-110000-aaaaaa"
    ]


def test_no_pending_request_costs_one_query_and_no_batch_get() -> None:
    table = FakeStateTable()
    assert StateStore(table).pending_requests(NOW) == []
    assert table.calls == ["query"]


def test_an_index_item_whose_request_was_never_written_is_skipped() -> None:
    # Given an index item written before its request item, whose own write then failed
    table = FakeStateTable()
    store = StateStore(table)
    table.fail_call = lambda operation: (
        "ServiceUnavailable"
        if operation == "put" and ("REQUESTS", "20261201-115900-aaaaaa") in table.items
        else None
    )
    with pytest.raises(AwsError):
        store.put_request(_request("20261201-115900-aaaaaa"))
    table.fail_call = lambda operation: None

    # Then nothing is pending (no request exists that anyone could approve)
    assert ("REQUESTS", "20261201-115900-aaaaaa") in table.items
    assert store.pending_requests(NOW) == []


def test_more_pending_requests_than_one_batch_get_takes_all_come_back() -> None:
    table = FakeStateTable()
    store = StateStore(table)
    ids = [f"20261201-11{n // 60:02d}{n % 60:02d}-{n:06x}" for n in range(130)]
    for request_id in ids:
        store.put_request(_request(request_id, asked=NOW - timedelta(minutes=5)))
    assert sorted(r.request_id for r in store.pending_requests(NOW)) == sorted(ids)


def test_a_pending_request_whose_pin_is_in_parts_comes_back_with_its_whole_pin() -> None:
    # Given a request pinned to 5 ids, 2 an item (its pin in 3 items)
    table = FakeStateTable()
    store = StateStore(table, pin_part_digests=2)
    digests = frozenset(pin_digest(f"m-{i}") for i in range(5))
    store.put_request(_request("20261201-115900-aaaaaa", pin_sent_before=NOW, pin_digests=digests))

    # Then the listed request carries the whole pin, as get_request reads it
    (listed,) = store.pending_requests(NOW)
    assert listed.pin_digests == digests and listed.pin_unreadable is None
    assert listed == store.get_request("20261201-115900-aaaaaa")


def test_requests_reads_many_by_id_and_omits_unknown_ones() -> None:
    table = FakeStateTable()
    store = StateStore(table)
    store.put_request(_request("20261201-115900-aaaaaa"))
    store.put_request(_request("20261201-115901-bbbbbb"))
    table.calls.clear()

    found = store.requests(
        ["20261201-115900-aaaaaa", "20261201-115901-bbbbbb", "nope", "20261201-115900-aaaaaa"]
    )

    assert sorted(found) == ["20261201-115900-aaaaaa", "20261201-115901-bbbbbb"]
    assert found["20261201-115901-bbbbbb"] == _request("20261201-115901-bbbbbb")
    assert table.calls == ["batch_get"]  # duplicates asked once (DynamoDB refuses them)
