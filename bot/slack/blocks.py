"""Block Kit messages (pure functions from plain data to message dicts).

Every message has a plain-text ``text`` fallback and stays within Block Kit's limits: at most 50
blocks, 3,000 characters per section text, 2,000 per button value, and ``MESSAGE_TEXT`` characters
of block text in all (a peek and the list budget theirs; ``_message`` is the last guard).

Every text we did not write (message bodies, attributes, group ids, queue names, what a user typed)
goes through ``bot.slack.mrkdwn``, in the blocks and in the fallback text alike (Slack parses
both); counts are shown with ``number``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

from bot.printable import visible
from bot.slack.button_values import MESSAGE_ID, QUEUE_NAME
from bot.slack.commands import USAGE
from bot.slack.ids import ActionId
from bot.slack.mrkdwn import (
    MAX_MESSAGE_TEXT,
    MAX_SECTION_TEXT,
    block_text_length,
    code,
    code_block,
    cut,
    escape,
    number,
    text_length,
)

if TYPE_CHECKING:
    # Types only: the Slack endpoint renders usage and error messages and must not load the
    # engine or the state store at cold start (the worker, which renders the rest, has them).
    from bot.inspection import DlqSummary, PeekedMessage
    from bot.redrive_model import RedriveReport
    from bot.state_model import ApprovalRequest, RunRecord

MAX_BLOCKS = 50
MESSAGE_TEXT = MAX_MESSAGE_TEXT  # block text of one message (bot.slack.mrkdwn)
PEEK_ATTRIBUTE_CHARS = 100  # each attribute value shown, before escaping
PEEK_ID_CHARS = 120  # ids and names in a peeked message's header line
PEEK_REASON_CHARS = 400  # why a peeked message would stay in the DLQ, before escaping
DIALOG_TEXT = 300  # a confirmation dialog's text (Block Kit)

Message = dict[str, Any]


def section(text: str) -> dict[str, Any]:
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": cut(text, MAX_SECTION_TEXT)},
    }


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": cut(text, 3_000)}]}


def _when(value: datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def _pin_time(pinned: datetime, tz: ZoneInfo) -> str:
    """The pin's time to the second: it is a bound the run enforces, and "before 03:00" for a
    pin at 03:00:41 would let messages sent in those 41 seconds move past what the card said."""
    return pinned.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %Z")


def _message(text: str, blocks: list[dict[str, Any]]) -> Message:
    # The last guard for Slack's limits: the renderers budget their content first.
    if len(blocks) > MAX_BLOCKS or block_text_length(blocks) > MESSAGE_TEXT:
        note = context("(more omitted to stay within Slack's limits)")
        kept = blocks[: MAX_BLOCKS - 1]
        while kept and block_text_length([*kept, note]) > MESSAGE_TEXT:
            kept.pop()
        blocks = [*kept, note]
    return {"text": cut(text, 3_000), "blocks": blocks}


def usage(problem: str | None = None) -> Message:
    """Help, optionally led by what was wrong with the input (plain text, escaped here)."""
    blocks = []
    shown = escape(problem) if problem else None
    if shown:
        blocks.append(section(f":warning: {shown}"))
    blocks.append(section(USAGE))
    text = f"{shown}\n\n{USAGE}" if shown else USAGE
    return _message(text, blocks)


def error(text: str) -> Message:
    """An error in plain text: it may quote what a user typed or a queue returned, so it is
    escaped (our own `code` spans in it still show as code)."""
    shown = escape(text)
    return _message(shown, [section(f":x: {shown}")])


def failure(exc: BaseException) -> Message:
    """What the person is told when handling their request failed unexpectedly (a bug, an
    unexpected answer): the kind of failure only, the details stay in the logs."""
    return error(
        f"Something went wrong while handling that ({type(exc).__name__}). Nothing was deleted "
        "from a DLQ without being sent first; the logs have the details."
    )


def notice(text: str) -> Message:
    """A message in mrkdwn we wrote: callers escape every value they put in it."""
    return _message(text, [section(text)])


def dlq_list(summaries: list[DlqSummary], not_read: Sequence[str] = ()) -> Message:
    """The watched DLQs, each with its kind and its sources named precisely (a subscription's
    ARN and endpoint, a rule's target, a function), then one warning per feeder kind discovery
    could not read (``not_read``: ``bot.kind_words.unread_lines``), so that a DLQ missing from
    the list is not taken for one nothing feeds."""
    warnings = [f":warning: {escape(line, limit=500)}" for line in not_read]
    if not summaries:
        text = "No dead-letter queues are watched (no queue has a RedrivePolicy)."
        return notice("\n".join([text, *warnings]))
    lines = [_listed(s) for s in summaries]
    blocks = [section(f"*Watched DLQs ({number(len(summaries))})*")]
    if warnings:
        blocks.append(context("\n".join(warnings)))
    room = MESSAGE_TEXT - block_text_length(blocks) - 200  # and the line naming what did not fit
    shown = 0
    chunk: list[str] = []
    for line in lines:  # several lines per section, each section under the text limit
        room -= text_length(line) + 1
        if room < 0:
            break
        if chunk and text_length("\n".join([*chunk, line])) > MAX_SECTION_TEXT - 100:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
        shown += 1
    if chunk:
        blocks.append(section("\n".join(chunk)))
    if shown < len(lines):
        omitted = number(len(lines) - shown)
        blocks.append(section(f"…and {omitted} more: `dlq-redrive list` shows them all"))
    text = "Watched DLQs: " + ", ".join(
        f"{escape(s.name)} ({number(s.visible)})" for s in summaries
    )
    return _message(text, blocks)


# A DLQ's sources on the list and a peek's title: a few, each cut, so that one DLQ fed by
# hundreds of functions cannot crowd out the others (``dlq-redrive list`` names them all).
SOURCES_SHOWN = 5
SOURCE_CHARS = 300


def _listed(s: DlqSummary) -> str:
    """One DLQ on the list: its name, kind, counts and sources (``Dlq.describe_sources``)."""
    head = (
        f"• {code(s.name)} — *{number(s.visible)}* visible, "
        f"{number(s.in_flight)} in flight{' (FIFO)' if s.fifo else ''} · kind `{s.kind}`"
    )
    described = list(s.described) or list(s.sources)
    if not described:
        return f"{head} ← no source queue"
    if len(described) == 1 and not s.feeders:  # a plain SQS DLQ's one source: as before
        return f"{head} ← {escape(described[0], limit=SOURCE_CHARS)}"
    return f"{head}\n{_sources(described)}"


def _sources(described: Sequence[str]) -> str:
    """Sources one per line ("   ← ..."), escaped and cut, at most ``SOURCES_SHOWN``."""
    lines = [f"    ← {escape(line, limit=SOURCE_CHARS)}" for line in described[:SOURCES_SHOWN]]
    if len(described) > SOURCES_SHOWN:
        more = number(len(described) - SOURCES_SHOWN)
        lines.append(f"    ← …and {more} more: `dlq-redrive list` names them all")
    return "\n".join(lines)


def peek(
    dlq: str,
    visible_count: int,
    messages: list[PeekedMessage],
    tz: ZoneInfo,
    *,
    kind: str | None = None,
    sources: Sequence[str] = (),
    buttons: bool = True,
) -> Message:
    """Peeked messages, one section each: the header line, the attributes and the body in code
    blocks, cut so that all of them together stay within ``PEEK_MESSAGE_TEXT``. ``kind`` and
    ``sources`` (``Dlq.kind_label``, ``Dlq.describe_sources``) head it: where the messages came
    from, and so where a redrive sends them. ``buttons``: each message's Edit & resend and
    Discard (a modal has none: ``bot.slack.peek_modal``)."""
    fed = (f"\nkind `{kind}`" if kind else "") + (f"\n{_sources(sources)}" if sources else "")
    if not messages:
        return notice(f"{code(dlq)} has no visible messages right now.{fed}")
    title = (
        f"*{escape(dlq)}*: showing {number(len(messages))} of ~{number(visible_count)} visible "
        f"(made visible again; SQS counts this as a receive){fed}"
    )
    poison = sum(1 for m in messages if m.poison)
    if poison:
        title += (
            f"\n:skull: {number(poison)} of them are poison: redriven MAX_REDRIVES times "
            "already, a redrive leaves them for a human"
        )
    budget = min(MAX_SECTION_TEXT, (MESSAGE_TEXT - text_length(title)) // len(messages))
    if buttons:
        budget -= text_length(_PEEK_BUTTON_TEXTS)  # each message's buttons count as block text
    blocks = [section(title)]
    for index, m in enumerate(messages):
        blocks.append(section(_peeked(m, tz, budget)))
        if buttons:
            blocks += _message_buttons(dlq, m.message_id, index)
    return _message(f"{escape(dlq)}: {number(len(messages))} message(s)", blocks)


# Slack's text objects, plain_text too, take &, < and > as entities (Slack's formatting rules).
_EDIT_LABEL = "Edit &amp; resend"
_PEEK_BUTTON_TEXTS = _EDIT_LABEL + "Discard"


def _message_buttons(dlq: str, message_id: str, index: int) -> list[dict[str, Any]]:
    """A peeked message's Edit & resend and Discard buttons (value: its queue and id, JSON);
    none for an id the endpoint would refuse to read back (``bot.slack.button_values``)."""
    if not MESSAGE_ID.fullmatch(message_id) or not QUEUE_NAME.match(dlq):
        return []
    value = json.dumps({"queue": dlq, "message_id": message_id}, separators=(",", ":"))
    return [
        {
            "type": "actions",
            "block_id": f"peeked:{index}",  # the id rides in the value, never in a block id
            "elements": [
                {
                    "type": "button",
                    "action_id": ActionId.PEEK_EDIT.value,
                    "text": {"type": "plain_text", "text": _EDIT_LABEL},
                    "value": value,
                },
                {
                    "type": "button",
                    "action_id": ActionId.PEEK_DISCARD.value,
                    "style": "danger",
                    "text": {"type": "plain_text", "text": "Discard"},
                    "value": value,
                },
            ],
        }
    ]


def _peeked(m: PeekedMessage, tz: ZoneInfo, budget: int) -> str:
    """One peeked message in at most ``budget`` characters, its fences always whole."""
    sent = _when(m.sent_at, tz) if m.sent_at else "?"
    head = (
        f"{code(m.message_id, limit=PEEK_ID_CHARS)} · sent {sent} · "
        f"receives {number(m.receive_count)} · "
    )
    if m.goes_to is not None:  # a feeder's message: where a redrive sends it
        head += f"goes to {escape(m.goes_to)}"
    elif m.stays is not None:
        head += f"stays in the DLQ: {escape(cut(m.stays, PEEK_REASON_CHARS))}"
    else:
        head += f"source {code(m.source_queue or '?', limit=PEEK_ID_CHARS)}"
    if m.group_id is not None:
        head += f" · group {code(m.group_id, limit=PEEK_ID_CHARS)}"
    if m.poison:
        head = f":skull: *poison* (redriven {number(m.redrive_count)} times) · {head}"
    room = budget - text_length(head) - 1
    parts = [head]
    if m.attributes:
        # One line per attribute, its value on that line whatever it contains (a newline in a
        # value must not look like another attribute).
        lines = "\n".join(
            f"{visible(name)} = {visible(cut(value, PEEK_ATTRIBUTE_CHARS))}"
            for name, value in list(m.attributes.items())[:10]
        )
        attrs = code_block(lines, max(room // 2, 8))
        parts.append(attrs)
        room -= text_length(attrs) + 1
    parts.append(code_block(m.body, max(room, 8)))
    return "\n".join(parts)


def dry_run_note(dry: RedriveReport, action: str = "redrive") -> str:
    """The approval card's note: what the count left in the DLQ and why (matched + each reason
    to stay = scanned), why some that match would not move (would move + each reason =
    matched), and when the count is only a lower bound, that it is and why."""
    parts = []
    # A discard or an export sends nothing: every message it matches would go to the archive
    # (a discard's then away; an export's stay in the DLQ).
    archiving = action in ("discard", "export")
    would_move = number(dry.matched if archiving else dry.destined)
    goes = "would be exported" if action == "export" else "would move"
    if not dry.finished:
        from bot.run_control import why_stopped  # only the worker counts (see the imports)

        parts.append(
            f"Counting stopped early because {why_stopped(dry.stopped)}, after "
            f"{number(dry.scanned)} message(s): at least {number(dry.matched)} match, at least "
            f"{would_move} {goes}."
        )
    elif dry.unseen:
        parts.append(
            f"The count looked at {number(dry.scanned)} message(s) but SQS counts "
            f"{number(dry.remaining or 0)} in the DLQ: SQS stopped handing them out (or more "
            f"arrived), so at least {number(dry.matched)} match, at least {would_move} {goes}."
        )
    elif dry.blocked_groups:
        # On a FIFO DLQ the count holds every message it counts, and SQS hands out none of a
        # group's later messages while one is in flight: those it could not see may match.
        parts.append(
            f"At least {would_move} {goes}; the count could not see past held messages of "
            f"{number(dry.blocked_groups)} FIFO group(s) (SQS hands out none of a group's later "
            "messages while one of its messages is held)."
        )
    held_for_target = sum(dry.needs_human_reasons.values())
    stay = _because(
        dry.skipped,
        [
            (
                dry.needs_human - held_for_target,
                "were redriven too often already (poison) and stay for a human",
            ),
            *[
                (count, f"stay for a human: {escape(reason, limit=300)}")
                for reason, count in sorted(dry.needs_human_reasons.items())
            ],
            (dry.unreadable, "have no readable time and stay"),
            (dry.out_of_window, "are outside the selection and stay"),
            (dry.over_limit, "are over --limit and stay"),
            (
                dry.no_source,
                "do not say their source in a DLQ with several and stay for a human "
                "(the CLI's `redrive --to QUEUE` moves them)",
            ),
        ],
    )
    if stay:
        parts.append(f"Of {number(dry.scanned)} checked, {number(dry.matched)} match; {stay}.")
    # A dry run fails what a run could not send: too large for the destination, or a lookup of
    # the destination AWS refused (its code, as it came).
    failed = [
        (count, _would_fail(code, dry))
        for code, count in sorted(dry.failure_reasons.items(), key=lambda item: (-item[1], item[0]))
    ]
    not_moving = _because(
        0 if archiving else dry.matched - dry.destined,
        [
            *failed,
            (dry.not_attempted, "were not checked against their destination (the count stopped)"),
        ],
    )
    if not_moving:
        parts.append(f"Of the {number(dry.matched)} that match, {would_move} {goes}; {not_moving}.")
    return " ".join(parts)


def _would_fail(code: str, dry: RedriveReport) -> str:
    """Why the messages a count failed with ``code`` stay: too large, no target to deliver to
    (ambiguous, ...: with the reason), or AWS's code as it came."""
    from bot.kind_words import ROUTING_REFUSALS, first_reason

    if code == "MessageTooLarge":
        return "are too large for their destination queue and stay"
    if code in ROUTING_REFUSALS:
        why = first_reason(dry.failures, code)
        said = f" ({escape(why, limit=300)})" if why else ""
        return f"are {ROUTING_REFUSALS[code]} and stay{said}"
    return f"would fail with {escape(code, limit=100)} and stay"


