"""The ``dlq-redrive`` command line: list, peek, redrive (with a canary; and the native move
task's status/cancel); export, import, discard and edit live in ``bot.cli_actions``.

Exit status: 0 everything selected moved (exported, discarded, ...); 1 something went wrong
(``RedriveReport.went_wrong``: messages failed, unconfirmed, held back or not attempted, all kept
in the DLQ; a delete SQS refused; a FIFO group the scan could not see past; an archive write not
confirmed), a canary stopped the run, an edit's message was not found, or AWS refused a call; 2
usage or configuration error (nothing touched); 3 stopped before the end (time budget, Ctrl-C /
SIGTERM, SQS in-flight quota): run the same command again to continue.

Ctrl-C (SIGINT) and SIGTERM during a run do not raise into the engine's threads: they ask the
run to stop (``bot.cli_run.Interrupt``), which finishes the batches in hand, makes every message
it held visible again and prints the partial summary. A second signal does the same, never less.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from botocore.exceptions import (
    BotoCoreError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)

from bot.canary import CanaryPlan
from bot.cli_actions import COMMANDS as ACTION_COMMANDS
from bot.cli_context import CliContext
from bot.cli_list import run_list
from bot.cli_run import (
    add_run_options,
    error_line,
    non_negative_float,
    run_action,
    run_canary,
    selection_of,
    share,
    table,
)
from bot.cli_run import print_summary as print_summary  # its old home: tests and scripts use it
from bot.composition import build_cli_context
from bot.errors import AwsError, DlqRedriveError, UsageError
from bot.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from bot.inspection import EXPIRY_SCAN, peek
from bot.kind_words import undeliverable
from bot.pacing import check_rate
from bot.printable import visible
from bot.redrive_model import RedriveRequest
from bot.selection_options import add_selection_options, positive_int
from bot.slack import state_command
from bot.sqs_gateway import SqsGateway

ExtraCommand = Callable[[argparse.Namespace, CliContext], int]


class _Parser(argparse.ArgumentParser):
    """argparse, but its errors are one line like ours."""

    def error(self, message: str) -> Any:
        raise UsageError(message)


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

    list_cmd = command("list", "watched DLQs with counts, next expiry and sources")
    list_cmd.add_argument(
        "--expiry-scan",
        type=positive_int,
        default=EXPIRY_SCAN,
        metavar="N",
        help="messages read per DLQ to find the next expiry (default "
        f"{EXPIRY_SCAN:,}; beyond them the expiry shown is a bound)",
    )
    list_cmd.add_argument(
        "--no-expiry",
        action="store_true",
        help="do not read messages for the next expiry (counts and sources only)",
    )

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
    add_run_options(redrive)
    redrive.add_argument(
        "--canary",
        type=positive_int,
        metavar="N",
        help="move N first, wait, and move the rest only if few of them came back to the DLQ",
    )
    redrive.add_argument(
        "--canary-wait",
        type=non_negative_float,
        metavar="SECONDS",
        help=f"how long to watch for the canary coming back (default {CanaryPlan.wait_s:g}, "
        "stretched to what the source queue's maxReceiveCount x VisibilityTimeout gives a "
        "failing consumer, up to 15 minutes)",
    )
    redrive.add_argument(
        "--canary-max-returned",
        type=share,
        metavar="SHARE",
        help="stop when more than this share of the canary came back (from 0 to below 1, "
        f"default {CanaryPlan.max_returned_share:g})",
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
    **ACTION_COMMANDS,
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
        error_line(err, f"dlq-redrive: {exc}")
        return EXIT_FAILED
    except (NoRegionError, NoCredentialsError) as exc:  # raised making a client
        return _not_configured(err, exc)
    except EndpointConnectionError as exc:
        error_line(err, f"dlq-redrive: cannot reach SQS: {exc}")
        return EXIT_FAILED
    except BotoCoreError as exc:
        error_line(err, f"dlq-redrive: AWS call failed: {exc}")
        return EXIT_FAILED
    except DlqRedriveError as exc:
        error_line(err, f"dlq-redrive: error: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        error_line(err, "dlq-redrive: interrupted")
        return 130


def _not_configured(err: TextIO, exc: NoRegionError | NoCredentialsError) -> int:
    hint = "set AWS_REGION" if isinstance(exc, NoRegionError) else "set AWS_PROFILE or keys"
    error_line(err, f"dlq-redrive: error: AWS is not configured: {exc} ({hint})")
    return EXIT_USAGE


def _lenient(stream: TextIO) -> TextIO:
    """``stream`` writing what its encoding cannot hold as escapes (``\\xe9``, ``\\u2713``):
    on a terminal that is not UTF-8, a message's text must not end the CLI in a traceback."""
    if isinstance(stream, io.TextIOWrapper):
        stream.reconfigure(errors="backslashreplace")
    return stream


