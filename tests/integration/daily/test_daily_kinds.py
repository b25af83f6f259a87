"""The 06:00 report and auto-redrive of DLQs of every kind (issue 13), on moto (SQS, SNS,
EventBridge) and the local Lambda endpoint (ListFunctions with DeadLetterConfig, async invokes),
posting to the local Slack server.

moto never dead-letters for SNS, EventBridge or Lambda (and does not return a function's
DeadLetterConfig: docs/dlq-kinds.md), so the DLQs are filled with messages shaped as AWS
documents them (``tests.unit.kind_messages``), sent straight into each DLQ.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any

import boto3
import pytest
from slack_sdk.models.blocks import Block

import handlers.daily
from bot.error_groups import error_label
from bot.slack.mrkdwn import code
from infra.local.kinds_scene import KindsBuilder
from infra.local.lambda_server import LambdaServer, function_arn
from infra.local.scene import count, create_pair, drain, put_in_dlq
from tests.integration.daily.daily_support import FUNCTION_NAME, Daily, blocks_text
from tests.unit.kind_messages import (
    eventbridge_dlq_message,
    eventbridge_event,
    lambda_async_dlq_message,
    lambda_on_failure_record,
    sns_envelope,
)

NO_CANARY = ":warning: no canary: "


def _tomorrow_six_am() -> str:
    """06:00 UTC tomorrow: its "yesterday" is today, when the messages are sent."""
    today = datetime.now(UTC).date()
    return (
        datetime(today.year, today.month, today.day, 6, tzinfo=UTC) + timedelta(days=1)
    ).isoformat()


def sns_kind(scene: KindsBuilder, prefix: str = "alerts") -> str:
    """Topic ``prefix`` with two queue subscriptions: ``<prefix>-worker`` dead-letters into
    ``<prefix>-dlq``, ``<prefix>-audit`` has no DLQ. The subscription's ARN."""
    topic = scene.create_topic(prefix)
    scene.queues(f"{prefix}-dlq", f"{prefix}-worker", f"{prefix}-audit")
    worker = scene.arns[f"{prefix}-worker"]
    subscription = scene.subscribe_to(topic, "sqs", worker, f"{prefix}-dlq")
    scene.subscribe_to(topic, "sqs", scene.arns[f"{prefix}-audit"], None)
    return subscription


def events_kind(scene: KindsBuilder, prefix: str = "orders") -> str:
    """Rule ``<prefix>-rule`` on the default bus with two queue targets: ``worker``
    (``<prefix>-events``) dead-letters into ``<prefix>-events-dlq``, ``audit`` has no DLQ. The
    rule's ARN."""
    scene.queues(f"{prefix}-events-dlq", f"{prefix}-events", f"{prefix}-events-audit")
    return scene.put_rule(
        f"{prefix}-rule",
        "com.example.orders",
        [
            scene.target("worker", scene.arns[f"{prefix}-events"], f"{prefix}-events-dlq"),
            scene.target("audit", scene.arns[f"{prefix}-events-audit"]),
        ],
    )


def lambda_kinds(scene: KindsBuilder) -> None:
    """On the local Lambda endpoint: ``resize`` has an async DLQ, ``notify`` an on-failure
    destination queue, ``other`` neither (it must never be invoked)."""
    scene.queues("resize-dlq", "notify-dlq")
    scene.function("resize", dead_letter="resize-dlq")
    scene.function("notify", on_failure="notify-dlq")
    scene.function("other")


def _sections(blocks: list[dict[str, Any]]) -> dict[str, str]:
    """Each DLQ's section text by the DLQ's name (its first line starts ``*<name>*``)."""
    found: dict[str, str] = {}
    for block in blocks:
        if str(block.get("block_id", "")).startswith("daily.dlq."):
            text = block["text"]["text"]
            found[text.split("*", 2)[1]] = text
    return found


def _validated(daily: Daily) -> list[dict[str, Any]]:
    """Every block of every post, checked by slack_sdk's models (the local Slack server checked
    the limits as it took them); the report's blocks."""
    for call in daily.posts():
        for block in call.body["blocks"]:
            Block.parse(block).validate_json()  # type: ignore[union-attr]
    blocks: list[dict[str, Any]] = daily.reports()[-1].body["blocks"]
    return blocks


