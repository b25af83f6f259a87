"""The bytes a delivery sends (``bot.feeder_routing.Delivery``): pure, no I/O.

A copy goes back as the failed target would have received it from AWS: a queue or a topic gets
the body as stored; a function subscribed to an SNS topic gets the event Lambda's SNS trigger
builds from the envelope; a function whose on-failure destination this DLQ is gets the record's
``requestPayload``; any other function (its async DLQ, an EventBridge target) the body. Lambda's
Invoke "Payload" is "the JSON that you want to provide to your Lambda function as input", so a
function's payload that is not a JSON document is refused here, as is a payload over what the
target takes: nothing is sent that AWS would refuse after the DLQ's copy was already counted.
"""

from __future__ import annotations

import json
from typing import Any

from bot.errors import DlqRedriveError
from bot.feeder_routing import Delivery, Shape, on_failure_function, sns_topic
from bot.feeders import Via
from bot.lambda_api import MAX_EVENT_PAYLOAD
from bot.sqs_model import ReceivedMessage

# An asynchronous invoke's payload ("Invocation payload (request and response): 256 KB
# (asynchronous)", Lambda quotas; bot.lambda_api explains why the app keeps to 256 KiB).
MAX_FUNCTION_PAYLOAD = MAX_EVENT_PAYLOAD
# SNS: "The maximum message size is 256 KB" (Publish; message attributes count toward it).
MAX_TOPIC_MESSAGE = 256 * 1024


