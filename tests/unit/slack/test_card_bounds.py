"""The approval card says the bound the approved run enforces: "up to N" counted messages, why
a count stopped early, and when only a time bound pins what was counted."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.redrive_model import RedriveReport, StopReason
from bot.slack import blocks
from bot.state_model import ApprovalRequest

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def _request(**changes: Any) -> ApprovalRequest:
    request = ApprovalRequest(
        request_id="20261125-030000-abcdef",
        dlq="orders-dlq",
        selection={},
        selection_text="all messages",
        matched=39,
        would_move=39,
        requester="U1",
        channel="C1",
        requested_at=NOW,
        approval_expires_at=NOW + timedelta(hours=1),
        pin_sent_before=NOW,
        pin_digests=frozenset({b"x" * 12}),
    )
    for name, value in changes.items():
        setattr(request, name, value)
    return request


def _text(message: dict[str, Any]) -> str:
    return json.dumps(message["blocks"])


def _stopped_count(stopped: StopReason) -> RedriveReport:
    return RedriveReport(
        dlq="orders-dlq",
        dry_run=True,
        selection="all messages",
        scanned=39,
        matched=39,
        stopped=stopped,
        by_destination=Counter({"orders": 39}),
    )


def test_a_count_that_stopped_early_says_why_and_that_the_others_wait() -> None:
    request = _request(count_complete=False, count_stopped="deadline")
    note = blocks.dry_run_note(_stopped_count(StopReason.DEADLINE))
    card = _text(blocks.approval_card(request, ZoneInfo("UTC"), dry_run_note=note))
    assert "up to 39 message(s)" in card and "Move up to 39 counted message(s)" in card
    assert "Counting stopped early because its time budget ran out" in card
    assert "Approving moves at most the 39 counted message(s)" in card
    assert "wait for a request of their own" in card


def test_a_count_stopped_by_the_in_flight_quota_says_so() -> None:
    note = blocks.dry_run_note(_stopped_count(StopReason.IN_FLIGHT_LIMIT))
    assert "because too many messages outside the selection were held at once" in note


def test_a_count_too_large_to_name_every_message_says_the_time_bound_and_its_gap() -> None:
    request = _request(matched=25_000, would_move=25_000, pin_digests=None)
    card = _text(blocks.approval_card(request, ZoneInfo("UTC")))
    assert "the run moves at most 25,000 messages sent before 2026-11-25 03:00:00 UTC" in card
    assert "reached the DLQ later but were sent earlier could be among them" in card


def test_a_complete_count_with_every_id_needs_no_bound_note() -> None:
    card = _text(blocks.approval_card(_request(), ZoneInfo("UTC")))
    assert "stopped early" not in card and "sent before" not in card
    assert "39 message(s)" in card and "up to 39 message(s)" not in card


def test_a_time_only_pin_is_shown_to_the_second_it_enforces() -> None:
    # Given a count pinned at 03:00:41 with too many ids to name (a time bound only)
    pinned = NOW + timedelta(seconds=41)
    request = _request(matched=25_000, would_move=25_000, pin_digests=None, pin_sent_before=pinned)
    # When the card is rendered
    card = _text(blocks.approval_card(request, ZoneInfo("UTC")))
    # Then its bound is the one the run enforces: a message sent at 03:00:20 may move, so
    # "sent before 03:00" would be untrue
    assert "sent before 2026-11-25 03:00:41 UTC" in card
    assert "sent before 2026-11-25 03:00 UTC" not in card


def test_a_time_only_pin_never_promises_the_counted_messages() -> None:
    # Given a count that stopped early after 12,103 matches, too many to name one by one: the
    # run can only take "at most 12,103 sent before the count", whichever it receives first
    request = _request(
        matched=12_103,
        would_move=12_103,
        count_complete=False,
        count_stopped="deadline",
        pin_digests=None,
    )
    # When the card and its Approve dialog are rendered
    card = _text(blocks.approval_card(request, ZoneInfo("UTC")))
    # Then neither says the run moves only the counted messages, and both state the true bound
    assert "counted message(s)" not in card
    assert "Move up to 12,103 message(s) sent before 2026-11-25 03:00:00 UTC" in card
    assert "not necessarily the ones counted" in card


def test_a_count_that_did_not_see_every_message_says_at_least() -> None:
    # Given a count that "drained" after 17,117 messages while SQS counts 23,005 in the DLQ
    # (the drill's card said "16,128" as if exact, with no word of the 5,888 it never saw)
    report = RedriveReport(
        dlq="orders-dlq",
        dry_run=True,
        selection="all messages",
        scanned=17_117,
        matched=16_128,
        remaining=23_005,
        by_destination=Counter({"orders": 16_128}),
    )
    # When its note and its "nothing found" answer are written
    note = blocks.dry_run_note(report)
    # Then both say the count is a lower bound and why
    assert "SQS counts 23,005 in the DLQ" in note and "at least 16,128 match" in note
    empty = replace(report, matched=0, by_destination=Counter())
    assert "Nothing to redrive" not in _text(blocks.nothing_to_redrive("orders-dlq", empty))
