"""The daily report as plain data: what the job found and did, before any rendering.

``DailyReport`` is built by the job (``bot.daily.job``) and rendered by ``bot.daily.blocks``; both
sides only share these frozen records, so rendering is tested without any server.

Every figure says how it is known (``Count``): counted message by message (a sample that saw the
whole DLQ, an auto-redrive that looked at every message of the report's day), or a lower bound
found in a sample of part of the DLQ. Depths come from SQS's counters, which AWS documents as
approximate, unless the sample counted them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.daily.figures import SampleFigures
from bot.expiry import ExpiryScan
from bot.selection import Selection, TimeWindow, day_window

TREND_DAYS = 7


@dataclass(frozen=True)
class CanaryResult:
    """What the auto-redrive's canary did (``bot.daily.canary_run``): it moved ``moved`` first,
    and ``returned`` of their copies came back to the DLQ within the wait (``errors``: their
    top error labels, untrusted text). ``stopped``: more came back than ``allowed``, the consumer
    is still failing and the rest was not moved. ``passed``: the rest may move (or there was
    none). Neither: not judged yet (the time ran out while watching; a continuation watches
    again). ``lineage`` marks its copies (so the rest never sends back one that returned)."""

    moved: int = 0
    returned: int = 0
    untraceable: int = 0  # sent without the lineage (no room): not recognisable if back
    allowed: int = 0
    errors: tuple[tuple[str, int], ...] = ()
    stopped: bool = False
    passed: bool = False
    lineage: str = ""
    watch: str = ""  # how the watch ended (bot.canary.Watch)
    waited_s: float = 0.0
    words: str = ""  # bot.run_control.canary_words: what it did, as every surface says it


@dataclass(frozen=True)
class AutoRedrive:
    """What the automatic redrive of yesterday's messages did to one DLQ (so far)."""

    moved: int = 0
    # A DLQ with feeders: where the invocations that reported moved them, said precisely
    # ("lambda resize (async invoke)"), by count. Their sum is below ``moved`` when an attempt
    # that died moved some (counted in the state table, its destinations not known).
    moved_to: tuple[tuple[str, int], ...] = ()
    failed: int = 0
    failed_codes: tuple[tuple[str, int], ...] = ()  # the failed by error code, most first
    # Sent, but the answer (SQS's, Lambda's, SNS's) was lost: may have been delivered; left in
    # the DLQ, never "failed".
    unconfirmed: int = 0
    held_back: int = 0  # FIFO: left behind an earlier message of their group that did not move
    not_attempted: int = 0  # selected, but the run stopped before it sent them: left in the DLQ
    # FIFO: groups of which it held a message, so SQS handed out none of their later ones: it
    # may not have seen every message (an upper bound of the groups it missed messages of).
    blocked_groups: int = 0
    needs_human: int = 0  # poison messages of yesterday left for a person
    # Not auto-redriven because no retry delivers them as the target is configured (an
    # EventBridge ERROR_CODE such as NO_PERMISSIONS or NO_RESOURCE): (reason, count), plain
    # text, most first. Not poison: they were never redriven; a person fixes the target first.
    for_human: tuple[tuple[str, int], ...] = ()
    # No recorded source, and the DLQ has several: left for a person to redrive with --to.
    no_source: int = 0
    unreadable_time: int = 0
    continuing: bool = False  # time ran out: a new invocation carries on, result in the thread
    error: str | None = None
    outside: int = 0  # seen but outside the selection: left in the DLQ, not the redrive's to take
    selection: Selection | None = None  # what it took (window and time source), when it ran
    # Messages it looked at, when its scan drained the DLQ (an earlier attempt's moves
    # included): its counts are then exact, unless FIFO groups were blocked. None if it stopped
    # early.
    scanned: int | None = None
    canary: CanaryResult | None = None  # when the run began with a canary
    # Why it ran without the canary DAILY_CANARY_SIZE asks for (``bot.canary.canary_blocker``:
    # a copy delivered to a function, a topic or a subscription's queue never comes back marked).
    no_canary: str | None = None

    @property
    def for_human_count(self) -> int:
        return sum(count for _, count in self.for_human)

    def found_in(self, selection: Selection) -> int | None:
        """How many messages of ``selection`` it found in the DLQ (moved, failed, poison, ...),
        when it judged every message by that same window and time source; else None."""
        if (
            self.scanned is None
            or self.error
            or self.continuing
            or self.blocked_groups  # it did not see every message
            or self.selection != selection
        ):
            return None
        return self.scanned - self.outside - self.unreadable_time


