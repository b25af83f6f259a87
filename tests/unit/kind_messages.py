"""Messages as AWS documents them in the DLQs of each kind, for tests of every layer.

moto dead-letters none of these (it stores an SNS subscription's RedrivePolicy and a rule
target's DeadLetterConfig but never delivers to them), so tests build the messages AWS would
leave, from the documents quoted below, as ``ReceivedMessage`` (``as_send_entry`` makes the
SendMessage arguments that put one into a moto queue).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from bot.sqs_model import ReceivedMessage

REGION = "us-east-1"
ACCOUNT = "123456789012"
_TIME = "2026-12-01T10:00:00Z"


def arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


def _string(value: str) -> dict[str, Any]:
    return {"DataType": "String", "StringValue": value}


def _number(value: int | str) -> dict[str, Any]:
    return {"DataType": "Number", "StringValue": str(value)}


def _message(
    body: str,
    message_attributes: dict[str, dict[str, Any]],
    message_id: str | None,
) -> ReceivedMessage:
    return ReceivedMessage(
        message_id=message_id or str(uuid.uuid4()),
        receipt_handle="rh-" + uuid.uuid4().hex,
        body=body,
        attributes={"SentTimestamp": "1764583200000", "ApproximateReceiveCount": "1"},
        message_attributes=message_attributes,
    )


def eventbridge_event(detail: dict[str, Any] | None = None) -> dict[str, Any]:
    """An event as EventBridge delivers it to a target (the "event" structure of the EventBridge
    User Guide): what a target DLQ holds as the message body."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Order Created",
        "source": "com.example.orders",
        "account": ACCOUNT,
        "time": _TIME,
        "region": REGION,
        "resources": [],
        "detail": detail if detail is not None else {"orderId": "o-1"},
    }


def eventbridge_dlq_message(
    event: dict[str, Any] | None = None,
    *,
    rule_arn: str,
    target_arn: str,
    error_code: str = "SDK_CLIENT_ERROR",
    error_message: str = "Lambda returned function error",
    exhausted_retry_condition: str = "MaximumRetryAttempts",
    retry_attempts: int = 185,
    body: str | None = None,
    message_id: str | None = None,
) -> ReceivedMessage:
    """A message in an EventBridge rule target's DLQ. EventBridge User Guide ("Using dead-letter
    queues to process undelivered events"): "Each message in your DLQ will include the following
    custom attributes: RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE, EXHAUSTED_RETRY_CONDITION,
    RETRY_ATTEMPTS"; the body is the event (``body`` overrides it, for hostile bodies)."""
    attributes = {
        "RULE_ARN": _string(rule_arn),
        "TARGET_ARN": _string(target_arn),
        "ERROR_CODE": _string(error_code),
        "ERROR_MESSAGE": _string(error_message),
        "EXHAUSTED_RETRY_CONDITION": _string(exhausted_retry_condition),
        "RETRY_ATTEMPTS": _string(str(retry_attempts)),
    }
    text = body if body is not None else json.dumps(event or eventbridge_event())
    return _message(text, attributes, message_id)


def lambda_async_dlq_message(
    payload: Any = None,
    *,
    request_id: str | None = None,
    error_code: int = 200,
    error_message: str = '{"errorMessage":"boom","errorType":"ValueError"}',
    body: str | None = None,
    message_id: str | None = None,
) -> ReceivedMessage:
    """A message in a function's async DLQ (its DeadLetterConfig). Lambda Developer Guide: "The
    payload written to the DLQ target ARN is the original event payload with no modifications to
    the message body", with attributes RequestID (String), ErrorCode (Number, "3-digit HTTP error
    code") and ErrorMessage (String, "truncated to 1 KB")."""
    attributes = {
        "RequestID": _string(request_id or str(uuid.uuid4())),
        "ErrorCode": _number(error_code),
        "ErrorMessage": _string(error_message),
    }
    text = body if body is not None else json.dumps(payload if payload is not None else {"k": 1})
    return _message(text, attributes, message_id)


def lambda_on_failure_record(
    payload: Any = None,
    *,
    function_arn: str,
    condition: str = "RetriesExhausted",
    error_type: str | None = "ValueError",
    error_message: str = "boom",
    message_id: str | None = None,
) -> ReceivedMessage:
    """A record Lambda sends a function's on-failure destination when that is a queue (Lambda
    Developer Guide, "Capturing records of Lambda asynchronous invocations"): ``version``,
    ``timestamp``, ``requestContext`` (requestId, functionArn with its qualifier, condition,
    approximateInvokeCount), ``requestPayload`` (the event), ``responseContext`` and
    ``responsePayload``. No message attributes."""
    response: dict[str, Any] = {"errorMessage": error_message}
    if error_type is not None:
        response["errorType"] = error_type
    record = {
        "version": "1.0",
        "timestamp": "2026-12-01T10:00:05.568Z",
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": 3,
        },
        "requestPayload": payload if payload is not None else {"orderId": "o-1"},
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": response,
    }
    return _message(json.dumps(record), {}, message_id)


def sns_envelope_document(
    message: str,
    *,
    topic_arn: str,
    subject: str | None = None,
    attributes: dict[str, str] | None = None,
    message_id: str | None = None,
) -> dict[str, Any]:
    """The JSON document SNS delivers to an SQS endpoint without raw delivery (SNS Developer
    Guide, "Amazon SNS message and JSON formats": Type, MessageId, TopicArn, Subject, Message,
    Timestamp, SignatureVersion, Signature, SigningCertURL, UnsubscribeURL, MessageAttributes
    as {name: {"Type", "Value"}})."""
    document: dict[str, Any] = {
        "Type": "Notification",
        "MessageId": message_id or str(uuid.uuid4()),
        "TopicArn": topic_arn,
        "Message": message,
        "Timestamp": "2026-12-01T10:00:00.000Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQ==",
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem",
        "UnsubscribeURL": (
            "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn="
            + topic_arn
            + ":example"
        ),
    }
    if subject is not None:
        document["Subject"] = subject
    if attributes:
        document["MessageAttributes"] = {
            name: {"Type": "String", "Value": value} for name, value in attributes.items()
        }
    return document


def sns_envelope(
    message: str = '{"orderId":"o-1"}',
    *,
    topic_arn: str,
    subject: str | None = None,
    attributes: dict[str, str] | None = None,
    raw: bool = False,
    message_id: str | None = None,
) -> ReceivedMessage:
    """A message in an SNS subscription's DLQ. SNS keeps what it would have delivered: the JSON
    envelope (``sns_envelope_document``), or with RawMessageDelivery the message itself, its
    message attributes becoming SQS message attributes. Nothing in it names the subscription."""
    if raw:
        sqs_attributes = {name: _string(value) for name, value in (attributes or {}).items()}
        return _message(message, sqs_attributes, message_id)
    document = sns_envelope_document(
        message, topic_arn=topic_arn, subject=subject, attributes=attributes
    )
    return _message(json.dumps(document), {}, message_id)


def as_send_entry(message: ReceivedMessage) -> dict[str, Any]:
    """SendMessage's arguments (QueueUrl aside) that put ``message`` into a queue."""
    entry: dict[str, Any] = {"MessageBody": message.body}
    if message.message_attributes:
        entry["MessageAttributes"] = message.message_attributes
    return entry
