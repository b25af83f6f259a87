"""The daily report's error-group and expiry buttons, end to end (issue 12): signed clicks into
the real handlers, the worker on the local Lambda endpoint, the local Slack server, SQS and S3 on
moto.

- **Redrive these N** / **Discard these N** carry the group's label digest; the card counts
  exactly that group (selection ``--error``), and approving moves or discards exactly it.
- Expiry **Redrive** selects by sent time (``--until``) through the approval card; **Export**
  writes what is selected to s3://ARCHIVE_BUCKET/exports/<id>/ at once for someone who may read
  bodies, leaves the messages in the DLQ, and answers with the location and the count.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import boto3
import pytest

from bot.error_groups import label_digest
from bot.slack.ids import ActionId
from infra.local.scene import QueuePair, count, create_pair, put_in_dlq
from tests.integration.slack.slack_harness import APPROVER, OUTSIDER, REQUESTER, SlackHarness
from tests.integration.slack.test_slack_discard import BUCKET, archived

TIMEOUT = "Timeout calling payments"


@pytest.fixture
def slack_env(slack_env: dict[str, str]) -> dict[str, str]:
    """The app with an archive bucket and the report's ERROR_ATTRIBUTE."""
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    return {**slack_env, "ARCHIVE_BUCKET": BUCKET, "ERROR_ATTRIBUTE": "error"}


def _two_groups(harness: SlackHarness) -> QueuePair:
    """3 messages failing with TIMEOUT, 2 with another error, in orders-dlq."""
    pair = create_pair(harness.sqs, "orders")
    for error, bodies in ((TIMEOUT, ["t0", "t1", "t2"]), ("KeyError: 'sku'", ["k0", "k1"])):
        attributes = {"error": {"DataType": "String", "StringValue": error}}
        put_in_dlq(harness.sqs, pair, bodies, attributes=attributes)
    return pair


def _bodies(harness: SlackHarness, url: str, rounds: int = 3) -> list[str]:
    """The bodies in the queue at ``url`` (received, then made visible again). A source queue
    is read in one round: a second receive there would dead-letter them (maxReceiveCount)."""
    found = []
    for _ in range(rounds):
        got = harness.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        for message in got.get("Messages", []):
            found.append(message["Body"])
            harness.sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
    return sorted(set(found))


def _approve(harness: SlackHarness) -> None:
    harness.click(
        ActionId.APPROVE, harness.request_id(), user=APPROVER, message_ts=harness.card_ts()
    )
    harness.settle()


def test_redrive_these_moves_exactly_the_group(harness: SlackHarness) -> None:
    # Given two error groups in the DLQ
    pair = _two_groups(harness)

    # When "Redrive these 3" of the timeout group is clicked (its value carries the digest)
    value = json.dumps({"queue": "orders-dlq", "error": label_digest(TIMEOUT)})
    harness.click(ActionId.REPORT_ERROR_REDRIVE, value, user=REQUESTER, message_ts="1.1")
    harness.settle()

    # Then the card is a redrive of exactly those 3, and approving moves exactly them
    card = harness.card().body
    assert card["blocks"][0]["text"]["text"].startswith(
        ":inbox_tray: *Redrive request* — 3 message(s) from `orders-dlq`"
    )
    _approve(harness)
    assert _bodies(harness, pair.source_url, rounds=1) == ["t0", "t1", "t2"]
    assert _bodies(harness, pair.dlq_url) == ["k0", "k1"]


def test_discard_these_archives_and_deletes_exactly_the_group(harness: SlackHarness) -> None:
    pair = _two_groups(harness)

    value = json.dumps({"queue": "orders-dlq", "error": label_digest(TIMEOUT)})
    harness.click(ActionId.REPORT_ERROR_DISCARD, value, user=REQUESTER, message_ts="1.1")
    harness.settle()

    request_id = harness.request_id()
    card = harness.card().body
    assert card["blocks"][0]["text"]["text"] == (
        ":wastebasket: *Discard request* — 3 message(s) from `orders-dlq`, archived to "
        f"`s3://{BUCKET}/discards/{request_id}/`"
    )
    _approve(harness)
    records = archived(f"discards/{request_id}/")
    assert sorted(r["body"] for r in records) == ["t0", "t1", "t2"]
    assert all(r["message_attributes"]["error"]["StringValue"] == TIMEOUT for r in records)
    assert _bodies(harness, pair.dlq_url) == ["k0", "k1"]
    assert count(harness.sqs, pair.source_url) == 0
    events = harness.state.events(request_id)
    assert events[0]["detail"]["action"] == "discard"
    assert events[0]["detail"]["what"].startswith("all messages")
    assert label_digest(TIMEOUT) in events[0]["detail"]["what"]


