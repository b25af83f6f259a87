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


# --- the report's "Redrive these N" over messages that need a human -----------------------------


def _no_permissions(world: World, invoice: int) -> Any:
    return eventbridge_dlq_message(
        eventbridge_event({"invoice": invoice}),
        rule_arn=world.rule,
        target_arn=world.arns["billing-inbox"],
        error_code="NO_PERMISSIONS",
        error_message="Not authorized to send to billing-inbox",
    )


def test_redrive_these_of_a_group_that_needs_a_human_posts_no_approval_and_says_why(
    harness: SlackHarness, world: World
) -> None:
    # Given two events EventBridge was not allowed to deliver (one error group)
    messages = [_no_permissions(world, i) for i in range(2)]
    world.seed("billing-dlq", *messages)
    label, by_attribute = error_label(messages[0], None)
    assert "NO_PERMISSIONS" in label

    # When the report's "Redrive these 2" of that group is clicked
    value = json.dumps({"queue": "billing-dlq", "error": label_digest(label, by_attribute)})
    harness.click(ActionId.REPORT_ERROR_REDRIVE, value, user=REQUESTER, message_ts="1.1")
    harness.settle()

    # Then no approval card asks to approve a move of nothing; the answer says both stay for a
    # human and why
    assert harness.calls("chat.postMessage") == []
    said = answer(harness)
    assert "Nothing to redrive" in said, said
    assert "2 stay for a human" in said and "NO_PERMISSIONS" in said
    # And nothing reached either target; both messages are still in the DLQ
    assert world.bodies("billing-inbox") == [] and world.bodies("audit-inbox") == []
    assert count(harness.sqs, world.urls["billing-dlq"]) == 2


# --- approval means exactly what was approved ---------------------------------------------------


def test_an_approval_after_the_function_dlq_changed_hands_invokes_no_other_function(
    harness: SlackHarness, world: World
) -> None:
    # Given a request to redrive the thumbnailer's two failed events, its card naming it
    world.seed(
        "thumbnailer-dlq", *(lambda_async_dlq_message({"key": f"k{i}.heic"}) for i in range(2))
    )
    request_id, card = ask(harness, "redrive thumbnailer-dlq")
    assert "• lambda thumbnailer (async invoke): 2" in card
    # And before anyone approves, the thumbnailer's DLQ is moved elsewhere and another
    # function, resizer, is given thumbnailer-dlq as its DLQ (a new message arrives too)
    other = harness.sqs.create_queue(QueueName="thumbnailer-dlq-2")["QueueUrl"]
    harness.lambdas.register("thumbnailer", works, dead_letter_arn=queue_arn(harness.sqs, other))
    harness.lambdas.register("resizer", works, dead_letter_arn=world.arns["thumbnailer-dlq"])
    world.seed("thumbnailer-dlq", lambda_async_dlq_message({"key": "late.heic"}))

    # When the request is approved
    approve(harness, request_id)
    harness.settle()

    # Then no function the card did not name was invoked (nor the one it named: its DLQ is no
    # longer this one, so nothing says these events are its), and every message stays
    assert harness.lambdas.calls_to("resizer") == []
    assert harness.lambdas.calls_to("thumbnailer") == []
    assert count(harness.sqs, world.urls["thumbnailer-dlq"]) == 3
    # And the final card says none moved, and why the two counted stay
    final = final_card(harness)
    assert "moved *0*, failed *2*" in final
    assert "2 failed with NotApproved" in final
    assert "goes to lambda resizer now, and the approval named only lambda thumbnailer" in final


def test_an_approval_moves_only_the_pinned_messages_of_a_function_dlq(
    harness: SlackHarness, world: World
) -> None:
    # Given a request counted over two failed events
    world.seed(
        "thumbnailer-dlq", *(lambda_async_dlq_message({"key": f"k{i}.heic"}) for i in range(2))
    )
    request_id, card = ask(harness, "redrive thumbnailer-dlq")
    assert "• lambda thumbnailer (async invoke): 2" in card
    # And three more arrive before the approval
    world.seed(
        "thumbnailer-dlq", *(lambda_async_dlq_message({"key": f"new{i}.heic"}) for i in range(3))
    )

    # When it is approved
    approve(harness, request_id)
    harness.settle()

    # Then exactly the two counted were invoked, the three new ones stay
    delivered = sorted(c.payload["key"] for c in harness.lambdas.calls_to("thumbnailer"))
    assert delivered == ["k0.heic", "k1.heic"]
    assert count(harness.sqs, world.urls["thumbnailer-dlq"]) == 3
    assert ":white_check_mark: Done: moved *2*" in final_card(harness)


def test_an_edit_approved_after_the_function_dlq_changed_hands_invokes_no_other_function(
    harness: SlackHarness, world: World
) -> None:
    # Given an edit of the thumbnailer's failed event asked for, its card naming the function
    world.seed("thumbnailer-dlq", lambda_async_dlq_message({"key": "cat.heic"}))
    player, message_id = edit_world(harness, "thumbnailer-dlq")
    view = player.open_form(message_id, user=REQUESTER)
    player.submit(view, json.dumps({"key": "cat.jpg"}), user=REQUESTER)
    harness.settle()
    assert "lambda thumbnailer (async invoke): 1" in texts(harness.card().body["blocks"])
    # And then resizer is given thumbnailer-dlq as its DLQ in the thumbnailer's place
    harness.lambdas.register("thumbnailer", works)
    harness.lambdas.register("resizer", works, dead_letter_arn=world.arns["thumbnailer-dlq"])

    # When the edit is approved
    approve(harness, harness.request_id())
    harness.settle()

    # Then resizer got nothing, and the message stays, the card saying why
    assert harness.lambdas.calls_to("resizer") == []
    assert harness.lambdas.calls_to("thumbnailer") == []
    assert count(harness.sqs, world.urls["thumbnailer-dlq"]) == 1
    assert "approval named only lambda thumbnailer" in final_card(harness)


# --- double clicks and racing approvers ---------------------------------------------------------


def test_two_approvers_racing_and_double_clicks_deliver_each_event_once(
    harness: SlackHarness, world: World
) -> None:
    # Given a request over three failed events of the thumbnailer
    world.seed(
        "thumbnailer-dlq", *(lambda_async_dlq_message({"key": f"k{i}.heic"}) for i in range(3))
    )
    request_id, _ = ask(harness, "redrive thumbnailer-dlq")
    ts = harness.card_ts()

    # When two approvers click Approve at the same moment, each twice
    clicks = [
        threading.Thread(
            target=harness.click,
            args=(ActionId.APPROVE, request_id),
            kwargs={"user": user, "message_ts": ts},
        )
        for user in (APPROVER, APPROVER_2, APPROVER, APPROVER_2)
    ]
    for click in clicks:
        click.start()
    for click in clicks:
        click.join()
    harness.settle()

    # Then each event was invoked exactly once, and the card says 3 moved
    delivered = sorted(c.payload["key"] for c in harness.lambdas.calls_to("thumbnailer"))
    assert delivered == ["k0.heic", "k1.heic", "k2.heic"]
    assert count(harness.sqs, world.urls["thumbnailer-dlq"]) == 0
    assert ":white_check_mark: Done: moved *3*" in final_card(harness)
    outcomes = [e for e in harness.state.events(request_id) if e["kind"] == "outcome"]
    assert len(outcomes) == 1, outcomes
