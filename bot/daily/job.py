"""The daily function's job: the 06:00 report run (``bot.daily.report_run``) and the
continuations of its auto-redrive (``bot.daily.continuing``), each at most once.

Every run goes through ``bot.daily.once`` keyed by the event's scheduled time (continuations by
scheduled time and invocation number): a duplicate event returns the first run's result without
posting or redriving again, one that arrives while the first is alive does nothing, and Lambda's
retry of an attempt that died takes over once the dead attempt's short lease has run out. When the
state table cannot be used at all, the run goes ahead without it (see ``handle``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.daily.continuing import ContinuationRun
from bot.daily.events import Continuation, parse_event
from bot.daily.failures import DailyFailures
from bot.daily.once import Attempt, LeaseTiming, LeaseUnavailableError, lease_owner, run_once
from bot.daily.ports import Leases, Snapshots
from bot.daily.report_run import ReportRun
from bot.errors import AwsError
from bot.printable import printable_logger

logger = printable_logger(__name__)


class DailyJob:
    """Everything one run needs, built once per cold start (see ``bot.daily.builder``)."""

    def __init__(
        self,
        *,
        report: ReportRun,
        continuation: ContinuationRun,
        failures: DailyFailures,
        snapshots: Snapshots,
        leases: Leases,
        clock: Callable[[], datetime],
        lease_timing: LeaseTiming | None = None,
    ) -> None:
        self.report_run = report
        self.continuation = continuation
        # What the on-failure destination does with a record of this function's (failures.py).
        self.failures = failures
        self.snapshots = snapshots
        self.leases = leases
        self.clock = clock
        self.lease_timing = lease_timing or LeaseTiming()

    def handle(self, event: Any, context: Any) -> dict[str, Any]:
        """Run what ``event`` asks for, at most once per scheduled time (or continuation).

        If the state table cannot be used to claim the run, the run goes ahead without it rather
        than leave the channel without a report: no duplicate protection, no change or trend, and
        the report says so. It answers success, so Lambda does not retry it (each retry would
        post another report that nothing could recognise).
        """
        work = parse_event(event)
        owner = lease_owner(context)

        def execute(attempt: Attempt) -> dict[str, Any]:
            self._fold(work.scheduled, attempt)
            if isinstance(work, Continuation):
                return self.continuation.run(work, context, attempt)
            return self.report_run.run(work, context, attempt)

        try:
            return run_once(
                self.leases, work.idempotency_key, owner, execute, timing=self.lease_timing
            )
        except LeaseUnavailableError as exc:
            logger.error("state table unavailable, running without it: %s", exc)
            return execute(Attempt(None, work.idempotency_key, owner, self.lease_timing, None))

    def _fold(self, scheduled: datetime, attempt: Attempt) -> None:
        """Count in the run's counter what dead attempts moved and never counted."""
        for name, moved in sorted(attempt.inherited.items()):
            try:
                self.snapshots.add_moved(scheduled.isoformat(), name, moved, now=self.clock())
            except AwsError as exc:  # still pending: the next attempt tries again
                logger.warning("moves of an earlier attempt out of %s not counted: %s", name, exc)
                continue
            attempt.folded(name)
