"""Daily depth snapshots in the state table: the data access of the daily report.

One item per DLQ and report day: ``pk = "SNAPSHOT#<dlq name>"``, ``sk = "YYYY-MM-DD"`` (the report's
day, i.e. yesterday when the job ran), with the depth and a TTL of ``RETENTION`` (DynamoDB deletes
old ones). Writing the same day again (a retried run) overwrites it, so snapshots are idempotent.

Also the running total of messages the auto-redrive of one scheduled run moved, per DLQ
(``pk = "DAILYRUN#<scheduled time>"``, ``sk = "<dlq name>"``): a run that failed after moving
messages (Slack refused the post, the function timed out) is retried by Lambda, and the retry's
report still counts what the failed attempt moved. ``bot.daily.run_state.RunState`` keeps the
rest of what a run needs across attempts and continuations (posted parts, the rendered report,
auto-redrive windows): a module of its own, so the alert checks, which keep their posts with it,
load no snapshot code (and their role needs none of its rights).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bot.daily.run_state import RUN_PREFIX, RUN_RETENTION
from bot.state_schema import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE
from bot.state_table_api import BATCH_GET_KEYS, StateTableApi, key

RETENTION = timedelta(days=60)
PREFIX = "SNAPSHOT#"


@dataclass(frozen=True)
class Snapshot:
    """The depth of one DLQ as the report of ``day`` saw it."""

    dlq: str
    day: date
    depth: int
    # Counted by the report (not SQS's approximate counters): a change from it is exact too.
    exact: bool = False


def _snapshot(item: dict[str, Any]) -> Snapshot:
    return Snapshot(
        item[PARTITION_KEY]["S"].removeprefix(PREFIX),
        date.fromisoformat(item[SORT_KEY]["S"]),
        int(item["depth"]["N"]),
        # Snapshots stored before this attribute existed were read from the counters.
        exact=bool(item.get("exact", {}).get("BOOL", False)),
    )


class SnapshotStore:
    """Reads and writes ``Snapshot`` items; the only code touching them in the state table."""

    def __init__(self, table: StateTableApi) -> None:
        self.table = table

    def put(self, snapshot: Snapshot, *, taken_at: datetime) -> None:
        """Store (or overwrite) the snapshot; it expires ``RETENTION`` after ``taken_at``."""
        self.table.put(
            {
                PARTITION_KEY: {"S": PREFIX + snapshot.dlq},
                SORT_KEY: {"S": snapshot.day.isoformat()},
                "depth": {"N": str(snapshot.depth)},
                "exact": {"BOOL": snapshot.exact},
                "taken_at": {"S": taken_at.isoformat(timespec="seconds")},
                TTL_ATTRIBUTE: {"N": str(int((taken_at + RETENTION).timestamp()))},
            },
            doing=f"save the snapshot of {snapshot.dlq!r}",
        )

    def put_all(self, snapshots: list[Snapshot], *, taken_at: datetime) -> None:
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda s: self.put(s, taken_at=taken_at), snapshots))

    def history(self, dlq: str, first: date, last: date) -> dict[date, Snapshot]:
        """Snapshots by day, ``first`` to ``last`` inclusive; days without one are absent. One
        Query of the DLQ's partition: any range costs what it holds (``histories`` asks by key,
        for the few days a trend shows)."""
        items = self.table.query(
            PREFIX + dlq,
            sk_between=(first.isoformat(), last.isoformat()),
            doing=f"read the snapshots of {dlq!r}",
        )
        return {snapshot.day: snapshot for snapshot in map(_snapshot, items)}

    def histories(
        self, dlqs: list[str], first: date, last: date
    ) -> dict[str, dict[date, Snapshot]]:
        """``history`` of several DLQs: every (DLQ, day) key asked by BatchGetItem, 100 keys a
        call, up to 8 calls at once. A query per DLQ made the Home tab's reads grow with the
        DLQs (one query each, every open); the keys are known, so none is needed."""
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        keys = [key(PREFIX + dlq, day.isoformat()) for dlq in dlqs for day in days]
        chunks = [keys[at : at + BATCH_GET_KEYS] for at in range(0, len(keys), BATCH_GET_KEYS)]
        doing = f"read the snapshots of {len(dlqs)} DLQ(s)"
        with ThreadPoolExecutor(max_workers=8) as pool:
            items = [
                item
                for got in pool.map(lambda chunk: self.table.batch_get(chunk, doing=doing), chunks)
                for item in got
            ]
        found: dict[str, dict[date, Snapshot]] = {dlq: {} for dlq in dlqs}
        for snapshot in map(_snapshot, items):
            found[snapshot.dlq][snapshot.day] = snapshot
        return found

    def add_moved(self, run: str, dlq: str, moved: int, *, now: datetime) -> int:
        """Add ``moved`` to what scheduled run ``run`` moved out of ``dlq``; the new total."""
        item = self.table.update(
            key(RUN_PREFIX + run, dlq),
            "ADD moved :n SET #ttl = :ttl",
            names={"#ttl": TTL_ATTRIBUTE},
            values={
                ":n": {"N": str(moved)},
                ":ttl": {"N": str(int((now + RUN_RETENTION).timestamp()))},
            },
            doing=f"record what the auto-redrive moved from {dlq!r}",
        )
        return int(item.get("moved", {}).get("N", moved))
