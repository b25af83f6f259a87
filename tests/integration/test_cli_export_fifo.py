"""``dlq-redrive export`` of a FIFO DLQ on moto: SQS hands out none of a group's later messages
while its first is held, and an export deletes nothing, so only the head of each group can be
exported in one run. The summary says how many were not exported (SQS's approximate count) and
what to do about it, instead of a warning that gives no number."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from infra.local.scene import count, create_pair
from tests.integration.cli_helpers import run_cli

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


def test_a_fifo_export_says_about_how_many_it_could_not_export(
    sqs: SQSClient, engine_env: dict[str, str], tmp_path: Path
) -> None:
    # Given a FIFO DLQ of 3 groups of 4 messages each
    orders = create_pair(sqs, "orders.fifo")
    for n in range(12):
        sqs.send_message(
            QueueUrl=orders.dlq_url,
            MessageBody=json.dumps({"n": n}),
            MessageGroupId=f"g{n % 3}",
            MessageDeduplicationId=str(n),
        )

    # When it is exported (one worker: moto's FIFO receives race each other)
    out = tmp_path / "export.jsonl"
    argv = ["export", "orders-dlq.fifo", "--out", str(out), "--workers", "1"]
    text = run_cli(argv, engine_env)

    # Then only the first messages of each group were exported (SQS may hand out several of a
    # group in one receive, none after while they are held), the summary says how many were not
    # (marked approximate) and how to get the rest, and the DLQ still holds all 12
    exported = len(out.read_text(encoding="utf-8").splitlines())
    assert 3 <= exported < 12
    assert text.code == 1, text.out
    assert (
        f"exported {exported}; about ≈{12 - exported} not exported: a FIFO DLQ gives only the "
        "first messages of each group while they are held — export again after a redrive "
        "or a discard took those out"
    ) in text.out
    assert count(sqs, orders.dlq_url) == 12
