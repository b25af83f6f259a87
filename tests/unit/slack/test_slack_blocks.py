"""Block Kit rendering stays within Slack's limits whatever the data (pure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.inspection import DlqSummary, PeekedMessage
from bot.slack import blocks
from bot.slack.ids import ActionId
from bot.state import ApprovalRequest, RunRecord, RunStatus

UTC_TZ = ZoneInfo("UTC")


def _within_limits(message: dict[str, object]) -> None:
    assert message["text"]
    items = message["blocks"]
    assert isinstance(items, list) and len(items) <= 50
    for block in items:
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= 3000


def test_list_of_many_dlqs_stays_within_limits() -> None:
    summaries = [
        DlqSummary(f"queue-number-{i:03d}-dlq", i, 0, False, (f"queue-number-{i:03d}",))
        for i in range(300)
    ]
    message = blocks.dlq_list(summaries)
    _within_limits(message)
    assert "queue-number-299-dlq" in json.dumps(message["blocks"])


def test_peek_of_huge_and_hostile_bodies_stays_within_limits() -> None:
    body = "```" + "\U0001f600" * 70_000 + "\x00"
    messages = [
        PeekedMessage(f"id-{i}", body, datetime.now(UTC), 2, "orders", None, {"a": "b" * 500})
        for i in range(10)
    ]
    message = blocks.peek("orders-dlq", 10, messages, UTC_TZ)
    _within_limits(message)
    # the body's own ``` cannot close the code block early
    assert all(b["text"]["text"].count("```") == 4 for b in message["blocks"][1:])


def _request() -> ApprovalRequest:
    now = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    return ApprovalRequest(
        request_id="20261125-030000-abcdef",
        dlq="orders-dlq",
        selection={},
        selection_text="all messages",
        matched=42,
        requester="U1",
        channel="C1",
        requested_at=now,
        approval_expires_at=now + timedelta(hours=1),
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
