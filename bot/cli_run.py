"""What every ``dlq-redrive`` command that runs the engine shares (redrive, discard, export,
edit): the live progress line, Ctrl-C and SIGTERM turned into a clean stop, the summary table
and the exit status a report earns.

Ctrl-C (SIGINT) and SIGTERM during a run do not raise into the engine's threads: they ask the
run to stop (``Interrupt``), which finishes the batches in hand, makes every message it held
visible again and prints the partial summary. A second signal does the same, never less.

Imports nothing of ``bot.cli``, so the commands defined beside it (``bot.cli_actions``) share it
without an import cycle.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
import time
from collections.abc import Callable, Sequence
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from bot.exit_codes import EXIT_FAILED, EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE
from bot.kind_words import (
    ROUTING_REFUSALS,
    delivery_lines,
    destination_words,
    first_reason,
    function_deliveries,
    not_resent_lines,
)
from bot.pacing import Deadline
from bot.printable import visible
from bot.redrive_model import Action, RedriveReport, RedriveRequest, StopReason
from bot.run_control import (
    ANSWER_LOST,
    BEHIND_THEIR_GROUP,
    MAY_HAVE_BEEN_DELIVERED,
    STOPPED_BEFORE_THEM,
)
from bot.selection import Selection
from bot.selection_options import SelectionArgs, positive_int

if TYPE_CHECKING:
    from bot.canary import CanaryOutcome, CanaryPlan
    from bot.catalog import Dlq
    from bot.cli_context import CliContext
    from bot.engine import RedriveEngine
    from bot.feeders import Feeder

T = TypeVar("T")
Progress = Callable[[RedriveReport], None]

DEFAULT_WORKERS = 8


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from exc
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def positive_float(text: str) -> float:
    """A number greater than 0 (argparse ``type``)."""
    value = _number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return value


def non_negative_float(text: str) -> float:
    """A number of at least 0 (argparse ``type``)."""
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {text}")
    return value


def share(text: str) -> float:
    """A share between 0 and 1 (argparse ``type``)."""
    value = _number(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a share between 0 and 1, got {text}")
    return value


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """How a run goes (workers, pace, time budget, visibility): the same for every action."""
    parser.add_argument("--workers", type=positive_int, default=DEFAULT_WORKERS)
    parser.add_argument("--rate", type=positive_float, metavar="MSGS_PER_S")
    parser.add_argument(
        "--deadline", type=positive_float, metavar="SECONDS", help="stop cleanly after this long"
    )
    parser.add_argument(
        "--visibility-timeout",
        type=positive_int,
        default=300,
        metavar="SECONDS",
        help="how long scanned messages stay hidden from other consumers (default 300)",
    )


def error_line(err: TextIO, text: str) -> None:
    """Write one error line with control characters escaped: it may echo what was typed, and an
    escape sequence in an argument must not drive the terminal."""
    print(visible(text), file=err)


def table(rows: list[list[str]], out: TextIO) -> None:
    """Print ``table_lines(rows)``."""
    for line in table_lines(rows):
        print(line, file=out)


def table_lines(rows: list[list[str]]) -> list[str]:
    """Left-aligned columns, two spaces apart (the first row is the header, if any)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


class ProgressLine:
    """A one-line live progress display on a terminal's stderr."""

    def __init__(self, stream: TextIO, *, done: str = "moved") -> None:
        self.stream = stream
        self.done = done  # the word for what the run did to a message ("moved", "discarded")
        self.enabled = stream.isatty()
        self._started = time.monotonic()
        self._last = 0.0

    def __call__(self, report: RedriveReport) -> None:
        now = time.monotonic()
        if not self.enabled or now - self._last < 0.2:
            return
        self._last = now
        done = report.archived if self.done == "exported" else report.moved
        rate = done / max(now - self._started, 1e-9)
        self.stream.write(
            f"\r  scanned {report.scanned}  {self.done} {done}  failed {report.failed}  "
            f"skipped {report.skipped}  {rate:.0f} msg/s   "
        )
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * 70 + "\r")
            self.stream.flush()


