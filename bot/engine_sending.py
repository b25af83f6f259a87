"""Sending selected messages to their destination and deleting from the DLQ what SQS confirmed.

The one rule of the engine lives here: a message is deleted from the DLQ only after SQS listed its
copy in ``Successful`` (or, ``bot.engine_archiving``, the archive's write of its record
returned). Whatever SQS refused, or did not settle, stays in the DLQ (``Holding``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

from bot.engine_holding import Holding
from bot.engine_ledger import RunLedger
from bot.engine_routing import Router
from bot.engine_state import RunState
from bot.errors import SendAnswerLostError
from bot.planner import MAX_BATCH_BYTES, Outgoing, batch_entries, batches, group_waves
from bot.send_answers import sort_answer
from bot.sqs_model import ReceivedMessage, SendFailure, queue_was_missing


def pause_before(attempt: int) -> None:
    """The wait before the ``attempt``-th try (from 1) of what the service said it did not take:
    0.2 s, then twice as long each time."""
    time.sleep(0.2 * 2 ** (attempt - 1))


class Sender:
    """Sends, confirms and deletes the selected messages of one run."""

    def __init__(
        self, state: RunState, holding: Holding, router: Router, ledger: RunLedger
    ) -> None:
        self.state = state
        self.holding = holding
        self.router = router
        self.ledger = ledger

    def send_all(self, url: str, destination: str, items: list[Outgoing]) -> None:
        """Send ``items`` in batches within the destination's size; FIFO ones wave by wave, so
        that no message leaves before the earlier ones of its group moved (``group_waves``)."""
        # Known: its items were built for it (``Router.prepare``).
        max_bytes = min(
            self.router.size_limits[url], self.state.request.max_batch_bytes or MAX_BATCH_BYTES
        )
        waves = group_waves(items) if self.state.dlq.info.fifo else [items]
        for wave in waves:
            for batch in batches(self.not_held_back(wave), max_bytes=max_bytes):
                self._send(url, destination, batch)

    def not_held_back(self, wave: list[Outgoing]) -> list[Outgoing]:
        """``wave`` without the messages of FIFO groups that stalled: those are kept in the DLQ,
        counted held back, for a later run to send after the message that did not move."""
        holding = self.holding
        if not holding.stalled_groups:
            return wave
        ready = []
        with self.state.lock:
            for item in wave:
                if item.group in holding.stalled_groups:
                    self.state.report.held_back += 1
                    holding.keep(item)
                else:
                    ready.append(item)
        return ready

    def _send(self, url: str, destination: str, batch: list[Outgoing]) -> None:
        """Send a batch, retrying entries SQS failed on its side; delete only confirmed ones.

        A call whose answer is lost is not sent again in this run (SQS may have stored it): its
        messages stay in the DLQ, counted unconfirmed. So each lost answer costs at most one
        extra copy of its messages, and only if a later run sends them again.
        """
        items = batch
        retry: list[tuple[Outgoing, SendFailure]] = []
        confirmed: list[Outgoing] = []
        for attempt in range(max(1, self.state.request.send_attempts)):
            if attempt:
                pause_before(attempt)
            try:
                ok, failed = self.state.sqs.send_batch(url, batch_entries(items))
            except SendAnswerLostError as exc:
                self.unconfirmed(items, str(exc))
                retry = []
                break
            finally:
                self.state.count_call("SendMessageBatch")
            stored, retry = self._sort_answer(items, ok, failed, destination)
            confirmed += stored
            if not retry:
                break
            items = [item for item, _ in retry]
        for item, failure in retry:
            self.holding.fail(item, failure.code, failure.reason, destination)
        if confirmed:
            self.delete_confirmed(confirmed, destination)

    def _sort_answer(
        self, items: list[Outgoing], ok: list[str], failed: list[SendFailure], destination: str
    ) -> tuple[list[Outgoing], list[tuple[Outgoing, SendFailure]]]:
        """(confirmed, to retry) from SQS's answer to a send (``bot.send_answers``, as the import
        reads it); sender faults fail at once, and an entry the answer does not settle (in
        neither list, or in both) is unconfirmed."""
        answer = sort_answer(items, ok, failed)
        for item, failure in answer.refused:
            self.holding.fail(item, failure.code, failure.reason, destination)
        if answer.unsettled:
            self.unconfirmed(answer.unsettled, "SQS's answer said neither stored nor failed")
        return answer.stored, answer.retry

    def unconfirmed(self, items: list[Outgoing], reason: str) -> None:
        """Messages SQS (or Lambda, or SNS) may have taken without saying so: kept in the DLQ,
        never re-sent here, and counted as redriven in the ledger (it may have been a redrive)."""
        with self.state.lock:
            self.state.report.unconfirmed += len(items)
            self.state.report.unconfirmed_reason = reason
            self.state.report.unconfirmed_ids.update(item.message_id for item in items)
            for item in items:
                self.holding.keep(item)
        self.ledger.record(items)

    def delete_confirmed(
        self, confirmed: Sequence[ReceivedMessage | Outgoing], destination: str | None
    ) -> None:
        """Delete messages whose copy is confirmed (SQS listed it in Successful, or the
        archive's write returned: ``destination`` None), with every handle each was received
        with.

        From here on a message is moved: a later delivery of it is deleted at once, and none
        of its handles is ever released (a delete with an older handle may delete nothing).
        """
        state = self.state
        handles, newest = self.holding.mark_moved(confirmed)
        not_deleted = len(confirmed)  # until SQS says otherwise (a delete can raise)
        try:
            failed = state.sqs.delete_batch(state.dlq.info.url, handles)
            state.count_call("DeleteMessageBatch")
            if failed:
                retry = [int(f.entry_id) for f in failed]
                again = state.sqs.delete_batch(state.dlq.info.url, [handles[i] for i in retry])
                state.count_call("DeleteMessageBatch")
                failed = [replace(f, entry_id=str(retry[int(f.entry_id)])) for f in again]
            # The newest handle decides: a failure on an older one leaves nothing behind; nor
            # does one in a DLQ that no longer exists (its messages went with it).
            failed = [f for f in failed if not queue_was_missing(f)]
            not_deleted = len({int(f.entry_id) for f in failed} & set(newest))
        finally:
            # Their copies are confirmed, deleted or not: moved, however this call ended.
            sent = [item for item in confirmed if isinstance(item, Outgoing)]
            with state.lock:
                state.report.moved += len(confirmed)
                if destination is not None:
                    state.report.by_destination[destination] += len(confirmed)
                state.report.counter_dropped += sum(1 for item in sent if item.counter_dropped)
                state.report.lineage_dropped += sum(1 for item in sent if item.lineage_dropped)
                if state.request.lineage is not None:
                    state.report.lineage_groups.update(
                        item.group for item in sent if item.group and not item.lineage_dropped
                    )
                state.report.delete_failed += not_deleted
            self.ledger.record(sent)
