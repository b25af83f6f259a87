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
from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from bot.error_groups import error_label, label_digest
from bot.slack.ids import ActionId
from infra.local.kinds_scene import KindsBuilder, works
from infra.local.lambda_server import LambdaServer
from infra.local.scene import count, queue_arn
from tests.integration.daily.daily_support import Daily, blocks_text, daily, slack
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

SIX_AM_TOMORROW = (
    datetime.combine(datetime.now(UTC).date() + timedelta(days=1), time(6), tzinfo=UTC)
).isoformat()  # its "yesterday" is today, when the messages are sent


# The Slack harness's and the daily job's fixtures, used here.
__all__ = ["daily", "harness", "slack", "slack_env"]


@pytest.fixture
def world(harness: SlackHarness) -> World:
    return World(harness.sqs, harness.lambdas)


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


def open_thumbnailer_edit(harness: SlackHarness, world: World) -> tuple[EditWorld, Any]:
    """The thumbnailer's one failed event (cat.heic) in its DLQ, its Edit & resend form opened by
    the requester: the player and the form."""
    world.seed("thumbnailer-dlq", lambda_async_dlq_message({"key": "cat.heic"}))
    player, message_id = edit_world(harness, "thumbnailer-dlq")
    return player, player.open_form(message_id, user=REQUESTER)


def seed_thumbnailer_events(world: World, n: int, prefix: str = "k") -> None:
    """``n`` events the thumbnailer failed asynchronously (``{prefix}{i}.heic``), in its DLQ."""
    world.seed(
        "thumbnailer-dlq",
        *(lambda_async_dlq_message({"key": f"{prefix}{i}.heic"}) for i in range(n)),
    )


def ask_thumbnailer_redrive(harness: SlackHarness, world: World, n: int) -> str:
    """``n`` failed events of the thumbnailer and ``/dlq-redrive redrive thumbnailer-dlq``, its
    card naming the function and counting them: the request id."""
    seed_thumbnailer_events(world, n)
    request_id, card = ask(harness, "redrive thumbnailer-dlq")
    assert f"• lambda thumbnailer (async invoke): {n}" in card, card
    return request_id


def hand_thumbnailer_dlq_to_resizer(
    harness: SlackHarness, world: World, thumbnailer_dlq: str | None = None
) -> None:
    """The thumbnailer loses its DLQ (to ``thumbnailer_dlq``, or none); resizer is given
    thumbnailer-dlq in its place."""
    harness.lambdas.register("thumbnailer", works, dead_letter_arn=thumbnailer_dlq)
    harness.lambdas.register("resizer", works, dead_letter_arn=world.arns["thumbnailer-dlq"])


def assert_neither_function_invoked(harness: SlackHarness) -> None:
    assert harness.lambdas.calls_to("resizer") == []
    assert harness.lambdas.calls_to("thumbnailer") == []


def billing_event(
    world: World,
    event: dict[str, Any],
    error_code: str,
    error_message: str = "EventBridge could not deliver to billing-inbox",
) -> Any:
    """An event EventBridge could not deliver to the billing rule's target, with ``error_code``."""
    return eventbridge_dlq_message(
        eventbridge_event(event),
        rule_arn=world.rule,
        target_arn=world.arns["billing-inbox"],
        error_code=error_code,
        error_message=error_message,
    )


# --- Edit & resend in Slack routes a feeder's message as the engine (and the CLI) does ----------


def test_slack_edit_of_a_function_async_dlq_message_invokes_that_function_once(
    harness: SlackHarness, world: World
) -> None:
    # Given an event the thumbnailer failed asynchronously (its DLQ has no SQS source queue)

    # When a viewer opens Edit & resend from the peek
    player, view = open_thumbnailer_edit(harness, world)

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
    world.seed("billing-dlq", billing_event(world, {"invoice": 1}, "NO_PERMISSIONS"))
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


