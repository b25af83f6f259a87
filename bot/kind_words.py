"""How the CLI and Slack word a DLQ's kinds: what discovery could not read, and where a message's
copy goes. Plain text, no I/O; every surface escapes it for itself (``bot.printable`` on a
terminal, ``bot.slack.mrkdwn`` in Slack), since the names in it are AWS resources anyone who can
create one may have named.
"""

from __future__ import annotations

from bot.feeders import Kind

# What discovery reads for each kind: the subject of "... not read".
_READ = {
    Kind.SQS: "sqs queues",
    Kind.SNS: "sns subscriptions",
    Kind.EVENTS: "eventbridge rule targets",
    Kind.LAMBDA: "lambda functions",
}


def unread_line(kind: Kind, why: str) -> str:
    """One line for a kind discovery could not read: "sns subscriptions not read: AccessDenied:
    ..." and what it means for the list (a DLQ only they feed is missing from it)."""
    return f"{_READ.get(kind, str(kind))} not read: {why} (a DLQ only they feed is not listed)"


def unread_lines(unread: tuple[tuple[Kind, str], ...]) -> list[str]:
    """``unread_line`` for each kind not read, in ``Kind`` order."""
    order = list(Kind)
    return [
        unread_line(kind, why)
        for kind, why in sorted(unread, key=lambda item: order.index(item[0]))
    ]