class Interrupt:
    """SIGINT and SIGTERM during a run, turned into a stop request the engine polls.

    The default SIGINT handler raises KeyboardInterrupt in the main thread, which only waits for
    the workers: they would carry on to the end, and a second Ctrl-C would leave what they held
    invisible. Here every signal only sets a flag; the run stops itself cleanly. Handlers can only
    be installed from the main thread (elsewhere, e.g. a test calling ``main``, nothing changes).
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, err: TextIO) -> None:
        self.err = err
        self.signal_name: str | None = None  # the first signal received
        self._event = threading.Event()
        self._previous: dict[int, Any] = {}

    def is_set(self) -> bool:
        return self._event.is_set()

    def __enter__(self) -> Interrupt:
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                self._previous[signum] = signal.signal(signum, self._on_signal)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.signal_name is None:
            self.signal_name = name
            text = (
                f"dlq-redrive: {name}: stopping: no new batch starts; the batches in hand are "
                "finished and every held message is made visible again"
            )
        else:
            text = (
                f"dlq-redrive: {name} again: still stopping; releasing the held messages first "
                "(SIGKILL would leave them hidden for the visibility timeout)"
            )
        # The stop first: a write to a full stderr pipe must not hold it back.
        self._event.set()
        error_line(self.err, text)


def run_controlled(
    err: TextIO,
    run: Callable[[Callable[[], bool], Progress | None], T],
    show: Callable[[T, str | None], None],
    *,
    progress: ProgressLine | None,
) -> T:
    """``run(cancelled, on_progress)`` with Ctrl-C and SIGTERM asking it to stop, then
    ``show(result, signal_name)``: signals stay caught until what it shows is out, so a late
    Ctrl-C cannot cut a summary short."""
    with Interrupt(err) as interrupt:
        try:
            result = run(interrupt.is_set, progress)
        finally:
            if progress is not None:
                progress.close()
        show(result, interrupt.signal_name)
    return result


def cli_engine(ctx: CliContext) -> RedriveEngine:
    """The engine of every CLI command, delivering messages of other kinds through
    ``ctx.targets``; MAX_REDRIVES by the counter, and by the state table's ledger for what
    travels without it when ``STATE_TABLE`` is set (``ctx.ledger``)."""
    from bot.engine import RedriveEngine

    return RedriveEngine(
        ctx.gateway,
        max_redrives=ctx.settings.max_redrives,
        timezone=ctx.settings.timezone,
        ledger=ctx.ledger,
        targets=ctx.targets,
    )


def selection_of(args: argparse.Namespace, ctx: CliContext) -> Selection:
    """The selection options parsed (``bot.selection_options``), as of now, in TIMEZONE, with
    ERROR_ATTRIBUTE naming a message's error group for ``--error``."""
    return SelectionArgs.from_namespace(args).build(
        tz=ctx.settings.timezone, now=ctx.now(), error_attribute=ctx.settings.error_attribute
    )


def run_action(
    ctx: CliContext,
    dlq: Dlq,
    request: RedriveRequest,
    *,
    as_json: bool,
    deadline_s: float | None = None,
) -> int:
    """Run ``request`` on ``dlq`` (``run_report``) and answer the exit status it earns."""
    return exit_status(
        run_report(ctx, dlq, request, as_json=as_json, deadline_s=deadline_s), ctx.err
    )


def run_report(
    ctx: CliContext,
    dlq: Dlq,
    request: RedriveRequest,
    *,
    as_json: bool,
    deadline_s: float | None = None,
) -> RedriveReport:
    """Run ``request`` on ``dlq`` under Ctrl-C control and print its summary (or its JSON):
    the one way redrive, discard, export and edit run."""
    engine = cli_engine(ctx)
    action = request.action

    # An edit is a redrive of one message: its JSON says so, and which message.
    named: dict[str, str] = (
        {"action": "edit", "message_id": request.edit.message_id}
        if request.edit is not None
        else {"action": action.value}
    )

    to = request.to.name if request.to is not None else None

    def show(report: RedriveReport, interrupted_by: str | None) -> None:
        if as_json:
            # Where each destination is, as the summary words it (the names are the engine's).
            where = {
                label: destination_words(label, dlq.feeders, to=to)
                for label in report.by_destination
            }
            print(json.dumps({**named, **report.to_dict(), "destinations": where}), file=ctx.out)
        else:
            print_summary(
                report,
                ctx.out,
                interrupted_by=interrupted_by,
                action=action,
                feeders=dlq.feeders,
                to=to,
                ledger=engine.ledger is not None,
            )

    report = run_controlled(
        ctx.err,
        lambda cancelled, on_progress: engine.run(
            dlq,
            request,
            deadline=Deadline(deadline_s),
            cancelled=cancelled,
            on_progress=on_progress,
        ),
        show,
        progress=None if as_json else ProgressLine(ctx.err, done=_VERBS[action][1].split()[0]),
    )
    return report


