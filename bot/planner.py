"""Turn received DLQ messages into SendMessageBatch entries: pure, no I/O.

What is preserved: the body byte for byte, every MessageAttribute, the ``AWSTraceHeader`` system
attribute, and for FIFO the MessageGroupId. What is added: the ``dlq-redrive-count`` attribute
(incremented), the ``dlq-redrive-lineage`` of a run that asks for one (a canary: its copies that
come back to the DLQ are recognised by it), and for FIFO a deduplication id derived from the
original message id and the redrive ordinal, so that re-sending the same batch (a retry, or a
second run after a crash within five minutes) is deduplicated by SQS while the original message's
own deduplication id never swallows it. An edit sends the message with another body.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from bot.selection import LINEAGE_ATTRIBUTE, REDRIVE_COUNT_ATTRIBUTE, redrive_count
from bot.sqs_model import ReceivedMessage

MAX_BATCH_ENTRIES = 10
MAX_ATTRIBUTES = 10
# A message's size as SQS counts it (body, and each attribute's name, type and value) must fit the
# destination's MaximumMessageSize: up to 1 MiB since 2025, but queues keep their own, and 256 KiB
# (the old maximum and default) is what to assume when it is not known. A message that fits
# without the counter but not with it travels without it: otherwise SQS would refuse it and it
# could never leave the DLQ.
MAX_MESSAGE_BYTES = 256 * 1024
# SendMessageBatch's total payload limit: "The maximum allowed individual message size and the
# maximum total payload size (the sum of the individual lengths of all of the batched messages)
# are both 1 MiB" (API reference, 2025). The engine batches within the destination's own
# MaximumMessageSize, so a queue still at 256 KiB also gets batches of at most 256 KiB.
MAX_BATCH_BYTES = 1024 * 1024

_VALUE_KEYS = ("StringValue", "BinaryValue", "StringListValues", "BinaryListValues")


@dataclass(frozen=True)
class Outgoing:
    """One message ready to send, with what is needed to delete or release the original."""

    message_id: str
    receipt_handle: str
    entry: dict[str, Any]  # SendMessageBatchRequestEntry without its "Id"
    size: int
    counter_dropped: bool  # sent without dlq-redrive-count: no attribute or no size to spare
    group: str | None = None  # FIFO: the MessageGroupId, whose order must be kept
    lineage_dropped: bool = False  # a lineage was asked, but no attribute or size was left


def _attribute_size(name: str, attribute: dict[str, Any]) -> int:
    size = len(name.encode()) + len(str(attribute.get("DataType", "")).encode())
    for key in _VALUE_KEYS:
        value = attribute.get(key)
        if isinstance(value, str):
            size += len(value.encode())
        elif isinstance(value, bytes | bytearray):
            size += len(value)
    return size


def _copy_attribute(attribute: dict[str, Any]) -> dict[str, Any]:
    # SQS returns empty list fields for scalar attributes; sending them back is refused.
    return {k: v for k, v in attribute.items() if k == "DataType" or (k in _VALUE_KEYS and v)}


def dedup_id(message_id: str, ordinal: int, edited_body: str | None = None) -> str:
    """FIFO deduplication id for the ``ordinal``-th redrive of the message ``message_id``; an
    edited copy's also names its body, so that an unedited copy sent within five minutes (or
    another edit) never makes SQS drop it as a duplicate while answering it was stored."""
    key = f"dlq-redrive:{message_id}:{ordinal}"
    if edited_body is not None:
        body = hashlib.sha256(edited_body.encode("utf-8", "surrogatepass")).hexdigest()
        key += f":edited:{body}"
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def build_outgoing(
    message: ReceivedMessage,
    *,
    fifo: bool,
    max_message_bytes: int = MAX_MESSAGE_BYTES,
    body: str | None = None,
    lineage: str | None = None,
    count: bool = True,
) -> Outgoing:
    """The SendMessageBatch entry that puts ``message`` back into a queue that takes messages of
    up to ``max_message_bytes`` (its MaximumMessageSize); with ``body`` instead of its own (an
    edit), and carrying ``lineage`` when there is room for it after the counter.

    A message over that size with the counter is still built (``size`` says by how much): the
    caller keeps it in the DLQ rather than send what SQS would refuse.

    ``count=False`` (an import): the attributes go exactly as they were, ``dlq-redrive-count``
    and any lineage included, and nothing is added; the FIFO deduplication id is ordinal 0's
    (never a redrive's), so an import run again within five minutes is deduplicated.
    """
    text = message.body if body is None else body
    # Ours, not the message's: an earlier run's lineage never travels on (this run's may).
    ours = (REDRIVE_COUNT_ATTRIBUTE, LINEAGE_ATTRIBUTE) if count else ()
    attributes = {
        name: _copy_attribute(value)
        for name, value in message.message_attributes.items()
        if name not in ours
    }
    ordinal = redrive_count(message) + 1 if count else 0
    counter = {"DataType": "Number", "StringValue": str(ordinal)}
    size = len(text.encode("utf-8", "surrogatepass")) + sum(
        _attribute_size(name, value) for name, value in attributes.items()
    )
    with_counter = size + _attribute_size(REDRIVE_COUNT_ATTRIBUTE, counter)
    counter_dropped = len(attributes) >= MAX_ATTRIBUTES or size <= max_message_bytes < with_counter
    if not count:
        counter_dropped = False
    elif not counter_dropped:
        attributes[REDRIVE_COUNT_ATTRIBUTE] = counter
        size = with_counter
    lineage_dropped = False
    if lineage is not None:
        # After the counter, which guards against redrive loops: the lineage only helps a
        # canary recognise its copies, so it gets the room the counter left.
        tag = {"DataType": "String", "StringValue": lineage}
        with_lineage = size + _attribute_size(LINEAGE_ATTRIBUTE, tag)
        lineage_dropped = len(attributes) >= MAX_ATTRIBUTES or size <= max_message_bytes < (
            with_lineage
        )
        if not lineage_dropped:
            attributes[LINEAGE_ATTRIBUTE] = tag
            size = with_lineage
    entry: dict[str, Any] = {"MessageBody": text}
    if attributes:
        entry["MessageAttributes"] = attributes
    trace = message.attributes.get("AWSTraceHeader")
    if trace:
        entry["MessageSystemAttributes"] = {
            "AWSTraceHeader": {"DataType": "String", "StringValue": trace}
        }
    group = None
    if fifo:
        group = message.attributes.get("MessageGroupId") or "dlq-redrive"
        entry["MessageGroupId"] = group
        entry["MessageDeduplicationId"] = dedup_id(message.message_id, ordinal, body)
    return Outgoing(
        message.message_id,
        message.receipt_handle,
        entry,
        size,
        counter_dropped,
        group,
        lineage_dropped,
    )


def batches(
    items: Iterable[Outgoing],
    *,
    max_entries: int = MAX_BATCH_ENTRIES,
    max_bytes: int = MAX_BATCH_BYTES,
) -> Iterator[list[Outgoing]]:
    """Group messages into batches within both the entry and the payload limit, keeping order.

    A single message bigger than ``max_bytes`` travels alone (SQS judges it on its own limit).
    """
    batch: list[Outgoing] = []
    size = 0
    for item in items:
        if batch and (len(batch) >= max_entries or size + item.size > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += item.size
    if batch:
        yield batch


def group_waves(items: Iterable[Outgoing]) -> list[list[Outgoing]]:
    """FIFO messages in waves that each hold at most one message per group: the first message
    of every group, then the second of every group, and so on, each group in its order.

    SQS fails a batch's entries one by one, so a group's later message sent in the same call as
    an earlier one could be stored while the earlier one is not: its group's order would be
    broken for good. Sent wave after wave, an entry that is not confirmed is known (and retried,
    or its group stopped) before the next message of its group leaves.
    """
    waves: list[list[Outgoing]] = []
    seen: dict[str | None, int] = {}
    for item in items:
        position = seen.get(item.group, 0)
        seen[item.group] = position + 1
        if position == len(waves):
            waves.append([])
        waves[position].append(item)
    return waves


def batch_entries(batch: list[Outgoing]) -> list[dict[str, Any]]:
    """The request entries of a batch, with ids that index into it."""
    return [{"Id": str(index), **item.entry} for index, item in enumerate(batch)]
