"""The request modal, end to end (issue 14): signed requests into the real endpoint
(handlers.slack.handler), the worker on the local Lambda server, Slack's Web API on the local Slack
server (views.open / views.update with Slack's rules, every view checked by slack_sdk's models),
SQS and DynamoDB on moto."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from slack_sdk.models.views import View

from bot.daily.scan_facts import ScanFactsStore
from bot.slack.home_model import ErrorGroupFact, ScanFacts
from bot.slack.ids import ActionId
from bot.slack.request_form import (
    REQUEST_FIELD_CHANNEL,
    REQUEST_FIELD_DAY,
    REQUEST_FIELD_LIMIT,
    REQUEST_FIELD_QUEUE,
    REQUEST_FIELD_TIME_FIELD,
    REQUEST_FIELD_UNTIL,
)
from infra.local.scene import count, create_pair, put_in_dlq
from infra.local.slack_events import http_event, view_action_body
from tests.integration.slack.request_world import (
    RequestWorld,
    count_line,
    filled,
    modal_text,
    state,
    worker_jobs,
)
from tests.integration.slack.slack_harness import (
    APPROVER,
    CHANNEL,
    OUTSIDER,
    REQUESTER,
    SECRET,
    SlackHarness,
    ack_text,
    seed_orders,
)

OTHER_CHANNEL = "C_INCIDENTS"
BUCKET = "dlq-archive"


@pytest.fixture
def slack_env(slack_env: dict[str, str]) -> dict[str, str]:
    """The app with an archive bucket (ARCHIVE_BUCKET) on moto's S3, for the modal's Export, and
    error groups named by the ``error`` attribute (ERROR_ATTRIBUTE)."""
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    return {**slack_env, "ARCHIVE_BUCKET": BUCKET, "ERROR_ATTRIBUTE": "error"}


def test_the_command_with_no_text_opens_the_modal_at_once_and_the_worker_fills_it(
    harness: SlackHarness,
) -> None:
    # Given a DLQ with 5 messages
    seed_orders(harness.sqs, 5)
    world = RequestWorld(harness)

    # When the requester types /dlq-redrive with nothing after it
    ack = world.command("", user=REQUESTER)

    # Then the endpoint opened the loading modal before its ack, and acked with no message
    assert ack["statusCode"] == 200 and ack_text(ack) == ""
    (opened,) = harness.calls("views.open")
    assert opened.refused is None
    assert opened.body["view"]["callback_id"] == ActionId.REQUEST_MODAL
    # And the worker replaced it (the same view, with the hash views.open answered) by the form
    harness.settle()
    (updated,) = harness.calls("views.update")
    assert updated.refused is None and updated.body["hash"]
    view = world.modal()
    View(**view).validate_json()
    queue_block = next(b for b in view["blocks"] if b.get("block_id") == REQUEST_FIELD_QUEUE)
    assert "orders-dlq" in json.dumps(queue_block)
    # the card's channel is preset to where the command was typed, the ticket is sealed in it
    channel_block = next(b for b in view["blocks"] if b.get("block_id") == REQUEST_FIELD_CHANNEL)
    assert channel_block["element"]["initial_conversation"] == CHANNEL
    assert view["private_metadata"]
    # And nothing was received from the DLQ to fill it
    assert count(harness.sqs, "orders-dlq") == 5


def test_redrive_with_no_queue_opens_the_modal_and_typed_flags_still_work(
    harness: SlackHarness,
) -> None:
    # Given a DLQ with 3 messages
    seed_orders(harness.sqs, 3)
    world = RequestWorld(harness)

    # When the requester types /dlq-redrive redrive, then the full typed command
    world.command("redrive", user=REQUESTER)
    harness.settle()
    typed = harness.command("redrive orders-dlq --limit 2")
    harness.settle()

    # Then the first opened the modal, and the typed one posted its card as before
    assert len(harness.calls("views.open")) == 1
    assert "Counting what would move" in ack_text(typed)
    request = harness.state.get_request(harness.request_id())
    assert request is not None and request.matched == 2


def test_count_shows_exactly_what_is_in_the_dlq(harness: SlackHarness) -> None:
    # Given the filled modal over a DLQ with 5 messages, 2 of them for tenant acme
    world, view = filled(harness, 5)
    pair_dlq = harness.sqs.get_queue_url(QueueName="orders-dlq")["QueueUrl"]
    for _ in range(2):
        harness.sqs.send_message(QueueUrl=pair_dlq, MessageBody='{"tenant": "acme"}')

    # When the requester counts every message, then only acme's
    every = world.count(view, state(queue="orders-dlq", selection="all"), user=REQUESTER)
    acme = world.count(
        every,
        state(queue="orders-dlq", selection="field", where="tenant=acme"),
        user=REQUESTER,
    )

    # Then each count line says the exact figures (the count saw every message)
    assert "*7* message(s) match; *7* would move" in count_line(every)
    assert "*2* message(s) match; *2* would move" in count_line(acme)
    assert "at least" not in count_line(acme)
    # And the messages are all still in the DLQ
    assert count(harness.sqs, "orders-dlq") == 7


def test_a_valid_submission_posts_the_card_in_the_chosen_channel_with_the_note(
    harness: SlackHarness,
) -> None:
    # Given the filled modal over a DLQ with 5 messages
    world, view = filled(harness, 5)
    note = "consumer fixed in v2.3 <!channel> see <https://evil.example|runbook>"

    # When the requester submits every message, a note, and another channel
    answer = world.submit(
        view,
        state(queue="orders-dlq", selection="all", note=note, channel=OTHER_CHANNEL),
        user=REQUESTER,
    )

    # Then the modal says where the card goes, and the card is there with the note escaped
    assert answer["response_action"] == "update"
    assert f"<#{OTHER_CHANNEL}>" in json.dumps(answer["view"])
    harness.settle()
    card = harness.card().body
    assert card["channel"] == OTHER_CHANNEL
    text = json.dumps(card["blocks"])
    assert "consumer fixed in v2.3" in text
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text and "<https://" not in text
    # And the request counted exactly the 5 seeded messages, and holds the note
    request = harness.state.get_request(harness.request_id())
    assert request is not None
    assert (request.matched, request.count_complete, request.channel) == (5, True, OTHER_CHANNEL)
    assert request.note == note and request.requester == REQUESTER
    # And the modal was told where the card is
    assert f"<#{OTHER_CHANNEL}>" in modal_text(world.modal())


def test_approving_afterwards_moves_exactly_what_was_counted(harness: SlackHarness) -> None:
    # Given a modal request of 5 messages, counted and carded
    world, view = filled(harness, 5)
    counted = world.count(view, state(queue="orders-dlq", selection="all"), user=REQUESTER)
    assert "*5* message(s) match" in count_line(counted)
    world.submit(counted, state(queue="orders-dlq", selection="all"), user=REQUESTER)
    harness.settle()
    # and 3 more messages reach the DLQ after the count
    dlq = harness.sqs.get_queue_url(QueueName="orders-dlq")["QueueUrl"]
    for i in range(3):
        harness.sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"late": i}))

    # When an approver approves the card
    harness.click(
        ActionId.APPROVE, harness.request_id(), user=APPROVER, message_ts=harness.card_ts()
    )
    harness.settle()

    # Then exactly the 5 counted moved back to the source, and the 3 later ones stayed
    assert count(harness.sqs, "orders") == 5
    assert count(harness.sqs, "orders-dlq") == 3


def test_invalid_submissions_are_refused_on_their_field_and_nothing_is_handed_over(
    harness: SlackHarness,
) -> None:
    # Given the filled modal, showing a day's field, then a range's (the radio dispatches)
    world, view = filled(harness, 2)
    by_day = world.count(view, state(queue="orders-dlq", selection="day"), user=REQUESTER)
    by_range = world.count(by_day, state(queue="orders-dlq", selection="range"), user=REQUESTER)
    jobs = worker_jobs(harness)

    # When it is submitted with a bad day, a range ending before it starts, a limit of 0,
    # and no DLQ
    bad_day = world.submit(
        by_day, state(queue="orders-dlq", selection="day", day="2026-13-45"), user=REQUESTER
    )
    backwards = world.submit(
        by_range,
        state(
            queue="orders-dlq",
            selection="range",
            since=int(time.time()) - 60,
            until=int(time.time()) - 3_600,
        ),
        user=REQUESTER,
    )
    zero = world.submit(view, state(queue="orders-dlq", selection="all", limit="0"), user=REQUESTER)
    no_queue = world.submit(view, state(selection="all"), user=REQUESTER)

    # Then each is refused on its own field, saying why
    assert bad_day["response_action"] == "errors"
    assert "2026-13-45" in bad_day["errors"][REQUEST_FIELD_DAY]
    assert "before" in backwards["errors"][REQUEST_FIELD_UNTIL]
    assert "at least 1" in zero["errors"][REQUEST_FIELD_LIMIT]
    assert no_queue["errors"][REQUEST_FIELD_QUEUE] == "Choose a DLQ."
    # And nothing reached the worker: no job, no card, no request
    harness.settle()
    assert worker_jobs(harness) == jobs
    assert harness.calls("chat.postMessage") == []
    assert count(harness.sqs, "orders-dlq") == 2


def test_a_forged_or_stale_submission_or_click_is_refused(harness: SlackHarness) -> None:
    # Given the filled modal
    world, view = filled(harness, 2)
    jobs = worker_jobs(harness)
    valid = state(queue="orders-dlq", selection="all")

    # When a submission comes with a wrong signature, or ten minutes old, and so does a click
    forged = world.submit(view, valid, user=REQUESTER, signature="v0=" + "0" * 64)
    stale = world.submit(view, valid, user=REQUESTER, timestamp=int(time.time()) - 600)
    forged_click = world.change(view, valid, user=REQUESTER, signature="v0=" + "1" * 64)
    stale_click = world.change(view, valid, user=REQUESTER, timestamp=int(time.time()) - 600)

    # Then Bolt refuses each, and nothing reached the worker
    assert [forged["status"], stale["status"]] == [401, 401]
    assert [forged_click["statusCode"], stale_click["statusCode"]] == [401, 401]
    harness.settle()
    assert worker_jobs(harness) == jobs
    assert harness.calls("chat.postMessage") == []


def test_another_person_cannot_use_someones_modal(harness: SlackHarness) -> None:
    # Given the requester's filled modal
    world, view = filled(harness, 2)
    jobs = worker_jobs(harness)
    valid = state(queue="orders-dlq", selection="all")

    # When someone else submits it, or clicks Count in it (its view id and ticket)
    answer = world.submit(view, valid, user=OUTSIDER)
    world.change(view, valid, user=OUTSIDER)

    # Then the submission is refused on the form, and neither reached the worker
    assert answer["response_action"] == "errors"
    assert "someone else" in answer["errors"][REQUEST_FIELD_QUEUE]
    harness.settle()
    assert worker_jobs(harness) == jobs
    assert harness.calls("chat.postMessage") == []


def test_a_ticket_moved_to_another_view_is_refused(harness: SlackHarness) -> None:
    # Given the requester's filled modal, and its ticket copied into another view id
    world, view = filled(harness, 2)
    moved = {**view, "id": "V99999999"}

    # When that view is submitted by the requester
    answer = world.submit(moved, state(queue="orders-dlq", selection="all"), user=REQUESTER)

    # Then it is refused
    assert answer["response_action"] == "errors"
    assert "someone else" in answer["errors"][REQUEST_FIELD_QUEUE]


def test_a_submission_of_the_loading_modal_is_refused(harness: SlackHarness) -> None:
    # Given a modal still loading (its ticket not sealed yet)
    seed_orders(harness.sqs, 1)
    world = RequestWorld(harness)
    world.command("", user=REQUESTER)
    (opened,) = harness.calls("views.open")
    loading = {**opened.body["view"], "id": "V00000001", "private_metadata": ""}

    # When it is submitted anyway
    answer = world.submit(loading, state(queue="orders-dlq", selection="all"), user=REQUESTER)

    # Then it is refused (on the selection: the loading view has no DLQ field)
    assert answer["response_action"] == "errors"
    assert "wait for it to load" in json.dumps(answer["errors"])
    harness.settle()


def test_the_home_tabs_redrive_opens_the_modal_with_the_dlq_counted(
    harness: SlackHarness,
) -> None:
    # Given a DLQ with 4 messages
    seed_orders(harness.sqs, 4)
    world = RequestWorld(harness)

    # When Redrive… of orders-dlq is clicked on the Home tab
    ack = world.home_click(ActionId.HOME_REDRIVE, "orders-dlq", user=REQUESTER)
    harness.settle()

    # Then the modal opened at once and the worker filled it with that DLQ, counted exactly
    assert ack["statusCode"] == 200
    view = world.modal()
    assert "*4* message(s) match; *4* would move" in count_line(view)
    assert count(harness.sqs, "orders-dlq") == 4


def test_the_outcome_goes_to_the_dm_when_the_modal_was_closed(harness: SlackHarness) -> None:
    # Given the filled modal over an empty selection (nothing for that day)
    world, view = filled(harness, 2)
    # and the person closes the modal before the worker answers
    harness.slack.state.refuse("views.update", "not_found")

    # When it is submitted
    answer = world.submit(
        view, state(queue="orders-dlq", selection="day", day="2020-01-01"), user=REQUESTER
    )
    harness.settle()

    # Then the outcome ("nothing to redrive") is sent to the person's DM with the app
    assert answer["response_action"] == "update"
    (dm,) = harness.calls("chat.postMessage")
    assert dm.body["channel"] == REQUESTER
    assert "orders-dlq" in json.dumps(dm.body)


def test_a_channel_where_the_app_is_not_enabled_is_refused_on_the_channel_field(
    harness: SlackHarness,
) -> None:
    # Given the app enabled in the ops channel only, and the filled modal
    harness.env["ALLOWED_CHANNELS"] = CHANNEL
    import handlers.slack

    handlers.slack.endpoint.reset(harness.env)
    world, view = filled(harness, 2)
    jobs = worker_jobs(harness)

    # When the card is asked for in another channel
    answer = world.submit(
        view, state(queue="orders-dlq", selection="all", channel=OTHER_CHANNEL), user=REQUESTER
    )

    # Then it is refused on the channel field, naming where it may go, and nothing is asked
    assert answer["response_action"] == "errors"
    assert f"#{CHANNEL}" in answer["errors"][REQUEST_FIELD_CHANNEL]
    harness.settle()
    assert worker_jobs(harness) == jobs
    assert harness.calls("chat.postMessage") == []


def _exported() -> list[dict[str, Any]]:
    s3 = boto3.client("s3")
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="exports/").get("Contents", [])
    return [
        json.loads(line)
        for key in sorted(o["Key"] for o in listed)
        for line in s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode().splitlines()
    ]


def test_export_writes_what_the_form_selects_to_s3_and_says_so_in_the_modal(
    harness: SlackHarness,
) -> None:
    # Given the filled modal over a DLQ with 4 messages
    world, view = filled(harness, 4)

    # When the requester exports at most 3 of them
    answer = world.submit(
        view, state(queue="orders-dlq", action="export", selection="all", limit="3"), user=REQUESTER
    )
    harness.settle()

    # Then the modal said it was exporting, then where 3 records went; no card was asked for
    assert answer["response_action"] == "update"
    assert "Exporting" in json.dumps(answer["view"])
    text = modal_text(world.modal())
    assert "Exported *3* message(s)" in text and f"s3://{BUCKET}/exports/" in text
    assert harness.calls("chat.postMessage") == []
    # And S3 holds exactly 3 records of the DLQ's messages, which all stay in the DLQ
    records = _exported()
    assert len(records) == 3
    assert count(harness.sqs, "orders-dlq") == 4


def test_someone_who_may_not_read_bodies_cannot_export(harness: SlackHarness) -> None:
    # Given a DLQ, and the modal opened by someone outside the approvers and VIEWERS
    seed_orders(harness.sqs, 2)
    world = RequestWorld(harness)
    view = world.open(user=OUTSIDER)

    # When they submit an export
    world.submit(view, state(queue="orders-dlq", action="export", selection="all"), user=OUTSIDER)
    harness.settle()

    # Then the modal says why not, and nothing was written or received
    assert "Exporting reads message bodies" in modal_text(world.modal())
    assert _exported() == []


def test_the_home_tabs_export_opens_the_modal_for_an_export_counted(
    harness: SlackHarness,
) -> None:
    # Given a DLQ with 3 messages
    seed_orders(harness.sqs, 3)
    world = RequestWorld(harness)

    # When Export… of orders-dlq is clicked on the Home tab
    world.home_click(ActionId.HOME_EXPORT, "orders-dlq", user=REQUESTER)
    harness.settle()

    # Then the modal is an export of that DLQ (no card channel), counted exactly
    view = world.modal()
    assert view["submit"]["text"] == "Export"
    assert "*3* message(s) match and would be exported" in count_line(view)
    assert REQUEST_FIELD_CHANNEL not in modal_text(view)


def test_a_home_click_with_a_bad_value_is_answered_in_a_modal(harness: SlackHarness) -> None:
    # Given a Home tab click whose value names no queue
    world = RequestWorld(harness)
    body = view_action_body(
        ActionId.HOME_REDRIVE.value,
        '{"queue": "<!channel>"}',
        user=REQUESTER,
        view={"id": "VHOME", "type": "home", "hash": "h", "blocks": []},
        trigger_id=harness.slack.state.modals.new_trigger(),
    )

    # When it reaches the endpoint
    ack = harness.send(http_event(body, SECRET))
    harness.settle()

    # Then the only answer it can have is a modal saying so; nothing reached the worker
    assert ack["statusCode"] == 200
    text = modal_text(world.modal())
    assert ":x:" in text and "<!channel>" not in text
    assert worker_jobs(harness) == 0


def test_a_count_for_a_modal_state_since_replaced_is_dropped(harness: SlackHarness) -> None:
    # Given the filled modal, counted for every message (the modal updated since)
    world, view = filled(harness, 5)
    every = world.count(view, state(queue="orders-dlq", selection="all"), user=REQUESTER)
    assert "*5* message(s) match" in count_line(every)

    # When a click made on the modal before that update is handled only now
    world.change(view, state(queue="orders-dlq", selection="all", limit="2"), user=REQUESTER)
    harness.settle()

    # Then Slack refused its update (the hash it carried is stale), and the modal still shows
    # the newer state's count
    last = harness.calls("views.update")[-1]
    assert last.body["hash"] == view["hash"]
    assert "*5* message(s) match" in count_line(world.modal())


def test_a_card_channel_the_app_cannot_post_in_is_said_in_the_modal(
    harness: SlackHarness,
) -> None:
    # Given the filled modal, and a chosen channel the bot is not a member of
    world, view = filled(harness, 2)
    harness.slack.state.refuse("chat.postMessage", "not_in_channel")

    # When it is submitted
    world.submit(
        view, state(queue="orders-dlq", selection="all", channel=OTHER_CHANNEL), user=REQUESTER
    )
    harness.settle()

    # Then the modal says the card could not be posted, with Slack's reason; nothing moved
    text = modal_text(world.modal())
    assert "not_in_channel" in text
    assert count(harness.sqs, "orders-dlq") == 2


def test_the_error_groups_of_the_last_scan_are_offered_and_count_exactly(
    harness: SlackHarness,
) -> None:
    # Given a DLQ with 3 Timeout and 2 Throttled messages, and the last daily scan's facts
    pair = create_pair(harness.sqs, "orders")
    for label, n in (("Timeout <!here>", 3), ("Throttled", 2)):
        attributes = {"error": {"DataType": "String", "StringValue": label}}
        put_in_dlq(
            harness.sqs, pair, [json.dumps({"order": i}) for i in range(n)], attributes=attributes
        )
    now = datetime.now(UTC)
    groups = (ErrorGroupFact("Timeout <!here>", 3), ErrorGroupFact("Throttled", 2))
    ScanFactsStore(harness.state.table).put_all(
        [ScanFacts("orders-dlq", now, 5, True, now, None, groups)], now=now
    )
    world = RequestWorld(harness)
    view = world.open(user=REQUESTER)

    # When the requester chooses the error-group selection, then picks Timeout
    by_error = world.count(view, state(queue="orders-dlq", selection="error"), user=REQUESTER)
    timeout = world.count(
        by_error,
        state(queue="orders-dlq", selection="error", error="Timeout <!here>"),
        user=REQUESTER,
    )

    # Then both groups were offered (escaped, as plain text), and Timeout counts exactly 3
    offered = modal_text(by_error)
    assert "Timeout &lt;!here&gt;" in offered or "Timeout <!here>" in offered
    assert "Throttled" in offered
    assert "*3* message(s) match; *3* would move" in count_line(timeout)


def test_selecting_by_a_body_field_needs_a_viewer_as_the_typed_flag_does(
    harness: SlackHarness,
) -> None:
    # Given a DLQ, and the modal opened by someone outside the approvers and VIEWERS
    seed_orders(harness.sqs, 2)
    world = RequestWorld(harness)
    view = world.open(user=OUTSIDER)
    by_day = world.count(view, state(queue="orders-dlq", selection="yesterday"), user=OUTSIDER)
    values = state(queue="orders-dlq", selection="yesterday")
    values.update(
        {
            REQUEST_FIELD_TIME_FIELD: {
                REQUEST_FIELD_TIME_FIELD: {"type": "plain_text_input", "value": "occurredAt"}
            }
        }
    )

    # When they count yesterday's messages by the body's occurredAt, then submit it
    counted = world.count(by_day, values, user=OUTSIDER)
    world.submit(counted, values, user=OUTSIDER)
    harness.settle()

    # Then the count says why not, as `/dlq-redrive redrive ... --time-field` would, and no
    # card was asked for
    assert "reads message bodies" in count_line(counted)
    assert "reads message bodies" in modal_text(world.modal())
    assert harness.calls("chat.postMessage") == []


def test_the_command_in_a_channel_where_the_app_is_not_enabled_opens_nothing(
    harness: SlackHarness,
) -> None:
    # Given the app enabled in the ops channel only
    harness.env["ALLOWED_CHANNELS"] = CHANNEL
    import handlers.slack

    handlers.slack.endpoint.reset(harness.env)
    world = RequestWorld(harness)

    # When /dlq-redrive is typed in another channel
    ack = world.command("", user=REQUESTER, channel=OTHER_CHANNEL)

    # Then the ack says where it may be used, and no modal was opened
    assert "not enabled in this channel" in ack_text(ack)
    assert harness.calls("views.open") == []
