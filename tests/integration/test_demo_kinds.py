"""``make demo``'s DLQ kinds (issue 13): what it prints is what happened.

Given moto (SNS, EventBridge, SQS) and the local Lambda server, the kinds part builds its scene,
runs the real CLI in its own processes (list, dry runs, redrives) and reads what each target got.
The queues are read again here, directly, so the demo's story is checked against the queues and
the functions' invokes, not only against its own words.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

from infra.local.demo_kinds import run_kinds_demo
from infra.local.demo_kinds_scene import (
    ANALYTICS,
    AUDIT,
    BILLING,
    BILLING_DLQ,
    DLQS,
    EMAILS,
    EMAILS_DLQ,
    INVOICE_PDF,
    NOTIFIER,
    THUMBNAILER,
)
from infra.local.moto_server import LocalAws
from infra.local.scene import count, drain


def queue_url(sqs: Any, name: str) -> str:
    url: str = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    return url


def test_the_demo_redrives_each_kind_back_to_exactly_its_failed_target(
    aws: LocalAws, sqs: Any
) -> None:
    # When the demo plays its DLQ kinds on a fresh moto
    out = io.StringIO()
    outcome = run_kinds_demo(dict(aws.env), out=out)
    text = out.getvalue()

    # Then every check it printed holds
    assert outcome.failed() == [], text
    assert "✗" not in text

    # And list showed each DLQ with its kind
    for dlq, kind in DLQS:
        assert re.search(rf"^{re.escape(dlq)}\s+{kind}\s", text, re.MULTILINE), (dlq, kind)

    # And the SNS subscription's queue got its two envelopes, the topic's other subscriber none
    assert len(outcome.queues[EMAILS]) == 2
    assert {json.loads(body)["Type"] for body in outcome.queues[EMAILS]} == {"Notification"}
    assert outcome.queues[ANALYTICS] == [] and count(sqs, queue_url(sqs, ANALYTICS)) == 0

    # And the function subscribed to the topic got the SNS event, once
    (event,) = outcome.invokes[NOTIFIER]
    assert event["Records"][0]["EventSource"] == "aws:sns"
    assert json.loads(event["Records"][0]["Sns"]["Message"])["orderId"] == "ord-1003"

    # And the EventBridge target got the THROTTLING event, the rule's other target nothing, and
    # the NO_PERMISSIONS event is still in the DLQ for a human, its attributes intact
    (invoice,) = outcome.queues[BILLING]
    assert json.loads(invoice)["detail"]["invoiceId"] == "inv-77"
    assert outcome.queues[AUDIT] == [] and count(sqs, queue_url(sqs, AUDIT)) == 0
    (held,) = drain(sqs, queue_url(sqs, BILLING_DLQ))
    assert held["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "NO_PERMISSIONS"
    assert json.loads(held["Body"])["detail"]["invoiceId"] == "inv-78"

    # And each function got only its own: the async DLQ's payloads as stored, the on-failure
    # record's requestPayload
    assert sorted(p["key"] for p in outcome.invokes[THUMBNAILER]) == ["cat.heic", "dog.heic"]
    assert outcome.invokes[INVOICE_PDF] == [{"invoiceId": "inv-80", "template": "standard"}]

    # And every other DLQ of the scene is empty
    for dlq, _ in DLQS:
        if dlq != BILLING_DLQ:
            assert count(sqs, queue_url(sqs, dlq)) == 0, dlq

    # And a canary on such a DLQ was refused before anything moved, saying why
    assert f"no canary for {EMAILS_DLQ}" in text and "--canary 0" in text

    # And every command was shown as typed, with its exit status: each succeeded but the refused
    # canary (list, five dry runs, the canary, five redrives, list)
    for dlq, _ in DLQS:
        assert f"$ dlq-redrive redrive {dlq} --dry-run" in text
        assert f"$ dlq-redrive redrive {dlq}\n" in text
    statuses = [int(s) for s in re.findall(r"\(exit status (\d+)\)", text)]
    assert statuses == outcome.statuses == [0] * 6 + [2] + [0] * 6
