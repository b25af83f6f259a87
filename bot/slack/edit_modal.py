"""Edit & resend in Slack, the pure part: the modal's views, the form it carries back (sealed in
its ``private_metadata``), the checks of a submitted body, and the diff the approval card shows.

The flow: the peek's Edit & resend button makes the endpoint open ``loading_view`` at once (the
click's trigger_id lives three seconds); the worker reads the message and replaces it with
``edit_view`` (the body in a text field) or ``notice_view`` (why not). The submitted body is
checked on the ack path by ``read_form`` and ``body_problem`` and refused on its field; a good
one becomes an approval request whose card shows ``edit_diff`` through ``diff_blocks``.

No I/O and no SDK: the endpoint loads this for its checks, the worker for its views.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from bot.body_edits import NotJsonError, body_sha256, parse_json
from bot.errors import UsageError
from bot.slack.ids import ActionId
from bot.slack.mrkdwn import FENCE, MAX_SECTION_TEXT, code, code_block, number, text_length
from bot.slack.protocol import JobRejectedError, JobSigner
from bot.sqs_text import refused_character

# The text field's limit: plain_text_input's max_length is at most 3,000 ("min_length ... Maximum
# value is 3000"; max_length, "If the user provides more, they will receive an error"; Block Kit
# reference, plain-text input element). A longer body cannot be edited in Slack.
MAX_INPUT_CHARS = 3_000
# How long a filled modal may be submitted: an hour to edit, then it must be opened again.
FORM_TTL_S = 3_600
BODY_BLOCK = "edit_body"  # the input block whose errors ``response_action: errors`` names
TITLE = "Edit & resend"  # a modal's title: at most 24 characters
# The approval card's diff: a section's text, fences included, leaving room for the note.
DIFF_CHARS = MAX_SECTION_TEXT - 100

FORM_REFUSED = (
    "This form is not one this app opened, or it was changed: nothing was sent. "
    "Open Edit & resend again from a peek."
)
FORM_EXPIRED = (
    f"This form is older than {FORM_TTL_S // 60} minutes: nothing was sent. "
    "Open Edit & resend again from a peek."
)
FORM_OF_ANOTHER = "This form was opened by someone else: nothing was sent."


class FormRefusedError(UsageError):
    """A submitted modal whose form cannot be trusted (forged, changed, expired, another's)."""


# A plain dataclass, as the jobs are (bot/slack/protocol.py): a frozen one costs more on the
# endpoint's cold path; nothing changes a form once read.
@dataclass
class EditForm:
    """What the filled modal carries back, sealed by the worker: the message, where its copy
    goes, what the new body must be, and who may submit it in which view."""

    queue: str  # the DLQ
    message_id: str
    source: str  # where the edited copy is sent (bot.edit_destination's words for it)
    was_json: bool  # the body read was JSON: the new one must be too
    old_sha256: str  # of the body read (the card and the audit show both digests)
    max_bytes: int  # the most the new body may take: the source's size less the attributes
    user: str  # who opened it: only they may submit it
    channel: str  # where the peek was: the approval card is posted there
    view_id: str  # the modal it was sealed for

    def seal(self, signer: JobSigner, now: datetime) -> str:
        return signer.seal_form(asdict(self), now, FORM_TTL_S)


def read_form(
    signer: JobSigner,
    sealed: str,
    now: datetime,
    *,
    user: str,
    view_id: str,
    current_key_only: bool = False,
) -> EditForm:
    """The form of a submitted modal, or FormRefusedError (worded for the person) when it was
    not sealed by this app for this view and this person, or is too old."""
    try:
        raw = signer.open_form(sealed, now, max_ttl_s=FORM_TTL_S, current_key_only=current_key_only)
    except JobRejectedError as exc:
        raise FormRefusedError(FORM_EXPIRED if exc.reason == "stale" else FORM_REFUSED) from exc
    types = {f.name: f.type for f in fields(EditForm)}
    if set(raw) != set(types) or not all(
        isinstance(raw[name], bool)
        if kind == "bool"
        else isinstance(raw[name], int) and not isinstance(raw[name], bool)
        if kind == "int"
        else isinstance(raw[name], str)
        for name, kind in types.items()
    ):
        raise FormRefusedError(FORM_REFUSED)
    form = EditForm(**raw)
    if form.view_id != view_id:
        raise FormRefusedError(FORM_REFUSED)
    if form.user != user:
        raise FormRefusedError(FORM_OF_ANOTHER)
    return form


def body_problem(form: EditForm, body: str) -> str | None:
    """Why ``body`` may not replace the message's body (shown on the field), or None."""
    if not body:
        return "SQS takes no empty body: write the new body."
    if text_length(body) > MAX_INPUT_CHARS:
        return (
            # Plain text: a field's error shows no markup.
            f"At most {number(MAX_INPUT_CHARS)} characters here; for a longer body use "
            f"dlq-redrive edit {form.queue} {form.message_id} --body-file FILE"
        )
    size = len(body.encode("utf-8"))
    if size > form.max_bytes:
        return (
            f"{number(size)} bytes: {form.source} takes at most {number(form.max_bytes)} bytes "
            "of body with this message's attributes."
        )
    refused = refused_character(body)  # SQS's list of characters (bot.sqs_text)
    if refused is not None:
        return f"SQS does not accept the character {refused[1]} in a body."
    if body_sha256(body) == form.old_sha256:
        return "The body is unchanged: edit it, or close this form."
    if form.was_json:
        try:
            parse_json(body)
        except json.JSONDecodeError as exc:
            return (
                "The message's body was JSON, so the new one must be JSON too: it is not "
                f"(line {exc.lineno}, column {exc.colno}: {exc.msg})."
            )
        except NotJsonError as exc:
            return f"The message's body was JSON, so the new one must be JSON too: {exc}."
        except ValueError:
            return "The message's body was JSON; this one nests too deeply to be read as JSON."
    return None


# --- the views ----------------------------------------------------------------------------------


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _modal(blocks: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": ActionId.EDIT_MODAL.value,
        "title": _plain(TITLE),
        "close": _plain("Close"),
        "blocks": blocks,
        **extra,
    }


def loading_view(queue: str, message_id: str) -> dict[str, Any]:
    """Opened by the endpoint at once: the worker replaces it."""
    return _modal(
        [_section(f":hourglass_flowing_sand: Reading {code(message_id)} from {code(queue)}…")]
    )


def notice_view(text: str) -> dict[str, Any]:
    """Why the message cannot be edited here, or what happened (``text`` is mrkdwn, its
    untrusted parts already escaped)."""
    return _modal([_section(text)])


def too_large_view(queue: str, message_id: str, chars: int) -> dict[str, Any]:
    return notice_view(
        f"This body has {number(chars)} characters: too large to edit in Slack (at most "
        f"{number(MAX_INPUT_CHARS)}). Use the command line:\n"
        f"{code(f'dlq-redrive edit {queue} {message_id} --body-file FILE')}"
    )


def edit_view(form: EditForm, sealed: str, body: str) -> dict[str, Any]:
    """The body in a text field, and the form sealed in ``private_metadata``."""
    rules = (
        # form.source says where and how (a queue with its attributes, a function's async
        # invoke, ...: bot.edit_destination), as the approved run will send it.
        f"Its copy goes to {code(form.source)}; the original is deleted from the DLQ only "
        "after its destination confirmed the copy, and only once an approver approves."
    )
    if form.was_json:
        rules += " The body is JSON: the new one must be too."
    return _modal(
        [
            _section(f"Message {code(form.message_id)} in {code(form.queue)}"),
            {"type": "context", "elements": [{"type": "mrkdwn", "text": rules}]},
            {
                "type": "input",
                "block_id": BODY_BLOCK,
                "label": _plain("Body"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": ActionId.EDIT_BODY.value,
                    "multiline": True,
                    "initial_value": body,
                    "max_length": MAX_INPUT_CHARS,
                },
            },
        ],
        submit=_plain("Ask for approval"),
        private_metadata=sealed,
    )


def submitted_view(channel: str) -> dict[str, Any]:
    """What the modal shows once the submission was handed to the worker."""
    return notice_view(
        f":inbox_tray: Asking for approval: the card with the change is posted in <#{channel}>."
    )


def submitted_body(view: dict[str, Any]) -> str:
    """The text field's value in a view_submission's ``view`` (empty when missing)."""
    state = view.get("state") if isinstance(view, dict) else None
    values = state.get("values") if isinstance(state, dict) else None
    block = values.get(BODY_BLOCK) if isinstance(values, dict) else None
    field = block.get(ActionId.EDIT_BODY.value) if isinstance(block, dict) else None
    value = field.get("value") if isinstance(field, dict) else None
    return value if isinstance(value, str) else ""


# --- the diff -----------------------------------------------------------------------------------


def diff_blocks(diff: str, *, max_chars: int = DIFF_CHARS) -> list[dict[str, Any]]:
    """The diff in a code block, escaped, cut at a whole line to fit ``max_chars`` (fences
    included), with a note counting the lines left out."""
    lines = diff.split("\n")
    head = "*Change*\n"
    room = max_chars - len(head) - 2 * len(FENCE)
    shown = 0
    for line in lines:
        # Each line as code_block renders it (escaped), plus its newline.
        cost = text_length(code_block(line, 10 * MAX_SECTION_TEXT)) - 2 * len(FENCE) + 1
        if cost > room:
            break
        room -= cost
        shown += 1
    if shown == 0:  # one line longer than the room: shown cut, as code_block cuts
        shown = 1
    block = _section(head + code_block("\n".join(lines[:shown]), max_chars - len(head)))
    left = len(lines) - shown
    if not left:
        return [block]
    note = f"… and {number(left)} more line(s) of the diff, not shown (Slack's limit)."
    return [block, {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]}]


def edit_summary(message_id: str, source: str) -> str:
    """The request's selection text: which message, and where its edited copy goes."""
    return f"message {message_id} with a new body, to {source}"