def nothing_to_redrive(
    dlq: str, dry: RedriveReport, action: str = "redrive", what: str | None = None
) -> Message:
    """The answer to a request whose count selected nothing, with the note: "nothing to
    redrive" only when the count saw every message. ``what``: the selection as the request
    words it (default: the count's)."""
    where = f"in {code(dlq)} for {code(what) if what else escape(dry.selection)}"
    if dry.finished and not dry.blocked_groups and not dry.unseen:
        head = f"Nothing to {action} {where}."
    else:
        head = f"The count found nothing to {action} {where}, but it could not see every message."
    return notice(f"{head} {dry_run_note(dry, action)}".strip())


def export_result(report: RedriveReport, location: str) -> Message:
    """The answer to an export: how many records were written where, that the messages stay
    in the DLQ, and when it did not get through all that matched, why."""
    from bot.run_control import why_stopped  # only the worker exports (see the imports)

    where = f"from {code(report.dlq)} ({escape(report.selection)})"
    if report.archived == 0 and report.finished and not report.failed:
        return notice(f"Nothing to export {where}: no message matched.")
    lines = [
        f":outbox_tray: Exported *{number(report.archived)}* message(s) {where} to "
        f"{code(location)}. They stay in the DLQ, visible again."
    ]
    if not report.finished:
        lines.append(
            f"The export stopped early because {why_stopped(report.stopped)}: messages it had "
            "not reached were not exported."
        )
    if report.failed:
        lines.append(f"{number(report.failed)} could not be written and are not in the export.")
    if report.error:
        lines.append(f"Error: {escape(report.error, limit=500)}")
    return notice("\n".join(lines))


