"""The posted report and what follows it: posting it (each part once per run), keeping it for
the continuation that finishes the auto-redrive, and updating it with the final figures, the
day's snapshots included."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime

from bot.config import DailySettings
from bot.daily.blocks import render_report
from bot.daily.codec import from_json, to_json
from bot.daily.once import Attempt
from bot.daily.ports import Runs, ScanFactsSink, Snapshots
from bot.daily.posting import ReportPoster
from bot.daily.report import TREND_DAYS, AutoRedrive, DailyReport, DlqStatus
from bot.daily.scan_facts import facts_of
from bot.daily.snapshots import Snapshot
from bot.errors import AwsError
from bot.printable import printable_logger

logger = printable_logger(__name__)


class ReportUpdates:
    """Posts, keeps and updates the report of a scheduled run."""

    def __init__(
        self,
        *,
        poster: ReportPoster,
        runs: Runs,
        snapshots: Snapshots,
        daily: DailySettings,
        clock: Callable[[], datetime],
        scan_facts: ScanFactsSink | None = None,
    ) -> None:
        self.poster = poster
        self.runs = runs
        self.snapshots = snapshots
        self.daily = daily
        self.clock = clock
        # None: not kept (the on-failure function, which scans nothing, has no right to them).
        self.scan_facts = scan_facts

    def publish(self, key: str, report: DailyReport, attempt: Attempt) -> str | None:
        """Post (or update) the report and its thread replies, each once per run; the report's
        ts (None when not posted: all clear and REPORT_WHEN_EMPTY is false)."""
        if report.all_clear and not self.daily.report_when_empty:
            logger.info("all clear and REPORT_WHEN_EMPTY is false: nothing posted")
            return None
        return self.poster.publish(key, render_report(report), first_attempt=attempt.first)

    def save_snapshots(self, statuses: list[DlqStatus], day: date, now: datetime) -> str | None:
        """Store every readable DLQ's depth for ``day``; the error, if the table refused."""
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

    def save_scan_facts(self, report: DailyReport) -> str | None:
        """Keep what the report's scan found of each readable DLQ, as the report shows it, for
        the App Home (``bot.daily.scan_facts``); the error, if the table refused."""
        if self.scan_facts is None:
            return None
        found = (facts_of(status, report.generated_at) for status in report.dlqs)
        try:
            self.scan_facts.put_all([f for f in found if f is not None], now=self.clock())
        except AwsError as exc:
            logger.error("scan facts not saved: the Home tab keeps the previous ones: %s", exc)
            return str(exc)
        return None

    def keep(self, scheduled: datetime, report: DailyReport, now: datetime) -> None:
        """Keep the report for the continuation that finishes the auto-redrive to update."""
        try:
            self.runs.save_report(scheduled.isoformat(), json.dumps(to_json(report)), now=now)
        except AwsError as exc:
            logger.error("report not kept: the final figures will be in the thread only: %s", exc)

    def kept(self, key: str) -> DailyReport:
        """The report run ``key`` kept; AwsError if it was not kept or cannot be read."""
        try:
            kept = self.runs.load_report(key)
            if kept is None:
                raise AwsError("the report of this run was not kept")
            return from_json(DailyReport, json.loads(kept))
        except (TypeError, ValueError) as exc:
            raise AwsError(f"the kept report of this run is unreadable: {exc}") from exc

    def update(
        self,
        key: str,
        results: dict[str, AutoRedrive],
        depths: dict[str, int | None],
        day: date,
        attempt: Attempt,
    ) -> str | None:
        """Re-render the report the run kept with the final counts and depths, and update its
        messages (and, with depths read now, the day's snapshots). The error, if it could not;
        SlackError if Slack refused an update (Lambda's retry of the continuation tries again)."""
        try:
            report = self.kept(key)
        except AwsError as exc:
            logger.error("the report keeps its first figures: %s", exc)
            return str(exc)
        statuses = [
            finished(status, results.get(status.name), depths.get(status.name))
            for status in report.dlqs
        ]
        now = self.clock()
        # Its header says when these final figures were read, not only when it was first made.
        final = replace(
            report, dlqs=tuple(statuses), total_trend=total_trend(statuses), updated_at=now
        )
        # Only depths read now make new snapshots: the 06:00 run stored the report's own, and
        # `failed` (which reads none) may not write snapshots (its role, infra/iam/roles.yml).
        if depths:
            self.save_snapshots(statuses, day, now)
        if report.all_clear and not self.daily.report_when_empty:
            return None
        self.poster.publish(key, render_report(final), first_attempt=attempt.first)
        return None


def finished(status: DlqStatus, redrive: AutoRedrive | None, depth: int | None) -> DlqStatus:
    """``status`` with the final result of its auto-redrive and its depth now."""
    if redrive is None:
        return status
    if depth is None:
        return replace(status, redrive=redrive)
    trend = (*status.trend[:-1], depth) if status.trend else ()
    return replace(status, redrive=redrive, depth=depth, trend=trend)


def total_trend(statuses: list[DlqStatus]) -> tuple[int | None, ...]:
    """The readable DLQs' depths added up per day of the trend (None: no DLQ has that day)."""
    readable = [s for s in statuses if s.error is None and s.trend]
    if not readable:
        return ()
    totals: list[int | None] = []
    for index in range(TREND_DAYS):
        values = [s.trend[index] for s in readable if s.trend[index] is not None]
        totals.append(sum(v for v in values if v is not None) if values else None)
    return tuple(totals)
