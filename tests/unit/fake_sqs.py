"""A hand-written in-memory SQS with the gateway's methods, for engine tests without a server.

It keeps the semantics the engine relies on: receive hides messages for the visibility timeout and
hands out a fresh receipt handle; delete and visibility changes need a current handle; sends can be
made to fail per entry (``fail_entry``) or as a whole call (``fail_call``).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.errors import QueueNotFoundError
from bot.sqs_gateway import QueueInfo, ReceivedMessage, SendFailure


@dataclass
class Stored:
    message_id: str
    body: str
    attributes: dict[str, str]
    message_attributes: dict[str, dict[str, Any]]
    invisible_until: float = 0.0
    handle: str = ""
    older_handles: list[str] = field(default_factory=list)  # still accepted, as SQS may


@dataclass
class FakeQueue:
    name: str
    fifo: bool = False
    messages: dict[str, Stored] = field(default_factory=dict)


class FakeSqs:
    def __init__(self) -> None:
        self.queues: dict[str, FakeQueue] = {}
        self.clock = 0.0  # tests move time by hand
        self.fail_entry: Callable[[str, dict[str, Any]], SendFailure | None] = lambda url, e: None
        self.fail_call: Callable[[str], bool] = lambda url: False
        self.calls: list[tuple[str, str]] = []
        # Ids a receive hands out a second time while in flight (SQS delivers at least once).
        self.redeliver: set[str] = set()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # --- set-up helpers ---
    def create(self, name: str) -> str:
        url = f"https://sqs.test/123/{name}"
        self.queues[url] = FakeQueue(name, fifo=name.endswith(".fifo"))
        return url

    def put(self, url: str, body: str, **message_attributes: dict[str, Any]) -> str:
        message_id = f"id-{next(self._ids)}"
        self.queues[url].messages[message_id] = Stored(
            message_id, body, {"SentTimestamp": "1700000000000"}, dict(message_attributes)
        )
        return message_id

    def bodies(self, url: str) -> list[str]:
        return sorted(m.body for m in self.queues[url].messages.values())

    def visible(self, url: str) -> int:
        return sum(m.invisible_until <= self.clock for m in self.queues[url].messages.values())

    def info(self, url: str) -> QueueInfo:
        queue = self.queues[url]
        arn = f"arn:aws:sqs:us-east-1:123:{queue.name}"
        visible = self.visible(url)
        return QueueInfo(
            queue.name, url, arn, queue.fifo, visible, len(queue.messages) - visible, 0, None
        )

    # --- the gateway's methods ---
    def queue_info(self, url: str) -> QueueInfo:
        if url not in self.queues:
            raise QueueNotFoundError(f"queue {url} does not exist")
        return self.info(url)

    def url_for_arn(self, arn: str) -> str:
        for url, queue in self.queues.items():
            if queue.name == arn.rsplit(":", 1)[-1]:
                return url
        raise QueueNotFoundError(f"queue {arn} no longer exists")

    def receive(
        self, url: str, *, max_messages: int, visibility_timeout: int, wait_seconds: int
    ) -> list[ReceivedMessage]:
        with self._lock:
            self.calls.append(("receive", url))
            out = []
            for stored in self.queues[url].messages.values():
                if len(out) == max_messages:
                    break
                if stored.invisible_until <= self.clock:
                    stored.invisible_until = self.clock + visibility_timeout
                    stored.handle = f"{stored.message_id}#{next(self._ids)}"
                    out.append(self._delivery(stored))
                    if stored.message_id in self.redeliver and len(out) < max_messages:
                        self.redeliver.discard(stored.message_id)
                        stored.older_handles.append(stored.handle)
                        stored.handle = f"{stored.message_id}#{next(self._ids)}"
                        out.append(self._delivery(stored))
            return out

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
            ok, failed = [], []
            for entry in entries:
                failure = self.fail_entry(url, entry)
                if failure is not None:
                    failed.append(
                        SendFailure(entry["Id"], failure.code, failure.reason, failure.sender_fault)
                    )
                    continue
                message_id = f"id-{next(self._ids)}"
                self.queues[url].messages[message_id] = Stored(
                    message_id,
                    entry["MessageBody"],
                    {"SentTimestamp": "1700000000000"},
                    dict(entry.get("MessageAttributes", {})),
                )
                ok.append(entry["Id"])
            return ok, failed

    def _by_handle(self, url: str, handle: str) -> Stored | None:
        for stored in self.queues[url].messages.values():
            if handle == stored.handle or handle in stored.older_handles:
                return stored
        return None

    def delete_batch(self, url: str, receipt_handles: Sequence[str]) -> list[SendFailure]:
        def delete(stored: Stored) -> None:
            del self.queues[url].messages[stored.message_id]

        return self._per_handle("delete", url, receipt_handles, delete)

    def change_visibility_batch(
        self, url: str, receipt_handles: Sequence[str], timeout: int
    ) -> list[SendFailure]:
        def hide(stored: Stored) -> None:
            stored.invisible_until = self.clock + timeout

        return self._per_handle("visibility", url, receipt_handles, hide)

    def _per_handle(
        self, call: str, url: str, receipt_handles: Sequence[str], act: Callable[[Stored], None]
    ) -> list[SendFailure]:
        """Apply ``act`` to each message a current handle names; the others fail, as in SQS."""
        with self._lock:
            self.calls.append((call, url))
            failures = []
            for index, handle in enumerate(receipt_handles):
                stored = self._by_handle(url, handle)
                if stored is None:
                    failures.append(SendFailure(str(index), "ReceiptHandleIsInvalid", "", True))
                else:
                    act(stored)
            return failures
