"""The 06:00 run: inspect every watched DLQ, auto-redrive yesterday's messages, post the report,
store today's snapshot, and hand the auto-redrive over to a new invocation when time runs out.

1. Read the previous snapshots (for the change and the trend) and inspect every DLQ in parallel
   (``bot.daily.inspector``).
2. Auto-redrive, one DLQ after another, with one deadline (the Lambda's remaining time minus a
   reserve for posting; ``bot.daily.auto_redrive``).
3. Save the snapshots, then post the report (one message, thread replies for the overflow).
4. If time ran out, invoke this function again with the DLQs left (``bot.daily.continuing``).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from typing import Any

from bot.alerts.store import FedDlqStore, record_fed_dlqs
from bot.catalog import Dlq, DlqCatalog
from bot.config import DailySettings, EngineSettings
from bot.daily.auto_redrive import AutoRedriver, Redriven
from bot.daily.continuing import REPORT_RESERVE_S, ContinuationRun, chain_step
from bot.daily.events import Continuation, ScheduledRun
from bot.daily.inspector import DlqInspector, Inspected, failure_line
from bot.daily.once import Attempt
from bot.daily.report import TREND_DAYS, AutoRedrive, DailyReport, DlqStatus
from bot.daily.report_updates import ReportUpdates, total_trend
from bot.daily.snapshots import Snapshot
from bot.expiry import next_report_at
from bot.pacing import Deadline
from bot.run_control import Step
from bot.selection import day_window, yesterday
from bot.sqs_model import SqsApi

# Said in the report when the state table cannot be used (the run goes ahead without it).
NO_STATE_TABLE = (
    "State table unavailable: no change or trend, nothing saved for tomorrow, and no protection "
    "against a second report if this event comes again"
)


# DLQs auto-redriven at once when each starts with a canary (each run has its own engine workers).
CANARY_WORKERS = 4


class ReportRun:
    """The run for the day before a scheduled time."""

    def __init__(
        self,
        *,
        catalog: DlqCatalog,
        gateway: SqsApi,
        inspector: DlqInspector,
        redriver: AutoRedriver,
        updates: ReportUpdates,
        continuation: ContinuationRun,
        daily: DailySettings,
        engine_settings: EngineSettings,
        clock: Callable[[], datetime],
        fed_dlqs: FedDlqStore | None = None,
    ) -> None:
        self.catalog = catalog
        self.gateway = gateway
        self.fed_dlqs = fed_dlqs  # where the alert checks find the DLQs only feeders feed
        self.inspector = inspector
        self.redriver = redriver
        self.updates = updates
        self.continuation = continuation
        self.daily = daily
        self.settings = engine_settings
        self.clock = clock

    def run(self, run: ScheduledRun, context: Any, attempt: Attempt) -> dict[str, Any]:
        """The 06:00 run for the day before ``run.scheduled``."""
        deadline = Deadline.from_lambda_context(context, reserve_s=REPORT_RESERVE_S)
        tz = self.settings.timezone
        day = yesterday(run.scheduled, tz)
        now = self.clock()
        names = self.catalog.watched_names()
        history = self.inspector.histories(names, day)
        next_report = next_report_at(run.scheduled, tz)
        inspected = self.inspector.inspect_all(
            names, day_window(day, tz), now, next_report=next_report
        )

        auto, warnings = self._auto_names(names)
        if attempt.degraded:
            warnings = (NO_STATE_TABLE, *warnings)
        redrives: dict[str, AutoRedrive] = {}
        not_again: dict[str, tuple[str, ...]] = {}  # sent unanswered: the continuation keeps them
        moved_now = scanned_now = 0  # by this attempt (``report.moved``: earlier ones too)
        depths: dict[str, int | None] = {i.name: i.depth for i in inspected}

        def redrive(taking: tuple[Inspected, Dlq]) -> tuple[Redriven, int | None]:
            item, dlq = taking
            selection = self.redriver.selection(run, dlq, day)
            done = self.redriver.redrive(
                run.scheduled, dlq, selection, deadline, attempt, empty=not item.depth
            )
            depth = item.depth
            if depth:
                depth = self._depth_after(dlq, depth, done.moved_now)
            return done, depth

        taken = [(i, i.dlq) for i in inspected if i.name in auto and i.dlq is not None]
        # A canary waits for its copies (DAILY_CANARY_WAIT_S) before the rest moves: DLQs in
        # turn would add their waits up, so with a canary they run side by side.
        workers = CANARY_WORKERS if self.daily.canary_size else 1
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for (item, _), (done, depth) in zip(taken, pool.map(redrive, taken), strict=True):
                moved_now += done.moved_now
                scanned_now += done.scanned_now
                redrives[item.name] = done.result
                if done.not_again:
                    not_again[item.name] = done.not_again
                depths[item.name] = depth

        statuses = [
            _status(item, depths[item.name], redrives.get(item.name), history, day)
            for item in inspected
        ]
        previous_days = [d for h in history.values() for d in h]
        report = DailyReport(
            day=day,
            timezone=tz.key,
            generated_at=now,
            dlqs=tuple(statuses),
            previous_day=max(previous_days) if previous_days else None,
            total_trend=total_trend(statuses),
            auto_redrive_names=tuple(sorted(auto)),
            warnings=warnings,
            time_field=self.daily.time_field,
            next_report=next_report,
            # Read after the DLQs were (discovery or each DLQ's lookup read the feeders).
            unread=tuple((kind.value, why) for kind, why in self.catalog.unread),
        )
        snapshot_error = self.updates.save_snapshots(statuses, day, now)
        self.updates.save_scan_facts(report)
        found = [i.dlq for i in inspected if i.dlq is not None]
        partial = bool(report.unread) or len(found) < len(inspected)  # some not read
        record_fed_dlqs(self.fed_dlqs, found, partial=partial, now=now, unread=self.catalog.unread)
        ts = self.updates.publish(run.scheduled.isoformat(), report, attempt)
        continuing = sorted(name for name, r in redrives.items() if r.continuing)
        continue_error = None
        step = chain_step(1, bool(continuing), moved=moved_now, scanned=scanned_now, idle=0)
        if step.step is Step.CONTINUE:
            self.updates.keep(run.scheduled, report, now)
            continue_error = self.continuation.hand_over(
                Continuation(
                    scheduled=run.scheduled,
                    day=day,
                    queues=tuple(continuing),
                    invocation=2,
                    channel=self.daily.report_channel,
                    thread_ts=ts,
                    results={name: redrives[name] for name in continuing},
                    idle_invocations=step.idle_invocations,
                    not_again=not_again,
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

    def _depth_after(self, dlq: Dlq, before: int, moved: int) -> int | None:
        try:
            info = self.gateway.queue_info(dlq.info.url)
        except Exception as exc:  # noqa: BLE001 - a depth it cannot re-read is estimated, not fatal
            failure_line(exc, "re-reading the depth of", dlq.name)  # logged (with a traceback)
            return max(0, before - moved)
        return info.visible + info.in_flight + info.delayed


def _status(
    item: Inspected,
    depth: int | None,
    redrive: AutoRedrive | None,
    history: dict[str, dict[date, Snapshot]],
    day: date,
) -> DlqStatus:
    """One DLQ's line in the report."""
    past = history.get(item.name, {})
    previous = past[max(past)] if past else None  # its own last snapshot, of whatever day
    if item.error is not None or item.dlq is None:
        return DlqStatus(
            name=item.name,
            error=item.error or "unknown error",
            previous_day=previous.day if previous else None,
        )
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
        kind=item.dlq.kind_label(),
        feeders=tuple(feeder.listed() for feeder in item.dlq.feeders),  # refusals marked
        expiry=item.expiry,
    )
