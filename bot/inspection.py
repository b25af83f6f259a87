"""Look into DLQs without changing them: ``list`` and ``peek``.

SQS has no true peek: receiving a message makes it invisible and increments its
ApproximateReceiveCount. ``peek`` receives with a short visibility timeout and immediately sets the
visibility of everything it received back to 0, so the messages are available again at once; the
receive count still goes up by one (harmless in a DLQ, which has no maxReceiveCount of its own).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.catalog import Dlq
from bot.selection import redrive_count
from bot.sqs_model import ReceivedMessage, SqsApi

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
    redrive_count: int = 0  # times dlq-redrive already sent it back (its dlq-redrive-count)
    poison: bool = False  # redriven MAX_REDRIVES times already: a redrive leaves it for a human

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
            "redrive_count": self.redrive_count,
            "poison": self.poison,
        }


def _attribute_text(attribute: dict[str, Any]) -> str:
    if "StringValue" in attribute:
        return str(attribute["StringValue"])
    binary = attribute.get("BinaryValue")
    if isinstance(binary, bytes | bytearray):
        return f"<{len(binary)} bytes>"
    return f"<{attribute.get('DataType', '?')}>"


def describe_message(message: ReceivedMessage, dlq: Dlq, *, max_redrives: int) -> PeekedMessage:
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
        redrive_count=redrive_count(message),
        # The attribute's count, as a redrive judges it (a message that cannot carry the
        # attribute is counted in the state table, which a peek does not read).
        poison=redrive_count(message) >= max_redrives,
    )


@dataclass(frozen=True)
class Sample:
    """What a scan received, everything of it already made visible again."""

    received: int  # distinct messages handed to the consumer
    capped: bool  # the queue had more than the limit
    release_failures: int  # could not be made visible again (they come back after the timeout)


def sample_queue(
    sqs: SqsApi,
    url: str,
    *,
    limit: int,
    visibility_timeout: int,
    on_message: Callable[[ReceivedMessage], None],
    expected: int | None = None,
    confirm_wait_s: int = 0,
) -> Sample:
    """Hand up to ``limit`` distinct messages of the queue at ``url`` to ``on_message``, one at
    a time as they arrive, and release every one however the scan ends; nothing is deleted.

    Only ids and receipt handles are kept, never a message: a consumer that keeps what it needs
    (a count, a preview) holds one receive batch of bodies at a time, whatever their size.
    ``expected`` is the visible count from the queue's attributes, when known: 0 receives
    nothing, and reaching it ends the scan without another receive. A short poll that comes back
    empty before then is confirmed by one long poll of ``confirm_wait_s`` (a short poll samples
    only some SQS hosts).
    """
    seen: set[str] = set()
    handles: list[str] = []

    def receive(wanted: int, wait_seconds: int) -> int:
        # A function of its own, so that no batch outlives its handing over (not even in a
        # loop variable during the next receive).
        batch = sqs.receive(
            url,
            max_messages=wanted,
            visibility_timeout=visibility_timeout,
            wait_seconds=wait_seconds,
        )
        for message in batch:
            handles.append(message.receipt_handle)
            if message.message_id not in seen:
                seen.add(message.message_id)
                on_message(message)
        return len(batch)

    try:
        while len(seen) < limit and (expected is None or len(seen) < expected):
            wanted = min(10, limit - len(seen))
            got = receive(wanted, 0)
            if not got and expected is not None and confirm_wait_s > 0:
                got = receive(wanted, confirm_wait_s)
            if not got:
                break
    finally:
        failures = sqs.change_visibility_batch(url, handles, 0) if handles else []
    return Sample(
        received=len(seen),
        capped=len(seen) >= limit and (expected is None or expected > len(seen)),
        release_failures=len(failures),
    )


def peek(gateway: SqsApi, dlq: Dlq, count: int, *, max_redrives: int) -> list[PeekedMessage]:
    """Up to ``count`` messages of ``dlq``, all made visible again before returning; those
    redriven ``max_redrives`` times already are marked poison."""
    count = max(1, min(count, MAX_PEEK))
    messages: list[ReceivedMessage] = []
    sample_queue(
        gateway,
        dlq.info.url,
        limit=count,
        visibility_timeout=PEEK_VISIBILITY_S,
        on_message=messages.append,
    )
    return [
        describe_message(message, dlq, max_redrives=max_redrives) for message in messages[:count]
    ]


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
