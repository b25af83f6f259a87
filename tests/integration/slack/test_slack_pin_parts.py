"""An approval whose pin is stored in parts (bot.state_model), through the real worker on moto
and the local Slack server, with a part size of 2 digests so that 5 counted messages are split
as production splits 100,000: the approval moves the counted ones and no later arrival, and a
request whose part is gone cannot be approved, says why on its card and moves nothing."""

from __future__ import annotations

import json

import boto3

import handlers.worker
from bot.slack.ids import ActionId
from bot.slack.queues import WorkerOptions
from bot.state_table import StateTable
from infra.local.scene import count, put_in_dlq
from tests.integration.slack.slack_harness import APPROVER, TABLE, SlackHarness, seed_orders


def _split_pins(harness: SlackHarness) -> None:
    """The worker, rebuilt to store 2 digests an item."""
    options = WorkerOptions(progress_interval_s=0.2)
    handlers.worker.worker.reset(harness.env, options=options, pin_part_digests=2)


def _pin_parts(request_id: str) -> list[str]:
    items = StateTable(TABLE).query(
        f"REQUEST#{request_id}", sk_prefix="PIN#", doing="list the pin's parts"
    )
    return [item["sk"]["S"] for item in items]


def test_an_approval_pinned_in_parts_moves_the_counted_and_no_later_arrival(
    harness: SlackHarness,
) -> None:
    # Given 5 dead letters counted by a worker that stores 2 digests an item
    pair = seed_orders(harness.sqs, 5)
    _split_pins(harness)
    request_id = harness.request_card()
    assert _pin_parts(request_id) == ["PIN#0001", "PIN#0002"]
    # and 3 arrivals after the count
    put_in_dlq(harness.sqs, pair, [json.dumps({"late": i}) for i in range(3)])

    # When Bob approves
    harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=harness.card_ts())
    harness.settle()

    # Then the 5 counted moved, and the 3 later arrivals wait in the DLQ
    run = harness.state.get_run(request_id)
    assert run is not None and run.status == "done" and run.moved == 5
    assert count(harness.sqs, pair.source_url) == 5
    assert count(harness.sqs, pair.dlq_url) == 3


def test_a_request_whose_pin_lost_a_part_cannot_be_approved_and_moves_nothing(
    harness: SlackHarness,
) -> None:
    # Given a card for 5 counted messages, pinned in parts, and one part gone from the table
    pair = seed_orders(harness.sqs, 5)
    _split_pins(harness)
    request_id = harness.request_card()
    boto3.client("dynamodb").delete_item(
        TableName=TABLE, Key={"pk": {"S": f"REQUEST#{request_id}"}, "sk": {"S": "PIN#0001"}}
    )

    # When Bob approves
    harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=harness.card_ts())
    harness.settle()

    # Then nothing ran or moved, the request is still pending, and the card says why
    assert harness.state.get_run(request_id) is None
    request = harness.state.get_request(request_id)
    assert request is not None and request.status == "pending"
    assert count(harness.sqs, pair.source_url) == 0
    assert count(harness.sqs, pair.dlq_url) == 5
    card = json.dumps(harness.calls("chat.update")[-1].body["blocks"])
    assert "cannot be approved" in card and "nothing was moved" in card
