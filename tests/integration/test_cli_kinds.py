"""The dlq-redrive CLI on DLQs of every kind (issue 13), against moto's server (SQS, SNS,
EventBridge) and the local Lambda endpoint (functions, their DLQ settings, every invoke): list
shows each kind next to plain SQS DLQs; dry run and redrive of each reach only the target that
failed the messages; refusals say why and touch nothing.

moto dead-letters none of these services' messages, so each DLQ is seeded with messages shaped as
AWS documents them (tests/unit/kind_messages.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from infra.local.lambda_server import LambdaServer, function_arn
from infra.local.scene import count, drain
from tests.integration.cli_helpers import run_cli
from tests.integration.kinds_world import World
from tests.unit.kind_messages import (
    eventbridge_dlq_message,
    lambda_async_dlq_message,
    lambda_on_failure_record,
    sns_envelope,
)

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from infra.local.moto_server import LocalAws


@pytest.fixture
def world(aws: LocalAws, sqs: SQSClient, lambdas: LambdaServer) -> World:
    return World(sqs, lambdas)


@pytest.fixture
def env(engine_env: dict[str, str], lambdas: LambdaServer) -> dict[str, str]:
    return {**engine_env, "AWS_ENDPOINT_URL_LAMBDA": lambdas.endpoint_url}


# --- list -------------------------------------------------------------------------------------


def test_list_shows_each_kind_next_to_plain_sqs_dlqs(world: World, env: dict[str, str]) -> None:
    # Given a plain SQS DLQ, two subscription DLQs and a rule target's DLQ
    # When the DLQs are listed
    result = run_cli(["--json", "list"], env)

    # Then each is there with its kind, and its source named precisely
    assert result.code == 0, result.err
    dlqs = {d["name"]: d for d in result.json["dlqs"]}
    assert {name: d["kind"] for name, d in dlqs.items()} == {
        "payments-dlq": "sqs",
        "orders-sub-dlq": "sns",
        "notifier-dlq": "sns",
        "billing-dlq": "events",
        "thumbnailer-dlq": "lambda",
        "invoice-pdf-failures": "lambda",
    }
    assert dlqs["payments-dlq"]["sources"] == ["payments"]
    (subscription,) = dlqs["orders-sub-dlq"]["feeders"]
    assert subscription["name"] == world.subscription
    assert subscription["description"] == (
        f"sns subscription {world.subscription} → sqs orders-inbox"
    )
    (target,) = dlqs["billing-dlq"]["feeders"]
    assert (
        target["description"]
        == "events rule default/invoice-due target billing → sqs billing-inbox"
    )
    (async_dlq,) = dlqs["thumbnailer-dlq"]["feeders"]
    assert async_dlq["description"] == "lambda thumbnailer (async DLQ)"
    (on_failure,) = dlqs["invoice-pdf-failures"]["feeders"]
    assert on_failure["description"] == "lambda invoice-pdf (on-failure destination)"
    assert result.json["unread"] == []  # every kind was read

    # And the table has a KIND column, keeps to 100 columns and names the sources
    table = run_cli(["list", "--no-expiry"], env)
    assert table.code == 0, table.err
    lines = table.out.splitlines()
    assert lines[0].split()[:2] == ["DLQ", "KIND"]
    assert max(len(line) for line in lines) <= 100
    squeezed = table.out.replace(" ", "").replace("\n", "")
    assert world.subscription.replace(" ", "") in squeezed
    assert "eventsruledefault/invoice-duetargetbilling→sqsbilling-inbox" in squeezed
    assert any(line.startswith("billing-dlq") and " events " in line for line in lines)


def test_peek_says_the_kind_and_what_feeds_the_dlq(world: World, env: dict[str, str]) -> None:
    world.seed("orders-sub-dlq", sns_envelope('{"order": 1}', topic_arn=world.topic))

    text = run_cli(["peek", "orders-sub-dlq"], env)
    data = run_cli(["--json", "peek", "orders-sub-dlq"], env)

    assert text.code == data.code == 0, text.err + data.err
    subscription = f"sns subscription {world.subscription} → sqs orders-inbox"
    assert f"kind sns, fed by {subscription}" in text.out
    assert data.json["kind"] == "sns" and data.json["sources"] == [subscription]
    assert len(data.json["messages"]) == 1


def test_peek_says_where_a_redrive_would_send_each_message_or_why_not(
    world: World, env: dict[str, str]
) -> None:
    # Given a rule target's DLQ holding an event the target failed, one it cannot accept as
    # configured, and one whose TARGET_ARN (with a terminal escape) names no target of the rule;
    # and a function's async DLQ and a subscription's DLQ, one message each
    world.billing_failed("ERROR_FROM_TARGET", "NO_PERMISSIONS")
    world.seed(
        "billing-dlq",
        eventbridge_dlq_message(
            rule_arn=world.rule,
            target_arn="arn:aws:sqs:us-east-1:123456789012:evil\x1b[2J",
            error_code="ERROR_FROM_TARGET",
        ),
    )
    world.seed("thumbnailer-dlq", lambda_async_dlq_message({"image": "a.png"}))
    world.seed("orders-sub-dlq", sns_envelope('{"order": 1}', topic_arn=world.topic))

    # When each DLQ is peeked
    billing = run_cli(["peek", "billing-dlq", "-n", "3"], env)
    billing_json = run_cli(["--json", "peek", "billing-dlq", "-n", "3"], env)
    thumbnailer = run_cli(["peek", "thumbnailer-dlq"], env)
    orders = run_cli(["peek", "orders-sub-dlq"], env)

    # Then no message says "source ?": each says where the engine's routing sends it
    for result in (billing, billing_json, thumbnailer, orders):
        assert result.code == 0, result.err
        assert "source ?" not in result.out
    assert "goes to lambda thumbnailer (async invoke)" in thumbnailer.out
    subscription = "goes to queue orders-inbox (the subscription's endpoint, not the topic)"
    assert subscription in orders.out
    # And in the rule target's DLQ: the target for the one it can take, why not for the others
    assert "goes to queue billing-inbox" in billing.out
    assert billing.out.count("stays in the DLQ") == 2
    assert "why: needs a human: EventBridge ERROR_CODE NO_PERMISSIONS" in billing.out
    assert "why: UnknownTarget: the message names EventBridge rule" in billing.out
    # And the name a message carries is escaped on the terminal
    assert "\x1b" not in billing.out and "evil\\x1b[2J" in billing.out
    messages = billing_json.json["messages"]
    assert len(messages) == 3
    goes = [m["goes_to"] for m in messages if m["goes_to"] is not None]
    assert goes == ["queue billing-inbox (the rule's target, not the bus)"]
    stays = sorted(m["stays"] for m in messages if m["goes_to"] is None)
    assert stays[0].startswith("UnknownTarget: the message names EventBridge rule")
    assert "evil\x1b[2J" in stays[0]  # JSON keeps the exact text (ASCII-escaped)
    assert stays[1].startswith("needs a human: EventBridge ERROR_CODE NO_PERMISSIONS")


# --- dry run and redrive, per kind --------------------------------------------------------------


def test_an_sns_subscription_dlq_goes_back_to_the_subscription_queue_only(
    world: World, env: dict[str, str], sqs: SQSClient
) -> None:
    # Given two envelopes SNS could not deliver to orders-inbox
    world.seed(
        "orders-sub-dlq",
        *(sns_envelope(json.dumps({"order": i}), topic_arn=world.topic) for i in range(2)),
    )

    # When a dry run counts them
    dry = run_cli(["redrive", "orders-sub-dlq", "--dry-run"], env)

    # Then it says where they would go: the subscription's queue, not the topic
    assert dry.code == 0, dry.err
    assert "→ queue orders-inbox (the subscription's endpoint, not the topic): 2" in dry.out, (
        dry.out
    )
    assert "nothing is published to the topic again" in dry.out
    assert count(sqs, world.urls["orders-sub-dlq"]) == 2  # a dry run moves nothing

    # When they are redriven
    moved = run_cli(["redrive", "orders-sub-dlq"], env)

    # Then the subscription's queue got both envelopes as stored, the other subscriber nothing
    assert moved.code == 0, moved.out + moved.err
    assert "→ queue orders-inbox (the subscription's endpoint, not the topic): 2" in moved.out
    received = world.bodies("orders-inbox")
    assert sorted(json.loads(b)["Message"] for b in received) == ['{"order": 0}', '{"order": 1}']
    assert world.bodies("analytics-inbox") == []
    assert count(sqs, world.urls["orders-sub-dlq"]) == 0


def test_an_sns_lambda_subscription_dlq_invokes_its_function_with_the_sns_event(
    world: World, env: dict[str, str], lambdas: LambdaServer
) -> None:
    # Given an envelope SNS could not deliver to the notifier function
    world.seed("notifier-dlq", sns_envelope('{"order": 7}', topic_arn=world.topic))

    # When it is redriven
    result = run_cli(["redrive", "notifier-dlq"], env)

    # Then the function was invoked asynchronously with the SNS event, the queues got nothing
    assert result.code == 0, result.out + result.err
    assert "→ lambda notifier (async invoke; the SNS event to the subscription's endpoint" in (
        result.out
    )
    assert "lambda payloads carry no counter" in result.out
    lambdas.wait_idle()
    (call,) = lambdas.calls_to("notifier")
    assert call.invocation_type == "Event"
    (record,) = call.payload["Records"]
    assert record["EventSource"] == "aws:sns"
    assert record["EventSubscriptionArn"] == world.notifier
    assert record["Sns"]["Message"] == '{"order": 7}'
    assert world.bodies("orders-inbox") == [] and world.bodies("analytics-inbox") == []


def test_an_eventbridge_target_dlq_goes_to_its_target_and_holds_what_needs_a_human(
    world: World, env: dict[str, str], sqs: SQSClient
) -> None:
    # Given an event the billing target throttled and one it was not allowed to receive
    world.billing_failed("THROTTLING", "NO_PERMISSIONS")

    # When a dry run counts them
    dry = run_cli(["redrive", "billing-dlq", "--dry-run"], env)

    # Then one would go to the rule's target; one needs a human, the EventBridge reason said
    assert dry.code == 0, dry.err
    assert "→ queue billing-inbox (the rule's target, not the bus): 1" in dry.out, dry.out
    assert "needs a human (target)     1" in dry.out
    assert "NO_PERMISSIONS" in dry.out
    assert "nothing is put on the bus again" in dry.out

    # When redriven
    moved = run_cli(["redrive", "billing-dlq"], env)

    # Then only the billing target got the throttled event, without EventBridge's attributes
    assert moved.code == 0, moved.out + moved.err
    (delivered,) = drain(sqs, world.urls["billing-inbox"])
    assert json.loads(delivered["Body"])["detail"] == {"invoice": 1}
    assert "ERROR_CODE" not in delivered.get("MessageAttributes", {})
    assert world.bodies("audit-inbox") == []
    # And the event that needs a human is still in the DLQ
    (kept,) = drain(sqs, world.urls["billing-dlq"])
    assert kept["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "NO_PERMISSIONS"


def test_a_function_async_dlq_goes_back_to_its_function_only(
    world: World, env: dict[str, str], sqs: SQSClient, lambdas: LambdaServer
) -> None:
    # Given two events the thumbnailer failed asynchronously
    world.seed(
        "thumbnailer-dlq",
        *(lambda_async_dlq_message({"key": key}) for key in ("cat.heic", "dog.heic")),
    )

    # When a dry run counts them, then they are redriven
    dry = run_cli(["redrive", "thumbnailer-dlq", "--dry-run"], env)
    moved = run_cli(["redrive", "thumbnailer-dlq"], env)

    # Then both said the function's async invoke, and where the counter cannot travel
    assert dry.code == 0 and moved.code == 0, moved.out + moved.err
    assert "→ lambda thumbnailer (async invoke): 2" in dry.out
    assert "the 2 that would go to functions" in dry.out
    assert "→ lambda thumbnailer (async invoke): 2" in moved.out
    assert "the CLI cannot count the redrives of the 2 sent to functions" in moved.out
    # And the function got each stored payload asynchronously; no other function anything
    lambdas.wait_idle()
    calls = lambdas.calls_to("thumbnailer")
    assert sorted(c.payload["key"] for c in calls) == ["cat.heic", "dog.heic"]
    assert {c.invocation_type for c in calls} == {"Event"}
    assert lambdas.calls_to("invoice-pdf") == [] and lambdas.calls_to("notifier") == []
    assert count(sqs, world.urls["thumbnailer-dlq"]) == 0


def test_an_on_failure_record_goes_back_as_its_request_payload(
    world: World, env: dict[str, str], lambdas: LambdaServer
) -> None:
    # Given the record Lambda sent invoice-pdf's on-failure destination
    world.seed(
        "invoice-pdf-failures",
        lambda_on_failure_record(
            {"invoice": "inv-80"}, function_arn=function_arn("invoice-pdf") + ":$LATEST"
        ),
    )

    # When it is redriven
    result = run_cli(["redrive", "invoice-pdf-failures"], env)

    # Then the function was invoked with the recorded request payload, not the record
    assert result.code == 0, result.out + result.err
    assert "→ lambda invoice-pdf (async invoke; the on-failure record's requestPayload): 1" in (
        result.out
    )
    lambdas.wait_idle()
    (call,) = lambdas.calls_to("invoice-pdf")
    assert call.payload == {"invoice": "inv-80"} and call.invocation_type == "Event"
    assert lambdas.calls_to("thumbnailer") == []


# --- refusals ---------------------------------------------------------------------------------


def test_a_wrong_queue_name_is_refused_naming_the_dlqs_of_every_kind(
    world: World, env: dict[str, str]
) -> None:
    result = run_cli(["redrive", "orders-sub"], env)

    assert result.code == 2
    assert "unknown DLQ 'orders-sub'" in result.err or "not the dead-letter queue" in result.err
    assert "orders-sub-dlq" in result.err and "billing-dlq" in result.err


def test_a_canary_on_a_subscription_dlq_is_refused_before_anything_moves(
    world: World, env: dict[str, str], sqs: SQSClient
) -> None:
    world.seed("orders-sub-dlq", sns_envelope('{"order": 1}', topic_arn=world.topic))

    result = run_cli(["redrive", "orders-sub-dlq", "--canary", "1"], env)

    assert result.code == 2, result.out + result.err
    assert "--canary 0" in result.err or "canary" in result.err
    assert count(sqs, world.urls["orders-sub-dlq"]) == 1
    assert world.bodies("orders-inbox") == []


def test_an_http_subscription_dlq_is_refused_with_why_and_kept(
    world: World, env: dict[str, str], sqs: SQSClient
) -> None:
    # Given a DLQ of an HTTPS subscription (SNS alone signs and delivers its envelope)
    world.queues("webhook-dlq")
    world.subscribe("https", "https://hooks.example.com/orders", "webhook-dlq")
    world.seed("webhook-dlq", sns_envelope('{"order": 9}', topic_arn=world.topic))

    # When it is redriven
    result = run_cli(["redrive", "webhook-dlq"], env)

    # Then it is refused before anything is received, saying why, and the message is kept
    assert result.code == 2, result.out + result.err
    assert "no message of webhook-dlq can go back where it came from" in result.err
    assert "https://hooks.example.com/orders" in result.err and "by hand" in result.err
    assert count(sqs, world.urls["webhook-dlq"]) == 1
    assert world.bodies("orders-inbox") == [] and world.bodies("analytics-inbox") == []


def test_hostile_endpoint_names_are_escaped_in_the_table(
    world: World, env: dict[str, str], sqs: SQSClient
) -> None:
    # Given an HTTPS subscription whose endpoint holds an escape sequence and Slack markup
    world.queues("hostile-dlq")
    # (C1 CSI: XML, and so SNS's answer, cannot carry ESC itself)
    world.subscribe("https", "https://x.example/\u009b2J<!channel>\u202e", "hostile-dlq")

    # When listed
    result = run_cli(["list", "--no-expiry"], env)

    # Then the terminal gets the escapes as text, never the characters
    assert result.code == 0, result.err
    assert "\u009b" not in result.out and "\u202e" not in result.out
    assert "\\x9b2J<!channel>\\u202e" in result.out.replace("\n", "").replace(" ", "")


# --- edit -------------------------------------------------------------------------------------


def message_id_in(sqs: SQSClient, url: str) -> str:
    """The id of the one message in ``url`` (made visible again at once)."""
    (message,) = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"]
    return str(message["MessageId"])


def test_an_edit_goes_to_the_function_that_failed_the_message(
    world: World, env: dict[str, str], sqs: SQSClient, lambdas: LambdaServer, tmp_path: Path
) -> None:
    # Given an event the thumbnailer failed, and a corrected body
    world.seed("thumbnailer-dlq", lambda_async_dlq_message({"key": "cat.HEIC"}))
    target = message_id_in(sqs, world.urls["thumbnailer-dlq"])
    fixed = tmp_path / "fixed.json"
    fixed.write_text('{"key": "cat.heic"}')

    # When the edit is dry-run, then sent
    dry = run_cli(["edit", "thumbnailer-dlq", target, "--body-file", str(fixed), "--dry-run"], env)
    sent = run_cli(["edit", "thumbnailer-dlq", target, "--body-file", str(fixed)], env)

    # Then the dry run named the function's async invoke, and the function got the new body
    assert dry.code == 0, dry.err
    assert "would send it with this body to lambda thumbnailer (async invoke)" in dry.out
    assert "carries no attributes and no redrive count" in dry.out
    assert sent.code == 0, sent.out + sent.err
    lambdas.wait_idle()
    (call,) = lambdas.calls_to("thumbnailer")
    assert call.payload == {"key": "cat.heic"}
    assert count(sqs, world.urls["thumbnailer-dlq"]) == 0


def test_an_edit_a_function_cannot_take_is_refused_before_anything_is_sent(
    world: World, env: dict[str, str], sqs: SQSClient, lambdas: LambdaServer, tmp_path: Path
) -> None:
    world.seed("thumbnailer-dlq", lambda_async_dlq_message({"key": "cat.HEIC"}))
    target = message_id_in(sqs, world.urls["thumbnailer-dlq"])
    not_json = tmp_path / "note.txt"
    not_json.write_text("not an event")

    result = run_cli(
        ["edit", "thumbnailer-dlq", target, "--body-file", str(not_json), "--allow-non-json"], env
    )

    assert result.code == 2, result.out + result.err
    assert "cannot go to thumbnailer" in result.err and "JSON" in result.err
    assert lambdas.calls_to("thumbnailer") == []
    assert count(sqs, world.urls["thumbnailer-dlq"]) == 1


def test_an_edit_of_a_subscription_dlq_message_goes_to_the_subscription_queue(
    world: World, env: dict[str, str], sqs: SQSClient, tmp_path: Path
) -> None:
    world.seed("orders-sub-dlq", sns_envelope('{"order": 1}', topic_arn=world.topic))
    target = message_id_in(sqs, world.urls["orders-sub-dlq"])
    fixed = tmp_path / "fixed.json"
    fixed.write_text('{"Type": "Notification", "Message": "{\\"order\\": 2}"}')

    dry = run_cli(["edit", "orders-sub-dlq", target, "--body-file", str(fixed), "--dry-run"], env)
    sent = run_cli(["edit", "orders-sub-dlq", target, "--body-file", str(fixed)], env)

    assert "to queue orders-inbox (the subscription's endpoint, not the topic)" in dry.out
    assert sent.code == 0, sent.out + sent.err
    assert world.bodies("orders-inbox") == [fixed.read_text()]
    assert world.bodies("analytics-inbox") == []


def test_to_moves_any_kind_to_the_queue_named_and_says_so(
    world: World, env: dict[str, str], sqs: SQSClient, lambdas: LambdaServer
) -> None:
    # Given an event the thumbnailer failed, and a parking queue a human chose
    world.seed("thumbnailer-dlq", lambda_async_dlq_message({"key": "cat.heic"}))
    parking = sqs.create_queue(QueueName="parking")["QueueUrl"]

    # When it is redriven --to that queue
    result = run_cli(["redrive", "thumbnailer-dlq", "--to", "parking"], env)

    # Then it went there, as the summary says, and the function got nothing
    assert result.code == 0, result.out + result.err
    assert "→ queue parking (--to: every message selected, whatever fed it): 1" in result.out
    assert [json.loads(m["Body"]) for m in drain(sqs, parking)] == [{"key": "cat.heic"}]
    lambdas.wait_idle()
    assert lambdas.calls_to("thumbnailer") == []
