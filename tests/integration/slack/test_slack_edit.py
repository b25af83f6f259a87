"""Edit & resend from a peek, end to end: signed requests into the real endpoint, the worker on
the local Lambda server, Slack's Web API on the local Slack server (views.open / views.update
with Slack's rules), SQS and DynamoDB on moto."""

from __future__ import annotations

import hashlib
import json

from bot.slack.edit_modal import MAX_INPUT_CHARS
from bot.slack.ids import ActionId
from infra.local.scene import create_pair, put_in_dlq
from tests.integration.slack.edit_world import (
    EditWorld,
    dlq_messages,
    field_error,
    modal_text,
)
from tests.integration.slack.slack_harness import (
    APPROVER,
    CHANNEL,
    OUTSIDER,
    REQUESTER,
    SlackHarness,
)

ORDER = {"order": 7, "customer": {"email": "a@example.com"}, "status": "failed"}


def _world(harness: SlackHarness, body: str = json.dumps(ORDER)) -> tuple[EditWorld, str]:
    pair = create_pair(harness.sqs, "orders")
    put_in_dlq(
        harness.sqs,
        pair,
        [body],
        attributes={"tenant": {"DataType": "String", "StringValue": "acme"}},
    )
    (message,) = dlq_messages(harness.sqs, pair.dlq_url)
    return EditWorld(harness, pair), message.message_id


def test_the_click_opens_a_modal_at_once_and_the_worker_fills_it_with_the_body(
    harness: SlackHarness,
) -> None:
    # Given a JSON order in the DLQ
    world, message_id = _world(harness)

    # When a viewer clicks Edit & resend on the peeked message
    ack = world.click(message_id, user=REQUESTER)

    # Then the endpoint opened the loading modal before its ack, with the click's trigger
    assert ack["statusCode"] == 200
    (opened,) = harness.calls("views.open")
    assert opened.refused is None
    assert "Reading" in json.dumps(opened.body["view"])
    # And the worker replaced it (same view, with the hash views.open answered) with the body
    harness.settle()
    (updated,) = harness.calls("views.update")
    assert updated.refused is None and updated.body["hash"]
    view = world.modal()
    (field,) = [b for b in view["blocks"] if b["type"] == "input"]
    assert field["element"]["initial_value"] == json.dumps(ORDER)
    assert field["element"]["multiline"] is True
    assert field["element"]["max_length"] == MAX_INPUT_CHARS
    assert view["submit"]["text"] == "Ask for approval"
    assert "must be too" in modal_text(view)  # it says the body must stay JSON
    # And the message is still in the DLQ, visible again
    assert [m.message_id for m in dlq_messages(harness.sqs, world.pair.dlq_url)] == [message_id]


def test_a_valid_submission_posts_the_approval_card_with_the_diff(harness: SlackHarness) -> None:
    # Given the filled modal
    world, message_id = _world(harness)
    view = world.open_form(message_id, user=REQUESTER)
    edited = json.dumps({**ORDER, "status": "retry", "note": "<!channel> fixed"})

    # When the viewer submits a changed JSON body
    answer = world.submit(view, edited, user=REQUESTER)

    # Then the modal says a card is coming, and the card shows the change as a diff
    assert answer["response_action"] == "update"
    harness.settle()
    card = harness.card().body
    assert card["channel"] == CHANNEL
    text = json.dumps(card["blocks"])
    assert "Edit &amp; resend request" in text or "Edit & resend request" in text
    assert '-  \\"status\\": \\"failed\\"' in text
    assert '+  \\"status\\": \\"retry\\"' in text
    # the body's text is escaped: no live mention on the card
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    # And the request holds the edit, with the sha256 of both bodies, for the audit
    request = harness.state.get_request(harness.request_id())
    assert request is not None
    assert request.action == "edit" and request.edit_message_id == message_id
    assert request.edit_body == edited
    assert request.old_body_sha256 != request.new_body_sha256
    (requested,) = harness.state.events(request.request_id)
    assert requested["actor"] == REQUESTER
    assert requested["detail"]["action"] == "edit"
    assert (
        requested["detail"]["old_body_sha256"]
        == hashlib.sha256(json.dumps(ORDER).encode()).hexdigest()
    )
    assert requested["detail"]["new_body_sha256"] == hashlib.sha256(edited.encode()).hexdigest()
    # And the modal was told where the card is
    assert f"<#{CHANNEL}>" in modal_text(world.modal())