def test_an_edit_submitted_after_the_function_dlq_changed_hands_asks_nothing(
    harness: SlackHarness, world: World
) -> None:
    # Given the edit form of the thumbnailer's failed event, open
    player, view = open_thumbnailer_edit(harness, world)
    # And then resizer is given thumbnailer-dlq as its DLQ in the thumbnailer's place
    hand_thumbnailer_dlq_to_resizer(harness, world)

    # When the edit is submitted
    player.submit(view, json.dumps({"key": "cat.jpg"}), user=REQUESTER)
    harness.settle()

    # Then no approval is asked for a destination the form did not name; the modal says why
    assert harness.calls("chat.postMessage") == []
    text = modal_text(player.modal())
    assert "would now go to lambda resizer" in text and "open it again" in text, text
    assert_neither_function_invoked(harness)
    assert count(harness.sqs, world.urls["thumbnailer-dlq"]) == 1


def test_an_edited_on_failure_record_naming_another_function_is_refused_at_submit(
    harness: SlackHarness, world: World
) -> None:
    from infra.local.lambda_server import function_arn
    from tests.unit.kind_messages import lambda_on_failure_record

    # Given the edit form of an on-failure record of invoice-pdf
    record = lambda_on_failure_record(
        {"invoice": 1}, function_arn=function_arn("invoice-pdf") + ":$LATEST"
    )
    world.seed("invoice-pdf-failures", record)
    player, message_id = edit_world(harness, "invoice-pdf-failures")
    view = player.open_form(message_id, user=REQUESTER)
    assert "lambda invoice-pdf" in modal_text(view)

    # When the record is edited to name another function (the notifier) and submitted
    edited = json.loads(record.body)
    edited["requestContext"]["functionArn"] = function_arn("notifier")
    edited["requestPayload"] = {"invoice": 2}
    player.submit(view, json.dumps(edited), user=REQUESTER)
    harness.settle()

    # Then no approval is asked: a copy goes only to the function that failed it
    assert harness.calls("chat.postMessage") == []
    said = modal_text(player.modal())
    assert "cannot go to invoice-pdf: the record names function" in said
    assert "nothing was asked" in said
    assert harness.lambdas.calls_to("notifier") == []
    assert harness.lambdas.calls_to("invoice-pdf") == []
    assert count(harness.sqs, world.urls["invoice-pdf-failures"]) == 1


# --- the report's "Redrive these N" over messages that need a human -----------------------------


def test_redrive_these_of_a_group_that_needs_a_human_posts_no_approval_and_says_why(
    harness: SlackHarness, world: World
) -> None:
    # Given two events EventBridge was not allowed to deliver (one error group)
    not_authorized = "Not authorized to send to billing-inbox"
    messages = [
        billing_event(world, {"invoice": i}, "NO_PERMISSIONS", error_message=not_authorized)
        for i in range(2)
    ]
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
    request_id = ask_thumbnailer_redrive(harness, world, 2)
    # And before anyone approves, the thumbnailer's DLQ is moved elsewhere and another
    # function, resizer, is given thumbnailer-dlq as its DLQ (a new message arrives too)
    other = harness.sqs.create_queue(QueueName="thumbnailer-dlq-2")["QueueUrl"]
    hand_thumbnailer_dlq_to_resizer(harness, world, queue_arn(harness.sqs, other))
    world.seed("thumbnailer-dlq", lambda_async_dlq_message({"key": "late.heic"}))

    # When the request is approved
    approve(harness, request_id)
    harness.settle()

    # Then no function the card did not name was invoked (nor the one it named: its DLQ is no
    # longer this one, so nothing says these events are its), and every message stays
    assert_neither_function_invoked(harness)
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
    request_id = ask_thumbnailer_redrive(harness, world, 2)
    # And three more arrive before the approval
    seed_thumbnailer_events(world, 3, prefix="new")

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
    player, view = open_thumbnailer_edit(harness, world)
    player.submit(view, json.dumps({"key": "cat.jpg"}), user=REQUESTER)
    harness.settle()
    assert "lambda thumbnailer (async invoke): 1" in texts(harness.card().body["blocks"])
    # And then resizer is given thumbnailer-dlq as its DLQ in the thumbnailer's place
    hand_thumbnailer_dlq_to_resizer(harness, world)

    # When the edit is approved
    approve(harness, harness.request_id())
    harness.settle()

    # Then resizer got nothing, and the message stays, the card saying why
    assert_neither_function_invoked(harness)
    assert count(harness.sqs, world.urls["thumbnailer-dlq"]) == 1
    assert "approval named only lambda thumbnailer" in final_card(harness)


