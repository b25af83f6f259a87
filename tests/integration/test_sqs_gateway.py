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


def test_a_queues_info_says_how_long_a_message_can_take_to_dead_letter(
    aws: LocalAws, sqs: SQSClient
) -> None:
    # Given a source queue that receives a message 5 times, 6 hours each, after a 60 s delay
    dlq = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    source = sqs.create_queue(
        QueueName="orders",
        Attributes={
            "VisibilityTimeout": "21600",
            "DelaySeconds": "60",
            "RedrivePolicy": f'{{"deadLetterTargetArn": "{dlq_arn}", "maxReceiveCount": "5"}}',
        },
    )["QueueUrl"]

    # When the gateway reads both queues
    gateway = SqsGateway(boto3.client("sqs"))
    info, target = gateway.queue_info(source), gateway.queue_info(dlq)

    # Then the source's settings are there; the DLQ has no RedrivePolicy (and SQS's defaults)
    assert (info.max_receive_count, info.visibility_timeout_s, info.delay_s) == (5, 21600, 60)
    assert (target.max_receive_count, target.visibility_timeout_s, target.delay_s) == (None, 30, 0)


def test_an_unreachable_sqs_is_an_aws_error_for_every_look_up() -> None:
    # Given a gateway whose client points where nothing listens (one attempt, no retries)
    from botocore.config import Config

    from bot.errors import AwsError

    client = boto3.client(
        "sqs",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="unused",
        aws_secret_access_key="unused",
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=1),
    )
    gateway = SqsGateway(client)
    url = "http://127.0.0.1:9/123456789012/orders-dlq"
    looks = {
        "queue_url": lambda: gateway.queue_url("orders-dlq"),
        "queue_info": lambda: gateway.queue_info(url),
        "dead_letter_sources": lambda: gateway.dead_letter_sources(url),
        "list_queue_urls": gateway.list_queue_urls,
    }
    # When each look-up is made
    raised: dict[str, Exception] = {}
    for name, look in looks.items():
        try:
            look()
        except Exception as exc:  # noqa: BLE001 - which exception is what this test looks at
            raised[name] = exc
    # Then each says, as the gateway's AwsError, that SQS cannot be reached: nothing above the
    # gateway has to know botocore's exceptions (the daily job's DLQ lines rely on it)
    assert set(raised) == set(looks)
    for name, exc in raised.items():
        assert isinstance(exc, AwsError), (name, repr(exc))
        assert str(exc).startswith("cannot reach SQS while"), (name, str(exc))
