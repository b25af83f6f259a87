"""Feeders (``bot.feeders.Feeder``) as discovery makes them, for the pure tests of the feeders,
routing, delivery shapes and the engine: one builder per kind, around one scene (topic
``orders``, rule ``default/orders-created``, function ``orders-handler``, DLQ ``orders-dlq``),
whose every part a test can change. The messages those feeders leave in a DLQ are
``tests.unit.kind_messages``'s."""

from __future__ import annotations

from bot.feeders import Feeder, Kind, arn_service
from tests.unit.kind_messages import arn

DLQ = arn("sqs", "orders-dlq")
TOPIC = arn("sns", "orders")
SUBSCRIPTION_ID = "0f5ad0e6-7b5c-4cbb-9a39-2d7f1b6c2a11"
SUBSCRIPTION = f"{TOPIC}:{SUBSCRIPTION_ID}"
RULE = arn("events", "rule/orders-created")
HANDLER = arn("lambda", "function:orders-handler")
QUEUE = arn("sqs", "orders-billing")


def sns_feeder(
    protocol: str = "sqs",
    endpoint: str = QUEUE,
    *,
    topic: str = TOPIC,
    subscription_id: str = SUBSCRIPTION_ID,
    raw: bool = False,
    refusal: str | None = None,
    dlq: str = DLQ,
) -> Feeder:
    """A subscription of ``topic`` delivering to ``endpoint`` that dead-letters into ``dlq``."""
    return Feeder(
        kind=Kind.SNS,
        dlq_arn=dlq,
        name=f"{topic}:{subscription_id}",
        target_arn=endpoint,
        protocol=protocol,
        topic_arn=topic,
        raw=raw,
        refusal=refusal,
    )


def events_feeder(
    target_arn: str,
    target_id: str = "billing",
    *,
    rule: str = "orders-created",
    dlq: str = DLQ,
    refusal: str | None = None,
) -> Feeder:
    """Target ``target_id`` of ``rule`` on the default bus, ``dlq`` its DeadLetterConfig."""
    return Feeder(
        kind=Kind.EVENTS,
        dlq_arn=dlq,
        name=f"default/{rule}/{target_id}",
        target_arn=target_arn,
        protocol=arn_service(target_arn),
        rule_arn=arn("events", f"rule/{rule}"),
        target_id=target_id,
        refusal=refusal,
    )


def lambda_feeder(
    function_arn: str = HANDLER, *, on_failure: bool = False, dlq: str = DLQ
) -> Feeder:
    """A function whose async DLQ (or, ``on_failure``, on-failure destination) is ``dlq``."""
    return Feeder(
        kind=Kind.LAMBDA,
        dlq_arn=dlq,
        name=function_arn.rsplit(":", 1)[-1],
        target_arn=function_arn,
        protocol="lambda",
        on_failure=on_failure,
    )
