"""``make demo``'s 06:00 step runs on the demo scene and prints what Slack would get."""

from __future__ import annotations

import io
import json
import urllib.parse
from typing import Any

from infra.local.demo_daily import run_daily_demo
from infra.local.moto_server import LocalAws
from infra.local.scene import count, create_pair, put_in_dlq


def test_demo_prints_the_report_its_fallback_and_a_builder_link(aws: LocalAws, sqs: Any) -> None:
    # Given the demo scene: orders and payments.fifo with messages in their DLQs
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, ["o1", "o2"])
    payments = create_pair(sqs, "payments.fifo")
    put_in_dlq(sqs, payments, [json.dumps({"payment": 1})])

    # When the demo runs the 06:00 job
    out = io.StringIO()
    run_daily_demo(dict(aws.env), out=out)

    # Then it printed the report as text, the fallback, and a link that carries the blocks
    text = out.getvalue()
    assert "-- chat.postMessage to C0DLQREPORT --" in text
    assert (
        "*orders-dlq* (sqs) → orders" in text
        and "*payments-dlq.fifo* (sqs) → payments.fifo" in text
    )
    assert "-- text fallback --\nDLQ report for " in text
    assert "Auto-redrive of" in text and "moved 2 back" in text
    link = text.split("See it rendered (Block Kit Builder):\n", 1)[1].strip()
    blocks = json.loads(urllib.parse.unquote(link.split("#", 1)[1]))["blocks"]
    assert blocks[0]["type"] == "header"
    # And orders-dlq (in AUTO_REDRIVE) was redriven, payments-dlq.fifo left alone
    assert count(sqs, orders.source_url) == 2 and count(sqs, payments.dlq_url) == 1
