"""``make demo``'s DLQ actions (issue 12) on the demo scene: what it prints is what happened.

Given moto with the demo scene (``infra.local.demo_scene.build_scene``), the actions step runs the
real CLI in its own processes; the queues and files are then read directly, so the demo's story
is checked against the queues, not only against its own words.
"""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra.local.demo_actions import (
    ARCHIVE_BUCKET,
    CANARY_SIZE,
    SHIPPING_FAILURES,
    ActionsDemoFiles,
    run_actions_demo,
)
from infra.local.demo_scene import build_scene
from infra.local.moto_server import LocalAws
from infra.local.scene import count, drain

NOT_JSON = "<order id='broken'/> not JSON"


def queue_url(sqs: Any, name: str) -> str:
    url: str = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    return url


def test_the_demo_exports_discards_with_archive_edits_and_stops_a_canary(
    aws: LocalAws, sqs: Any, s3: Any, tmp_path: Path
) -> None:
    # Given the demo scene: 14 failed orders in orders-dlq, one of them not JSON
    build_scene(sqs, datetime.now(UTC))
    orders_dlq = queue_url(sqs, "orders-dlq")
    assert count(sqs, orders_dlq) == 14
    files = ActionsDemoFiles.under(tmp_path)

    # When the demo plays its DLQ actions
    out = io.StringIO()
    run_actions_demo(dict(aws.env), files, out=out)
    text = out.getvalue()

    # Then the export holds every message of orders-dlq, one dlq-redrive/1 record per line
    exported = [json.loads(line) for line in files.export.read_text("utf-8").splitlines()]
    assert len(exported) == 14
    assert {record["format"] for record in exported} == {"dlq-redrive/1"}
    assert "orders-dlq.jsonl: 14 record(s); the first one:" in text
    # And tenant acme's 7 orders went to S3 (moto's) as records, and can be read back from there
    listed = s3.list_objects_v2(Bucket=ARCHIVE_BUCKET, Prefix="exports/acme/")["Contents"]
    records = [
        json.loads(line)
        for key in (o["Key"] for o in listed)
        for line in s3.get_object(Bucket=ARCHIVE_BUCKET, Key=key)["Body"].read().splitlines()
    ]
    tenants = [r["message_attributes"]["tenant"]["StringValue"] for r in records]
    assert tenants == ["acme"] * 7
    assert "would send 7 to orders (dry run: nothing was sent)" in text

    # And the discard archived exactly the message that is not JSON, then deleted it
    (archived,) = [json.loads(line) for line in files.archive.read_text("utf-8").splitlines()]
    assert archived["body"] == NOT_JSON
    assert archived["message_attributes"]["error"]["StringValue"] == "ParseError"
    assert "would send 1 to orders (dry run: nothing was sent)" in text

    # And the edit sent the fixed order to its source, attributes kept, and deleted the original
    (resent,) = drain(sqs, queue_url(sqs, "orders"))
    fixed = json.loads(files.fixed_body.read_text("utf-8"))
    assert resent["Body"] == files.fixed_body.read_text("utf-8")
    assert fixed["paymentGateway"] == "backup"
    assert resent["MessageAttributes"]["error"]["StringValue"] == "PaymentGatewayTimeout"
    assert {"tenant", "attempt"} <= resent["MessageAttributes"].keys()
    assert '+  "paymentGateway": "backup"' in text
    left = drain(sqs, orders_dlq)
    assert len(left) == 12
    assert NOT_JSON not in {m["Body"] for m in left}
    assert fixed["orderId"] not in {json.loads(m["Body"])["orderId"] for m in left}

    # And the canary moved 3 into a consumer that still fails, saw them come back, and stopped:
    # every shipping message is in its DLQ again, none left in the source
    assert f"The canary moved {CANARY_SIZE}; {CANARY_SIZE} came back to the DLQ" in text
    assert "the consumer is still failing, so the rest was not moved" in text
    assert f"came back {CANARY_SIZE}× CarrierApiDown" in text
    assert count(sqs, queue_url(sqs, "shipping-dlq")) == SHIPPING_FAILURES
    assert count(sqs, queue_url(sqs, "shipping")) == 0

    # And every command was shown as typed, with its exit status: each succeeded but the
    # stopped canary's redrive (export, export to S3 and its import, dry-run and real discard,
    # the archive's import, peek, edit, canary, list)
    for command in ("export orders-dlq", "discard orders-dlq", "edit orders-dlq", "--canary 3"):
        assert command in text
    statuses = re.findall(r"\(exit status (\d+)\)", text)
    assert statuses == ["0", "0", "0", "0", "0", "0", "0", "0", "1", "0"]
    assert "discarded                    1" in text and "archived                     1" in text
