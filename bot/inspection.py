"""Look into DLQs without changing them: ``list`` and ``peek``.

SQS has no true peek: receiving a message makes it invisible and increments its
ApproximateReceiveCount. ``peek`` receives with a short visibility timeout and immediately sets the
visibility of everything it received back to 0, so the messages are available again at once; the
receive count still goes up by one (harmless in a DLQ, which has no maxReceiveCount of its own).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from bot.catalog import Dlq
from bot.engine_routing import destination_label
from bot.expiry import ExpiryCounter, NextExpiry, next_expiry
from bot.feeder_routing import NoDelivery, route
from bot.feeders import Feeder
from bot.kind_words import destination_words
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
    # A message an SNS subscription, an EventBridge target or a function dead-lettered names no
    # source queue: where a redrive sends it instead (``kind_words.destination_words``), or why
    # it stays (plain text; every surface escapes both). None for an SQS source's message.
    goes_to: str | None = None
    stays: str | None = None

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
            "goes_to": self.goes_to,
            "stays": self.stays,
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
    goes_to, stays = _route_words(message, dlq)
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
        goes_to=goes_to,
        stays=stays,
    )


def _route_words(message: ReceivedMessage, dlq: Dlq) -> tuple[str | None, str | None]:
    """Where a redrive (without --force or --to) sends ``message``, by the engine's own routing,
    or why it stays in the DLQ; (None, None) for an SQS source's message (its source queue)."""
    routed = route(message, dlq.feeders, has_sqs_sources=bool(dlq.sources))
    if routed is None:
        return None, None
    if isinstance(routed, NoDelivery):
        why = "needs a human" if routed.needs_human else routed.code
        return None, f"{why}: {routed.reason}"
    return destination_words(destination_label(routed), dlq.feeders), None


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
    found: Callable[[], bool] = lambda: False,
) -> Sample:
    """Hand up to ``limit`` distinct messages of the queue at ``url`` to ``on_message``, one at
    a time as they arrive, and release every one however the scan ends; nothing is deleted.

    Only ids and receipt handles are kept, never a message: a consumer that keeps what it needs
    (a count, a preview) holds one receive batch of bodies at a time, whatever their size.
    ``expected`` is the visible count from the queue's attributes, when known: 0 receives
    nothing, and reaching it ends the scan without another receive. A short poll that comes back
    empty before then is confirmed by one long poll of ``confirm_wait_s`` (a short poll samples
    only some SQS hosts). ``found`` ends the scan early once it answers True (checked after
    each receive).
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
        while len(seen) < limit and (expected is None or len(seen) < expected) and not found():
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


# How many messages ``find_message`` looks at, at most: each stays in flight until the scan ends,
# and SQS's in-flight quota is 120,000 per queue (a consumer's own messages count too).
MAX_FIND_SCAN = 100_000


@dataclass(frozen=True)
class Found:
    """What ``find_message`` found: the message (None: not among those scanned), and how many
    messages it looked at."""

    message: ReceivedMessage | None
    scanned: int


def find_message(gateway: SqsApi, dlq: Dlq, message_id: str) -> Found:
    """The message ``message_id`` of ``dlq``, read without consuming it: received with the
    others until it comes, then everything received is made visible again (SQS counts one more
    receive on each, as for ``peek``). In a FIFO DLQ a message behind a held one of its group is
    not handed out, so only the first message of each group can be found."""
    wanted: list[ReceivedMessage] = []

    def keep(message: ReceivedMessage) -> None:
        if message.message_id == message_id and not wanted:
            wanted.append(message)

    # SQS's counts are approximate, and a message in flight now may be visible again soon.
    expected = max(1, dlq.info.visible + dlq.info.in_flight)
    sample = sample_queue(
        gateway,
        dlq.info.url,
        limit=MAX_FIND_SCAN,
        visibility_timeout=PEEK_VISIBILITY_S,
        on_message=keep,
        expected=expected,
        confirm_wait_s=1,
        found=lambda: bool(wanted),
    )
    return Found(message=wanted[0] if wanted else None, scanned=sample.received)


# How many messages ``list`` reads per DLQ to find the next expiry: beyond it, the figure is a
# bound ("at the latest"), saying how many it was found among.
EXPIRY_SCAN = 1000


def scan_next_expiry(gateway: SqsApi, dlq: Dlq, *, limit: int = EXPIRY_SCAN) -> NextExpiry | None:
    """When the next message of ``dlq`` expires (its oldest SentTimestamp plus the DLQ's
    retention), from up to ``limit`` of its messages, each made visible again at once (a
    receive, as for ``peek``). Exact only when the scan saw every message the DLQ held (visible,
    in flight and delayed); otherwise at the latest. None: it saw no dated message."""
    counter = ExpiryCounter(dlq.info.retention_s)
    sample = sample_queue(
        gateway,
        dlq.info.url,
        limit=limit,
        visibility_timeout=PEEK_VISIBILITY_S,
        on_message=counter.add,
        expected=dlq.info.visible,
        confirm_wait_s=1,
    )
    held = dlq.info.visible + dlq.info.in_flight + dlq.info.delayed
    return next_expiry(counter.scan(capped=sample.capped, population=max(held, counter.scanned)))


@dataclass(frozen=True)
class DlqSummary:
    name: str
    visible: int
    in_flight: int
    fifo: bool
    sources: tuple[str, ...]  # the SQS source queues' names
    kind: str = "sqs"  # Dlq.kind_label(): sqs, sns, events, lambda, or sqs+sns when mixed
    # One plain line per source, SQS queues then feeders (Dlq.describe_sources); every surface
    # escapes them (the names are whatever their owners chose).
    described: tuple[str, ...] = ()
    feeders: tuple[Feeder, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "visible": self.visible,
            "in_flight": self.in_flight,
            "fifo": self.fifo,
            "sources": list(self.sources),
            "feeders": [{**asdict(f), "description": f.listed()} for f in self.feeders],
        }


def summarize(dlqs: list[Dlq]) -> list[DlqSummary]:
    return [
        DlqSummary(
            d.name,
            d.info.visible,
            d.info.in_flight,
            d.info.fifo,
            d.source_names,
            kind=d.kind_label(),
            described=tuple(d.describe_sources()),
            feeders=d.feeders,
        )
        for d in dlqs
    ]
