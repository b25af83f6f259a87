"""The alert messages: pure, no I/O.

One top-level message per check for every DLQ it alerts (however many fill at once: one
message, not a storm): the deepest ``MAX_SHOWN`` in it, the others summarised in one line
(how many, about how many messages) and listed in its thread, each reply within Slack's limits
(``bot.daily.blocks.text_messages``). Updates (growing, drained, filling again) are replies in
the alert's thread, one per thread per check. Every count is SQS's approximate count and says so
("about"); queue names are escaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.alerts.rules import AlertAction, Change
from bot.config import AlertSettings
from bot.daily.blocks import RenderedReport, SlackMessage, text_messages
from bot.slack.mrkdwn import code, escape, number

# DLQs detailed in the alert itself: 20 lines of at most ~250 characters keep it far below
# Slack's 3,000 per section and ~10,000 per message; the rest go to its thread.
MAX_SHOWN = 20
MAX_NAME = 90  # a queue name is at most 80 characters; escaped and in backticks, a few more
# The fallback text (notifications, screen readers) names this many DLQs at most.
MAX_NAMED_IN_TEXT = 5


@dataclass(frozen=True)
class RenderedAlert:
    """The alert and its thread, and which message names each DLQ: 0 for the alert itself, k
    for the k-th thread reply (the job claims each DLQ with the part that names it, so a retry
    knows whether the reply listing it reached the channel)."""

    rendered: RenderedReport
    where: dict[str, int]


def alert_message(
    actions: list[AlertAction], *, at: datetime, tz: ZoneInfo, settings: AlertSettings
) -> RenderedAlert:
    """The top-level alert of one check for its NEW actions, and its thread (the DLQs that did
    not fit in it, ``MAX_SHOWN`` a reply)."""
    ordered = sorted(actions, key=lambda a: (-a.reading.total, a.reading.dlq))
    shown, rest = ordered[:MAX_SHOWN], ordered[MAX_SHOWN:]
    count = len(ordered)
    title = f"DLQ alert: {number(count)} DLQ{'s' if count != 1 else ''} filling"
    lines = [_alert_line(a, tz) for a in shown]
    if rest:
        total = sum(a.reading.total for a in rest)
        lines.append(
            f"… and {number(len(rest))} more DLQ{'s' if len(rest) != 1 else ''} "
            f"(about {number(total)} messages in all), listed in this thread."
        )
    context = (
        f"Checked at {_hhmm(at, tz)} ({tz.key}). Counts are SQS's approximate counts. "
        f"Alerts at {number(settings.threshold)} message{'s' if settings.threshold != 1 else ''}"
        f" or a growth of {number(settings.growth)} between two checks. Until drained, and "
        f"for {number(settings.quiet_minutes)} minutes at least, these DLQs get no other "
        "alert: growth, the drained note and a refill come in this thread."
    )
    body = _one_message(f"*{title}*", lines)
    blocks = [*body.blocks, {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]}]
    named = ", ".join(
        f"{escape(a.reading.dlq)} (about {number(a.reading.total)})"
        for a in ordered[:MAX_NAMED_IN_TEXT]
    )
    more = f" and {number(count - MAX_NAMED_IN_TEXT)} more" if count > MAX_NAMED_IN_TEXT else ""
    where = {a.reading.dlq: 0 for a in shown}
    thread: list[SlackMessage] = []
    for start in range(0, len(rest), MAX_SHOWN):
        chunk = rest[start : start + MAX_SHOWN]
        head = (
            f"*The other {number(len(rest))} DLQs of this alert "
            f"({number(start + 1)}–{number(start + len(chunk))})*"
        )
        thread.append(_one_message(head, [_alert_line(a, tz) for a in chunk]))
        where.update({a.reading.dlq: len(thread) for a in chunk})
    message = SlackMessage(f"{title}: {named}{more}", blocks)
    return RenderedAlert(RenderedReport(message, thread), where)


def _one_message(head: str, lines: list[str]) -> SlackMessage:
    """``head`` and at most ``MAX_SHOWN`` lines (of bounded length: a queue name is at most 80
    characters) in one message: far below Slack's limits, so ``text_messages`` packs them in one."""
    [message] = text_messages(head, lines)
    return message


_UPDATE_ORDER = {Change.RESOLVED: 0, Change.REOPENED: 1, Change.GROWING: 2}


def update_order(action: AlertAction) -> tuple[int, str]:
    """The order of a thread's updates: drained first, then refills, then growth; by name."""
    return _UPDATE_ORDER[action.change], action.reading.dlq


def update_messages(
    actions: list[AlertAction], *, at: datetime, tz: ZoneInfo
) -> list[SlackMessage]:
    """One thread's replies for its GROWING, REOPENED and RESOLVED actions of one check."""
    ordered = sorted(actions, key=update_order)
    head = f"*Update at {_hhmm(at, tz)} ({tz.key})*"
    return text_messages(head, [_update_line(a, tz) for a in ordered])


def _alert_line(action: AlertAction, tz: ZoneInfo) -> str:
    line = f"• {_name(action)}: about {_messages(action.reading.total)}{_breakdown(action)}"
    read = action.before.last_checked
    if action.grew_by is not None and read is not None:
        # The last depth stored was read then, and every check since that read another one
        # stored it: it held that many from then until this check.
        line += f", up about {number(action.grew_by)} since {_hhmm(read, tz)}"
    return line


def _update_line(action: AlertAction, tz: ZoneInfo) -> str:
    name = _name(action)
    total = action.reading.total
    if action.change == Change.RESOLVED:
        return f"• {name}: drained (SQS counts no message visible, in flight or delayed)"
    if action.change == Change.REOPENED:
        until = action.after.quiet_until
        within = f", within this alert's quiet period (until {_hhmm(until, tz)})" if until else ""
        return f"• {name}: filling again, about {_messages(total)}{_breakdown(action)}{within}"
    before = action.before.notified_depth or 0
    return (
        f"• {name}: about {_messages(total)} now{_breakdown(action)}, "
        f"up from about {number(before)} when last told"
    )


def _name(action: AlertAction) -> str:
    return code(action.reading.dlq, limit=MAX_NAME)


def _messages(count: int) -> str:
    return f"{number(count)} message{'s' if count != 1 else ''}"


def _breakdown(action: AlertAction) -> str:
    """Of the total, what is in flight or delayed (when any is): a total of messages nobody
    can receive now reads differently from one waiting to be consumed."""
    reading = action.reading
    parts = [
        f"about {number(n)} {what}"
        for n, what in ((reading.in_flight, "in flight"), (reading.delayed, "delayed"))
        if n
    ]
    return f" (of them {' and '.join(parts)})" if parts else ""


def _hhmm(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%H:%M")