def test_every_kind_is_reported_and_auto_redriven_to_its_own_target_only(
    daily: Daily, sqs: Any, lambdas: LambdaServer
) -> None:
    # Given a plain SQS DLQ next to an SNS subscription's, an EventBridge target's, a function's
    # async DLQ and an on-failure destination, each holding what AWS would have left there
    scene = KindsBuilder(sqs, lambdas)
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, ["o1"])
    subscription = sns_kind(scene)
    rule = events_kind(scene)
    lambda_kinds(scene)
    topic = subscription.rsplit(":", 1)[0]
    scene.seed("alerts-dlq", sns_envelope('{"alert":"disk full"}', topic_arn=topic))
    worker_arn = scene.arns["orders-events"]
    retryable = eventbridge_dlq_message(
        eventbridge_event({"orderId": "o-7"}), rule_arn=rule, target_arn=worker_arn
    )
    denied = eventbridge_dlq_message(
        eventbridge_event({"orderId": "o-8"}),
        rule_arn=rule,
        target_arn=worker_arn,
        error_code="NO_PERMISSIONS",
        error_message="Not authorized to send to the queue",
    )
    scene.seed("orders-events-dlq", retryable, denied)
    scene.seed("resize-dlq", lambda_async_dlq_message({"image": "cat.png"}))
    scene.seed(
        "notify-dlq",
        lambda_on_failure_record({"user": "u-1"}, function_arn=function_arn("notify") + ":$LATEST"),
    )
    daily.configure(AUTO_REDRIVE="*")

    # When tomorrow's 06:00 run reports and auto-redrives every DLQ
    outcome = daily.run(_tomorrow_six_am())
    lambdas.wait_idle(30)
    lambdas.raise_errors()

    # Then each message went back to exactly the target that failed it, and nowhere else
    assert [m["Body"] for m in drain(sqs, orders.source_url)] == ["o1"]
    assert [json.loads(b)["Message"] for b in scene.bodies("alerts-worker")] == [
        '{"alert":"disk full"}'
    ]
    assert scene.bodies("alerts-audit") == []
    assert [json.loads(b)["detail"]["orderId"] for b in scene.bodies("orders-events")] == ["o-7"]
    assert scene.bodies("orders-events-audit") == []
    resize, notify = lambdas.calls_to("resize"), lambdas.calls_to("notify")
    assert [(c.invocation_type, c.payload) for c in resize] == [("Event", {"image": "cat.png"})]
    assert [(c.invocation_type, c.payload) for c in notify] == [("Event", {"user": "u-1"})]
    assert lambdas.calls_to("other") == []
    # And the EventBridge message no retry delivers stayed in its DLQ, for a human
    left = scene.bodies("orders-events-dlq")
    assert [json.loads(b)["detail"]["orderId"] for b in left] == ["o-8"]
    assert outcome["moved"] == 5

    # And the report says each DLQ's kind and names what feeds it, precisely
    blocks = _validated(daily)
    sections = _sections(blocks)
    assert sections["orders-dlq"].startswith("*orders-dlq* (sqs) → orders\n")
    assert sections["alerts-dlq"].startswith(
        f"*alerts-dlq* (sns)\nFed by: sns subscription {subscription} → sqs alerts-worker\n"
    )
    assert sections["orders-events-dlq"].startswith(
        "*orders-events-dlq* (events)\n"
        "Fed by: events rule default/orders-rule target worker → sqs orders-events\n"
    )
    assert sections["resize-dlq"].startswith(
        "*resize-dlq* (lambda)\nFed by: lambda resize (async DLQ)\n"
    )
    assert sections["notify-dlq"].startswith(
        "*notify-dlq* (lambda)\nFed by: lambda notify (on-failure destination)\n"
    )
    # And each auto-redrive says where its messages went: the failed target, not the topic/bus
    assert "moved 1 back (to lambda resize (async invoke) ×1)" in sections["resize-dlq"]
    assert (
        "moved 1 back (to lambda notify (async invoke; the on-failure record's requestPayload) ×1)"
        in sections["notify-dlq"]
    )
    assert (
        "moved 1 back (to queue alerts-worker (the subscription's endpoint, not the topic) ×1)"
        in sections["alerts-dlq"]
    )
    # And the message held for a human is counted apart from poison, with EventBridge's reason
    events_text = sections["orders-events-dlq"]
    assert (
        "moved 1 back (to queue orders-events (the rule's target, not the bus) ×1), "
        "1 not redriven, for a human (no retry delivers them)" in events_text
    )
    assert ":raising_hand: Not redriven, for a human: EventBridge ERROR_CODE NO_PERMISSIONS" in (
        events_text
    )
    assert "poison" not in events_text
    summary = blocks_text(blocks)
    assert "1 not auto-redriven (need a human)" in summary
    # And the kinds that take no canary ran without one and say why; the SQS DLQ had its canary
    for name in ("alerts-dlq", "orders-events-dlq", "resize-dlq", "notify-dlq"):
        lines = sections[name].splitlines()
        said = [line for line in lines if line.startswith(NO_CANARY)]
        # The reason names the DLQ's feeders, as its "Fed by" line does
        fed = next(line for line in lines if line.startswith("Fed by: "))
        assert len(said) == 1 and fed.removeprefix("Fed by: ") in said[0], name
        assert ":baby_chick:" not in sections[name]
    assert NO_CANARY not in sections["orders-dlq"] and ":baby_chick:" in sections["orders-dlq"]


