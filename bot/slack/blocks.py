"""Block Kit messages (pure functions from plain data to message dicts).

Every message has a plain-text ``text`` fallback and stays within Block Kit's limits: at most 50
blocks, 3,000 characters per section text, 2,000 per button value.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.slack.commands import USAGE
from bot.slack.ids import ActionId

if TYPE_CHECKING:
    # Types only: the Slack endpoint renders usage and error messages and must not load the
    # engine or the state store at cold start (the worker, which renders the rest, has them).
    from bot.engine import RedriveReport
    from bot.inspection import DlqSummary, PeekedMessage
    from bot.state import ApprovalRequest, RunRecord

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3_000
PEEK_BODY_CHARS = 2_000  # leaves room for the header line inside one section

Message = dict[str, Any]


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def section(text: str) -> dict[str, Any]:
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": _truncate(text, MAX_SECTION_TEXT)},
    }


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _truncate(text, 3_000)}]}


def _code(text: str) -> str:
    # A body containing ``` would close the block early; a zero-width space keeps it literal.
    return "```" + text.replace("```", "`\u200b``") + "```"


def _when(value: datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def _message(text: str, blocks: list[dict[str, Any]]) -> Message:
    if len(blocks) > MAX_BLOCKS:
        blocks = [
            *blocks[: MAX_BLOCKS - 1],
            context("(more omitted to stay within Slack's limits)"),
        ]
    return {"text": _truncate(text, 3_000), "blocks": blocks}


def usage(problem: str | None = None) -> Message:
    """Help, optionally led by what was wrong with the input."""
    blocks = []
    if problem:
        blocks.append(section(f":warning: {problem}"))
    blocks.append(section(USAGE))
    text = f"{problem}\n\n{USAGE}" if problem else USAGE
    return _message(text, blocks)


def error(text: str) -> Message:
    return _message(text, [section(f":x: {text}")])


def notice(text: str) -> Message:
    return _message(text, [section(text)])


def dlq_list(summaries: list[DlqSummary]) -> Message:
    if not summaries:
        return notice("No dead-letter queues are watched (no queue has a RedrivePolicy).")
    lines = [
        f"• `{s.name}` — *{s.visible}* visible, {s.in_flight} in flight"
        f"{' (FIFO)' if s.fifo else ''} ← {', '.join(s.sources) or 'no source queue'}"
        for s in summaries
    ]
    blocks = [section(f"*Watched DLQs ({len(summaries)})*")]
    chunk: list[str] = []
    for line in lines:  # several lines per section, each section under the text limit
        if chunk and len("\n".join([*chunk, line])) > MAX_SECTION_TEXT - 100:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(section("\n".join(chunk)))
    text = "Watched DLQs: " + ", ".join(f"{s.name} ({s.visible})" for s in summaries)
    return _message(text, blocks)


def peek(dlq: str, visible: int, messages: list[PeekedMessage], tz: ZoneInfo) -> Message:
    if not messages:
        return notice(f"`{dlq}` has no visible messages right now.")
    blocks = [
        section(
            f"*{dlq}*: showing {len(messages)} of ~{visible} visible "
            "(made visible again; SQS counts this as a receive)"
        )
    ]
    for m in messages:
        sent = _when(m.sent_at, tz) if m.sent_at else "?"
        head = (
            f"`{m.message_id}` · sent {sent} · receives {m.receive_count} · "
            f"source `{m.source_queue or '?'}`"
        )
        if m.group_id:
            head += f" · group `{m.group_id}`"
        attrs = "\n".join(f"{k} = {_truncate(v, 100)}" for k, v in list(m.attributes.items())[:10])
        body = m.body_preview(PEEK_BODY_CHARS)
        text = head + ("\n" + _code(attrs) if attrs else "") + "\n" + _code(body or " ")
        blocks.append(section(text))
    return _message(f"{dlq}: {len(messages)} message(s)", blocks)


def _card_fields(request: ApprovalRequest, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "type": "section",
        "fields": [
            {"type": "mrkdwn", "text": f"*Queue*\n`{request.dlq}`"},
            {"type": "mrkdwn", "text": f"*Messages*\n{request.matched}"},
            {"type": "mrkdwn", "text": _truncate(f"*Selection*\n{request.selection_text}", 2000)},
            {"type": "mrkdwn", "text": f"*Requested by*\n<@{request.requester}>"},
            {"type": "mrkdwn", "text": f"*Expires*\n{_when(request.approval_expires_at, tz)}"},
            {"type": "mrkdwn", "text": f"*Request id*\n`{request.request_id}`"},
        ],
    }


def approval_card(request: ApprovalRequest, tz: ZoneInfo, *, dry_run_note: str = "") -> Message:
    """The card posted in the channel: what would move, who asked, and the two buttons."""
    title = f":inbox_tray: *Redrive request* — {request.matched} message(s) from `{request.dlq}`"
    blocks: list[dict[str, Any]] = [section(title), _card_fields(request, tz)]
    if dry_run_note:
        blocks.append(context(dry_run_note))
    blocks.append(
        {
            "type": "actions",
            "block_id": f"decision:{request.request_id}",
            "elements": [
                {
                    "type": "button",
                    "action_id": ActionId.APPROVE.value,
                    "style": "primary",
                    "text": {"type": "plain_text", "text": "Approve"},
                    "value": request.request_id,
                    "confirm": {
                        "title": {"type": "plain_text", "text": "Start the redrive?"},
                        "text": {
                            "type": "mrkdwn",
                            "text": _truncate(
                                f"Move up to {request.matched} message(s) from `{request.dlq}` "
                                f"back to their source queues ({request.selection_text}).",
                                300,
                            ),
                        },
                        "confirm": {"type": "plain_text", "text": "Approve"},
                        "deny": {"type": "plain_text", "text": "Cancel"},
                    },
                },
                {
                    "type": "button",
                    "action_id": ActionId.REJECT.value,
                    "style": "danger",
                    "text": {"type": "plain_text", "text": "Reject"},
                    "value": request.request_id,
                },
            ],
        }
    )
    text = (
        f"Redrive request {request.request_id}: {request.matched} message(s) from {request.dlq} "
        f"({request.selection_text}), requested by <@{request.requester}>"
    )
    return _message(text, blocks)


def card_update(request: ApprovalRequest, tz: ZoneInfo, status_line: str, *extra: str) -> Message:
    """The card after a decision: same facts, no buttons, and where things stand."""
    title = f":inbox_tray: *Redrive request* — {request.matched} message(s) from `{request.dlq}`"
    blocks = [section(title), _card_fields(request, tz), section(status_line)]
    blocks += [context(line) for line in extra if line]
    return _message(f"{request.dlq} redrive {request.request_id}: {status_line}", blocks)


def _duration(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 120:
        return f"{seconds:.0f}s"
    return f"{seconds // 60:.0f}m {seconds % 60:.0f}s"


def progress_line(run: RunRecord) -> str:
    part = f" (part {run.invocation})" if run.invocation > 1 else ""
    return (
        f":hourglass_flowing_sand: Redriving{part}… moved *{run.moved}*, failed {run.failed}, "
        f"skipped {run.skipped} so far"
    )


def outcome_lines(run: RunRecord, report: RedriveReport | None) -> tuple[str, list[str]]:
    """The card's final status line and details."""
    from bot.state import RunStatus  # only the worker renders outcomes (see the imports above)

    counts = (
        f"moved *{run.moved}*, failed *{run.failed}*, skipped {run.skipped} "
        f"({run.needs_human} need a human), in {_duration(run.duration_s)}"
        + (f" over {run.invocation} invocations" if run.invocation > 1 else "")
    )
    if run.status is RunStatus.CANCELLED:
        head = f":stop_sign: Cancelled by <@{run.cancel_requested_by}>: {counts}"
    elif run.status is RunStatus.FAILED:
        head = f":x: Redrive failed: {counts}"
    elif run.failed:
        head = f":warning: Finished with failures: {counts}"
    else:
        head = f":white_check_mark: Done: {counts}"
    details: list[str] = []
    if run.error:
        details.append(f"Error: {_truncate(run.error, 500)}")
    if report is not None:
        for code, count in sorted(report.failure_reasons.items()):
            details.append(f"{count} failed with {code} (kept in the DLQ)")
        if report.needs_human:
            details.append(
                f"{report.needs_human} message(s) were redriven too often already and stay in "
                "the DLQ for a human to look at (`/dlq-redrive peek`)."
            )
        if report.delete_failed:
            details.append(
                f"{report.delete_failed} were sent but could not be deleted from the DLQ; a "
                "later redrive would send them again."
            )
    details.append(f"Run id `{run.run_id}`")
    return head, details


def status(runs: list[RunRecord], tz: ZoneInfo, *, finished_shown: int = 5) -> Message:
    active = [r for r in runs if r.active]
    finished = [r for r in runs if not r.active][:finished_shown]
    if not active and not finished:
        return notice("No redrives yet.")
    blocks = [section(f"*In progress ({len(active)})*")]
    for run in active:
        blocks.append(
            section(
                f"`{run.run_id}` · `{run.dlq}` · {run.status.value}, part {run.invocation} · "
                f"moved {run.moved}, failed {run.failed} · approved by <@{run.approved_by}> · "
                f"started {_when(run.started_at, tz)}"
                + (" · cancel requested" if run.cancel_requested_by else "")
            )
        )
    if not active:
        blocks.append(context("none"))
    blocks.append(section(f"*Recently finished ({len(finished)})*"))
    for run in finished:
        blocks.append(
            section(
                f"`{run.run_id}` · `{run.dlq}` · {run.status.value} · moved {run.moved}, "
                f"failed {run.failed}, skipped {run.skipped} · {_when(run.updated_at, tz)}"
            )
        )
    text = f"{len(active)} redrive(s) in progress, {len(finished)} recently finished"
    return _message(text, blocks)
