"""The ``dlq-redrive`` command line: list, peek, redrive (and the native move task's status/cancel).

Exit status: 0 everything selected moved; 1 something went wrong (``RedriveReport.went_wrong``:
messages failed, unconfirmed, held back or not attempted, all kept in the DLQ; a delete SQS
refused; a FIFO group the scan could not see past) or AWS refused a call; 2 usage or configuration
error (nothing touched); 3 stopped before the end (time budget, Ctrl-C / SIGTERM, SQS in-flight
quota): run the same command again to continue.

Ctrl-C (SIGINT) and SIGTERM during a redrive do not raise into the engine's threads: they ask
the run to stop (``_Interrupt``), which finishes the batches in hand, makes every message it held
visible again and prints the partial summary. A second signal does the same, never less.
"""

from __future__ import annotations

import argparse
import io
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from types import FrameType, TracebackType
from typing import Any, TextIO

from botocore.exceptions import (
    BotoCoreError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)

from bot.cli_context import CliContext
from bot.composition import build_cli_context
from bot.engine import RedriveEngine
from bot.errors import AwsError, DlqRedriveError, UsageError
from bot.exit_codes import EXIT_FAILED, EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE
from bot.inspection import peek, summarize
from bot.pacing import Deadline, check_rate
from bot.printable import visible
from bot.redrive_model import RedriveReport, RedriveRequest, StopReason
from bot.run_control import (
    ANSWER_LOST,
    BEHIND_THEIR_GROUP,
    MAY_HAVE_BEEN_DELIVERED,
    STOPPED_BEFORE_THEM,
)
from bot.selection_options import SelectionArgs, add_selection_options, positive_int
from bot.slack import state_command
from bot.sqs_gateway import SqsGateway

DEFAULT_WORKERS = 8

ExtraCommand = Callable[[argparse.Namespace, CliContext], int]


class _Parser(argparse.ArgumentParser):
    """argparse, but its errors are one line like ours."""

    def error(self, message: str) -> Any:
        raise UsageError(message)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from exc
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="dlq-redrive",
        description="Inspect SQS dead-letter queues and move their messages back, safely.",
        epilog="Configuration: DLQ_QUEUES, TIMEZONE, MAX_REDRIVES and the standard AWS variables.",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    # --json is also accepted after the command (SUPPRESS keeps a global --json when it is not).
    json_option = _Parser(add_help=False)
    json_option.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print one JSON object"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help_text, parents=[json_option])

    command("list", "watched DLQs with counts and sources")

    peek_cmd = command("peek", "show messages without consuming them")
    peek_cmd.add_argument("queue")
    peek_cmd.add_argument("-n", type=positive_int, default=5, help="how many (default 5, max 100)")
    peek_cmd.add_argument("--full", action="store_true", help="do not truncate bodies")
    peek_cmd.add_argument(
        "--raw",
        action="store_true",
        help="print bodies, attributes and ids exactly as received, control characters included "
        "(by default they are shown as escapes such as \\x1b, so a message cannot drive the "
        "terminal)",
    )

    redrive = command("redrive", "move messages back to their source queues")
    redrive.add_argument("queue")
    add_selection_options(redrive)
    redrive.add_argument("--to", metavar="QUEUE", help="move everything into this queue instead")
    redrive.add_argument("--dry-run", action="store_true", help="count, move nothing")
    redrive.add_argument(
        "--force", action="store_true", help="also move messages at or above MAX_REDRIVES"
    )
    redrive.add_argument("--workers", type=positive_int, default=DEFAULT_WORKERS)
    redrive.add_argument("--rate", type=_positive_float, metavar="MSGS_PER_S")
    redrive.add_argument(
        "--deadline", type=_positive_float, metavar="SECONDS", help="stop cleanly after this long"
    )
    redrive.add_argument(
        "--visibility-timeout",
        type=positive_int,
        default=300,
        metavar="SECONDS",
        help="how long scanned messages stay hidden from other consumers (default 300)",
    )
    redrive.add_argument(
        "--native",
        action="store_true",
        help="use SQS's own StartMessageMoveTask (no selection; back to the original sources "
        "or --to)",
    )

    status = command("status", "the native move tasks of a DLQ")
    status.add_argument("queue")
    cancel = command("cancel", "cancel a native move task")
    cancel.add_argument("task_handle")

    for name, (help_text, configure, _run) in EXTRA_COMMANDS.items():
        configure(command(name, help_text))
    return parser


# Commands defined beside the part of the app they serve (the Slack app's state table), in the one
# parser. They import nothing of this module (no import cycle): each says what it needs of the
# context as a Protocol that ``CliContext`` satisfies.
EXTRA_COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], ExtraCommand]] = {
    "create-state-table": (state_command.HELP, state_command.configure, state_command.run),
}


