"""Block Kit rendering stays within Slack's limits whatever the data (pure)."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.inspection import DlqSummary, PeekedMessage
from bot.redrive_model import RedriveReport, StopReason
from bot.slack import blocks
from bot.slack.ids import ActionId
from bot.state import ApprovalRequest, RunRecord, RunStatus
from infra.local.slack_api import message_problem
from tests.unit.approval_requests import approval_request

UTC_TZ = ZoneInfo("UTC")


def _within_limits(message: dict[str, object]) -> None:
    """What the local Slack server checks (slack_sdk's block models, 50 blocks, total text)."""
    assert message["text"]
    assert message_problem(message) is None


def test_list_of_many_dlqs_stays_within_limits() -> None:
    summaries = [
        DlqSummary(f"queue-number-{i:03d}-dlq", i, 0, False, (f"queue-number-{i:03d}",))
        for i in range(300)
    ]
    message = blocks.dlq_list(summaries)
    _within_limits(message)
    # Those that do not fit are counted, and the CLI lists them all
    shown = json.dumps(message["blocks"], ensure_ascii=False)
    assert "queue-number-000-dlq" in shown
    omitted = sum(f"queue-number-{i:03d}-dlq" not in shown for i in range(300))
    assert omitted > 0 and f"…and {omitted} more: `dlq-redrive list` shows them all" in shown


def test_peek_of_huge_and_hostile_bodies_stays_within_limits() -> None:
    body = "```" + "\U0001f600" * 70_000 + "\x00"
    messages = [
        PeekedMessage(f"id-{i}", body, datetime.now(UTC), 2, "orders", None, {"a": "b" * 500})
        for i in range(10)
    ]
    message = blocks.peek("orders-dlq", 10, messages, UTC_TZ)
    _within_limits(message)
    # the body's own ``` cannot close the code block early
    sections = [b for b in message["blocks"][1:] if b["type"] == "section"]
    assert len(sections) == 10
    assert all(b["text"]["text"].count("```") == 4 for b in sections)


def _request() -> ApprovalRequest:
    now = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    return approval_request(
        "20261125-030000-abcdef", requested_at=now, matched=42, requester="U1", channel="C1"
    )


def test_approval_card_carries_only_the_opaque_id() -> None:
    card = blocks.approval_card(_request(), UTC_TZ)
    _within_limits(card)
    actions = next(b for b in card["blocks"] if b["type"] == "actions")
    approve, reject = actions["elements"]
    assert (approve["action_id"], approve["value"]) == (ActionId.APPROVE, "20261125-030000-abcdef")
    assert (reject["action_id"], reject["value"]) == (ActionId.REJECT, "20261125-030000-abcdef")
    assert approve["style"] == "primary" and approve["confirm"]["confirm"]["text"] == "Approve"
    assert "2026-11-25 04:00 UTC" in json.dumps(card["blocks"])  # when it expires


def test_outcome_lines_say_what_happened() -> None:
    started = datetime(2026, 11, 25, tzinfo=UTC)
    run = RunRecord(
        "r1",
        "orders-dlq",
        "U1",
        "U2",
        RunStatus.DONE,
        started,
        started,
        moved=40,
        failed=2,
        skipped=3,
        needs_human=1,
        duration_s=4.2,
        invocation=3,
    )
    head, details = blocks.outcome_lines(run, None)
    assert head == (
        ":warning: Finished with failures: moved *40*, failed *2*, skipped 3 (1 need a human), "
        "in 4.20s over 3 invocations"
    )
    assert details == ["Run id `r1`"]


def _texts(message: dict[str, Any]) -> str:
    """Every mrkdwn text of a message, its fallback included (Slack parses both)."""
    return json.dumps(message, ensure_ascii=False)


def test_every_count_on_a_card_has_thousands_separators() -> None:
    # Given a request for 18,212 messages and a run that moved 12,345 of them
    request = replace(_request(), matched=18_212)
    started = datetime(2026, 11, 25, tzinfo=UTC)
    run = RunRecord(
        "r1",
        "orders-dlq",
        "U1",
        "U2",
        RunStatus.DONE,
        started,
        started,
        moved=12_345,
        failed=1_000,
        skipped=4_867,
        needs_human=2_500,
        duration_s=60.0,
    )

    # When the card, its progress, its outcome and the status are rendered
    card = _texts(blocks.approval_card(request, UTC_TZ))
    head, _ = blocks.outcome_lines(run, None)
    progress = blocks.progress_line(run)
    status = _texts(blocks.status([run], UTC_TZ))

    # Then every count is written with separators, and none without
    assert "18,212 message(s)" in card and "*Messages*\\n18,212" in card
    assert "Move up to 18,212 counted message(s)" in card
    assert "18212" not in card
    assert "moved *12,345*, failed *1,000*, skipped 4,867 (2,500 need a human)" in head
    assert "moved *12,345*, failed 1,000, skipped 4,867" in progress
    assert "moved 12,345, failed 1,000, skipped 4,867" in status


def test_the_list_counts_have_thousands_separators() -> None:
    message = blocks.dlq_list([DlqSummary("orders-dlq", 123_456, 7_890, False, ("orders",))])
    assert "*123,456* visible, 7,890 in flight" in _texts(message)
    assert "orders-dlq (123,456)" in message["text"]


def test_the_dry_run_note_accounts_for_every_message_counted() -> None:
    # Given the count behind a card: 18,212 scanned, 300 of them with no readable time
    dry = RedriveReport(
        dlq="orders-dlq",
        dry_run=True,
        selection="2026-11-24 by body field 'at'",
        scanned=18_212,
        matched=17_000,
        skipped=1_212,
        out_of_window=612,
        unreadable=300,
        needs_human=250,
        over_limit=50,
        by_destination=Counter({"orders": 17_000}),  # each that matches would move
    )

    # When the card's note is written
    note = blocks.dry_run_note(dry)

    # Then it names each reason, and the numbers add up to what was scanned
    assert note == (
        "Of 18,212 checked, 17,000 match; 250 were redriven too often already (poison) and stay "
        "for a human; 300 have no readable time and stay; 612 are outside the selection and "
        "stay; 50 are over --limit and stay."
    )
    assert 17_000 + 250 + 300 + 612 + 50 == 18_212


def test_the_dry_run_note_counts_messages_that_do_not_say_their_source() -> None:
    # Given the count of a DLQ with two sources where 3 messages do not say theirs
    dry = RedriveReport(
        dlq="shared-dlq",
        dry_run=True,
        selection="all",
        scanned=5,
        matched=2,
        skipped=3,
        no_source=3,
        by_destination=Counter({"orders": 2}),
    )
    # When the card's note is written, Then it says why the 3 stay and how to move them
    assert blocks.dry_run_note(dry) == (
        "Of 5 checked, 2 match; 3 do not say their source in a DLQ with several and stay for a "
        "human (the CLI's `redrive --to QUEUE` moves them)."
    )


def test_the_card_shows_what_would_move_and_the_note_says_why_the_others_would_not() -> None:
    # Given a count of 20 matching messages: 3 too large for their destination queue, 2 whose
    # destination AWS refused to describe, so 15 would move
    dry = RedriveReport(
        dlq="orders-dlq",
        dry_run=True,
        selection="all messages",
        scanned=20,
        matched=20,
        failed=5,
        failure_reasons=Counter({"MessageTooLarge": 3, "AccessDenied": 2}),
        by_destination=Counter({"orders": 15}),
    )

    # When the card is written from that count
    note = blocks.dry_run_note(dry)
    request = replace(_request(), matched=dry.matched, would_move=dry.destined)
    card = blocks.approval_card(request, UTC_TZ, dry_run_note=note)

    # Then it shows the 15 that would move (title, field, fallback), the dialog the run's bound
    # (the 20 counted), and its note accounts for the 5 of the 20 that would not, by reason
    text = _texts(card)
    assert "15 message(s) from `orders-dlq`" in text and "*Messages*\\n15" in text
    assert "Redrive request 20261125-030000-abcdef: 15 message(s)" in card["text"]
    assert "Move up to 20 counted message(s)" in text
    assert note == (
        "Of the 20 that match, 15 would move; 3 are too large for their destination queue and "
        "stay; 2 would fail with AccessDenied and stay."
    )
    assert 15 + 3 + 2 == 20


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        # FIFO: the count held what it counted, so SQS handed out no later message of 3 groups
        ({"blocked_groups": 3}, "the count could not see past held messages of 3 FIFO group(s)"),
        # The count ran out of time after part of the DLQ
        (
            {"stopped": StopReason.DEADLINE},
            "Counting stopped early because its time budget ran out, after 4 message(s)",
        ),
    ],
)
def test_a_count_that_could_not_see_every_message_is_shown_as_the_runs_bound(
    changes: dict[str, Any], why: str
) -> None:
    # Given a count of 4 that would move, which did not see every message
    dry = replace(
        RedriveReport(
            dlq="payments-dlq.fifo",
            dry_run=True,
            selection="all messages",
            scanned=4,
            matched=4,
            by_destination=Counter({"payments.fifo": 4}),
        ),
        **changes,
    )

    # When its card is written
    note = blocks.dry_run_note(dry)
    request = replace(
        _request(),
        dlq="payments-dlq.fifo",
        matched=dry.matched,
        would_move=dry.destined,
        count_complete=dry.finished,
        blocked_groups=dry.blocked_groups,
    )
    card = blocks.approval_card(request, UTC_TZ, dry_run_note=note)
    update = blocks.card_update(request, UTC_TZ, "Approved")

    # Then the note says why, and the card never shows the 4 as exact: each time it is
    # "up to 4", the bound the approved run enforces (it moves only the counted messages, at
    # most 4) (title, field, fallback, dialog, and the card after the decision)
    assert why in note and "at least 4 would move" in note.lower()
    for message in (card, update):
        counts = [b for b in message["blocks"] if b["type"] != "context"]  # not the note
        text = _texts({**message, "blocks": counts})
        shown = re.findall(r"(?:up to )?\b4\b", text)
        assert shown and set(shown) == {"up to 4"}, text
    assert "up to 4 message(s) from `payments-dlq.fifo`" in _texts(card)
    assert "*Messages*\\nup to 4" in _texts(card)
    assert "Move up to 4 counted message(s)" in _texts(card)


