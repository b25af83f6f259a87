"""Hostile Slack requests: each is refused and nothing moves.

Forged signature, stale timestamp, replayed request, tampered button value, unknown action ids, a
user outside APPROVERS, the requester approving their own request.
"""

from __future__ import annotations

import json
import time

from bot.slack.ids import ActionId
from infra.local.scene import count
from infra.local.slack_events import action_body, command_body, http_event, sign
from tests.integration.slack.slack_harness import (
    APPROVER,
    CHANNEL,
    OUTSIDER,
    REQUESTER,
    SECRET,
    SlackHarness,
    harness,
    seed_orders,
    slack_env,
)

__all__ = ["harness", "slack_env"]  # fixtures


def _nothing_happened(harness: SlackHarness) -> None:
    assert harness.lambdas.invocations == []
    assert harness.slack.state.calls == []


def test_forged_signature_gets_401_and_does_nothing(harness: SlackHarness) -> None:
    seed_orders(harness.sqs, 2)
    body = command_body("list", user=REQUESTER, channel=CHANNEL, response_url="http://x")
    forged = http_event(body, "not-the-secret")

    response = harness.send(forged)

    assert response["statusCode"] == 401
    _nothing_happened(harness)


def test_body_changed_after_signing_gets_401(harness: SlackHarness) -> None:
    body = command_body("list", user=REQUESTER, channel=CHANNEL, response_url="http://x")
    event = http_event(body, SECRET)
    event["body"] = body.replace("list", "peek+orders-dlq")

    assert harness.send(event)["statusCode"] == 401
    _nothing_happened(harness)


def test_missing_signature_headers_get_401(harness: SlackHarness) -> None:
    body = command_body("list", user=REQUESTER, channel=CHANNEL, response_url="http://x")
    event = http_event(body, SECRET)
    event["headers"] = {"content-type": "application/x-www-form-urlencoded"}

    assert harness.send(event)["statusCode"] == 401
    _nothing_happened(harness)


def test_stale_timestamp_gets_401_even_when_correctly_signed(harness: SlackHarness) -> None:
    six_minutes_ago = int(time.time()) - 6 * 60
    body = command_body("list", user=REQUESTER, channel=CHANNEL, response_url="http://x")
    event = http_event(body, SECRET, timestamp=six_minutes_ago)
    assert event["headers"]["x-slack-signature"] == sign(SECRET, str(six_minutes_ago), body)

    assert harness.send(event)["statusCode"] == 401
    _nothing_happened(harness)


def test_replayed_slash_command_posts_one_card(harness: SlackHarness) -> None:
    # Given a captured, validly signed redrive request
    seed_orders(harness.sqs, 3)
    body = command_body(
        "redrive orders-dlq", user=REQUESTER, channel=CHANNEL, response_url=harness.response_url()
    )
    event = http_event(body, SECRET)

    # When it is sent three times within the signature window
    for _ in range(3):
        assert harness.send(json.loads(json.dumps(event)))["statusCode"] == 200
    harness.settle()

    # Then one approval request exists
    assert len(harness.calls("chat.postMessage")) == 1


def test_replayed_approval_click_runs_one_redrive(harness: SlackHarness) -> None:
    pair = seed_orders(harness.sqs, 3)
    request_id = harness.request_card()
    body = action_body(
        ActionId.APPROVE,
        request_id,
        user=APPROVER,
        channel=CHANNEL,
        message_ts=harness.card_ts(),
        response_url=harness.response_url(),
    )
    event = http_event(body, SECRET)

    for _ in range(3):
        harness.send(json.loads(json.dumps(event)))
    harness.settle()

    assert [e["kind"] for e in harness.state.events(request_id)].count("approved") == 1
    assert count(harness.sqs, pair.source_url) == 3
    assert len([u for u in harness.updates() if "Approved by" in u]) == 1