def main(
    argv: Sequence[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    gateway: SqsGateway | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    now: Callable[[], datetime] | None = None,
) -> int:
    """Run the CLI; every argument is injectable for tests. Returns the exit status."""
    out = out or _lenient(sys.stdout)
    err = err or _lenient(sys.stderr)
    try:
        args = build_parser().parse_args(argv)
        ctx = build_cli_context(
            env, out=out, err=err, now=now or (lambda: datetime.now(UTC)), gateway=gateway
        )
        if args.command in EXTRA_COMMANDS:
            return EXTRA_COMMANDS[args.command][2](args, ctx)
        return _COMMANDS[args.command](args, ctx)
    except AwsError as exc:
        # The gateway words every SDK error; one that says AWS is not set up is a usage error.
        if isinstance(exc.__cause__, NoRegionError | NoCredentialsError):
            return _not_configured(err, exc.__cause__)
        _error_line(err, f"dlq-redrive: {exc}")
        return EXIT_FAILED
    except (NoRegionError, NoCredentialsError) as exc:  # raised making a client
        return _not_configured(err, exc)
    except EndpointConnectionError as exc:
        _error_line(err, f"dlq-redrive: cannot reach SQS: {exc}")
        return EXIT_FAILED
    except BotoCoreError as exc:
        _error_line(err, f"dlq-redrive: AWS call failed: {exc}")
        return EXIT_FAILED
    except DlqRedriveError as exc:
        _error_line(err, f"dlq-redrive: error: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        _error_line(err, "dlq-redrive: interrupted")
        return 130


def _not_configured(err: TextIO, exc: NoRegionError | NoCredentialsError) -> int:
    hint = "set AWS_REGION" if isinstance(exc, NoRegionError) else "set AWS_PROFILE or keys"
    _error_line(err, f"dlq-redrive: error: AWS is not configured: {exc} ({hint})")
    return EXIT_USAGE


def _lenient(stream: TextIO) -> TextIO:
    """``stream`` writing what its encoding cannot hold as escapes (``\\xe9``, ``\\u2713``):
    on a terminal that is not UTF-8, a message's text must not end the CLI in a traceback."""
    if isinstance(stream, io.TextIOWrapper):
        stream.reconfigure(errors="backslashreplace")
    return stream


def _error_line(err: TextIO, text: str) -> None:
    """Write one error line with control characters escaped: it may echo what was typed, and an
    escape sequence in an argument must not drive the terminal."""
    print(visible(text), file=err)


def _table(rows: list[list[str]], out: TextIO) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip(),
            file=out,
        )


def _cmd_list(args: argparse.Namespace, ctx: CliContext) -> int:
    summaries = summarize(ctx.catalog.watched())
    if args.json:
        print(json.dumps({"dlqs": [s.to_dict() for s in summaries]}), file=ctx.out)
        return EXIT_OK
    if not summaries:
        print("No dead-letter queues found (no queue has a RedrivePolicy).", file=ctx.out)
        return EXIT_OK
    rows = [["DLQ", "VISIBLE", "IN FLIGHT", "FIFO", "SOURCES"]]
    rows += [
        [
            s.name,
            str(s.visible),
            str(s.in_flight),
            "yes" if s.fifo else "no",
            ", ".join(s.sources) or "-",
        ]
        for s in summaries
    ]
    _table(rows, ctx.out)
    return EXIT_OK


def _cmd_peek(args: argparse.Namespace, ctx: CliContext) -> int:
    dlq = ctx.catalog.get(args.queue)
    messages = peek(ctx.gateway, dlq, args.n, max_redrives=ctx.settings.max_redrives)
    limit = None if args.full else 300
    if args.json:
        payload = {"dlq": dlq.name, "messages": [m.to_dict(limit) for m in messages]}
        # ASCII JSON, like every --json: valid whatever the output's encoding, and the escapes
        # keep a body's control characters from acting on a terminal; the values are exact.
        print(json.dumps(payload), file=ctx.out)
        return EXIT_OK
    print(
        f"{dlq.name}: showing {len(messages)} of ~{dlq.info.visible} visible "
        "(made visible again; SQS counts this as a receive)",
        file=ctx.out,
    )
    # Everything a message carries is shown through ``visible`` (one line each, escapes for
    # control characters) unless --raw: a CR would hide the body, an LF forge an entry, and an
    # escape sequence or U+202E drive or reorder the terminal.
    shown: Callable[[str], str] = (lambda text: text) if args.raw else visible
    poison = sum(1 for m in messages if m.poison)
    if poison:
        print(
            f"{poison} of them are POISON: redriven MAX_REDRIVES ({ctx.settings.max_redrives}) "
            "times already; a redrive leaves them for a human (--force moves them anyway)",
            file=ctx.out,
        )
    for m in messages:
        sent = (
            m.sent_at.astimezone(ctx.settings.timezone).isoformat(timespec="seconds")
            if m.sent_at
            else "?"
        )
        mark = f"  POISON (redriven {m.redrive_count} times)" if m.poison else ""
        print(
            f"\n- {shown(m.message_id)}  sent {sent}  receives {m.receive_count}  "
            f"source {shown(m.source_queue or '?')}{mark}",
            file=ctx.out,
        )
        if m.group_id:
            print(f"  group: {shown(m.group_id)}", file=ctx.out)
        for name, value in m.attributes.items():
            print(f"  {shown(name)} = {shown(value)}", file=ctx.out)
        body = m.body if limit is None else m.body_preview(limit)
        print(f"  body: {shown(body)}", file=ctx.out)
    return EXIT_OK


class _ProgressLine:
    """A one-line live progress display on a terminal's stderr."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self._started = time.monotonic()
        self._last = 0.0

    def __call__(self, report: RedriveReport) -> None:
        now = time.monotonic()
        if not self.enabled or now - self._last < 0.2:
            return
        self._last = now
        rate = report.moved / max(now - self._started, 1e-9)
        self.stream.write(
            f"\r  scanned {report.scanned}  moved {report.moved}  failed {report.failed}  "
            f"skipped {report.skipped}  {rate:.0f} msg/s   "
        )
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * 70 + "\r")
            self.stream.flush()


class _Interrupt:
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

    def __enter__(self) -> _Interrupt:
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
        _error_line(self.err, text)
        self._event.set()


def _cmd_redrive(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.native:
        return _cmd_native(args, ctx)
    check_rate(args.rate, args.workers, args.visibility_timeout)  # before any AWS call
    selection = SelectionArgs.from_namespace(args).build(tz=ctx.settings.timezone, now=ctx.now())
    catalog = ctx.catalog
    dlq = catalog.get(args.queue, orphan_ok=bool(args.to))
    to = catalog.resolve_to(dlq, args.to) if args.to else None
    request = RedriveRequest(
        selection=selection,
        to=to,
        dry_run=args.dry_run,
        force=args.force,
        workers=args.workers,
        rate=args.rate,
        visibility_timeout=args.visibility_timeout,
    )
    engine = RedriveEngine(
        ctx.gateway, max_redrives=ctx.settings.max_redrives, timezone=ctx.settings.timezone
    )
    progress = _ProgressLine(ctx.err) if not args.json else None
    # Signals stay caught until the summary is out, so a late Ctrl-C cannot cut it short.
    with _Interrupt(ctx.err) as interrupt:
        try:
            report = engine.run(
                dlq,
                request,
                deadline=Deadline(args.deadline),
                cancelled=interrupt.is_set,
                on_progress=progress,
            )
        finally:
            if progress is not None:
                progress.close()
        if args.json:
            print(json.dumps(report.to_dict()), file=ctx.out)
        else:
            print_summary(report, ctx.out, interrupted_by=interrupt.signal_name)
    if report.went_wrong:
        return EXIT_FAILED
    if report.finished and report.no_source and not report.matched:
        # Nothing could be routed at all: the one thing to do is choose a destination.
        _error_line(
            ctx.err, f"dlq-redrive: error: no message could be moved: {report.no_source_reason}"
        )
        return EXIT_USAGE
    if not report.finished:
        return EXIT_INCOMPLETE
    return EXIT_OK


def print_summary(report: RedriveReport, out: TextIO, *, interrupted_by: str | None = None) -> None:
    """The human summary of a run (also of an interrupted one: ``interrupted_by`` a signal)."""
    verb = "would move" if report.dry_run else "moved"
    title = f"{'DRY RUN ' if report.dry_run else ''}{report.dlq} ({report.selection})"
    if interrupted_by and report.stopped is StopReason.CANCELLED:
        title += f": interrupted by {interrupted_by}"
    print(title, file=out)
    rows = [
        ["scanned", str(report.scanned)],
        ["matched", str(report.matched)],
        # What the destinations can take: a dry run does not promise what would fail.
        [verb, str(report.destined if report.dry_run else report.moved)],
        ["failed (kept in DLQ)", str(report.failed)],
        ["unconfirmed (kept in DLQ)", str(report.unconfirmed)],
        ["held back (kept in DLQ)", str(report.held_back)],
        ["not attempted (kept in DLQ)", str(report.not_attempted)],
        ["skipped (kept in DLQ)", str(report.skipped)],
        ["  outside the window", str(report.out_of_window)],
        ["  time unreadable", str(report.unreadable)],
        ["  needs a human (poison)", str(report.needs_human)],
        ["  needs a human (no source)", str(report.no_source)],
        ["  over --limit", str(report.over_limit)],
        ["duration", f"{report.duration_s:.2f}s ({report.rate:.0f} msg/s)"],
    ]
    _table(rows, out)
    for name, count in sorted(report.by_destination.items()):
        print(f"  → {name}: {count}", file=out)
    if report.no_source:
        print(visible(f"  {report.no_source} held back: {report.no_source_reason}"), file=out)
    for code, count in sorted(report.failure_reasons.items()):
        print(visible(f"  failed {count}× {code}"), file=out)  # AWS's code, as it came
    for failure in report.failures[:10]:
        # SQS's reason can quote the message (a group id, an attribute): shown, never acted on.
        line = f"    {failure['message_id']}: {failure['code']}: {failure['reason']}"
        print(visible(line), file=out)
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
    if report.blocked_groups:
        print(
            f"  warning: the scan may not have seen every message of {report.blocked_groups} "
            "FIFO message group(s): it held one of their messages (not selected, or kept), and "
            "SQS hands out none of a group's later messages while one is in flight; any it did "
            "not see stay in the DLQ",
            file=out,
        )
    if report.counter_dropped:
        print(
            f"  warning: {report.counter_dropped} sent without the dlq-redrive-count attribute "
            "(they already had 10 attributes, or it would have taken them over the "
            "destination's MaximumMessageSize)",
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


def _cmd_native(args: argparse.Namespace, ctx: CliContext) -> int:
    chosen = [
        name
        for name, value in (
            ("--yesterday", args.yesterday),
            ("--date", args.date),
            ("--since", args.since),
            ("--until", args.until),
            ("--time-field", args.time_field),
            ("--limit", args.limit),
            ("--dry-run", args.dry_run),
            ("--force", args.force),
        )
        if value
    ]
    if chosen:
        raise UsageError(
            f"--native moves the whole DLQ; it cannot be combined with {', '.join(chosen)}"
        )
    if args.rate is not None and args.rate > 500:
        raise UsageError("--rate with --native is at most 500 messages per second (an SQS limit)")
    catalog = ctx.catalog
    dlq = catalog.get(args.queue)
    to = catalog.resolve_to(dlq, args.to) if args.to else None
    handle = ctx.move_tasks.start(
        dlq.info.arn, to.arn if to else None, int(args.rate) if args.rate else None
    )
    if args.json:
        print(json.dumps({"dlq": dlq.name, "task_handle": handle}), file=ctx.out)
    else:
        print(f"started a message move task on {dlq.name}: {handle}", file=ctx.out)
        print(f"follow it with: dlq-redrive status {dlq.name}", file=ctx.out)
    return EXIT_OK


def _cmd_status(args: argparse.Namespace, ctx: CliContext) -> int:
    dlq = ctx.catalog.get(args.queue)
    tasks = ctx.move_tasks.list(dlq.info.arn)
    if args.json:
        print(json.dumps({"dlq": dlq.name, "tasks": tasks}, default=str), file=ctx.out)
        return EXIT_OK
    if not tasks:
        print(f"{dlq.name}: no message move tasks", file=ctx.out)
        return EXIT_OK
    rows = [["STATUS", "MOVED", "TO MOVE", "RATE", "HANDLE"]]
    for task in tasks:
        rows.append(
            [
                str(task.get("Status", "?")),
                str(task.get("ApproximateNumberOfMessagesMoved", "?")),
                str(task.get("ApproximateNumberOfMessagesToMove", "?")),
                str(task.get("MaxNumberOfMessagesPerSecond", "-")),
                str(task.get("TaskHandle", "-")),
            ]
        )
    _table(rows, ctx.out)
    return EXIT_OK


def _cmd_cancel(args: argparse.Namespace, ctx: CliContext) -> int:
    moved = ctx.move_tasks.cancel(args.task_handle)
    if args.json:
        print(json.dumps({"cancelled": args.task_handle, "moved": moved}), file=ctx.out)
    else:
        print(f"cancelled; ~{moved} messages had been moved", file=ctx.out)
    return EXIT_OK


_COMMANDS: dict[str, Callable[[argparse.Namespace, CliContext], int]] = {
    "list": _cmd_list,
    "peek": _cmd_peek,
    "redrive": _cmd_redrive,
    "status": _cmd_status,
    "cancel": _cmd_cancel,
}

if __name__ == "__main__":
    raise SystemExit(main())
