"""Who may read message bodies, checked by the worker before every peek: the command and the
daily report's Peek button alike (the policy is ``bot.slack.viewers``)."""

from __future__ import annotations

import json

from bot.slack.ids import ActionId
from infra.local.scene import count
from tests.integration.slack.slack_harness import APPROVER, OUTSIDER, SlackHarness, seed_orders


def _receive_counts(harness: SlackHarness, url: str) -> list[str]:
    got = harness.sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["ApproximateReceiveCount"]
    )
    messages = got.get("Messages", [])
    harness.sqs.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
            for i, m in enumerate(messages)
        ],
    )
    return sorted(m["Attributes"]["ApproximateReceiveCount"] for m in messages)


def test_someone_who_may_not_view_bodies_cannot_peek(harness: SlackHarness) -> None:
    # Given orders in the DLQ with personal data in their bodies
    pair = seed_orders(harness.sqs, 2)
    before = _receive_counts(harness, pair.dlq_url)

    # When someone outside the approvers and VIEWERS peeks
    harness.command("peek orders-dlq", user=OUTSIDER)
    harness.settle()

    # Then they are refused, see no body, and nothing was received from the DLQ for them
    answer = harness.calls("response_url")[-1].body
    assert answer["response_type"] == "ephemeral"
    assert "Message bodies can hold personal data" in answer["text"]
    assert '"order"' not in json.dumps(answer)
    assert _receive_counts(harness, pair.dlq_url) == [str(int(c) + 1) for c in before]
    assert count(harness.sqs, pair.dlq_url) == 2


def test_the_reports_peek_button_is_refused_to_someone_who_may_not_view(
    harness: SlackHarness,
) -> None:
    seed_orders(harness.sqs, 2)

    value = json.dumps({"queue": "orders-dlq"})
    harness.click(ActionId.REPORT_PEEK, value, user=OUTSIDER, message_ts="1.1")
    harness.settle()

    answer = harness.calls("response_url")[-1].body
    assert "Message bodies can hold personal data" in answer["text"]
    assert '"order"' not in json.dumps(answer)


def test_an_approver_may_peek(harness: SlackHarness) -> None:
    seed_orders(harness.sqs, 2)
    harness.command("peek orders-dlq", user=APPROVER)
    harness.settle()
    assert "showing 2 of ~2 visible" in json.dumps(harness.calls("response_url")[-1].body)
