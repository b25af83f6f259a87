"""Deliveries back to a function or a topic through the real gateways (``DeliveryGateway``, the
``TargetApi`` the engine uses): an asynchronous invoke on the local Lambda server, confirmed by
202 only; Lambda's refusals (404, 429, 500) with AWS's codes and never retried by the client; an
answer lost after the invoke was queued, or after SNS took a publish, is SendAnswerLostError (it
may have been delivered: never counted confirmed, never sent again); SNS publish on moto."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from bot.delivery_gateway import DeliveryGateway
from bot.errors import AwsError, SendAnswerLostError
from bot.lambda_gateway import LambdaRedriveGateway
from bot.sns_gateway import SnsGateway
from infra.local.lambda_server import LambdaServer
from infra.local.moto_server import LocalAws
from tests.faults.fault_proxy import Fault, FaultProxy

SHIP = "arn:aws:lambda:us-east-1:123456789012:function:ship"


@pytest.fixture
def lambdas(aws: LocalAws) -> Iterator[LambdaServer]:
    with LambdaServer() as server:
        server.register("ship", lambda event, context: None)
        yield server


def targets(lambdas: LambdaServer, sns_endpoint: str | None = None) -> DeliveryGateway:
    """The gateway as composition makes it: an injected reading client per service, and the
    delivering clients made like them (one attempt each)."""
    lam = boto3.client("lambda", endpoint_url=lambdas.endpoint_url)
    sns = boto3.client("sns", endpoint_url=sns_endpoint) if sns_endpoint else boto3.client("sns")
    return DeliveryGateway(LambdaRedriveGateway(lam), SnsGateway(sns))


def payloads(lambdas: LambdaServer) -> list[Any]:
    lambdas.wait_idle(timeout=10)
    return [invocation.payload for invocation in lambdas.calls_to("ship")]


# --- Lambda -------------------------------------------------------------------------------------


def test_an_invoke_accepted_with_202_reaches_the_function(lambdas: LambdaServer) -> None:
    # When a payload is delivered to the function by its qualified ARN (an on-failure record's)
    targets(lambdas).invoke_event(f"{SHIP}:$LATEST", b'{"order": 7, "note": "\xc3\xa9"}')
    # Then Lambda queued it (202) and the function ran once with it
    assert payloads(lambdas) == [{"order": 7, "note": "é"}]
    assert [i.invocation_type for i in lambdas.calls_to("ship")] == ["Event"]


@pytest.mark.parametrize(
    ("status", "code"), [(429, "TooManyRequestsException"), (500, "ServiceException")]
)
def test_an_invoke_lambda_refuses_fails_with_its_code_and_is_not_retried(
    lambdas: LambdaServer, status: int, code: str
) -> None:
    # Given Lambda refuses the next invoke of the function (one fault armed)
    lambdas.fault("ship", status=status)
    # When a payload is delivered
    with pytest.raises(AwsError) as refused:
        targets(lambdas).invoke_event(SHIP, b"{}")
    # Then the refusal carries AWS's code, and no second attempt ran the function behind it
    assert refused.value.code == code and not isinstance(refused.value, SendAnswerLostError)
    assert lambdas.faults_left("ship") == 0
    assert payloads(lambdas) == []


def test_an_invoke_of_a_function_that_does_not_exist_is_refused(lambdas: LambdaServer) -> None:
    with pytest.raises(AwsError) as refused:
        targets(lambdas).invoke_event(SHIP.replace("ship", "gone"), b"{}")
    assert refused.value.code == "ResourceNotFoundException"


def test_an_invoke_whose_answer_is_lost_is_unconfirmed_and_not_sent_again(
    lambdas: LambdaServer,
) -> None:
    # Given Lambda queues the next invoke and the answer never comes back
    lambdas.fault("ship", lose_answer=True)
    # When a payload is delivered
    with pytest.raises(SendAnswerLostError) as lost:
        targets(lambdas).invoke_event(SHIP, b'{"order": 8}')
    # Then the caller is told it may have been delivered, and it was, exactly once
    assert "no answer from Lambda" in str(lost.value)
    assert payloads(lambdas) == [{"order": 8}]


# --- SNS ----------------------------------------------------------------------------------------


def _topic_with_a_queue(sqs: Any, *, fifo: bool = False) -> tuple[str, str]:
    sns = boto3.client("sns")
    suffix = ".fifo" if fifo else ""
    attributes = {"FifoTopic": "true", "ContentBasedDeduplication": "false"} if fifo else {}
    topic = sns.create_topic(Name=f"alerts{suffix}", Attributes=attributes)["TopicArn"]
    queue_attributes = {"FifoQueue": "true"} if fifo else {}
    url = sqs.create_queue(QueueName=f"inbox{suffix}", Attributes=queue_attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"}
    )
    return topic, url


def test_a_publish_reaches_the_topic_with_its_attributes(lambdas: LambdaServer, sqs: Any) -> None:
    # Given a topic (an EventBridge target) with a queue subscribed, raw delivery
    topic, inbox = _topic_with_a_queue(sqs)
    # When a message is published with an attribute
    message_id = targets(lambdas).publish(
        topic,
        '{"detail": "x"}',
        {"dlq-redrive-count": {"DataType": "String", "StringValue": "1"}},
        None,
        None,
    )
    # Then SNS answered a MessageId and the subscriber got the body and the attribute
    received = sqs.receive_message(QueueUrl=inbox, MessageAttributeNames=["All"])["Messages"]
    assert message_id and [m["Body"] for m in received] == ['{"detail": "x"}']
    assert received[0]["MessageAttributes"]["dlq-redrive-count"]["StringValue"] == "1"


def test_a_fifo_publish_carries_its_group_and_deduplication_ids(
    lambdas: LambdaServer, sqs: Any
) -> None:
    topic, inbox = _topic_with_a_queue(sqs, fifo=True)
    targets(lambdas).publish(topic, "first", {}, "order-7", "dedup-1")
    received = sqs.receive_message(QueueUrl=inbox, AttributeNames=["MessageGroupId"])["Messages"]
    assert [(m["Body"], m["Attributes"]["MessageGroupId"]) for m in received] == [
        ("first", "order-7")
    ]


def test_a_publish_sns_refuses_fails_with_its_code(lambdas: LambdaServer) -> None:
    gone = "arn:aws:sns:us-east-1:123456789012:gone"
    with pytest.raises(AwsError) as refused:
        targets(lambdas).publish(gone, "x", {}, None, None)
    assert refused.value.code == "NotFound" and not isinstance(refused.value, SendAnswerLostError)


def test_a_publish_whose_answer_is_lost_is_unconfirmed_and_not_sent_again(
    aws: LocalAws, lambdas: LambdaServer, sqs: Any
) -> None:
    # Given SNS takes the publish and the connection then resets before its answer
    topic, inbox = _topic_with_a_queue(sqs)
    # When a message is published
    with (
        FaultProxy(aws.endpoint, lambda action, n: Fault.RESET_AFTER) as proxy,
        pytest.raises(SendAnswerLostError) as lost,
    ):
        targets(lambdas, proxy.endpoint).publish(topic, "maybe", {}, None, None)
    # Then the caller is told it may have been delivered, and it was, exactly once
    assert "no answer from SNS" in str(lost.value) and proxy.calls("Publish") == 1
    received = sqs.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in received] == ["maybe"]
