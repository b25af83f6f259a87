"""What dead-letters into a DLQ besides an SQS queue's RedrivePolicy: plain data, no I/O.

An SQS DLQ is fed by SQS queues (``Dlq.sources``), and also by an SNS subscription with a
RedrivePolicy, an EventBridge rule target with a DeadLetterConfig, and a Lambda function with a
DeadLetterConfig (its asynchronous invocations' DLQ) or an on-failure destination that is a queue.
AWS's own redrive cannot take their messages back ("sources must be other SQS queues"); this module
names them (``Feeder``), says how a copy goes back to exactly the target that failed it (``Via``),
and is what the gateways' discovery returns (``FeederScan``). No boto3 here: the pure modules
(catalog, routing, engine, surfaces) import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.feeder_kinds import Kind as Kind  # its own module: the settings need only the kinds


class Via(StrEnum):
    """How a copy of a message is delivered back."""

    QUEUE = "queue"  # SQS SendMessageBatch, confirmed by ``Successful``
    FUNCTION = "function"  # Lambda Invoke InvocationType=Event, confirmed by StatusCode 202
    TOPIC = "topic"  # SNS Publish, confirmed by a MessageId (an EventBridge target that IS a topic)


# Which protocol (an SNS subscription's Protocol, the service of an EventBridge target's ARN) we
# deliver to, and how. A topic only for an EventBridge target: publishing to the topic of an SNS
# subscription would give every other subscriber a duplicate.
_VIA_BY_PROTOCOL = {"sqs": Via.QUEUE, "lambda": Via.FUNCTION}


def arn_service(arn: str) -> str:
    """The service part of an ARN (``arn:aws:sqs:...`` -> ``sqs``); "" for anything else."""
    parts = arn.split(":", 5)
    return parts[2] if len(parts) == 6 and parts[0] == "arn" else ""


def unqualified_function_arn(arn: str) -> str:
    """A Lambda function ARN without its version or alias (``...:function:f:$LATEST`` -> ``f``)."""
    parts = arn.split(":")
    if len(parts) == 8 and parts[2] == "lambda" and parts[5] == "function":
        return ":".join(parts[:7])
    return arn


def function_qualifier(arn: str) -> str:
    """The version or alias a Lambda function ARN names: ``$LATEST`` when it names none (an
    unqualified invoke runs $LATEST, and its on-failure record says ``:$LATEST``)."""
    unqualified = unqualified_function_arn(arn)
    return arn[len(unqualified) + 1 :] if arn != unqualified else "$LATEST"


def resource_name(arn: str) -> str:
    """What people call the resource an ARN names: a queue's or topic's name, a function's name
    (without qualifier); anything else (an http URL, an email address) as it is."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn":
        return arn
    if parts[2] == "lambda" and len(parts) >= 7 and parts[5] == "function":
        return parts[6]
    return parts[-1].rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Feeder:
    """Something other than an SQS queue's RedrivePolicy that dead-letters into a DLQ."""

    kind: Kind  # SNS | EVENTS | LAMBDA
    dlq_arn: str  # the queue it dead-letters into
    # How list/report/Slack name it, precisely: sns: the subscription ARN; events:
    # "<bus>/<rule>/<target id>" (bus "default" included); lambda: the function name.
    name: str
    # Where its messages go back: sns: the subscription's Endpoint (queue or function ARN, or the
    # URL/email/phone for others); events: the target's Arn; lambda: the function ARN (unqualified).
    target_arn: str
    # sns: the subscription's Protocol (sqs, lambda, http, https, email, email-json, sms,
    # application, firehose); events: the service of target_arn; lambda: "lambda".
    protocol: str
    topic_arn: str | None = None  # sns
    raw: bool = False  # sns: RawMessageDelivery == "true"
    rule_arn: str | None = None  # events
    target_id: str | None = None  # events
    on_failure: bool = False  # lambda: True = on-failure destination, False = DeadLetterConfig
    # lambda on-failure: the versions and aliases ("$LATEST", "3", "prod") whose asynchronous
    # invocation config names this queue (configs are per qualifier); () = "$LATEST" only. A
    # record naming another qualifier of the function did not come from these configs.
    qualifiers: tuple[str, ...] = ()
    # Why a redrive cannot reach it as AWS would (an http/email/sms endpoint, an events target
    # with Input/InputPath/InputTransformer, a target service we do not deliver to); None: it can.
    refusal: str | None = None

    @property
    def via(self) -> Via | None:
        """How a copy goes back to ``target_arn``; None when refused or not deliverable."""
        if self.refusal is not None:
            return None
        if self.protocol == "sns":
            return Via.TOPIC if self.kind is Kind.EVENTS else None
        return _VIA_BY_PROTOCOL.get(self.protocol)

    def describe(self) -> str:
        """One plain-text line (every surface escapes it): what feeds the DLQ and where to."""
        target = f"{self.protocol} {resource_name(self.target_arn)}"
        if self.kind is Kind.SNS:
            return f"sns subscription {self.name} → {target}"
        if self.kind is Kind.EVENTS:
            rule = self.name
            if self.target_id and rule.endswith("/" + self.target_id):
                rule = rule[: -len(self.target_id) - 1]
            return f"events rule {rule} target {self.target_id or '?'} → {target}"
        if self.kind is Kind.LAMBDA:
            what = "on-failure destination" if self.on_failure else "async DLQ"
            return f"lambda {self.name} ({what})"
        return f"{self.kind} {self.name} → {target}"

    def listed(self) -> str:
        """``describe()``, and for a feeder a redrive refuses (an https or email subscription, a
        transformed events target, ...) that its messages are not redriven and why: how list,
        peek and the report name a DLQ's sources, so that no one counts on a redrive of them."""
        if self.refusal is None:
            return self.describe()
        return f"{self.describe()} (not redriven: {self.refusal})"


@dataclass(frozen=True)
class FeederScan:
    """What discovery found: the feeders, and the kinds it could not read and why
    ("AccessDenied: ..."), shown under list/report so that "none found" is never a lie."""

    feeders: tuple[Feeder, ...]
    unread: tuple[tuple[Kind, str], ...] = ()

    def into(self, dlq_arn: str) -> tuple[Feeder, ...]:
        """The feeders that dead-letter into the queue ``dlq_arn``."""
        return tuple(f for f in self.feeders if f.dlq_arn == dlq_arn)


class FeederDirectory(Protocol):
    """Finds every feeder of every DLQ: ``bot.feeder_directory.FeederDirectoryGateway`` on AWS."""

    def feeders(self) -> FeederScan:
        """Never raises for a kind it cannot read: that kind goes to ``FeederScan.unread``."""
        ...
