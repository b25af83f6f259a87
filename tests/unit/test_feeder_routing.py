"""Each message of a DLQ goes back to exactly the target that failed it, among those discovered
for the DLQ: never to one the message names by itself, never to more than one."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.feeder_routing import NEEDS_HUMAN_CODES, Delivery, NoDelivery, Shape, route
from bot.feeders import Feeder, Via, unqualified_function_arn
from bot.sqs_model import ReceivedMessage
from tests.unit.kind_feeders import (
    HANDLER,
    RULE,
    TOPIC,
    events_feeder,
    lambda_feeder,
    sns_feeder,
)
from tests.unit.kind_messages import (
    arn,
    eventbridge_dlq_message,
    lambda_async_dlq_message,
    lambda_on_failure_record,
    sns_envelope,
    sns_envelope_document,
)

OTHER_TOPIC = arn("sns", "payments")
BILLING_QUEUE = arn("sqs", "billing")
AUDIT_QUEUE = arn("sqs", "audit")
OTHER_FUNCTION = arn("lambda", "function:payments-handler")
ATTACKER = arn("lambda", "function:attacker-controlled")


def subscription(
    endpoint: str = BILLING_QUEUE, *, protocol: str = "sqs", suffix: str = "a1", **more: Any
) -> Feeder:
    """A subscription of the DLQ to ``endpoint`` (billing's queue), ``suffix`` its id."""
    return sns_feeder(protocol, endpoint, subscription_id=suffix, **more)


def delivered(result: Delivery | NoDelivery | None) -> Delivery:
    assert isinstance(result, Delivery), result
    return result


def refused(result: Delivery | NoDelivery | None, code: str) -> NoDelivery:
    assert isinstance(result, NoDelivery), result
    assert result.code == code, result
    assert result.reason
    return result


# --- SQS: today's path ---------------------------------------------------------------------


def test_a_dlq_fed_by_sqs_queues_only_is_todays_path() -> None:
    message = sns_envelope(topic_arn=TOPIC)
    assert route(message, [], has_sqs_sources=True) is None


def test_a_message_naming_its_sqs_source_is_todays_path_even_beside_feeders() -> None:
    # Given a DLQ fed by a queue and a subscription, and a message SQS dead-lettered
    message = replace(
        sns_envelope(topic_arn=TOPIC),
        attributes={"DeadLetterQueueSourceArn": arn("sqs", "orders")},
    )
    # Then it goes back to its source queue, as today
    assert route(message, [subscription()], has_sqs_sources=True) is None


def test_a_message_naming_nothing_in_a_dlq_fed_by_queues_and_feeders_is_ambiguous() -> None:
    message = sns_envelope(topic_arn=TOPIC)
    refused(route(message, [subscription()], has_sqs_sources=True), "Ambiguous")


# --- EventBridge -----------------------------------------------------------------------------


def two_targets() -> list[Feeder]:
    return [events_feeder(BILLING_QUEUE, "billing"), events_feeder(HANDLER, "handler")]


def test_an_eventbridge_message_goes_to_the_target_it_names_among_the_rules_targets() -> None:
    feeders = two_targets()
    message = eventbridge_dlq_message(rule_arn=RULE, target_arn=HANDLER)
    delivery = delivered(route(message, feeders, has_sqs_sources=False))
    assert (delivery.via, delivery.arn, delivery.name) == (Via.FUNCTION, HANDLER, "orders-handler")
    assert delivery.feeder == feeders[1]
    assert delivery.shape is Shape.BODY

    to_queue = eventbridge_dlq_message(rule_arn=RULE, target_arn=BILLING_QUEUE)
    delivery = delivered(route(to_queue, feeders, has_sqs_sources=False))
    assert (delivery.via, delivery.arn, delivery.name) == (Via.QUEUE, BILLING_QUEUE, "billing")


def test_an_eventbridge_topic_target_is_published_to() -> None:
    feeders = [events_feeder(TOPIC, "fanout")]
    message = eventbridge_dlq_message(rule_arn=RULE, target_arn=TOPIC)
    delivery = delivered(route(message, feeders, has_sqs_sources=False))
    assert (delivery.via, delivery.arn) == (Via.TOPIC, TOPIC)


def test_a_forged_target_arn_is_refused_never_delivered_to() -> None:
    # Given a message whose TARGET_ARN names a function that is no target of this DLQ's rules
    message = eventbridge_dlq_message(rule_arn=RULE, target_arn=ATTACKER)
    # Then it is refused, naming it
    result = refused(route(message, two_targets(), has_sqs_sources=False), "UnknownTarget")
    assert ATTACKER in result.reason
    assert not result.needs_human


def test_a_target_of_another_rule_is_refused() -> None:
    other_rule = arn("events", "rule/payments")
    message = eventbridge_dlq_message(rule_arn=other_rule, target_arn=HANDLER)
    refused(route(message, two_targets(), has_sqs_sources=False), "UnknownTarget")


def test_eventbridge_attributes_in_a_dlq_fed_by_a_queue_and_a_subscription_are_refused() -> None:
    # A message claiming EventBridge never falls back to the DLQ's other feeders.
    message = eventbridge_dlq_message(rule_arn=RULE, target_arn=BILLING_QUEUE)
    refused(route(message, [subscription(raw=True)], has_sqs_sources=True), "UnknownTarget")


@pytest.mark.parametrize("code", sorted(NEEDS_HUMAN_CODES))
def test_error_codes_no_retry_fixes_need_a_human_unless_forced(code: str) -> None:
    message = eventbridge_dlq_message(rule_arn=RULE, target_arn=HANDLER, error_code=code)
    held = refused(route(message, two_targets(), has_sqs_sources=False), "NeedsHuman")
    assert held.needs_human
    assert code in held.reason
    forced = route(message, two_targets(), has_sqs_sources=False, force=True)
    assert delivered(forced).arn == HANDLER


@pytest.mark.parametrize("code", ["SDK_CLIENT_ERROR", "THROTTLING", "TIMEOUT", "INTERNAL_ERROR"])
def test_retriable_error_codes_are_redriven(code: str) -> None:
    message = eventbridge_dlq_message(rule_arn=RULE, target_arn=HANDLER, error_code=code)
    assert delivered(route(message, two_targets(), has_sqs_sources=False)).arn == HANDLER


def test_a_forged_target_is_refused_before_its_error_code_is_read() -> None:
    message = eventbridge_dlq_message(rule_arn=RULE, target_arn=ATTACKER, error_code="THROTTLING")
    refused(route(message, two_targets(), has_sqs_sources=False, force=True), "UnknownTarget")


def test_an_eventbridge_target_we_cannot_deliver_to_is_unsupported() -> None:
    stream = arn("kinesis", "stream/orders")
    feeders = [events_feeder(stream, "stream")]
    message = eventbridge_dlq_message(rule_arn=RULE, target_arn=stream)
    result = refused(route(message, feeders, has_sqs_sources=False), "Unsupported")
    assert "kinesis" in result.reason


def test_a_refused_eventbridge_target_says_its_refusal() -> None:
    why = "the target has an InputTransformer: the stored event is not what it received"
    feeders = [replace(events_feeder(HANDLER, "handler"), refusal=why)]
    message = eventbridge_dlq_message(rule_arn=RULE, target_arn=HANDLER)
    assert refused(route(message, feeders, has_sqs_sources=False), "Unsupported").reason == why


# --- Lambda on-failure destination ----------------------------------------------------------


def test_an_on_failure_record_goes_to_its_function_qualified_as_recorded() -> None:
    feeders = [
        lambda_feeder(HANDLER, on_failure=True),
        lambda_feeder(OTHER_FUNCTION, on_failure=True),
    ]
    message = lambda_on_failure_record(function_arn=HANDLER + ":$LATEST")
    delivery = delivered(route(message, feeders, has_sqs_sources=False))
    assert delivery.arn == HANDLER + ":$LATEST"
    assert delivery.name == "orders-handler"
    assert (delivery.via, delivery.shape) == (Via.FUNCTION, Shape.REQUEST_PAYLOAD)
    assert delivery.feeder == feeders[0]


def test_an_on_failure_record_naming_another_function_is_refused() -> None:
    feeders = [lambda_feeder(HANDLER, on_failure=True)]
    message = lambda_on_failure_record(function_arn=ATTACKER + ":$LATEST")
    result = refused(route(message, feeders, has_sqs_sources=False), "UnknownTarget")
    assert ATTACKER in result.reason


def test_an_on_failure_record_with_a_malformed_qualifier_is_refused() -> None:
    feeders = [lambda_feeder(HANDLER, on_failure=True)]
    message = lambda_on_failure_record(function_arn=HANDLER + ":a/../b")
    refused(route(message, feeders, has_sqs_sources=False), "UnknownTarget")


def test_an_on_failure_feeder_does_not_take_a_function_whose_dlq_config_it_is() -> None:
    # Given the DLQ is one function's on-failure destination and another's DeadLetterConfig
    feeders = [lambda_feeder(HANDLER, on_failure=True), lambda_feeder(OTHER_FUNCTION)]
    message = lambda_on_failure_record(function_arn=OTHER_FUNCTION + ":$LATEST")
    refused(route(message, feeders, has_sqs_sources=False), "UnknownTarget")


def test_a_record_through_an_sns_subscription_goes_to_the_subscription() -> None:
    # A function's on-failure destination may be a topic: a raw subscription's DLQ then holds
    # records that name a function which does not feed this DLQ. It is the subscription's.
    feeders = [subscription(raw=True)]
    record = lambda_on_failure_record(function_arn=HANDLER + ":$LATEST")
    delivery = delivered(route(record, feeders, has_sqs_sources=False))
    assert (delivery.arn, delivery.shape) == (BILLING_QUEUE, Shape.BODY)


def test_the_only_on_failure_feeder_without_a_record_is_not_an_event() -> None:
    message = lambda_async_dlq_message()
    message = replace(message, message_attributes={})
    refused(route(message, [lambda_feeder(on_failure=True)], has_sqs_sources=False), "NotAnEvent")


# --- Lambda async DLQ -----------------------------------------------------------------------


def test_an_async_dlq_message_goes_to_the_one_function_whose_dlq_this_is() -> None:
    delivery = delivered(
        route(lambda_async_dlq_message(), [lambda_feeder()], has_sqs_sources=False)
    )
    assert (delivery.via, delivery.arn, delivery.shape) == (Via.FUNCTION, HANDLER, Shape.BODY)


def test_an_async_dlq_shared_by_two_functions_is_ambiguous() -> None:
    feeders = [lambda_feeder(HANDLER), lambda_feeder(OTHER_FUNCTION)]
    result = refused(route(lambda_async_dlq_message(), feeders, has_sqs_sources=False), "Ambiguous")
    assert "orders-handler" in result.reason and "payments-handler" in result.reason


def test_lambda_attributes_with_no_function_feeding_the_dlq_are_refused() -> None:
    # (A raw subscription would keep such attributes of its own publisher's: its message goes
    # back to it, tests/hostile/test_issue13_kind_attacks.py.)
    refused(
        route(lambda_async_dlq_message(), [subscription()], has_sqs_sources=False),
        "UnknownTarget",
    )


def test_an_async_dlq_message_without_its_attributes_still_goes_to_the_only_function() -> None:
    message = replace(lambda_async_dlq_message(), message_attributes={})
    assert delivered(route(message, [lambda_feeder()], has_sqs_sources=False)).arn == HANDLER


# --- SNS ------------------------------------------------------------------------------------


def test_an_envelope_goes_to_its_subscriptions_queue_as_stored() -> None:
    feeders = [subscription()]
    delivery = delivered(route(sns_envelope(topic_arn=TOPIC), feeders, has_sqs_sources=False))
    assert (delivery.via, delivery.arn, delivery.shape) == (Via.QUEUE, BILLING_QUEUE, Shape.BODY)
    assert delivery.feeder == feeders[0]


def test_a_lambda_subscription_gets_the_sns_event() -> None:
    feeders = [subscription(HANDLER, protocol="lambda")]
    delivery = delivered(route(sns_envelope(topic_arn=TOPIC), feeders, has_sqs_sources=False))
    assert (delivery.via, delivery.arn, delivery.shape) == (
        Via.FUNCTION,
        HANDLER,
        Shape.SNS_LAMBDA_EVENT,
    )


def test_the_topic_arn_narrows_subscriptions_of_several_topics() -> None:
    feeders = [subscription(topic=TOPIC), subscription(AUDIT_QUEUE, topic=OTHER_TOPIC)]
    delivery = delivered(route(sns_envelope(topic_arn=OTHER_TOPIC), feeders, has_sqs_sources=False))
    assert delivery.arn == AUDIT_QUEUE


def test_a_lying_topic_arn_never_widens_to_a_subscription_not_feeding_the_dlq() -> None:
    # Given one subscription of TOPIC and an envelope claiming another topic
    message = sns_envelope(topic_arn=arn("sns", "attacker"))
    result = refused(route(message, [subscription()], has_sqs_sources=False), "UnknownTarget")
    assert "attacker" in result.reason


def test_a_bare_body_cannot_come_from_a_subscription_without_raw_delivery() -> None:
    message = sns_envelope("plain text", topic_arn=TOPIC, raw=True)
    refused(route(message, [subscription()], has_sqs_sources=False), "UnknownTarget")


def test_a_raw_subscription_takes_a_bare_body() -> None:
    message = sns_envelope("plain text", topic_arn=TOPIC, raw=True)
    assert delivered(route(message, [subscription(raw=True)], has_sqs_sources=False)).arn == (
        BILLING_QUEUE
    )


def test_an_envelope_could_be_a_raw_subscriptions_message_too() -> None:
    # Given a raw subscription of another topic and an enveloped one of TOPIC
    feeders = [subscription(topic=TOPIC), subscription(AUDIT_QUEUE, topic=OTHER_TOPIC, raw=True)]
    result = route(sns_envelope(topic_arn=TOPIC), feeders, has_sqs_sources=False)
    # Then both could have dead-lettered it
    refused(result, "Ambiguous")


def test_two_subscriptions_of_one_topic_are_ambiguous() -> None:
    feeders = [subscription(suffix="a1"), subscription(AUDIT_QUEUE, suffix="b2")]
    result = refused(
        route(sns_envelope(topic_arn=TOPIC), feeders, has_sqs_sources=False), "Ambiguous"
    )
    assert f"{TOPIC}:a1" in result.reason and f"{TOPIC}:b2" in result.reason


@pytest.mark.parametrize(
    ("protocol", "endpoint"),
    [
        ("https", "https://example.com/hook"),
        ("email", "ops@example.com"),
        ("sms", "+15555550100"),
    ],
)
def test_endpoints_sns_would_reach_otherwise_are_unsupported(protocol: str, endpoint: str) -> None:
    feeders = [subscription(endpoint, protocol=protocol)]
    result = refused(
        route(sns_envelope(topic_arn=TOPIC), feeders, has_sqs_sources=False), "Unsupported"
    )
    assert protocol in result.reason


def test_a_message_without_attributes_beside_eventbridge_targets_is_the_subscriptions() -> None:
    # EventBridge always adds its attributes: a message without them is the subscription's.
    feeders = [subscription(), events_feeder(HANDLER, "handler")]
    assert delivered(route(sns_envelope(topic_arn=TOPIC), feeders, has_sqs_sources=False)).arn == (
        BILLING_QUEUE
    )


# --- one feeder, no name --------------------------------------------------------------------


def test_the_only_eventbridge_target_takes_a_message_without_attributes() -> None:
    message = ReceivedMessage("m1", "rh", json.dumps({"detail": {}}))
    feeders = [events_feeder(HANDLER, "handler")]
    assert delivered(route(message, feeders, has_sqs_sources=False)).arn == HANDLER


def test_two_eventbridge_targets_and_a_message_without_attributes_is_ambiguous() -> None:
    message = ReceivedMessage("m1", "rh", json.dumps({"detail": {}}))
    refused(route(message, two_targets(), has_sqs_sources=False), "Ambiguous")


# --- hostile bodies -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "x" * 1_048_576,
        "{" * 100_000,
        '{"Type":"Notification","TopicArn":' + "[" * 50_000 + "]" * 50_000 + "}",
        '{"Type":"Notification","TopicArn":"\\ud800"}',
        '{"version":"1.0","requestContext":{"functionArn":["x"]},"requestPayload":1}',
        "\x00\x01 not json",
    ],
)
def test_hostile_bodies_get_an_answer_never_an_exception(body: str) -> None:
    message = ReceivedMessage("m1", "rh", body)
    feeders = [subscription(), lambda_feeder(on_failure=True)]
    result = route(message, feeders, has_sqs_sources=False)
    assert isinstance(result, NoDelivery)


