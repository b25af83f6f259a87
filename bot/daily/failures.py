"""What becomes of a daily invocation that died on every attempt (a timeout, out of memory, a
crash): Lambda sends its record to the on-failure destination (``handlers/failed.py``), which
marks the scheduled run failed and says why in Slack, so that no report says "still running"
forever and no day goes without a word.

The record is read by ``bot.lambda_api.FailedInvocation`` (its shape is there); its payload is
the daily's event: the schedule's or a continuation's (``bot.daily.events``).

The run's lease decides (``bot.daily.lease.LeaseStore.fail``): a run another attempt completed,
or one a live attempt holds, is left alone. Lambda's retries of one asynchronous invocation keep
its request id, which is the lease's owner.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.daily.blocks import RenderedReport, render_continuation, text_messages
from bot.daily.events import Continuation, ScheduledRun, parse_event
from bot.daily.lease import Lease
from bot.daily.once import Attempt, LeaseTiming
from bot.daily.ports import Leases, Snapshots
from bot.daily.posting import REPORT, ReportPoster
from bot.daily.report import AutoRedrive
from bot.daily.report_updates import ReportUpdates
from bot.errors import AwsError
from bot.lambda_api import FailedInvocation
from bot.printable import printable_logger
from bot.selection import yesterday
from bot.slack.mrkdwn import escape

logger = printable_logger(__name__)


def daily_reason(failure: FailedInvocation) -> str:
    """Why the daily invocation failed, in plain text (every surface escapes it)."""
    detail = f" ({failure.error})" if failure.error != failure.condition else ""
    if failure.condition == "EventAgeExceeded":
        return (
            "Lambda dropped the daily function's event: it grew older than the maximum "
            f"event age{_after(failure.attempts)}{detail}"
        )
    if failure.condition == "RetriesExhausted":
        tries = (
            f"each of its {failure.attempts} attempts" if failure.attempts > 1 else "its attempt"
        )
        return f"the daily function failed on {tries}{detail}"
    return f"the daily function failed ({failure.condition}){detail}"


class DailyFailures:
    """Records a failed daily invocation: its run marked failed, the report and thread told."""

    def __init__(
        self,
        *,
        leases: Leases,
        snapshots: Snapshots,
        poster: ReportPoster,
        updates: ReportUpdates,
        timezone: ZoneInfo,
        clock: Callable[[], datetime],
    ) -> None:
        self.leases = leases
        self.snapshots = snapshots
        self.poster = poster
        self.updates = updates
        self.timezone = timezone
        self.clock = clock

    def record(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Mark the run of ``record`` failed and say why in Slack; UsageError for a record that
        is not the daily's, AwsError / SlackError when it could not (a retry tries again:
        every part is posted once)."""
        failure = FailedInvocation.from_record(record)
        work = parse_event(failure.payload)
        why = daily_reason(failure)
        now = self.clock()
        lease = self.leases.fail(
            work.idempotency_key, failure.request_id, why, now_ms=int(now.timestamp() * 1000)
        )
        if lease is None:
            logger.info("run %s was not failed: another attempt has it", work.idempotency_key)
            return {"status": "not_failed", "key": work.idempotency_key}
        logger.error("run %s failed: %s", work.idempotency_key, why)
        # Not the first attempt of anything: parts already in Slack are updated, never repeated.
        attempt = Attempt(None, work.idempotency_key, failure.request_id, LeaseTiming(), None)
        if isinstance(work, Continuation):
            said = self._continuation(work, why, lease, attempt)
        else:
            said = self._report_run(work, why, attempt)
        return {"status": "failed", "key": work.idempotency_key, "reason": why, **said}

    def _continuation(
        self, work: Continuation, why: str, lease: Lease, attempt: Attempt
    ) -> dict[str, Any]:
        """The thread gets the final count, the report its DLQs' lines without "still
        running"."""
        key = work.scheduled.isoformat()
        counted = dict(work.results)  # as the thread counts them: what moved, not finished
        unknown = []
        for name in work.queues:
            before = counted.get(name, AutoRedrive())
            try:
                moved = self.snapshots.add_moved(key, name, 0, now=self.clock())
                # Moves of the dead attempts that were not in the counter yet.
                moved += lease.pending.get(name, 0)
            except AwsError as exc:
                logger.warning("moves out of %s not read: %s", name, exc)
                unknown.append(name)
                moved = before.moved
            counted[name] = replace(before, moved=moved, continuing=True)
        note = f"Invocation {work.invocation} did not finish: {why}."
        if unknown:
            note += (
                f" What it moved out of {', '.join(unknown)} could not be read: those counts "
                "are the earlier invocations' only."
            )
        messages = render_continuation(work.day, counted, work.invocation, final=False, note=note)
        self.poster.reply(key, f"failed.{work.invocation}", work.thread_ts, messages)
        # The report's lines: stopped, and why.
        stopped = {
            name: replace(r, continuing=False, error=f"{why}; see the thread")
            if name in work.queues
            else r
            for name, r in counted.items()
        }
        update_error = self.updates.update(key, stopped, {}, work.day, attempt)
        return {"queues": list(work.queues), "update_error": update_error}

    def _report_run(self, work: ScheduledRun, why: str, attempt: Attempt) -> dict[str, Any]:
        """A report it posted gets the reason in its thread (and loses any "still running");
        without one, the channel gets the reason in the report's place, which a later run of
        the same event replaces with the report."""
        key = work.scheduled.isoformat()
        day = yesterday(work.scheduled, self.timezone)
        ts = self.poster.find(key, REPORT)
        if ts is None:
            [message] = text_messages(
                f":warning: *The DLQ report for {day.isoformat()} was not made*: {escape(why)}.",
                [
                    "Its auto-redrive may have moved messages before that; they are not counted "
                    "here. Details are in the daily function's log."
                ],
            )
            self.poster.publish(key, RenderedReport(message, []))
            return {"posted": "report"}
        note = f"The 06:00 run did not finish: {escape(why)}."
        self.poster.reply(key, "failed.1", ts, text_messages(note, []))
        try:
            kept = self.updates.kept(key)
        except AwsError:  # kept only when the run handed its auto-redrive over
            return {"posted": "thread"}
        stopped = {
            s.name: replace(s.redrive, continuing=False, error=f"{why}; see the thread")
            for s in kept.dlqs
            if s.redrive is not None and s.redrive.continuing
        }
        update_error = self.updates.update(key, stopped, {}, day, attempt) if stopped else None
        return {"posted": "thread", "update_error": update_error}


def record_daily_failure(record: Mapping[str, Any], failures: DailyFailures) -> dict[str, Any]:
    """What the on-failure destination does with a daily invocation's record (see the module
    docstring); ``failures`` comes with the daily job (``DailyJob.failures``)."""
    return failures.record(record)


def _after(attempts: int) -> str:
    return f" after {attempts} attempt{'s' if attempts != 1 else ''}" if attempts else ""