def _because(total: int, reasons: list[tuple[int, str]]) -> str:
    """``total`` messages by reason ("3 are …; 2 …"), and how many no reason accounts for."""
    said = [f"{number(count)} {why}" for count, why in reasons if count]
    unexplained = total - sum(count for count, _ in reasons)
    if unexplained > 0:
        said.append(f"{number(unexplained)} more stay (see the CLI's `redrive --dry-run`)")
    return "; ".join(said)


def _would_move(request: ApprovalRequest) -> str:
    """The card's count, as the run bounds it. A count that saw every message shows what would
    move; one that could not (it stopped early, or held messages hid later ones of FIFO groups)
    shows "up to" the counted ``matched``: the approved run moves only counted messages and at
    most that many (``bot.slack.runner``)."""
    if request.count_complete and not request.blocked_groups:
        return number(request.matched if request.would_move is None else request.would_move)
    return f"up to {number(request.matched)}"


def bound_notes(request: ApprovalRequest, tz: ZoneInfo) -> list[str]:
    """What the card says of the run's bound beyond the count (the dry run's note says why a
    count stopped early): that approving moves at most the counted messages and the others wait,
    and when the counted ids could not all be kept (a time bound only)."""
    notes = []
    if request.pin_sent_before is None or request.pin_digests is not None:
        if not request.count_complete:
            notes.append(
                f"Approving moves at most the {number(request.matched)} counted message(s); "
                "other messages that match wait for a request of their own."
            )
        return notes
    # A time bound only: the run takes whichever selected messages sent before the pin it
    # receives first, up to the count; it cannot keep to the counted ones.
    notes.append(
        f"More messages were counted than the request can name one by one, so the run moves "
        f"at most {number(request.matched)} messages sent before "
        f"{_pin_time(request.pin_sent_before, tz)}, "
        "the first it receives: not necessarily the ones counted"
        + (
            " (the count stopped early, so others that match may be among them)"
            if not request.count_complete
            else ""
        )
        + "; messages that reached the DLQ later but were sent earlier could be among them."
    )
    return notes


