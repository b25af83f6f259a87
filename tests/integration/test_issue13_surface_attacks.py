"""Attacks on issue 13's surfaces (SNS subscription, EventBridge target and Lambda DLQs) as an
on-call engineer meets them in Slack, the CLI and the report: every number shown is what was
seeded and what the targets received (the local Lambda server's invocations, the queues); Edit &
resend from Slack goes where the engine routes a feeder's message, as the CLI's edit does; a
report button over messages that need a human leads to no approval that moves nothing; list says
which feeders a redrive refuses; an approval moves only what its card counted, to the target its
card named, once, however many clicks.

Real parts throughout: signed requests into the endpoint, the worker on the local Lambda server,
the local Slack server, SQS, SNS and EventBridge on moto (tests/integration/kinds_world.py)."""

from __future__ import annotations

import json
import threading
from types import SimpleNamespace
from typing import Any

import pytest

from bot.error_groups import error_label, label_digest
from bot.slack.ids import ActionId
from infra.local.scene import count, drain, queue_arn
from tests.integration.kinds_world import World
from tests.integration.slack.edit_world import EditWorld, dlq_messages, modal_text
from tests.integration.slack.slack_harness import (
    APPROVER,
    APPROVER_2,
    REQUESTER,
    SlackHarness,
    harness,
    slack_env,
)
from tests.integration.slack.test_slack_kinds import answer, final_card, texts
from tests.unit.kind_messages import (
    eventbridge_dlq_message,
    eventbridge_event,
    lambda_async_dlq_message,
    sns_envelope,
)


__all__ = ["harness", "slack_env"]  # the Slack harness's fixtures, used here


@pytest.fixture
def world(harness: SlackHarness) -> World:
    return World(harness.sqs, harness.lambdas)


def works(event: Any, context: Any) -> dict[str, str]:
    return {"status": "ok"}


def ask(harness: SlackHarness, text: str) -> tuple[str, str]:
    """``/dlq-redrive <text>``, settled: the request id and its card's text."""
    request_id = harness.request_card(text)
    return request_id, texts(harness.card().body["blocks"])


def approve(harness: SlackHarness, request_id: str, user: str = APPROVER) -> None:
    harness.click(ActionId.APPROVE, request_id, user=user, message_ts=harness.card_ts())


def edit_world(harness: SlackHarness, dlq: str) -> tuple[EditWorld, str]:
    """The Edit & resend player on ``dlq``'s one message, and its id."""
    url = harness.sqs.get_queue_url(QueueName=dlq)["QueueUrl"]
    (message,) = dlq_messages(harness.sqs, url)
    return EditWorld(harness, SimpleNamespace(dlq_name=dlq)), message.message_id  # type: ignore[arg-type]


# --- Edit & resend in Slack routes a feeder's message as the engine (and the CLI) does ----------


def test_slack_edit_of_a_function_async_dlq_message_invokes_that_function_once(
    harness: SlackHarness, world: World
) -> None:
    # Given an event the thumbnailer failed asynchronously (its DLQ has no SQS source queue)
    world.seed("thumbnailer-dlq", lambda_async_dlq_message({"key": "cat.heic"}))
    player, message_id = edit_world(harness, "thumbnailer-dlq")

    # When a viewer opens Edit & resend from the peek
    view = player.open_form(message_id, user=REQUESTER)

    # Then the form opens with the body and says the copy goes to the function, not "use the CLI"
    text = modal_text(view)
    assert "source queues" not in text and "command line" not in text, text
    assert "lambda thumbnailer" in text
    (field,) = [b for b in view["blocks"] if b["type"] == "input"]
    assert json.loads(field["element"]["initial_value"]) == {"key": "cat.heic"}

    # When the edited event is submitted and approved
    player.submit(view, json.dumps({"key": "cat.jpg"}), user=REQUESTER)
    harness.settle()
    card = texts(harness.card().body["blocks"])
    approve(harness, harness.request_id())
    harness.settle()

    # Then the card named the function, which got the new event once, asynchronously
    assert "lambda thumbnailer" in card
    (call,) = harness.lambdas.calls_to("thumbnailer")
    assert call.payload == {"key": "cat.jpg"} and call.invocation_type == "Event"
    assert harness.lambdas.calls_to("invoice-pdf") == []
    assert harness.lambdas.calls_to("notifier") == []
    # And the original left the DLQ only then; the final card says where it went
    assert count(harness.sqs, world.urls["thumbnailer-dlq"]) == 0
    final = final_card(harness)
    assert "→ lambda thumbnailer (async invoke): 1" in final


def test_slack_edit_of_a_subscription_dlq_message_goes_to_the_subscription_queue_only(
    harness: SlackHarness, world: World
) -> None:
    # Given an envelope SNS could not deliver to orders-inbox
    world.seed("orders-sub-dlq", sns_envelope('{"order": 1}', topic_arn=world.topic))
    player, message_id = edit_world(harness, "orders-sub-dlq")
    view = player.open_form(message_id, user=REQUESTER)
    assert "orders-inbox" in modal_text(view)
    (field,) = [b for b in view["blocks"] if b["type"] == "input"]
    envelope = json.loads(field["element"]["initial_value"])

    # When the envelope's message is edited, submitted and approved
    edited = json.dumps({**envelope, "Message": '{"order": 2}'})
    player.submit(view, edited, user=REQUESTER)
    harness.settle()
    approve(harness, harness.request_id())
    harness.settle()

    # Then only the subscription's queue got the edited copy; the other subscriber nothing
    assert [json.loads(b)["Message"] for b in world.bodies("orders-inbox")] == ['{"order": 2}']
    assert world.bodies("analytics-inbox") == []
    assert count(harness.sqs, world.urls["orders-sub-dlq"]) == 0


def test_slack_edit_of_a_message_that_needs_a_human_says_why_and_sends_nothing(
    harness: SlackHarness, world: World
) -> None:
    # Given an event EventBridge was not allowed to deliver (no retry fixes it)
    world.seed(
        "billing-dlq",
        eventbridge_dlq_message(
            eventbridge_event({"invoice": 1}),
            rule_arn=world.rule,
            target_arn=world.arns["billing-inbox"],
            error_code="NO_PERMISSIONS",
        ),
    )
    player, message_id = edit_world(harness, "billing-dlq")

    # When a viewer opens Edit & resend
    view = player.open_form(message_id, user=REQUESTER)

    # Then the modal says why it cannot go back (the code), not that the DLQ has no sources
    text = modal_text(view)
    assert "NO_PERMISSIONS" in text and "source queues" not in text
    harness.settle()
    assert harness.calls("chat.postMessage") == []
    assert world.bodies("billing-inbox") == [] and world.bodies("audit-inbox") == []
    assert count(harness.sqs, world.urls["billing-dlq"]) == 1
