"""Build scenes of every DLQ kind on moto (SQS, SNS, EventBridge) and the local Lambda server:
queues, SNS subscriptions with a RedrivePolicy, EventBridge rule targets with a DeadLetterConfig,
functions with a DeadLetterConfig or an on-failure destination that is a queue.

``infra.local.scene`` builds SQS DLQs for ``make demo`` and the tests alike; this module does the
same for the other kinds: ``make demo``'s scene (``infra.local.demo_kinds_scene``) and the kinds'
tests (CLI, Slack, daily, engine) build theirs with one ``KindsBuilder``, so each set-up is written
once and every one of them exercises the same calls. moto dead-letters none of these services'
messages: ``seed`` puts messages shaped as AWS documents them straight into a DLQ.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import boto3

from infra.local.lambda_server import Handler, LambdaServer, function_arn
from infra.local.scene import count, drain, queue_arn
from tests.unit.kind_messages import as_send_entry

if TYPE_CHECKING:
    from bot.sqs_model import ReceivedMessage


def works(event: Any, context: Any) -> dict[str, str]:
    """A function that works again (its bug was fixed); the local Lambda server records what it
    was invoked with."""
    return {"status": "ok"}


def moto_function(name: str) -> str:
    """A function on moto's Lambda, for what moto keeps of a function's configuration (its
    event invoke configs: on-failure destinations); moto checks the execution role exists and
    never runs the code. Its ARN. Functions that run are the local Lambda server's."""
    iam = boto3.client("iam")
    try:
        role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        role = iam.get_role(RoleName="fn-role")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
    created = boto3.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": code.getvalue()},
    )
    return str(created["FunctionArn"])


class KindsBuilder:
    """Creates the parts of a scene and remembers every queue's URL and ARN by name, so a
    subscription, target or function names the queue it dead-letters into by its name."""

    def __init__(
        self, sqs: Any, lambdas: LambdaServer, *, sns: Any = None, events: Any = None
    ) -> None:
        self.sqs = sqs
        self.sns = sns if sns is not None else boto3.client("sns")
        self.events = events if events is not None else boto3.client("events")
        self.lambdas = lambdas
        self.urls: dict[str, str] = {}
        self.arns: dict[str, str] = {}

    def queues(self, *names: str) -> None:
        """Create each queue (none of them with a RedrivePolicy)."""
        for name in names:
            self.urls[name] = self.sqs.create_queue(QueueName=name)["QueueUrl"]
            self.arns[name] = queue_arn(self.sqs, self.urls[name])

    def create_topic(self, name: str) -> str:
        """The new topic's ARN."""
        arn: str = self.sns.create_topic(Name=name)["TopicArn"]
        return arn

    def subscribe_to(self, topic_arn: str, protocol: str, endpoint: str, dlq: str | None) -> str:
        """Subscribe ``endpoint`` to the topic, dead-lettering into the queue ``dlq`` (None: no
        RedrivePolicy); the subscription's ARN."""
        attributes = (
            {}
            if dlq is None
            else {"RedrivePolicy": json.dumps({"deadLetterTargetArn": self.arns[dlq]})}
        )
        arn: str = self.sns.subscribe(
            TopicArn=topic_arn,
            Protocol=protocol,
            Endpoint=endpoint,
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        return arn

    def target(self, target_id: str, arn: str, dlq: str | None = None) -> dict[str, Any]:
        """A rule target delivering to ``arn``, dead-lettering into the queue ``dlq``."""
        dead_letter = {} if dlq is None else {"DeadLetterConfig": {"Arn": self.arns[dlq]}}
        return {"Id": target_id, "Arn": arn, **dead_letter}

    def put_rule(self, name: str, source: str, targets: Sequence[Mapping[str, Any]]) -> str:
        """A rule on the default bus matching events of ``source``, with ``targets``; its ARN."""
        arn: str = self.events.put_rule(Name=name, EventPattern=json.dumps({"source": [source]}))[
            "RuleArn"
        ]
        self.events.put_targets(Rule=name, Targets=list(targets))
        return arn

    def function(
        self,
        name: str,
        *,
        dead_letter: str | None = None,
        on_failure: str | None = None,
        handler: Handler = works,
    ) -> str:
        """Register ``name`` on the local Lambda server, its async DLQ the queue ``dead_letter``
        and its on-failure destination the queue ``on_failure``; its (unqualified) ARN."""
        self.lambdas.register(
            name,
            handler,
            dead_letter_arn=None if dead_letter is None else self.arns[dead_letter],
            on_failure_arn=None if on_failure is None else self.arns[on_failure],
        )
        return function_arn(name)

    def seed(self, queue: str, *messages: ReceivedMessage) -> None:
        """Put ``messages`` into ``queue`` as AWS would have left them there."""
        for message in messages:
            self.sqs.send_message(QueueUrl=self.urls[queue], **as_send_entry(message))

    def received(self, queue: str) -> list[dict[str, Any]]:
        """What ``queue`` holds, received and deleted."""
        return drain(self.sqs, self.urls[queue])

    def bodies(self, queue: str) -> list[str]:
        return [m["Body"] for m in self.received(queue)]

    def left(self, queue: str) -> int:
        return count(self.sqs, self.urls[queue])