def test_the_report_groups_errors_by_what_each_service_wrote_into_its_messages(
    daily: Daily, sqs: Any, lambdas: LambdaServer
) -> None:
    # Given EventBridge, async-DLQ and on-failure messages with their services' error details
    scene = KindsBuilder(sqs, lambdas)
    rule = events_kind(scene)
    lambda_kinds(scene)
    target = scene.arns["orders-events"]
    throttled = [
        eventbridge_dlq_message(
            rule_arn=rule,
            target_arn=target,
            error_code="THROTTLING",
            error_message=f"Rate exceeded for request {n:08x}-aaaa-bbbb-cccc-0123456789ab",
        )
        for n in range(3)
    ]
    scene.seed("orders-events-dlq", *throttled)
    timeouts = [
        lambda_async_dlq_message(
            {"n": n}, error_code=200, error_message="Task timed out after 3.00 seconds"
        )
        for n in range(2)
    ]
    scene.seed("resize-dlq", *timeouts)
    record = lambda_on_failure_record(
        function_arn=function_arn("notify") + ":$LATEST",
        error_type="KeyError",
        error_message="'user'",
    )
    scene.seed("notify-dlq", record)

    # When the report runs (no auto-redrive)
    daily.run(_tomorrow_six_am())

    # Then each DLQ's top error is what the service wrote, counted across its messages
    sections = _sections(_validated(daily))
    expected = {
        "orders-events-dlq": (throttled[0], 3, "THROTTLING"),
        "resize-dlq": (timeouts[0], 2, "Task timed out"),
        "notify-dlq": (record, 1, "KeyError"),
    }
    for name, (message, n, words) in expected.items():
        label, by_attribute = error_label(message, None)
        assert by_attribute and words in label, (name, label)
        assert f"• {code(label)} ×{n}" in sections[name], (name, sections[name])


class _AccessDenied(BaseHTTPRequestHandler):
    """EventBridge refusing every call as AWS does a caller without the right (JSON protocol:
    ``__type`` AccessDeniedException, HTTP 400)."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = json.dumps(
            {
                "__type": "AccessDeniedException",
                "Message": "User: arn:aws:sts::123456789012:assumed-role/daily is not authorized "
                "to perform: events:ListEventBuses <!channel>",
            }
        ).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def events_denied() -> Iterator[str]:
    """The endpoint of an EventBridge that refuses every call."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AccessDenied)
    thread = Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_kinds_not_read_are_said_so_no_dlq_is_never_a_lie(
    daily: Daily, sqs: Any, lambdas: LambdaServer, events_denied: str
) -> None:
    # Given no DLQ at all, EventBridge refusing to be read, and an empty report not to be posted
    daily.configure(REPORT_WHEN_EMPTY="false")

    # When the report runs
    daily.run(_tomorrow_six_am(), events_client=boto3.client("events", endpoint_url=events_denied))

    # Then it is posted anyway, never "all clear", and says which kind was not read and why
    text = blocks_text(_validated(daily))
    assert "All clear" not in text
    (line,) = [line for line in text.splitlines() if "not read" in line]
    assert line.startswith(":warning: eventbridge rule targets not read: AccessDeniedException")
    assert (
        "User: arn:aws:sts::123456789012:assumed-role/daily is not authorized to perform: "
        "events:ListEventBuses &lt;!channel&gt; (a DLQ only they feed is not listed)"
    ) in line
    assert "sns subscriptions not read" not in text and "lambda functions not read" not in text


