"""Issue 12's Slack actions attacked as an unlucky operator or a racing crowd would: an approval
of an edit, a discard or a report button does exactly what its card showed and no more, whatever
the state table, the DLQ or other clicks do between the request and the run.

Through the real handlers (signed requests, the worker on the local Lambda endpoint, the local
Slack server), SQS, DynamoDB and S3 on moto."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

import handlers.worker
from bot.error_groups import label_digest
from bot.slack.ids import ActionId
from infra.local.moto_server import LocalAws
from infra.local.scene import QueuePair, count, create_pair, put_in_dlq
from tests.integration.slack.edit_world import EditWorld, dlq_messages
from tests.integration.slack.slack_harness import (
    APPROVER,
    APPROVER_2,
    REQUESTER,
    TABLE,
    SlackHarness,
    make_harness,
    slack_env,
)
from tests.integration.slack.test_slack_approval_integrity import (
    _deliver_to_failed,
    _failure_record,
)
from tests.integration.slack.test_slack_discard import BUCKET, archived

__all__ = ["slack_env"]  # fixtures

ORDER = json.dumps({"order": 7, "status": "failed"})
EDITED = json.dumps({"order": 7, "status": "retry"})
TIMEOUT = "Timeout calling payments"


@pytest.fixture
def harness(
    aws: LocalAws, slack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[SlackHarness]:
    """The app with an archive bucket (on moto's S3) and the report's ERROR_ATTRIBUTE."""
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    env = {**slack_env, "ARCHIVE_BUCKET": BUCKET, "ERROR_ATTRIBUTE": "error"}
    yield from make_harness(aws, env, monkeypatch)


def _approve(harness: SlackHarness, request_id: str, user: str = APPROVER) -> None:
    harness.click(ActionId.APPROVE, request_id, user=user, message_ts=harness.card_ts())
    harness.settle()


def _edit_requested(harness: SlackHarness) -> tuple[EditWorld, str, str]:
    """One JSON order in the DLQ, its edit submitted and its card posted: the world, the
    message id and the request id."""
    pair = create_pair(harness.sqs, "orders")
    put_in_dlq(harness.sqs, pair, [ORDER])
    (message,) = dlq_messages(harness.sqs, pair.dlq_url)
    world = EditWorld(harness, pair)
    view = world.open_form(message.message_id, user=REQUESTER)
    world.submit(view, EDITED, user=REQUESTER)
    harness.settle()
    return world, message.message_id, harness.request_id()


def _bodies(harness: SlackHarness, url: str) -> list[str]:
    return sorted(m.body for m in dlq_messages(harness.sqs, url))


def _dead_letter_later(harness: SlackHarness, pair: QueuePair, body: str, **extra: Any) -> None:
    """Send ``body`` to the source now; ``_fail`` makes SQS dead-letter it later, keeping this
    send's SentTimestamp (a standard DLQ keeps the original enqueue time)."""
    harness.sqs.send_message(QueueUrl=pair.source_url, MessageBody=body, **extra)


def _fail(harness: SlackHarness, pair: QueuePair) -> None:
    """The consumer fails what is in the source until SQS dead-letters it (maxReceiveCount)."""
    for _ in range(50):
        harness.sqs.receive_message(
            QueueUrl=pair.source_url, MaxNumberOfMessages=10, VisibilityTimeout=0
        )
        if count(harness.sqs, pair.source_url) == 0:
            return
    raise AssertionError("the source never dead-lettered its messages")


# --- an edit approves exactly the body on its card ----------------------------------------------


def test_an_edit_whose_stored_body_was_changed_after_its_card_sends_nothing(
    harness: SlackHarness,
) -> None:
    # Given an edit's card showing status "retry", and then the request's stored body changed
    # in the state table (by anyone with write access to it, or a bad restore) to another body
    world, _, request_id = _edit_requested(harness)
    swapped = json.dumps({"order": 7, "status": "refund", "amount": 1_000_000})
    boto3.client("dynamodb").update_item(
        TableName=TABLE,
        Key={"pk": {"S": f"REQUEST#{request_id}"}, "sk": {"S": "REQUEST"}},
        UpdateExpression="SET edit_body = :b",
        ExpressionAttributeValues={":b": {"S": swapped}},
    )

    # When an approver approves the card (which still shows the "retry" diff)
    _approve(harness, request_id)

    # Then nothing is sent: the body is not the one whose sha256 was recorded and shown
    assert dlq_messages(harness.sqs, world.pair.source_url) == []
    assert [m.body for m in dlq_messages(harness.sqs, world.pair.dlq_url)] == [ORDER]
    # And the card says why, and the request stays undecided (it can still be rejected)
    assert "does not match" in harness.updates()[-1]
    stored = harness.state.get_request(request_id)
    assert stored is not None and stored.status.value == "pending"
    assert harness.state.get_run(request_id) is None


def test_an_edit_whose_stored_message_id_was_changed_after_its_card_touches_neither_message(
    harness: SlackHarness,
) -> None:
    # Given two orders in the DLQ, an edit's card for the first, and then the request's stored
    # message id changed in the state table to the second order's
    other_body = json.dumps({"order": 8, "status": "failed"})
    pair = create_pair(harness.sqs, "orders")
    put_in_dlq(harness.sqs, pair, [ORDER, other_body])
    ids = {m.body: m.message_id for m in dlq_messages(harness.sqs, pair.dlq_url)}
    world = EditWorld(harness, pair)
    view = world.open_form(ids[ORDER], user=REQUESTER)
    world.submit(view, EDITED, user=REQUESTER)
    harness.settle()
    request_id = harness.request_id()
    boto3.client("dynamodb").update_item(
        TableName=TABLE,
        Key={"pk": {"S": f"REQUEST#{request_id}"}, "sk": {"S": "REQUEST"}},
        UpdateExpression="SET edit_message_id = :m",
        ExpressionAttributeValues={":m": {"S": ids[other_body]}},
    )

    # When an approver approves the card (which names the first order)
    _approve(harness, request_id)

    # Then neither order is replaced: the id is not the one the request pinned
    assert dlq_messages(harness.sqs, pair.source_url) == []
    assert _bodies(harness, pair.dlq_url) == sorted([ORDER, other_body])
    assert "not the message" in harness.updates()[-1]
    assert harness.state.get_run(request_id) is None


def test_two_submissions_of_one_edit_form_resend_one_copy_and_the_second_card_says_so(
    harness: SlackHarness,
) -> None:
    # Given one edit form submitted twice (two different bodies): two cards
    pair = create_pair(harness.sqs, "orders")
    put_in_dlq(harness.sqs, pair, [ORDER])
    (message,) = dlq_messages(harness.sqs, pair.dlq_url)
    world = EditWorld(harness, pair)
    view = world.open_form(message.message_id, user=REQUESTER)
    second = json.dumps({"order": 7, "status": "cancelled"})
    world.submit(view, EDITED, user=REQUESTER)
    world.submit(view, second, user=REQUESTER)
    harness.settle()
    posts = harness.calls("chat.postMessage")
    assert len(posts) == 2
    ids = [
        next(b for b in p.body["blocks"] if b["type"] == "actions")["elements"][0]["value"]
        for p in posts
    ]

    # When both are approved
    for request_id in ids:
        stored = harness.state.get_request(request_id)
        assert stored is not None and stored.message_ts
        harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=stored.message_ts)
        harness.settle()

    # Then exactly one edited copy reached the source (the first approved), the original is gone
    assert _bodies(harness, pair.source_url) == [EDITED]
    assert dlq_messages(harness.sqs, pair.dlq_url) == []
    # And the second card does not claim it resent anything
    runs = [harness.state.get_run(i) for i in ids]
    assert [r.moved if r else None for r in runs] == [1, 0]
    last = harness.updates()[-1]
    assert "resent *0*" in last, last


