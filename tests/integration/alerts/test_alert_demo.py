"""``make demo``'s alert step runs three checks on moto and prints what Slack would get."""

from __future__ import annotations

import io
import json
import urllib.parse
from typing import Any

from slack_sdk.models.blocks import Block

from infra.local.demo_alerts import run_alerts_demo
from infra.local.moto_server import LocalAws
from infra.local.scene import create_pair


def test_demo_prints_the_alert_the_growth_and_the_drained_note_with_builder_links(
    aws: LocalAws, sqs: Any
) -> None:
    # Given the demo's moto with a DLQ already holding a message
    orders = create_pair(sqs, "orders")
    sqs.send_message(QueueUrl=orders.dlq_url, MessageBody="o1")

    # When the demo runs its three checks
    out = io.StringIO()
    run_alerts_demo(dict(aws.env), out=out)

    # Then the first check alerted both DLQs in one message, the second replied with the growth,
    # the third with the drained note, each printed with a link carrying valid blocks
    text = out.getvalue()
    assert text.count("-- chat.postMessage to C0DLQALERTS --") == 1
    assert text.count("-- thread reply to C0DLQALERTS --") == 2
    assert "• `checkout-dlq`: about 4 messages\n• `orders-dlq`: about 1 message\n" in text
    assert "• `checkout-dlq`: about 16 messages now, up from about 4 when last told" in text
    assert "• `checkout-dlq`: drained" in text
    links = text.split("See it rendered (Block Kit Builder):\n")[1:]
    assert len(links) == 3
    for link in links:
        payload = urllib.parse.unquote(link.split("\n", 1)[0].split("#", 1)[1])
        for block in json.loads(payload)["blocks"]:
            Block.parse(block).validate_json()  # type: ignore[union-attr]
