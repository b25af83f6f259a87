"""The selection options (``--yesterday``, ``--date``, ``--since``/``--until``, ``--time-field``,
``--error``, ``--where``, ``--limit``) as argparse arguments, shared by the CLI and the Slack
command so both parse the same way. Kept apart from ``bot.cli`` so the Slack endpoint loads no
engine code at cold start.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.selection import ATTRIBUTE_PREFIX, Selection, build_selection


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
    group.add_argument(
        "--error",
        metavar="LABEL",
        help="only this error group: its label as the report shows it, or its #digest",
    )
    group.add_argument(
        "--where",
        action="append",
        metavar="PATH=VALUE",
        help="only messages whose JSON body field PATH (e.g. meta.status) or attribute "
        "attr.NAME equals VALUE; repeatable, all must match",
    )
    group.add_argument("--limit", type=positive_int, metavar="N", help="move at most N messages")


@dataclass(frozen=True)
class SelectionArgs:
    """The selection options exactly as given; rebuilt into a ``Selection`` against the time the
    request was received, so ``--yesterday`` means the same day in every later step."""

    yesterday: bool = False
    date: str | None = None
    since: str | None = None
    until: str | None = None
    time_field: str | None = None
    limit: int | None = None
    error: str | None = None
    where: tuple[str, ...] = ()  # the "PATH=VALUE" texts as given

    def build(
        self,
        *,
        tz: ZoneInfo,
        now: datetime,
        limit: int | None = None,
        error_attribute: str | None = None,
    ) -> Selection:
        """The validated Selection (``limit`` overrides the given one, for continuations;
        ``error_attribute`` is ERROR_ATTRIBUTE, which names a message's error group)."""
        return build_selection(
            tz=tz,
            now=now,
            yesterday_only=self.yesterday,
            day=self.date,
            since=self.since,
            until=self.until,
            time_field=self.time_field,
            limit=self.limit if limit is None else limit,
            error=self.error,
            error_attribute=error_attribute,
            where=self.where,
        )

    def body_flag(self) -> str | None:
        """The flag of this selection that selects by what message bodies hold, or None. Its
        count says what they hold: ``--time-field`` window by window (a birth date by
        bisection), ``--where PATH=VALUE`` guess by guess (a body path; ``attr.NAME`` reads a
        message attribute, not the body)."""
        if self.time_field is not None:
            return "--time-field"
        if any(not w.partition("=")[0].strip().startswith(ATTRIBUTE_PREFIX) for w in self.where):
            return "--where"
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "yesterday": self.yesterday,
            "date": self.date,
            "since": self.since,
            "until": self.until,
            "time_field": self.time_field,
            "limit": self.limit,
            "error": self.error,
            "where": list(self.where),
        }

    @classmethod
    def from_namespace(cls, args: argparse.Namespace) -> SelectionArgs:
        """The options ``add_selection_options`` parsed."""
        return cls(
            yesterday=args.yesterday,
            date=args.date,
            since=args.since,
            until=args.until,
            time_field=args.time_field,
            limit=args.limit,
            error=args.error,
            where=tuple(args.where or ()),
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SelectionArgs:
        limit = data.get("limit")
        return cls(
            yesterday=bool(data.get("yesterday")),
            date=_opt_str(data.get("date")),
            since=_opt_str(data.get("since")),
            until=_opt_str(data.get("until")),
            time_field=_opt_str(data.get("time_field")),
            limit=int(limit) if limit is not None else None,
            error=_opt_str(data.get("error")),  # absent in requests stored before --error
            where=tuple(str(text) for text in data.get("where") or ()),
        )


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)
