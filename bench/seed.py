"""Fill a DLQ fast on LocalStack, the way SQS itself fills one: messages sent to a source queue
(maxReceiveCount 1) and received there until SQS dead-letters them, so each carries its
DeadLetterQueueSourceArn and the engine routes it by that, as it does on AWS."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

THREADS = 8


def client() -> SQSClient:
    return boto3.client("sqs", config=Config(max_pool_connections=32, retries={"mode": "standard"}))


@dataclass(frozen=True)
class Pair:
    name: str
    source_url: str
    dlq_url: str
    dlq_name: str
    dlq_arn: str


def create_pair(sqs: SQSClient, name: str) -> Pair:
    dlq_name = f"{name}-dlq"
    dlq_url = sqs.create_queue(QueueName=dlq_name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 1})
    source_url = sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": policy})["QueueUrl"]
    return Pair(name, source_url, dlq_url, dlq_name, arn)


def depth(sqs: SQSClient, url: str) -> int:
    """Visible + in-flight + delayed messages."""
    attrs = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return sum(int(value) for value in attrs.values())


def plain_body(index: int) -> str:
    """A ~250-byte JSON event, the size of a typical failed job."""
    return json.dumps(
        {
            "id": index,
            "type": "order.created",
            "occurredAt": "2026-11-24T12:00:00Z",
            "pad": "x" * 160,
        }
    )


def seed_dead_lettered(
    sqs: SQSClient, pair: Pair, count: int, body: Callable[[int], str] = plain_body
) -> float:
    """Put ``count`` messages into ``pair``'s DLQ via SQS dead-lettering; return seconds taken."""
    started = time.monotonic()

    def send(start: int) -> None:
        entries: list[Any] = [
            {"Id": str(i), "MessageBody": body(start + i)} for i in range(min(10, count - start))
        ]
        response = sqs.send_message_batch(QueueUrl=pair.source_url, Entries=entries)
        if response.get("Failed"):
            raise RuntimeError(f"seeding failed: {response['Failed'][:1]}")

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(send, range(0, count, 10)))

    done = threading.Event()

    def receive_until_dead_lettered() -> None:
        # Each message needs two receives: the first counts 1, the second moves it to the DLQ.
        while not done.is_set():
            got = sqs.receive_message(
                QueueUrl=pair.source_url, MaxNumberOfMessages=10, VisibilityTimeout=0
            ).get("Messages", [])
            if not got and depth(sqs, pair.source_url) == 0:
                done.set()

    with ThreadPoolExecutor(THREADS) as pool:
        for future in [pool.submit(receive_until_dead_lettered) for _ in range(THREADS)]:
            future.result()
    in_dlq = depth(sqs, pair.dlq_url)
    if in_dlq != count:
        raise RuntimeError(f"expected {count} messages in {pair.dlq_name}, found {in_dlq}")
    return time.monotonic() - started


def delete_pair(sqs: SQSClient, pair: Pair) -> None:
    for url in (pair.source_url, pair.dlq_url):
        sqs.delete_queue(QueueUrl=url)