@dataclass(frozen=True)
class Count:
    """A figure and how it is known: counted exactly, or at least ``value``. Its basis: found
    among the ``sampled`` messages the scans read of the ``of`` the DLQs held, in ``samples``
    scans. A bound never exceeds its basis: ``value <= sampled``. ``among`` names the part of
    the DLQ a bound was counted in exactly (``"yesterday's"``), when that is its basis instead
    of a sample."""

    value: int
    exact: bool = True
    sampled: int = 0
    of: int = 0
    samples: int = 0
    among: str = ""

    @classmethod
    def at_least(cls, value: int, *, sampled: int, of: int) -> Count:
        return cls(value, exact=False, sampled=sampled, of=of, samples=1)

    @classmethod
    def counted(cls, value: int, *, read: int) -> Count:
        """Exactly ``value``, counted by reading all ``read`` messages of a DLQ."""
        return cls(value, sampled=read, of=read, samples=1)

    @classmethod
    def within(cls, value: int, *, among: str, read: int) -> Count:
        """At least ``value``: exactly that many were counted among ``among`` messages, a part
        of the ``read`` messages of a DLQ (the rest were not judged)."""
        return cls(value, exact=False, sampled=read, of=read, samples=1, among=among)

    def _basis(self) -> tuple[int, int, int]:
        if self.samples or not self.value:
            return self.sampled, self.of, self.samples
        # Counted without saying from what: it read at least the messages it counted.
        return self.value, self.value, 1

    def __add__(self, other: Count) -> Count:
        """The sum is exact only if both are. Its basis is every part's, exact ones included,
        so an exact part never reads as found in a bound's sample (8 counted + at least 10 of a
        sample of 10 is at least 18 of 18 read, not 18 of 10)."""
        mine, theirs = self._basis(), other._basis()
        return Count(
            self.value + other.value,
            self.exact and other.exact,
            mine[0] + theirs[0],
            mine[1] + theirs[1],
            mine[2] + theirs[2],
        )


def sample_count(value: int, figures: SampleFigures) -> Count:
    """A count found in ``figures``' sample: the DLQ's own when the sample was whole."""
    if figures.whole:
        return Count.counted(value, read=figures.sampled)
    return Count.at_least(value, sampled=figures.sampled, of=figures.population)


@dataclass(frozen=True)
class Yesterday:
    """What arrived on the report's day and is (or was, before the auto-redrive) in the DLQ."""

    arrived: Count
    poison: Count  # of those, already redriven MAX_REDRIVES times


