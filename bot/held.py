"""The messages a redrive run holds invisible until it ends, and when to extend them.

Bookkeeping only (no I/O, no lock): the run keeps the SQS calls (the heartbeat's
ChangeMessageVisibilityBatch, the release at the end) and calls this under its lock, so the
timing rule can be read on its own.
"""

from __future__ import annotations

import math


class HeldMessages:
    """The messages a run holds invisible until it ends: id -> (newest receipt handle, when its
    visibility timeout last started). Not thread-safe: the run calls it under its lock.

    SQS hides a received message for the visibility timeout only, and a scan can outlast it (a
    slow network, --rate, many messages outside the selection): held messages would come back
    and be received again, for ever. So the run's heartbeat (asked before every receive and
    during rate waits) extends them: once the oldest has been hidden for half the timeout,
    ``due`` gives every one hidden for more than a quarter, to be hidden for a whole timeout
    again. So a message has half a timeout of margin (one batch's work must not take longer),
    each is extended at most once per quarter timeout, in batches of 10, and a run shorter
    than half the timeout extends nothing.
    """

    def __init__(self, timeout: int) -> None:
        self._entries: dict[str, tuple[str, float]] = {}
        self._half = timeout / 2
        self._quarter = timeout / 4
        self.next_due = math.inf  # when the heartbeat is due; read without the lock

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, message_id: str) -> bool:
        return message_id in self._entries

    def hold(self, message_id: str, handle: str, hidden_at: float) -> None:
        """Hold a message (again, with a newer handle, when it was received once more)."""
        self._entries[message_id] = (handle, hidden_at)
        self.next_due = min(self.next_due, hidden_at + self._half)

    def due(self, now: float) -> list[str]:
        """The receipt handles of the messages to extend now, if the heartbeat is due; they
        count as extended at ``now`` from here on, so no other worker extends them too."""
        if now < self.next_due:
            return []
        threshold = now - self._quarter
        due = [(mid, handle) for mid, (handle, at) in self._entries.items() if at <= threshold]
        for message_id, handle in due:
            self._entries[message_id] = (handle, now)
        self.next_due = min((at for _, at in self._entries.values()), default=now) + self._half
        return [handle for _, handle in due]

    def handles(self) -> list[str]:
        return [handle for handle, _ in self._entries.values()]

    def clear(self) -> None:
        self._entries.clear()
        self.next_due = math.inf
