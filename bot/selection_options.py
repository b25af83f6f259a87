"""The selection options (``--yesterday``, ``--date``, ``--since``/``--until``, ``--time-field``,
``--limit``) as argparse arguments, shared by the CLI and the Slack command so both parse the same
way. Kept apart from ``bot.cli`` so the Slack endpoint loads no engine code at cold start.
"""

from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    """A whole number of at least 1 (argparse ``type``)."""
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_selection_options(parser: argparse.ArgumentParser) -> None:
    """The selection options, shared with the Slack command's parser."""
    group = parser.add_argument_group("selection (default: every message)")
    group.add_argument("--yesterday", action="store_true", help="the calendar day before today")
    group.add_argument("--date", metavar="YYYY-MM-DD", help="one calendar day in TIMEZONE")
    group.add_argument("--since", metavar="ISO8601", help="from this instant (inclusive)")
    group.add_argument("--until", metavar="ISO8601", help="until this instant (exclusive)")
    group.add_argument(
        "--time-field",
        metavar="PATH",
        help="take the time from this JSON body field (e.g. occurredAt, meta.date) "
        "instead of the message's SentTimestamp",
    )
    group.add_argument("--limit", type=positive_int, metavar="N", help="move at most N messages")
