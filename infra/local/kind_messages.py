"""Messages shaped as AWS documents what SNS, EventBridge and Lambda leave in a dead-letter queue.

moto never dead-letters for these services (it stores a subscription's RedrivePolicy and a rule
target's DeadLetterConfig, but delivers nothing to them and adds no error attributes), so
``make demo`` and the tests put such messages into the DLQs themselves, with these builders. Each
builder quotes the documentation it follows; when AWS changes a shape, this is the one place to
change. Plain data: a body (str) and, where AWS adds them, SQS message attributes in the form
``SendMessage`` takes.

- SNS subscription DLQ: "Amazon SNS ... sends undeliverable messages to the specified Amazon SQS
  dead-letter queue" (SetSubscriptionAttributes, RedrivePolicy). The message is what SNS tried to
  deliver: the JSON envelope of an SQS/HTTP notification ("Amazon SNS message and JSON formats"),
  or the published message itself when RawMessageDelivery is on. The subscription is not named in
  the message.
- EventBridge target DLQ: the event as it was to be delivered to the target, and "Each message in
  your DLQ will include the following custom attributes: RULE_ARN, TARGET_ARN, ERROR_CODE,
  ERROR_MESSAGE, EXHAUSTED_RETRY_CONDITION, RETRY_ATTEMPTS" (EventBridge User Guide, "Using
  dead-letter queues to process undelivered events"). Here EXHAUSTED_RETRY_CONDITION is left out
  for an error EventBridge sends to the DLQ without retrying (a missing permission or target).
- Lambda async DLQ: "The payload written to the DLQ target ARN is the original event payload with
  no modifications to the message body", with attributes RequestID (String), ErrorCode (Number,
  "3-digit HTTP error code") and ErrorMessage (String, "truncated to 1 KB") (Lambda Developer
  Guide, "Dead-letter queues").
- Lambda on-failure destination: an invocation record, ``version``, ``timestamp``,
  ``requestContext`` (requestId, functionArn with its qualifier, condition, approximateInvokeCount),
  ``requestPayload``, ``responseContext`` and ``responsePayload`` (Lambda Developer Guide,
  "Capturing records of Lambda asynchronous invocations", the example invocation record).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account, and the local Lambda server's
# SNS's certificate and unsubscribe endpoints, as an envelope names them.
_SNS_HOST = f"https://sns.{REGION}.amazonaws.com"


def _iso_ms(at: datetime) -> str:
    """SNS's and Lambda's timestamps: ``2026-12-01T23:45:19.123Z``."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def _string(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


@dataclass(frozen=True)
class DeadLetter:
    """One message as the service writes it into the DLQ: body and SQS message attributes."""

    body: str
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)


def sns_envelope(
    topic_arn: str,
    message: str,
    *,
    subscription_arn: str,
    subject: str | None = None,
    attributes: dict[str, str] | None = None,
    message_id: str | None = None,
    at: datetime | None = None,
) -> str:
    """The JSON document SNS delivers to an SQS (or HTTP/S) endpoint without raw delivery: "Type",
    "MessageId", "TopicArn", "Subject" (when given), "Message", "Timestamp", "SignatureVersion",
    "Signature", "SigningCertURL", "UnsubscribeURL" and "MessageAttributes" ({name: {"Type",
    "Value"}}) ("Amazon SNS message and JSON formats", HTTP/HTTPS notification JSON format).
    The signature here is a placeholder: nothing local can sign as SNS does."""
    envelope: dict[str, Any] = {
        "Type": "Notification",
        "MessageId": message_id or str(uuid.uuid4()),
        "TopicArn": topic_arn,
    }
    if subject is not None:
        envelope["Subject"] = subject
    envelope.update(
        {
            "Message": message,
            "Timestamp": _iso_ms(at or datetime.now(UTC)),
            "SignatureVersion": "1",
            "Signature": "EXAMPLEpH+local+stand-in+not+a+real+signature==",
            "SigningCertURL": f"{_SNS_HOST}/SimpleNotificationService-local.pem",
            "UnsubscribeURL": (
                f"{_SNS_HOST}/?Action=Unsubscribe&SubscriptionArn={subscription_arn}"
            ),
        }
    )
    if attributes:
        envelope["MessageAttributes"] = {
            name: {"Type": "String", "Value": value} for name, value in attributes.items()
        }
    return json.dumps(envelope)


