"""Where one message of a DLQ goes back to: exactly the target that failed it, never more. Pure.

A DLQ fed by SQS queues only is today's path (``route`` answers None and the engine's Router
sends the message to its source queue). A DLQ that SNS subscriptions, EventBridge rule targets or
Lambda functions dead-letter into (``bot.feeders.Feeder``) holds messages AWS shaped as follows,
and each says more or less about which of them failed it:

- EventBridge User Guide, "Using dead-letter queues to process undelivered events": "Each message
  in your DLQ will include the following custom attributes: RULE_ARN, TARGET_ARN, ERROR_CODE,
  ERROR_MESSAGE, EXHAUSTED_RETRY_CONDITION, RETRY_ATTEMPTS". ERROR_CODE is one of, in the guide's
  list: CONNECTION_FAILURE, CROSS_ACCOUNT_INGESTION_FAILED, CROSS_REGION_INGESTION_FAILED,
  ERROR_FROM_TARGET, EVENTS_IN_BATCH_REQUEST_REJECTED, EVENTS_INGESTION_FAILED,
  FAILED_TO_ASSUME_ROLE, INTERNAL_ERROR, INVALID_JSON, INVALID_PARAMETER, NO_PERMISSIONS,
  NO_RESOURCE, RESOURCE_ALREADY_EXISTS, RESOURCE_LIMIT_EXCEEDED, RESOURCE_MODIFICATION_COLLISION,
  RULE_NOT_FOUND, SDK_CLIENT_ERROR, THIRD_ACCOUNT_HOP_DETECTED, THIRD_REGION_HOP_DETECTED,
  THROTTLING, TIMEOUT, TRANSIENT_ASSUME_ROLE, UNKNOWN. "For errors that result from missing
  permissions to a target, or a target resource that no longer exists, all retry attempts fail
  until an action is taken to resolve the underlying issue": those (``NEEDS_HUMAN_CODES``) are
  held for a human unless the request forces them.
- Lambda Developer Guide, dead-letter queues: "The payload written to the DLQ target ARN is the
  original event payload with no modifications to the message body", with attributes RequestID
  (String), ErrorCode (Number) and ErrorMessage (String). Nothing names the function.
- Lambda Developer Guide, "Capturing records of Lambda asynchronous invocations": an on-failure
  destination gets a record ``{"version": "1.0", "timestamp", "requestContext": {"requestId",
  "functionArn", "condition", "approximateInvokeCount"}, "requestPayload", "responseContext",
  "responsePayload"}``.
- SNS Developer Guide, dead-letter queues: a subscription's DLQ keeps the message SNS could not
  deliver: the JSON envelope (Type "Notification", TopicArn, Message, ...), or the message itself
  with RawMessageDelivery. The subscription is not named in the message.

Anyone who may send to the DLQ can write any of these names into a message. So a message only ever
chooses AMONG the feeders discovered for this DLQ (by each one's own configuration): a name that
is not one of them is refused (UnknownTarget), never delivered to. An SNS envelope's TopicArn
can only narrow the subscriptions, never add one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.feeders import (
    Feeder,
    Kind,
    Via,
    function_qualifier,
    resource_name,
    unqualified_function_arn,
)
from bot.sqs_model import ReceivedMessage

# The EventBridge ERROR_CODEs that no retry fixes: the target's permissions, its existence or
# its configuration must change first (EventBridge sends these to the DLQ without retrying).
NEEDS_HUMAN_CODES = frozenset(
    {
        "NO_PERMISSIONS",
        "NO_RESOURCE",
        "RESOURCE_NOT_FOUND",
        "FAILED_TO_ASSUME_ROLE",
        "INVALID_PARAMETER",
        "INVALID_JSON",
        "CROSS_ACCOUNT_INGESTION_FAILED",
        "CROSS_REGION_INGESTION_FAILED",
        "THIRD_ACCOUNT_HOP_DETECTED",
        "THIRD_REGION_HOP_DETECTED",
    }
)

# The attributes each kind's messages carry (see the module docstring).
RULE_ARN, TARGET_ARN, ERROR_CODE = "RULE_ARN", "TARGET_ARN", "ERROR_CODE"
LAMBDA_REQUEST_ID, LAMBDA_ERROR_CODE = "RequestID", "ErrorCode"
# Everything EventBridge adds ("Each message in your DLQ will include the following custom
# attributes: RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE, EXHAUSTED_RETRY_CONDITION,
# RETRY_ATTEMPTS"): an account of the failure, not part of the event, so a copy delivered to the
# target goes without them, as EventBridge's own delivery would have (``bot.engine_routing``).
EVENTBRIDGE_DLQ_ATTRIBUTES = frozenset(
    {
        RULE_ARN,
        TARGET_ARN,
        ERROR_CODE,
        "ERROR_MESSAGE",
        "EXHAUSTED_RETRY_CONDITION",
        "RETRY_ATTEMPTS",
    }
)

# A version or alias after a function's ARN: Lambda's Qualifier pattern "(|[a-zA-Z0-9$_-]+)".
_QUALIFIER = re.compile(r"[A-Za-z0-9$_-]{1,128}")


class Shape(StrEnum):
    """How the payload of a delivery is made from the message's body (``bot.deliveries``)."""

    BODY = "body"  # the body as stored (queue: today's entry; function/topic: the body)
    SNS_LAMBDA_EVENT = "sns-lambda-event"  # the envelope -> {"Records": [{"EventSource": ...}]}
    REQUEST_PAYLOAD = "request-payload"  # an on-failure record's requestPayload, JSON-encoded


