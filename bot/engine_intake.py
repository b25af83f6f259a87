"""What happens to each received batch: judged (``selection.judge``), claimed, counted, routed and
handed to the sender; what is not sent is held by ``Holding``.

Whether a message can carry the counter depends on the destination's size, so a message is built
for its destination first and judged poison by what travels: its counter, or for one that travels
without it, the ledger's count of that very entry (one ledger question per batch, none when every
message carries the counter).
"""

from __future__ import annotations

from typing import Any

from bot.engine_archiving import Archiver
from bot.engine_delivering import Deliverer
from bot.engine_holding import Holding, group_of
from bot.engine_ledger import RunLedger
from bot.engine_routing import Candidate, Router
from bot.engine_sending import Sender
from bot.engine_state import Claim, RunState
from bot.planner import Outgoing
from bot.redrive_model import Action, RedriveReport
from bot.selection import Verdict, judge, lineage_of, needs_human
from bot.sqs_model import ReceivedMessage, queue_was_missing


class Intake:
    """Judges, claims and routes the received batches of one run."""

    def __init__(
        self,
        state: RunState,
        holding: Holding,
        router: Router,
        sender: Sender,
        deliverer: Deliverer,
        ledger: RunLedger,
        *,
        max_redrives: int,
        timezone: Any,
    ) -> None:
        self.state = state
        self.holding = holding
        self.router = router
        self.sender = sender
        self.deliverer = deliverer
        self.archiver = Archiver(state, holding, sender)
        self.ledger = ledger
        self.max_redrives = max_redrives
        self.timezone = timezone

    def handle(self, messages: list[ReceivedMessage], received_at: float) -> None:
        """Judge, route and build a received batch, then send what is selected."""
        state, holding = self.state, self.holding
        copies_confirmed: list[str] = []  # receipt handles of second deliveries already moved
        if (edit := state.request.edit) is not None and state.dlq.info.fifo:
            with state.lock:
                group = edit_out_of_order(messages, edit.message_id, holding.blocked_groups)
                if group is not None:
                    holding.stalled_groups.add(group)  # the edit is held back
        claimed = self._claim(messages, copies_confirmed, received_at)
        if copies_confirmed:
            # First, before anything can fail: a copy of a moved message must not come back.
            failed = state.sqs.delete_batch(state.dlq.info.url, copies_confirmed)
            state.count_call("DeleteMessageBatch")
            with state.lock:
                state.report.delete_failed += sum(not queue_was_missing(f) for f in failed)
        archiving = state.request.action is not Action.REDRIVE
        # Discarded and exported messages go to the archive, not to a queue: nothing to route.
        candidates = [
            Candidate(message, "") if archiving else self.router.prepare(message)
            for message in claimed
        ]
        recorded = self.ledger.recorded(c.item for c in candidates if c.item is not None)
        to_send: dict[str, tuple[str, list[Outgoing]]] = {}
        to_deliver: list[Candidate] = []  # to a function or a topic
        to_archive: list[ReceivedMessage] = []
        failures: list[tuple[Candidate, tuple[str, str]]] = []
        failed_groups: set[str] = set()  # FIFO: their later messages wait, earlier ones go

        report = state.report
        with state.lock:
            for candidate in candidates:
                message = candidate.message
                if message.message_id in state.request.not_again:
                    holding.keep_unconfirmed(message)
                elif (count := recorded.get(message.message_id, 0)) and needs_human(
                    message, max_redrives=self.max_redrives, recorded_redrives=count
                ):
                    report.skipped += 1
                    report.needs_human += 1
                    holding.hold(message)
                elif candidate.held is not None:  # its target cannot take it as configured
                    report.skipped += 1
                    report.needs_human += 1
                    report.needs_human_reasons[candidate.held] += 1
                    holding.hold(message)
                elif self._pinned_out(message):  # not what the approval counted: stays
                    report.out_of_window += 1
                    report.skipped += 1
                    holding.hold(message)
                elif state.limit_reached():
                    report.over_limit += 1
                    report.skipped += 1
                    holding.hold(message, blocks_group=False)  # the scan ends here anyway
                else:
                    holding.mark_matched(message)
                    if state.dlq.info.fifo and group_of(message) in failed_groups:
                        report.held_back += 1
                        holding.hold(message)  # its group stalls with the failure, after sends
                    elif candidate.failure is not None:
                        failures.append((candidate, candidate.failure))
                        failed_groups.add(group_of(message))
                    elif state.request.dry_run:
                        if not archiving:
                            report.by_destination[candidate.destination] += 1
                        holding.hold(message)
                    elif archiving:
                        to_archive.append(message)
                    elif candidate.parcel is not None:
                        to_deliver.append(candidate)
                    elif candidate.item is not None:
                        to_send.setdefault(candidate.url, (candidate.destination, []))[1].append(
                            candidate.item
                        )
            if state.request.edit is not None:
                # The edited message found: the scan ends here, not after the whole DLQ.
                state.limit_reached()
        # A FIFO failure stalls its group (``Holding.fail``): after its earlier messages went.
        now, later = ([], failures) if state.dlq.info.fifo else (failures, [])
        _fail(holding, now)
        self.ledger.sending(_outgoing(to_send, to_deliver))
        for url, (name, items) in to_send.items():
            self.sender.send_all(url, name, items)
        if to_deliver:
            self.deliverer.deliver_all(to_deliver)
        _fail(holding, later)
        if to_archive:
            self.archiver.archive_all(to_archive)

    def _claim(
        self, messages: list[ReceivedMessage], copies_confirmed: list[str], received_at: float
    ) -> list[ReceivedMessage]:
        """The messages of a batch that may be selected, claimed (in ``sending``) so that a
        second delivery meanwhile is not taken twice; the others are held, counted, or (a
        second delivery of a moved message) listed in ``copies_confirmed`` for deletion."""
        state, holding = self.state, self.holding
        verdicts = [
            judge(
                message,
                state.request.selection,
                self.timezone,
                max_redrives=self.max_redrives,
                force=state.request.force,
                apply_pin=False,  # after the ledger's count, in handle(): poison first
            )
            for message in messages
        ]
        claimed: list[ReceivedMessage] = []
        report = state.report
        with state.lock:
            for message, verdict in zip(messages, verdicts, strict=True):
                if message.message_id in holding.held:
                    # Seen before in this scan (delivered twice, or the heartbeat came too late
                    # for it): hold it with the newest handle, count it once.
                    holding.held.hold(message.message_id, message.receipt_handle, received_at)
                    continue
                # A second delivery of a message this run is moving is never sent twice.
                claim = holding.sending.get(message.message_id)
                if claim is not None:  # still being sent: deleted or kept with the others
                    report.redelivered += 1
                    claim.handles.append(message.receipt_handle)
                    claim.received_at = received_at
                    continue
                if message.message_id in holding.moved_ids:  # its copy is confirmed: delete it
                    report.redelivered += 1
                    copies_confirmed.append(message.receipt_handle)
                    continue
                report.scanned += 1
                lineage = state.request.lineage
                if verdict is Verdict.SELECT and lineage and lineage_of(message) == lineage:
                    # A copy this run (or the canary before it) sent came back: the consumer
                    # failed it again. Sending it once more would only loop; a human decides.
                    report.returned += 1
                    report.skipped += 1
                    holding.hide(message, message.receipt_handle, received_at)
                    continue
                # A message the pin leaves out is claimed too when it has a route: handle()
                # asks the ledger first, so poison is said as such (as judge() does for the
                # counter), then leaves it out of window.
                pinned_out = verdict is Verdict.SELECT and self._pinned_out(message)
                if pinned_out and not self.router.has_route(message):
                    verdict = Verdict.OUT_OF_WINDOW
                if verdict is Verdict.SELECT and self._no_source(message):
                    report.no_source += 1
                    report.skipped += 1
                    holding.hide(message, message.receipt_handle, received_at)
                elif verdict is not Verdict.SELECT:
                    count_skip(report, verdict)
                    holding.hide(message, message.receipt_handle, received_at)
                else:
                    holding.sending[message.message_id] = Claim(
                        [message.receipt_handle], received_at
                    )
                    claimed.append(message)
        return claimed

    def _pinned_out(self, message: ReceivedMessage) -> bool:
        """Whether the request's pin leaves ``message`` out (it was not counted)."""
        pin = self.state.request.selection.pin
        return pin is not None and not pin.admits(message)

    def _no_source(self, message: ReceivedMessage) -> bool:
        """Whether nothing says where ``message`` goes: no --to, no recorded source, and not
        exactly one source queue. It is held for a human (counted with the reason); the run
        moves the others. Call with the lock held."""
        dlq, report = self.state.dlq, self.state.report
        if self.router.has_route(message):
            return False
        if report.no_source_reason is None:
            names = ", ".join(dlq.source_names) or "none"
            report.no_source_reason = (
                f"no source recorded and {dlq.name!r} has {len(dlq.sources)} source "
                f"queues ({names}); choose one with --to QUEUE"
            )
        return True


