"""The Slack app's records on the in-memory state table (``bot.state`` over
``tests.unit.fake_state_table``, which keeps DynamoDB's 400 KB item limit): the pin travels whole,
and a run marked failed from outside is never written again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.selection import PIN_MAX_IDS, pin_digest
from bot.state import StateStore
from bot.state_model import ApprovalRequest, RunRecord, RunStatus
from tests.unit.fake_state_table import FakeStateTable

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _request(digests: frozenset[bytes] | None) -> ApprovalRequest:
    return ApprovalRequest(
        request_id="20261201-120000-abcdef",
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


def test_a_pin_of_the_most_ids_fits_one_item_and_comes_back_whole() -> None:
    # Given a request pinned to PIN_MAX_IDS counted messages
    digests = frozenset(pin_digest(f"message-{i}") for i in range(PIN_MAX_IDS))
    store = StateStore(FakeStateTable())

    # When it is stored (the fake refuses items over DynamoDB's 400 KB) and read back
    store.put_request(_request(digests))
    stored = store.get_request("20261201-120000-abcdef")

    # Then every digest, the pin's time and why the count stopped are there
    assert stored is not None
    assert stored.pin_digests == digests and stored.pin_sent_before == NOW
    assert (stored.count_complete, stored.count_stopped) == (False, "deadline")
    assert len(_request(digests).to_item()["pin_digests"]["B"]) == 12 * PIN_MAX_IDS


def test_a_pin_with_only_a_time_bound_stays_so() -> None:
    store = StateStore(FakeStateTable())
    store.put_request(_request(None))
    stored = store.get_request("20261201-120000-abcdef")
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