def test_the_edit_audit_names_who_the_message_both_digests_at_each_step(
    harness: SlackHarness,
) -> None:
    world, message_id, request_id = _edit_requested(harness)
    _approve(harness, request_id)

    events = harness.state.events(request_id)
    assert [(e["kind"], e["actor"]) for e in events] == [
        ("requested", REQUESTER),
        ("approved", APPROVER),
        ("outcome", "worker"),
    ]
    old = hashlib.sha256(ORDER.encode()).hexdigest()
    new = hashlib.sha256(EDITED.encode()).hexdigest()
    for event in events:
        detail = event["detail"]
        assert (detail["action"], detail["message_id"], detail["dlq"]) == (
            "edit",
            message_id,
            "orders-dlq",
        )
        assert (detail["old_body_sha256"], detail["new_body_sha256"]) == (old, new)
        assert detail["archive_location"] is None
        assert ORDER not in json.dumps(event) and EDITED not in json.dumps(event)  # digests only
    assert events[-1]["detail"]["moved"] == 1
    # And what was sent is the body whose digest the audit holds
    (copy,) = dlq_messages(harness.sqs, world.pair.source_url)
    assert hashlib.sha256(copy.body.encode()).hexdigest() == new


# --- what joins after the count is not taken ---------------------------------------------------


