"""The SQS gateway against the local SQS server (moto)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import boto3

from bot.sqs_gateway import SqsGateway

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from infra.local.moto_server import LocalAws


def test_workers_asking_for_a_source_queue_at_once_look_it_up_once(
    aws: LocalAws, sqs: SQSClient
) -> None:
    # Given a queue known by ARN, and a gateway whose client counts its GetQueueUrl calls
    url = sqs.create_queue(QueueName="orders")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    client = boto3.client("sqs")
    lookups: list[str] = []
    client.meta.events.register(
        "before-call.sqs.GetQueueUrl", lambda **kwargs: lookups.append("GetQueueUrl")
    )
    gateway = SqsGateway(client)
    # When the engine's 8 workers all route their first message at the same moment
    start = threading.Barrier(8)

    def route(_: Any) -> str:
        start.wait()
        return gateway.url_for_arn(arn)

    with ThreadPoolExecutor(max_workers=8) as pool:
        urls = list(pool.map(route, range(8)))
    # Then every worker gets the URL, from one lookup
    assert urls == [url] * 8
    assert lookups == ["GetQueueUrl"]