class _Words(NamedTuple):
    """How a card words its action (``ApprovalRequest.action``)."""

    emoji: str
    title: str  # "Redrive request" (mrkdwn: & written as &amp;)
    question: str  # the Approve dialog's title
    doing: str  # "Redriving"
    done: str  # "moved"


_ACTION_WORDS = {
    "redrive": _Words(
        ":inbox_tray:", "Redrive request", "Start the redrive?", "Redriving", "moved"
    ),
    "discard": _Words(
        ":wastebasket:", "Discard request", "Discard these messages?", "Discarding", "discarded"
    ),
    "edit": _Words(
        ":pencil2:", "Edit &amp; resend request", "Send the edited message?", "Resending", "resent"
    ),
}


def action_words(action: str) -> _Words:
    """The wording of ``action`` (a request stored with an unknown one reads as a redrive)."""
    return _ACTION_WORDS.get(action, _ACTION_WORDS["redrive"])


def _archived_to(request: ApprovalRequest) -> str:
    if request.archive_location is None:
        return ""
    return f", archived to {code(request.archive_location)}"


def _card_title(request: ApprovalRequest) -> str:
    words = action_words(request.action)
    return (
        f"{words.emoji} *{words.title}* — {_would_move(request)} message(s) "
        f"from {code(request.dlq)}{_archived_to(request)}"
    )


