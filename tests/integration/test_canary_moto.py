"""The canary on moto: a source queue whose RedrivePolicy (maxReceiveCount 1) dead-letters what
its consumer fails, and a consumer behind it. A broken consumer receives and never deletes, so
SQS itself moves each message back to the DLQ on its next receive (same id, attributes kept, the
lineage with them); a working one deletes what it receives. The consumer takes its turn each time
the canary waits (the wait's ``sleep``), so the test needs no real wait."""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.canary import CanaryPlan, Watch, run_with_canary
from bot.catalog import Dlq
from bot.engine import RedriveEngine
from bot.redrive_model import RedriveRequest
from bot.run_control import canary_words
from bot.selection import LINEAGE_ATTRIBUTE
from bot.sqs_gateway import SqsGateway

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from infra.local.moto_server import LocalAws

UTC_ZONE = ZoneInfo("UTC")


class Scene:
    """orders-dlq and orders (RedrivePolicy: maxReceiveCount 1), ``count`` messages in the DLQ."""

    def __init__(self, sqs: SQSClient, count: int) -> None:
        self.sqs = sqs
        self.dlq_url = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=self.dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "1"})
        self.source_url = sqs.create_queue(
            QueueName="orders", Attributes={"RedrivePolicy": policy}
        )["QueueUrl"]
        for i in range(count):
            error = "Time out" if i % 2 else "Refused"
            sqs.send_message(
                QueueUrl=self.dlq_url,
                MessageBody=json.dumps({"n": i}),
                MessageAttributes={"error": {"DataType": "String", "StringValue": error}},
            )
        gateway = SqsGateway()
        self.dlq = Dlq(gateway.queue_info(self.dlq_url), (gateway.queue_info(self.source_url),))
        self.engine = RedriveEngine(gateway, max_redrives=5, timezone=UTC_ZONE)
        self.now = 0.0
        self.consumed = 0

    def clock(self) -> float:
        return self.now

    def receive(self, url: str) -> list[dict[str, Any]]:
        return self.sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=0,
            MessageAttributeNames=["All"],
        ).get("Messages", [])

    def broken_consumer(self, seconds: float) -> None:
        """Receives and fails every message (never deletes): with maxReceiveCount 1, SQS
        dead-letters each on its next receive."""
        self.now += seconds
        for _ in range(10):
            if not self.receive(self.source_url):
                return

    def working_consumer(self, seconds: float) -> None:
        self.now += seconds
        while messages := self.receive(self.source_url):
            for message in messages:
                self.sqs.delete_message(
                    QueueUrl=self.source_url, ReceiptHandle=message["ReceiptHandle"]
                )
                self.consumed += 1

    def in_dlq(self) -> list[dict[str, Any]]:
        """Every message in the DLQ: received (hidden meanwhile), then made visible again."""
        seen: list[dict[str, Any]] = []
        while messages := self.sqs.receive_message(
            QueueUrl=self.dlq_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=60,
            MessageAttributeNames=["All"],
        ).get("Messages", []):
            seen.extend(messages)
        for message in seen:
            self.sqs.change_message_visibility(
                QueueUrl=self.dlq_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
        return seen

    def count(self, url: str) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(value) for value in attributes.values())


def request() -> RedriveRequest:
    return RedriveRequest(confirm_empty_wait_s=0, workers=2, visibility_timeout=30)


def test_the_canary_stops_when_the_consumer_still_dead_letters_everything(
    aws: LocalAws, sqs: SQSClient
) -> None:
    # Given 30 messages in the DLQ and a consumer that fails every message again
    scene = Scene(sqs, 30)
    # When redriven with a canary of 10
    outcome = run_with_canary(
        scene.engine,
        scene.dlq,
        request(),
        CanaryPlan(size=10, wait_s=60),
        sleep=scene.broken_consumer,
        clock=scene.clock,
        error_attribute="error",
    )
    # Then SQS dead-lettered the 10 copies, the canary saw them (by their lineage) and stopped
    assert outcome.canary.moved == 10 and outcome.canary.lineage_dropped == 0
    assert outcome.returned == 10 and outcome.stopped and outcome.rest is None
    assert outcome.watch is Watch.THRESHOLD and outcome.waited_s == 5.0
    # and every message is in the DLQ: the 20 never moved, the 10 back with their lineage
    messages = scene.in_dlq()
    assert len(messages) == 30 and scene.count(scene.source_url) == 0
    lineages = [
        m.get("MessageAttributes", {}).get(LINEAGE_ATTRIBUTE, {}).get("StringValue")
        for m in messages
    ]
    assert lineages.count(outcome.lineage) == 10 and lineages.count(None) == 20
    # what came back is counted by its error group (the ERROR_ATTRIBUTE value)
    back = [m for m, lineage in zip(messages, lineages, strict=True) if lineage]
    errors = Counter(m["MessageAttributes"]["error"]["StringValue"] for m in back)
    assert outcome.returned_errors == errors and sum(errors.values()) == 10
    assert "the consumer is still failing" in canary_words(outcome)


def test_the_canary_moves_the_rest_when_the_consumer_works(aws: LocalAws, sqs: SQSClient) -> None:
    # Given 30 messages in the DLQ and a consumer that processes what it receives
    scene = Scene(sqs, 30)
    # When redriven with a canary of 10, watched for 10 s
    outcome = run_with_canary(
        scene.engine,
        scene.dlq,
        request(),
        CanaryPlan(size=10, wait_s=10),
        sleep=scene.working_consumer,
        clock=scene.clock,
    )
    # Then none came back, the rest moved, and the DLQ is empty
    assert outcome.canary.moved == 10 and outcome.returned == 0 and not outcome.stopped
    assert outcome.polls == [0, 0] and outcome.watch is Watch.WAITED
    assert outcome.rest is not None and outcome.rest.moved == 20
    assert scene.consumed == 10  # the canary's copies; the rest's wait in the source queue
    assert scene.count(scene.dlq_url) == 0 and scene.count(scene.source_url) == 20
    assert "so the rest was run: it moved 20" in canary_words(outcome)
