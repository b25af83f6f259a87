"""A world of every DLQ kind on moto (SQS, SNS, EventBridge) and a local Lambda server, for the
CLI's and the Slack app's tests of them (tests/integration/test_cli_kinds.py,
tests/integration/slack/test_slack_kinds.py)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3

from infra.local.lambda_server import LambdaServer
from infra.local.scene import create_pair, drain, queue_arn
from tests.unit.kind_messages import as_send_entry

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class World:
    """One topic with two queue subscribers (only ``orders-inbox`` has a DLQ) and a function
    subscriber with a DLQ; one rule with two queue targets (only ``billing`` has a DLQ); a
    function whose async invocations dead-letter into ``thumbnailer-dlq`` and one whose on-failure
    destination is ``invoice-pdf-failures`` (on the local Lambda server, which lists them with
    their settings as Lambda's configuration API does); a plain SQS source and its DLQ beside."""

    def __init__(self, sqs: SQSClient, lambdas: LambdaServer) -> None:
        self.sqs = sqs
        self.sns = boto3.client("sns")
        self.events = boto3.client("events")
        self.lambdas = lambdas
        self.urls: dict[str, str] = {}
        self.arns: dict[str, str] = {}
        create_pair(sqs, "payments")
        for name in (
            "orders-inbox",
            "orders-sub-dlq",
            "analytics-inbox",
            "notifier-dlq",
            "billing-inbox",
            "billing-dlq",
            "audit-inbox",
            "thumbnailer-dlq",
            "invoice-pdf-failures",
        ):
            self.urls[name] = sqs.create_queue(QueueName=name)["QueueUrl"]
            self.arns[name] = queue_arn(sqs, self.urls[name])
        self.topic = self.sns.create_topic(Name="orders")["TopicArn"]
        self.subscription = self.subscribe("sqs", self.arns["orders-inbox"], "orders-sub-dlq")
        self.subscribe("sqs", self.arns["analytics-inbox"], None)  # must get nothing back
        self.notifier = self.subscribe("lambda", self.function_arn("notifier"), "notifier-dlq")
        works = lambda event, context: {"status": "ok"}  # noqa: E731 - the functions work again
        lambdas.register("notifier", works)
        lambdas.register("thumbnailer", works, dead_letter_arn=self.arns["thumbnailer-dlq"])
        lambdas.register("invoice-pdf", works, on_failure_arn=self.arns["invoice-pdf-failures"])
        self.rule = self.events.put_rule(
            Name="invoice-due", EventPattern=json.dumps({"source": ["billing"]})
        )["RuleArn"]
        self.events.put_targets(
            Rule="invoice-due",
            Targets=[
                {
                    "Id": "billing",
                    "Arn": self.arns["billing-inbox"],
                    "DeadLetterConfig": {"Arn": self.arns["billing-dlq"]},
                },
                {"Id": "audit", "Arn": self.arns["audit-inbox"]},
            ],
        )

    @staticmethod
    def function_arn(name: str) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{name}"

    def subscribe(self, protocol: str, endpoint: str, dlq: str | None) -> str:
        attributes = (
            {"RedrivePolicy": json.dumps({"deadLetterTargetArn": self.arns[dlq]})} if dlq else {}
        )
        arn: str = self.sns.subscribe(
            TopicArn=self.topic,
            Protocol=protocol,
            Endpoint=endpoint,
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        return arn

    def seed(self, queue: str, *messages: Any) -> None:
        for message in messages:
            self.sqs.send_message(QueueUrl=self.urls[queue], **as_send_entry(message))

    def bodies(self, queue: str) -> list[str]:
        return [m["Body"] for m in drain(self.sqs, self.urls[queue])]
