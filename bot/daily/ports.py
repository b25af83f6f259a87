"""What the daily job needs of its stores in the state table, as Protocols: the job's parts depend
on these, so their unit tests run against the stores on the in-memory table. The real ones are
``bot.daily.snapshots.SnapshotStore`` and ``RunState`` and ``bot.daily.lease.LeaseStore`` (on
``bot.state_table``). Slack is ``bot.slack.web_api.SlackApi``, Lambda
``bot.lambda_api.AsyncInvoker``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Protocol

from bot.daily.lease import Lease
from bot.daily.snapshots import Snapshot
from bot.slack.home_model import ScanFacts


class Snapshots(Protocol):
    """Each DLQ's depth per report day, and what a scheduled run moved out of each DLQ."""

    def put_all(self, snapshots: list[Snapshot], *, taken_at: datetime) -> None: ...
    def histories(
        self, dlqs: list[str], first: date, last: date
    ) -> dict[str, dict[date, Snapshot]]: ...
    def add_moved(self, run: str, dlq: str, moved: int, *, now: datetime) -> int: ...


class ScanFactsSink(Protocol):
    """Where each DLQ's last scan facts go (``bot.daily.scan_facts.ScanFactsStore``)."""

    def put_all(self, facts: list[ScanFacts], *, now: datetime) -> None: ...


class PostRecords(Protocol):
    """The Slack ``ts`` of each part a scheduled run posted (``bot.daily.posting``)."""

    def posted(self, run: str) -> dict[str, str]: ...
    def record_post(self, run: str, part: str, ts: str, *, now: datetime) -> None: ...


class Runs(PostRecords, Protocol):
    """What one scheduled run did already: posted parts, its report, auto-redrive windows."""

    def save_report(self, run: str, report: str, *, now: datetime) -> None: ...
    def load_report(self, run: str) -> str | None: ...
    def window_end(self, dlq: str, run: str) -> datetime | None: ...
    def save_window_end(self, dlq: str, run: str, end: datetime, *, now: datetime) -> None: ...


class Leases(Protocol):
    """The run leases of ``bot.daily.once`` (see ``bot.daily.lease`` for each rule)."""

    def claim(
        self, key: str, owner: str, *, now_ms: int, lease_ms: int
    ) -> tuple[bool, Lease | None]: ...
    def read(self, key: str, *, now_ms: int) -> Lease | None: ...
    def renew(self, key: str, owner: str, *, until_ms: int, pending: dict[str, int]) -> bool: ...
    def complete(self, key: str, owner: str, result: dict[str, Any]) -> bool: ...
    def release(self, key: str, owner: str, *, pending: dict[str, int]) -> bool: ...
    def fail(self, key: str, owner: str, reason: str, *, now_ms: int) -> Lease | None: ...
