"""``dlq-redrive export``, ``import``, ``discard`` and ``edit``: the DLQ actions beside redrive.

Each runs on the one engine loop (``bot.cli_run.run_action``: the same progress line, Ctrl-C,
summary and exit statuses as ``redrive``), with what differs said in its request: where a
message's copy goes before the original may be deleted (an archive record, an SQS send) and
whether it is deleted. Nothing is deleted from a DLQ before its copy is confirmed: an archive
record is durably written (the file's write and fsync returned, or S3's PutObject answered), a
send is in SQS's ``Successful``.

Everything a user typed is checked before anything is touched (exit 2): a bad archive location,
``--archive`` and ``--no-archive`` together or neither, a body file that cannot be read or is not
UTF-8. Listed in ``bot.cli.EXTRA_COMMANDS``; imports nothing of bot/cli.py.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bot.archive_location import parse_archive_location
from bot.cli_run import (
    add_run_options,
    error_line,
    exit_status,
    run_action,
    run_controlled,
    run_report,
    selection_of,
)
from bot.errors import UsageError
from bot.exit_codes import EXIT_FAILED, EXIT_INCOMPLETE, EXIT_OK
from bot.pacing import check_rate
from bot.printable import visible
from bot.redrive_model import Action, EditSpec, RedriveRequest
from bot.selection_options import add_selection_options
from bot.sqs_text import refused_character

if TYPE_CHECKING:
    from bot.archive_model import ArchiveSink
    from bot.catalog import Dlq
    from bot.cli_context import CliContext
    from bot.edit_destination import EditDestination
    from bot.sqs_model import ReceivedMessage

Configure = Callable[[argparse.ArgumentParser], None]
Run = Callable[[argparse.Namespace, "CliContext"], int]

# The edit's diff on a terminal: enough lines to see the change, never a screenful of a body.
DIFF_LINES = 40

LOCATION = "PATH|s3://BUCKET/PREFIX"


# --- export -----------------------------------------------------------------------------------


def _configure_export(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("queue")
    parser.add_argument(
        "--out",
        required=True,
        metavar=LOCATION,
        help="a new .jsonl file, or an S3 prefix (one object per batch written)",
    )
    add_selection_options(parser)
    add_run_options(parser)


def _run_export(args: argparse.Namespace, ctx: CliContext) -> int:
    check_rate(args.rate, args.workers, args.visibility_timeout)  # before any AWS call
    parse_archive_location(args.out)
    selection = selection_of(args, ctx)
    dlq = ctx.catalog.get(args.queue)
    return _with_archive(
        ctx,
        dlq,
        args.out,
        lambda archive: RedriveRequest(
            selection=selection,
            action=Action.EXPORT,
            archive=archive,
            workers=args.workers,
            rate=args.rate,
            visibility_timeout=args.visibility_timeout,
        ),
        as_json=args.json,
        deadline_s=args.deadline,
    )


# --- discard ----------------------------------------------------------------------------------


def _configure_discard(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("queue")
    add_selection_options(parser)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--archive",
        metavar=LOCATION,
        help="write each message here first (a new .jsonl file or an S3 prefix); a message is "
        "deleted only after its record was durably written",
    )
    where.add_argument(
        "--no-archive",
        action="store_true",
        help="delete without keeping a copy anywhere",
    )
    parser.add_argument("--dry-run", action="store_true", help="count, write and delete nothing")
    add_run_options(parser)


def _run_discard(args: argparse.Namespace, ctx: CliContext) -> int:
    check_rate(args.rate, args.workers, args.visibility_timeout)  # before any AWS call
    if args.archive is not None:
        parse_archive_location(args.archive)
    selection = selection_of(args, ctx)
    dlq = ctx.catalog.get(args.queue)

    def request(archive: ArchiveSink | None) -> RedriveRequest:
        return RedriveRequest(
            selection=selection,
            action=Action.DISCARD,
            archive=archive,
            dry_run=args.dry_run,
            workers=args.workers,
            rate=args.rate,
            visibility_timeout=args.visibility_timeout,
        )

    if args.no_archive or args.dry_run:
        # A dry run writes nothing: its archive is not even opened (no empty file left behind).
        status = run_action(ctx, dlq, request(None), as_json=args.json, deadline_s=args.deadline)
        if args.archive is not None and not args.json:
            print(
                visible(
                    f"  archive: {args.archive} (not opened in a dry run; a real run writes "
                    "each record there before it deletes the message)"
                ),
                file=ctx.out,
            )
        return status
    return _with_archive(
        ctx, dlq, args.archive, request, as_json=args.json, deadline_s=args.deadline
    )


def _with_archive(
    ctx: CliContext,
    dlq: Dlq,
    location: str,
    request: Callable[[ArchiveSink], RedriveRequest],
    *,
    as_json: bool,
    deadline_s: float | None,
) -> int:
    """Run the request made for the archive at ``location``, opened now (after every other
    check) and closed however the run ends."""
    from bot.composition import archive_sink

    sink = archive_sink(location)
    try:
        return run_action(ctx, dlq, request(sink), as_json=as_json, deadline_s=deadline_s)
    finally:
        sink.close()


# --- import -----------------------------------------------------------------------------------


def _configure_import(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar=LOCATION, help="an export: a .jsonl file or S3 prefix")
    parser.add_argument("--to", metavar="QUEUE", required=True, help="the queue to send them to")
    parser.add_argument("--dry-run", action="store_true", help="read and count, send nothing")


def _run_import(args: argparse.Namespace, ctx: CliContext) -> int:
    parse_archive_location(args.source)
    from bot.composition import archive_source
    from bot.importer import ImportReport, import_records, import_words

    destination = ctx.gateway.queue_info(ctx.gateway.queue_url(args.to))
    source = archive_source(args.source)

    def show(report: ImportReport, interrupted_by: str | None) -> None:
        if args.json:
            print(json.dumps(report.to_dict()), file=ctx.out)
            return
        for line in import_words(report, interrupted_by=interrupted_by):
            print(visible(line), file=ctx.out)  # the locations are the user's text

    # Ctrl-C and SIGTERM finish the batch in hand and print what was sent, as for a redrive.
    report = run_controlled(
        ctx.err,
        lambda cancelled, _: import_records(
            ctx.gateway,
            source.records(),
            destination,
            dry_run=args.dry_run,
            location=source.location,
            cancelled=cancelled,
        ),
        show,
        progress=None,
    )
    if report.interrupted:
        return EXIT_INCOMPLETE
    return EXIT_OK if report.complete else EXIT_FAILED


# --- edit -------------------------------------------------------------------------------------


def _configure_edit(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("queue")
    parser.add_argument("message_id", metavar="MESSAGE_ID")
    parser.add_argument(
        "--body-file",
        required=True,
        metavar="FILE",
        help="the new body: UTF-8 text, sent exactly as the file holds it",
    )
    parser.add_argument(
        "--allow-non-json",
        action="store_true",
        help="accept a body that is not JSON when the message's was",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="check and show the change, send nothing"
    )


def read_body_file(name: str) -> str:
    """The new body from ``name``: every byte kept, refused (UsageError) when it cannot be read,
    is not UTF-8, is empty or holds a character SQS refuses (``bot.sqs_text``)."""
    shown = visible(name)
    try:
        raw = Path(name).read_bytes()
    except FileNotFoundError as exc:
        raise UsageError(f"--body-file {shown}: no such file") from exc
    except IsADirectoryError as exc:
        raise UsageError(f"--body-file {shown} is a directory") from exc
    except OSError as exc:
        raise UsageError(f"--body-file {shown}: cannot read it: {exc.strerror}") from exc
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"--body-file {shown} is not UTF-8 text (byte {exc.start}: "
            f"{raw[exc.start : exc.start + 1]!r}); SQS bodies are Unicode text"
        ) from exc
    if not body:
        raise UsageError(f"--body-file {shown} is empty; SQS takes no empty body")
    refused = refused_character(body)
    if refused is not None:
        position, character = refused
        raise UsageError(
            f"--body-file {shown} holds {character} (character {position:,}), which SQS does "
            "not accept in a message body"
        )
    return body


def _run_edit(args: argparse.Namespace, ctx: CliContext) -> int:
    from bot.body_edits import edit_diff, is_json
    from bot.inspection import find_message

    body = read_body_file(args.body_file)
    dlq = ctx.catalog.get(args.queue)
    found = find_message(ctx.gateway, dlq, args.message_id)
    original = found.message
    if original is None:
        error_line(
            ctx.err,
            f"dlq-redrive: message {args.message_id} is not in {dlq.name} (looked at "
            f"{found.scanned} message(s)"
            + (
                "; in a FIFO DLQ only the first message of each group can be read"
                if dlq.info.fifo
                else ""
            )
            + "): nothing sent",
        )
        return EXIT_FAILED
    if body == original.body:
        raise UsageError("the new body is the message's body as it is: nothing to edit")
    was_json = is_json(original.body)
    if was_json and not is_json(body) and not args.allow_non_json:
        raise UsageError(
            f"message {args.message_id}'s body is JSON and {args.body_file} is not"
            f"{_where_not_json(body)}: fix the file, or give --allow-non-json to send it anyway"
        )
    destination = _edit_destination(ctx, dlq, original, body)
    to, where = destination.label, destination.words
    diff = edit_diff(original.body, body, was_json=was_json)
    if args.dry_run:
        if args.json:
            payload = {
                "dry_run": True,
                "dlq": dlq.name,
                "message_id": args.message_id,
                "to": to,
                "was_json": was_json,
                "diff": diff,
            }
            print(json.dumps(payload), file=ctx.out)
        else:
            print(visible(f"DRY RUN {dlq.name}: message {args.message_id}"), file=ctx.out)
            _print_diff(diff, ctx)
            print(
                visible(
                    f"would send it with this body to {where} ({destination.kept}) and then delete "
                    "it from the DLQ; nothing sent"
                ),
                file=ctx.out,
            )
        return EXIT_OK
    if not args.json:
        _print_diff(diff, ctx)
    request = RedriveRequest(edit=EditSpec(message_id=args.message_id, body=body), workers=1)
    report = run_report(ctx, dlq, request, as_json=args.json)
    if report.moved and not report.delete_failed:
        # The one message moved: what the scan held on its way to it (another FIFO group's
        # message, say) was released and is no concern of this edit.
        return EXIT_OK
    if report.finished and not report.went_wrong:
        # Found a moment ago, gone now: consumed, deleted or expired meanwhile.
        error_line(
            ctx.err,
            f"dlq-redrive: message {args.message_id} was no longer in {dlq.name}: nothing sent",
        )
        return EXIT_FAILED
    return exit_status(report, ctx.err)


def _where_not_json(body: str) -> str:
    """Where the JSON parser gave up on ``body`` (" (line 2, column 5: ...)"), or nothing."""
    try:
        json.loads(body)
    except json.JSONDecodeError as exc:
        return f" (line {exc.lineno}, column {exc.colno}: {exc.msg})"
    except (ValueError, RecursionError):
        return " (it nests too deeply to be read)"
    return ""


def _edit_destination(
    ctx: CliContext, dlq: Dlq, message: ReceivedMessage, body: str
) -> EditDestination:
    """Where the edited copy goes, as the engine will route it (``bot.edit_destination``, as
    Slack's Edit & resend asks), checked before anything is sent: UsageError when it can go
    nowhere (ambiguous, needs a human, ...), is too large or cannot be shaped for its target."""
    from bot.edit_destination import edit_destination

    try:
        destination = edit_destination(ctx.gateway, dlq, message)
    except UsageError as exc:
        raise UsageError(f"{exc}: nothing sent") from exc
    problem = destination.problem(body)
    if problem is not None:
        raise UsageError(f"{problem}: nothing sent")
    return destination


def _print_diff(diff: str, ctx: CliContext) -> None:
    lines = diff.splitlines()
    for line in lines[:DIFF_LINES]:
        print(visible(line), file=ctx.out)  # a body's text: shown, never acted on
    if len(lines) > DIFF_LINES:
        print(f"… {len(lines) - DIFF_LINES} more line(s) of the diff not shown", file=ctx.out)


COMMANDS: dict[str, tuple[str, Configure, Run]] = {
    "export": (
        "write messages to a .jsonl file or S3; they stay in the DLQ",
        _configure_export,
        _run_export,
    ),
    "import": (
        "send an export's messages to a queue, bodies and attributes as they were",
        _configure_import,
        _run_import,
    ),
    "discard": (
        "delete messages, each only after its archive record is durably written",
        _configure_discard,
        _run_discard,
    ),
    "edit": (
        "send one message to its source with a new body, then delete it from the DLQ",
        _configure_edit,
        _run_edit,
    ),
}
