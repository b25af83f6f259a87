"""The Slack app on DLQs of every kind (issue 13), end to end: signed requests into the endpoint,
the worker on the local Lambda server, Slack's Web API on the local Slack server, SQS, SNS and
EventBridge on moto. ``/dlq-redrive list`` and peek show each DLQ's kind and sources (escaped);
the approval card says exactly where the copies go and that they do not go to the topic or the
bus; an approved redrive reaches only the target that failed the messages, and the progress and
final cards name it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.slack.ids import ActionId
from infra.local.scene import count, drain
from tests.integration.kinds_world import World
from tests.integration.slack.slack_harness import APPROVER, SlackHarness, seed_orders
from tests.unit.kind_messages import (
    eventbridge_dlq_message,
    lambda_async_dlq_message,
    sns_envelope,
)


@pytest.fixture
def world(harness: SlackHarness) -> World:
    return World(harness.sqs, harness.lambdas)


def texts(blocks: list[dict[str, Any]]) -> str:
    """Every mrkdwn text of ``blocks`` (sections, their fields, contexts), one per line."""
    out: list[str] = []
    for block in blocks:
        if "text" in block and isinstance(block["text"], dict):
            out.append(block["text"]["text"])
        out += [field["text"] for field in block.get("fields", [])]
        out += [e.get("text", "") for e in block.get("elements", []) if e.get("type") == "mrkdwn"]
    return "\n".join(out)


def answer(harness: SlackHarness) -> str:
    return texts(harness.calls("response_url")[-1].body["blocks"])


def approve(harness: SlackHarness, text: str) -> str:
    """Ask for ``text`` (a redrive), approve its card; the card's text before the decision."""
    request_id = harness.request_card(text)
    card = texts(harness.card().body["blocks"])
    harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=harness.card_ts())
    harness.settle()
    return card


def final_card(harness: SlackHarness) -> str:
    return texts(harness.calls("chat.update")[-1].body["blocks"])


def test_list_shows_each_kind_and_its_sources_escaped(harness: SlackHarness, world: World) -> None:
    # Given a plain SQS DLQ beside subscription and rule-target DLQs, and an HTTPS subscription
    # whose endpoint holds Slack markup
    seed_orders(harness.sqs, 1)
    world.queues("hostile-dlq")
    world.subscribe("https", "https://x.example/<!channel>\u202e", "hostile-dlq")

    # When someone lists the DLQs
    harness.command("list")
    harness.settle()

    # Then each DLQ says its kind, and its sources precisely
    shown = answer(harness)
    assert "`orders-dlq` — *1* visible, 0 in flight · kind `sqs` ← orders" in shown
    assert "`orders-sub-dlq` — *0* visible, 0 in flight · kind `sns`" in shown
    assert f"← sns subscription {world.subscription} → sqs orders-inbox" in shown
    assert "← events rule default/invoice-due target billing → sqs billing-inbox" in shown
    assert "· kind `events`" in shown
    # And a hostile endpoint is inert: no live mention, no invisible reordering
    assert "<!channel>" not in json.dumps(harness.calls("response_url")[-1].body)
    assert "&lt;!channel&gt;\\u202e" in shown


def test_peek_shows_the_kind_and_the_sources(harness: SlackHarness, world: World) -> None:
    world.seed("orders-sub-dlq", sns_envelope('{"order": 1}', topic_arn=world.topic))

    harness.command("peek orders-sub-dlq 1")
    harness.settle()

    shown = answer(harness)
    assert "showing 1 of ~1 visible" in shown
    assert "kind `sns`" in shown
    assert f"← sns subscription {world.subscription} → sqs orders-inbox" in shown


def test_peek_says_where_a_redrive_would_send_each_message_or_why_not(
    harness: SlackHarness, world: World
) -> None:
    # Given a rule target's DLQ holding an event the target failed, one it cannot accept as
    # configured, and one whose TARGET_ARN (with Slack markup) names no target of the rule
    world.billing_failed("ERROR_FROM_TARGET", "NO_PERMISSIONS")
    world.seed(
        "billing-dlq",
        eventbridge_dlq_message(
            rule_arn=world.rule,
            target_arn="arn:aws:sqs:us-east-1:123456789012:<!channel>",
            error_code="ERROR_FROM_TARGET",
        ),
    )

    # When someone peeks at it
    harness.command("peek billing-dlq 3")
    harness.settle()

    # Then each message says where a redrive sends it, or why it stays, and no "source ?"
    shown = answer(harness)
    assert "showing 3 of ~3 visible" in shown
    assert "source `?`" not in shown
    assert shown.count("goes to queue billing-inbox (the rule's target, not the bus)") == 1
    assert "stays in the DLQ: needs a human: EventBridge ERROR_CODE NO_PERMISSIONS" in shown
    assert "stays in the DLQ: UnknownTarget: the message names EventBridge rule" in shown
    # And the name the message carries is inert
    assert "<!channel>" not in json.dumps(harness.calls("response_url")[-1].body)
    assert "&lt;!channel&gt;" in shown