@dataclass(frozen=True)
class Delivery:
    """Where exactly a message's copy goes, and how it is shaped."""

    via: Via
    # queue ARN / function ARN (the qualifier an on-failure record's requestContext.functionArn
    # gives is kept, e.g. ":$LATEST") / topic ARN
    arn: str
    name: str  # display: the queue or function or topic name
    feeder: Feeder | None  # None for an SQS source (today's path)
    shape: Shape


@dataclass(frozen=True)
class NoDelivery:
    """Why a message goes nowhere: it stays in the DLQ, held for a human or failed with ``code``."""

    # "NeedsHuman", "Ambiguous", "UnknownTarget", "Unsupported", "NotAnEvent"
    code: str
    reason: str  # plain text (every surface escapes it), says what to do
    needs_human: bool = False  # counted in the report's needs_human, else a failure with reason


def route(
    message: ReceivedMessage,
    dlq_feeders: Sequence[Feeder],
    *,
    has_sqs_sources: bool,
    force: bool = False,
) -> Delivery | NoDelivery | None:
    """Where ``message`` of a DLQ fed by ``dlq_feeders`` (and SQS queues when
    ``has_sqs_sources``) goes back to. None: an SQS message, today's Router path (it names its
    source queue, or the DLQ has no other feeder). ``force`` lets EventBridge ERROR_CODEs that
    need a human through (the request's --force).

    In order: a DeadLetterQueueSourceArn is SQS's; RULE_ARN/TARGET_ARN name an EventBridge target,
    which must be a feeder of this DLQ; RequestID and ErrorCode are Lambda's async DLQ (whose
    event may itself be a record); an on-failure record names its function and qualifier, which
    must be an on-failure feeder of this DLQ (when it has any: a record can also travel through
    an SNS topic as any message would). A message naming none of them is SNS's (the only kind
    that names nothing), or the DLQ's only feeder's.
    """
    if message.source_arn or not dlq_feeders:
        return None
    attributes = message.message_attributes
    if RULE_ARN in attributes or TARGET_ARN in attributes:
        return _eventbridge(attributes, dlq_feeders, force=force)
    async_dlq = [f for f in dlq_feeders if f.kind is Kind.LAMBDA and not f.on_failure]
    if LAMBDA_REQUEST_ID in attributes and LAMBDA_ERROR_CODE in attributes:
        # Before reading the body as an on-failure record: Lambda writes a record with no
        # message attributes, and an async DLQ keeps the failed event as it was, which may well
        # be a record (a function that handles another's failure records). A raw subscription
        # keeps the attributes its publisher set, whatever their names: beside one, these say
        # nothing for sure.
        raw = [f for f in dlq_feeders if f.kind is Kind.SNS and f.raw]
        if not raw:
            return _async_dlq(async_dlq)
        if async_dlq:
            names = ", ".join(f.describe() for f in [*async_dlq, *raw])
            return NoDelivery(
                "Ambiguous",
                f"{names} share this DLQ, and RequestID and ErrorCode may be Lambda's or "
                "attributes a publisher set on a raw subscription's message: redrive it by "
                "hand, or give each its own DLQ",
            )
    on_failure = [f for f in dlq_feeders if f.kind is Kind.LAMBDA and f.on_failure]
    record = on_failure_function(message.body) if on_failure else None
    if record is not None:
        return _on_failure(record, on_failure)
    if has_sqs_sources:
        names = ", ".join(f.describe() for f in dlq_feeders)
        return NoDelivery(
            "Ambiguous",
            "this DLQ is fed by SQS queues and by " + names + ", and the message names none "
            "of them (no DeadLetterQueueSourceArn, no attribute of EventBridge or Lambda): "
            "redrive it by hand with --to, or give each its own DLQ",
        )
    sns = [f for f in dlq_feeders if f.kind is Kind.SNS]
    if sns:
        return _sns(message.body, sns)
    topic = sns_topic(message.body)
    if topic is not None:
        # SNS's envelope: only a subscription of that topic failed it. None feeds this DLQ now
        # (deleted, or its RedrivePolicy changed since, e.g. after an approval counted it), and
        # the fallbacks below would hand it to a function or target that never failed it.
        names = ", ".join(f.describe() for f in dlq_feeders)
        return NoDelivery(
            "UnknownTarget",
            f"the body is an SNS envelope of topic {topic}, and no subscription dead-letters "
            f"into this DLQ any more (deleted or changed since it failed the message): it is "
            f"not delivered to {names}, which did not fail it; redrive it by hand",
        )
    if len(async_dlq) == len(dlq_feeders):
        return _async_dlq(async_dlq)
    if len(dlq_feeders) == 1:
        (feeder,) = dlq_feeders
        if feeder.on_failure:
            return NoDelivery(
                "NotAnEvent",
                f"{feeder.describe()} feeds this DLQ, but the body is not an on-failure record "
                "(no requestContext.functionArn and requestPayload): nothing says what to invoke "
                "it with; redrive it by hand",
            )
        return _deliver(feeder, Shape.BODY)
    names = ", ".join(f.describe() for f in dlq_feeders)
    return NoDelivery(
        "Ambiguous",
        f"{names} feed this DLQ and the message names none of them: redrive it by hand or "
        "give each its own DLQ",
    )