# --- whatever a message says, it reaches one discovered feeder's target or none --------------

_ARNS = [BILLING_QUEUE, AUDIT_QUEUE, HANDLER, OTHER_FUNCTION, ATTACKER, TOPIC, OTHER_TOPIC, RULE]
_FEEDERS = [
    subscription(),
    subscription(AUDIT_QUEUE, topic=OTHER_TOPIC, raw=True, suffix="b2"),
    subscription(HANDLER, protocol="lambda", suffix="c3"),
    subscription("https://example.com/hook", protocol="https", suffix="d4"),
    events_feeder(BILLING_QUEUE, "billing"),
    events_feeder(OTHER_FUNCTION, "payments"),
    events_feeder(TOPIC, "fanout"),
    lambda_feeder(HANDLER),
    lambda_feeder(OTHER_FUNCTION, on_failure=True),
]
_names = st.sampled_from([*_ARNS, "", "arn:aws:lambda:x", "\ud7ff"])
_bodies = st.one_of(
    st.text(max_size=50),
    _names.map(lambda t: json.dumps(sns_envelope_document("m", topic_arn=t))),
    st.tuples(_names, st.sampled_from(["", ":$LATEST", ":live", ":../x"])).map(
        lambda f: lambda_on_failure_record(function_arn=f[0] + f[1]).body
    ),
)
_attributes = st.dictionaries(
    st.sampled_from(["RULE_ARN", "TARGET_ARN", "ERROR_CODE", "RequestID", "ErrorCode"]),
    st.one_of(_names, st.sampled_from([*sorted(NEEDS_HUMAN_CODES), "THROTTLING"])).map(
        lambda v: {"DataType": "String", "StringValue": v}
    ),
)


@settings(max_examples=400, deadline=None)
@given(
    feeders=st.lists(st.sampled_from(_FEEDERS), unique=True, max_size=4),
    body=_bodies,
    attributes=_attributes,
    has_sqs_sources=st.booleans(),
    force=st.booleans(),
)
def test_a_delivery_is_always_a_discovered_feeders_own_target(
    feeders: list[Feeder],
    body: str,
    attributes: dict[str, dict[str, str]],
    has_sqs_sources: bool,
    force: bool,
) -> None:
    message = ReceivedMessage("m1", "rh", body, {}, attributes)
    result = route(message, feeders, has_sqs_sources=has_sqs_sources, force=force)
    if not feeders:
        assert result is None
        return
    assert result is not None  # a DLQ with feeders always answers
    if isinstance(result, Delivery):
        assert result.feeder in feeders
        assert result.via is result.feeder.via
        assert unqualified_function_arn(result.arn) == unqualified_function_arn(
            result.feeder.target_arn
        )
        assert result.arn != ATTACKER