def run_canary(
    ctx: CliContext,
    dlq: Dlq,
    request: RedriveRequest,
    plan: CanaryPlan,
    *,
    as_json: bool,
    deadline_s: float | None = None,
) -> int:
    """``redrive --canary N``: move N, watch whether they come back to the DLQ, and move the
    rest only if few did (``bot.canary``). Exit 1 when the canary stopped the run."""
    from bot.canary import Watch, run_with_canary
    from bot.run_control import canary_words

    engine = cli_engine(ctx)

    def show(outcome: CanaryOutcome, interrupted_by: str | None) -> None:
        words = canary_words(outcome)
        if as_json:
            payload = {
                "canary": outcome.canary.to_dict(),
                "returned": outcome.returned,
                "untraceable": outcome.untraceable,
                "returned_errors": dict(outcome.returned_errors),
                "stopped": outcome.stopped,
                # Why it ended (bot.canary.Watch), how long it watched of how long it was to,
                # and the sources it did not try (several sources: their messages stayed).
                "watch": outcome.watch.value,
                "waited_s": round(outcome.waited_s, 1),
                "wait_s": outcome.wait_s,
                "untried_sources": list(outcome.untried),
                "words": words,
                "rest": None if outcome.rest is None else outcome.rest.to_dict(),
            }
            print(json.dumps(payload), file=ctx.out)
            return
        print("canary:", file=ctx.out)
        print_summary(outcome.canary, ctx.out, interrupted_by=interrupted_by, feeders=dlq.feeders)
        print(visible(words), file=ctx.out)
        for label, count in outcome.returned_errors.most_common(10):
            # An error label is a message's text: shown, never acted on.
            print(visible(f"  came back {count}× {label}"), file=ctx.out)
        if outcome.rest is not None:
            print("\nthe rest:", file=ctx.out)
            print_summary(outcome.rest, ctx.out, interrupted_by=interrupted_by, feeders=dlq.feeders)

    outcome = run_controlled(
        ctx.err,
        lambda cancelled, on_progress: run_with_canary(
            engine,
            dlq,
            request,
            plan,
            deadline=Deadline(deadline_s),
            cancelled=cancelled,
            on_progress=on_progress,
            error_attribute=ctx.settings.error_attribute,
        ),
        show,
        progress=None if as_json else ProgressLine(ctx.err),
    )
    if outcome.stopped:  # the consumer is still failing (or the canary could not be traced)
        return EXIT_FAILED
    status = exit_status(outcome.canary, ctx.err)
    if status != EXIT_OK:
        return status
    if outcome.rest is not None:
        return exit_status(outcome.rest, ctx.err)
    if outcome.watch in (Watch.DEADLINE, Watch.CANCELLED):
        return EXIT_INCOMPLETE  # watched, not decided: the same command again goes on
    return EXIT_OK


def exit_status(report: RedriveReport, err: TextIO) -> int:
    """The exit status a run's report earns (bot/cli.py's docstring says when each is given)."""
    if report.went_wrong:
        return EXIT_FAILED
    if report.finished and report.no_source and not report.matched:
        # Nothing could be routed at all: the one thing to do is choose a destination.
        error_line(err, f"dlq-redrive: error: no message could be moved: {report.no_source_reason}")
        return EXIT_USAGE
    if not report.finished:
        return EXIT_INCOMPLETE
    return EXIT_OK


# What each action did to a selected message, as the summary's row says it (dry run, real run).
_VERBS: dict[Action, tuple[str, str]] = {
    Action.REDRIVE: ("would move", "moved"),
    Action.DISCARD: ("would discard", "discarded"),
    Action.EXPORT: ("would export", "exported (kept in DLQ)"),
}


