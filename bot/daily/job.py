"""The 06:00 job: inspect every watched DLQ, auto-redrive yesterday's messages, post the report,
store today's snapshot, and continue in a new invocation when the time budget runs out.

Order of work in one run, and why:

1. Read the previous snapshots (for the change and the trend) and inspect every DLQ in parallel:
   depth from the queue's attributes, the rest from a bounded sample that is released untouched.
   A DLQ that cannot be read becomes an error line; the others carry on.
2. Auto-redrive, one DLQ after another, with one deadline (the Lambda's remaining time minus a
   reserve for posting). The engine only deletes what SQS confirmed sent, so stopping anywhere is
   safe, and running the same day's selection again later simply continues.
3. Save the snapshots, then post the report (one message, thread replies for the overflow).
4. If time ran out, invoke this function again (``InvocationType="Event"``) with the DLQs left;
   the last invocation posts the final count in the report's thread.

Every run goes through ``bot.daily.once`` keyed by the event's scheduled time (continuations by
scheduled time and invocation number): a duplicate event returns the first run's result without
posting or redriving again, one that arrives while the first is alive does nothing, and Lambda's
retry of an attempt that died takes over once the dead attempt's short lease has run out. When the
state table cannot be used at all, the run goes ahead without it (see ``handle``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from botocore.exceptions import BotoCoreError
from slack_sdk.errors import SlackApiError

from bot.catalog import Dlq, DlqCatalog
from bot.config import DailySettings, EngineSettings
from bot.daily.blocks import render_continuation, render_report, text_messages
from bot.daily.codec import from_json, to_json
from bot.daily.events import Continuation, ScheduledRun, parse_event
from bot.daily.figures import FigureCounter, SampleFigures
from bot.daily.lease import LeaseStore
from bot.daily.once import Attempt, LeaseTiming, LeaseUnavailableError, run_once
from bot.daily.posting import ReportPoster
from bot.daily.report import TREND_DAYS, AutoRedrive, DailyReport, DlqStatus
from bot.daily.scan import sample_messages
from bot.daily.snapshots import RunState, Snapshot, SnapshotStore
from bot.engine import RedriveEngine
from bot.errors import AwsError, DlqRedriveError
from bot.lambda_gateway import LambdaGateway
from bot.pacing import Deadline
from bot.printable import printable_logger
from bot.redrive_model import RedriveReport, RedriveRequest, StopReason
from bot.selection import Selection, TimeWindow, day_window, yesterday
from bot.sqs_gateway import SqsGateway
from bot.sqs_model import QueueInfo

logger = printable_logger(__name__)

# Kept back from the Lambda's remaining time for releasing held messages and posting the report.
REPORT_RESERVE_S = 30.0
# Said in the report when the state table cannot be used (the run goes ahead without it).
NO_STATE_TABLE = (
    "State table unavailable: no change or trend, nothing saved for tomorrow, and no protection "
    "against a second report if this event comes again"
)
# A continuation chain stops after this many invocations, and whenever one moved nothing.
MAX_INVOCATIONS = 20
# The auto-redrive never reaches further back than this many days (after days without a run).
CATCH_UP_DAYS = 7
INSPECT_WORKERS = 8


@dataclass(frozen=True)
class _Inspected:
    name: str
    dlq: Dlq | None
    depth: int | None
    figures: SampleFigures | None
    error: str | None


class DailyJob:
    """Everything one run needs, built once per cold start (see ``handlers.daily``)."""

    def __init__(
        self,
        *,
        catalog: DlqCatalog,
        engine: RedriveEngine,
        gateway: SqsGateway,
        snapshots: SnapshotStore,
        slack: Any,
        invoker: LambdaGateway,
        daily: DailySettings,
        engine_settings: EngineSettings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        runs: RunState | None = None,
        leases: LeaseStore | None = None,
        lease_timing: LeaseTiming | None = None,
        redrive_workers: int | None = None,
    ) -> None:
        self.catalog = catalog
        self.engine = engine
        self.gateway = gateway
        self.snapshots = snapshots
        self.slack = slack
        self.invoker = invoker
        self.leases = (
            leases if leases is not None else LeaseStore(snapshots.table)
        )
        self.lease_timing = lease_timing or LeaseTiming()
        # The auto-redrive's engine workers (None: the engine's default).
        self.redrive_workers = redrive_workers
        self.daily = daily
        self.settings = engine_settings
        self.clock = clock
        self.runs = runs if runs is not None else RunState(snapshots.table)
        self.poster = ReportPoster(slack, self.runs, daily.report_channel, clock)

    # --- entry ---------------------------------------------------------------------------------

    def handle(self, event: Any, context: Any) -> dict[str, Any]:
        """Run what ``event`` asks for, at most once per scheduled time (or continuation).

        If the state table cannot be used to claim the run, the run goes ahead without it rather
        than leave the channel without a report: no duplicate protection, no change or trend, and
        the report says so. It answers success, so Lambda does not retry it (each retry would
        post another report that nothing could recognise).
        """
        work = parse_event(event)
        # Lambda's retry of an asynchronous invocation keeps its request id.
        owner = str(getattr(context, "aws_request_id", "") or uuid.uuid4())

        def execute(attempt: Attempt) -> dict[str, Any]:
            self._fold(work.scheduled, attempt)
            if isinstance(work, Continuation):
                return self.continue_redrive(work, context, attempt)
            return self.report(work, context, attempt)

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

    # --- the report run ------------------------------------------------------------------------

    def report(self, run: ScheduledRun, context: Any, attempt: Attempt) -> dict[str, Any]:
        """The 06:00 run for the day before ``run.scheduled``."""
        deadline = Deadline.from_lambda_context(context, reserve_s=REPORT_RESERVE_S)
        tz = self.settings.timezone
        day = yesterday(run.scheduled, tz)
        window = day_window(day, tz)
        now = self.clock()
        names = self.catalog.watched_names()
        history = self._histories(names, day)
        with ThreadPoolExecutor(max_workers=INSPECT_WORKERS) as pool:
            inspected = list(pool.map(lambda name: self._inspect(name, window, now), names))

        auto, warnings = self._auto_names(names)
        if attempt.degraded:
            warnings = (NO_STATE_TABLE, *warnings)
        redrives: dict[str, AutoRedrive] = {}
        moved_now = 0  # by this attempt (``report.moved`` includes earlier failed attempts)
        depths: dict[str, int | None] = {i.name: i.depth for i in inspected}
        for item in inspected:
            if item.name not in auto or item.dlq is None:
                continue
            selection = self._auto_selection(run, item.dlq, day)
            # An empty DLQ needs no scan; its count may still hold what a failed attempt moved.
            done = (
                self._redrive(item.dlq, selection, deadline, attempt)
                if item.depth
                else AutoRedrive(selection=selection)
            )
            moved_now += done.moved
            redrives[item.name] = self._counted(run.scheduled, item.name, done, now, attempt)
            self._window_done(run.scheduled, item.name, done, now)
            if item.depth:
                depths[item.name] = self._depth_after(item.dlq, item.depth, done)

        statuses = [
            self._status(item, depths[item.name], redrives.get(item.name), history, day)
            for item in inspected
        ]
        previous_days = [d for h in history.values() for d in h]
        report = DailyReport(
            day=day,
            timezone=tz.key,
            generated_at=now,
            dlqs=tuple(statuses),
            previous_day=max(previous_days) if previous_days else None,
            total_trend=_total_trend(statuses),
            auto_redrive_names=tuple(sorted(auto)),
            warnings=warnings,
            time_field=self.daily.time_field,
        )
        snapshot_error = self._save_snapshots(statuses, day, now)
        ts = self._post(run.scheduled, report, attempt)
        continuing = sorted(name for name, r in redrives.items() if r.continuing)
        continue_error = None
        if continuing:
            self._keep_report(run.scheduled, report, now)
            continue_error = self._chain(
                Continuation(
                    scheduled=run.scheduled,
                    day=day,
                    queues=tuple(continuing),
                    invocation=2,
                    channel=self.daily.report_channel,
                    thread_ts=ts,
                    results={name: redrives[name] for name in continuing},
                ),
                context,
                attempt,
            )
        return {
            "status": "reported",
            "day": day.isoformat(),
            "channel": self.daily.report_channel,
            "ts": ts,
            "dlqs": len(statuses),
            "total": report.total,
            "unreadable": [s.name for s in report.unreadable],
            "moved": report.moved,
            "moved_now": moved_now,
            "failed": sum(r.failed for r in redrives.values()),
            "redrive_errors": sorted(n for n, r in redrives.items() if r.error),
            "continuing": continuing,
            "continue_error": continue_error,
            "snapshot_error": snapshot_error,
        }

    def _auto_names(self, watched: list[str]) -> tuple[set[str], tuple[str, ...]]:
        configured = self.daily.auto_redrive
        if configured is None:
            return set(watched), ()
        unknown = [name for name in configured if name not in watched]
        warnings = (
            (f"AUTO_REDRIVE names {', '.join(unknown)}, not watched DLQs: skipped",)
            if unknown
            else ()
        )
        return set(configured) & set(watched), warnings

    def _histories(self, names: list[str], day: date) -> dict[str, dict[date, Snapshot]]:
        try:
            return self.snapshots.histories(
                names, day - timedelta(days=TREND_DAYS), day - timedelta(days=1)
            )
        except AwsError as exc:
            logger.warning("no trend today: %s", exc)
            return {}

    def _inspect(self, name: str, window: TimeWindow, now: datetime) -> _Inspected:
        try:
            dlq = self.catalog.get(name)
            info = dlq.info
            counter = FigureCounter(
                yesterday=window,
                tz=self.settings.timezone,
                max_redrives=self.settings.max_redrives,
                error_attribute=self.daily.error_attribute,
                time_field=self.daily.time_field,
            )
            # Counted as the messages arrive: none is kept (up to 8 DLQs are read at once).
            sample = sample_messages(
                self.gateway,
                info.url,
                limit=self.daily.sample_size,
                expected=info.visible,
                on_message=counter.add,
            )
            depth = info.visible + info.in_flight + info.delayed
            figures = counter.figures(capped=sample.capped, population=depth)
        except Exception as exc:  # noqa: BLE001 - one DLQ's failure is its line, not the report's
            return _Inspected(name, None, None, None, _failure_line(exc, "reading", name))
        return _Inspected(name, dlq, depth, figures, None)

    def _redrive(
        self, dlq: Dlq, selection: Selection, deadline: Deadline, attempt: Attempt
    ) -> AutoRedrive:
        if deadline.expired():
            return AutoRedrive(continuing=True, selection=selection)
        request = RedriveRequest(selection=selection)
        if self.redrive_workers is not None:
            request = replace(request, workers=self.redrive_workers)
        live: list[RedriveReport] = []  # the engine's own report, handed over after a batch

        def keep(report: RedriveReport) -> None:
            if not live:
                live.append(report)
            # The lease's heartbeat keeps it: if this attempt dies, the next one counts it.
            attempt.note(dlq.name, report.moved)

        try:
            result = self.engine.run(dlq, request, deadline=deadline, on_progress=keep)
        except Exception as exc:  # noqa: BLE001 - the engine released what it held; report it
            # What it moved before the error is moved: it still counts (the report's line says
            # so). A batch in hand at the error may have moved without being counted.
            moved = live[0].moved if live else 0
            failure = _failure_line(exc, "auto-redriving", dlq.name)
            if moved:
                failure += "; a batch in hand then may have moved too"
            return AutoRedrive(moved=moved, error=failure, selection=selection)
        error = None
        if result.stopped is StopReason.ERROR:
            error = result.error or "stopped by an error"
        elif result.stopped is StopReason.IN_FLIGHT_LIMIT:
            error = "stopped: too many older messages in the DLQ to look past; redrive by hand"
        return AutoRedrive(
            moved=result.moved,
            failed=result.failed,
            unconfirmed=result.unconfirmed,
            held_back=result.held_back,
            not_attempted=result.not_attempted,
            blocked_groups=result.blocked_groups,
            needs_human=result.needs_human,
            no_source=result.no_source,
            unreadable_time=result.unreadable,
            continuing=result.stopped is StopReason.DEADLINE,
            error=error,
            outside=result.out_of_window,
            selection=selection,
            # Drained: it looked at every message, so the report can count the day exactly.
            scanned=result.scanned if result.stopped is StopReason.DRAINED else None,
        )

    def _counted(
        self,
        scheduled: datetime,
        name: str,
        redrive: AutoRedrive,
        now: datetime,
        attempt: Attempt,
        *,
        known: int = 0,
    ) -> AutoRedrive:
        """``redrive`` with ``moved`` including what every earlier attempt and invocation of the
        scheduled run moved out of ``name``: the run's counter in the state table, which also
        holds what a failed attempt moved (its event does not). ``known``: what this invocation
        was told was moved before it (a continuation's event), used if the counter cannot be
        read."""
        # Noted in the lease first: if this attempt dies while counting, the next one counts it.
        attempt.note(name, redrive.moved)
        try:
            attempt.flush()
            total = self.snapshots.add_moved(scheduled.isoformat(), name, redrive.moved, now=now)
        except AwsError as exc:
            logger.warning("moved count of %s not recorded: %s", name, exc)
            total = known + redrive.moved
        else:
            try:
                attempt.counted(name)
            except AwsError as exc:  # a takeover would count these moves twice: say so
                logger.error("moves out of %s counted but still noted as pending: %s", name, exc)
        # What earlier attempts moved was in the DLQ too: part of what this run looked at.
        scanned = None if redrive.scanned is None else redrive.scanned + total - redrive.moved
        return replace(redrive, moved=total, scanned=scanned)

    def _depth_after(self, dlq: Dlq, before: int | None, redrive: AutoRedrive) -> int | None:
        try:
            info = self.gateway.queue_info(dlq.info.url)
        except Exception as exc:  # noqa: BLE001 - a depth it cannot re-read is estimated, not fatal
            _failure_line(exc, "re-reading the depth of", dlq.name)  # logged (with a traceback)
            return None if before is None else max(0, before - redrive.moved)
        return info.visible + info.in_flight + info.delayed

    def _status(
        self,
        item: _Inspected,
        depth: int | None,
        redrive: AutoRedrive | None,
        history: dict[str, dict[date, Snapshot]],
        day: date,
    ) -> DlqStatus:
        if item.error is not None or item.dlq is None:
            past = history.get(item.name, {})
            previous = past[max(past)] if past else None
            return DlqStatus(
                name=item.name,
                error=item.error or "unknown error",
                previous_day=previous.day if previous else None,
            )
        past = history.get(item.name, {})
        previous = past[max(past)] if past else None  # its own last snapshot, of whatever day
        days = [day - timedelta(days=n) for n in range(TREND_DAYS - 1, 0, -1)]
        return DlqStatus(
            name=item.name,
            depth=depth,
            depth_before=item.depth,
            previous_depth=previous.depth if previous else None,
            previous_day=previous.day if previous else None,
            previous_exact=previous.exact if previous else False,
            figures=item.figures,
            redrive=redrive,
            trend=(*(past[d].depth if d in past else None for d in days), depth),
            sources=item.dlq.source_names,
        )

    def _save_snapshots(self, statuses: list[DlqStatus], day: date, now: datetime) -> str | None:
        snapshots = [
            Snapshot(s.name, day, s.depth, exact=s.depth_exact)
            for s in statuses
            if s.depth is not None
        ]
        try:
            self.snapshots.put_all(snapshots, taken_at=now)
        except AwsError as exc:
            logger.error("snapshots not saved: %s", exc)
            return str(exc)
        return None

    def _post(self, scheduled: datetime, report: DailyReport, attempt: Attempt) -> str | None:
        """Post the report and its thread replies, each once per run; the report's ts (None
        when not posted)."""
        if report.all_clear and not self.daily.report_when_empty:
            logger.info("all clear and REPORT_WHEN_EMPTY is false: nothing posted")
            return None
        return self.poster.publish(
            scheduled.isoformat(), render_report(report), first_attempt=attempt.first
        )

    def _chain(self, continuation: Continuation, context: Any, attempt: Attempt) -> str | None:
        """Invoke the next continuation; on failure say so in the thread and return the error."""
        try:
            self.invoker.invoke_async(context.function_name, continuation.to_event())
        except AwsError as exc:
            logger.error("cannot continue the auto-redrive: %s", exc)
            done = continuation.invocation - 1
            messages = render_continuation(
                continuation.day,
                continuation.results,
                done,
                final=False,
                note=f"Could not continue: {exc}",
            )
            self.poster.reply(
                continuation.scheduled.isoformat(),
                f"stopped.{done}",
                continuation.thread_ts,
                messages,
                first_attempt=attempt.first,
            )
            return str(exc)
        return None

    def _keep_report(self, scheduled: datetime, report: DailyReport, now: datetime) -> None:
        """Keep the report for the continuation that finishes the auto-redrive to update."""
        try:
            self.runs.save_report(scheduled.isoformat(), json.dumps(to_json(report)), now=now)
        except AwsError as exc:
            logger.error("report not kept: the final figures will be in the thread only: %s", exc)

    # --- continuations ------------------------------------------------------------------------

    def continue_redrive(
        self, work: Continuation, context: Any, attempt: Attempt
    ) -> dict[str, Any]:
        """Carry on the auto-redrive of ``work.queues``; the last one posts the final count in
        the thread and updates the report with the final figures."""
        deadline = Deadline.from_lambda_context(context, reserve_s=REPORT_RESERVE_S)
        results = dict(work.results)
        still: list[str] = []
        progress = 0
        for name in work.queues:
            before = results.get(name, AutoRedrive())
            try:
                dlq = self.catalog.get(name)
            except (DlqRedriveError, BotoCoreError) as exc:
                results[name] = replace(before, continuing=False, error=str(exc))
                continue
            # The same selection as the report run's (its window is in the event).
            selection = before.selection or self._auto_selection(work, dlq, work.day)
            now = self._redrive(dlq, selection, deadline, attempt)
            progress += now.moved
            # Moves add up (in the run's counter, with those of attempts that failed); what is
            # left (failed, poison, unreadable) is what this invocation saw.
            results[name] = self._counted(
                work.scheduled, name, now, self.clock(), attempt, known=before.moved
            )
            self._window_done(work.scheduled, name, now, self.clock())
            if now.continuing:
                still.append(name)
        if still and progress and work.invocation < MAX_INVOCATIONS:
            error = self._chain(
                Continuation(
                    scheduled=work.scheduled,
                    day=work.day,
                    queues=tuple(still),
                    invocation=work.invocation + 1,
                    channel=work.channel,
                    thread_ts=work.thread_ts,
                    results=results,
                ),
                context,
                attempt,
            )
            if error is None:
                return {
                    "status": "continuing",
                    "invocation": work.invocation,
                    "moved": progress,
                    "queues": still,
                }
        depths = self._depths_now(list(results))
        messages = render_continuation(
            work.day, results, work.invocation, final=not still, depths=depths
        )
        key = work.scheduled.isoformat()
        self.poster.reply(
            key, f"final.{work.invocation}", work.thread_ts, messages, first_attempt=attempt.first
        )
        if still:  # the report says it stopped (it said "still running")
            stopped = f"stopped after {work.invocation} invocations without finishing"
            results = {
                name: replace(r, continuing=False, error=r.error or f"{stopped}; see the thread")
                if name in still
                else r
                for name, r in results.items()
            }
        try:
            update_error = self._update_report(key, results, depths, work.day, attempt)
        except SlackApiError as exc:
            if not attempt.last:
                raise  # Lambda runs this continuation again: each part is posted once
            update_error = f"Slack refused to update the report ({exc.response.get('error')})"
            logger.error("%s on the last attempt", update_error)
            note = (
                f"The report above still shows its first figures: Slack refused to update it "
                f"({exc.response.get('error')}) on each of {attempt.number} attempts. The final "
                "figures are the ones in this thread."
            )
            self.poster.reply(
                key, f"not-updated.{work.invocation}", work.thread_ts, text_messages(note, [])
            )
        return {
            "status": "finished" if not still else "stopped",
            "invocation": work.invocation,
            "moved": progress,  # in this invocation (metrics add them up)
            "total_moved": sum(r.moved for r in results.values()),
            "queues": list(work.queues),
            "update_error": update_error,
        }

    def _depths_now(self, names: list[str]) -> dict[str, int | None]:
        depths: dict[str, int | None] = {}
        for name in names:
            try:
                info = self.gateway.queue_info(self.catalog.get(name).info.url)
            except (DlqRedriveError, BotoCoreError) as exc:
                logger.warning("depth of %s not read: %s", name, exc)
                depths[name] = None
                continue
            depths[name] = info.visible + info.in_flight + info.delayed
        return depths

    def _update_report(
        self,
        key: str,
        results: dict[str, AutoRedrive],
        depths: dict[str, int | None],
        day: date,
        attempt: Attempt,
    ) -> str | None:
        """Re-render the report the run kept with the final counts and depths, and update its
        messages (and the day's snapshots). The error, if it could not; SlackApiError if Slack
        refused an update (Lambda's retry of the continuation tries again)."""
        try:
            kept = self.runs.load_report(key)
            if kept is None:
                raise AwsError("the report of this run was not kept")
            report = from_json(DailyReport, json.loads(kept))
        except (AwsError, TypeError, ValueError) as exc:
            logger.error("the report keeps its first figures: %s", exc)
            return str(exc)
        statuses = [
            _finished(status, results.get(status.name), depths.get(status.name))
            for status in report.dlqs
        ]
        now = self.clock()
        # Its header says when these final figures were read, not only when it was first made.
        final = replace(
            report, dlqs=tuple(statuses), total_trend=_total_trend(statuses), updated_at=now
        )
        self._save_snapshots(statuses, day, now)
        if report.all_clear and not self.daily.report_when_empty:
            return None
        self.poster.publish(key, render_report(final), first_attempt=attempt.first)
        return None

    # --- the auto-redrive's window ----------------------------------------------------------

    def _auto_selection(self, run: ScheduledRun | Continuation, dlq: Dlq, day: date) -> Selection:
        """What the auto-redrive of ``dlq`` takes in the run for ``day`` (see
        ``auto_redrive_window``)."""
        try:
            previous = self.runs.window_end(dlq.name, run.scheduled.isoformat())
        except AwsError as exc:
            logger.warning("no previous window of %s, taking yesterday only: %s", dlq.name, exc)
            previous = None
        window = auto_redrive_window(
            previous, day, self.settings.timezone, lookback_days=dead_letter_days(dlq.sources)
        )
        return Selection(window=window, time_field=self.daily.time_field)

    def _window_done(
        self, scheduled: datetime, name: str, redrive: AutoRedrive, now: datetime
    ) -> None:
        """Record where the window of ``name`` ends once its auto-redrive went through it all."""
        selection = redrive.selection
        if redrive.continuing or redrive.error or selection is None or not selection.window.end:
            return
        try:
            self.runs.save_window_end(name, scheduled.isoformat(), selection.window.end, now=now)
        except AwsError as exc:
            logger.warning("window of %s not recorded (the next run starts earlier): %s", name, exc)


def dead_letter_days(sources: Iterable[QueueInfo]) -> int:
    """How many days back from the previous window's end the auto-redrive of a DLQ fed by
    ``sources`` looks again: the longest a message can spend in one of them before SQS
    dead-letters it, by the queue's settings (maxReceiveCount receives, each hiding it for the
    VisibilityTimeout, after DelaySeconds), rounded up to whole days; at least 1 (the day the
    previous run went through may hold a message sent just before midnight), at most
    ``CATCH_UP_DAYS``. Time a message waits for a consumer, or a consumer that extends its
    visibility, is not in the settings: such a message can dead-letter later still."""
    longest = max(
        (
            s.max_receive_count * s.visibility_timeout_s + s.delay_s
            for s in sources
            if s.max_receive_count is not None
        ),
        default=0,
    )
    days = -(-longest // int(timedelta(days=1).total_seconds()))  # rounded up
    return min(CATCH_UP_DAYS, max(1, days))


def auto_redrive_window(
    previous_end: datetime | None, day: date, tz: ZoneInfo, *, lookback_days: int = 1
) -> TimeWindow:
    """The auto-redrive's window in the run that reports on ``day``: ``[start, day + 1)``.

    Standard DLQs keep a message's original SentTimestamp (and a body's time field never
    changes), so a message sent late on one day that dead-letters after the next 06:00 run has a
    time inside a window already redriven. Each run therefore takes again the last
    ``lookback_days`` days of the previous finished window (``previous_end``; see
    ``dead_letter_days``), and every day since: a message is taken by the first run after it
    dead-letters, as long as it dead-lettered within that time of being sent. Without a previous
    window, yesterday only; never more than ``CATCH_UP_DAYS`` days in all.
    """
    end = day_window(day, tz).end
    first = day
    if previous_end is not None:
        first = previous_end.astimezone(tz).date() - timedelta(days=lookback_days)
    first = min(day, max(first, day - timedelta(days=CATCH_UP_DAYS - 1)))
    return TimeWindow(day_window(first, tz).start, end)


def _finished(status: DlqStatus, redrive: AutoRedrive | None, depth: int | None) -> DlqStatus:
    """``status`` with the final result of its auto-redrive and its depth now."""
    if redrive is None:
        return status
    if depth is None:
        return replace(status, redrive=redrive)
    trend = (*status.trend[:-1], depth) if status.trend else ()
    return replace(status, redrive=redrive, depth=depth, trend=trend)


def _failure_line(exc: Exception, doing: str, name: str) -> str:
    """The error line of DLQ ``name`` when ``doing`` it raised ``exc`` (and log it).

    Our errors and botocore's are worded for people already. Anything else is a bug or an input
    nobody foresaw: it costs that DLQ its line, never the whole report, and its traceback goes to
    the log rather than its text to Slack.
    """
    if isinstance(exc, DlqRedriveError | BotoCoreError):
        logger.error("%s %s failed: %s", doing, name, exc)
        return str(exc)
    logger.exception("unexpected error %s %s", doing, name)
    return f"unexpected {type(exc).__name__} while {doing} it; details in the function's log"


def _total_trend(statuses: list[DlqStatus]) -> tuple[int | None, ...]:
    readable = [s for s in statuses if s.error is None and s.trend]
    if not readable:
        return ()
    totals: list[int | None] = []
    for index in range(TREND_DAYS):
        values = [s.trend[index] for s in readable if s.trend[index] is not None]
        totals.append(sum(v for v in values if v is not None) if values else None)
    return tuple(totals)