def test_approval_sends_the_edited_copy_to_the_source_then_deletes_the_original(
    harness: SlackHarness,
) -> None:
    # Given an edit asked for and its card
    world, message_id = _world(harness)
    view = world.open_form(message_id, user=REQUESTER)
    edited = json.dumps({**ORDER, "status": "retry"})
    world.submit(view, edited, user=REQUESTER)
    harness.settle()

    # When an approver approves it
    harness.click(
        ActionId.APPROVE, harness.request_id(), user=APPROVER, message_ts=harness.card_ts()
    )
    harness.settle()

    # Then the source queue has the edited copy, with its attributes and the counter
    (copy,) = dlq_messages(harness.sqs, world.pair.source_url)
    assert copy.body == edited
    assert copy.attributes["tenant"]["StringValue"] == "acme"
    assert copy.attributes["dlq-redrive-count"]["StringValue"] == "1"
    # And the original is gone from the DLQ
    assert dlq_messages(harness.sqs, world.pair.dlq_url) == []


def test_invalid_submissions_get_field_errors_and_change_nothing(harness: SlackHarness) -> None:
    # Given the filled modal of a JSON body
    world, message_id = _world(harness)
    view = world.open_form(message_id, user=REQUESTER)

    # When the body is submitted not as JSON, too long, or unchanged
    not_json = field_error(world.submit(view, "{status: retry", user=REQUESTER))
    too_long = field_error(world.submit(view, "x" * (MAX_INPUT_CHARS + 1), user=REQUESTER))
    unchanged = field_error(world.submit(view, json.dumps(ORDER), user=REQUESTER))

    # Then each is refused on the field, saying why
    assert "must be JSON too" in not_json
    assert "At most 3,000 characters" in too_long and "--body-file" in too_long
    assert "unchanged" in unchanged
    # And nothing was asked or sent: no card, no request, the message still in the DLQ
    harness.settle()
    assert harness.calls("chat.postMessage") == []
    assert [m.body for m in dlq_messages(harness.sqs, world.pair.dlq_url)] == [json.dumps(ORDER)]


def test_a_body_over_what_the_source_takes_is_refused_on_the_field(harness: SlackHarness) -> None:
    # Given a source queue that takes messages of at most 1,024 bytes
    world, message_id = _world(harness, body="short text body")
    harness.sqs.set_queue_attributes(
        QueueUrl=world.pair.source_url, Attributes={"MaximumMessageSize": "1024"}
    )
    view = world.open_form(message_id, user=REQUESTER)

    # When a 2,000-character body (under Slack's 3,000) is submitted
    problem = field_error(world.submit(view, "é" * 1_000, user=REQUESTER))

    # Then it is refused with the source's limit, the attributes' share taken off
    assert "2,000 bytes" in problem and "orders takes at most" in problem


def test_a_body_too_long_for_slack_gets_a_modal_pointing_to_the_command_line(
    harness: SlackHarness,
) -> None:
    # Given a message whose body is longer than a Slack text field takes
    world, message_id = _world(harness, body="y" * (MAX_INPUT_CHARS + 1))

    # When a viewer clicks Edit & resend
    view = world.open_form(message_id, user=REQUESTER)

    # Then the modal says so and names the command, with no field to submit
    text = modal_text(view)
    assert "too large to edit in Slack" in text
    assert f"dlq-redrive edit orders-dlq {message_id} --body-file FILE" in text
    assert "submit" not in view or not view.get("submit")


def test_someone_who_may_not_read_bodies_cannot_open_it(harness: SlackHarness) -> None:
    # Given a message in the DLQ
    world, message_id = _world(harness)
    before = dlq_messages(harness.sqs, world.pair.dlq_url)[0].receive_count

    # When someone outside the approvers and VIEWERS clicks Edit & resend
    view = world.open_form(message_id, user=OUTSIDER)

    # Then the modal refuses, shows no body, and nothing was received for them
    text = modal_text(view)
    assert "Message bodies can hold personal data" in text
    assert "customer" not in text
    after = dlq_messages(harness.sqs, world.pair.dlq_url)[0].receive_count
    assert after == before + 1  # only this test's own look


def test_a_trigger_is_used_once_and_expires_after_three_seconds(harness: SlackHarness) -> None:
    # Given a message and a click's trigger
    world, message_id = _world(harness)
    trigger = harness.slack.state.modals.new_trigger()
    world.click(message_id, user=REQUESTER, trigger=trigger)
    harness.settle()

    # When the same trigger is used again, and another one after its three seconds
    world.click(message_id, user=REQUESTER, trigger=trigger)
    late = harness.slack.state.modals.new_trigger()
    harness.slack.state.modals.triggers[late] -= 3.5  # handed out 3.5 s ago
    world.click(message_id, user=REQUESTER, trigger=late)
    harness.settle()

    # Then Slack refuses both, and the person is told to click again
    assert len(harness.calls("views.open")) == 3
    refusals = harness.responses()[-2:]
    assert all("Could not open the edit form" in r for r in refusals), refusals
    # And the first click's modal is the only one open
    assert len(harness.slack.state.modals.views) == 1


