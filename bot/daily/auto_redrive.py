"""The auto-redrive of one DLQ in one invocation of the daily job, counted for the whole run.

The engine only deletes what SQS confirmed sent, so stopping anywhere is safe, and running the
same day's selection again later (a continuation, Lambda's retry) simply continues. What the
invocations of one scheduled run moved adds up in the run's counter in the state table, which
also holds what an attempt that died moved (``bot.daily.once``); the other counts follow the
shared rules of a run across invocations (``bot.run_control.RunTotals``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from bot.canary import canary_blocker, run_with_canary
from bot.catalog import Dlq
from bot.config import DailySettings, EngineSettings
from bot.daily.canary_run import canary_plan, canary_result, outcome_report, with_canary
from bot.daily.events import Continuation, ScheduledRun
from bot.daily.inspector import failure_line
from bot.daily.once import Attempt
from bot.daily.ports import Runs, Snapshots
from bot.daily.report import AutoRedrive
from bot.daily.window import auto_redrive_window, dead_letter_days
from bot.engine import RedriveEngine
from bot.errors import AwsError
from bot.feeders import Feeder
from bot.kind_words import destination_words
from bot.pacing import Deadline
from bot.printable import printable_logger
from bot.redrive_model import RedriveReport, RedriveRequest, StopReason, not_again_after
from bot.run_control import IN_FLIGHT_STOP, RunTotals
from bot.selection import Selection

logger = printable_logger(__name__)


@dataclass(frozen=True)
class Redriven:
    """One invocation's auto-redrive of one DLQ: its result for the run so far (moves of every
    attempt and invocation included), and what this invocation moved and looked at itself."""

    result: AutoRedrive
    moved_now: int
    scanned_now: int
    # What the run's later invocations must not send again (``Continuation.not_again``): the
    # messages it and earlier ones sent without an answer, while the DLQ's run goes on.
    not_again: tuple[str, ...] = ()


class AutoRedriver:
    """Runs and counts the auto-redrive of the DLQs a scheduled run takes."""

    def __init__(
        self,
        *,
        engine: RedriveEngine,
        snapshots: Snapshots,
        runs: Runs,
        daily: DailySettings,
        engine_settings: EngineSettings,
        clock: Callable[[], datetime],
        workers: int | None = None,
    ) -> None:
        self.engine = engine
        self.snapshots = snapshots
        self.runs = runs
        self.daily = daily
        self.settings = engine_settings
        self.clock = clock
        self.workers = workers  # the engine's workers (None: the engine's default)

    def selection(self, run: ScheduledRun | Continuation, dlq: Dlq, day: date) -> Selection:
        """What the auto-redrive of ``dlq`` takes in the run for ``day`` (see
        ``bot.daily.window``)."""
        try:
            previous = self.runs.window_end(dlq.name, run.scheduled.isoformat())
        except AwsError as exc:
            logger.warning("no previous window of %s, taking yesterday only: %s", dlq.name, exc)
            previous = None
        # Only SQS sources keep a message's original sent time in the DLQ: SNS, EventBridge and
        # Lambda send a new message into it when they give up, so its sent time is when it
        # dead-lettered, and a DLQ of only such feeders looks back the least (one day).
        window = auto_redrive_window(
            previous, day, self.settings.timezone, lookback_days=dead_letter_days(dlq.sources)
        )
        return Selection(window=window, time_field=self.daily.time_field)

    def redrive(
        self,
        scheduled: datetime,
        dlq: Dlq,
        selection: Selection,
        deadline: Deadline,
        attempt: Attempt,
        *,
        before: AutoRedrive | None = None,
        empty: bool = False,
        not_again: Sequence[str] = (),
    ) -> Redriven:
        """Redrive ``selection`` out of ``dlq`` until done or ``deadline``, and count it for the
        run. ``before``: the result of the run's earlier invocations (a continuation's event).
        ``empty``: the DLQ is empty, so there is nothing to scan, yet its count may still hold
        what a failed attempt moved. ``not_again``: what earlier invocations sent without an
        answer (kept in the DLQ, never sent again by the run)."""
        lost: set[str] = set()
        if empty:
            now, scanned = AutoRedrive(selection=selection), 0
        else:
            now, scanned = self._run(dlq, selection, deadline, attempt, before, not_again, lost)
        # The run's messages sent without an answer, each once: those of earlier invocations
        # are counted in ``before`` (and kept unconfirmed again by this one).
        unconfirmed = (before.unconfirmed if before is not None else 0) + len(lost - {*not_again})
        now = replace(now, unconfirmed=unconfirmed)
        carry = not_again_after(not_again, lost) if now.continuing else ()
        known = before.moved if before is not None else 0
        counted = self._counted(scheduled, dlq.name, now, attempt, known=known)
        self._window_done(scheduled, dlq.name, now)
        return Redriven(counted, now.moved, scanned, carry)

    def _run(
        self,
        dlq: Dlq,
        selection: Selection,
        deadline: Deadline,
        attempt: Attempt,
        before: AutoRedrive | None,
        not_again: Sequence[str],
        lost: set[str],
    ) -> tuple[AutoRedrive, int]:
        """This invocation's auto-redrive of ``dlq`` (``moved`` is its own, the other counts
        are the run's: ``RunTotals.fold``) and how many messages it looked at. Adds to ``lost``
        the ids of the messages it sent without an answer (or kept as such: ``not_again``)."""
        if deadline.expired():  # no time to start: an invocation that looked at nothing
            idle = RedriveReport(dlq.name, dry_run=False, selection="", stopped=StopReason.DEADLINE)
            return auto_redrive_of(idle, selection, before), 0
        request = RedriveRequest(selection=selection, not_again=frozenset(not_again))
        if self.workers is not None:
            request = replace(request, workers=self.workers)
        earlier = before.canary if before is not None else None
        if earlier is not None and earlier.lineage:
            # The canary's lineage: a copy of it that came back is not sent again.
            request = replace(request, lineage=earlier.lineage)
        # The engine's own reports (the canary's, then the rest's), handed over after a batch.
        live: list[RedriveReport] = []

        def keep(report: RedriveReport) -> None:
            if not any(seen is report for seen in live):
                live.append(report)
            # The lease's heartbeat keeps it: if this attempt dies, the next one counts it.
            attempt.note(dlq.name, sum(seen.moved for seen in live))

        plan = canary_plan(self.daily, before)
        # A copy delivered to a function, a topic or a subscription's or rule target's queue
        # never comes back marked: such a DLQ runs without the canary, and the report says why.
        no_canary = None if plan is None else canary_blocker(dlq)
        if no_canary is not None:
            plan = None
        try:
            if plan is None:
                result = self.engine.run(dlq, request, deadline=deadline, on_progress=keep)
                canary = earlier
            else:
                outcome = run_with_canary(
                    self.engine,
                    dlq,
                    request,
                    plan,
                    deadline=deadline,
                    on_progress=keep,
                    error_attribute=self.daily.error_attribute,
                )
                result, canary = outcome_report(outcome), canary_result(outcome)
        except Exception as exc:  # noqa: BLE001 - the engine released what it held; report it
            lost.update(*(seen.unconfirmed_ids for seen in live))
            # What it moved before the error is moved: it still counts (the report's line says
            # so). A batch in hand at the error may have moved without being counted.
            moved = sum(seen.moved for seen in live)
            failure = failure_line(exc, "auto-redriving", dlq.name)
            if moved:
                failure += "; a batch in hand then may have moved too"
            scanned = sum(seen.scanned for seen in live)
            failed = AutoRedrive(moved=moved, error=failure, selection=selection)
            return replace(failed, no_canary=no_canary), scanned
        lost.update(result.unconfirmed_ids)
        done = with_canary(auto_redrive_of(result, selection, before), canary)
        moved_to: tuple[tuple[str, int], ...] = ()
        if dlq.feeders:  # an SQS source's queue is named on the DLQ's line already
            moved_to = _moved_to(before, result.by_destination, dlq.feeders)
        return replace(done, no_canary=no_canary, moved_to=moved_to), result.scanned

    def _counted(
        self, scheduled: datetime, name: str, redrive: AutoRedrive, attempt: Attempt, *, known: int
    ) -> AutoRedrive:
        """``redrive`` with ``moved`` including what every earlier attempt and invocation of the
        scheduled run moved out of ``name``: the run's counter in the state table, which also
        holds what a failed attempt moved (its event does not). ``known``: what this invocation
        was told was moved before it (a continuation's event), added to this invocation's moves
        if the counter cannot be read."""
        # Noted in the lease first: if this attempt dies while counting, the next one counts it.
        attempt.note(name, redrive.moved)
        try:
            attempt.flush()
            total = self.snapshots.add_moved(
                scheduled.isoformat(), name, redrive.moved, now=self.clock()
            )
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

    def _window_done(self, scheduled: datetime, name: str, redrive: AutoRedrive) -> None:
        """Record where the window of ``name`` ends once its auto-redrive went through it all."""
        selection = redrive.selection
        if redrive.continuing or redrive.error or selection is None or not selection.window.end:
            return
        try:
            self.runs.save_window_end(
                name, scheduled.isoformat(), selection.window.end, now=self.clock()
            )
        except AwsError as exc:
            logger.warning("window of %s not recorded (the next run starts earlier): %s", name, exc)


def auto_redrive_of(
    result: RedriveReport, selection: Selection, before: AutoRedrive | None = None
) -> AutoRedrive:
    """The engine's ``result`` of one invocation as the report's ``AutoRedrive``: ``moved`` is
    this invocation's; failed and poison messages stay in the DLQ and are the run's figures by
    ``RunTotals.fold`` (the latest pass's when it saw every message, else the largest seen)."""
    # The engine counts the messages no retry delivers (needs_human_reasons) among those that
    # need a human; the report keeps them apart from poison.
    held = sum(result.needs_human_reasons.values())
    base = RunTotals()
    if before is not None:
        base = RunTotals(failed=before.failed, needs_human=before.needs_human)
    totals = base.fold(replace(result, needs_human=result.needs_human - held))
    for_human = _fold_counts(
        before.for_human if before is not None else (),
        result.needs_human_reasons,
        finished=result.finished,
    )
    failed_codes = _fold_counts(
        before.failed_codes if before is not None else (),
        result.failure_reasons,
        finished=result.finished,
    )
    error = None
    if result.stopped is StopReason.ERROR:
        error = result.error or "stopped by an error"
    elif result.stopped is StopReason.IN_FLIGHT_LIMIT:
        error = IN_FLIGHT_STOP
    return AutoRedrive(
        moved=result.moved,
        failed=totals.failed,
        unconfirmed=result.unconfirmed,
        held_back=result.held_back,
        not_attempted=result.not_attempted,
        blocked_groups=result.blocked_groups,
        needs_human=totals.needs_human,
        for_human=for_human,
        failed_codes=failed_codes,
        no_source=result.no_source,
        unreadable_time=result.unreadable,
        continuing=result.stopped is StopReason.DEADLINE,
        error=error,
        outside=result.out_of_window,
        selection=selection,
        # Drained: it looked at every message, so the report can count the day exactly.
        scanned=result.scanned if result.stopped is StopReason.DRAINED else None,
    )


def _fold_counts(
    before: tuple[tuple[str, int], ...], now: Mapping[str, int], *, finished: bool
) -> tuple[tuple[str, int], ...]:
    """Messages left in the DLQ by reason (held for a person, failed by code) over the run's
    invocations, most first: as ``RunTotals.fold`` does for their totals, a pass that saw every
    message gives them; otherwise each reason's largest count so far (never counted twice)."""
    counts = Counter(now)
    if not finished:
        for reason, count in before:
            counts[reason] = max(counts[reason], count)
    return tuple(sorted(((r, n) for r, n in counts.items() if n), key=lambda rn: (-rn[1], rn[0])))


def _moved_to(
    before: AutoRedrive | None, by_destination: Mapping[str, int], feeders: Sequence[Feeder]
) -> tuple[tuple[str, int], ...]:
    """Where the run's invocations so far moved messages of a DLQ with feeders, said precisely
    (``bot.kind_words.destination_words``: "lambda resize (async invoke)"), by count, most
    first. Moves add up across invocations."""
    counts = Counter(dict(before.moved_to) if before is not None else {})
    for label, moved in by_destination.items():
        counts[destination_words(label, feeders)] += moved
    return tuple(sorted(((w, n) for w, n in counts.items() if n), key=lambda wn: (-wn[1], wn[0])))
