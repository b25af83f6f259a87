"""``make demo``'s Slack part on the demo scene: what it prints is what happened to the queues and
the archive (the real handlers, the local Lambda endpoint and Slack server, SQS and S3 on moto)."""

from __future__ import annotations

import json
import urllib.parse
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk.models.views import View

from infra.local.demo_actions import SHIPPING_FAILURES, build_shipping
from infra.local.demo_scene import build_scene
from infra.local.demo_slack import ARCHIVE_BUCKET, run_slack_demo
from infra.local.moto_server import LocalAws
from infra.local.scene import count


def test_the_slack_demo_redrives_then_discards_a_peeked_message_into_the_archive(
    aws: LocalAws, sqs: Any, s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the demo scene with shipping's DLQ
    build_scene(sqs, datetime.now(UTC))
    shipping = build_shipping(sqs)

    # When the Slack part of the demo plays
    run_slack_demo(dict(aws.env))
    text = capsys.readouterr().out

    # Then it redrove 2 orders after a second user's approval
    assert ":white_check_mark: Approved by @bob" in text
    assert count(sqs, sqs.get_queue_url(QueueName="orders")["QueueUrl"]) == 2
    # And the peeked shipping message was archived to S3, then deleted, and only it
    assert "Done: discarded *1*" in text
    listed = s3.list_objects_v2(Bucket=ARCHIVE_BUCKET, Prefix="discards/")["Contents"]
    records = [
        json.loads(line)
        for key in (o["Key"] for o in listed)
        for line in s3.get_object(Bucket=ARCHIVE_BUCKET, Key=key)["Body"].read().splitlines()
    ]
    assert [r["dlq"] for r in records] == ["shipping-dlq"]
    assert count(sqs, shipping.dlq_url) == SHIPPING_FAILURES - 1
    assert f"archived to `s3://{ARCHIVE_BUCKET}/discards/" in text
    # And Bob's Home tab shows Alice's new request for him to approve, with each DLQ's depth
    home = text.split("[Slack views.publish → Home tab of @bob]", 1)[1]
    assert "*Pending approvals* (1)" in home and "you may approve" in home
    assert "Depth *about 12*" in home  # orders-dlq: 14, less the 2 redriven
    # and its Peek modal the messages, each view with a Block Kit Builder link
    assert "showing 3 of ~12 visible" in home
    links = home.split("See it rendered (Block Kit Builder): ")[1:]
    views = [json.loads(urllib.parse.unquote(link.split()[0].split("#", 1)[1])) for link in links]
    assert [v["type"] for v in views] == ["home", "modal", "modal"]
    for view in views:  # as Slack's view model accepts them
        View(**view).validate_json()
    assert "worker error" not in text