# --- double clicks and racing approvers ---------------------------------------------------------


def test_two_approvers_racing_and_double_clicks_deliver_each_event_once(
    harness: SlackHarness, world: World
) -> None:
    # Given a request over three failed events of the thumbnailer
    request_id = ask_thumbnailer_redrive(harness, world, 3)
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


# --- list says which feeders a redrive refuses -------------------------------------------------


def _refused_feeders(world: World) -> None:
    """webhook-dlq: an https subscription's; transformed-dlq: a rule target whose InputTransformer
    changes the event (its DLQ keeps the original)."""
    world.queues("webhook-dlq", "transformed-dlq", "transformed-inbox")
    world.subscribe("https", "https://hooks.example.com/orders", "webhook-dlq")
    world.events.put_targets(
        Rule="invoice-due",
        Targets=[
            {
                "Id": "shaped",
                "Arn": world.arns["transformed-inbox"],
                "InputTransformer": {
                    "InputPathsMap": {"id": "$.id"},
                    "InputTemplate": '{"invoice": <id>}',
                },
                "DeadLetterConfig": {"Arn": world.arns["transformed-dlq"]},
            }
        ],
    )


def test_list_marks_the_feeders_a_redrive_refuses_on_every_surface(
    harness: SlackHarness, world: World
) -> None:
    from tests.integration.cli_helpers import run_cli

    # Given an https subscription's DLQ and a transformed rule target's DLQ beside deliverable ones
    _refused_feeders(world)

    # When the DLQs are listed on the command line (table and JSON) and in Slack
    table = run_cli(["list", "--no-expiry"], harness.env)
    data = run_cli(["--json", "list", "--no-expiry"], harness.env)
    harness.command("list")
    harness.settle()
    slack = answer(harness)

    # Then each refused feeder is marked as one a redrive will not deliver to, and why
    assert table.code == data.code == 0, table.err + data.err
    squeezed = " ".join(table.out.split())
    for shown in (squeezed, slack):
        assert "→ https hooks.example.com" in shown or "https://hooks.example.com" in shown
        assert shown.count("not redriven") == 2, shown
        assert "https endpoint itself" in shown
        assert "InputTransformer" in shown
    # And the deliverable ones are not
    assert "orders-inbox not redriven" not in squeezed
    dlqs = {d["name"]: d for d in data.json["dlqs"]}
    (webhook,) = dlqs["webhook-dlq"]["feeders"]
    assert webhook["refusal"] and "not redriven" in webhook["description"]
    (billing,) = dlqs["billing-dlq"]["feeders"]
    assert billing["refusal"] is None and "not redriven" not in billing["description"]


# --- the daily report's numbers are what the targets received -----------------------------------


