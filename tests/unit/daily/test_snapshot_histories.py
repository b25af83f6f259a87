"""SnapshotStore.histories reads the trend of many DLQs with batch gets, not a query per DLQ: the
Home tab and the daily report read up to 7 days of every watched DLQ, and a query per DLQ grew
with the DLQs (500 DLQs: 500 queries per Home open; docs/benchmarks.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.daily.snapshots import Snapshot, SnapshotStore
from tests.unit.fake_state_table import FakeStateTable

FIRST = date(2026, 11, 24)
LAST = date(2026, 11, 30)
TAKEN = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def test_histories_of_many_dlqs_take_one_batch_get_per_hundred_days_and_no_query() -> None:
    table = FakeStateTable()
    store = SnapshotStore(table)
    names = [f"dlq-{i:03d}" for i in range(150)]
    # every other day of each DLQ, depth by DLQ and day, exact on even DLQs
    stored = [
        Snapshot(name, FIRST + timedelta(days=d), i * 10 + d, exact=i % 2 == 0)
        for i, name in enumerate(names)
        for d in range(0, 7, 2)
    ]
    store.put_all(stored, taken_at=TAKEN)
    table.calls.clear()

    found = store.histories(names, FIRST, LAST)

    assert "query" not in table.calls
    assert table.calls.count("batch_get") == -(-150 * 7 // 100)  # 11 calls of at most 100 keys
    assert set(found) == set(names)
    for snapshot in stored:
        assert found[snapshot.dlq][snapshot.day] == snapshot
    assert sum(len(days) for days in found.values()) == len(stored)  # missing days stay absent


def test_histories_of_no_dlq_read_nothing() -> None:
    table = FakeStateTable()
    assert SnapshotStore(table).histories([], FIRST, LAST) == {}
    assert table.calls == []
