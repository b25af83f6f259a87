"""The daily report as plain data: what the job found and did, before any rendering.

``DailyReport`` is built by the job (``bot.daily.job``) and rendered by ``bot.daily.blocks``; both
sides only share these frozen records, so rendering is tested without any server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from bot.daily.figures import SampleFigures

TREND_DAYS = 7


@dataclass(frozen=True)
class AutoRedrive:
    """What the automatic redrive of yesterday's messages did to one DLQ (so far)."""

    moved: int = 0
    failed: int = 0
    # Sent, but SQS's answer was lost: may have been delivered; left in the DLQ, never "failed".
    unconfirmed: int = 0
    held_back: int = 0  # FIFO: left behind an earlier message of their group that did not move
    needs_human: int = 0  # poison messages of yesterday left for a person
    # No recorded source, and the DLQ has several: left for a person to redrive with --to.
    no_source: int = 0
    unreadable_time: int = 0
    continuing: bool = False  # time ran out: a new invocation carries on, result in the thread
    error: str | None = None


@dataclass(frozen=True)
class DlqStatus:
    """One watched DLQ in the report. ``error`` set means it could not be read at all."""

    name: str
    depth: int | None = None  # after any auto-redrive
    depth_before: int | None = None  # when the job started (before auto-redrive)
    previous_depth: int | None = None  # from the previous report's snapshot
    figures: SampleFigures | None = None
    redrive: AutoRedrive | None = None
    error: str | None = None
    trend: tuple[int | None, ...] = ()  # depth per day, oldest first, ending with today's
    sources: tuple[str, ...] = ()

    @property
    def change(self) -> int | None:
        if self.depth is None or self.previous_depth is None:
            return None
        return self.depth - self.previous_depth

    @property
    def quiet(self) -> bool:
        """Empty, nothing arrived, nothing done, nothing wrong: one word in the report suffices."""
        arrived = self.figures.arrived_yesterday if self.figures else 0
        return (
            self.error is None
            and not self.depth
            and not self.depth_before
            and not arrived
            and (self.redrive is None or (not self.redrive.moved and not self.redrive.error))
        )


@dataclass(frozen=True)
class DailyReport:
    """The whole report for ``day`` (yesterday, in ``timezone``), as of ``generated_at``."""

    day: date
    timezone: str
    generated_at: datetime
    dlqs: tuple[DlqStatus, ...]
    previous_day: date | None = None  # the day of the snapshot the change is measured against
    total_trend: tuple[int | None, ...] = ()
    auto_redrive_names: tuple[str, ...] = field(default_factory=tuple)
    warnings: tuple[str, ...] = ()  # configuration problems worth a line (unknown names, ...)

    @property
    def readable(self) -> tuple[DlqStatus, ...]:
        return tuple(d for d in self.dlqs if d.error is None)

    @property
    def unreadable(self) -> tuple[DlqStatus, ...]:
        return tuple(d for d in self.dlqs if d.error is not None)

    @property
    def total(self) -> int:
        return sum(d.depth or 0 for d in self.readable)

    @property
    def total_change(self) -> int | None:
        """Change of the total since the previous report, over the DLQs both reports know."""
        changes = [d.change for d in self.readable if d.change is not None]
        return sum(changes) if changes else None

    @property
    def arrived(self) -> int:
        return sum(d.figures.arrived_yesterday for d in self.readable if d.figures)

    @property
    def moved(self) -> int:
        return sum(d.redrive.moved for d in self.dlqs if d.redrive)

    @property
    def poison(self) -> int:
        return sum(d.figures.poison for d in self.readable if d.figures)

    @property
    def all_clear(self) -> bool:
        return not self.warnings and all(d.quiet for d in self.dlqs)