def _selection(request: ApprovalRequest, limit: int) -> str:
    """The selection as one code span: it quotes what the requester typed (a --time-field path),
    whose marks, emoji codes and bare links must not format a card that approvers trust."""
    return code(request.selection_text, limit=limit)


def _card_fields(request: ApprovalRequest, tz: ZoneInfo) -> dict[str, Any]:
    selection = _selection(request, 1_900)
    return {
        "type": "section",
        "fields": [
            {"type": "mrkdwn", "text": f"*Queue*\n{code(request.dlq)}"},
            {"type": "mrkdwn", "text": f"*Messages*\n{_would_move(request)}"},
            {"type": "mrkdwn", "text": f"*Selection*\n{selection}"},
            {"type": "mrkdwn", "text": f"*Requested by*\n<@{request.requester}>"},
            {"type": "mrkdwn", "text": f"*Expires*\n{_when(request.approval_expires_at, tz)}"},
            {"type": "mrkdwn", "text": f"*Request id*\n{code(request.request_id)}"},
            *_goes_to(request),
        ],
    }


# Room for the "Goes to" field: Block Kit takes 2,000 characters in a field's text.
GOES_TO_CHARS = 1_900


def _goes_to(request: ApprovalRequest) -> list[dict[str, Any]]:
    """The card's "Goes to" field: where the copies go, as the count found them (a function's
    async invoke, a subscription's endpoint, never the topic or bus), on every card of a DLQ
    fed by more than SQS queues (``ApprovalRequest.deliveries``)."""
    if not request.deliveries:
        return []
    lines = [f"• {escape(line, limit=400)}" for line in request.deliveries.splitlines()]
    return [{"type": "mrkdwn", "text": cut("*Goes to*\n" + "\n".join(lines), GOES_TO_CHARS)}]


