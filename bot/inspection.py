"""Look into DLQs without changing them: ``list`` and ``peek``.

SQS has no true peek: receiving a message makes it invisible and increments its
ApproximateReceiveCount. ``peek`` receives with a short visibility timeout and immediately sets the
visibility of everything it received back to 0, so the messages are available again at once; the
receive count still goes up by one (harmless in a DLQ, which has no maxReceiveCount of its own).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.catalog import Dlq
from bot.sqs_gateway import ReceivedMessage, SqsApi, SqsGateway

PEEK_VISIBILITY_S = 30
MAX_PEEK = 100


@dataclass(frozen=True)
class PeekedMessage:
    message_id: str
    body: str
    sent_at: datetime | None
    receive_count: int
    source_queue: str | None
    group_id: str | None
    attributes: dict[str, str]  # MessageAttributes as "name": "value" (binary shown by size)

    def body_preview(self, limit: int = 300) -> str:
        return self.body if len(self.body) <= limit else self.body[: limit - 1] + "…"

    def to_dict(self, body_limit: int | None = None) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "body": self.body if body_limit is None else self.body_preview(body_limit),
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "receive_count": self.receive_count,
            "source_queue": self.source_queue,
            "group_id": self.group_id,
            "attributes": self.attributes,
        }


def _attribute_text(attribute: dict[str, Any]) -> str:
    if "StringValue" in attribute:
        return str(attribute["StringValue"])
    binary = attribute.get("BinaryValue")
    if isinstance(binary, bytes | bytearray):
        return f"<{len(binary)} bytes>"
    return f"<{attribute.get('DataType', '?')}>"


def describe_message(message: ReceivedMessage, dlq: Dlq) -> PeekedMessage:
    millis = message.sent_timestamp_ms
    source = message.source_arn.rsplit(":", 1)[-1] if message.source_arn else None
    if source is None and len(dlq.sources) == 1:
        source = dlq.sources[0].name
    return PeekedMessage(
        message_id=message.message_id,
        body=message.body,
        sent_at=datetime.fromtimestamp(millis / 1000, tz=UTC) if millis is not None else None,
        receive_count=message.receive_count,
        source_queue=source,
        group_id=message.attributes.get("MessageGroupId"),
        attributes={k: _attribute_text(v) for k, v in sorted(message.message_attributes.items())},
    )


@dataclass(frozen=True)
class Sample:
    """Messages received from a queue and already made visible again."""

    messages: list[ReceivedMessage]
    capped: bool  # the queue had more than the limit
    release_failures: int  # could not be made visible again (they come back after the timeout)


def sample_queue(
    sqs: SqsApi,
    url: str,
    *,
    limit: int,
    visibility_timeout: int,
    expected: int | None = None,
    confirm_wait_s: int = 0,
) -> Sample:
    """Up to ``limit`` distinct messages of the queue at ``url``, all released before returning,
    however the scan ends; nothing is ever deleted.

    ``expected`` is the visible count from the queue's attributes, when known: 0 receives
    nothing, and reaching it ends the scan without another receive. A short poll that comes back
    empty before then is confirmed by one long poll of ``confirm_wait_s`` (a short poll samples
    only some SQS hosts).
    """
    seen: dict[str, ReceivedMessage] = {}
    handles: list[str] = []
    try:
        while len(seen) < limit and (expected is None or len(seen) < expected):
            wanted = min(10, limit - len(seen))
            batch = sqs.receive(
                url, max_messages=wanted, visibility_timeout=visibility_timeout, wait_seconds=0
            )
            if not batch and expected is not None and confirm_wait_s > 0:
                batch = sqs.receive(
                    url,
                    max_messages=wanted,
                    visibility_timeout=visibility_timeout,
                    wait_seconds=confirm_wait_s,
                )
            if not batch:
                break
            for message in batch:
                handles.append(message.receipt_handle)
                seen.setdefault(message.message_id, message)
    finally:
        failures = sqs.change_visibility_batch(url, handles, 0) if handles else []
    return Sample(
        list(seen.values()),
        capped=len(seen) >= limit and (expected is None or expected > len(seen)),
        release_failures=len(failures),
    )


def peek(gateway: SqsGateway, dlq: Dlq, count: int) -> list[PeekedMessage]:
    """Up to ``count`` messages of ``dlq``, all made visible again before returning."""
    count = max(1, min(count, MAX_PEEK))
    sample = sample_queue(gateway, dlq.info.url, limit=count, visibility_timeout=PEEK_VISIBILITY_S)
    return [describe_message(message, dlq) for message in sample.messages[:count]]


@dataclass(frozen=True)
class DlqSummary:
    name: str
    visible: int
    in_flight: int
    fifo: bool
    sources: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "visible": self.visible,
            "in_flight": self.in_flight,
            "fifo": self.fifo,
            "sources": list(self.sources),
        }


def summarize(dlqs: list[Dlq]) -> list[DlqSummary]:
    return [
        DlqSummary(d.name, d.info.visible, d.info.in_flight, d.info.fifo, d.source_names)
        for d in dlqs
    ]
