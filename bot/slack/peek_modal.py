"""The Home tab's peek modal (callback ``PEEK_MODAL``), pure: the views only.

The Home tab's Peek button opens it at once, loading (``loading_view``: views.open needs the
click's trigger_id, which expires in three seconds); the worker then checks who may read bodies,
peeks, and fills it in (``peek_view``, with ``bot.slack.blocks.peek``'s rendering of the
messages) or says why it shows none (``problem_view``).

The modal has no Discard or Edit & resend buttons: both answer through the clicked message's
``response_url`` and post their approval card in its channel, and a modal has neither (Edit &
resend would also need a second modal pushed on this one). The modal says so, and that
``/dlq-redrive peek <queue>`` in a channel shows the messages with them.

Standard library and ``bot.slack.mrkdwn`` only: the endpoint loads it on the first Peek click.
"""

from __future__ import annotations

from typing import Any

from bot.slack.ids import SLASH_COMMAND, ActionId
from bot.slack.mrkdwn import code, escape

TITLE = "Peek"  # a modal's title: "Max length of 24 characters" (Reference: views)
CLOSE = "Close"
PROBLEM_CHARS = 2_900  # within a section's 3,000 characters, with the emoji


def _modal(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": ActionId.PEEK_MODAL.value,
        "title": {"type": "plain_text", "text": TITLE},
        "close": {"type": "plain_text", "text": CLOSE},
        "blocks": blocks,
    }


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def loading_view(queue: str) -> dict[str, Any]:
    """The modal while the worker reads: which DLQ (escaped: the value came from a click)."""
    return _modal([_section(f":hourglass_flowing_sand: Reading messages of {code(queue)}…")])


def problem_view(problem: str) -> dict[str, Any]:
    """The modal when no messages are shown: ``problem`` says why (escaped here)."""
    return _modal([_section(f":x: {escape(problem, limit=PROBLEM_CHARS)}")])


def peek_view(queue: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """The modal with the peeked messages' ``blocks`` (``bot.slack.blocks.peek`` without its
    buttons), and where to discard or edit one."""
    where = (
        f"To discard or edit one of them, use {code(f'{SLASH_COMMAND} peek {queue}')} in a "
        "channel: the approval card is posted there."
    )
    return _modal([*blocks, {"type": "context", "elements": [{"type": "mrkdwn", "text": where}]}])
