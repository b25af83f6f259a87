"""A peeked message's Discard, end to end (issue 12): signed requests into the real handlers, the
worker on the local Lambda endpoint, the local Slack server, SQS and S3 on moto.

Discard goes through the approval card exactly like a redrive, worded as a discard; on approval
the message's record is written to s3://ARCHIVE_BUCKET/discards/<request id>/ before the message
leaves the DLQ, and nothing else moves. Refusals (self-approval, an outsider, no bucket) change
nothing; the audit trail records who, the action, what and the archive."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest

from bot.error_groups import body_fingerprint, label_digest
from bot.slack.ids import ActionId
from infra.local.scene import count, create_pair, put_in_dlq
from tests.integration.slack.slack_harness import (
    APPROVER,
    OUTSIDER,
    REQUESTER,
    SlackHarness,
    seed_orders,
)

BUCKET = "dlq-archive"


@pytest.fixture
def slack_env(slack_env: dict[str, str]) -> dict[str, str]:
    """The app with an archive bucket (ARCHIVE_BUCKET), which exists on moto's S3."""
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    return {**slack_env, "ARCHIVE_BUCKET": BUCKET}


def _dlq_messages(harness: SlackHarness, url: str) -> dict[str, str]:
    """Every message in the DLQ by id (received, then made visible again)."""
    found: dict[str, str] = {}
    for _ in range(5):
        got = harness.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        for message in got.get("Messages", []):
            found[message["MessageId"]] = message["Body"]
            harness.sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
    return found


def archived(prefix: str) -> list[dict[str, Any]]:
    """The records under ``prefix`` of the archive bucket, in key order."""
    s3 = boto3.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]
    return [
        json.loads(line)
        for key in sorted(keys)
        for line in s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode().splitlines()
    ]


def _discard_button(harness: SlackHarness) -> tuple[str, str]:
    """Peek as an approver; the first message's Discard value and its id."""
    harness.command("peek orders-dlq 3", user=APPROVER)
    harness.settle()
    peek = harness.calls("response_url")[-1].body
    button = next(
        e
        for b in peek["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == ActionId.PEEK_DISCARD
    )
    return button["value"], json.loads(button["value"])["message_id"]


def _ask_discard(harness: SlackHarness) -> tuple[str, str]:
    """Click a peeked message's Discard as the requester; its request id and message id."""
    value, message_id = _discard_button(harness)
    harness.click(ActionId.PEEK_DISCARD, value, user=REQUESTER, message_ts="1.1")
    harness.settle()
    return harness.request_id(), message_id


def test_an_approved_discard_archives_that_message_then_deletes_only_it(
    harness: SlackHarness,
) -> None:
    # Given three orders in the DLQ
    pair = seed_orders(harness.sqs, 3)
    before = _dlq_messages(harness, pair.dlq_url)

    # When someone clicks Discard on a peeked message
    request_id, message_id = _ask_discard(harness)

    # Then an approval card worded as a discard, pinned to that message, asks the approvers
    card = harness.card().body
    location = f"s3://{BUCKET}/discards/{request_id}/"
    assert card["blocks"][0]["text"]["text"] == (
        f":wastebasket: *Discard request* — 1 message(s) from `orders-dlq`, archived to "
        f"`{location}`"
    )
    assert f"message {message_id}" in json.dumps(card["blocks"])
    assert count(harness.sqs, pair.dlq_url) == 3  # nothing happens before the approval

    # When an approver approves
    harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=harness.card_ts())
    harness.settle()

    # Then the message's record, its exact body, is in the archive, and only it left the DLQ
    (record,) = archived(f"discards/{request_id}/")
    assert (record["message_id"], record["body"]) == (message_id, before[message_id])
    assert record["dlq"] == "orders-dlq"
    after = _dlq_messages(harness, pair.dlq_url)
    assert after == {k: v for k, v in before.items() if k != message_id}
    assert count(harness.sqs, pair.source_url) == 0  # discarded, not redriven
    # And the card says so in a discard's words
    approved = f"orders-dlq discard {request_id}: :white_check_mark: Approved by <@{APPROVER}>"
    assert f"{approved}, discarding…" in harness.updates()
    final = harness.calls("chat.update")[-1].body
    shown = json.dumps(final["blocks"])
    assert "Done: discarded *1*" in shown
    assert f"1 record(s) archived to `{location}` before any delete." in shown


def test_a_discard_whose_archive_write_fails_deletes_nothing(harness: SlackHarness) -> None:
    # Given a discard request, and then the archive bucket gone (S3 refuses every put)
    pair = seed_orders(harness.sqs, 2)
    request_id, _ = _ask_discard(harness)
    boto3.client("s3").delete_bucket(Bucket=BUCKET)

    # When it is approved
    harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=harness.card_ts())
    harness.settle()

    # Then nothing left the DLQ, and the card says the discard failed and why
    assert count(harness.sqs, pair.dlq_url) == 2
    shown = json.dumps(harness.calls("chat.update")[-1].body["blocks"])
    assert ":x: Discard failed: discarded *0*, failed *1*" in shown
    assert "refused a write" in shown