def test_nothing_found_by_a_count_that_could_not_see_past_fifo_groups_is_not_nothing() -> None:
    # Given a FIFO count that selected nothing, while it held messages of 11 groups (SQS then
    # hands out none of their later messages, which may be of the selection)
    dry = RedriveReport(
        dlq="orders-dlq.fifo",
        dry_run=True,
        selection="2026-11-25",
        scanned=11,
        skipped=11,
        out_of_window=11,
        blocked_groups=11,
    )

    # When the answer is written
    answer = blocks.nothing_to_redrive("orders-dlq.fifo", dry)

    # Then it does not say there is nothing to redrive, only that the count found nothing
    text = answer["text"]
    assert not text.startswith("Nothing to redrive")
    assert text.startswith(
        "The count found nothing to redrive in `orders-dlq.fifo` for 2026-11-25, but it could "
        "not see every message."
    )
    assert "the count could not see past held messages of 11 FIFO group(s)" in text
    assert "11 are outside the selection and stay" in text


def _peeked(message_id: str, **changes: Any) -> PeekedMessage:
    base = PeekedMessage(message_id, "{}", datetime.now(UTC), 1, "orders", None, {})
    return replace(base, **changes)


def test_peek_marks_poison_messages() -> None:
    # Given two peeked messages, one redriven MAX_REDRIVES times already
    messages = [_peeked("fresh"), _peeked("poisoned", redrive_count=3, poison=True)]

    # When they are rendered
    message = blocks.peek("orders-dlq", 2, messages, UTC_TZ)

    # Then the poison one says so, and the title counts it
    fresh, poisoned = (b["text"]["text"] for b in message["blocks"][1:] if "text" in b)
    assert poisoned.startswith(":skull: *poison* (redriven 3 times)")
    assert "poison" not in fresh
    assert ":skull: 1 of them are poison" in message["blocks"][0]["text"]["text"]


