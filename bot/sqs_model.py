"""SQS as the rest of the code sees it: plain data and the interfaces of the SQS gateway.

No boto3 here (nor anything that imports it): the pure modules (planner, selection, inspection,
catalog, engine, the daily figures) take these types and Protocols, and load without the AWS SDK.
``bot.sqs_gateway.SqsGateway`` implements the Protocols on boto3; ``tests/unit/fake_sqs.py`` in
memory.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

# The error codes SQS answers for a queue that does not exist (the query and JSON protocols, and
# the batch entries of a queue deleted meanwhile).
MISSING_QUEUE_CODES = frozenset(
    {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "NonExistentQueue"}
)


@dataclass(frozen=True)
class ReceivedMessage:
    """A message as received from a queue: what the engine needs, nothing more."""

    message_id: str
    receipt_handle: str
    body: str
    attributes: dict[str, str] = field(default_factory=dict)  # system attributes
    message_attributes: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def sent_timestamp_ms(self) -> int | None:
        raw = self.attributes.get("SentTimestamp")
        return int(raw) if raw and raw.isdigit() else None

    @property
    def receive_count(self) -> int:
        raw = self.attributes.get("ApproximateReceiveCount", "0")
        return int(raw) if raw.isdigit() else 0

    @property
    def source_arn(self) -> str | None:
        return self.attributes.get("DeadLetterQueueSourceArn") or None


@dataclass(frozen=True)
class QueueInfo:
    """Static facts and current counts of one queue."""

    name: str
    url: str
    arn: str
    fifo: bool
    visible: int
    in_flight: int
    delayed: int
    dead_letter_target_arn: str | None
    # MaximumMessageSize: what the queue takes, body and attributes together. SQS's maximum is
    # 1 MiB since 2025; queues created before keep their own (often 256 KiB, the old default).
    max_message_bytes: int = 262_144
    # How long a message can spend in this queue before SQS dead-letters it, as far as the
    # queue's settings say: VisibilityTimeout (default 30 s), DelaySeconds, and the
    # RedrivePolicy's maxReceiveCount (None: no RedrivePolicy).
    visibility_timeout_s: int = 30
    delay_s: int = 0
    max_receive_count: int | None = None
    # MessageRetentionPeriod: a message in this queue is deleted by SQS this long after its
    # SentTimestamp (in a standard DLQ that is the original enqueue time in the source; bot.expiry).
    # None: not known (a queue description without it).
    retention_s: int | None = None

    @property
    def dead_letters_within_s(self) -> int | None:
        """How long, by this queue's settings, a message its consumer fails takes to be
        dead-lettered: maxReceiveCount receives, each hiding it for the VisibilityTimeout, after
        DelaySeconds (None: no RedrivePolicy). A consumer that sets its own visibility timeout
        on receive, or waits before receiving, makes it shorter or longer."""
        if self.max_receive_count is None:
            return None
        return self.max_receive_count * self.visibility_timeout_s + self.delay_s


@dataclass(frozen=True)
class SendFailure:
    """One entry SQS refused in a batch (``Failed`` in the response), or one of a failed call."""

    entry_id: str
    code: str
    reason: str
    sender_fault: bool


def queue_name_from_arn(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]


def queue_info_from_attributes(url: str, attrs: Mapping[str, str]) -> QueueInfo:
    """A queue's ``QueueInfo`` from its GetQueueAttributes answer (``All``)."""
    arn = attrs.get("QueueArn", "")
    target = None
    receives = None
    policy = attrs.get("RedrivePolicy")
    if policy:
        redrive = json.loads(policy)
        target = redrive.get("deadLetterTargetArn")
        # AWS's own answers carry it as a number or as a string of one.
        receives = int(redrive["maxReceiveCount"]) if "maxReceiveCount" in redrive else None
    return QueueInfo(
        name=queue_name_from_arn(arn) if arn else url.rsplit("/", 1)[-1],
        url=url,
        arn=arn,
        fifo=attrs.get("FifoQueue", "false").lower() == "true",
        visible=int(attrs.get("ApproximateNumberOfMessages", "0")),
        in_flight=int(attrs.get("ApproximateNumberOfMessagesNotVisible", "0")),
        delayed=int(attrs.get("ApproximateNumberOfMessagesDelayed", "0")),
        dead_letter_target_arn=target,
        max_message_bytes=int(attrs.get("MaximumMessageSize", "262144")),
        visibility_timeout_s=int(attrs.get("VisibilityTimeout", "30")),
        delay_s=int(attrs.get("DelaySeconds", "0")),
        max_receive_count=receives,
        retention_s=int(attrs["MessageRetentionPeriod"])
        if "MessageRetentionPeriod" in attrs
        else None,
    )


def received_message(raw: Mapping[str, Any]) -> ReceivedMessage:
    """A ``ReceivedMessage`` from one entry of a ReceiveMessage answer's ``Messages``."""
    return ReceivedMessage(
        message_id=raw["MessageId"],
        receipt_handle=raw["ReceiptHandle"],
        body=raw.get("Body", ""),
        attributes={str(k): v for k, v in raw.get("Attributes", {}).items()},
        message_attributes={k: dict(v) for k, v in raw.get("MessageAttributes", {}).items()},
    )


def queue_was_missing(failure: SendFailure) -> bool:
    """Whether a batch entry failed because its queue does not exist (deleted meanwhile)."""
    return failure.code in MISSING_QUEUE_CODES


class SqsApi(Protocol):
    """What the engine needs from SQS. ``SqsGateway`` is the real one; tests may pass a fake.

    A look-up or read that fails raises ``AwsError`` (``QueueNotFoundError`` for a queue that is
    gone), whether AWS refused it or could not be reached: no SDK exception gets past the
    gateway, so nothing above it catches one."""

    def queue_info(self, url: str) -> QueueInfo: ...

    def url_for_arn(self, arn: str) -> str: ...

    def receive(
        self, url: str, *, max_messages: int, visibility_timeout: int, wait_seconds: int
    ) -> list[ReceivedMessage]: ...

    def send_batch(
        self, url: str, entries: Sequence[dict[str, Any]]
    ) -> tuple[list[str], list[SendFailure]]: ...

    def delete_batch(self, url: str, receipt_handles: Sequence[str]) -> list[SendFailure]: ...

    def change_visibility_batch(
        self, url: str, receipt_handles: Sequence[str], timeout: int
    ) -> list[SendFailure]: ...


class QueueDirectory(SqsApi, Protocol):
    """``SqsApi`` and the look-ups the DLQ catalog needs: queues by name, every queue, the queues
    that dead-letter into one."""

    def queue_url(self, name_or_url: str) -> str: ...

    def list_queue_urls(self) -> list[str]: ...

    def dead_letter_sources(self, url: str) -> list[str]: ...
