"""The request modal's optional note (issue 14): kept with the approval request in the state
table and shown, escaped, on its card."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.slack import blocks
from bot.state_model import ApprovalRequest
from infra.local.slack_api import message_problem
from tests.unit.approval_requests import approval_request

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def _request(note: str | None) -> ApprovalRequest:
    return approval_request(
        requested_at=NOW,
        selection_text="every message",
        matched=4,
        requester="U1",
        channel="C1",
        pin_sent_before=NOW,
        pin_digests=frozenset({b"x" * 12}),
        note=note,
    )


def test_the_note_is_stored_with_the_request_and_read_back() -> None:
    # Given a request with a note, and one without
    noted, plain = _request("consumer fixed in v2.3 <!channel>"), _request(None)

    # When each goes through its state table item
    back = ApprovalRequest.from_items(*noted.to_items())
    plain_item, _ = plain.to_items()

    # Then the note comes back exactly, and a request without one stores none
    assert back.note == "consumer fixed in v2.3 <!channel>"
    assert "note" not in plain_item and ApprovalRequest.from_items(plain_item).note is None


def test_the_card_shows_the_note_escaped_and_a_card_without_one_shows_none() -> None:
    # Given a note with mentions and a link someone typed
    hostile = "retry after fix <!channel> <@U999> <https://evil.example|docs> *bold*\nline 2"

    # When the cards are rendered
    card = blocks.approval_card(_request(hostile), ZoneInfo("UTC"))
    plain = blocks.approval_card(_request(None), ZoneInfo("UTC"))

    # Then the note is on the card, within Slack's limits, and nothing in it renders live
    assert message_problem(card) is None
    text = json.dumps(card["blocks"])
    assert "Note" in text and "retry after fix" in text
    assert "<!channel>" not in text and "<@U999>" not in text and "<https://" not in text
    assert "&lt;!channel&gt;" in text
    # And a card without a note has no note line
    assert "Note" not in json.dumps(plain["blocks"])
    assert len(card["blocks"]) == len(plain["blocks"]) + 1