def test_discard_these_n_takes_none_of_the_group_that_joined_after_the_count(
    harness: SlackHarness,
) -> None:
    # Given 3 messages of the timeout group in the DLQ, and 2 more of it sent to the source
    # before the click that reach the DLQ only after the card (same group, earlier sent time)
    pair = create_pair(harness.sqs, "orders")
    error = {"error": {"DataType": "String", "StringValue": TIMEOUT}}
    put_in_dlq(harness.sqs, pair, ["t0", "t1", "t2"], attributes=error)
    for body in ("late-0", "late-1"):
        _dead_letter_later(harness, pair, body, MessageAttributes=error)
    value = json.dumps({"queue": "orders-dlq", "error": label_digest(TIMEOUT)})
    harness.click(ActionId.REPORT_ERROR_DISCARD, value, user=REQUESTER, message_ts="1.1")
    harness.settle()
    request_id = harness.request_id()
    assert "3 message(s) from `orders-dlq`" in harness.card().body["blocks"][0]["text"]["text"]
    _fail(harness, pair)
    assert count(harness.sqs, pair.dlq_url) == 5

    # When the card ("Discard these 3") is approved
    _approve(harness, request_id)

    # Then exactly the 3 counted are archived and deleted; the 2 late ones stay in the DLQ
    assert sorted(r["body"] for r in archived(f"discards/{request_id}/")) == ["t0", "t1", "t2"]
    assert _bodies(harness, pair.dlq_url) == ["late-0", "late-1"]
    final = harness.updates()[-1]
    assert "Done: discarded *3*" in final
    run = harness.state.get_run(request_id)
    assert run is not None and run.moved == 3


def test_expiry_redrive_takes_none_sent_before_the_bound_that_reached_the_dlq_after_the_count(
    harness: SlackHarness,
) -> None:
    # Given 2 messages in the DLQ, 1 more sent to the source at the same time (it fails only
    # later), and then the expiry button's bound
    pair = create_pair(harness.sqs, "orders")
    put_in_dlq(harness.sqs, pair, ["early-0", "early-1"])
    _dead_letter_later(harness, pair, "early-late")
    time.sleep(1.1)
    until = datetime.now(UTC).isoformat(timespec="milliseconds")

    # When Redrive of the expiry line is clicked: the card counts the 2 in the DLQ
    value = json.dumps({"queue": "orders-dlq", "until": until})
    harness.click(ActionId.REPORT_EXPIRING_REDRIVE, value, user=REQUESTER, message_ts="1.1")
    harness.settle()
    request_id = harness.request_id()
    title = harness.card().body["blocks"][0]["text"]["text"]
    assert "2 message(s) from `orders-dlq`" in title, title
    # And the third, sent before the bound, is dead-lettered after the count
    _fail(harness, pair)
    assert count(harness.sqs, pair.dlq_url) == 3

    _approve(harness, request_id)

    # Then exactly the 2 counted moved; the late one (inside the bound) waits for its own request
    assert _bodies(harness, pair.source_url) == ["early-0", "early-1"]
    assert _bodies(harness, pair.dlq_url) == ["early-late"]
    run = harness.state.get_run(request_id)
    assert run is not None and run.moved == 2
    assert "Done: moved *2*" in harness.updates()[-1]


# --- double clicks, races and a worker that dies ------------------------------------------------


def _discard_card(harness: SlackHarness, bodies: list[str]) -> tuple[QueuePair, str]:
    """``bodies`` in orders-dlq, all of the timeout group, and the card of Discard these N."""
    pair = create_pair(harness.sqs, "orders")
    error = {"error": {"DataType": "String", "StringValue": TIMEOUT}}
    put_in_dlq(harness.sqs, pair, bodies, attributes=error)
    value = json.dumps({"queue": "orders-dlq", "error": label_digest(TIMEOUT)})
    harness.click(ActionId.REPORT_ERROR_DISCARD, value, user=REQUESTER, message_ts="1.1")
    harness.settle()
    return pair, harness.request_id()