def test_peek_of_ten_large_messages_stays_under_the_total_block_text() -> None:
    # Given ten messages with a long group id, ten long attributes and a huge body each
    attrs = {f"attr{i}": "<&>`" * 100 for i in range(10)}
    messages = [
        _peeked(f"id-{i}", body="```<!channel>&" * 20_000, group_id="`<>&" * 32, attributes=attrs)
        for i in range(10)
    ]

    # When they are rendered
    message = blocks.peek("orders-dlq", 10, messages, UTC_TZ)

    # Then the sections together stay within the budget, and every fence is whole
    sections = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    assert sum(len(text) for text in sections) <= blocks.MESSAGE_TEXT
    for text in sections[1:]:
        assert text.count("```") == 4 and text.endswith("…```")
        assert "<" not in text and ">" not in text


def test_outcome_lines_tell_unconfirmed_sends_apart_from_failures() -> None:
    # Given a run whose last part lost SQS's answer to a send of 10 messages (2 held back)
    started = datetime(2026, 11, 25, tzinfo=UTC)
    run = RunRecord(
        "r2", "orders.fifo", "U1", "U2", RunStatus.DONE, started, started, moved=28, invocation=2
    )
    report = RedriveReport("orders-dlq.fifo", False, "all", moved=8, unconfirmed=10, held_back=2)
    # When the card's outcome is written
    head, details = blocks.outcome_lines(run, report)
    # Then it is a warning, not "Done" and not "failures", and the details say why
    assert head.startswith(":warning: Finished, some not confirmed: moved *28*, failed *0*")
    assert details[0].startswith("10 may have been delivered in the last part: SQS's answer")
    assert "held back" in details[1] and "FIFO group" in details[1]


