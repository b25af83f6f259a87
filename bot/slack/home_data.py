"""What one person's App Home tab shows, read for ``bot.slack.home`` (``HomeReader.read``).

Opening a tab must be cheap and must not touch a DLQ's messages: the DLQs come from
``bot.watched_dlqs`` as the alert check reads them (each queue's attributes read once, 8 at a
time: SQS's approximate counts, never a ReceiveMessage, which would hide messages from their
consumers and add to their receive counts; no feeder scan: the DLQs only feeders feed and each
DLQ's feeder kinds are the daily report's record, shown "as of" it), and what only a scan can
tell (the oldest message, the next expiry, the top errors) from the last daily report's scan
(``bot.daily.scan_facts``), with its trend from the report's snapshots. The state table gives
the pending approvals (one query of their index, one batch get) and the runs in progress.

Each part is read on its own: one that fails (the state table down, a configured DLQ deleted,
the approvers' user group unreadable) becomes a ``problems`` line and the rest still shows.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from bot.clock import Clock, utcnow
from bot.errors import DlqRedriveError
from bot.kind_words import unread_lines
from bot.slack.approvals import ApprovalRules, Decision, refusal
from bot.slack.home_model import (
    HomeData,
    HomeDlq,
    HomePart,
    PendingApproval,
    RunInProgress,
    ScanFacts,
    TrendPoint,
)
from bot.state_model import ACTIVE_RUN_STATUSES, ApprovalRequest
from bot.watched_dlqs import FedDlqs, FedRecord, WatchedDlq, WatchedDlqs, WatchedRead

if TYPE_CHECKING:  # types only: the worker has loaded them already
    from bot.daily.snapshots import Snapshot
    from bot.slack.queues import Queues
    from bot.slack.worker_ports import Approvers
    from bot.state import StateStore

T = TypeVar("T")


class Trends(Protocol):
    """The daily report's depth snapshots (``bot.daily.snapshots.SnapshotStore``)."""

    def histories(
        self, dlqs: list[str], first: date, last: date
    ) -> dict[str, dict[date, Snapshot]]: ...


class LastScans(Protocol):
    """Each DLQ's last scan facts (``bot.daily.scan_facts.ScanFactsStore``)."""

    def get_many(self, dlqs: list[str]) -> dict[str, ScanFacts]: ...


@dataclass(frozen=True)
class HomeOptions:
    """``allow_self_approval``: ALLOW_SELF_APPROVAL (who may decide a request). ``trend_days``:
    the report days a trend covers. ``recent_runs``: how many of the latest runs are looked at
    for those in progress (a run is listed while it is among them)."""

    allow_self_approval: bool = False
    trend_days: int = 7
    recent_runs: int = 25


@dataclass(frozen=True)
class _Part(Generic[T]):
    """One part of the tab as read: its value, or (``problem``) why it could not be;
    ``failed``: the value is a stand-in for what could not be read (not an empty result)."""

    value: T
    problem: str | None = None
    failed: bool = False


def _part(read: Callable[[], T], empty: T, what: str) -> _Part[T]:
    """``read()``, or ``empty`` and a problem line saying ``what`` could not be read and why."""
    try:
        return _Part(read())
    except DlqRedriveError as exc:  # worded for people by the gateways (AWS's, Slack's)
        return _Part(empty, f"{what} could not be read: {exc}", failed=True)


def _problems(*parts: _Part[Any]) -> list[str]:
    return [part.problem for part in parts if part.problem is not None]


