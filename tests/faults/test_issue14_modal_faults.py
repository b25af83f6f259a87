"""Issue 14's request modal when Slack lets it down: the modal's update refused or its answer lost
after the card was posted, the card's own answer lost. The person must learn what happened, and
what they are told must be true. Through the real handlers (signed requests, the worker on the
local Lambda server), the local Slack server, SQS and DynamoDB on moto."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.slack.ids import ActionId
from bot.slack.request_form import RequestForm
from infra.local.scene import count
from tests.integration.slack.request_world import filled, sealed_submission, state
from tests.integration.slack.slack_harness import (
    APPROVER,
    CHANNEL,
    REQUESTER,
    SlackHarness,
    harness,
    slack_env,
)
from tests.integration.slack.test_slack_approval_integrity import (
    _deliver_to_failed,
    _failure_record,
)

__all__ = ["harness", "slack_env"]  # fixtures


def _posted(harness: SlackHarness, channel: str) -> list[dict[str, Any]]:
    return [
        c.body
        for c in harness.calls("chat.postMessage")
        if c.refused is None and c.body.get("channel") == channel
    ]


def _is_outcome(body: dict[str, Any]) -> bool:
    return "approval card of request" in json.dumps(body)


def test_an_outcome_the_modal_refuses_is_sent_to_the_dm(harness: SlackHarness) -> None:
    # Given the filled modal, and Slack refusing the update that shows the outcome (not
    # not_found: an internal error)
    world, view = filled(harness, 3)
    harness.slack.state.refuse("views.update", "internal_error", when=_is_outcome)

    # When the request is submitted
    world.submit(view, state(queue="orders-dlq", selection="all"), user=REQUESTER)
    harness.settle()

    # Then the card is posted once, and the person is told where, in their DM
    assert len(_posted(harness, CHANNEL)) == 1
    (dm,) = _posted(harness, REQUESTER)
    assert f"<#{CHANNEL}>" in json.dumps(dm)


def test_an_outcome_whose_update_answer_is_lost_is_still_told(harness: SlackHarness) -> None:
    # Given the filled modal, and the update of the outcome made by Slack but its answer lost
    world, view = filled(harness, 3)
    slack = harness.slack.state
    real = "views.update"

    def acted_then_lost(body: dict[str, Any]) -> dict[str, Any]:
        if not _is_outcome(body):
            with slack._lock:
                return slack.modals.update(body, "T_LOCAL")
        del slack.overrides[real]
        with slack._lock:
            slack.modals.update(body, "T_LOCAL")
        return {"_status": 502, "_text": "Bad Gateway"}

    slack.overrides[real] = acted_then_lost

    # When the request is submitted
    world.submit(view, state(queue="orders-dlq", selection="all"), user=REQUESTER)
    harness.settle()

    # Then one card, and the modal shows the outcome; nothing moved before approval
    assert len(_posted(harness, CHANNEL)) == 1
    assert f"<#{CHANNEL}>" in json.dumps(world.modal())
    assert count(harness.sqs, "orders-dlq") == 3


def _lose_the_card_answer(harness: SlackHarness, *, acted: bool) -> None:
    """The next card's chat.postMessage: Slack posts it (``acted``) or not, and its answer is
    lost on the way back (a 502 from a proxy)."""
    slack = harness.slack.state

    def lost(body: dict[str, Any]) -> dict[str, Any]:
        if "dlq_redrive.approve" not in json.dumps(body):
            return slack.answer("chat.postMessage", body)
        del slack.overrides["chat.postMessage"]
        if acted:
            slack.answer("chat.postMessage", body)
        return {"_status": 502, "_text": "Bad Gateway"}

    slack.overrides["chat.postMessage"] = lost


def _channel_cards(harness: SlackHarness) -> list[dict[str, Any]]:
    return [
        m
        for m in harness.slack.state.history.channels.get(CHANNEL, [])
        if "dlq_redrive.approve" in json.dumps(m.get("blocks"))
    ]


def test_a_card_posted_whose_answer_was_lost_is_found_and_works(harness: SlackHarness) -> None:
    # Given the filled modal, and Slack posting the card but its answer lost
    world, view = filled(harness, 3)
    _lose_the_card_answer(harness, acted=True)

    # When the request is submitted
    world.submit(view, state(queue="orders-dlq", selection="all"), user=REQUESTER)
    harness.settle()

    # Then the modal says the card is posted (it is: one card), not that Slack refused it
    (card,) = _channel_cards(harness)
    text = json.dumps(world.modal())
    assert f"<#{CHANNEL}>" in text and ":x:" not in text
    # And its Approve moves the 3 counted
    request_id = card["blocks"][-1]["elements"][0]["value"]
    harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=card["ts"])
    harness.settle()
    assert count(harness.sqs, "orders") == 3 and count(harness.sqs, "orders-dlq") == 0


def test_a_card_not_posted_whose_answer_was_lost_says_so_truly(harness: SlackHarness) -> None:
    # Given the filled modal, and Slack not posting the card, its answer lost
    world, view = filled(harness, 3)
    _lose_the_card_answer(harness, acted=False)

    # When the request is submitted
    world.submit(view, state(queue="orders-dlq", selection="all"), user=REQUESTER)
    harness.settle()

    # Then no card is in the channel, and the modal says it was not found and to ask again
    assert _channel_cards(harness) == []
    text = json.dumps(world.modal())
    assert "could not be found" in text and "Ask again" in text
    assert count(harness.sqs, "orders-dlq") == 3


@pytest.mark.parametrize("closed", [False, True])
def test_a_worker_that_died_on_a_submission_says_so_in_the_modal_or_the_dm(
    harness: SlackHarness, closed: bool
) -> None:
    # Given the filled modal, submitted (it says "Counting…"), and the worker's invocation of
    # that submission dead (timed out: Lambda's on-failure record arrives, nothing else)
    world, view = filled(harness, 3)
    form = RequestForm.blank(queue="orders-dlq", channel="C_OPS")
    sealed = sealed_submission(harness, view, form, delivery="died")
    if closed:
        harness.slack.state.refuse("views.update", "not_found")

    # When Lambda hands the failure to the on-failure destination
    _deliver_to_failed(harness, _failure_record(sealed, "Task timed out"))

    # Then the person is told the worker stopped: in the modal, or their DM if it was closed
    told = json.dumps(_posted(harness, REQUESTER)) if closed else json.dumps(world.modal())
    assert "stopped before it could answer" in told and "Task timed out" in told
    assert _channel_cards(harness) == [] and count(harness.sqs, "orders-dlq") == 3
