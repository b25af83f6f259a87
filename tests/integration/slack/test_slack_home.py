"""The App Home tab end to end: Events API deliveries and Home tab clicks, signed exactly as Slack
signs them, into the real endpoint (handlers/slack.handler), the worker on the local Lambda
server, Slack's Web API on the local Slack server (views.publish / views.open / views.update with
Slack's rules), SQS and DynamoDB on moto."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.views import View

from bot.slack.ids import ActionId
from bot.slack.viewers import NOT_A_VIEWER
from infra.local.scene import QueuePair
from infra.local.slack_events import (
    event_callback_body,
    home_opened,
    http_event,
    url_verification_body,
    view_action_body,
)
from tests.integration.slack.slack_harness import (
    OUTSIDER,
    REQUESTER,
    SECRET,
    SlackHarness,
    seed_orders,
)

JSON = "application/json"
HOME_VIEW = {"id": "VHOME1", "type": "home", "blocks": []}  # the tab the click was made in


def open_home(
    harness: SlackHarness,
    user: str = REQUESTER,
    *,
    event_id: str = "Ev0001",
    tab: str = "home",
    team: str | None = None,
    retry: int | None = None,
    **signing: Any,
) -> dict[str, Any]:
    """Deliver ``app_home_opened`` as the Events API does (``retry``: Slack's retry number)."""
    extra = {} if team is None else {"team": team}
    body = event_callback_body(home_opened(user, tab=tab), event_id=event_id, **extra)
    headers = None if retry is None else {"x-slack-retry-num": str(retry)}
    if retry is not None:
        headers = {"x-slack-retry-num": str(retry), "x-slack-retry-reason": "http_timeout"}
    return harness.send(http_event(body, SECRET, content_type=JSON, headers=headers, **signing))


def home_click(
    harness: SlackHarness, action: ActionId, value: str = "", *, user: str = REQUESTER
) -> tuple[dict[str, Any], str]:
    """Click ``action`` in the Home tab with a trigger Slack handed out; the ack and the trigger."""
    trigger = harness.slack.state.modals.new_trigger()
    body = view_action_body(str(action), value, user=user, view=HOME_VIEW, trigger_id=trigger)
    return harness.send(http_event(body, SECRET)), trigger


def peek_value(queue: str) -> str:
    return json.dumps({"queue": queue})


def modal_of(harness: SlackHarness, view_id: str) -> dict[str, Any]:
    view = harness.slack.state.modals.views[view_id]
    shown = ("type", "title", "close", "blocks", "callback_id")
    View(**{k: view[k] for k in shown}).validate_json()  # what Slack would show, as it checks
    return view


def receive_counts(harness: SlackHarness, pair: QueuePair) -> dict[str, int]:
    """Each DLQ message's ApproximateReceiveCount, read by one receive (made visible again)."""
    got = harness.sqs.receive_message(
        QueueUrl=pair.dlq_url,
        MaxNumberOfMessages=10,
        VisibilityTimeout=0,
        AttributeNames=["ApproximateReceiveCount"],
    )
    return {
        m["MessageId"]: int(m["Attributes"]["ApproximateReceiveCount"])
        for m in got.get("Messages", [])
    }


# --- Events API specifics ------------------------------------------------------------------------


def test_slacks_url_verification_is_answered_through_the_workspace_check(
    harness: SlackHarness,
) -> None:
    # Given Slack checking the events Request URL (its body names no workspace)
    body = url_verification_body("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
    # When it is delivered, signed
    answer = harness.send(http_event(body, SECRET, content_type=JSON))
    # Then the challenge comes back (Bolt answers it before our installed-workspace check)
    assert answer["statusCode"] == 200
    assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in answer["body"]
    harness.settle()
    assert harness.lambdas.calls_to("worker") == []


def test_an_event_of_another_workspace_is_refused_and_nothing_is_published(
    harness: SlackHarness,
) -> None:
    # When an app_home_opened of another workspace arrives (signed: Slack sent it)
    answer = open_home(harness, team="T_OTHER")
    # Then it is acknowledged (Slack must not retry it) and no work is handed over
    assert answer["statusCode"] == 200
    harness.settle()
    assert harness.lambdas.calls_to("worker") == []
    assert harness.calls("views.publish") == []


def test_the_messages_tab_publishes_nothing(harness: SlackHarness) -> None:
    # When someone opens the app's Messages tab (the DM with the app)
    answer = open_home(harness, tab="messages")
    # Then nothing is read and nothing published
    assert answer["statusCode"] == 200
    harness.settle()
    assert harness.lambdas.calls_to("worker") == []
    assert harness.calls("views.publish") == []


def test_forged_and_stale_events_are_refused_and_nothing_is_published(
    harness: SlackHarness,
) -> None:
    # When an event arrives with a signature made without the secret, or signed 6 minutes ago
    forged = open_home(harness, signature="v0=" + "0" * 64)
    stale = open_home(harness, timestamp=1_700_000_000, event_id="Ev0002")
    # Then both are refused before any listener runs
    assert forged["statusCode"] == 401 and stale["statusCode"] == 401
    harness.settle()
    assert harness.lambdas.calls_to("worker") == []
    assert harness.calls("views.publish") == []


# --- the Home tab's Peek ----------------------------------------------------------------------


def test_peek_opens_a_loading_modal_on_the_ack_path_and_the_worker_fills_it(
    harness: SlackHarness,
) -> None:
    # Given a DLQ with three orders
    seed_orders(harness.sqs, 3)
    # When an approver (who may read bodies) clicks Peek on the Home tab
    ack, trigger = home_click(harness, ActionId.HOME_PEEK, peek_value("orders-dlq"))
    # Then the loading modal was opened with the click's trigger before the ack
    assert ack["statusCode"] == 200
    (opened,) = harness.calls("views.open")
    assert opened.body["trigger_id"] == trigger and opened.refused is None
    assert opened.body["view"]["callback_id"] == ActionId.PEEK_MODAL
    assert "Reading messages of `orders-dlq`" in json.dumps(opened.body["view"])
    # And the worker replaced it, hash-checked, with the messages
    harness.settle()
    (updated,) = harness.calls("views.update")
    assert updated.refused is None and updated.body["hash"]
    view = modal_of(harness, updated.body["view_id"])
    text = json.dumps(view["blocks"])
    assert "showing 3 of ~3 visible" in text
    for i in range(3):
        assert json.dumps({"order": i}).replace('"', '\\"') in text
    # without Discard / Edit & resend (they need a channel and a response_url), saying where
    assert not any(b["type"] == "actions" for b in view["blocks"])
    assert "/dlq-redrive peek orders-dlq" in text


def test_peek_by_someone_who_may_not_read_bodies_says_why_and_receives_nothing(
    harness: SlackHarness,
) -> None:
    # Given a DLQ, and each message's receive count
    pair = seed_orders(harness.sqs, 2)
    before = receive_counts(harness, pair)
    # When someone neither approver nor viewer clicks Peek on the Home tab
    home_click(harness, ActionId.HOME_PEEK, peek_value("orders-dlq"), user=OUTSIDER)
    harness.settle()
    # Then the modal says why no message is shown
    (updated,) = harness.calls("views.update")
    assert NOT_A_VIEWER in json.dumps(modal_of(harness, updated.body["view_id"]))
    # And no message was received for them (only this test's own receive counts)
    assert receive_counts(harness, pair) == {m: n + 1 for m, n in before.items()}


def test_peek_of_a_queue_that_is_not_watched_says_so_in_the_modal(harness: SlackHarness) -> None:
    seed_orders(harness.sqs, 1)
    home_click(harness, ActionId.HOME_PEEK, peek_value("payments-dlq"))
    harness.settle()
    (updated,) = harness.calls("views.update")
    assert "payments-dlq" in json.dumps(modal_of(harness, updated.body["view_id"]))
    assert "showing" not in json.dumps(modal_of(harness, updated.body["view_id"]))


def test_a_peek_button_value_that_is_not_ours_is_refused_in_a_modal_and_nothing_runs(
    harness: SlackHarness,
) -> None:
    # When the Peek click carries a value no Home tab renders (a name SQS never gives)
    ack, _ = home_click(harness, ActionId.HOME_PEEK, '{"queue": "<!channel> x"}')
    # Then the ack goes, a modal says the button is not valid, and no work is handed over
    assert ack["statusCode"] == 200
    (opened,) = harness.calls("views.open")
    shown = json.dumps(opened.body["view"])
    assert "names no valid queue" in shown and "<!channel>" not in shown
    harness.settle()
    assert harness.lambdas.calls_to("worker") == []
