"""The Slack app's records on the in-memory state table (``bot.state`` over
``tests.unit.fake_state_table``, which keeps DynamoDB's 400 KB item limit): the pin travels whole
(in parts past what one item holds), a pin with a part missing can never run, and a run marked
failed from outside is never written again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import AwsError
from bot.selection import PIN_MAX_IDS, pin_digest
from bot.state import StateStore
from bot.state_model import (
    PIN_INLINE_DIGESTS,
    ApprovalRequest,
    PinUnreadableError,
    RunRecord,
    RunStatus,
)
from tests.unit.fake_state_table import FakeStateTable

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
REQUEST_ID = "20261201-120000-abcdef"


def _request(digests: frozenset[bytes] | None) -> ApprovalRequest:
    return ApprovalRequest(
        request_id=REQUEST_ID,
        dlq="orders-dlq",
        selection={"date": "2026-11-30"},
        selection_text="2026-11-30 (UTC), by sent time",
        matched=PIN_MAX_IDS,
        requester="U_ALICE",
        channel="C_OPS",
        requested_at=NOW,
        approval_expires_at=NOW + timedelta(hours=1),
        count_complete=False,
        count_stopped="deadline",
        pin_sent_before=NOW,
        pin_digests=digests,
    )


def test_a_pin_of_the_most_ids_is_stored_in_parts_and_comes_back_whole() -> None:
    # Given a request pinned to PIN_MAX_IDS (100,000) counted messages: 1.2 MB of digests
    digests = frozenset(pin_digest(f"message-{i}") for i in range(PIN_MAX_IDS))
    table = FakeStateTable()
    store = StateStore(table)

    # When it is stored (the fake refuses items over DynamoDB's 400 KB) and read back
    store.put_request(_request(digests))
    stored = store.get_request(REQUEST_ID)

    # Then every digest, the pin's time and why the count stopped are there
    assert stored is not None and stored.pin_unreadable is None
    assert stored.pin_digests == digests and stored.pin_sent_before == NOW
    assert (stored.count_complete, stored.count_stopped) == (False, "deadline")
    # in the request item and 3 parts of the same partition, 25,000 digests (300 KB) each
    partition = sorted(sk for pk, sk in table.items if pk == f"REQUEST#{REQUEST_ID}")
    assert partition == ["PIN#0001", "PIN#0002", "PIN#0003", "REQUEST"]
    items = [table.items[(f"REQUEST#{REQUEST_ID}", sk)] for sk in partition]
    blobs = [item.get("pin_digests", item.get("digests", {}))["B"] for item in items]
    assert [len(blob) for blob in blobs] == [12 * PIN_INLINE_DIGESTS] * 4


def test_a_pin_that_fits_the_request_item_has_no_parts() -> None:
    digests = frozenset(pin_digest(f"message-{i}") for i in range(PIN_INLINE_DIGESTS))
    table = FakeStateTable()
    StateStore(table).put_request(_request(digests))
    assert [sk for pk, sk in table.items if pk == f"REQUEST#{REQUEST_ID}"] == ["REQUEST"]
    stored = StateStore(table).get_request(REQUEST_ID)
    assert stored is not None and stored.pin_digests == digests


def _split(count: int, per_item: int) -> tuple[StateStore, FakeStateTable, frozenset[bytes]]:
    """A request pinned to ``count`` digests, stored ``per_item`` digests an item."""
    digests = frozenset(pin_digest(f"message-{i}") for i in range(count))
    table = FakeStateTable()
    store = StateStore(table, pin_part_digests=per_item)
    store.put_request(_request(digests))
    return store, table, digests


def test_a_small_part_size_splits_a_small_pin_the_same_way() -> None:
    store, table, digests = _split(7, 2)
    assert len([k for k in table.items if k[1].startswith("PIN#")]) == 3
    stored = store.get_request(REQUEST_ID)
    assert stored is not None and stored.pin_digests == digests
    assert stored.approved_pin.digests == digests


def test_a_request_missing_a_part_of_its_pin_cannot_run() -> None:
    # Given a pin stored in the request item and 3 parts, one of which is gone
    store, table, _ = _split(7, 2)
    del table.items[(f"REQUEST#{REQUEST_ID}", "PIN#0002")]

    # When the request is read
    stored = store.get_request(REQUEST_ID)

    # Then it says its pin is incomplete, names none of the counted ids, and gives no pin to run
    assert stored is not None and stored.pin_digests is None
    assert stored.pin_unreadable is not None
    assert "stored in 4 parts and 3 of them were found" in stored.pin_unreadable
    assert "nothing was moved" in stored.pin_unreadable
    with pytest.raises(PinUnreadableError, match="3 of them were found"):
        _ = stored.approved_pin


def test_a_part_that_is_not_the_one_written_makes_the_pin_unreadable() -> None:
    # Given one part's digests replaced by others of the same size
    store, table, _ = _split(7, 2)
    part = table.items[(f"REQUEST#{REQUEST_ID}", "PIN#0001")]
    part["digests"] = {"B": pin_digest("x") + pin_digest("y")}
    stored = store.get_request(REQUEST_ID)
    assert stored is not None and stored.pin_digests is None
    assert stored.pin_unreadable is not None and "checksum" in stored.pin_unreadable


def test_the_request_item_is_written_after_its_parts() -> None:
    # Given the state table failing the last write (the request item) of a split pin
    digests = frozenset(pin_digest(f"message-{i}") for i in range(7))
    table = FakeStateTable()
    puts = iter(range(100))
    # (puts: the request's index item, its 3 parts, the request item)
    table.fail_call = lambda op: "InternalServerError" if op == "put" and next(puts) == 4 else None
    store = StateStore(table, pin_part_digests=2)

    # When the request is stored, it fails
    with pytest.raises(AwsError):
        store.put_request(_request(digests))

    # Then its 3 parts are there but no request: nothing anyone could approve
    partition = sorted(sk for pk, sk in table.items if pk == f"REQUEST#{REQUEST_ID}")
    assert partition == ["PIN#0001", "PIN#0002", "PIN#0003"]
    assert store.get_request(REQUEST_ID) is None
    assert store.pending_requests(NOW) == []


def test_a_pin_with_only_a_time_bound_stays_so() -> None:
    store = StateStore(FakeStateTable())
    store.put_request(_request(None))
    stored = store.get_request(REQUEST_ID)
    assert stored is not None and stored.pin_digests is None and stored.pin_sent_before == NOW


def test_a_run_marked_failed_is_not_written_again_by_its_dead_invocation() -> None:
    store = StateStore(FakeStateTable())
    run = RunRecord("r1", "orders-dlq", "U_ALICE", "U_BOB", RunStatus.RUNNING, NOW, NOW)
    assert store.start_run(run)
    assert store.fail_run("r1", "the worker stopped: Task timed out", NOW) is not None

    run.status, run.moved = RunStatus.DONE, 5
    assert store.save_run(run, expected_invocation=1) is None
    stored = store.get_run("r1")
    assert stored is not None and stored.status is RunStatus.FAILED and stored.moved == 0
    # and failing it again changes nothing
    assert store.fail_run("r1", "again", NOW) is None
