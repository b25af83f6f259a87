"""What the daily report says about the kinds of DLQ (issue 13): pure mrkdwn wording, no I/O.

A DLQ is fed by SQS queues' RedrivePolicies and also by SNS subscriptions, EventBridge rule
targets and Lambda functions (``bot.feeders``). The report names each DLQ's kind and every
feeder precisely, counts the messages left for a person because no retry can deliver them (an
EventBridge ``ERROR_CODE`` such as ``NO_PERMISSIONS``), says when an auto-redrive ran without
its canary and why, and names the kinds discovery could not read, so that a missing DLQ is
never reported as "no DLQ" or "all clear". Every name and reason is untrusted text: escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.feeders import Kind
from bot.kind_words import unread_line
from bot.slack.mrkdwn import cut, escape, number

MAX_SOURCES_TEXT = 300  # characters of source queue names on a DLQ's first line
# Characters of feeder lines: a subscription ARN alone is about 100 characters.
MAX_FEEDERS_TEXT = 600
TOP_FOR_HUMAN = 3  # reasons shown for the messages left for a person; the rest are counted
MAX_REASON = 200  # characters of one reason (its text may hold an attribute's value)
MAX_UNREAD_WHY = 300
# Characters of why a run had no canary: it names every feeder (``bot.canary.canary_blocker``),
# whole for a DLQ of a few, cut (and marked so) for one of dozens.
MAX_NO_CANARY = 600


def within(names: Sequence[str], limit: int, separator: str = ", ") -> str:
    """As many whole ``names`` (escaped) as fit in ``limit`` characters and how many more: a
    DLQ may have 1,000 sources, and its figures must stay in its section."""
    shown: list[str] = []
    for index, name in enumerate(names):
        more = len(names) - index
        tail = f" and {more:,} more"
        if shown and len(separator.join([*shown, name])) + len(tail) > limit:
            return escape(separator.join(shown)) + f" and {number(more)} more"
        shown.append(name)
    return escape(separator.join(shown))


def _plain(text: str, limit: int) -> str:
    """Untrusted ``text`` on one line, cut to ``limit`` characters, escaped for mrkdwn."""
    return escape(cut(" ".join(text.split()), limit))


def kind_mark(kind: str) -> str:
    """`` (sns)`` after a DLQ's name: what feeds it (nothing for a report kept before kinds)."""
    return f" ({escape(kind)})" if kind else ""


def feeders_line(feeders: Sequence[str]) -> str | None:
    """The line naming what else dead-letters into a DLQ (None: only SQS queues)."""
    if not feeders:
        return None
    return "Fed by: " + within(feeders, MAX_FEEDERS_TEXT, separator="; ")


def for_human_line(for_human: Sequence[tuple[str, int]]) -> str | None:
    """Why an auto-redrive left messages for a person (no retry delivers them as the target is
    set up), by reason: the top ``TOP_FOR_HUMAN``, then how many for other reasons. Their total
    is in the auto-redrive's line."""
    if not for_human:
        return None
    shown = [
        f"{_plain(reason, MAX_REASON)} ×{number(count)}"
        for reason, count in for_human[:TOP_FOR_HUMAN]
    ]
    rest = sum(count for _, count in for_human[TOP_FOR_HUMAN:])
    if rest:
        shown.append(f"{number(rest)} for other reasons")
    return ":raising_hand: Not redriven, for a human: " + "; ".join(shown)


def no_canary_line(why: str | None) -> str | None:
    """Why an auto-redrive ran without its canary (None: it had one, or none was asked for)."""
    if not why:
        return None
    return f":warning: no canary: {_plain(why, MAX_NO_CANARY)}"


def unread_lines(unread: Sequence[tuple[str, str]]) -> list[str]:
    """One warning per kind of feeder discovery could not read, and why, as the CLI and Slack's
    list say it (``bot.kind_words``)."""
    lines = []
    for kind, why in unread:
        known = Kind(kind) if kind in set(Kind) else None
        words = (
            unread_line(known, cut(" ".join(why.split()), MAX_UNREAD_WHY))
            if known is not None
            else f"{kind} not read: {cut(' '.join(why.split()), MAX_UNREAD_WHY)}"
        )
        lines.append(f":warning: {escape(words)}")
    return lines
