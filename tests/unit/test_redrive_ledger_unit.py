"""The redrive ledger's rules on the in-memory state table (no server): counts add up per DLQ and
digest, and a count that cannot be read holds its message for a human, one BatchGetItem's worth at
a time, while the others keep their exact counts."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.redrive_ledger import PREFIX, RETENTION, UNREADABLE, StateTableRedriveLedger
from bot.state_table_api import BATCH_GET_KEYS
from tests.unit.fake_state_table import FakeStateTable

NOW = datetime(2026, 3, 11, 6, 0, tzinfo=UTC)


def ledger() -> tuple[StateTableRedriveLedger, FakeStateTable]:
    table = FakeStateTable()
    return StateTableRedriveLedger(table, clock=lambda: NOW), table


def test_redrives_add_up_per_dlq_and_digest_and_expire_after_the_retention() -> None:
    store, table = ledger()
    store.record("orders-dlq", ["a", "b", "a"])
    store.record("orders-dlq", ["a"])
    store.record("billing-dlq", ["a"])
    assert store.counts("orders-dlq", ["a", "b", "c"]) == {"a": 3, "b": 1}
    assert store.counts("billing-dlq", ["a"]) == {"a": 1}
    expires = table.items[(PREFIX + "orders-dlq", "a")]["expires_at"]["N"]
    assert int(expires) == int((NOW + RETENTION).timestamp())


def test_counts_that_cannot_be_read_hold_their_messages_for_a_human() -> None:
    # Given recorded counts, and a table that refuses every read (unavailable)
    store, table = ledger()
    store.record("orders-dlq", ["a"])
    table.fail_call = lambda operation: "ServiceUnavailable" if operation == "batch_get" else None
    # When the counts are asked for, Then each is past any MAX_REDRIVES, rather than none
    assert store.counts("orders-dlq", ["a", "b"]) == {"a": UNREADABLE, "b": UNREADABLE}


def test_only_the_chunk_dynamodb_left_unread_is_held() -> None:
    # Given one count in each of two BatchGetItem chunks, and throttling that leaves a key of
    # the second chunk unprocessed past every retry
    store, table = ledger()
    digests = [f"{n:064x}" for n in range(BATCH_GET_KEYS + 50)]
    store.record("orders-dlq", [digests[0], digests[-1]])
    table.unprocessed = {(PREFIX + "orders-dlq", digests[-1])}
    # When every count is asked for
    counts = store.counts("orders-dlq", digests)
    # Then the first chunk's counts are exact, and only the second chunk's are held
    assert counts[digests[0]] == 1
    assert {counts[d] for d in digests[BATCH_GET_KEYS:]} == {UNREADABLE}
    assert not any(counts.get(d) == UNREADABLE for d in digests[:BATCH_GET_KEYS])


def test_a_copy_back_before_its_send_is_recorded_counts_that_send() -> None:
    """A function that fails at once has its event dead-lettered anew before the run records
    the invoke (that waits for the delete): the copy must be judged with that send counted, or
    it is invoked once more than MAX_REDRIVES allows."""
    from bot.engine_ledger import RunLedger
    from bot.planner import Outgoing

    def item(message_id: str) -> Outgoing:
        entry = {"MessageBody": '{"image": "1.png"}'}
        return Outgoing(message_id, "h", entry, 18, counter_dropped=True)

    ledger = RunLedger(None, "thumbnailer-dlq", force=False)
    ledger.sending([item("m1")])
    assert ledger.recorded([item("m1-copy")]) == {"m1-copy": 1}  # in flight: counted
    ledger.record([item("m1")])
    assert ledger.recorded([item("m1-copy")]) == {"m1-copy": 1}  # recorded: counted once
    ledger.sending([item("m1-copy")])
    ledger.record([item("m1-copy")])
    assert ledger.recorded([item("m1-again")]) == {"m1-again": 2}
