"""MAX_REDRIVES on the Slack path for a message that cannot carry the redrive counter: the
worker's engine counts its redrives in the state table's ledger (bot/redrive_ledger.py), as the
daily job's does, so approvals cannot send it back forever."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from bot.redrive_ledger import PREFIX
from bot.slack.ids import ActionId
from infra.local.moto_server import LocalAws
from infra.local.scene import count, create_pair, fail_again, put_in_dlq
from tests.integration.slack.slack_harness import (
    APPROVER,
    TABLE,
    SlackHarness,
    make_harness,
)

# SQS's maximum of 10 attributes: no room for dlq-redrive-count
TEN_ATTRIBUTES = {f"a{i}": {"DataType": "String", "StringValue": str(i)} for i in range(10)}
MAX_REDRIVES = 2


@pytest.fixture
def limited(
    aws: LocalAws, slack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[SlackHarness]:
    yield from make_harness(aws, {**slack_env, "MAX_REDRIVES": str(MAX_REDRIVES)}, monkeypatch)


def approve_a_request(harness: SlackHarness) -> str:
    """Ask for ``redrive orders-dlq``, approve its (newest) card, wait; return the final card."""
    assert harness.command("redrive orders-dlq")["statusCode"] == 200
    harness.settle()
    card = harness.calls("chat.postMessage")[-1]
    actions = next(b for b in card.body["blocks"] if b["type"] == "actions")
    request_id = str(actions["elements"][0]["value"])
    stored = harness.state.get_request(request_id)
    assert stored is not None and stored.message_ts
    harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=stored.message_ts)
    harness.settle()
    return harness.updates()[-1]


def test_an_approval_holds_a_message_without_room_for_the_counter_after_max_redrives(
    limited: SlackHarness,
) -> None:
    # Given a message with 10 attributes in a DLQ, and MAX_REDRIVES 2
    sqs = limited.sqs
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [json.dumps({"order": "crowded"})], attributes=TEN_ATTRIBUTES)

    # When two approved redrives send it back and each time it fails back into the DLQ
    for _ in range(MAX_REDRIVES):
        final = approve_a_request(limited)
        assert "moved *1*" in final, final
        fail_again(sqs, orders)
        assert count(sqs, orders.dlq_url) == 1

    # ... and a third request counts an ordinary message next to it, and is approved
    put_in_dlq(sqs, orders, [json.dumps({"order": "plain"})])
    final = approve_a_request(limited)

    # Then the card the approver decided on said the crowded one stays for a human, and the
    # approval moved the ordinary one only and says the crowded one needs a human (not "out
    # of window": never counted, so not pinned, it is poison first)
    card = json.dumps(limited.calls("chat.postMessage")[-1].body)
    assert "1 were redriven too often already (poison) and stay for a human" in card, card
    assert "moved *1*" in final and "skipped 1 (1 need a human)" in final, final
    assert count(sqs, orders.dlq_url) == 1 and count(sqs, orders.source_url) == 1
    (held,) = sqs.receive_message(
        QueueUrl=orders.dlq_url, MessageAttributeNames=["All"], VisibilityTimeout=0
    )["Messages"]
    assert json.loads(held["Body"]) == {"order": "crowded"}
    assert set(held["MessageAttributes"]) == set(TEN_ATTRIBUTES)  # untouched
    # ... counted in the state table's ledger, under the DLQ's key
    ledger = boto3.client("dynamodb").query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": PREFIX + "orders-dlq"}},
    )["Items"]
    assert [int(item["redrives"]["N"]) for item in ledger] == [MAX_REDRIVES]
