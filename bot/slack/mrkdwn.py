"""Text for Slack's mrkdwn, for every Slack surface (peek, approval cards, status, errors, the daily
report, the Home tab): untrusted text made inert, cuts that keep the markup whole, and numbers
(counts, durations, a trend's sparkline).

Slack's formatting reference: "Slack uses &, <, and > as control characters for special parsing in
text objects, so they must be converted to HTML entities if they're not going to be used for their
parsing purpose." Those three are what turn text into a live link (``<https://x|Runbook>``), a
mention (``<@U…>``, ``<!channel>``) or a quote, and code spans and fences do not stop Slack from
parsing them; so every piece of text we did not write goes through ``escape``, ``code`` or
``code_block`` here, which also show control characters as escapes (``bot.printable``).

mrkdwn has no escape for a backtick, and a backtick inside a code span or fence ends it, letting
the rest of the text out as live mrkdwn. Inside ``code`` and ``code_block`` a backtick is shown as
``ˋ`` (U+02CB MODIFIER LETTER GRAVE ACCENT), which looks the same and cannot end the span; the
exact text is in ``dlq-redrive peek --json``. ``escape`` (text outside code) leaves backticks alone:
it is used for our own messages that quote input (errors), whose code spans are ours; a backtick
from the input can then change formatting but, with ``&<>`` escaped, never make anything live.

Cutting happens on the escaped pieces, before the text is wrapped: a cut never splits ``&amp;`` or
``\\x1b``, and a fence's closing backticks are never cut off.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from bot.printable import visible_char

# Block Kit's documented limit for a section's (or a context element's) text.
MAX_SECTION_TEXT = 3_000
# Block text of one message (``block_text_length``): under the ~11,000 characters at which Slack
# has been seen answering msg_blocks_too_long (see infra/local/slack_api.py), with room to spare.
MAX_MESSAGE_TEXT = 10_000
ELLIPSIS = "…"
FENCE = "```"
CODE_BACKTICK = "\u02cb"  # ˋ: shown for ` inside code, where mrkdwn could not keep a real one
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def _piece(char: str, *, in_code: bool, keep_newlines: bool) -> str:
    if char in _ENTITIES:
        return _ENTITIES[char]
    if in_code and char == "`":
        return CODE_BACKTICK
    return visible_char(char, keep_newlines=keep_newlines)


def _render(text: str, limit: int | None, *, in_code: bool, keep_newlines: bool) -> str:
    """``text`` escaped, or as many whole escaped characters as fit in ``limit`` (counted by
    ``text_length``) then ``…``."""
    if limit is not None:
        # Escaping never shortens a character, so the first limit + 1 of them decide the cut
        # (and a 1 MiB body is not escaped whole to show 2,000 characters of it).
        text = text[: limit + 1]
    pieces = [_piece(c, in_code=in_code, keep_newlines=keep_newlines) for c in text]
    whole = "".join(pieces)
    if limit is None or text_length(whole) <= limit:
        return whole
    if limit < len(ELLIPSIS):
        return ""
    kept: list[str] = []
    used = len(ELLIPSIS)
    for piece in pieces:
        if used + text_length(piece) > limit:
            break
        kept.append(piece)
        used += text_length(piece)
    return "".join(kept) + ELLIPSIS


def escape(text: str, *, limit: int | None = None, keep_newlines: bool = False) -> str:
    """Untrusted text for mrkdwn outside code: ``&<>`` as entities, control characters as escapes
    (newlines too unless ``keep_newlines``), at most ``limit`` characters once escaped."""
    return _render(text, limit, in_code=False, keep_newlines=keep_newlines)


def code(text: str, *, limit: int | None = None) -> str:
    """Untrusted text as one line of inline code (at most ``limit`` characters, backticks
    included) that nothing inside can end early or make live."""
    inner = None if limit is None else max(limit - 2, 0)
    shown = _render(text, inner, in_code=True, keep_newlines=False)
    return f"`{shown or ' '}`"


def code_block(text: str, max_chars: int) -> str:
    """Untrusted text as a fenced code block of at most ``max_chars`` characters, fences
    included: its own lines kept, cut before it is wrapped so both fences are always there."""
    inner = max(max_chars - 2 * len(FENCE), 0)
    shown = _render(text, inner, in_code=True, keep_newlines=True)
    return f"{FENCE}{shown or ' '}{FENCE}"


# The end of a cut that would leave part of an entity we wrote (``&am``) or of an escape
# ``visible_char`` wrote (``\\x1``, ``\\u20``): it would read as other text ("&am…", "\\u20…").
_PARTIAL_PIECE = re.compile(
    r"(?:&(?:a|am|amp|l|lt|g|gt)?|\\(?:x[0-9a-f]?|u[0-9a-f]{0,3}|U[0-9a-f]{0,7})?)\Z"
)


def text_length(text: str) -> int:
    """A text's length as Slack's limits are counted: in UTF-16 code units, as JavaScript counts
    a string (an emoji outside the Basic Multilingual Plane counts twice). Never less than
    Python's ``len``, so a budget kept by this measure is kept by either."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def cut(text: str, limit: int) -> str:
    """Text at most ``limit`` long (``text_length``), ending in ``…`` when cut (a last guard for
    Block Kit's limits). It may hold escaped text: a cut never ends inside an entity or an
    escape."""
    if text_length(text) <= limit:
        return text
    room = max(limit - text_length(ELLIPSIS), 0)
    end = 0
    for char in text:
        room -= 2 if ord(char) > 0xFFFF else 1
        if room < 0:
            break
        end += 1
    return _PARTIAL_PIECE.sub("", text[:end]) + ELLIPSIS


