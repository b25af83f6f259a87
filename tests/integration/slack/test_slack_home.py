"""The App Home tab end to end: Events API deliveries and Home tab clicks, signed exactly as Slack
signs them, into the real endpoint (handlers/slack.handler), the worker on the local Lambda
server, Slack's Web API on the local Slack server (views.publish / views.open / views.update with
Slack's rules), SQS and DynamoDB on moto."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from slack_sdk.models.views import View

from bot.daily.scan_facts import ScanFactsStore
from bot.daily.snapshots import Snapshot, SnapshotStore
from bot.slack.home_model import ErrorGroupFact, ScanFacts
from bot.slack.ids import ActionId
from bot.slack.mrkdwn import short_day
from bot.slack.viewers import NOT_A_VIEWER
from bot.state_table import StateTable
from infra.local.scene import QueuePair, create_pair
from infra.local.slack_events import (
    http_event,
    url_verification_body,
    view_action_body,
)
from tests.integration.slack.home_world import (
    HOME_VIEW,
    JSON,
    home_click,
    open_home,
    published,
)
from tests.integration.slack.slack_harness import (
    APPROVER,
    OUTSIDER,
    REQUESTER,
    SECRET,
    TABLE,
    SlackHarness,
    seed_orders,
)


def seed_last_scan(table: StateTable, now: datetime, label: str) -> None:
    """What the last daily scan of orders-dlq found: all 5 read, one error group ``label``."""
    ScanFactsStore(table).put_all(
        [
            ScanFacts(
                dlq="orders-dlq",
                scanned_at=now - timedelta(hours=1),
                messages=5,
                complete=True,
                oldest_sent=now - timedelta(hours=2),
                next_expiry=now + timedelta(days=3),
                top_errors=(ErrorGroupFact(label, 4),),
            )
        ],
        now=now,
    )


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


# --- the Home tab published ---------------------------------------------------------------


def test_opening_the_home_tab_publishes_every_watched_dlq_with_its_true_figures(
    harness: SlackHarness,
) -> None:
    # Given two DLQs on moto, the daily reports' depths of orders-dlq and its last scan
    seed_orders(harness.sqs, 5)
    seed_orders(harness.sqs, 2, name="payments")
    table = StateTable(TABLE, boto3.client("dynamodb"))
    now = datetime.now(UTC)
    today = now.astimezone(UTC).date()
    trend = {today - timedelta(days=back): 10 + back for back in range(1, 6)}
    SnapshotStore(table).put_all(
        [Snapshot("orders-dlq", day, depth, exact=True) for day, depth in trend.items()],
        taken_at=now,
    )
    seed_last_scan(table, now, "Timeout <!channel> & <https://evil.example|click>")

    # When Alice opens the app's Home tab
    ack = open_home(harness)
    assert ack["statusCode"] == 200
    harness.settle()

    # Then her Home tab was published once, valid and within Slack's limits
    assert [c.body["user_id"] for c in harness.calls("views.publish")] == [REQUESTER]
    text = json.dumps(published(harness)["blocks"])
    # with every figure as seeded: SQS's approximate depths, the reports' trend, the scan's
    assert "*2* watched DLQ(s): *about 7* message(s)" in text
    assert "`orders-dlq`" in text and "Depth *about 5*" in text and "Depth *about 2*" in text
    for day, depth in trend.items():
        assert f"{short_day(day)} {depth}" in text
    assert "read all 5" in text
    # and the error label, untrusted, shown inert
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    # and each DLQ's buttons carry its name
    assert json.dumps(json.dumps({"queue": "payments-dlq"}, separators=(",", ":"))) in text


def test_error_labels_are_shown_only_to_those_who_may_read_bodies(harness: SlackHarness) -> None:
    # Given the last scan's error group, its label read from the bodies
    seed_orders(harness.sqs, 5)
    seed_last_scan(StateTable(TABLE, boto3.client("dynamodb")), datetime.now(UTC), "Jane Doe")
    # When an approver and someone neither approver nor viewer open their Home tabs
    open_home(harness, REQUESTER, event_id="Ev0A")
    open_home(harness, OUTSIDER, event_id="Ev0B")
    harness.settle()
    # Then only the approver sees the label; the other is told why it is missing
    assert "Jane Doe" in json.dumps(published(harness, REQUESTER)["blocks"])
    outsider = json.dumps(published(harness, OUTSIDER)["blocks"])
    assert "Jane Doe" not in outsider and "Error groups are not shown" in outsider
    assert "read all 5" in outsider


def test_more_dlqs_than_a_home_tab_holds_are_summarised_within_slacks_limits(
    harness: SlackHarness,
) -> None:
    # Given 60 watched DLQs (two blocks each would be 120), one of them holding 3 messages
    seed_orders(harness.sqs, 3)
    for n in range(59):
        create_pair(harness.sqs, f"svc{n:02d}")
    # When the Home tab is opened
    open_home(harness)
    harness.settle()
    # Then Slack accepted it (at most 100 blocks, checked by the local server and View)
    view = published(harness)
    text = json.dumps(view["blocks"], ensure_ascii=False)
    assert "*60* watched DLQ(s): *about 3* message(s)" in text
    # and the DLQs not shown are counted in one block, deepest first shown
    shown = sum(1 for b in view["blocks"] if b["type"] == "actions")
    assert f"*…and {60 - shown} more DLQ(s)*" in text and "Depth *about 3*" in text
    assert text.index("`orders-dlq`") < text.index("more DLQ(s)")


def test_opening_the_home_tab_receives_no_message(harness: SlackHarness) -> None:
    # Given a DLQ and each message's receive count
    pair = seed_orders(harness.sqs, 3)
    before = receive_counts(harness, pair)
    # When the Home tab is opened and published
    open_home(harness)
    harness.settle()
    assert harness.calls("views.publish")
    # Then no message was received for it: only this test's own receive counts
    assert receive_counts(harness, pair) == {m: n + 1 for m, n in before.items()}


def test_the_approvers_home_tab_lists_a_pending_request(harness: SlackHarness) -> None:
    # Given Alice asked for a redrive of orders-dlq (its card is in the channel)
    seed_orders(harness.sqs, 4)
    request_id = harness.request_card()
    # When Bob, an approver, opens his Home tab
    open_home(harness, APPROVER)
    harness.settle()
    # Then it lists the request, with how many it would move
    text = json.dumps(published(harness, APPROVER)["blocks"])
    assert "*Pending approvals* (1)" in text and request_id in text and "4 message(s)" in text


def test_slacks_retries_of_one_event_publish_once(harness: SlackHarness) -> None:
    seed_orders(harness.sqs, 1)
    # When Slack delivers the same event three times (its retries, each signed anew)
    answers = [open_home(harness, event_id="Ev0RETRY", retry=n or None) for n in range(3)]
    harness.settle()
    # Then each is acknowledged, and the Home tab is published once
    assert [a["statusCode"] for a in answers] == [200, 200, 200]
    assert len(harness.calls("views.publish")) == 1
    # while another event of the same person publishes again
    open_home(harness, event_id="Ev0OTHER")
    harness.settle()
    assert len(harness.calls("views.publish")) == 2


def test_an_event_the_worker_could_not_take_is_refused_so_slack_retries_it(
    harness: SlackHarness,
) -> None:
    seed_orders(harness.sqs, 1)
    # Given Lambda refusing every attempt to invoke the worker
    harness.lambdas.fault("worker", status=500, times=3)
    # When the event arrives: not a 200, so Slack delivers it again
    assert open_home(harness, event_id="Ev0FAIL")["statusCode"] == 500
    assert harness.lambdas.faults_left("worker") == 0
    # And when Slack's retry arrives, the Home tab is published
    assert open_home(harness, event_id="Ev0FAIL", retry=1)["statusCode"] == 200
    harness.settle()
    assert len(harness.calls("views.publish")) == 1


def test_refresh_publishes_the_tab_again_with_what_changed(harness: SlackHarness) -> None:
    # Given Alice's Home tab, published with orders-dlq holding 2 messages
    seed_orders(harness.sqs, 2)
    open_home(harness)
    harness.settle()
    assert "Depth *about 2*" in json.dumps(published(harness)["blocks"])
    # When 3 more arrive and she clicks Refresh
    seed_orders(harness.sqs, 3)
    ack, _ = home_click(harness, ActionId.HOME_REFRESH)
    assert ack["statusCode"] == 200
    harness.settle()
    # Then the tab is published again with the new depth
    assert len(harness.calls("views.publish")) == 2
    assert "Depth *about 5*" in json.dumps(published(harness)["blocks"])


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


def test_a_peek_the_worker_could_not_take_says_so_in_the_modal(harness: SlackHarness) -> None:
    seed_orders(harness.sqs, 1)
    # Given Lambda refusing every attempt to invoke the worker
    harness.lambdas.fault("worker", status=500, times=3)
    # When Peek is clicked on the Home tab
    home_click(harness, ActionId.HOME_PEEK, peek_value("orders-dlq"))
    # Then the loading modal opened, and the endpoint replaced it with why nothing comes
    assert harness.lambdas.faults_left("worker") == 0
    (updated,) = harness.calls("views.update")
    assert "Could not start the work" in json.dumps(modal_of(harness, updated.body["view_id"]))
    harness.settle()
    assert harness.lambdas.calls_to("worker") == []


def test_the_published_tabs_peek_button_opens_the_modal_of_its_dlq(harness: SlackHarness) -> None:
    # Given Alice's published Home tab, orders-dlq holding two orders
    seed_orders(harness.sqs, 2)
    open_home(harness)
    harness.settle()
    # When she clicks the Peek button the tab shows for orders-dlq, with the value it carries
    peek = next(
        element
        for block in published(harness)["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == ActionId.HOME_PEEK
    )
    home_click(harness, ActionId.HOME_PEEK, peek["value"])
    harness.settle()
    # Then the endpoint takes the value, and the modal shows that DLQ's messages
    (updated,) = harness.calls("views.update")
    assert "showing 2 of ~2 visible" in json.dumps(modal_of(harness, updated.body["view_id"]))


def test_a_home_tab_click_of_another_workspace_is_refused_and_nothing_runs(
    harness: SlackHarness,
) -> None:
    seed_orders(harness.sqs, 1)
    # When a Home tab Peek click comes from another workspace (signed: Slack sent it)
    body = view_action_body(
        str(ActionId.HOME_PEEK),
        peek_value("orders-dlq"),
        user=OUTSIDER,
        view=HOME_VIEW,
        team="T_OTHER",
        trigger_id=harness.slack.state.modals.new_trigger(),
    )
    answer = harness.send(http_event(body, SECRET))
    # Then it is acknowledged, and no modal is opened and no work handed over
    assert answer["statusCode"] == 200
    harness.settle()
    assert harness.calls("views.open") == [] and harness.lambdas.calls_to("worker") == []
