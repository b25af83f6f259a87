"""The command parser and the selection arguments it carries to the worker (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.errors import UsageError
from bot.selection_options import SelectionArgs
from bot.slack.commands import (
    CancelCommand,
    HelpCommand,
    ListCommand,
    PeekCommand,
    RedriveCommand,
    StatusCommand,
    parse_command,
)

SEOUL = ZoneInfo("Asia/Seoul")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", HelpCommand()),
        ("help", HelpCommand()),
        ("  list  ", ListCommand()),
        ("status", StatusCommand()),
        ("peek orders-dlq", PeekCommand("orders-dlq", 3)),
        ("peek orders-dlq 10", PeekCommand("orders-dlq", 10)),
        ("cancel 20261125-030102-abcdef", CancelCommand("20261125-030102-abcdef")),
        (
            "redrive orders-dlq --date 2026-11-24 --limit 5",
            RedriveCommand("orders-dlq", SelectionArgs(date="2026-11-24", limit=5)),
        ),
        (
            'redrive orders-dlq --since "2026-11-24T08:00:00+09:00" --time-field meta.at',
            RedriveCommand(
                "orders-dlq",
                SelectionArgs(since="2026-11-24T08:00:00+09:00", time_field="meta.at"),
            ),
        ),
    ],
)
def test_parses_every_subcommand(text: str, expected: object) -> None:
    assert parse_command(text) == expected


def test_too_long_text_is_refused() -> None:
    with pytest.raises(UsageError, match="too long"):
        parse_command("list " + "x" * 2000)


def test_selection_args_round_trip_through_the_job_payload() -> None:
    args = SelectionArgs(yesterday=True, time_field="meta.at", limit=7)
    assert SelectionArgs.from_dict(args.to_dict()) == args


def test_yesterday_is_fixed_by_the_time_the_request_was_received() -> None:
    # Given a request received at 00:30 in Seoul on the 25th
    received = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)
    args = SelectionArgs(yesterday=True)

    # When the worker rebuilds the selection much later
    selection = args.build(tz=SEOUL, now=received)

    # Then it is still the 24th in Seoul
    assert selection.window.start == datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    assert selection.window.end == datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def test_continuation_limit_overrides_the_given_one() -> None:
    selection = SelectionArgs(limit=10).build(tz=SEOUL, now=datetime.now(UTC), limit=4)
    assert selection.limit == 4