def edit_out_of_order(
    messages: list[ReceivedMessage], edit_id: str, blocked_groups: set[str]
) -> str | None:
    """FIFO: the group of the edited message when sending it now would put it ahead of an
    earlier message of its group that stays in the DLQ (one before it in this batch, or one
    held from an earlier batch); None otherwise. The group's order applies to a human's fix
    too: then its group stalls and the edit is held back."""
    for position, message in enumerate(messages):
        if message.message_id == edit_id:
            group = group_of(message)
            if group in blocked_groups or any(group_of(m) == group for m in messages[:position]):
                return group
            return None
    return None


def count_skip(report: RedriveReport, verdict: Verdict) -> None:
    """Count a message the selection left in the DLQ, by why. Call with the lock held."""
    report.skipped += 1
    if verdict is Verdict.OUT_OF_WINDOW:
        report.out_of_window += 1
    elif verdict is Verdict.UNREADABLE_TIME:
        report.unreadable += 1
    elif verdict is Verdict.NEEDS_HUMAN:
        report.needs_human += 1


def _fail(holding: Holding, failures: list[tuple[Candidate, tuple[str, str]]]) -> None:
    for candidate, (code, reason) in failures:
        holding.fail(candidate.message, code, reason, candidate.destination)


def _outgoing(
    to_send: dict[str, tuple[str, list[Outgoing]]], to_deliver: list[Candidate]
) -> list[Outgoing]:
    """Every item a batch is about to send: to queues, and to functions or topics."""
    return [item for _, items in to_send.values() for item in items] + [
        c.item for c in to_deliver if c.item is not None
    ]
