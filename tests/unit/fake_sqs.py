"""A hand-written in-memory SQS with the gateway's methods, for engine tests without a server.

It follows AWS's documented semantics, the unpleasant ones included (quoted where they matter):

- receive hides a message for the visibility timeout and hands out a fresh receipt handle each
  time, also when it delivers the same message again (``redeliver``: SQS delivers at least once);
- DeleteMessage with a handle that is not the most recent one succeeds and deletes nothing;
- entries of a batch fail one by one (``fail_entry``), a call can fail as a whole (``fail_call``),
  and a call's answer can be lost after SQS acted (``lose_answer``);
- a queue refuses a message bigger than its ``MaximumMessageSize``, a batch over 1 MiB in total;
- FIFO queues keep order per message group, hold a group back while one of its messages is in
  flight, and drop a repeated deduplication id within 5 minutes.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.errors import QueueNotFoundError, SendAnswerLostError
from bot.sqs_model import QueueInfo, ReceivedMessage, SendFailure

# "The maximum allowed individual message size and the maximum total payload size (the sum of the
# individual lengths of all of the batched messages) are both 1 MiB" (SendMessageBatch reference);
# a queue's own MaximumMessageSize may be lower (256 KiB, the maximum and default until 2025).
MAX_BATCH_BYTES = 1_048_576
DEFAULT_MAX_MESSAGE_BYTES = 262_144
DEDUPLICATION_INTERVAL_S = 300.0
_VALUE_KEYS = ("StringValue", "BinaryValue", "StringListValues", "BinaryListValues")


@dataclass
class Stored:
    message_id: str
    body: str
    attributes: dict[str, str]
    message_attributes: dict[str, dict[str, Any]]
    invisible_until: float = 0.0
    handle: str = ""
    older_handles: list[str] = field(default_factory=list)

    @property
    def group(self) -> str | None:
        return self.attributes.get("MessageGroupId")


@dataclass
class FakeQueue:
    name: str
    fifo: bool = False
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    dead_letter_target_arn: str | None = None  # its RedrivePolicy's DLQ
    messages: dict[str, Stored] = field(default_factory=dict)  # in order of arrival
    issued_handles: set[str] = field(default_factory=set)
    dedup_ids: dict[str, float] = field(default_factory=dict)  # id -> when first accepted


def message_size(entry: dict[str, Any]) -> int:
    """A message's size as SQS counts it: the body and each attribute's name, type and value."""
    size = len(entry["MessageBody"].encode())
    for name, attribute in entry.get("MessageAttributes", {}).items():
        size += len(name.encode()) + len(attribute.get("DataType", "").encode())
        for key in _VALUE_KEYS:
            value = attribute.get(key)
            if isinstance(value, str):
                size += len(value.encode())
            elif isinstance(value, bytes):
                size += len(value)
    return size


def arn_of(name: str) -> str:
    return f"arn:aws:sqs:us-east-1:123:{name}"


class FakeSqs:
    """``QueueDirectory`` (the engine's ``SqsApi`` and the catalog's look-ups) in memory."""

    def __init__(self) -> None:
        self.queues: dict[str, FakeQueue] = {}
        self.clock = 0.0  # tests move time by hand
        self.fail_entry: Callable[[str, dict[str, Any]], SendFailure | None] = lambda url, e: None
        self.fail_call: Callable[[str], bool] = lambda url: False
        # A call whose answer is lost after SQS acted on it (a connection reset, a read timeout).
        self.lose_answer: Callable[[str, Sequence[dict[str, Any]]], bool] = lambda url, e: False
        self.calls: list[tuple[str, str]] = []
        self.visibility_changes: list[tuple[str, int]] = []  # (receipt handle, timeout)
        # Ids a receive hands out a second time while in flight (SQS delivers at least once).
        self.redeliver: set[str] = set()
        self._ids = itertools.count(1)
        # Every read and write of the queues holds it: the engine's workers call in from several
        # threads (and a test may read counts meanwhile); iterating a dict another thread changes
        # raises "dictionary changed size during iteration". Re-entrant: ``info`` counts with
        # ``visible``, ``queue_info`` answers with ``info``.
        self._lock = threading.RLock()

    # --- set-up helpers ---
    def create(
        self,
        name: str,
        *,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        dead_letter_to: str | None = None,
    ) -> str:
        """A new queue; ``dead_letter_to``: the URL of its DLQ (a RedrivePolicy)."""
        url = f"https://sqs.test/123/{name}"
        with self._lock:
            target = None if dead_letter_to is None else arn_of(self.queues[dead_letter_to].name)
            self.queues[url] = FakeQueue(
                name,
                fifo=name.endswith(".fifo"),
                max_message_bytes=max_message_bytes,
                dead_letter_target_arn=target,
            )
        return url

    def put(
        self, url: str, body: str, *, group: str | None = None, **message_attributes: Any
    ) -> str:
        attributes = {"SentTimestamp": "1700000000000"}
        if group is not None:
            attributes["MessageGroupId"] = group
        with self._lock:
            message_id = f"id-{next(self._ids)}"
            self.queues[url].messages[message_id] = Stored(
                message_id, body, attributes, dict(message_attributes)
            )
        return message_id

    def bodies(self, url: str) -> list[str]:
        return sorted(self.arrivals(url))

    def arrivals(self, url: str) -> list[str]:
        """The bodies in a queue in the order they arrived (a FIFO queue's delivery order)."""
        with self._lock:
            return [m.body for m in self.queues[url].messages.values()]

    def visible(self, url: str) -> int:
        with self._lock:
            messages = self.queues[url].messages.values()
            return sum(m.invisible_until <= self.clock for m in messages)

    def info(self, url: str) -> QueueInfo:
        with self._lock:
            queue = self.queues[url]
            visible = self.visible(url)
            in_flight = len(queue.messages) - visible
        return QueueInfo(
            queue.name,
            url,
            arn_of(queue.name),
            queue.fifo,
            visible,
            in_flight,
            0,
            queue.dead_letter_target_arn,
            max_message_bytes=queue.max_message_bytes,
        )

    # --- the gateway's methods ---
    def queue_info(self, url: str) -> QueueInfo:
        with self._lock:
            self.calls.append(("queue_info", url))
            if url not in self.queues:
                raise QueueNotFoundError(f"queue {url} does not exist")
            return self.info(url)

    def queue_url(self, name_or_url: str) -> str:
        with self._lock:
            self.calls.append(("queue_url", name_or_url))
            for url, queue in self.queues.items():
                if name_or_url in (url, queue.name):
                    return url
        raise QueueNotFoundError(f"no queue named {name_or_url!r}")

    def list_queue_urls(self) -> list[str]:
        with self._lock:
            return list(self.queues)

    def dead_letter_sources(self, url: str) -> list[str]:
        with self._lock:
            if url not in self.queues:
                raise QueueNotFoundError(f"queue {url} does not exist")
            arn = arn_of(self.queues[url].name)
            return [u for u, q in self.queues.items() if q.dead_letter_target_arn == arn]

    def url_for_arn(self, arn: str) -> str:
        with self._lock:
            for url, queue in self.queues.items():
                if queue.name == arn.rsplit(":", 1)[-1]:
                    return url
        raise QueueNotFoundError(f"queue {arn} no longer exists")

    def receive(
        self, url: str, *, max_messages: int, visibility_timeout: int, wait_seconds: int
    ) -> list[ReceivedMessage]:
        with self._lock:
            self.calls.append(("receive", url))
            queue = self.queues[url]
            # FIFO: "you can't receive additional messages from the same message group ID in
            # subsequent requests unless the currently received messages are deleted or become
            # visible" (SQS Developer Guide, FIFO queue delivery logic).
            busy = {
                m.group
                for m in queue.messages.values()
                if queue.fifo and m.invisible_until > self.clock
            }
            out: list[ReceivedMessage] = []
            for stored in queue.messages.values():
                if len(out) == max_messages:
                    break
                if stored.invisible_until > self.clock or (queue.fifo and stored.group in busy):
                    continue
                stored.invisible_until = self.clock + visibility_timeout
                self._hand_out(queue, stored)
                out.append(self._delivery(stored))
                if stored.message_id in self.redeliver and len(out) < max_messages:
                    self.redeliver.discard(stored.message_id)
                    self._hand_out(queue, stored)  # the same message again, with a new handle
                    out.append(self._delivery(stored))
            return out

    def _hand_out(self, queue: FakeQueue, stored: Stored) -> None:
        if stored.handle:
            stored.older_handles.append(stored.handle)
        stored.handle = f"{stored.message_id}#{next(self._ids)}"
        queue.issued_handles.add(stored.handle)

    @staticmethod
    def _delivery(stored: Stored) -> ReceivedMessage:
        return ReceivedMessage(
            stored.message_id,
            stored.handle,
            stored.body,
            dict(stored.attributes),
            {k: dict(v) for k, v in stored.message_attributes.items()},
        )

    def send_batch(
        self, url: str, entries: Sequence[dict[str, Any]]
    ) -> tuple[list[str], list[SendFailure]]:
        with self._lock:
            self.calls.append(("send", url))
            if self.fail_call(url) or url not in self.queues:
                return [], [
                    SendFailure(e["Id"], "ServiceUnavailable", "down", False) for e in entries
                ]
            queue = self.queues[url]
            if sum(message_size(e) for e in entries) > MAX_BATCH_BYTES:
                text = f"Batch requests cannot be longer than {MAX_BATCH_BYTES} bytes."
                return [], [
                    SendFailure(e["Id"], "BatchRequestTooLong", text, True) for e in entries
                ]
            ok, failed = [], []
            for entry in entries:
                failure = self.fail_entry(url, entry) or self._refusal(queue, entry)
                if failure is not None:
                    failed.append(
                        SendFailure(entry["Id"], failure.code, failure.reason, failure.sender_fault)
                    )
                    continue
                self._store(queue, entry)
                ok.append(entry["Id"])
            if self.lose_answer(url, entries):
                raise SendAnswerLostError("Connection was closed before we received a response")
            return ok, failed

    @staticmethod
    def _refusal(queue: FakeQueue, entry: dict[str, Any]) -> SendFailure | None:
        if message_size(entry) > queue.max_message_bytes:
            reason = (
                "One or more parameters are invalid. Reason: Message must be shorter than "
                f"{queue.max_message_bytes} bytes."
            )
            return SendFailure(entry["Id"], "InvalidParameterValue", reason, True)
        if queue.fifo and not entry.get("MessageGroupId"):
            reason = "The request must contain the parameter MessageGroupId."
            return SendFailure(entry["Id"], "MissingParameter", reason, True)
        return None

    def _store(self, queue: FakeQueue, entry: dict[str, Any]) -> None:
        attributes = {"SentTimestamp": "1700000000000"}
        if queue.fifo:
            # "If a message with a particular message deduplication ID is sent successfully, any
            # messages sent with the same message deduplication ID are accepted successfully but
            # aren't delivered during the 5-minute deduplication interval."
            dedup = entry.get("MessageDeduplicationId", "")
            first = queue.dedup_ids.get(dedup)
            if first is not None and self.clock - first < DEDUPLICATION_INTERVAL_S:
                return
            queue.dedup_ids[dedup] = self.clock
            attributes["MessageGroupId"] = entry["MessageGroupId"]
        message_id = f"id-{next(self._ids)}"
        queue.messages[message_id] = Stored(
            message_id,
            entry["MessageBody"],
            attributes,
            dict(entry.get("MessageAttributes", {})),
        )

    def delete_batch(self, url: str, receipt_handles: Sequence[str]) -> list[SendFailure]:
        with self._lock:
            self.calls.append(("delete", url))
            queue = self.queues[url]
            failures = []
            for index, handle in enumerate(receipt_handles):
                stored = next((m for m in queue.messages.values() if m.handle == handle), None)
                if stored is not None:
                    del queue.messages[stored.message_id]
                elif handle not in queue.issued_handles:
                    failures.append(SendFailure(str(index), "ReceiptHandleIsInvalid", "", True))
                # Otherwise an older handle, or one of a message already deleted: "if you don't
                # provide the most recently received receipt handle for the message, the request
                # will still succeed, but the message might not be deleted" (DeleteMessage
                # reference). Here it is never deleted: the unpleasant case.
            return failures

    def change_visibility_batch(
        self, url: str, receipt_handles: Sequence[str], timeout: int
    ) -> list[SendFailure]:
        with self._lock:
            self.calls.append(("visibility", url))
            queue = self.queues[url]
            failures = []
            for index, handle in enumerate(receipt_handles):
                self.visibility_changes.append((handle, timeout))
                # The reference says nothing of older handles here; the fake takes the unpleasant
                # reading for a mover: any handle the message was ever received with still works.
                stored = next(
                    (
                        m
                        for m in queue.messages.values()
                        if handle == m.handle or handle in m.older_handles
                    ),
                    None,
                )
                if stored is None:
                    failures.append(SendFailure(str(index), "ReceiptHandleIsInvalid", "", True))
                else:
                    stored.invisible_until = self.clock + timeout
            return failures