def test_outcome_lines_say_what_a_run_did_not_send_or_could_not_see() -> None:
    # Given a FIFO run that stopped on an error before sending 4 it had selected, and held
    # messages of 3 groups, so SQS handed out none of their later messages
    started = datetime(2026, 11, 25, tzinfo=UTC)
    run = RunRecord("r3", "orders.fifo", "U1", "U2", RunStatus.DONE, started, started, moved=5)
    report = RedriveReport(
        "orders-dlq.fifo", False, "all", moved=5, not_attempted=4, blocked_groups=3
    )

    # When the card's outcome is written
    head, details = blocks.outcome_lines(run, report)

    # Then it is not "Done", and the details say what stays in the DLQ and why
    assert head.startswith(":warning: Finished, some left in the DLQ: moved *5*, failed *0*")
    assert details[:2] == [
        "4 selected were not sent: the run stopped before it got to them (they stay in the DLQ).",
        "The run could not see past held messages of 3 FIFO group(s): SQS hands out none of a "
        "group's later messages while one is held, so any it did not see stay in the DLQ.",
    ]


def test_any_message_is_kept_within_the_total_block_text() -> None:
    # Given a status of 40 redrives in progress on DLQs whose names are long once escaped
    started = datetime(2026, 11, 25, tzinfo=UTC)
    runs = [
        RunRecord(
            f"run-{i}", f"{i:02d}" + "<" * 78, "U1", "U2", RunStatus.RUNNING, started, started
        )
        for i in range(40)
    ]

    # When it is rendered
    message = blocks.status(runs, UTC_TZ)

    # Then Slack would take it, and it says that some were left out
    assert len(message["blocks"]) < 40
    _within_limits(message)
    assert message["blocks"][-1]["elements"][0]["text"] == (
        "(more omitted to stay within Slack's limits)"
    )