def test_the_reports_counts_of_each_kind_are_what_was_seeded_and_what_the_targets_got(
    daily: Daily, sqs: Any, lambdas: LambdaServer
) -> None:
    # Given a function's async DLQ with 4 events, the first invoke of which Lambda refuses (500)
    scene = KindsBuilder(sqs, lambdas)
    scene.queues("resize-dlq", "orders-events", "orders-events-audit", "orders-events-dlq")
    scene.queues("hooks-dlq")
    scene.function("resize", dead_letter="resize-dlq")
    scene.function("other")
    scene.seed("resize-dlq", *(lambda_async_dlq_message({"image": f"{i}.png"}) for i in range(4)))
    lambdas.fault("resize", status=500)
    # And a rule target's DLQ: 2 throttled events, 3 EventBridge was not allowed to deliver, and
    # one naming the rule's other target (forged)
    rule = scene.put_rule(
        "orders-rule",
        "com.example.orders",
        [
            scene.target("worker", scene.arns["orders-events"], "orders-events-dlq"),
            scene.target("audit", scene.arns["orders-events-audit"]),
        ],
    )
    worker, audit = scene.arns["orders-events"], scene.arns["orders-events-audit"]

    def event(n: int, code: str, target: str = worker) -> Any:
        return eventbridge_dlq_message(
            eventbridge_event({"n": n}), rule_arn=rule, target_arn=target, error_code=code
        )

    scene.seed(
        "orders-events-dlq",
        *(event(n, "THROTTLING") for n in range(2)),
        *(event(n, "NO_PERMISSIONS") for n in range(2, 5)),
        event(5, "THROTTLING", audit),
    )
    # And an https subscription's DLQ (a redrive refuses it) with one envelope
    topic = scene.create_topic("hooks")
    scene.subscribe_to(topic, "https", "https://hooks.example.com/in", "hooks-dlq")
    scene.seed("hooks-dlq", sns_envelope('{"hook": 1}', topic_arn=topic))
    daily.configure(AUTO_REDRIVE="*")

    # When the 06:00 run reports and auto-redrives
    daily.run(SIX_AM_TOMORROW)
    lambdas.wait_idle(30)

    # Then the targets got exactly: 3 invokes of resize (one refused), 2 events for the worker
    invoked = [c for c in lambdas.calls_to("resize") if c.error is None]
    assert len(invoked) == 3 and lambdas.calls_to("other") == []
    assert len(scene.bodies("orders-events")) == 2 and scene.bodies("orders-events-audit") == []
    assert scene.left("resize-dlq") == 1
    assert scene.left("orders-events-dlq") == 4  # 3 for a human, 1 forged
    assert scene.left("hooks-dlq") == 1
    # And the report says those numbers, and no other
    report = blocks_text(daily.reports()[-1].body["blocks"])
    assert "11 arrived yesterday · 5 auto-redriven · 3 not auto-redriven (need a human)" in report
    assert (
        "moved 3 back (to lambda resize (async invoke) ×3), *1 failed* (left in the DLQ: "
        "ServiceException ×1)" in report
    )
    assert (
        "moved 2 back (to queue orders-events (the rule's target, not the bus) ×2), *1 failed* "
        "(left in the DLQ: UnknownTarget ×1), 3 not redriven, for a human" in report
    )
    assert "NO_PERMISSIONS: the target cannot accept it as configured" in report
    assert "moved 0 back, *1 failed* (left in the DLQ: Unsupported ×1)" in report
    # And the https subscription is marked as one a redrive refuses, saying why
    assert "→ https https://hooks.example.com/in (not redriven: SNS delivers to an https" in report
    assert report.count(":warning: no canary:") == 3


def test_redrive_of_a_dlq_whose_every_feeder_is_refused_posts_no_approval(
    harness: SlackHarness, world: World
) -> None:
    # Given an https subscription's DLQ (SNS alone reaches it) holding one envelope
    _refused_feeders(world)
    envelope = sns_envelope('{"hook": 1}', topic_arn=world.topic)
    world.seed("webhook-dlq", envelope)
    label, by_attribute = error_label(envelope, None)

    # When the report's "Redrive these 1" of its group is clicked, and a redrive asked for
    value = json.dumps({"queue": "webhook-dlq", "error": label_digest(label, by_attribute)})
    harness.click(ActionId.REPORT_ERROR_REDRIVE, value, user=REQUESTER, message_ts="1.1")
    harness.settle()
    harness.command("redrive webhook-dlq")
    harness.settle()

    # Then no approval card offers a move of what can go nowhere; each answer says why
    assert harness.calls("chat.postMessage") == []
    for said in harness.responses()[-2:]:
        assert "https endpoint itself" in said, said
    assert count(harness.sqs, world.urls["webhook-dlq"]) == 1


def test_a_redrive_whose_every_counted_message_would_fail_posts_no_approval(
    harness: SlackHarness, world: World
) -> None:
    # Given a function's async DLQ whose two messages are not events (no JSON payload to invoke)
    world.seed("thumbnailer-dlq", *(lambda_async_dlq_message(body=f"raw {i}") for i in range(2)))

    # When a redrive is asked for
    harness.command("redrive thumbnailer-dlq")
    harness.settle()

    # Then no card asks to approve a move of nothing: the answer says none would move and why
    assert harness.calls("chat.postMessage") == []
    said = answer(harness)
    assert "Nothing to redrive in `thumbnailer-dlq`" in said
    assert "Of the 2 that match, 0 would move; 2 are not an event its function can take" in said
    assert harness.lambdas.calls_to("thumbnailer") == []
    assert count(harness.sqs, world.urls["thumbnailer-dlq"]) == 2