class DeliveryShapeError(DlqRedriveError):
    """The message cannot be shaped for its delivery: ``code`` ("NotAnEvent", "PayloadTooLarge",
    "InvalidText", "UnknownTarget") and a plain-text ``reason`` that says why and what to do."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def payload(message: ReceivedMessage, delivery: Delivery, *, body: str | None = None) -> bytes:
    """What ``delivery`` sends for ``message`` (``body``: an edit's new body, shaped in place of
    the stored one); DeliveryShapeError when it cannot be shaped or is too large."""
    text = message.body if body is None else body
    if delivery.shape is Shape.SNS_LAMBDA_EVENT:
        data = _sns_lambda_event(text, delivery)
    elif delivery.shape is Shape.REQUEST_PAYLOAD:
        data = _request_payload(text, delivery)
    else:
        data = _utf8(text, delivery)
        if delivery.via is Via.FUNCTION:
            _check_size(len(data), delivery)  # before parsing a body too large anyway
            _parse_json(text, delivery, what="the body")
    _check_size(len(data), delivery)
    return data


def limit_for(delivery: Delivery) -> int | None:
    """The most bytes ``delivery`` takes (None: a queue, whose MaximumMessageSize the engine's
    Router reads)."""
    if delivery.via is Via.FUNCTION:
        return MAX_FUNCTION_PAYLOAD
    if delivery.via is Via.TOPIC:
        return MAX_TOPIC_MESSAGE
    return None


def _check_size(size: int, delivery: Delivery) -> None:
    limit = limit_for(delivery)
    if limit is not None and size > limit:
        what = "an asynchronous invoke" if delivery.via is Via.FUNCTION else "an SNS message"
        raise DeliveryShapeError(
            "PayloadTooLarge",
            f"{size:,} bytes for {delivery.via} {delivery.name}; {what} takes at most "
            f"{limit:,} bytes: it stays in the DLQ",
        )


def _utf8(text: str, delivery: Delivery) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        # A lone surrogate ("\ud800") is no Unicode text: neither SNS nor Lambda takes it.
        raise DeliveryShapeError(
            "NotAnEvent" if delivery.via is Via.FUNCTION else "InvalidText",
            f"the body holds a character that is not valid Unicode (at {exc.start}): "
            f"{delivery.via} {delivery.name} cannot receive it",
        ) from exc


def _reject_constant(name: str) -> Any:
    # Python's json reads NaN and Infinity, which JSON (and Lambda's parsers) does not have.
    raise ValueError(f"{name} is not JSON")


def _parse_json(text: str, delivery: Delivery, *, what: str) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise DeliveryShapeError(
            "NotAnEvent",
            f"{what} is not a JSON document, and function {delivery.name} is invoked with "
            "JSON only (Lambda Invoke): redrive it by hand or edit it into JSON",
        ) from exc


def _json_bytes(value: Any) -> bytes:
    """``value`` as compact JSON in UTF-8; escaped as ASCII when it holds a lone surrogate (a
    JSON escape like "\\ud800" in the original), which UTF-8 cannot carry."""
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":")).encode("ascii")


def _request_payload(text: str, delivery: Delivery) -> bytes:
    record = on_failure_function(text)
    if record is None:
        raise DeliveryShapeError(
            "NotAnEvent",
            "the body is not a Lambda on-failure record (requestContext.functionArn, "
            "requestPayload): nothing says what to invoke the function with",
        )
    function_arn, request_payload = record
    if function_arn != delivery.arn:
        # An edit cannot aim the invoke elsewhere: where it goes was decided by the stored record.
        raise DeliveryShapeError(
            "UnknownTarget",
            f"the record names function {function_arn}, the message was routed to "
            f"{delivery.arn}: redrive it by hand",
        )
    return _json_bytes(request_payload)


# The envelope's fields (SNS to SQS/HTTP) -> the Lambda SNS event's "Sns" fields, which rename two.
_SNS_FIELDS = {
    "Type": "Type",
    "MessageId": "MessageId",
    "TopicArn": "TopicArn",
    "Subject": "Subject",
    "Message": "Message",
    "Timestamp": "Timestamp",
    "SignatureVersion": "SignatureVersion",
    "Signature": "Signature",
    "SigningCertURL": "SigningCertUrl",
    "UnsubscribeURL": "UnsubscribeUrl",
}
_REQUIRED_SNS_FIELDS = ("MessageId", "TopicArn", "Message", "Timestamp")


def _sns_lambda_event(text: str, delivery: Delivery) -> bytes:
    """The event Lambda's SNS trigger gives a subscribed function (Lambda Developer Guide, "Using
    Lambda with Amazon SNS"): ``{"Records": [{"EventVersion": "1.0", "EventSubscriptionArn",
    "EventSource": "aws:sns", "Sns": {...}}]}``, "Sns" being the envelope with SigningCertUrl and
    UnsubscribeUrl spelled so, and MessageAttributes as {name: {"Type", "Value"}}."""
    feeder = delivery.feeder
    topic = sns_topic(text)
    if feeder is None or topic is None:
        raise DeliveryShapeError(
            "NotAnEvent",
            'the body is not an SNS envelope (a JSON object with Type "Notification" and '
            f"TopicArn): function {delivery.name} is subscribed to a topic and gets SNS events",
        )
    if feeder.topic_arn is not None and topic != feeder.topic_arn:
        raise DeliveryShapeError(
            "UnknownTarget",
            f"the envelope is from topic {topic}, the subscription {feeder.name} is to "
            f"{feeder.topic_arn}: redrive it by hand",
        )
    envelope = json.loads(text)  # sns_topic read it already: it is a JSON object
    missing = [f for f in _REQUIRED_SNS_FIELDS if not isinstance(envelope.get(f), str)]
    if missing:
        raise DeliveryShapeError(
            "NotAnEvent",
            f"the SNS envelope has no {', '.join(missing)} (as text): it cannot be made into "
            "the event SNS gives a function",
        )
    sns: dict[str, Any] = {}
    for envelope_name, event_name in _SNS_FIELDS.items():
        value = envelope.get(envelope_name)
        sns[event_name] = value if isinstance(value, str) else None
    sns["MessageAttributes"] = _message_attributes(envelope.get("MessageAttributes"))
    event = {
        "Records": [
            {
                "EventVersion": "1.0",
                "EventSubscriptionArn": feeder.name,
                "EventSource": "aws:sns",
                "Sns": sns,
            }
        ]
    }
    return _json_bytes(event)


def _message_attributes(raw: Any) -> dict[str, dict[str, str]]:
    """An envelope's MessageAttributes as the SNS event has them: {name: {"Type", "Value"}}, each
    a string (a Binary attribute's value is base64 text in both); anything else is left out."""
    if not isinstance(raw, dict):
        return {}
    attributes: dict[str, dict[str, str]] = {}
    for name, attribute in raw.items():
        if not isinstance(attribute, dict):
            continue
        kind, value = attribute.get("Type"), attribute.get("Value")
        if isinstance(kind, str) and isinstance(value, str):
            attributes[str(name)] = {"Type": kind, "Value": value}
    return attributes
