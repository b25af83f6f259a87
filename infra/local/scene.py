"""Build realistic DLQ scenes on a local SQS server: source queues, their DLQs, dead-lettered
messages. Used by ``make demo`` and by the tests, so both exercise the same set-up."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


@dataclass(frozen=True)
class QueuePair:
    source_url: str
    dlq_url: str
    source_name: str
    dlq_name: str


def queue_arn(sqs: SQSClient, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]


def create_pair(
    sqs: SQSClient, name: str, *, dlq_name: str | None = None, max_receive_count: int = 1
) -> QueuePair:
    """A source queue ``name`` whose RedrivePolicy sends to ``<name>-dlq`` (``.fifo`` kept last)."""
    fifo = name.endswith(".fifo")
    base = name.removesuffix(".fifo")
    dlq_name = dlq_name or (f"{base}-dlq.fifo" if fifo else f"{base}-dlq")
    fifo_attrs = {"FifoQueue": "true"} if fifo else {}
    dlq_url = sqs.create_queue(QueueName=dlq_name, Attributes=fifo_attrs)["QueueUrl"]
    policy = {"deadLetterTargetArn": queue_arn(sqs, dlq_url), "maxReceiveCount": max_receive_count}
    source_url = sqs.create_queue(
        QueueName=name, Attributes={**fifo_attrs, "RedrivePolicy": json.dumps(policy)}
    )["QueueUrl"]
    return QueuePair(source_url, dlq_url, name, dlq_name)


def put_in_dlq(
    sqs: SQSClient,
    pair: QueuePair,
    bodies: list[str],
    *,
    attributes: dict[str, dict[str, Any]] | None = None,
    group_id: str | None = None,
) -> None:
    """Place messages in the DLQ the way a failing consumer would: sent to the source queue and
    received there until SQS dead-letters them (moto honours RedrivePolicy for standard queues).
    FIFO messages are sent straight into the FIFO DLQ, as moto's FIFO dead-lettering is unordered.
    """
    if pair.dlq_name.endswith(".fifo"):
        for index, body in enumerate(bodies):
            extra: dict[str, Any] = {"MessageAttributes": attributes} if attributes else {}
            sqs.send_message(
                QueueUrl=pair.dlq_url,
                MessageBody=body,
                MessageGroupId=group_id or "g1",
                MessageDeduplicationId=f"seed-{index}-{abs(hash(body))}",
                **extra,
            )
        return
    for start in range(0, len(bodies), 10):
        entries: list[dict[str, Any]] = []
        for index, body in enumerate(bodies[start : start + 10]):
            entry: dict[str, Any] = {"Id": str(index), "MessageBody": body}
            if attributes:
                entry["MessageAttributes"] = attributes
            entries.append(entry)
        sqs.send_message_batch(QueueUrl=pair.source_url, Entries=entries)  # type: ignore[arg-type]
    # Receive with a zero visibility timeout until every message passed maxReceiveCount and moved.
    for _ in range(100):
        got = sqs.receive_message(
            QueueUrl=pair.source_url, MaxNumberOfMessages=10, VisibilityTimeout=0
        ).get("Messages", [])
        if not got and _visible(sqs, pair.source_url) == 0:
            break


def fail_again(sqs: SQSClient, pair: QueuePair) -> None:
    """The consumer fails the redriven messages: received past maxReceiveCount, SQS (moto)
    dead-letters them again as they are, attributes and all."""
    for _ in range(20):
        if _visible(sqs, pair.source_url) == 0:
            return
        sqs.receive_message(QueueUrl=pair.source_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    raise AssertionError("the redriven messages never went back to the DLQ")


def _visible(sqs: SQSClient, url: str) -> int:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(
        attrs["ApproximateNumberOfMessagesNotVisible"]
    )


def count(sqs: SQSClient, url: str) -> int:
    """Visible + in-flight messages of a queue."""
    return _visible(sqs, url)


def drain(
    sqs: SQSClient, url: str, *, empty_receives: int = 1, wait_seconds: int = 0
) -> list[dict[str, Any]]:
    """Receive (and delete) everything in a queue, with all attributes; for assertions.

    Stops after ``empty_receives`` empty receives in a row. One is enough on moto; on LocalStack
    or AWS with thousands of messages, ask for several with ``wait_seconds`` of long polling, as
    "with short polling ... you might not receive messages even if there are messages" (SQS
    Developer Guide, short and long polling)."""
    out: list[dict[str, Any]] = []
    empty = 0
    while empty < empty_receives:
        got = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=30,
            WaitTimeSeconds=wait_seconds,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not got:
            empty += 1
            continue
        empty = 0
        out.extend(got)
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)
            ],
        )
    return out