def _attribute(attributes: Mapping[str, Mapping[str, Any]], name: str) -> str | None:
    value = attributes.get(name, {}).get("StringValue")
    return value.strip() if isinstance(value, str) and value.strip() else None


def _eventbridge(
    attributes: Mapping[str, Mapping[str, Any]], feeders: Sequence[Feeder], *, force: bool
) -> Delivery | NoDelivery:
    rule, target = _attribute(attributes, RULE_ARN), _attribute(attributes, TARGET_ARN)
    found = [
        f
        for f in feeders
        if f.kind is Kind.EVENTS and f.rule_arn == rule and f.target_arn == target
    ]
    if not found:
        return NoDelivery(
            "UnknownTarget",
            f"the message names EventBridge rule {rule or '(none)'} and target "
            f"{target or '(none)'}, which do not dead-letter into this DLQ (by the targets' "
            "DeadLetterConfig): it is not redriven to a target named only by the message",
        )
    if len({(f.via, f.refusal) for f in found}) > 1:
        # Two targets of the rule on one ARN, delivered differently (one sends the event, one
        # an InputTransformer's text): the message does not say which failed it.
        return _shared("target", [f.describe() for f in found])
    feeder = found[0]
    code = _attribute(attributes, ERROR_CODE)
    if code in NEEDS_HUMAN_CODES and not force:
        return NoDelivery(
            "NeedsHuman",
            f"EventBridge ERROR_CODE {code}: the target cannot accept it as configured "
            f"({feeder.describe()}); fix the target, then redrive with --force",
            needs_human=True,
        )
    return _deliver(feeder, Shape.BODY)


def _json_object(body: str) -> dict[str, Any] | None:
    """``body`` parsed when it is a JSON object (what SNS and Lambda write), else None."""
    if not body.lstrip().startswith("{"):
        return None  # not an object: no need to parse a body of up to 1 MiB
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None