def _click_together(harness: SlackHarness, request_id: str, clicks: list[tuple[Any, str]]) -> None:
    ts = harness.card_ts()
    start = threading.Barrier(len(clicks))

    def one(action: Any, user: str) -> None:
        start.wait(10)
        harness.click(action, request_id, user=user, message_ts=ts)

    threads = [threading.Thread(target=one, args=click) for click in clicks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    harness.settle()


def test_two_approvers_approving_one_discard_at_once_archive_and_delete_it_once(
    harness: SlackHarness,
) -> None:
    # Given the card of "Discard these 4"
    pair, request_id = _discard_card(harness, [f"t{i}" for i in range(4)])

    # When two approvers approve it at the same moment
    _click_together(
        harness, request_id, [(ActionId.APPROVE, APPROVER), (ActionId.APPROVE, APPROVER_2)]
    )

    # Then one run discarded the 4, each archived exactly once, and the other approver was told
    records = archived(f"discards/{request_id}/")
    assert sorted(r["body"] for r in records) == ["t0", "t1", "t2", "t3"]
    assert count(harness.sqs, pair.dlq_url) == 0
    events = [e["kind"] for e in harness.state.events(request_id)]
    assert events.count("approved") == 1 and events.count("outcome") == 1
    assert any("Already approved by" in r for r in harness.responses())
    run = harness.state.get_run(request_id)
    assert run is not None and run.moved == 4


def test_approve_and_reject_of_one_discard_at_once_either_discard_all_or_nothing(
    harness: SlackHarness,
) -> None:
    pair, request_id = _discard_card(harness, ["t0", "t1", "t2"])

    _click_together(
        harness, request_id, [(ActionId.APPROVE, APPROVER), (ActionId.REJECT, APPROVER_2)]
    )

    stored = harness.state.get_request(request_id)
    assert stored is not None
    records = archived(f"discards/{request_id}/")
    if stored.status.value == "approved":
        assert len(records) == 3 and count(harness.sqs, pair.dlq_url) == 0
        assert "Done: discarded *3*" in harness.updates()[-1]
    else:
        assert stored.status.value == "rejected"
        assert records == [] and count(harness.sqs, pair.dlq_url) == 3
        assert harness.state.get_run(request_id) is None
    loser = next(r for r in harness.responses() if "Already" in r)
    assert f"Already {stored.status.value} by <@{stored.decided_by}>" in loser


def test_a_worker_that_dies_mid_discard_left_nothing_deleted_without_its_archive_record(
    harness: SlackHarness,
) -> None:
    # Given "Discard these 25", and a worker that hangs in its second delete batch (as one
    # Lambda kills at its timeout)
    pair, request_id = _discard_card(harness, [f"t{i:02d}" for i in range(25)])
    client = handlers.worker.worker().gateway.client
    hung, release = threading.Event(), threading.Event()
    deletes = [0]

    def hang(**_: object) -> None:
        deletes[0] += 1
        if deletes[0] < 2:
            return
        hung.set()
        release.wait(30)
        raise RuntimeError("the invocation was killed")

    client.meta.events.register("before-send.sqs.DeleteMessageBatch", hang)
    try:
        harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=harness.card_ts())
        assert hung.wait(30)
        time.sleep(0.5)  # a progress refresh saves what the first batch did
        # When Lambda's on-failure record of that invocation reaches the failed function
        decision = next(
            i.payload for i in harness.lambdas.calls_to("worker") if i.payload["job"] == "decision"
        )
        result = _deliver_to_failed(harness, _failure_record(decision, "Task timed out"))

        # Then the run is failed, and the card says so with lower bounds and the archive
        assert result == {"ok": True, "run": request_id, "marked": True}
        last = harness.calls("chat.update")[-1].body
        shown = json.dumps(last["blocks"])
        assert ":x: Discard failed" in last["text"]
        assert "discarded at least" in shown and "Task timed out" in shown
        assert f"s3://{BUCKET}/discards/{request_id}/" in shown
    finally:
        release.set()
        harness.settle()
        client.meta.events.unregister("before-send.sqs.DeleteMessageBatch", hang)

    # And every message that left the DLQ is in the archive (none deleted without its record)
    left = set(_bodies(harness, pair.dlq_url))
    gone = {f"t{i:02d}" for i in range(25)} - left
    kept = {r["body"] for r in archived(f"discards/{request_id}/")}
    assert gone and gone <= kept, (gone, kept)
    run = harness.state.get_run(request_id)
    assert run is not None and run.status == "failed"
    assert run.moved <= len(gone)  # the saved figure is a lower bound, never more than left


