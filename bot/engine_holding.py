"""Where each message a run touched stands: claimed for sending, moved, or held invisible until
the end, when it is released.

Every message the scan touched and did not move (not selected, unreadable, poison, over the limit,
failed to send) is held invisible while the scan runs, so that it is not received twice (the
heartbeat extends its visibility timeout while the scan outlasts it), and made visible again
(ChangeMessageVisibility 0) when the scan ends, however it ends. A message whose copy is confirmed
is never released: a delete with an older handle may delete nothing, and a release would bring
it back to be sent twice.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from bot.engine_state import Claim, RunState
from bot.held import HeldMessages
from bot.planner import Outgoing
from bot.selection import PinTally
from bot.sqs_model import ReceivedMessage

MAX_FAILURE_DETAILS = 50
# A reason can quote what a message says of itself (a forged TARGET_ARN, say: anyone who may send
# to the DLQ writes it), so the report keeps at most this much of each.
MAX_REASON_CHARS = 1_000
TAKEN_MEMORY = 20_000  # selected message ids remembered against a second delivery


def group_of(message: ReceivedMessage | Outgoing) -> str:
    """A FIFO message's group (the planner's default for one that has none)."""
    group = (
        message.group if isinstance(message, Outgoing) else message.attributes.get("MessageGroupId")
    )
    return group or "dlq-redrive"


class Holding:
    """The claimed, moved and held messages of one run (under ``state.lock``) and the SQS calls
    that keep the held ones hidden and release them."""

    def __init__(self, state: RunState) -> None:
        self.state = state
        # Held invisible until the end, when they are released; kept hidden meanwhile by the
        # heartbeat, with the visibility timeout asked for (what a killed run leaves them hidden).
        self.visibility = state.request.visibility_timeout
        self.held = HeldMessages(self.visibility)
        self.heartbeat_lock = threading.Lock()  # one worker at a time extends them
        self.sending: dict[str, Claim] = {}  # selected messages being moved, by id
        # Ids whose copy is confirmed, so a later delivery is deleted, never sent or released;
        # the most recent TAKEN_MEMORY are enough, since it comes within the same few calls.
        self.moved_ids: OrderedDict[str, None] = OrderedDict()
        # FIFO groups with a message that did not move in this run: no later one of the group
        # may be sent, or the group's order would be broken.
        self.stalled_groups: set[str] = set()
        # FIFO groups of which the run holds a message: the scan may not see past it.
        self.blocked_groups: set[str] = set()
        # A dry run keeps which messages it matched, for the pin of the run its approval starts.
        self.pin_tally = PinTally() if state.request.dry_run else None

    def mark_matched(self, message: ReceivedMessage) -> None:
        """Count a claimed message matched (once). Call with the lock held."""
        self.state.report.matched += 1
        self.sending[message.message_id].matched = True
        if self.pin_tally is not None:
            self.pin_tally.add(message.message_id)

    def hide(
        self,
        message: ReceivedMessage | Outgoing,
        handle: str,
        hidden_at: float,
        *,
        blocks_group: bool = True,
    ) -> None:
        """Hold ``message`` invisible until the end. On FIFO its group is blocked: SQS hands
        out none of the group's later messages while one is in flight. Call with the lock held."""
        self.held.hold(message.message_id, handle, hidden_at)
        if self.state.dlq.info.fifo and blocks_group:
            self.blocked_groups.add(group_of(message))

    def hold(self, message: ReceivedMessage | Outgoing, *, blocks_group: bool = True) -> None:
        """Hold a claimed message that is not sent, to be released at the end with the newest
        handle it was received with. Call with the lock held."""
        claim = self.sending.pop(message.message_id, None)
        if claim is None:  # not claimed (never the case): hidden since no later than now
            claim = Claim([message.receipt_handle], self.state.clock())
        self.hide(message, claim.handles[-1], claim.received_at, blocks_group=blocks_group)

    def keep(self, message: ReceivedMessage | Outgoing) -> None:
        """Hold a selected message that stays in the DLQ (``hold``); on FIFO, its group
        stalls. Call with the lock held."""
        self.hold(message)
        if self.state.dlq.info.fifo:
            self.stalled_groups.add(group_of(message))

    def keep_unconfirmed(self, message: ReceivedMessage) -> None:
        """Keep a message an earlier part of this run sent without an answer
        (``RedriveRequest.not_again``): it may have been delivered, so the run never sends it a
        second time. Not matched again: that part counted it against the approval's limit.
        Call with the lock held."""
        self.state.report.unconfirmed += 1
        self.state.report.unconfirmed_ids.add(message.message_id)
        self.keep(message)

    def keep_unfinished(self, messages: list[ReceivedMessage], received_at: float) -> None:
        """After an interruption: hold every message of the batch except those whose copy was
        confirmed (released, a redelivered one could come back after its delete). A selected
        one is counted not attempted (matched first if the batch stopped before it was)."""
        report = self.state.report
        with self.state.lock:
            for message in messages:
                if message.message_id in self.moved_ids or message.message_id in self.held:
                    continue
                claim = self.sending.get(message.message_id)
                if claim is None:
                    self.hide(message, message.receipt_handle, received_at)
                elif claim.matched or not self.state.limit_reached():
                    if not claim.matched:
                        self.mark_matched(message)
                    report.not_attempted += 1
                    self.keep(message)
                else:
                    report.over_limit += 1
                    report.skipped += 1
                    self.hold(message, blocks_group=False)

    def fail(self, message: ReceivedMessage | Outgoing, code: str, reason: str, dest: str) -> None:
        """Count a message that stays in the DLQ (held, released at the end)."""
        report = self.state.report
        with self.state.lock:
            report.failed += 1
            report.failure_reasons[code] += 1
            self.keep(message)
            if len(report.failures) < MAX_FAILURE_DETAILS:
                report.failures.append(
                    {
                        "message_id": message.message_id,
                        "destination": dest,
                        "code": code,
                        "reason": reason
                        if len(reason) <= MAX_REASON_CHARS
                        else reason[: MAX_REASON_CHARS - 1] + "…",
                    }
                )

    def mark_moved(
        self, confirmed: Sequence[ReceivedMessage | Outgoing]
    ) -> tuple[list[str], list[int]]:
        """Take messages whose copy was confirmed (by SQS, or by the archive) off the claimed
        ones, for their delete: every handle each was received with, and the index of each
        one's most recent handle."""
        handles: list[str] = []
        newest: list[int] = []
        with self.state.lock:
            for item in confirmed:
                claim = self.sending.pop(item.message_id, None)
                handles.extend(claim.handles if claim else [item.receipt_handle])
                newest.append(len(handles) - 1)
                self.moved_ids[item.message_id] = None
            while len(self.moved_ids) > TAKEN_MEMORY:
                self.moved_ids.popitem(last=False)
        return handles, newest

    # --- kept hidden while the scan runs, released at the end --------------------------------

    def heartbeat(self) -> None:
        """Extend the visibility of the held messages before it runs out (``HeldMessages``);
        free (a clock read) until the oldest has been hidden for half the timeout."""
        if self.state.clock() < self.held.next_due or not self.heartbeat_lock.acquire(False):
            return
        try:
            with self.state.lock:
                due = self.held.due(self.state.clock())
            # One that fails (its timeout ran out already) comes back and is held again.
            self._change_visibility(due, self.visibility)
        finally:
            self.heartbeat_lock.release()

    def release_all(self) -> None:
        with self.state.lock:
            handles = self.held.handles()
            self.held.clear()
        self.state.report.released = self._change_visibility(handles, 0)

    def _change_visibility(self, handles: list[str], timeout: int) -> int:
        """ChangeMessageVisibilityBatch for ``handles``, 10 a call, on the workers' threads;
        how many SQS changed."""
        if not handles:
            return 0
        chunks = [handles[i : i + 10] for i in range(0, len(handles), 10)]
        sqs, url = self.state.sqs, self.state.dlq.info.url

        def change(chunk: list[str]) -> int:
            failed = sqs.change_visibility_batch(url, chunk, timeout)
            return len(chunk) - len(failed)

        with ThreadPoolExecutor(max_workers=max(1, self.state.request.workers)) as pool:
            changed = sum(pool.map(change, chunks))
        self.state.count_call("ChangeMessageVisibilityBatch", len(chunks))
        return changed