def approval_card(request: ApprovalRequest, tz: ZoneInfo, *, dry_run_note: str = "") -> Message:
    """The card posted in the channel: what would move, who asked, and the two buttons."""
    blocks: list[dict[str, Any]] = [section(_card_title(request)), _card_fields(request, tz)]
    if request.note:  # typed by the requester: escaped, and cut to fit a section
        blocks.append(section(f":memo: *Note* from <@{request.requester}>: {_note(request.note)}"))
    if request.edit_diff:  # the edit's change, cut at a whole line, saying how many are left out
        from bot.slack.edit_modal import diff_blocks  # the worker's: the endpoint loads it late

        blocks += diff_blocks(request.edit_diff)
    if dry_run_note:
        blocks.append(context(dry_run_note))
    blocks += [context(note) for note in bound_notes(request, tz)]
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
                        "title": {
                            "type": "plain_text",
                            "text": action_words(request.action).question,
                        },
                        "text": {"type": "mrkdwn", "text": _confirm_text(request, tz)},
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
        f"{action_words(request.action).title} {escape(request.request_id)}: "
        f"{_would_move(request)} message(s) from {escape(request.dlq)} "
        f"({escape(request.selection_text, limit=1_000)}), requested by <@{request.requester}>"
    )
    return _message(text, blocks)


# Room for a request's note on its card (a section takes 3,000 characters; the modal takes 500,
# which escaping can make at most 2,500).
NOTE_CHARS = 2_600


def _note(note: str) -> str:
    return escape(note, limit=NOTE_CHARS, keep_newlines=True)


def _confirm_text(request: ApprovalRequest, tz: ZoneInfo) -> str:
    """The Approve dialog's text: the run's true bound (at most ``matched``, of the counted
    messages when their ids are pinned, else of those sent before the pin's time), and the
    selection in a span cut to fit Slack's 300 characters whole."""
    pinned = request.pin_sent_before
    which = (
        f"message(s) sent before {_pin_time(pinned, tz)}"
        if pinned is not None and request.pin_digests is None
        else "counted message(s)"
    )
    if request.action == "discard":
        head = (
            f"Archive to {code(request.archive_location or '?')}, then delete, up to "
            f"{number(request.matched)} {which} from {code(request.dlq)} ("
        )
    elif request.action == "edit":
        head = (
            "Send the edited message where the card says (its source queue, or the target "
            "that failed it), then delete it from "
            f"{code(request.dlq)} ("
        )
    elif request.deliveries:
        head = (
            f"Move up to {number(request.matched)} {which} from {code(request.dlq)} to only "
            "the targets that failed them, as the card lists (never the topic or bus) ("
        )
    else:
        head = (
            f"Move up to {number(request.matched)} {which} from {code(request.dlq)} back "
            "to their source queues ("
        )
    tail = ")."
    room = DIALOG_TEXT - text_length(head) - text_length(tail)
    return cut(f"{head}{_selection(request, room)}{tail}", DIALOG_TEXT)


