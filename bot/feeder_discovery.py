"""How AWS's configuration answers become ``Feeder``s: pure, no I/O, no boto3.

The gateways (``bot.sns_gateway``, ``bot.events_gateway``, ``bot.lambda_gateway``) make the calls
and hand each answer here, so the rules (which configurations dead-letter into a queue, which
targets a redrive can reach as AWS would, and why not) are tested without a server.

Each kind's discovery reads a list and then one item after another (a subscription's attributes, a
rule's targets, a function's asynchronous invocation configs); an item it could not read is kept
with AWS's code in ``FeederRead.failed`` and told (``FeederRead.gaps``), never dropped silently:
with least-privilege rights scoped to some topics, rules or functions, AWS refuses the others.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from typing import Any

from bot.feeders import (
    Feeder,
    Kind,
    arn_service,
    function_qualifier,
    unqualified_function_arn,
)

# What SNS does for these protocols a redrive cannot do as SNS would ("Amazon SNS message
# delivery": an HTTP/S endpoint gets a signed JSON envelope with SNS's own delivery policy; email
# and SMS are sent by SNS itself; application and firehose endpoints are SNS's own integrations).
_SNS_REFUSALS = {
    "http": "SNS delivers to an http endpoint itself (a signed envelope, its delivery policy)",
    "https": "SNS delivers to an https endpoint itself (a signed envelope, its delivery policy)",
    "email": "SNS sends email itself",
    "email-json": "SNS sends email itself",
    "sms": "SNS sends SMS itself",
    "application": "SNS delivers to mobile push endpoints itself",
    "firehose": "SNS delivers to Firehose streams itself",
}
_REDRIVE_BY_HAND = "dlq-redrive cannot deliver to it as SNS would; redrive by hand"
# The services a redrive delivers an EventBridge target's message to (bot.feeders.Via).
_EVENTS_SERVICES = ("sqs", "lambda", "sns")
# "Input", "InputPath", "InputTransformer": the target gets something made from the event, not the
# event its DLQ keeps ("The transformed event is sent to a target instead of the original event",
# EventBridge User Guide, "Amazon EventBridge input transformation"; Input and InputPath likewise).
_EVENTS_INPUT_KEYS = ("Input", "InputPath", "InputTransformer")


@dataclass(frozen=True)
class FeederRead:
    """What one kind's discovery found, and the items of it it could not read."""

    feeders: tuple[Feeder, ...]
    examined: int = 0  # the items read one by one (subscriptions, rules, functions)
    noun: str = "items"  # what an item is, plural: "subscriptions", "rules", "functions"
    failed: tuple[tuple[str, str], ...] = ()  # (item, AWS's error code) of items not read

    def gaps(self) -> list[str]:
        """One plain line per error code: how many items were not read, with an example."""
        counts = Counter(code for _, code in self.failed)
        lines = []
        for code, count in sorted(counts.items()):
            example = next(item for item, c in self.failed if c == code)
            lines.append(
                f"{code}: {count} of {self.examined} {self.noun} not read (e.g. {example}); "
                "a DLQ they feed is not known from them"
            )
        return lines


def in_scope(name: str, globs: Sequence[str]) -> bool:
    """Whether ``name`` (a topic's, bus's, rule's or function's) is one whose feeders are read:
    ``globs`` (``EngineSettings.sns_topics``, ...) name them with IAM's * and ?; none: all.
    (Such names hold no ``[``, the one character fnmatch reads otherwise than IAM.)"""
    return not globs or any(fnmatchcase(name, glob) for glob in globs)


def is_queue_arn(arn: object) -> bool:
    """Whether ``arn`` names an SQS queue (DLQs are queues; other destinations are not ours)."""
    return isinstance(arn, str) and arn_service(arn) == "sqs"


# --- SNS ----------------------------------------------------------------------------------------


def subscription_feeder(attributes: Mapping[str, str]) -> Feeder | None:
    """The feeder of a subscription (its GetSubscriptionAttributes ``Attributes``), None when
    it has no RedrivePolicy into a queue. "A dead-letter queue is an Amazon SQS queue that an
    Amazon SNS subscription can target for messages that can't be delivered to subscribers
    successfully" (SNS Developer Guide); the policy is ``{"deadLetterTargetArn": <queue ARN>}``."""
    try:
        policy = json.loads(attributes.get("RedrivePolicy") or "null")
    except ValueError:
        return None
    dlq_arn = policy.get("deadLetterTargetArn") if isinstance(policy, dict) else None
    if not is_queue_arn(dlq_arn):
        return None
    protocol = attributes.get("Protocol", "")
    refusal = None
    if protocol not in ("sqs", "lambda"):
        why = _SNS_REFUSALS.get(protocol, f"SNS delivers to {protocol or 'this'} endpoints itself")
        refusal = f"{why}: {_REDRIVE_BY_HAND}"
    return Feeder(
        kind=Kind.SNS,
        dlq_arn=str(dlq_arn),
        name=attributes.get("SubscriptionArn", ""),
        target_arn=attributes.get("Endpoint", ""),
        protocol=protocol,
        topic_arn=attributes.get("TopicArn") or None,
        raw=attributes.get("RawMessageDelivery", "").lower() == "true",
        refusal=refusal,
    )