class HomeReader:
    """Reads ``HomeData`` for one viewer. Build it once per worker:
    ``HomeReader(queues=..., state=..., snapshots=SnapshotStore(table),
    scan_facts=ScanFactsStore(table), approvers=..., fed=FedDlqStore(table), clock=...,
    options=HomeOptions(...))``."""

    def __init__(
        self,
        *,
        queues: Queues,
        state: StateStore,
        snapshots: Trends,
        scan_facts: LastScans,
        approvers: Approvers,
        fed: FedDlqs,
        clock: Clock = utcnow,
        options: HomeOptions | None = None,
    ) -> None:
        self.queues = queues
        self.state = state
        self.snapshots = snapshots
        self.scan_facts = scan_facts
        self.approvers = approvers
        self.fed = fed
        self.clock = clock
        self.options = options or HomeOptions()

    def read(self, user: str) -> HomeData:
        """Everything ``user``'s tab shows, as of now; never raises for a part that failed."""
        now = self.clock()
        with ThreadPoolExecutor(max_workers=4) as pool:
            # The state table's parts go while SQS is read.
            approvals = pool.submit(self._approvals, user, now)
            runs = pool.submit(self._runs)
            # No feeder scan: the feeder-fed DLQs and kinds are the daily report's record.
            watched = WatchedDlqs(self.queues.gateway, self.queues.settings, self.fed)
            dlqs, record, dlq_problems, dlqs_not_read = self._dlqs(watched.read)
            names = [dlq.name for dlq in dlqs]
            today = now.astimezone(self.queues.tz).date()
            trends = pool.submit(self._trends, names, today)
            scans = pool.submit(self._scans, names)
            parts = (approvals.result(), runs.result(), trends.result(), scans.result())
        trend_of, scan_of = trends.result().value, scans.result().value
        failed: dict[HomePart, bool] = {
            "dlqs": dlqs_not_read is None,
            "approvals": approvals.result().failed,
            "runs": runs.result().failed,
            "scans": scans.result().failed,
        }
        shown = [
            HomeDlq(
                name=dlq.name,
                kind=dlq.kind_label(),
                fifo=dlq.info.fifo,
                depth=dlq.info.visible,
                in_flight=dlq.info.in_flight,
                retention_s=dlq.info.retention_s,
                trend=trend_of.get(dlq.name, ()),
                scan=scan_of.get(dlq.name),
            )
            for dlq in dlqs
        ]
        return HomeData(
            user=user,
            read_at=now,
            dlqs=tuple(sorted(shown, key=lambda d: (-d.depth, d.name))),
            approvals=approvals.result().value,
            runs=runs.result().value[0],
            runs_window=runs.result().value[1],
            # Read after the DLQs were (their discovery or look-up read the feeders).
            unread=tuple(unread_lines(record.unread)) if record is not None else (),
            problems=(*dlq_problems, *_problems(*parts)),
            not_read=frozenset(part for part, yes in failed.items() if yes),
            dlqs_not_read=dlqs_not_read or 0,  # one problem line a DLQ
            kinds_as_of=record.recorded_at if record is not None else None,
        )

    @staticmethod
    def _dlqs(
        read: Callable[[], WatchedRead],
    ) -> tuple[list[WatchedDlq], FedRecord | None, list[str], int | None]:
        """The DLQs read, the daily report's record of feeders, a problem line for each DLQ
        not read (and the record, if it was not), and how many DLQs were not read (None:
        none could be)."""
        try:
            found = read()
        except DlqRedriveError as exc:
            return [], None, [f"The watched DLQs could not be read: {exc}"], None
        problems = [f"DLQ {name} could not be read: {why}" for name, why in found.unread]
        if found.record_problem is not None:
            problems.append(
                "The daily report's record of the DLQs feeders feed could not be read "
                f"(those DLQs are missing, the kinds not known): {found.record_problem}"
            )
        return found.dlqs, found.record, problems, len(found.unread)

    def _trends(self, names: list[str], today: date) -> _Part[dict[str, tuple[TrendPoint, ...]]]:
        """The last ``trend_days`` report days before ``today`` (a report's day is the day
        before it ran), oldest first; days without a snapshot are absent."""
        first = today - timedelta(days=self.options.trend_days)
        last = today - timedelta(days=1)

        def read() -> dict[str, tuple[TrendPoint, ...]]:
            found = self.snapshots.histories(names, first, last) if names else {}
            return {
                name: tuple(
                    TrendPoint(day, snapshot.depth, snapshot.exact)
                    for day, snapshot in sorted(days.items())
                )
                for name, days in found.items()
            }

        return _part(read, {}, "The daily trend")

    def _scans(self, names: list[str]) -> _Part[dict[str, ScanFacts]]:
        return _part(lambda: self.scan_facts.get_many(names), {}, "The last daily scans")

    def _approvals(self, user: str, now: datetime) -> _Part[tuple[PendingApproval, ...]]:
        pending: _Part[list[ApprovalRequest]] = _part(
            lambda: self.state.pending_requests(now), [], "Pending approvals"
        )
        deciders: _Part[frozenset[str]] = _part(
            self.approvers.members, frozenset(), "Who may approve"
        )
        rules = ApprovalRules(deciders.value, self.options.allow_self_approval)
        approvals = tuple(_pending(request, user, rules) for request in pending.value)
        # Approvers unknown: nobody is shown as one (fail closed), and the tab says why.
        problem = pending.problem or (deciders.problem if pending.value else None)
        return _Part(approvals, problem, failed=pending.failed)

    def _runs(self) -> _Part[tuple[tuple[RunInProgress, ...], int | None]]:
        """The runs in progress among the latest ``recent_runs``, and that number when there
        may be older runs (as many were read as asked for), else None."""
        window: int | None = None

        def read() -> tuple[list[RunInProgress], list[str]]:
            nonlocal window
            recent = self.state.recent_runs(self.options.recent_runs)
            if len(recent) >= self.options.recent_runs:
                window = self.options.recent_runs
            active = [run for run in recent if run.status in ACTIVE_RUN_STATUSES]
            requests = self.state.requests([run.run_id for run in active])
            runs: list[RunInProgress] = []
            missing: list[str] = []
            for run in active:
                request = requests.get(run.run_id)  # a run's id is its request's
                if request is None:
                    missing.append(run.run_id)
                    continue
                runs.append(
                    RunInProgress(
                        run_id=run.run_id,
                        dlq=run.dlq,
                        action=request.action,
                        moved=run.moved,
                        matched=request.matched,
                        started_at=run.started_at,
                        approved_by=run.approved_by,
                    )
                )
            return runs, missing

        part: _Part[tuple[list[RunInProgress], list[str]]] = _part(
            read, ([], []), "Runs in progress"
        )
        runs, missing = part.value
        problem = part.problem or (
            f"Runs in progress without their request (not shown): {', '.join(missing)}"
            if missing
            else None
        )
        return _Part((tuple(runs), window), problem, failed=part.failed)


def _pending(request: ApprovalRequest, user: str, rules: ApprovalRules) -> PendingApproval:
    return PendingApproval(
        request_id=request.request_id,
        dlq=request.dlq,
        action=request.action,
        matched=request.matched,
        count_complete=request.count_complete,
        selection_text=request.selection_text,
        requested_by=request.requester,
        requested_at=request.requested_at,
        expires_at=request.approval_expires_at,
        channel=request.channel,
        message_ts=request.message_ts,
        mine=request.requester == user,
        # As the card's Approve button would decide it: approvers only, not their own request
        # unless allowed, and never one whose stored pin is incomplete (it cannot run).
        may_decide=refusal(request, user, Decision.APPROVE, rules) is None
        and request.pin_unreadable is None,
    )