def test_a_subscription_dlq_redrive_goes_through_approval_to_the_subscription_queue_only(
    harness: SlackHarness, world: World
) -> None:
    # Given two envelopes SNS could not deliver to orders-inbox
    world.seed(
        "orders-sub-dlq",
        *(sns_envelope(json.dumps({"order": i}), topic_arn=world.topic) for i in range(2)),
    )

    # When a redrive is asked for and approved
    card = approve(harness, "redrive orders-sub-dlq")

    # Then the card said exactly where the copies go, and that the topic gets nothing
    assert "*Goes to*" in card
    assert "queue orders-inbox (the subscription's endpoint, not the topic): 2" in card
    assert "nothing is published to the topic again" in card
    dialog = harness.card().body["blocks"][-1]["elements"][0]["confirm"]["text"]["text"]
    assert "only the targets that failed them" in dialog and "never the topic or bus" in dialog
    # And only the subscription's queue got them, the other subscriber nothing
    assert sorted(
        json.loads(m["Body"])["Message"] for m in drain(harness.sqs, world.urls["orders-inbox"])
    ) == [
        '{"order": 0}',
        '{"order": 1}',
    ]
    assert world.bodies("analytics-inbox") == []
    assert count(harness.sqs, world.urls["orders-sub-dlq"]) == 0
    # And every card after the decision still says where they went
    final = final_card(harness)
    assert ":white_check_mark: Done: moved *2*" in final
    assert "queue orders-inbox (the subscription's endpoint, not the topic): 2" in final
    assert "→ orders-inbox: 2" in final
    assert all(
        "*Goes to*" in texts(update.body["blocks"]) for update in harness.calls("chat.update")
    )


def test_a_function_subscription_dlq_redrive_invokes_its_function_after_approval(
    harness: SlackHarness, world: World
) -> None:
    # Given an envelope SNS could not deliver to the notifier function
    world.seed("notifier-dlq", sns_envelope('{"order": 7}', topic_arn=world.topic))

    # When a redrive is asked for and approved
    card = approve(harness, "redrive notifier-dlq")

    # Then the card named the function's async invoke
    assert "lambda notifier (async invoke; the SNS event to the subscription's endpoint" in card
    # And the function got the SNS event, once, asynchronously
    (call,) = harness.lambdas.calls_to("notifier")
    assert call.invocation_type == "Event"
    (record,) = call.payload["Records"]
    assert record["EventSubscriptionArn"] == world.notifier
    assert record["Sns"]["Message"] == '{"order": 7}'
    assert count(harness.sqs, world.urls["notifier-dlq"]) == 0
    # And the final card names it and says its counter is kept in the ledger
    final = final_card(harness)
    assert "→ lambda notifier (async invoke): 1" in final
    assert "state table's ledger counts the redrives of the 1 sent to functions" in final


def test_a_rule_target_dlq_card_counts_what_needs_a_human_with_the_reason(
    harness: SlackHarness, world: World
) -> None:
    # Given a throttled event and one EventBridge was not allowed to deliver
    world.billing_failed("THROTTLING", "NO_PERMISSIONS")

    # When a redrive is asked for and approved
    card = approve(harness, "redrive billing-dlq")

    # Then the card said one goes to the rule's target, one stays for a human and why
    assert "queue billing-inbox (the rule's target, not the bus): 1" in card
    assert "nothing is put on the bus again" in card
    assert "1 stay for a human:" in card and "NO_PERMISSIONS" in card
    # And the target got the one, the other target nothing; the other stays in the DLQ
    assert [json.loads(b)["detail"] for b in world.bodies("billing-inbox")] == [{"invoice": 1}]
    assert world.bodies("audit-inbox") == []
    assert count(harness.sqs, world.urls["billing-dlq"]) == 1
    final = final_card(harness)
    assert "1 stay in the DLQ for a human:" in final and "NO_PERMISSIONS" in final


def test_a_function_async_dlq_redrive_goes_through_approval_to_its_function(
    harness: SlackHarness, world: World
) -> None:
    # Given an event the thumbnailer failed asynchronously
    world.seed("thumbnailer-dlq", lambda_async_dlq_message({"key": "cat.heic"}))

    # When a redrive is asked for and approved
    card = approve(harness, "redrive thumbnailer-dlq")

    # Then the card said the function's async invoke, and the function got the payload only
    assert "• lambda thumbnailer (async invoke): 1" in card
    (call,) = harness.lambdas.calls_to("thumbnailer")
    assert call.payload == {"key": "cat.heic"} and call.invocation_type == "Event"
    assert harness.lambdas.calls_to("invoice-pdf") == []
    assert harness.lambdas.calls_to("notifier") == []
    assert count(harness.sqs, world.urls["thumbnailer-dlq"]) == 0
    final = final_card(harness)
    assert ":white_check_mark: Done: moved *1*" in final
    assert "→ lambda thumbnailer (async invoke): 1" in final
