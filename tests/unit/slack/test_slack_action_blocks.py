"""The issue 12 surfaces of the Slack blocks (pure): a peek's per-message Edit & resend and
Discard buttons, and cards worded for a discard (its archive) and an edit (its diff)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.inspection import PeekedMessage
from bot.slack import blocks
from bot.slack.button_values import parse_button_value
from bot.slack.ids import ActionId
from bot.state_model import ApprovalRequest, RunRecord, RunStatus
from infra.local.slack_api import message_problem
from tests.unit.approval_requests import approval_request

UTC_TZ = ZoneInfo("UTC")
NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def _peeked(message_id: str, body: str = '{"order": 1}') -> PeekedMessage:
    return PeekedMessage(message_id, body, NOW, 2, "orders", None, {})


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_each_peeked_message_gets_edit_and_discard_buttons_naming_it() -> None:
    # Given ten peeked messages with the biggest bodies Slack could be asked to show
    messages = [_peeked(f"id-{i}", "x" * 300_000) for i in range(10)]

    # When the peek is rendered
    message = blocks.peek("orders-dlq", 10, messages, UTC_TZ)

    # Then it stays within Slack's limits, and each message has both buttons, whose value the
    # endpoint reads back as exactly that queue and message
    assert message_problem(message) is None
    buttons = _buttons(message)
    assert [b["action_id"] for b in buttons] == [ActionId.PEEK_EDIT, ActionId.PEEK_DISCARD] * 10
    read = [parse_button_value(b["action_id"], b["value"]) for b in buttons]
    assert [(v.queue, v.message_id) for v in read[::2]] == [
        ("orders-dlq", f"id-{i}") for i in range(10)
    ]


def test_a_hostile_message_id_rides_only_in_the_json_value() -> None:
    # Given message ids an attacker chose (ids are whatever the queue gave): one with mrkdwn
    # marks, and one with a space, which the endpoint would refuse to read back
    hostile = "<!channel>|`x`"
    messages = [_peeked(hostile), _peeked("a b")]
    message = blocks.peek("orders-dlq", 2, messages, UTC_TZ)

    # Then it is never a block id, nor a mention in any text, and comes back from the value
    # exactly; the one the endpoint would refuse gets no buttons rather than ones that fail
    assert message_problem(message) is None
    assert all(hostile not in str(b.get("block_id", "")) for b in message["blocks"])
    assert "<!channel>" not in json.dumps([b for b in message["blocks"] if b["type"] != "actions"])
    read = [parse_button_value(b["action_id"], b["value"]).message_id for b in _buttons(message)]
    assert read == [hostile, hostile]


def _request(**action: Any) -> ApprovalRequest:
    return approval_request(
        requested_at=NOW,
        selection_text="message m-1",
        requester="U1",
        channel="C1",
        pin_sent_before=NOW,
        pin_digests=frozenset({b"x" * 12}),
        **action,
    )


def test_a_discard_card_is_worded_as_a_discard_naming_its_archive() -> None:
    request = _request(action="discard", archive_location="s3://arch/discards/20261201/")
    card = blocks.approval_card(request, UTC_TZ)
    assert message_problem(card) is None
    title = card["blocks"][0]["text"]["text"]
    assert title == (
        ":wastebasket: *Discard request* — 1 message(s) from `orders-dlq`, "
        "archived to `s3://arch/discards/20261201/`"
    )
    approve = _buttons(card)[0]
    assert approve["confirm"]["title"]["text"] == "Discard these messages?"
    assert approve["confirm"]["text"]["text"].startswith(
        "Archive to `s3://arch/discards/20261201/`, then delete, up to 1 counted message(s)"
    )
    assert "Redrive" not in json.dumps(card)


def test_a_finished_discard_says_discarded_and_where_the_archive_is() -> None:
    request = _request(action="discard", archive_location="s3://arch/discards/x/")
    run = RunRecord(
        run_id=request.request_id,
        dlq="orders-dlq",
        requester="U1",
        approved_by="U2",
        status=RunStatus.DONE,
        started_at=NOW,
        updated_at=NOW,
        moved=1,
    )
    head, details = blocks.outcome_lines(run, None, request)
    assert head.startswith(":white_check_mark: Done: discarded *1*")
    assert "Every message deleted was archived to `s3://arch/discards/x/` before any delete." in (
        details
    )


def test_an_edit_card_shows_its_diff_escaped() -> None:
    request = _request(action="edit", edit_diff='-{"a": 1}\n+{"a": "<!here>"}')
    card = blocks.approval_card(request, UTC_TZ)
    assert message_problem(card) is None
    shown = json.dumps(card["blocks"])
    assert "Edit &amp; resend request" in shown and "&lt;!here&gt;" in shown
    assert "<!here>" not in shown


def test_a_discard_that_died_says_what_may_be_in_the_archive_not_in_source_queues() -> None:
    request = _request(action="discard", archive_location="s3://arch/discards/x/")
    run = RunRecord(
        run_id=request.request_id,
        dlq="orders-dlq",
        requester="U1",
        approved_by="U2",
        status=RunStatus.FAILED,
        started_at=NOW,
        updated_at=NOW,
        moved=3,
        unreported=True,
    )
    head, details = blocks.outcome_lines(run, None, request)
    assert head.startswith(":x: Discard failed: discarded at least *3*")
    shown = " ".join(details)
    assert "it may have discarded more after its last saved progress" in shown
    assert "source queues" not in shown
