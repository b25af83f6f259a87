"""``dlq-redrive list``'s NEXT EXPIRY (issue 12) on moto's SQS: a DLQ message expires at its
SentTimestamp plus the DLQ's MessageRetentionPeriod, silently; ``list`` says when the next one
goes, exactly when it read every message, else as a bound ("at the latest") with what it read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from infra.local.scene import create_pair, put_in_dlq
from tests.integration.cli_helpers import CallRecorder, run_cli

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

RETENTION_S = 3 * 3600


def oldest_sent(sqs: SQSClient, url: str) -> datetime:
    """The oldest SentTimestamp in the queue (every message made visible again)."""
    stamps: list[int] = []
    handles: list[str] = []
    while True:
        got = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=30,
            MessageSystemAttributeNames=["SentTimestamp"],
        ).get("Messages", [])
        if not got:
            break
        stamps += [int(m["Attributes"]["SentTimestamp"]) for m in got]
        handles += [m["ReceiptHandle"] for m in got]
    for handle in handles:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=min(stamps))


def test_list_shows_the_exact_next_expiry_when_it_read_every_message(
    sqs: SQSClient, engine_env: dict
) -> None:
    # Given a DLQ keeping messages 3 hours, holding 12 messages, and an empty one
    orders = create_pair(sqs, "orders")
    sqs.set_queue_attributes(
        QueueUrl=orders.dlq_url, Attributes={"MessageRetentionPeriod": str(RETENTION_S)}
    )
    create_pair(sqs, "payments")
    put_in_dlq(sqs, orders, [f"m{n}" for n in range(12)])
    expected = oldest_sent(sqs, orders.dlq_url) + timedelta(seconds=RETENTION_S)

    # When the DLQs are listed
    result = run_cli(["--json", "list"], engine_env)

    # Then the next expiry is the oldest message's sent time plus the retention, exactly
    assert result.code == 0, result.err
    dlqs = {d["name"]: d for d in result.json["dlqs"]}
    assert dlqs["orders-dlq"]["next_expiry"] == {
        "at": expected.isoformat(),
        "exact": True,
        "scanned": 12,
        "population": 12,
        "undated": 0,
    }
    assert dlqs["payments-dlq"]["next_expiry"] is None  # nothing in it: nothing expires
    # And reading them left every message visible
    attrs = sqs.get_queue_attributes(QueueUrl=orders.dlq_url, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == "12"
    assert attrs["ApproximateNumberOfMessagesNotVisible"] == "0"

    # And the table shows it in TIMEZONE, to the minute, with its offset
    seoul = run_cli(["list"], {**engine_env, "TIMEZONE": "Asia/Seoul"})
    shown = (expected + timedelta(hours=9)).strftime("%Y-%m-%d %H:%M") + " +09:00"
    assert "NEXT EXPIRY" in seoul.out
    row = next(line for line in seoul.out.splitlines() if line.startswith("orders-dlq"))
    assert shown in row and "at the latest" not in row


def test_list_gives_a_bound_when_it_read_only_part_of_a_dlq(
    sqs: SQSClient, engine_env: dict
) -> None:
    # Given a DLQ of 25 messages, and a scan of at most 10 per DLQ
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [f"m{n}" for n in range(25)])

    result = run_cli(["--json", "list", "--expiry-scan", "10"], engine_env)
    table = run_cli(["list", "--expiry-scan", "10"], engine_env)

    # Then the expiry is a bound, saying how many of how many it was found among
    assert result.code == 0, result.err
    next_one = result.json["dlqs"][0]["next_expiry"]
    assert next_one["exact"] is False
    assert (next_one["scanned"], next_one["population"]) == (10, 25)
    row = next(line for line in table.out.splitlines() if line.startswith("orders-dlq"))
    assert "at the latest" in row and "from 10 scanned of ~25" in row


def test_list_no_expiry_reads_no_message(sqs: SQSClient, engine_env: dict) -> None:
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, ["a"])
    recorder = CallRecorder()

    result = run_cli(["--json", "list", "--no-expiry"], engine_env, recorder.gateway)

    assert result.code == 0, result.err
    assert result.json["dlqs"][0]["next_expiry"] is None
    assert not recorder.touched_messages()
