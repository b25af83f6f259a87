"""The report run's first step: read every watched DLQ (its depth from the queue's attributes,
its figures from a bounded sample that is released untouched) and the snapshots of the days
before. A DLQ that cannot be read becomes an error line; the others carry on."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.catalog import Dlq, DlqCatalog
from bot.config import DailySettings, EngineSettings
from bot.daily.figures import FigureCounter, SampleFigures
from bot.daily.ports import Snapshots
from bot.daily.report import TREND_DAYS
from bot.daily.scan import sample_messages
from bot.daily.snapshots import Snapshot
from bot.errors import AwsError, DlqRedriveError
from bot.expiry import ExpiryCounter, ExpiryScan, expiring_before
from bot.printable import printable_logger
from bot.selection import TimeWindow
from bot.sqs_model import ReceivedMessage, SqsApi

logger = printable_logger(__name__)

INSPECT_WORKERS = 8


@dataclass(frozen=True)
class Inspected:
    """One watched DLQ as the report run found it (``error``: it could not be read)."""

    name: str
    dlq: Dlq | None
    depth: int | None
    figures: SampleFigures | None
    error: str | None
    # What the same scan found about expiry (what expires before the next report).
    expiry: ExpiryScan | None = None


class DlqInspector:
    """Reads the watched DLQs and their history for one report."""

    def __init__(
        self,
        *,
        catalog: DlqCatalog,
        gateway: SqsApi,
        snapshots: Snapshots,
        daily: DailySettings,
        engine_settings: EngineSettings,
    ) -> None:
        self.catalog = catalog
        self.gateway = gateway
        self.snapshots = snapshots
        self.daily = daily
        self.settings = engine_settings

    def inspect_all(
        self,
        names: list[str],
        window: TimeWindow,
        now: datetime,
        *,
        next_report: datetime | None = None,
    ) -> list[Inspected]:
        """Every DLQ of ``names``, up to ``INSPECT_WORKERS`` at once, in the order given.
        ``next_report``: count what expires before it."""
        with ThreadPoolExecutor(max_workers=INSPECT_WORKERS) as pool:
            return list(pool.map(lambda name: self.inspect(name, window, now, next_report), names))

    def histories(self, names: list[str], day: date) -> dict[str, dict[date, Snapshot]]:
        """The snapshots of the ``TREND_DAYS`` days before ``day`` (none if unreadable)."""
        try:
            return self.snapshots.histories(
                names, day - timedelta(days=TREND_DAYS), day - timedelta(days=1)
            )
        except AwsError as exc:
            logger.warning("no trend today: %s", exc)
            return {}

    def inspect(
        self, name: str, window: TimeWindow, now: datetime, next_report: datetime | None = None
    ) -> Inspected:
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
            retention = info.retention_s
            until = (
                None
                if next_report is None or retention is None
                else expiring_before(next_report, retention)
            )
            expiry = ExpiryCounter(retention, until)

            def count(message: ReceivedMessage) -> None:
                counter.add(message)
                expiry.add(message)

            # Counted as the messages arrive: none is kept (up to 8 DLQs are read at once).
            sample = sample_messages(
                self.gateway,
                info.url,
                limit=self.daily.sample_size,
                expected=info.visible,
                on_message=count,
            )
            depth = info.visible + info.in_flight + info.delayed
            figures = counter.figures(capped=sample.capped, population=depth)
            # Unknown retention (a description without it): no expiry figures rather than
            # figures from a guessed retention.
            expiring = (
                None if retention is None else expiry.scan(capped=sample.capped, population=depth)
            )
        except Exception as exc:  # noqa: BLE001 - one DLQ's failure is its line, not the report's
            return Inspected(name, None, None, None, failure_line(exc, "reading", name))
        return Inspected(name, dlq, depth, figures, None, expiring)


def failure_line(exc: Exception, doing: str, name: str) -> str:
    """The error line of DLQ ``name`` when ``doing`` it raised ``exc`` (and log it).

    Our errors are worded for people already (the gateways word AWS's too). Anything else is a bug
    or an input nobody foresaw: it costs that DLQ its line, never the whole report, and its
    traceback goes to the log rather than its text to Slack.
    """
    if isinstance(exc, DlqRedriveError):
        logger.error("%s %s failed: %s", doing, name, exc)
        return str(exc)
    logger.exception("unexpected error %s %s", doing, name)
    return f"unexpected {type(exc).__name__} while {doing} it; details in the function's log"