def test_tampered_approve_value_is_refused(harness: SlackHarness) -> None:
    # Given two pending requests, each with its own card
    pair = seed_orders(harness.sqs, 3)
    first = harness.request_card()
    first_ts = harness.card_ts()
    harness.slack.state.clear()
    harness.command("redrive orders-dlq --limit 1")
    harness.settle()
    second = harness.request_id()
    harness.slack.state.clear()

    # When Bob clicks Approve on the first card with a value edited to name the second request,
    # or to something that is not a request id at all
    harness.click(ActionId.APPROVE, second, user=APPROVER, message_ts=first_ts)
    harness.click(ActionId.APPROVE, "../../etc/passwd", user=APPROVER, message_ts=first_ts)
    harness.click(ActionId.APPROVE, "20990101-000000-ffffff", user=APPROVER, message_ts=first_ts)
    harness.settle()

    # Then each is refused with a reason, and nothing was decided or moved
    answers = harness.responses()
    assert any("does not belong to that request" in a for a in answers)
    assert any("this button's value is not valid" in a for a in answers)
    assert any("this approval request does not exist" in a for a in answers)
    for request_id in (first, second):
        stored = harness.state.get_request(request_id)
        assert stored is not None and stored.status == "pending"
    assert count(harness.sqs, pair.dlq_url) == 3
    assert harness.calls("chat.update") == []


def test_tampered_report_button_values_are_refused(harness: SlackHarness) -> None:
    pair = seed_orders(harness.sqs, 3)
    values = [
        "not json",
        json.dumps(["orders-dlq"]),
        json.dumps({"queue": "orders-dlq", "date": "2026-02-30"}),
        json.dumps({"queue": "orders-dlq; rm -rf /"}),
        json.dumps({"queue": "orders-dlq", "limit": 100000}),
        json.dumps({"queue": "orders"}),  # a real queue, but not a watched DLQ
    ]

    for value in values:
        harness.click(ActionId.REPORT_REDRIVE, value, user=APPROVER, message_ts="1.1")
    harness.settle()

    answers = harness.responses()
    assert len(answers) == len(values)
    assert sum("nothing was changed" in a for a in answers) == 5
    assert "'orders' is not the dead-letter queue of any queue" in answers[-1]
    assert harness.calls("chat.postMessage") == []
    assert count(harness.sqs, pair.dlq_url) == 3


def test_unknown_action_ids_are_acknowledged_and_ignored(harness: SlackHarness) -> None:
    pair = seed_orders(harness.sqs, 2)

    for action_id in ("dlq_redrive.delete_everything", "approve", ""):
        response = harness.click(action_id, "x", user=APPROVER, message_ts="1.1")
        assert response["statusCode"] == 200

    _nothing_happened(harness)
    assert count(harness.sqs, pair.dlq_url) == 2


def test_user_outside_approvers_cannot_approve(harness: SlackHarness) -> None:
    pair = seed_orders(harness.sqs, 2)
    request_id = harness.request_card()

    harness.click(ActionId.APPROVE, request_id, user=OUTSIDER, message_ts=harness.card_ts())
    harness.settle()

    assert "you are not in APPROVERS" in harness.responses()[-1]
    assert count(harness.sqs, pair.dlq_url) == 2
    assert harness.state.get_run(request_id) is None


def test_requester_cannot_approve_own_request(harness: SlackHarness) -> None:
    pair = seed_orders(harness.sqs, 2)
    request_id = harness.request_card()

    harness.click(ActionId.APPROVE, request_id, user=REQUESTER, message_ts=harness.card_ts())
    harness.settle()

    assert "someone else has to approve it" in harness.responses()[-1]
    assert count(harness.sqs, pair.dlq_url) == 2
    assert harness.state.get_run(request_id) is None


def test_wrong_path_is_not_found(harness: SlackHarness) -> None:
    body = command_body("list", user=REQUESTER, channel=CHANNEL, response_url="http://x")

    response = harness.send(http_event(body, SECRET, path="/admin"))

    assert response["statusCode"] == 404
    _nothing_happened(harness)