def _cmd_peek(args: argparse.Namespace, ctx: CliContext) -> int:
    dlq = ctx.catalog.get(args.queue)
    messages = peek(ctx.gateway, dlq, args.n, max_redrives=ctx.settings.max_redrives)
    limit = None if args.full else 300
    if args.json:
        payload = {
            "dlq": dlq.name,
            "kind": dlq.kind_label(),
            "sources": dlq.describe_sources(),
            "messages": [m.to_dict(limit) for m in messages],
        }
        # ASCII JSON, like every --json: valid whatever the output's encoding, and the escapes
        # keep a body's control characters from acting on a terminal; the values are exact.
        print(json.dumps(payload), file=ctx.out)
        return EXIT_OK
    print(
        f"{dlq.name}: showing {len(messages)} of ~{dlq.info.visible} visible "
        "(made visible again; SQS counts this as a receive)",
        file=ctx.out,
    )
    if dlq.feeders:  # its messages do not say where they came from: its feeders do
        fed = "; ".join(dlq.describe_sources())
        print(visible(f"kind {dlq.kind_label()}, fed by {fed}"), file=ctx.out)
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
        if m.goes_to is not None:
            where = f"goes to {shown(m.goes_to)}"
        elif m.stays is not None:
            where = "stays in the DLQ"
        else:
            where = f"source {shown(m.source_queue or '?')}"
        print(
            f"\n- {shown(m.message_id)}  sent {sent}  receives {m.receive_count}  {where}{mark}",
            file=ctx.out,
        )
        if m.stays is not None:
            print(f"  why: {shown(m.stays)}", file=ctx.out)
        if m.group_id:
            print(f"  group: {shown(m.group_id)}", file=ctx.out)
        for name, value in m.attributes.items():
            print(f"  {shown(name)} = {shown(value)}", file=ctx.out)
        body = m.body if limit is None else m.body_preview(limit)
        print(f"  body: {shown(body)}", file=ctx.out)
    return EXIT_OK


def _cmd_redrive(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.native:
        return _cmd_native(args, ctx)
    plan = _canary_plan(args)
    check_rate(args.rate, args.workers, args.visibility_timeout)  # before any AWS call
    selection = selection_of(args, ctx)
    catalog = ctx.catalog
    dlq = catalog.get(args.queue, orphan_ok=bool(args.to))
    to = catalog.resolve_to(dlq, args.to) if args.to else None
    refused = None if to else undeliverable(dlq.feeders, has_sources=bool(dlq.sources))
    if refused:
        raise UsageError(
            f"no message of {visible(dlq.name)} can go back where it came from: "
            f"{visible(refused)}; nothing was touched (--to QUEUE moves them to a queue you name)"
        )
    request = RedriveRequest(
        selection=selection,
        to=to,
        dry_run=args.dry_run,
        force=args.force,
        workers=args.workers,
        rate=args.rate,
        visibility_timeout=args.visibility_timeout,
    )
    if plan is not None:
        return run_canary(ctx, dlq, request, plan, as_json=args.json, deadline_s=args.deadline)
    return run_action(ctx, dlq, request, as_json=args.json, deadline_s=args.deadline)


def _canary_plan(args: argparse.Namespace) -> CanaryPlan | None:
    """The canary the options ask for (None: no --canary); a UsageError for options that make
    no sense with it (or without it), before any AWS call."""
    if args.canary is None:
        given = [
            name
            for name, value in (
                ("--canary-wait", args.canary_wait),
                ("--canary-max-returned", args.canary_max_returned),
            )
            if value is not None
        ]
        if given:
            raise UsageError(f"{', '.join(given)} needs --canary N")
        return None
    if args.dry_run:
        raise UsageError("--canary moves messages to watch them; it cannot be a --dry-run")
    defaults = CanaryPlan()
    try:
        return CanaryPlan(
            size=args.canary,
            wait_s=defaults.wait_s if args.canary_wait is None else args.canary_wait,
            # The default wait covers the sources' settings; a wait given is kept as given.
            stretch=args.canary_wait is None,
            max_returned_share=(
                defaults.max_returned_share
                if args.canary_max_returned is None
                else args.canary_max_returned
            ),
        )
    except ValueError as exc:  # the plan's own rules (a share below 1, ...)
        raise UsageError(f"--canary: {exc}") from exc


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
            ("--canary", args.canary),
            ("--error", args.error),
            ("--where", args.where),
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
    table(rows, ctx.out)
    return EXIT_OK


def _cmd_cancel(args: argparse.Namespace, ctx: CliContext) -> int:
    moved = ctx.move_tasks.cancel(args.task_handle)
    if args.json:
        print(json.dumps({"cancelled": args.task_handle, "moved": moved}), file=ctx.out)
    else:
        print(f"cancelled; ~{moved} messages had been moved", file=ctx.out)
    return EXIT_OK


_COMMANDS: dict[str, Callable[[argparse.Namespace, CliContext], int]] = {
    "list": run_list,
    "peek": _cmd_peek,
    "redrive": _cmd_redrive,
    "status": _cmd_status,
    "cancel": _cmd_cancel,
}

if __name__ == "__main__":
    raise SystemExit(main())