def _approve(harness: SlackHarness) -> None:
    harness.click(
        ActionId.APPROVE, harness.request_id(), user=APPROVER, message_ts=harness.card_ts()
    )
    harness.settle()


def test_an_edit_on_a_fifo_dlq_keeps_the_group_and_resends_to_the_fifo_source(
    harness: SlackHarness,
) -> None:
    # Given a FIFO DLQ with a message of group g7
    pair = create_pair(harness.sqs, "payments.fifo")
    put_in_dlq(harness.sqs, pair, ['{"payment": 1}'], group_id="g7")
    world = EditWorld(harness, pair)
    (message,) = dlq_messages(harness.sqs, pair.dlq_url)

    # When its body is edited and the edit approved
    view = world.open_form(message.message_id, user=REQUESTER)
    assert world.submit(view, '{"payment": 1, "retry": true}', user=REQUESTER)
    harness.settle()
    _approve(harness)

    # Then the FIFO source has the edited copy in the same group, and the DLQ is empty
    got = harness.sqs.receive_message(
        QueueUrl=pair.source_url, AttributeNames=["All"], MessageAttributeNames=["All"]
    )["Messages"]
    assert [m["Body"] for m in got] == ['{"payment": 1, "retry": true}']
    assert got[0]["Attributes"]["MessageGroupId"] == "g7"
    assert dlq_messages(harness.sqs, pair.dlq_url) == []


def test_a_copy_the_source_refuses_leaves_the_original_in_the_dlq(harness: SlackHarness) -> None:
    # Given an edit of a 2,000-byte body asked for while the source took it
    world, message_id = _world(harness, body="short text body")
    view = world.open_form(message_id, user=REQUESTER)
    world.submit(view, "z" * 2_000, user=REQUESTER)
    harness.settle()
    # and the source's limit lowered to 1,024 bytes before anyone approves
    harness.sqs.set_queue_attributes(
        QueueUrl=world.pair.source_url, Attributes={"MaximumMessageSize": "1024"}
    )

    # When an approver approves it
    _approve(harness)

    # Then nothing was sent, and the original is still in the DLQ, unchanged
    assert dlq_messages(harness.sqs, world.pair.source_url) == []
    assert [m.body for m in dlq_messages(harness.sqs, world.pair.dlq_url)] == ["short text body"]
    assert "failed" in harness.updates()[-1].lower()


def test_a_modal_closed_before_the_worker_fills_it_is_left_alone(harness: SlackHarness) -> None:
    # Given a person who closes the loading modal at once (Slack then knows no such view)
    world, message_id = _world(harness)
    harness.slack.state.refuse("views.update", "not_found")

    # When the worker comes to fill it
    world.click(message_id, user=REQUESTER)
    harness.settle()

    # Then nothing is said to anyone, and the message is in the DLQ as it was
    assert harness.responses() == []
    assert [m.message_id for m in dlq_messages(harness.sqs, world.pair.dlq_url)] == [message_id]


def test_the_peek_s_own_button_opens_the_form_of_its_message(harness: SlackHarness) -> None:
    # Given a peek of the DLQ, as a viewer sees it
    world, message_id = _world(harness)
    harness.command("peek orders-dlq")
    harness.settle()
    peeked = harness.calls("response_url")[-1].body["blocks"]
    (button,) = [
        element
        for block in peeked
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == ActionId.PEEK_EDIT.value
    ]

    # When its Edit & resend button is clicked, with the value the peek gave it
    assert json.loads(button["value"]) == {"queue": "orders-dlq", "message_id": message_id}
    world.click(message_id, user=REQUESTER, value=button["value"])
    harness.settle()

    # Then the form holds that message's body
    (field,) = [b for b in world.modal()["blocks"] if b["type"] == "input"]
    assert field["element"]["initial_value"] == json.dumps(ORDER)


def test_an_edit_of_a_message_gone_meanwhile_asks_nobody(harness: SlackHarness) -> None:
    # Given a filled modal, and the message taken from the DLQ meanwhile (another redrive)
    world, message_id = _world(harness)
    view = world.open_form(message_id, user=REQUESTER)
    got = harness.sqs.receive_message(QueueUrl=world.pair.dlq_url)["Messages"]
    harness.sqs.delete_message(QueueUrl=world.pair.dlq_url, ReceiptHandle=got[0]["ReceiptHandle"])

    # When the edit is submitted
    world.submit(view, json.dumps({**ORDER, "status": "retry"}), user=REQUESTER)
    harness.settle()

    # Then no approval is asked for, and the modal says why
    assert harness.calls("chat.postMessage") == []
    assert f"Message {message_id} was not found in orders-dlq" in modal_text(world.modal())