# --- Slack's and list's numbers, kind by kind, against what the targets received ----------------


def test_every_number_slack_and_list_show_for_each_kind_is_what_the_targets_received(
    harness: SlackHarness, world: World
) -> None:
    from infra.local.lambda_server import function_arn
    from tests.integration.cli_helpers import run_cli
    from tests.unit.kind_messages import lambda_on_failure_record

    # Given each kind's DLQ holding what AWS would have left there, some of it undeliverable
    world.seed(
        "orders-sub-dlq",
        *(sns_envelope(json.dumps({"order": i}), topic_arn=world.topic) for i in range(3)),
    )
    world.seed(
        "notifier-dlq",
        *(sns_envelope(json.dumps({"note": i}), topic_arn=world.topic) for i in range(2)),
    )
    harness.lambdas.fault("notifier", status=500)  # the first invoke is refused

    world.seed(
        "billing-dlq",
        *(billing_event(world, {"i": i}, "THROTTLING") for i in range(2)),
        billing_event(world, {"i": 9}, "NO_PERMISSIONS"),
    )
    seed_thumbnailer_events(world, 3, prefix="")
    on_failure = function_arn("invoice-pdf") + ":$LATEST"
    world.seed(
        "invoice-pdf-failures",
        *(lambda_on_failure_record({"invoice": i}, function_arn=on_failure) for i in range(2)),
    )
    seeded = {
        "orders-sub-dlq": 3,
        "notifier-dlq": 2,
        "billing-dlq": 3,
        "thumbnailer-dlq": 3,
        "invoice-pdf-failures": 2,
    }

    # Then list counts what was seeded, on the command line and in Slack
    listed = run_cli(["--json", "list", "--no-expiry"], harness.env)
    assert {d["name"]: d["visible"] for d in listed.json["dlqs"] if d["name"] in seeded} == seeded
    harness.command("list")
    harness.settle()
    shown = answer(harness)
    for name, n in seeded.items():
        assert f"`{name}` — *{n}* visible, 0 in flight" in shown

    # When each is asked for and approved, one request after another
    expected = {  # DLQ: (the card's count, its Goes to line, moved, left in the DLQ)
        "orders-sub-dlq": (
            3,
            "queue orders-inbox (the subscription's endpoint, not the topic)",
            3,
            0,
        ),
        "notifier-dlq": (2, "lambda notifier (async invoke; the SNS event to", 1, 1),
        "billing-dlq": (2, "queue billing-inbox (the rule's target, not the bus)", 2, 1),
        "thumbnailer-dlq": (3, "lambda thumbnailer (async invoke)", 3, 0),
        "invoice-pdf-failures": (
            2,
            "lambda invoice-pdf (async invoke; the on-failure record's",
            2,
            0,
        ),
    }
    for name, (counted, goes_to, moved, left) in expected.items():
        harness.slack.state.calls.clear()
        request_id, card = ask(harness, f"redrive {name}")
        approve(harness, request_id)
        harness.settle()
        final = final_card(harness)
        # Then the card counted what would move, said where, and the final card what moved
        assert f"*Redrive request* — {counted} message(s) from `{name}`" in card, card
        assert f"• {goes_to}" in card and f": {counted}" in card, card
        assert f"moved *{moved}*" in final, final
        assert count(harness.sqs, world.urls[name]) == left, name

    # And what the targets received is exactly what the cards said moved
    assert len(world.bodies("orders-inbox")) == 3 and world.bodies("analytics-inbox") == []
    # (the refused invoke never reached the function: Lambda answered 500 before running it)
    assert len(harness.lambdas.calls_to("notifier")) == 1
    assert len(world.bodies("billing-inbox")) == 2 and world.bodies("audit-inbox") == []
    assert len(harness.lambdas.calls_to("thumbnailer")) == 3
    assert sorted(c.payload["invoice"] for c in harness.lambdas.calls_to("invoice-pdf")) == [0, 1]
