"""10% of SendMessageBatch entries refused by SQS: those stay in the DLQ, the rest move, none lost.

A boto3 event hook on the engine's own client makes the chosen entries invalid (DelaySeconds=901)
just before the request is built, so moto's real server answers them in ``Failed``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3

from infra.local.scene import create_pair, put_in_dlq
from tests.faults.helpers import assert_conserved, dlq_snapshot, outcome, redrive

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


def test_one_entry_in_ten_refused_stays_in_the_dlq_and_is_reported(sqs: SQSClient) -> None:
    # Given 60 dead-lettered messages, and an SQS that refuses every tenth one on send
    pair = create_pair(sqs, "orders")
    put_in_dlq(sqs, pair, [f"order-{i:03d}" for i in range(60)])
    before = dlq_snapshot(sqs, pair.dlq_url)
    doomed = {body for body in before.values() if int(body[-3:]) % 10 == 0}
    engine_client = boto3.client("sqs")
    requests: list[list[str]] = []

    def poison(params: dict[str, Any], **_: Any) -> None:
        requests.append([entry["MessageBody"] for entry in params["Entries"]])
        for entry in params["Entries"]:
            if entry["MessageBody"] in doomed:
                entry["DelaySeconds"] = 901  # invalid: SQS answers this entry in Failed

    engine_client.meta.events.register("before-parameter-build.sqs.SendMessageBatch", poison)

    # When the engine redrives the DLQ
    report = redrive(engine_client, pair.dlq_name, workers=3)

    # Then the refused 10% are reported failed with SQS's reason and stay in the DLQ untouched,
    # every other message moved exactly once, and nothing is lost
    assert len(doomed) == 6
    assert report.failed == 6
    assert report.moved == 54
    assert dict(report.failure_reasons) == {"InvalidParameterValue": 6}
    assert {f["code"] for f in report.failures} == {"InvalidParameterValue"}
    assert report.released >= 6
    after = outcome(sqs, pair.dlq_url, pair.source_url)
    assert set(after.in_dlq.values()) == doomed
    assert_conserved(before, after)
    # (SQS's refusal is a sender fault: not retried, so each doomed entry was sent once)
    sent = [body for request in requests for body in request]
    assert sorted(b for b in sent if b in doomed) == sorted(doomed)
