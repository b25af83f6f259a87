"""What a delivery sends: what AWS would have given the failed target, or a clear refusal."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.deliveries import (
    MAX_FUNCTION_PAYLOAD,
    MAX_TOPIC_MESSAGE,
    DeliveryShapeError,
    limit_for,
    payload,
)
from bot.feeder_routing import Delivery, Shape
from bot.feeders import Via
from bot.sqs_model import ReceivedMessage
from tests.unit.kind_feeders import HANDLER, SUBSCRIPTION, TOPIC, sns_feeder
from tests.unit.kind_messages import (
    arn,
    eventbridge_dlq_message,
    lambda_async_dlq_message,
    lambda_on_failure_record,
    sns_envelope,
    sns_envelope_document,
)

QUEUE = arn("sqs", "billing")
LAMBDA_SUBSCRIPTION = sns_feeder("lambda", HANDLER)


def to_function(shape: Shape = Shape.BODY, function_arn: str = HANDLER) -> Delivery:
    feeder = LAMBDA_SUBSCRIPTION if shape is Shape.SNS_LAMBDA_EVENT else None
    return Delivery(Via.FUNCTION, function_arn, "orders-handler", feeder, shape)


TO_TOPIC = Delivery(Via.TOPIC, TOPIC, "orders", None, Shape.BODY)
TO_QUEUE = Delivery(Via.QUEUE, QUEUE, "billing", None, Shape.BODY)


def shape_error(message: ReceivedMessage, delivery: Delivery, code: str, **kw: Any) -> str:
    with pytest.raises(DeliveryShapeError) as caught:
        payload(message, delivery, **kw)
    assert caught.value.code == code
    assert caught.value.reason == str(caught.value)
    return caught.value.reason


def test_an_async_dlq_payload_is_the_body_as_stored() -> None:
    body = '{"orderId": "o-1",  "note": "é"}'
    message = lambda_async_dlq_message(body=body)
    assert payload(message, to_function()) == body.encode()


def test_an_eventbridge_event_goes_to_a_queue_or_topic_as_stored() -> None:
    message = eventbridge_dlq_message(rule_arn="r", target_arn="t", body="not json, fine")
    assert payload(message, TO_QUEUE) == b"not json, fine"
    assert payload(message, TO_TOPIC) == b"not json, fine"


@pytest.mark.parametrize("body", ["not json", "{'a': 1}", '{"a": NaN}', "[Infinity]", "{" * 5000])
def test_a_function_is_invoked_with_json_only(body: str) -> None:
    message = lambda_async_dlq_message(body=body)
    reason = shape_error(message, to_function(), "NotAnEvent")
    assert "orders-handler" in reason


def test_a_lone_surrogate_is_refused_not_sent() -> None:
    message = ReceivedMessage("m1", "rh", "text \ud800 here")
    shape_error(message, TO_TOPIC, "InvalidText")
    shape_error(message, to_function(), "NotAnEvent")


def test_an_edit_replaces_the_body_before_shaping() -> None:
    message = lambda_async_dlq_message(body="broken")
    assert payload(message, to_function(), body='{"fixed": true}') == b'{"fixed": true}'


def test_payloads_over_the_targets_limit_are_too_large() -> None:
    big = json.dumps({"k": "x" * MAX_FUNCTION_PAYLOAD})
    reason = shape_error(lambda_async_dlq_message(body=big), to_function(), "PayloadTooLarge")
    assert f"{MAX_FUNCTION_PAYLOAD:,}" in reason
    shape_error(
        ReceivedMessage("m", "rh", "y" * (MAX_TOPIC_MESSAGE + 1)), TO_TOPIC, "PayloadTooLarge"
    )
    # exactly the limit goes
    exact = ReceivedMessage("m", "rh", "y" * MAX_TOPIC_MESSAGE)
    assert len(payload(exact, TO_TOPIC)) == MAX_TOPIC_MESSAGE
    assert limit_for(TO_QUEUE) is None  # the queue's own MaximumMessageSize (the Router's)


def test_an_on_failure_record_gives_its_request_payload() -> None:
    event = {"orderId": "o-7", "items": [1, 2], "text": "naïve"}
    message = lambda_on_failure_record(event, function_arn=HANDLER + ":$LATEST")
    data = payload(message, to_function(Shape.REQUEST_PAYLOAD, HANDLER + ":$LATEST"))
    assert json.loads(data) == event


def test_a_request_payload_that_is_a_string_or_null_is_json_still() -> None:
    for event in ["just text", None, 0]:
        record = json.loads(lambda_on_failure_record({}, function_arn=HANDLER).body)
        record["requestPayload"] = event
        message = ReceivedMessage("m", "rh", json.dumps(record))
        assert json.loads(payload(message, to_function(Shape.REQUEST_PAYLOAD))) == event


def test_an_edited_record_cannot_aim_the_invoke_elsewhere() -> None:
    message = lambda_on_failure_record(function_arn=HANDLER)
    edited = json.loads(message.body)
    edited["requestContext"]["functionArn"] = arn("lambda", "function:other")
    shape_error(
        message, to_function(Shape.REQUEST_PAYLOAD), "UnknownTarget", body=json.dumps(edited)
    )
    shape_error(message, to_function(Shape.REQUEST_PAYLOAD), "NotAnEvent", body="{}")


def test_a_lambda_subscription_gets_the_sns_event_built_from_the_envelope() -> None:
    # Given an envelope as SNS delivers it to SQS
    document = sns_envelope_document(
        '{"orderId":"o-1"}',
        topic_arn=TOPIC,
        subject="Order",
        attributes={"tenant": "acme"},
        message_id="95df01b4-ee98-5cb9-9903-4c221d41eb5e",
    )
    message = ReceivedMessage("m", "rh", json.dumps(document))
    # When shaped for the function
    event = json.loads(payload(message, to_function(Shape.SNS_LAMBDA_EVENT)))
    # Then it is Lambda's SNS event: one record naming the subscription, the renamed URLs
    (record,) = event["Records"]
    assert record["EventSource"] == "aws:sns"
    assert record["EventVersion"] == "1.0"
    assert record["EventSubscriptionArn"] == SUBSCRIPTION
    sns = record["Sns"]
    assert sns == {
        "Type": "Notification",
        "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
        "TopicArn": TOPIC,
        "Subject": "Order",
        "Message": '{"orderId":"o-1"}',
        "Timestamp": document["Timestamp"],
        "SignatureVersion": "1",
        "Signature": document["Signature"],
        "SigningCertUrl": document["SigningCertURL"],
        "UnsubscribeUrl": document["UnsubscribeURL"],
        "MessageAttributes": {"tenant": {"Type": "String", "Value": "acme"}},
    }


def test_an_sns_event_without_subject_or_attributes() -> None:
    message = sns_envelope("hi", topic_arn=TOPIC)
    sns = json.loads(payload(message, to_function(Shape.SNS_LAMBDA_EVENT)))["Records"][0]["Sns"]
    assert sns["Subject"] is None
    assert sns["MessageAttributes"] == {}


def test_an_sns_event_keeps_an_escaped_lone_surrogate_escaped() -> None:
    body = json.dumps(sns_envelope_document("\ud800 x", topic_arn=TOPIC))
    data = payload(ReceivedMessage("m", "rh", body), to_function(Shape.SNS_LAMBDA_EVENT))
    assert json.loads(data)["Records"][0]["Sns"]["Message"] == "\ud800 x"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("plain", "NotAnEvent"),
        ('{"Type":"Notification"}', "NotAnEvent"),
        ('{"Type":"Notification","TopicArn":"' + TOPIC + '","Message":1}', "NotAnEvent"),
        (json.dumps(sns_envelope_document("m", topic_arn=arn("sns", "other"))), "UnknownTarget"),
    ],
)
def test_a_body_that_is_no_envelope_of_the_subscriptions_topic_is_refused(
    body: str, code: str
) -> None:
    shape_error(ReceivedMessage("m", "rh", body), to_function(Shape.SNS_LAMBDA_EVENT), code)


def test_malformed_message_attributes_are_left_out() -> None:
    document = sns_envelope_document("m", topic_arn=TOPIC)
    document["MessageAttributes"] = {"ok": {"Type": "Number", "Value": "1"}, "bad": [1], "n": {}}
    data = payload(
        ReceivedMessage("m", "rh", json.dumps(document)), to_function(Shape.SNS_LAMBDA_EVENT)
    )
    assert json.loads(data)["Records"][0]["Sns"]["MessageAttributes"] == {
        "ok": {"Type": "Number", "Value": "1"}
    }


def test_an_sns_event_over_the_limit_is_too_large() -> None:
    message = sns_envelope("z" * MAX_FUNCTION_PAYLOAD, topic_arn=TOPIC)
    shape_error(message, to_function(Shape.SNS_LAMBDA_EVENT), "PayloadTooLarge")


_DELIVERIES = [
    to_function(),
    to_function(Shape.SNS_LAMBDA_EVENT),
    to_function(Shape.REQUEST_PAYLOAD),
    TO_TOPIC,
    TO_QUEUE,
]
_bodies = st.one_of(
    st.text(max_size=200),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(["Type", "TopicArn", "Message", "MessageId", "Timestamp"])
                | st.sampled_from(["requestContext", "requestPayload", "version", "functionArn"])
                | st.text(max_size=5),
                inner,
                max_size=5,
            )
        ),
        max_leaves=12,
    ).map(json.dumps),
)


@settings(max_examples=300, deadline=None)
@given(body=_bodies, delivery=st.sampled_from(_DELIVERIES))
def test_any_body_gets_bytes_or_a_shape_error_never_another_exception(
    body: str, delivery: Delivery
) -> None:
    try:
        data = payload(ReceivedMessage("m", "rh", body), delivery)
    except DeliveryShapeError as exc:
        assert exc.code in {"NotAnEvent", "PayloadTooLarge", "InvalidText", "UnknownTarget"}
        return
    limit = limit_for(delivery)
    assert limit is None or len(data) <= limit
    if delivery.via is Via.FUNCTION:
        json.loads(data)  # a function always gets JSON