def number(value: int) -> str:
    """A count as Slack shows every count: with thousands separators (18,212)."""
    return f"{value:,}"


# The daily report's and the Home tab's trend: one character per day.
SPARK_LEVELS = "▁▂▃▄▅▆▇█"
SPARK_MISSING = "·"


def duration(delta: timedelta) -> str:
    """A short human duration: ``2d 4h``, ``5h 3m``, ``12m``, ``under 1m`` (no raw ``<``: Slack
    reads one as the start of a link or mention)."""
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m" if minutes else "under 1m"


def duration_at_least(delta: timedelta) -> str:
    """``duration`` as a lower bound is written (after "at least" / "≥"): under a minute its
    seconds (``42s``), since "at least under 1m" says nothing of how old; else ``duration``."""
    if delta < timedelta(minutes=1):
        return f"{max(int(delta.total_seconds()), 0)}s"
    return duration(delta)


def sparkline(values: tuple[int | None, ...] | list[int | None]) -> str:
    """One character per value, scaled from 0 to the largest; ``·`` where a day is missing."""
    known = [v for v in values if v is not None]
    top = max(known, default=0)
    chars = []
    for value in values:
        if value is None:
            chars.append(SPARK_MISSING)
        elif top <= 0:
            chars.append(SPARK_LEVELS[0])
        else:
            chars.append(SPARK_LEVELS[round(value / top * (len(SPARK_LEVELS) - 1))])
    return "".join(chars)


def short_day(day: date) -> str:
    return f"{day.day} {day.strftime('%b')}"


def block_text_length(blocks: Any) -> int:
    """Length of every ``text`` string in ``blocks`` (text objects, buttons, headers, ...):
    what Slack is reported to count for msg_blocks_too_long. Every surface measures with this.

    Counted in UTF-16 code units, as JavaScript counts a string's length (the refusals on record
    were measured that way): an emoji outside the Basic Multilingual Plane counts twice, so a
    message of emoji is never under our budget by Python's count and over Slack's."""
    if isinstance(blocks, dict):
        return sum(
            text_length(value)
            if key == "text" and isinstance(value, str)
            else block_text_length(value)
            for key, value in blocks.items()
        )
    if isinstance(blocks, list):
        return sum(block_text_length(item) for item in blocks)
    return 0