def card_update(request: ApprovalRequest, tz: ZoneInfo, status_line: str, *extra: str) -> Message:
    """The card after a decision: same facts, no buttons, and where things stand."""
    blocks = [section(_card_title(request)), _card_fields(request, tz)]
    if request.edit_diff:  # the change approved stays on the card
        from bot.slack.edit_modal import diff_blocks  # as in approval_card

        blocks += diff_blocks(request.edit_diff)
    blocks.append(section(status_line))
    blocks += [context(line) for line in extra if line]
    fallback = f"{escape(request.dlq)} {request.action} {escape(request.request_id)}: {status_line}"
    return _message(fallback, blocks)


def _duration(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 120:
        return f"{seconds:.0f}s"
    return f"{seconds // 60:.0f}m {seconds % 60:.0f}s"


def progress_line(run: RunRecord, action: str = "redrive") -> str:
    part = f" (part {run.invocation})" if run.invocation > 1 else ""
    words = action_words(action)
    return (
        f":hourglass_flowing_sand: {words.doing}{part}… {words.done} *{number(run.moved)}*, "
        f"failed {number(run.failed)}, skipped {number(run.skipped)} so far"
    )


def _saved_counts(run: RunRecord, *, emphasis: str = "", done: str = "moved") -> str:
    """The figures of a run that stopped before it could report (``run.unreported``): those of
    its last saved progress, lower bounds of what it did (it went on after it last saved, and
    its time went with it)."""
    return (
        f"{done} at least {emphasis}{number(run.moved)}{emphasis}, "
        f"failed at least {number(run.failed)}, skipped at least {number(run.skipped)} "
        f"({number(run.needs_human)} need a human) by its last saved progress"
    )


def outcome_lines(
    run: RunRecord, report: RedriveReport | None, request: ApprovalRequest | None = None
) -> tuple[str, list[str]]:
    """The card's final status line and details (``request``: what was approved, to say when
    the run moved fewer than were counted). A run whose last invocation died before it could
    report (``run.unreported``) has the figures of its last saved progress: said as such."""
    # Only the worker renders outcomes (see the imports above).
    from bot.run_control import left_in_dlq
    from bot.state_model import RunStatus

    words = action_words(request.action if request is not None else "redrive")
    if run.unreported:
        counts = _saved_counts(run, emphasis="*", done=words.done)
    else:
        counts = (
            f"{words.done} *{number(run.moved)}*, failed *{number(run.failed)}*, "
            f"skipped {number(run.skipped)} ({number(run.needs_human)} need a human), "
            f"in {_duration(run.duration_s)}"
            + (f" over {run.invocation} invocations" if run.invocation > 1 else "")
        )
    if run.status is RunStatus.CANCELLED:
        head = f":stop_sign: Cancelled by <@{run.cancel_requested_by}>: {counts}"
    elif run.status is RunStatus.FAILED:
        head = f":x: {words.title.removesuffix(' request')} failed: {counts}"
    elif run.failed:
        head = f":warning: Finished with failures: {counts}"
    elif report is not None and (report.unconfirmed or report.held_back):
        head = f":warning: Finished, some not confirmed: {counts}"
    elif report is not None and (report.not_attempted or report.blocked_groups):
        head = f":warning: Finished, some left in the DLQ: {counts}"
    else:
        head = f":white_check_mark: Done: {counts}"
    details: list[str] = []
    if run.error:
        # An error can quote what SQS or a message said: escaped like any text we did not write.
        details.append(f"Error: {escape(run.error, limit=500)}")
    if run.unreported and request is not None and request.archive_location is not None:
        details.append(
            "The worker stopped before it could report, so it may have discarded more after its "
            "last saved progress: those are in the archive and not counted here. Any it had "
            "archived but not yet deleted are in both the archive and the DLQ, and the ones it "
            "held go back to the DLQ when their visibility timeout ends."
        )
    elif run.unreported:
        details.append(
            "The worker stopped before it could report, so it may have moved more after its last "
            "saved progress: those are in their source queues and not counted here. Any it had "
            "sent but not yet deleted are in both queues (a later redrive would send them once "
            "more), and the ones it held go back to the DLQ when their visibility timeout ends."
        )
    if request is not None and request.archive_location is not None:
        # Each message's record was written (the S3 put answered) before it was deleted.
        archived = (
            f"{number(report.archived)} record(s) archived"
            if report is not None and run.invocation == 1
            else "Every message deleted was archived"
        )
        details.append(f"{archived} to {code(request.archive_location)} before any delete.")
    if report is not None:
        part = " in the last part" if run.invocation > 1 else ""
        if request is not None and request.deliveries:
            details += _delivered(report, part)
        details += left_in_dlq(report, number, part=part)
        for reason, count in sorted(report.needs_human_reasons.items()):
            details.append(f"{number(count)} stay in the DLQ for a human: {escape(reason)}")
        for reason, count in sorted(report.failure_reasons.items()):
            details.append(f"{number(count)} failed with {_failed_with(reason, report)}")
    if request is not None and run.status is RunStatus.DONE and run.moved < request.matched:
        # Pinned: the run took only what was counted; what arrived later was not its to take.
        details.append(
            f"The run took only the {number(request.matched)} message(s) counted for this "
            f"request and {words.done} {number(run.moved)} of them; counted ones not "
            f"{words.done} had left "
            "the DLQ meanwhile or stayed for the reasons above. Messages that arrived after the "
            "count wait for a request of their own."
        )
    details.append(f"Run id {code(run.run_id)}")
    return head, details


def _delivered(report: RedriveReport, part: str) -> list[str]:
    """Where a run of a DLQ fed by more than SQS queues delivered ("→ lambda orders-handler
    (async invoke): 12"), and that a function's copies carry no counter (the ledger counts
    them)."""
    from bot.kind_words import delivery_lines, function_deliveries

    lines = [f"→ {escape(line, limit=400)}" for line in delivery_lines(report.by_destination)]
    functions = function_deliveries(report.by_destination)
    if functions:
        lines.append(
            f"Lambda payloads carry no counter (an invoke has no message attributes): the "
            f"state table's ledger counts the redrives of the {number(functions)} sent to "
            f"functions{part}, so MAX_REDRIVES still stops them."
        )
    return lines


def _failed_with(code: str, report: RedriveReport) -> str:
    """A failure code on the final card, with the reason when no target could be chosen."""
    from bot.kind_words import ROUTING_REFUSALS, first_reason

    if code in ROUTING_REFUSALS:
        why = first_reason(report.failures, code)
        said = f": {escape(why, limit=300)}" if why else ""
        return f"{escape(code)} (kept in the DLQ{said})"
    return f"{escape(code)} (kept in the DLQ)"


def status(runs: list[RunRecord], tz: ZoneInfo, *, finished_shown: int = 5) -> Message:
    active = [r for r in runs if r.active]
    finished = [r for r in runs if not r.active][:finished_shown]
    if not active and not finished:
        return notice("No redrives yet.")
    blocks = [section(f"*In progress ({number(len(active))})*")]
    for run in active:
        blocks.append(
            section(
                f"{code(run.run_id)} · {code(run.dlq)} · {run.status.value}, "
                f"part {run.invocation} · moved {number(run.moved)}, failed {number(run.failed)} · "
                f"approved by <@{run.approved_by}> · "
                f"started {_when(run.started_at, tz)}"
                + (" · cancel requested" if run.cancel_requested_by else "")
            )
        )
    if not active:
        blocks.append(context("none"))
    blocks.append(section(f"*Recently finished ({number(len(finished))})*"))
    for run in finished:
        blocks.append(
            section(
                f"{code(run.run_id)} · {code(run.dlq)} · {run.status.value} · "
                + (
                    f"{_saved_counts(run)} (it stopped before it could report)"
                    if run.unreported
                    else f"moved {number(run.moved)}, failed {number(run.failed)}, "
                    f"skipped {number(run.skipped)}"
                )
                + f" · {_when(run.updated_at, tz)}"
            )
        )
    text = (
        f"{number(len(active))} redrive(s) in progress, {number(len(finished))} recently finished"
    )
    return _message(text, blocks)