def test_a_digest_that_matches_no_group_selects_nothing(harness: SlackHarness) -> None:
    # Given the two groups, and a button whose digest is no group's (forged, or the group is
    # gone since the report)
    pair = _two_groups(harness)
    value = json.dumps({"queue": "orders-dlq", "error": label_digest("no such error")})

    # When it is clicked
    harness.click(ActionId.REPORT_ERROR_DISCARD, value, user=REQUESTER, message_ts="1.1")
    harness.settle()

    # Then there is nothing to discard: no card, nothing archived, nothing moved
    assert harness.calls("chat.postMessage") == []
    assert "Nothing to discard in `orders-dlq`" in harness.responses()[-1]
    assert archived("") == []
    assert count(harness.sqs, pair.dlq_url) == 5


def test_a_queue_that_is_not_watched_is_refused(harness: SlackHarness) -> None:
    _two_groups(harness)
    harness.sqs.create_queue(QueueName="payroll")  # exists, but no DLQ of any queue
    value = json.dumps({"queue": "payroll", "error": label_digest(TIMEOUT)})

    harness.click(ActionId.REPORT_ERROR_REDRIVE, value, user=REQUESTER, message_ts="1.1")
    harness.settle()

    assert harness.calls("chat.postMessage") == []
    assert "'payroll' is not the dead-letter queue of any queue" in harness.responses()[-1]
    assert "watched DLQs: orders-dlq" in harness.responses()[-1]


def _sent_in_two_rounds(harness: SlackHarness) -> tuple[QueuePair, str]:
    """2 messages, then (after a second) 1 more; the bound between them."""
    pair = create_pair(harness.sqs, "orders")
    put_in_dlq(harness.sqs, pair, ["early-0", "early-1"])
    time.sleep(1.1)
    until = datetime.now(UTC).isoformat(timespec="milliseconds")
    time.sleep(1.1)
    put_in_dlq(harness.sqs, pair, ["late"])
    return pair, until


def test_expiring_redrive_asks_to_move_what_was_sent_before_the_bound(
    harness: SlackHarness,
) -> None:
    pair, until = _sent_in_two_rounds(harness)

    value = json.dumps({"queue": "orders-dlq", "until": until})
    harness.click(ActionId.REPORT_EXPIRING_REDRIVE, value, user=REQUESTER, message_ts="1.1")
    harness.settle()

    assert "2 message(s) from `orders-dlq`" in harness.card().body["blocks"][0]["text"]["text"]
    _approve(harness)
    assert _bodies(harness, pair.source_url, rounds=1) == ["early-0", "early-1"]
    assert _bodies(harness, pair.dlq_url) == ["late"]


def test_expiring_export_writes_them_to_s3_and_leaves_them_in_the_dlq(
    harness: SlackHarness,
) -> None:
    # Given messages of which two expire before the next report
    pair, until = _sent_in_two_rounds(harness)

    # When an approver (who may read bodies) clicks Export
    value = json.dumps({"queue": "orders-dlq", "until": until})
    harness.click(ActionId.REPORT_EXPIRING_EXPORT, value, user=APPROVER, message_ts="1.1")
    harness.settle()

    # Then no approval is asked: the answer names the S3 location and the count
    assert harness.calls("chat.postMessage") == []
    answer = harness.responses()[-1]
    (key,) = {
        o["Key"].rsplit("/", 1)[0]
        for o in boto3.client("s3").list_objects_v2(Bucket=BUCKET)["Contents"]
    }
    assert key.startswith("exports/")
    assert "Exported *2* message(s) from `orders-dlq`" in answer
    assert f"`s3://{BUCKET}/{key}/`" in answer
    # And the export holds those two bodies, and all three stay in the DLQ
    assert sorted(r["body"] for r in archived("exports/")) == ["early-0", "early-1"]
    assert _bodies(harness, pair.dlq_url) == ["early-0", "early-1", "late"]
    assert count(harness.sqs, pair.source_url) == 0


def test_someone_who_may_not_read_bodies_cannot_export(harness: SlackHarness) -> None:
    pair, until = _sent_in_two_rounds(harness)

    value = json.dumps({"queue": "orders-dlq", "until": until})
    harness.click(ActionId.REPORT_EXPIRING_EXPORT, value, user=OUTSIDER, message_ts="1.1")
    harness.settle()

    assert "Exporting reads message bodies" in harness.responses()[-1]
    assert "Contents" not in boto3.client("s3").list_objects_v2(Bucket=BUCKET)
    assert count(harness.sqs, pair.dlq_url) == 3