# --- the approved message left and came back as another ----------------------------------------


def _redrive_by_hand(harness: SlackHarness, pair: QueuePair) -> None:
    """Someone moves every DLQ message to the source by hand (a new message there, with a new
    id) and the consumer fails it again: its copy is back in the DLQ, same body, other id."""
    while got := harness.sqs.receive_message(QueueUrl=pair.dlq_url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        for message in got:
            harness.sqs.send_message(QueueUrl=pair.source_url, MessageBody=message["Body"])
            harness.sqs.delete_message(
                QueueUrl=pair.dlq_url, ReceiptHandle=message["ReceiptHandle"]
            )
    _fail(harness, pair)


def test_an_edit_approved_after_its_message_came_back_as_another_sends_nothing(
    harness: SlackHarness,
) -> None:
    # Given an edit's card, and then its message redriven by hand and failed back into the DLQ
    world, message_id, request_id = _edit_requested(harness)
    _redrive_by_hand(harness, world.pair)
    (back,) = dlq_messages(harness.sqs, world.pair.dlq_url)
    assert back.body == ORDER and back.message_id != message_id

    # When the edit is approved
    _approve(harness, request_id)

    # Then the copy that came back is not edited (it is not the message the card names)
    assert dlq_messages(harness.sqs, world.pair.source_url) == []
    assert [m.message_id for m in dlq_messages(harness.sqs, world.pair.dlq_url)] == [
        back.message_id
    ]
    last = harness.updates()[-1]
    assert "resent *0*" in last, last


def test_a_discard_approved_after_its_message_came_back_as_another_discards_nothing(
    harness: SlackHarness,
) -> None:
    # Given a peeked message's Discard card, and then that message redriven by hand and failed
    # back into the DLQ (same body, another id)
    pair = create_pair(harness.sqs, "orders")
    put_in_dlq(harness.sqs, pair, [ORDER])
    (message,) = dlq_messages(harness.sqs, pair.dlq_url)
    value = json.dumps({"queue": "orders-dlq", "message_id": message.message_id})
    harness.click(ActionId.PEEK_DISCARD, value, user=REQUESTER, message_ts="1.1")
    harness.settle()
    request_id = harness.request_id()
    _redrive_by_hand(harness, pair)

    # When the discard is approved
    _approve(harness, request_id)

    # Then nothing is archived or deleted: the copy is not the message approved
    assert archived(f"discards/{request_id}/") == []
    assert [m.body for m in dlq_messages(harness.sqs, pair.dlq_url)] == [ORDER]
    last = harness.updates()[-1]
    assert "discarded *0*" in last, last


def test_a_discard_whose_stored_archive_location_was_changed_writes_nowhere_else(
    harness: SlackHarness,
) -> None:
    # Given "Discard these 2" and its card naming s3://BUCKET/discards/<id>/, and then the
    # request's stored location changed in the state table to another place
    pair, request_id = _discard_card(harness, ["t0", "t1"])
    boto3.client("s3").create_bucket(Bucket="elsewhere")
    boto3.client("dynamodb").update_item(
        TableName=TABLE,
        Key={"pk": {"S": f"REQUEST#{request_id}"}, "sk": {"S": "REQUEST"}},
        UpdateExpression="SET archive_location = :l",
        ExpressionAttributeValues={":l": {"S": "s3://elsewhere/collected/"}},
    )

    # When it is approved
    _approve(harness, request_id)

    # Then nothing is written anywhere but where the card said, and nothing is deleted
    assert "Contents" not in boto3.client("s3").list_objects_v2(Bucket="elsewhere")
    assert archived("discards/") == []
    assert count(harness.sqs, pair.dlq_url) == 2
    final = json.dumps(harness.calls("chat.update")[-1].body["blocks"])
    assert ":x: Discard failed" in harness.updates()[-1]
    assert "not the one its card named" in final and "nothing was discarded" in final