def test_many_dlqs_of_mixed_kinds_stay_within_slacks_limits(
    daily: Daily, sqs: Any, lambdas: LambdaServer
) -> None:
    # Given 36 DLQs: 12 of SQS queues, 12 of SNS subscriptions, 12 of EventBridge targets, each
    # holding a message, with names as long as their services allow
    scene = KindsBuilder(sqs, lambdas)
    names: list[str] = []
    for n in range(12):
        long = f"{n:02d}-" + "x" * 40
        pair = create_pair(sqs, f"src-{long}")
        put_in_dlq(sqs, pair, [f"m{n}"])
        sub = sns_kind(scene, prefix=f"topic-{long}")
        scene.seed(f"topic-{long}-dlq", sns_envelope(topic_arn=sub.rsplit(":", 1)[0]))
        rule = events_kind(scene, prefix=f"rule-{long}")
        target = scene.arns[f"rule-{long}-events"]
        scene.seed(
            f"rule-{long}-events-dlq", eventbridge_dlq_message(rule_arn=rule, target_arn=target)
        )
        names += [pair.dlq_name, f"topic-{long}-dlq", f"rule-{long}-events-dlq"]

    # When the report runs
    daily.run(_tomorrow_six_am())

    # Then every post is valid Block Kit within the limits (the local Slack server refused none),
    # and every DLQ has its section exactly once, in the report or its thread, with its kind
    posts = daily.posts()
    for call in posts:
        for block in call.body["blocks"]:
            Block.parse(block).validate_json()  # type: ignore[union-attr]
        assert len(call.body["blocks"]) <= 50
    sections: dict[str, list[str]] = {}
    for call in posts:
        for name, text in _sections(call.body["blocks"]).items():
            sections.setdefault(name, []).append(text)
    assert sorted(sections) == sorted(names)
    assert all(len(texts) == 1 for texts in sections.values())
    kinds = {name: texts[0].splitlines()[0] for name, texts in sections.items()}
    assert sum(line.endswith("(sns)") for line in kinds.values()) == 12
    assert sum(line.endswith("(events)") for line in kinds.values()) == 12
    assert sum("(sqs) → src-" in line for line in kinds.values()) == 12
    assert count(sqs, scene.urls["topic-00-" + "x" * 40 + "-dlq"]) == 1  # nothing was moved


def test_a_message_naming_a_target_that_does_not_feed_its_dlq_is_never_sent_there(
    daily: Daily, sqs: Any, lambdas: LambdaServer
) -> None:
    # Given an EventBridge target's DLQ holding a message whose TARGET_ARN names the rule's
    # other target (anyone who can send to the DLQ could write it), and one from the real target
    scene = KindsBuilder(sqs, lambdas)
    rule = events_kind(scene)
    audit = scene.arns["orders-events-audit"]
    worker = scene.arns["orders-events"]
    forged = eventbridge_dlq_message(
        eventbridge_event({"orderId": "forged"}), rule_arn=rule, target_arn=audit
    )
    real = eventbridge_dlq_message(
        eventbridge_event({"orderId": "real"}), rule_arn=rule, target_arn=worker
    )
    scene.seed("orders-events-dlq", forged, real)
    daily.configure(AUTO_REDRIVE="orders-events-dlq")

    # When the auto-redrive runs
    daily.run(_tomorrow_six_am())

    # Then the forged one stayed in the DLQ, the other target got nothing, and the report says
    # it failed and why
    assert scene.bodies("orders-events-audit") == []
    assert [json.loads(b)["detail"]["orderId"] for b in scene.bodies("orders-events")] == ["real"]
    left = scene.bodies("orders-events-dlq")
    assert [json.loads(b)["detail"]["orderId"] for b in left] == ["forged"]
    text = _sections(_validated(daily))["orders-events-dlq"]
    assert "*1 failed* (left in the DLQ: UnknownTarget ×1)" in text


def test_a_continuation_finishes_a_functions_dlq_and_says_where_without_a_canary(
    daily: Daily, sqs: Any, lambdas: LambdaServer
) -> None:
    # Given a function's async DLQ with 3 events, and this daily function on the same endpoint
    scene = KindsBuilder(sqs, lambdas)
    lambda_kinds(scene)
    scene.seed("resize-dlq", *(lambda_async_dlq_message({"image": f"{n}.png"}) for n in range(3)))
    lambdas.register(FUNCTION_NAME, handlers.daily.handler)
    daily.configure(AUTO_REDRIVE="resize-dlq")
    lambda_client = boto3.client("lambda", endpoint_url=lambdas.endpoint_url)

    # When the first invocation has no time left for redriving, and a continuation finishes it
    first = daily.run(_tomorrow_six_am(), timeout_s=20, lambda_client=lambda_client)
    lambdas.wait_idle(60)
    lambdas.raise_errors()

    # Then the function got each event once, and the thread and the updated report say where
    # they went, and that the run had no canary
    assert first["continuing"] == ["resize-dlq"]
    assert sorted(c.payload["image"] for c in lambdas.calls_to("resize")) == [
        "0.png",
        "1.png",
        "2.png",
    ]
    replies = [c for c in daily.posts() if c.body.get("thread_ts") == first["ts"]]
    assert len(replies) == 1
    assert (
        "resize-dlq: 3 moved back (to lambda resize (async invoke) ×3)" in replies[0].body["text"]
    )
    updates = daily.slack.state.calls_to("chat.update")
    final = _sections(updates[-1].body["blocks"])["resize-dlq"]
    assert "moved 3 back (to lambda resize (async invoke) ×3)" in final
    assert NO_CANARY + "resize-dlq is fed by lambda resize (async DLQ)" in final