def sns_dead_letter(
    topic_arn: str,
    message: str,
    *,
    subscription_arn: str,
    raw: bool = False,
    subject: str | None = None,
    attributes: dict[str, str] | None = None,
    at: datetime | None = None,
) -> DeadLetter:
    """What an SNS subscription's DLQ holds: the envelope, or with RawMessageDelivery the message
    as published with its attributes as SQS message attributes ("Amazon SNS raw message
    delivery")."""
    if raw:
        return DeadLetter(message, {k: _string(v) for k, v in (attributes or {}).items()})
    envelope = sns_envelope(
        topic_arn,
        message,
        subscription_arn=subscription_arn,
        subject=subject,
        attributes=attributes,
        at=at,
    )
    return DeadLetter(envelope)


def eventbridge_event(
    source: str, detail_type: str, detail: dict[str, Any], *, at: datetime | None = None
) -> dict[str, Any]:
    """An event as EventBridge delivers it to a target ("Amazon EventBridge events", the event
    structure): version, id, detail-type, source, account, time, region, resources, detail."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": ACCOUNT,
        "time": (at or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [],
        "detail": detail,
    }


def eventbridge_dead_letter(
    event: dict[str, Any],
    *,
    rule_arn: str,
    target_arn: str,
    error_code: str,
    error_message: str,
    retry_attempts: int,
    exhausted_retry_condition: str | None = None,
) -> DeadLetter:
    """What an EventBridge rule target's DLQ holds: the event, with RULE_ARN, TARGET_ARN,
    ERROR_CODE, ERROR_MESSAGE, RETRY_ATTEMPTS and, when a retry limit ended the delivery,
    EXHAUSTED_RETRY_CONDITION (``MaximumRetryAttempts`` or ``MaximumEventAgeInSeconds``)."""
    attributes = {
        "RULE_ARN": _string(rule_arn),
        "TARGET_ARN": _string(target_arn),
        "ERROR_CODE": _string(error_code),
        "ERROR_MESSAGE": _string(error_message),
        "RETRY_ATTEMPTS": _string(str(retry_attempts)),
    }
    if exhausted_retry_condition is not None:
        attributes["EXHAUSTED_RETRY_CONDITION"] = _string(exhausted_retry_condition)
    return DeadLetter(json.dumps(event), attributes)


def lambda_dead_letter(
    payload: dict[str, Any], *, error_code: int, error_message: str, request_id: str | None = None
) -> DeadLetter:
    """What a function's async DLQ (DeadLetterConfig) holds: the payload unchanged, RequestID
    (String), ErrorCode (Number: a 3-digit HTTP error code), ErrorMessage (String, at most 1 KB)."""
    return DeadLetter(
        json.dumps(payload),
        {
            "RequestID": _string(request_id or str(uuid.uuid4())),
            "ErrorCode": {"DataType": "Number", "StringValue": str(error_code)},
            "ErrorMessage": _string(error_message.encode()[:1024].decode(errors="ignore")),
        },
    )


def lambda_on_failure_record(
    function_arn: str,
    payload: dict[str, Any],
    *,
    error_type: str,
    error_message: str,
    condition: str = "RetriesExhausted",
    approximate_invoke_count: int = 3,
    request_id: str | None = None,
    at: datetime | None = None,
) -> DeadLetter:
    """What an on-failure destination queue receives: the invocation record. ``function_arn`` is
    the qualified ARN the record names (``...:function:name:$LATEST``); ``condition`` is
    RetriesExhausted, EventAgeExceeded or an error the function returned."""
    record = {
        "version": "1.0",
        "timestamp": _iso_ms(at or datetime.now(UTC)),
        "requestContext": {
            "requestId": request_id or str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": approximate_invoke_count,
        },
        "requestPayload": payload,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": {
            "errorMessage": error_message,
            "errorType": error_type,
            "stackTrace": [],
        },
    }
    return DeadLetter(json.dumps(record))
