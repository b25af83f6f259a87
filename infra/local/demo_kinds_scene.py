"""The scene of ``make demo``'s DLQ kinds (issue 13): what dead-letters into SQS besides a queue.

On moto (SNS, EventBridge, SQS) and the local Lambda server (functions, their DeadLetterConfig
and on-failure destination, and every invoke):

- SNS topic ``order-events`` with three subscriptions: queue ``order-emails`` (its DLQ
  ``order-emails-dlq``), queue ``order-analytics`` (no DLQ: the subscriber that must get nothing
  back) and function ``order-notifier`` (its DLQ ``order-notifier-dlq``).
- EventBridge rule ``invoice-due`` on the default bus with two targets: ``billing`` (queue
  ``billing-inbox``, DLQ ``billing-events-dlq``) and ``audit`` (queue ``audit-inbox``, no DLQ).
- Function ``thumbnailer`` whose asynchronous invocations dead-letter into ``thumbnailer-dlq``
  (DeadLetterConfig), and function ``invoice-pdf`` whose on-failure destination is the queue
  ``invoice-pdf-failures``.

moto never dead-letters for these services, so each DLQ is seeded with messages shaped as AWS
documents them (``tests/unit/kind_messages.py``, the builders the unit tests use): SNS envelopes,
events with RULE_ARN / TARGET_ARN / ERROR_CODE, a payload with RequestID / ErrorCode /
ErrorMessage, an on-failure invocation record. One of the events failed on NO_PERMISSIONS, which
no retry fixes: it needs a human.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from infra.local.kinds_scene import KindsBuilder
from infra.local.lambda_server import LambdaServer, function_arn
from tests.unit.kind_messages import (
    eventbridge_dlq_message,
    eventbridge_event,
    lambda_async_dlq_message,
    lambda_on_failure_record,
    sns_envelope,
)

if TYPE_CHECKING:
    from bot.sqs_model import ReceivedMessage

TOPIC = "order-events"
EMAILS, EMAILS_DLQ, ANALYTICS = "order-emails", "order-emails-dlq", "order-analytics"
NOTIFIER, NOTIFIER_DLQ = "order-notifier", "order-notifier-dlq"
RULE, BILLING_TARGET, AUDIT_TARGET = "invoice-due", "billing", "audit"
BILLING_SOURCE = "com.example.billing"
BILLING, BILLING_DLQ, AUDIT = "billing-inbox", "billing-events-dlq", "audit-inbox"
THUMBNAILER, THUMBNAILER_DLQ = "thumbnailer", "thumbnailer-dlq"
INVOICE_PDF, INVOICE_PDF_FAILURES = "invoice-pdf", "invoice-pdf-failures"
FUNCTIONS = (NOTIFIER, THUMBNAILER, INVOICE_PDF)
# The DLQs of the scene, in the order the demo redrives them, each with its kind.
DLQS = (
    (EMAILS_DLQ, "sns"),
    (NOTIFIER_DLQ, "sns"),
    (BILLING_DLQ, "events"),
    (THUMBNAILER_DLQ, "lambda"),
    (INVOICE_PDF_FAILURES, "lambda"),
)
# The EventBridge error no retry fixes: the event stays in the DLQ for a human.
NEEDS_HUMAN_CODE = "NO_PERMISSIONS"


@dataclass(frozen=True)
class KindsScene:
    """What was built: names to URLs, and what was seeded into each DLQ (the message bodies)."""

    urls: dict[str, str]  # queue name -> URL, every queue of the scene
    topic_arn: str
    rule_arn: str
    subscriptions: dict[str, str]  # endpoint name (queue or function) -> subscription ARN
    seeded: dict[str, tuple[ReceivedMessage, ...]]  # DLQ name -> what it holds

    def seeded_count(self) -> int:
        return sum(len(messages) for messages in self.seeded.values())


def build_kinds_scene(sqs: Any, sns: Any, events: Any, lambdas: LambdaServer) -> KindsScene:
    """Create the scene on moto and ``lambdas`` and seed its DLQs; see the module docstring."""
    scene = KindsBuilder(sqs, lambdas, sns=sns, events=events)
    scene.queues(EMAILS, EMAILS_DLQ, ANALYTICS, NOTIFIER_DLQ, BILLING, BILLING_DLQ, AUDIT)
    scene.queues(THUMBNAILER_DLQ, INVOICE_PDF_FAILURES)
    topic_arn = scene.create_topic(TOPIC)
    arns = scene.arns
    subscriptions = {
        EMAILS: scene.subscribe_to(topic_arn, "sqs", arns[EMAILS], EMAILS_DLQ),
        ANALYTICS: scene.subscribe_to(topic_arn, "sqs", arns[ANALYTICS], None),
        NOTIFIER: scene.subscribe_to(topic_arn, "lambda", function_arn(NOTIFIER), NOTIFIER_DLQ),
    }
    rule_arn = scene.put_rule(
        RULE,
        BILLING_SOURCE,
        [
            scene.target(BILLING_TARGET, arns[BILLING], BILLING_DLQ),
            scene.target(AUDIT_TARGET, arns[AUDIT]),
        ],
    )
    scene.function(NOTIFIER)
    scene.function(THUMBNAILER, dead_letter=THUMBNAILER_DLQ)
    scene.function(INVOICE_PDF, on_failure=INVOICE_PDF_FAILURES)

    seeded = _seed(topic_arn, rule_arn, arns)
    for dlq, messages in seeded.items():
        scene.seed(dlq, *messages)
    return KindsScene(scene.urls, topic_arn, rule_arn, subscriptions, seeded)


def _seed(
    topic_arn: str, rule_arn: str, arns: dict[str, str]
) -> dict[str, tuple[ReceivedMessage, ...]]:
    """What SNS, EventBridge and Lambda would have left in each DLQ."""

    def shipped(order: str) -> str:
        return json.dumps({"type": "OrderShipped", "orderId": order, "carrier": "acme"})

    def invoice(number: str) -> dict[str, Any]:
        detail = {"invoiceId": number, "dueDate": "2026-12-01", "amount": 120}
        # The event the rule matched (its pattern: this source).
        return {**eventbridge_event(detail), "source": BILLING_SOURCE, "detail-type": "Invoice Due"}

    billing = {"rule_arn": rule_arn, "target_arn": arns[BILLING]}
    return {
        # The mail service's queue refused the deliveries (its KMS key policy was wrong).
        EMAILS_DLQ: tuple(
            sns_envelope(
                shipped(order),
                topic_arn=topic_arn,
                subject="Order shipped",
                attributes={"tenant": "acme"},
            )
            for order in ("ord-1001", "ord-1002")
        ),
        # The notifier function was throttled past SNS's retries.
        NOTIFIER_DLQ: (sns_envelope(shipped("ord-1003"), topic_arn=topic_arn),),
        BILLING_DLQ: (
            eventbridge_dlq_message(
                invoice("inv-77"),
                **billing,
                error_code="THROTTLING",
                error_message="Request rate exceeded for the target queue",
                retry_attempts=185,
            ),
            eventbridge_dlq_message(
                invoice("inv-78"),
                **billing,
                error_code=NEEDS_HUMAN_CODE,
                error_message="EventBridge is not allowed to send to billing-inbox",
                retry_attempts=0,
            ),
        ),
        THUMBNAILER_DLQ: tuple(
            lambda_async_dlq_message(
                {"bucket": "photos", "key": key},
                error_message=json.dumps(
                    {"errorMessage": "cannot identify image", "errorType": "UnidentifiedImageError"}
                ),
            )
            for key in ("cat.heic", "dog.heic")
        ),
        INVOICE_PDF_FAILURES: (
            lambda_on_failure_record(
                {"invoiceId": "inv-80", "template": "standard"},
                function_arn=function_arn(INVOICE_PDF) + ":$LATEST",
                error_type="FontNotFound",
                error_message="font 'Inter' is not installed",
            ),
        ),
    }
