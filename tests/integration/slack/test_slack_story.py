"""The whole story through the real Lambda handlers: request → approval card → approve →
redrive → outcome on the card, with the state table recording each step."""

from __future__ import annotations

from bot.slack.ids import ActionId
from infra.local.scene import count, put_in_dlq
from tests.integration.slack.slack_harness import (
    APPROVER,
    REQUESTER,
    SlackHarness,
    ack_text,
    seed_orders,
)


def test_request_approve_redrive_outcome(harness: SlackHarness) -> None:
    # Given 5 dead-lettered orders
    pair = seed_orders(harness.sqs, 5)

    # When Alice asks for a redrive of at most 3
    ack = harness.command("redrive orders-dlq --limit 3")

    # Then the ack says the count is coming, and the card appears in the channel
    assert ack["statusCode"] == 200
    assert "Counting what would move from `orders-dlq`" in ack_text(ack)
    harness.settle()
    card = harness.card()
    assert card.body["channel"] == "C_OPS"
    assert "3 message(s) from orders-dlq" in card.body["text"]
    assert f"<@{REQUESTER}>" in card.body["text"]
    buttons = next(b for b in card.body["blocks"] if b["type"] == "actions")["elements"]
    assert [b["action_id"] for b in buttons] == [ActionId.APPROVE, ActionId.REJECT]
    assert buttons[0]["style"] == "primary" and "confirm" in buttons[0]
    assert count(harness.sqs, pair.dlq_url) == 5  # the dry run moved nothing

    # When Bob approves
    request_id = harness.request_id()
    ack = harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=harness.card_ts())
    assert ack["statusCode"] == 200
    harness.settle()

    # Then exactly 3 moved back to the source queue, 2 stay in the DLQ
    assert count(harness.sqs, pair.source_url) == 3
    assert count(harness.sqs, pair.dlq_url) == 2
    # and the card went: approved → ... → done with the counts
    updates = harness.updates()
    assert f"Approved by <@{APPROVER}>, redriving" in updates[0]
    assert "Done: moved *3*, failed *0*" in updates[-1]
    assert all(c.body["ts"] == harness.card_ts() for c in harness.calls("chat.update"))
    # and the state table has the request, the decision and the outcome
    stored = harness.state.get_request(request_id)
    assert stored is not None and stored.status == "approved" and stored.decided_by == APPROVER
    kinds = [e["kind"] for e in harness.state.events(request_id)]
    assert kinds == ["requested", "approved", "outcome"]
    outcome = harness.state.events(request_id)[-1]
    assert outcome["detail"]["moved"] == 3 and outcome["detail"]["status"] == "done"
    run = harness.state.get_run(request_id)
    assert run is not None and run.status == "done" and run.moved == 3


def test_messages_arriving_after_the_count_are_not_moved(harness: SlackHarness) -> None:
    # Given a card approved for the 3 messages the dry run counted
    pair = seed_orders(harness.sqs, 3)
    request_id = harness.request_card()
    assert "3 message(s) from orders-dlq" in harness.card().body["text"]

    # When 2 more fail into the DLQ before Bob approves
    put_in_dlq(harness.sqs, pair, ["late-1", "late-2"])
    harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=harness.card_ts())
    harness.settle()

    # Then only the 3 approved ones move; the late ones wait for their own request
    assert count(harness.sqs, pair.source_url) == 3
    assert count(harness.sqs, pair.dlq_url) == 2
    assert "Done: moved *3*" in harness.updates()[-1]
