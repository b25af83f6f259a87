"""A world of every DLQ kind on moto (SQS, SNS, EventBridge) and a local Lambda server, for the
CLI's and the Slack app's tests of them (tests/integration/test_cli_kinds.py,
tests/integration/slack/test_slack_kinds.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from infra.local.kinds_scene import KindsBuilder
from infra.local.lambda_server import LambdaServer, function_arn
from infra.local.scene import create_pair
from tests.unit.kind_messages import eventbridge_dlq_message, eventbridge_event

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class World(KindsBuilder):
    """One topic with two queue subscribers (only ``orders-inbox`` has a DLQ) and a function
    subscriber with a DLQ; one rule with two queue targets (only ``billing`` has a DLQ); a
    function whose async invocations dead-letter into ``thumbnailer-dlq`` and one whose on-failure
    destination is ``invoice-pdf-failures`` (on the local Lambda server, which lists them with
    their settings as Lambda's configuration API does); a plain SQS source and its DLQ beside."""

    def __init__(self, sqs: SQSClient, lambdas: LambdaServer) -> None:
        super().__init__(sqs, lambdas)
        create_pair(sqs, "payments")
        self.queues(
            "orders-inbox",
            "orders-sub-dlq",
            "analytics-inbox",
            "notifier-dlq",
            "billing-inbox",
            "billing-dlq",
            "audit-inbox",
            "thumbnailer-dlq",
            "invoice-pdf-failures",
        )
        self.topic = self.create_topic("orders")
        self.subscription = self.subscribe("sqs", self.arns["orders-inbox"], "orders-sub-dlq")
        self.subscribe("sqs", self.arns["analytics-inbox"], None)  # must get nothing back
        self.notifier = self.subscribe("lambda", function_arn("notifier"), "notifier-dlq")
        self.function("notifier")
        self.function("thumbnailer", dead_letter="thumbnailer-dlq")
        self.function("invoice-pdf", on_failure="invoice-pdf-failures")
        self.rule = self.put_rule(
            "invoice-due",
            "billing",
            [
                self.target("billing", self.arns["billing-inbox"], "billing-dlq"),
                self.target("audit", self.arns["audit-inbox"]),
            ],
        )

    def subscribe(self, protocol: str, endpoint: str, dlq: str | None) -> str:
        """Subscribe ``endpoint`` to the topic ``orders``, dead-lettering into ``dlq``."""
        return self.subscribe_to(self.topic, protocol, endpoint, dlq)

    def billing_failed(self, *error_codes: str) -> None:
        """Seed ``billing-dlq`` with an event the rule's billing target failed for each
        EventBridge ERROR_CODE, their details ``{"invoice": 1}``, ``{"invoice": 2}``, ..."""
        self.seed(
            "billing-dlq",
            *(
                eventbridge_dlq_message(
                    eventbridge_event({"invoice": number}),
                    rule_arn=self.rule,
                    target_arn=self.arns["billing-inbox"],
                    error_code=code,
                )
                for number, code in enumerate(error_codes, 1)
            ),
        )
