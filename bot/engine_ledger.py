"""The redrives of messages that cannot carry the ``dlq-redrive-count`` attribute (10 attributes
already, or no room left in the message size), counted by content instead.

Apart from the engine's loop so that both of its parts that need it (judging a message poison,
recording what was sent) take it from here, and ``bot.engine`` re-exports it for older imports.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Protocol

from bot.planner import Outgoing


class RedriveLedger(Protocol):
    """How often messages that cannot carry the ``dlq-redrive-count`` attribute (10 attributes
    already, or no room left in the message size) were redriven, by ``content_digest``.

    Without one, such a message escapes MAX_REDRIVES; the daily job keeps one in its state table.
    """

    def counts(self, dlq: str, digests: Collection[str]) -> dict[str, int]:
        """The recorded redrives of each digest (absent: none)."""
        ...

    def record(self, dlq: str, digests: Sequence[str]) -> None:
        """Add one redrive for each digest (a digest listed twice counts twice)."""
        ...


def content_digest(entry: Mapping[str, Any]) -> str:
    """A message's identity across redrives (SQS gives every copy a new id): the sha256 of the
    body and message attributes of its SendMessageBatch ``entry``. Identical messages share it."""

    def value(raw: Any) -> Any:
        if isinstance(raw, bytes | bytearray):
            return base64.b64encode(raw).decode("ascii")
        if isinstance(raw, list):
            return [value(item) for item in raw]
        return raw

    attributes = {
        name: {key: value(raw) for key, raw in attribute.items()}
        for name, attribute in entry.get("MessageAttributes", {}).items()
    }
    canonical = json.dumps(
        {"body": entry["MessageBody"], "attributes": attributes},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


class InRunLedger:
    """``RedriveLedger`` of one run, in memory: what a run with no ledger (the CLI without
    ``STATE_TABLE``) sent without the counter. A copy that comes back within the run (a function
    that fails again at once: Lambda dead-letters the event anew, without the counter) is then
    judged by it, instead of being sent again each time until the DLQ looks empty (27 invokes of
    one event in one CLI run). Across runs only a durable ledger counts."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def counts(self, dlq: str, digests: Collection[str]) -> dict[str, int]:
        with self._lock:
            return {d: self._counts[d] for d in digests if self._counts[d]}

    def record(self, dlq: str, digests: Sequence[str]) -> None:
        with self._lock:
            self._counts.update(digests)


class RunLedger:
    """One run's use of the ledger (the given one, else ``InRunLedger``): asked about what
    travels without the counter, told what was sent without it."""

    def __init__(self, ledger: RedriveLedger | None, dlq: str, *, force: bool) -> None:
        self._ledger: RedriveLedger = ledger if ledger is not None else InRunLedger()
        self._dlq = dlq
        self._force = force  # --force judges no message poison: nothing to ask
        # What this run is sending without the counter and has not recorded yet. A function
        # that fails at once has its event dead-lettered anew before the send that caused it is
        # recorded (that waits for the delete): without these, its copy was judged by the count
        # from before, and invoked once more than MAX_REDRIVES allows (1 run in 3).
        self._sending: Counter[str] = Counter()
        self._lock = threading.Lock()

    def recorded(self, items: Iterable[Outgoing]) -> dict[str, int]:
        """The ledger's redrive count of each item that travels without the counter, by
        message id: one question for the whole batch, none if every message carries it."""
        if self._force:
            return {}
        digests = {
            item.message_id: content_digest(item.entry) for item in items if item.counter_dropped
        }
        if not digests:
            return {}
        counts = self._ledger.counts(self._dlq, set(digests.values()))
        with self._lock:
            return {
                message_id: counts.get(digest, 0) + self._sending[digest]
                for message_id, digest in digests.items()
            }

    def sending(self, items: Iterable[Outgoing]) -> None:
        """Count ``items`` that travel without the counter as sent from now until ``record``
        (a copy may come back before that); one whose send fails stays counted for the rest
        of the run, on the side of holding a message rather than sending it once too often."""
        digests = [content_digest(item.entry) for item in items if item.counter_dropped]
        if digests:
            with self._lock:
                self._sending.update(digests)

    def record(self, sent: list[Outgoing]) -> None:
        """Count a redrive in the ledger for each message that travelled without the counter:
        confirmed (deleted or not) or unconfirmed, since what may have arrived counts too."""
        digests = [content_digest(item.entry) for item in sent if item.counter_dropped]
        if digests:
            self._ledger.record(self._dlq, digests)
            with self._lock:
                self._sending.subtract(digests)
                self._sending += Counter()  # drops what reached 0 (never below: recorded once)