def test_the_audit_trail_records_who_the_action_what_and_the_archive(
    harness: SlackHarness,
) -> None:
    seed_orders(harness.sqs, 1)
    request_id, message_id = _ask_discard(harness)
    harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=harness.card_ts())
    harness.settle()

    events = harness.state.events(request_id)
    assert [(e["kind"], e["actor"]) for e in events] == [
        ("requested", REQUESTER),
        ("approved", APPROVER),
        ("outcome", "worker"),
    ]
    location = f"s3://{BUCKET}/discards/{request_id}/"
    for event in events:
        detail = event["detail"]
        assert detail["action"] == "discard"
        assert detail["what"] == f"message {message_id}"
        assert detail["archive_location"] == location
        assert detail["dlq"] == "orders-dlq"
    assert events[-1]["detail"]["moved"] == 1


@pytest.mark.parametrize(
    ("clicker", "refusal"),
    [
        (REQUESTER, "You asked for this discard, so someone else has to approve it."),
        (OUTSIDER, "Only approvers can approve or reject requests"),
    ],
)
def test_a_discard_refused_to_its_requester_or_an_outsider_changes_nothing(
    harness: SlackHarness, clicker: str, refusal: str
) -> None:
    # Given a discard request by the requester (an approver too, ALLOW_SELF_APPROVAL off)
    pair = seed_orders(harness.sqs, 2)
    request_id, _ = _ask_discard(harness)

    # When the requester, or someone who is no approver, clicks Approve
    harness.click(ActionId.APPROVE, request_id, user=clicker, message_ts=harness.card_ts())
    harness.settle()

    # Then they are told no, nothing is archived or deleted, and the request is still pending
    assert refusal in harness.responses()[-1]
    assert count(harness.sqs, pair.dlq_url) == 2
    assert archived("discards/") == []
    stored = harness.state.get_request(request_id)
    assert stored is not None and stored.status.value == "pending"
    assert harness.state.events(request_id)[-1]["kind"] == "refused"


def test_a_message_no_longer_in_the_dlq_has_nothing_to_discard(harness: SlackHarness) -> None:
    # Given a Discard button of a message that has left the DLQ since the peek
    pair = seed_orders(harness.sqs, 1)
    value, message_id = _discard_button(harness)
    got = harness.sqs.receive_message(QueueUrl=pair.dlq_url)
    harness.sqs.delete_message(
        QueueUrl=pair.dlq_url, ReceiptHandle=got["Messages"][0]["ReceiptHandle"]
    )

    # When it is clicked
    harness.click(ActionId.PEEK_DISCARD, value, user=REQUESTER, message_ts="1.1")
    harness.settle()

    # Then no card: the clicker is told there is nothing to discard
    assert harness.calls("chat.postMessage") == []
    assert (
        f"Nothing to discard in `orders-dlq` for `message {message_id}`"
        in (harness.responses()[-1])
    )


def test_a_discard_longer_than_one_invocation_archives_every_message_once(
    harness: SlackHarness,
) -> None:
    # Given 60 orders of one error group (their body's shape), a worker with a 1-second budget
    # and archive writes (S3 puts) that take 0.4 s each: the discard needs several invocations.
    # (The puts are slowed, not the deletes: moto rebuilds a queue's message list on each
    # delete without a lock, so deletes held back to arrive together can undo one another.)
    pair = seed_orders(harness.sqs, 60)
    digest = label_digest(body_fingerprint('{"order": 0}'))
    value = json.dumps({"queue": "orders-dlq", "error": digest})
    harness.click(ActionId.REPORT_ERROR_DISCARD, value, user=REQUESTER, message_ts="1.1")
    harness.settle()
    request_id = harness.request_id()
    harness.lambdas.set_timeout("worker", 1.0)
    # The worker makes its S3 client for each run from the default session: hooked there.
    session = boto3.DEFAULT_SESSION or boto3.Session()
    boto3.DEFAULT_SESSION = session

    def slow(**_: object) -> None:
        time.sleep(0.4)

    session.events.register("before-send.s3.PutObject", slow)
    try:
        # When it is approved
        harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=harness.card_ts())
        harness.settle(timeout=120)
    finally:
        session.events.unregister("before-send.s3.PutObject", slow)

    # Then it went on from its checkpoint, and every message is in the archive exactly once
    run = harness.state.get_run(request_id)
    assert run is not None and run.status == "done" and run.moved == 60
    assert run.invocation >= 2
    bodies = sorted(r["body"] for r in archived(f"discards/{request_id}/"))
    assert bodies == sorted(json.dumps({"order": i}) for i in range(60))
    assert count(harness.sqs, pair.dlq_url) == 0
    assert count(harness.sqs, pair.source_url) == 0
    assert "Done: discarded *60*, failed *0*" in harness.updates()[-1]
    assert f"over {run.invocation} invocations" in harness.updates()[-1]


def test_a_poison_message_that_needs_a_human_can_be_discarded(harness: SlackHarness) -> None:
    # Given a message redriven MAX_REDRIVES (3) times already: a redrive leaves it for a human
    pair = create_pair(harness.sqs, "orders")
    counter = {"dlq-redrive-count": {"DataType": "Number", "StringValue": "3"}}
    put_in_dlq(harness.sqs, pair, ['{"poison": true}'], attributes=counter)

    # When the human discards it from a peek, and an approver approves
    request_id, message_id = _ask_discard(harness)
    harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=harness.card_ts())
    harness.settle()

    # Then it is archived, attributes and all, and gone from the DLQ
    (record,) = archived(f"discards/{request_id}/")
    assert (record["message_id"], record["body"]) == (message_id, '{"poison": true}')
    assert record["message_attributes"]["dlq-redrive-count"]["StringValue"] == "3"
    assert count(harness.sqs, pair.dlq_url) == 0