def print_summary(
    report: RedriveReport,
    out: TextIO,
    *,
    interrupted_by: str | None = None,
    action: Action = Action.REDRIVE,
    feeders: Sequence[Feeder] = (),
    to: str | None = None,
    ledger: bool = False,
) -> None:
    """The human summary of a run (also of an interrupted one: ``interrupted_by`` a signal).
    ``feeders``: the DLQ's (``Dlq.feeders``), to say where each destination is to the messages
    (a subscription's endpoint, a rule's target); ``to``: the queue ``--to`` named; ``ledger``:
    the run counted what travels without the counter in the state table (``STATE_TABLE``)."""
    would, did = _VERBS[action]
    title = f"{'DRY RUN ' if report.dry_run else ''}{report.dlq} ({report.selection})"
    if interrupted_by and report.stopped is StopReason.CANCELLED:
        title += f": interrupted by {interrupted_by}"
    print(visible(title), file=out)
    if report.dry_run:
        # What the destinations can take: a dry run does not promise what would fail.
        done = report.destined if action is Action.REDRIVE else report.matched
    else:
        done = report.archived if action is Action.EXPORT else report.moved
    # Held because their target cannot take them as configured (an EventBridge ERROR_CODE such
    # as NO_PERMISSIONS): counted in needs_human beside the poison ones, each reason said below.
    held_for_target = sum(report.needs_human_reasons.values())
    rows = [["scanned", str(report.scanned)], ["matched", str(report.matched)]]
    rows.append([would if report.dry_run else did, str(done)])
    if action is Action.DISCARD and not report.dry_run:
        rows.append(["archived", str(report.archived)])
    rows += [
        ["failed (kept in DLQ)", str(report.failed)],
        ["unconfirmed (kept in DLQ)", str(report.unconfirmed)],
        ["held back (kept in DLQ)", str(report.held_back)],
        ["not attempted (kept in DLQ)", str(report.not_attempted)],
        ["skipped (kept in DLQ)", str(report.skipped)],
        ["  not selected", str(report.out_of_window)],
        ["  time unreadable", str(report.unreadable)],
        ["  needs a human (poison)", str(report.needs_human - held_for_target)],
        *([["  needs a human (target)", str(held_for_target)]] if held_for_target else []),
        ["  needs a human (no source)", str(report.no_source)],
        ["  over --limit", str(report.over_limit)],
        ["duration", f"{report.duration_s:.2f}s ({report.rate:.0f} msg/s)"],
    ]
    table(rows, out)
    if report.archive_location and (report.archived or not report.dry_run):
        print(visible(f"  archive: {report.archive_location}"), file=out)
    # Each destination named as what it is to the messages (a function's async invoke, a
    # subscription's endpoint, never the topic): its name is whatever its owner chose.
    for line in delivery_lines(report.by_destination, feeders, to=to):
        print(visible(f"  → {line}"), file=out)
    if report.by_destination:  # something went (or would go) somewhere: never to more
        for line in not_resent_lines(feeders):
            print(f"  {line}", file=out)
    for reason, count in sorted(report.needs_human_reasons.items()):
        print(visible(f"  needs a human: {count}: {reason}"), file=out)
    if report.no_source:
        print(visible(f"  {report.no_source} held back: {report.no_source_reason}"), file=out)
    for code, count in sorted(report.failure_reasons.items()):
        if code in ROUTING_REFUSALS:  # no target to deliver to: what it is and why, once
            why = first_reason(report.failures, code)
            line = f"  {ROUTING_REFUSALS[code]} (kept in DLQ): {count}" + (
                f": {why}" if why else ""
            )
            print(visible(line), file=out)
        else:
            print(visible(f"  failed {count}× {code}"), file=out)  # AWS's code, as it came
    for failure in report.failures[:10]:
        # SQS's reason can quote the message (a group id, an attribute): shown, never acted on.
        said = failure["code"] in ROUTING_REFUSALS  # its reason is the line above
        line = f"    {failure['message_id']}: {failure['code']}" + (
            "" if said else f": {failure['reason']}"
        )
        print(visible(line), file=out)
    _print_notes(report, out, action, ledger=ledger)
    if not report.finished:
        why = (
            f"interrupted by {interrupted_by}"
            if interrupted_by and report.stopped is StopReason.CANCELLED
            else report.stopped.value + (f": {report.error}" if report.error else "")
        )
        if report.dlq_missing:
            left = "the DLQ no longer exists, so there is nothing to continue"
        elif report.remaining is None:
            left = (
                "how many messages are left in the DLQ is unknown (SQS did not say): run the "
                "same command again to continue"
            )
        else:
            left = (
                f"~{report.remaining} messages left in the DLQ (visible, in flight or delayed): "
                "run the same command again to continue"
            )
        # The error can quote what AWS was sent (a message's text): shown, never acted on.
        print(visible(f"  stopped early ({why}); {left}"), file=out)