def on_failure_function(body: str) -> tuple[str, Any] | None:
    """(requestContext.functionArn, requestPayload) of a Lambda on-failure record, or None when
    ``body`` is not one (not JSON, or without those fields)."""
    record = _json_object(body)
    if record is None or "requestPayload" not in record or "version" not in record:
        return None
    context = record.get("requestContext")
    function_arn = context.get("functionArn") if isinstance(context, dict) else None
    if not isinstance(function_arn, str) or not function_arn:
        return None
    return function_arn, record["requestPayload"]


def _on_failure(record: tuple[str, Any], feeders: Sequence[Feeder]) -> Delivery | NoDelivery:
    function_arn = record[0]
    unqualified = unqualified_function_arn(function_arn)
    qualifier = function_qualifier(function_arn)
    # Asynchronous invocation configs are per version and alias: only those whose config names
    # this DLQ write records into it (an old version or a test alias of the same function may
    # have none, and is not invoked for a record that only says so).
    found = [
        f
        for f in feeders
        if unqualified_function_arn(f.target_arn) == unqualified
        and qualifier in (f.qualifiers or ("$LATEST",))
    ]
    if not found or not _QUALIFIER.fullmatch(qualifier):
        return NoDelivery(
            "UnknownTarget",
            f"the on-failure record names function {function_arn}, whose asynchronous "
            "invocation config (of that version or alias) does not have this DLQ as its "
            "on-failure destination: it is not invoked for a name only the message gives",
        )
    return _deliver(found[0], Shape.REQUEST_PAYLOAD, arn=function_arn)


def _async_dlq(feeders: Sequence[Feeder]) -> Delivery | NoDelivery:
    if not feeders:
        return NoDelivery(
            "UnknownTarget",
            "the message carries Lambda's RequestID and ErrorCode, but no function has this "
            "queue as its DeadLetterConfig (or the lambda kind could not be read): redrive it "
            "by hand",
        )
    if len(feeders) > 1:
        return _shared("function", [f.name for f in feeders])
    return _deliver(feeders[0], Shape.BODY)


def sns_topic(body: str) -> str | None:
    """The TopicArn of an SNS envelope (a JSON object with Type "Notification"), else None."""
    document = _json_object(body)
    if document is None or document.get("Type") != "Notification":
        return None
    topic = document.get("TopicArn")
    return topic if isinstance(topic, str) and topic else None


def _sns(body: str, feeders: Sequence[Feeder]) -> Delivery | NoDelivery:
    # A subscription without raw delivery dead-letters the envelope of its own topic; one with
    # raw delivery the bare message, whatever it reads like. So an envelope's TopicArn keeps the
    # raw ones and those of that topic, and a body that is no envelope keeps the raw ones.
    topic = sns_topic(body)
    found = [f for f in feeders if f.raw or (topic is not None and f.topic_arn == topic)]
    if not found:
        said = f"is an SNS envelope of topic {topic}" if topic else "is not an SNS envelope"
        return NoDelivery(
            "UnknownTarget",
            f"the body {said}, which none of this DLQ's subscriptions would dead-letter "
            "(their topics and raw delivery): redrive it by hand",
        )
    if len(found) > 1:
        return _shared("subscription", [f.name for f in found])
    feeder = found[0]
    return _deliver(feeder, Shape.SNS_LAMBDA_EVENT if feeder.protocol == "lambda" else Shape.BODY)


def _shared(what: str, names: Sequence[str]) -> NoDelivery:
    """Several feeders of one kind (``what``: target, function, subscription) dead-letter into
    the DLQ and nothing in the message says which of them failed it."""
    return NoDelivery(
        "Ambiguous",
        f"{what}s {', '.join(names)} share this DLQ and the message does not say which failed "
        f"it: redrive it by hand, or give each {what} its own DLQ",
    )


def _deliver(feeder: Feeder, shape: Shape, *, arn: str | None = None) -> Delivery | NoDelivery:
    via = feeder.via
    if via is None:
        return NoDelivery(
            "Unsupported",
            feeder.refusal
            or f"{feeder.describe()}: a {feeder.protocol} endpoint is not reachable as "
            f"{feeder.kind} would deliver to it; redrive it by hand",
        )
    target = arn or feeder.target_arn
    return Delivery(via=via, arn=target, name=resource_name(target), feeder=feeder, shape=shape)
