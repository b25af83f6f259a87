"""The feeders of a DLQ: how each is delivered back to and how it reads on every surface."""

from __future__ import annotations

import pytest

from bot.feeders import (
    Feeder,
    FeederScan,
    Kind,
    Via,
    arn_service,
    resource_name,
    unqualified_function_arn,
)
from tests.unit.kind_feeders import (
    DLQ,
    HANDLER,
    QUEUE,
    RULE,
    SUBSCRIPTION,
    TOPIC,
    events_feeder,
    lambda_feeder,
    sns_feeder,
)
from tests.unit.kind_messages import arn


def test_an_sns_subscription_is_delivered_to_its_endpoint_never_its_topic() -> None:
    # Given subscriptions of each protocol, When asked how to deliver, Then queue/function only
    assert sns_feeder("sqs", QUEUE).via is Via.QUEUE
    assert sns_feeder("lambda", HANDLER).via is Via.FUNCTION
    # A subscription whose endpoint is a topic does not exist in SNS; even so, never a topic.
    assert sns_feeder("sns", TOPIC).via is None
    assert sns_feeder("https", "https://example.com/hook").via is None
    assert sns_feeder("email", "ops@example.com").via is None


def test_a_refused_feeder_has_no_delivery() -> None:
    refused = sns_feeder("sqs", QUEUE, refusal="the queue is in another account")
    assert refused.via is None


def test_an_eventbridge_target_is_delivered_by_its_service() -> None:
    assert events_feeder(QUEUE).via is Via.QUEUE
    assert events_feeder(HANDLER).via is Via.FUNCTION
    assert events_feeder(TOPIC).via is Via.TOPIC
    assert events_feeder(arn("kinesis", "stream/orders")).via is None


def test_a_lambda_feeder_is_invoked() -> None:
    assert lambda_feeder().via is Via.FUNCTION
    assert lambda_feeder(on_failure=True).via is Via.FUNCTION


def test_describe_names_each_kind_precisely() -> None:
    assert sns_feeder().describe() == f"sns subscription {SUBSCRIPTION} → sqs orders-billing"
    assert (
        sns_feeder("https", "https://example.com/hook").describe()
        == f"sns subscription {SUBSCRIPTION} → https https://example.com/hook"
    )
    assert (
        events_feeder(HANDLER).describe()
        == "events rule default/orders-created target billing → lambda orders-handler"
    )
    assert lambda_feeder().describe() == "lambda orders-handler (async DLQ)"
    assert lambda_feeder(on_failure=True).describe() == (
        "lambda orders-handler (on-failure destination)"
    )


def test_describe_keeps_a_bus_name_with_slashes() -> None:
    # Given a partner event bus, whose name holds slashes
    feeder = Feeder(
        kind=Kind.EVENTS,
        dlq_arn=DLQ,
        name="aws.partner/example.com/123/orders/created/t-1",
        target_arn=QUEUE,
        protocol="sqs",
        rule_arn=RULE,
        target_id="t-1",
    )
    # Then the rule part is everything but the target id
    assert feeder.describe() == (
        "events rule aws.partner/example.com/123/orders/created target t-1 → sqs orders-billing"
    )


@pytest.mark.parametrize(
    ("arn", "service", "name"),
    [
        (QUEUE, "sqs", "orders-billing"),
        (TOPIC, "sns", "orders"),
        (HANDLER, "lambda", "orders-handler"),
        (HANDLER + ":$LATEST", "lambda", "orders-handler"),
        (arn("kinesis", "stream/orders"), "kinesis", "orders"),
        ("https://example.com/hook", "", "https://example.com/hook"),
        ("ops@example.com", "", "ops@example.com"),
    ],
)
def test_arn_parts(arn: str, service: str, name: str) -> None:
    assert arn_service(arn) == service
    assert resource_name(arn) == name


def test_unqualified_function_arn_drops_version_or_alias_only() -> None:
    assert unqualified_function_arn(HANDLER + ":$LATEST") == HANDLER
    assert unqualified_function_arn(HANDLER + ":live") == HANDLER
    assert unqualified_function_arn(HANDLER) == HANDLER
    assert unqualified_function_arn(QUEUE) == QUEUE


def test_a_scan_gives_the_feeders_of_one_dlq_and_keeps_what_it_could_not_read() -> None:
    other = Feeder(
        kind=Kind.LAMBDA,
        dlq_arn=arn("sqs", "other-dlq"),
        name="other",
        target_arn=arn("lambda", "function:other"),
        protocol="lambda",
    )
    scan = FeederScan(
        feeders=(sns_feeder(), other), unread=((Kind.EVENTS, "AccessDenied: no rights"),)
    )
    assert scan.into(DLQ) == (sns_feeder(),)
    assert scan.unread == ((Kind.EVENTS, "AccessDenied: no rights"),)
    assert FeederScan(feeders=()).unread == ()