# --- EventBridge ------------------------------------------------------------------------------


def target_feeder(
    bus: str, rule_name: str, rule_arn: str, target: Mapping[str, Any]
) -> Feeder | None:
    """The feeder of a rule's target (one entry of ListTargetsByRule's ``Targets``), None when it
    has no DeadLetterConfig into a queue."""
    dead_letter = target.get("DeadLetterConfig")
    dlq_arn = dead_letter.get("Arn") if isinstance(dead_letter, Mapping) else None
    if not is_queue_arn(dlq_arn):
        return None
    target_arn = str(target.get("Arn", ""))
    target_id = str(target.get("Id", ""))
    service = arn_service(target_arn)
    return Feeder(
        kind=Kind.EVENTS,
        dlq_arn=str(dlq_arn),
        name=f"{bus}/{rule_name}/{target_id}",
        target_arn=target_arn,
        protocol=service or target_arn,
        rule_arn=rule_arn,
        target_id=target_id,
        refusal=_target_refusal(service, target_arn, target),
    )


def _target_refusal(service: str, target_arn: str, target: Mapping[str, Any]) -> str | None:
    if service not in _EVENTS_SERVICES:
        return (
            f"an EventBridge target of service {service or target_arn!r}: dlq-redrive delivers "
            "only to sqs, lambda and sns targets; redrive by hand"
        )
    given = [key for key in _EVENTS_INPUT_KEYS if target.get(key)]
    if given:
        return (
            f"the target gets the event as its {'/'.join(given)} changes it: a copy of what its "
            "DLQ holds may not be what the target receives; redrive by hand"
        )
    if target_arn.endswith(".fifo"):
        return (
            "a FIFO target: EventBridge gives it a message group id (SqsParameters) that its DLQ "
            "does not keep; redrive by hand"
        )
    return None


# --- Lambda -------------------------------------------------------------------------------------


def function_dlq_feeder(configuration: Mapping[str, Any]) -> Feeder | None:
    """The feeder of a function's DeadLetterConfig (a FunctionConfiguration, as ListFunctions and
    GetFunctionConfiguration answer it), None when it has none into a queue (a topic, or none).
    DeadLetterConfig.TargetArn: "The Amazon Resource Name (ARN) of an Amazon SQS queue or Amazon
    SNS topic" (Lambda API reference)."""
    dead_letter = configuration.get("DeadLetterConfig")
    dlq_arn = dead_letter.get("TargetArn") if isinstance(dead_letter, Mapping) else None
    if not is_queue_arn(dlq_arn):
        return None
    return _function_feeder(configuration, str(dlq_arn), on_failure=False)


def on_failure_feeders(
    configuration: Mapping[str, Any], invoke_configs: Iterable[Mapping[str, Any]]
) -> list[Feeder]:
    """The feeders of a function's on-failure destinations that are queues, one per queue (the
    configs of its versions and aliases may name the same one), each with the qualifiers whose
    config names it: ListFunctionEventInvokeConfigs' ``FunctionEventInvokeConfigs``, each with
    its ``FunctionArn`` (qualified: ``$LATEST`` for the function's own config) and
    ``DestinationConfig.OnFailure.Destination``."""
    queues: dict[str, list[str]] = {}
    for config in invoke_configs:
        destinations = config.get("DestinationConfig")
        on_failure = destinations.get("OnFailure") if isinstance(destinations, Mapping) else None
        arn = on_failure.get("Destination") if isinstance(on_failure, Mapping) else None
        if is_queue_arn(arn):
            qualifiers = queues.setdefault(str(arn), [])
            qualifier = function_qualifier(str(config.get("FunctionArn", "")))
            if qualifier not in qualifiers:
                qualifiers.append(qualifier)
    return [
        replace(
            _function_feeder(configuration, queue, on_failure=True),
            qualifiers=tuple(qualifiers),
        )
        for queue, qualifiers in queues.items()
    ]


def _function_feeder(configuration: Mapping[str, Any], dlq_arn: str, *, on_failure: bool) -> Feeder:
    return Feeder(
        kind=Kind.LAMBDA,
        dlq_arn=dlq_arn,
        name=str(configuration.get("FunctionName", "")),
        target_arn=unqualified_function_arn(str(configuration.get("FunctionArn", ""))),
        protocol="lambda",
        on_failure=on_failure,
    )