def _fifo_export_words(report: RedriveReport) -> str:
    """What a FIFO export could not reach: it holds every message it reads until the end and
    deletes none, and SQS hands out none of a group's later messages while earlier ones are
    held, so one run exports only the first messages of each group."""
    if report.remaining is None:
        left = "an unknown number not exported (SQS did not give the DLQ's count)"
    else:
        # Every message the scan saw is still in the DLQ (an export deletes nothing), so what it
        # never saw is SQS's approximate count at the end minus those: an estimate, said so.
        left = f"about ≈{max(report.remaining - report.scanned, 0)} not exported"
    return (
        f"  warning: exported {report.archived}; {left}: a FIFO DLQ gives only the first "
        "messages of each group while they are held — export again after a redrive "
        "or a discard took those out"
    )


def _print_notes(
    report: RedriveReport, out: TextIO, action: Action = Action.REDRIVE, *, ledger: bool = False
) -> None:
    """The summary's warnings and notes: one line for each thing that is not plain success."""
    if report.unconfirmed:
        print(
            visible(
                f"  warning: {report.unconfirmed} {MAY_HAVE_BEEN_DELIVERED}: {ANSWER_LOST} "
                f"({report.unconfirmed_reason}). They were not sent again and stay "
                "in the DLQ; a later redrive sends each once more (at most one extra copy; a FIFO "
                "queue drops it if within 5 minutes)"
            ),
            file=out,
        )
    if report.held_back:
        print(
            f"  note: {report.held_back} held back in the DLQ {BEHIND_THEIR_GROUP}, so that the "
            "group's order is kept",
            file=out,
        )
    if report.not_attempted:
        print(
            f"  note: {report.not_attempted} selected were not sent: {STOPPED_BEFORE_THEM} (they "
            "stay in the DLQ)",
            file=out,
        )
    if report.blocked_groups and action is Action.EXPORT and not report.dry_run:
        print(_fifo_export_words(report), file=out)
    elif report.blocked_groups:
        print(
            f"  warning: the scan may not have seen every message of {report.blocked_groups} "
            "FIFO message group(s): it held one of their messages (not selected, or kept), and "
            "SQS hands out none of a group's later messages while one is in flight; any it did "
            "not see stay in the DLQ",
            file=out,
        )
    # A function's payload has no message attributes, so no counter: the engine counts those
    # sends in counter_dropped too, and they are said apart, with where they are counted.
    to_functions = function_deliveries(report.by_destination)
    if report.counter_dropped > to_functions:
        print(
            f"  warning: {report.counter_dropped - to_functions} sent without the "
            "dlq-redrive-count attribute (they already had 10 attributes, or it would have "
            "taken them over the destination's MaximumMessageSize)",
            file=out,
        )
    if to_functions and ledger:
        sent = "that would go" if report.dry_run else "sent"
        print(
            f"  note: lambda payloads carry no counter (an invoke has no message attributes): "
            f"the redrives of the {to_functions} {sent} to functions count toward MAX_REDRIVES "
            "in the state table's ledger (STATE_TABLE)",
            file=out,
        )
    elif to_functions:
        sent = "that would go" if report.dry_run else "sent"
        print(
            f"  note: lambda payloads carry no counter (an invoke has no message attributes): "
            f"the CLI cannot count the redrives of the {to_functions} {sent} to functions "
            "toward MAX_REDRIVES beyond this run without STATE_TABLE; the Slack worker and the "
            "daily job count them in the state table's ledger",
            file=out,
        )
    if report.lineage_dropped:
        print(
            f"  warning: {report.lineage_dropped} sent without the dlq-redrive-lineage attribute "
            "(no room for it): the canary cannot tell whether they came back",
            file=out,
        )
    if report.redelivered:
        print(
            f"  note: SQS delivered {report.redelivered} message(s) twice during the run; "
            "each was sent once",
            file=out,
        )
    if report.delete_failed:
        print(
            f"  warning: {report.delete_failed} were sent but could not be deleted from the DLQ; "
            "a later redrive would send them again",
            file=out,
        )