@dataclass(frozen=True)
class DlqStatus:
    """One watched DLQ in the report. ``error`` set means it could not be read at all."""

    name: str
    depth: int | None = None  # after any auto-redrive
    depth_before: int | None = None  # when the job started (before auto-redrive)
    previous_depth: int | None = None  # from the DLQ's last snapshot (the change is against it)
    previous_day: date | None = None  # that snapshot's day (maybe before the previous report's)
    previous_exact: bool = False  # that depth was counted, not read from SQS's counters
    figures: SampleFigures | None = None
    redrive: AutoRedrive | None = None
    error: str | None = None
    trend: tuple[int | None, ...] = ()  # depth per day, oldest first, ending with today's
    sources: tuple[str, ...] = ()  # its SQS source queues' names
    kind: str = ""  # ``Dlq.kind_label()``: "sqs", "sns", "sqs+sns", ... ("": kept from before)
    # What else dead-letters into it, one plain line each (``Feeder.describe``): untrusted text.
    feeders: tuple[str, ...] = ()
    # What the report's scan (before any auto-redrive) found about expiry (bot.expiry).
    expiry: ExpiryScan | None = None

    @property
    def change(self) -> int | None:
        if self.depth is None or self.previous_depth is None:
            return None
        return self.depth - self.previous_depth

    @property
    def depth_before_exact(self) -> bool:
        """The depth before the auto-redrive was counted (a whole sample saw exactly that many),
        not only read from SQS's approximate counters."""
        figures = self.figures
        return figures is not None and figures.whole and figures.sampled == self.depth_before

    @property
    def depth_exact(self) -> bool:
        """The depth shown was counted. After an auto-redrive moved messages it is read again
        from SQS's counters, which lag behind deletes: approximate."""
        moved = self.redrive is not None and self.redrive.moved > 0
        return self.depth_before_exact and not moved and self.depth == self.depth_before

    @property
    def change_exact(self) -> bool:
        """Both depths the change is made of were counted."""
        return self.depth_exact and self.previous_exact

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
    time_field: str | None = None  # AUTO_REDRIVE_TIME_FIELD: a message's time, when not sent time
    # When a continuation re-read the depths and final counts the report now shows (None: the
    # figures are those of ``generated_at``).
    updated_at: datetime | None = None
    # When the next report runs: what expires before it is flagged (None: not counted).
    next_report: datetime | None = None
    # Kinds of feeder discovery could not read, and why ("AccessDenied: ..."): DLQs only they
    # feed are missing from the report, so it never says "all clear" or "no DLQ" while any is.
    unread: tuple[tuple[str, str], ...] = ()

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
        """The total minus the previous report's total (its DLQs' snapshots of ``previous_day``;
        a DLQ it did not report counts from 0). None when unknown: no previous report, or one of
        its DLQs cannot be read now."""
        day = self.previous_day
        if day is None or any(d.previous_day == day for d in self.unreadable):
            return None
        previous = sum(d.previous_depth or 0 for d in self.readable if d.previous_day == day)
        return self.total - previous

    @property
    def total_change_exact(self) -> bool:
        day = self.previous_day
        return self.total_exact and all(
            d.previous_exact for d in self.readable if d.previous_day == day
        )

    @property
    def total_exact(self) -> bool:
        return all(d.depth_exact for d in self.readable)

    @property
    def window(self) -> TimeWindow:
        """The report's day in its time zone, as the job selects it."""
        return day_window(self.day, ZoneInfo(self.timezone))

    def _scan(self, status: DlqStatus) -> int | None:
        """How many messages ``status``'s auto-redrive looked at, when it looked at every message
        of the DLQ and judged them by the report's day and time source (so its counts of
        yesterday, and of messages without a readable time, are exact); else None."""
        redrive = status.redrive
        selection = Selection(window=self.window, time_field=self.time_field)
        if redrive is None or redrive.found_in(selection) is None:
            return None
        return redrive.scanned

    def yesterday(self, status: DlqStatus) -> Yesterday | None:
        """What arrived on the report's day in ``status``'s DLQ: the auto-redrive's exact counts
        when it looked at every message by that day's window and time source, else the sample's
        (exact when the sample was whole, lower bounds otherwise)."""
        redrive, read = status.redrive, self._scan(status)
        if redrive is not None and read is not None:
            found = read - redrive.outside - redrive.unreadable_time
            return Yesterday(
                Count.counted(found, read=read), Count.counted(redrive.needs_human, read=read)
            )
        figures = status.figures
        if figures is None:
            return None
        return Yesterday(
            sample_count(figures.arrived_yesterday, figures),
            sample_count(figures.poison_yesterday, figures),
        )

    def all_days(self, status: DlqStatus) -> tuple[Count, Count] | None:
        """(poison, without a readable time) among all of ``status``'s messages: never below a
        count of the same block, as yesterday's messages are some of them. Without a readable
        time, the count of an auto-redrive that looked at every message is exact; poison, the
        sample's count or, when larger, yesterday's exact one (a bound that says so)."""
        figures, redrive, read = status.figures, status.redrive, self._scan(status)
        if redrive is not None and read is not None:
            # Yesterday's poison, exact: at least that many of every day.
            counted = Count.within(redrive.needs_human, among="yesterday's", read=read)
            unreadable = Count.counted(redrive.unreadable_time, read=read)
            if figures is None:
                return counted, unreadable
            poison = sample_count(figures.poison, figures)
            if not poison.exact and counted.value >= poison.value:
                poison = counted
            return poison, unreadable
        if figures is None:
            return None
        return sample_count(figures.poison, figures), sample_count(figures.unreadable_time, figures)

    def arrived_parts(self) -> tuple[Count, ...]:
        """Each readable DLQ's count of yesterday's arrivals (the headline adds them up)."""
        days = (self.yesterday(d) for d in self.readable)
        return tuple(day.arrived for day in days if day is not None)

    def poison_parts(self) -> tuple[Count, ...]:
        """Each readable DLQ's best count of poison messages of every day."""
        counts = (self.all_days(d) for d in self.readable)
        return tuple(count[0] for count in counts if count is not None)

    @property
    def arrived(self) -> Count:
        return sum(self.arrived_parts(), Count(0))

    @property
    def moved(self) -> int:
        return sum(d.redrive.moved for d in self.dlqs if d.redrive)

    @property
    def poison(self) -> Count:
        """Poison messages of every day: each DLQ's best count."""
        return sum(self.poison_parts(), Count(0))

    @property
    def all_clear(self) -> bool:
        return not self.warnings and not self.unread and all(d.quiet for d in self.dlqs)

    @property
    def for_human(self) -> int:
        """Messages left for a person because no retry delivers them (``AutoRedrive.for_human``)."""
        return sum(d.redrive.for_human_count for d in self.dlqs if d.redrive)
