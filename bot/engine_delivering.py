"""Delivering the copies of an SNS subscription's, an EventBridge target's or a Lambda function's
messages to a function (an asynchronous invoke) or a topic (a publish), and deleting from the DLQ
what the target confirmed.

The engine's rule holds as for a queue (``bot.engine_sending``): a message is deleted only after
its copy was confirmed: Lambda accepted the invoke ("For asynchronous invocation, Lambda adds the
event to a queue and returns a success response", StatusCode 202: ``TargetApi.invoke_event``
returned), or SNS gave the publish a MessageId (``TargetApi.publish`` returned one). A refusal
fails the message with AWS's code (it stays, and a later run may try it again; a throttle is tried
again first, ``THROTTLED``); a lost answer
leaves it unconfirmed (it may have been delivered: it stays, is never delivered again in this run,
and counts in the ledger as a redrive).

Each invoke or publish is one call for one message, so a batch's are made in parallel, up to
``MAX_PARALLEL``; on a FIFO DLQ one after the other, in order, and a group stops at its first
message that did not go (``Holding.keep``), as a queue's copies do.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bot.delivery_api import TargetApi
from bot.engine_holding import Holding, group_of
from bot.engine_routing import Candidate, Parcel
from bot.engine_sending import Sender, pause_before
from bot.engine_state import RunState
from bot.errors import AwsError, DlqRedriveError, SendAnswerLostError
from bot.feeders import Via
from bot.planner import Outgoing

MAX_PARALLEL = 10  # a receive's worth: one batch's copies at once
# The codes with which Lambda and SNS say they did not take a call because of its rate ("429
# TooManyRequestsException", Invoke; "ThrottledException", Publish; AWS's generic ones): nothing
# was delivered, so the call is made again (up to the request's send_attempts), as the Sender
# does for what SQS failed on its side. Any other refusal fails the message at once.
THROTTLED = frozenset(
    {"TooManyRequestsException", "ThrottledException", "Throttling", "ThrottlingException"}
)


@dataclass(frozen=True, slots=True)
class _Answer:
    """What became of one delivery: confirmed, refused (``failure``), or answer lost (``lost``;
    ``crash``: the unexpected error that lost it, raised once the batch is settled)."""

    failure: tuple[str, str] | None = None
    lost: str | None = None
    crash: Exception | None = None


class Deliverer:
    """Invokes functions and publishes to topics for the parcels of one run."""

    def __init__(self, state: RunState, holding: Holding, sender: Sender) -> None:
        self.state = state
        self.holding = holding
        self.sender = sender

    def deliver_all(self, candidates: Sequence[Candidate]) -> None:
        """Deliver each candidate's parcel; delete the confirmed ones, keep the others."""
        parcels = {c.message.message_id: c for c in candidates if c.parcel and c.item}
        items = [c.item for c in parcels.values() if c.item is not None]
        if self.state.dlq.info.fifo:
            answers = self._in_order(items, parcels)
        else:
            with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, max(1, len(items)))) as pool:
                found = pool.map(lambda item: self._deliver(parcels[item.message_id]), items)
                answers = list(zip(items, found, strict=True))
        self._settle(answers, parcels)
        crash = next((answer.crash for _, answer in answers if answer.crash is not None), None)
        if crash is not None:
            raise crash

    def _in_order(
        self, items: list[Outgoing], parcels: dict[str, Candidate]
    ) -> list[tuple[Outgoing, _Answer]]:
        """FIFO: one after the other; a message of a group that stalled (an earlier one did not
        go, in this batch or before) is held back, never sent ahead of it."""
        answers = []
        for item in items:
            if not self.sender.not_held_back([item]):
                continue
            answer = self._deliver(parcels[item.message_id])
            answers.append((item, answer))
            if answer.failure or answer.lost:
                with self.state.lock:
                    self.holding.stalled_groups.add(group_of(item))
        return answers

    def _deliver(self, candidate: Candidate) -> _Answer:
        """One invoke or publish, and what AWS said of it."""
        parcel = candidate.parcel
        assert parcel is not None  # deliver_all passes only candidates with one
        targets = self.state.targets
        if targets is None:
            return _Answer(
                failure=(
                    "NoDeliveryTargets",
                    f"this run cannot reach {candidate.destination} (it was started without "
                    "Lambda and SNS clients); the message stays in the DLQ",
                )
            )
        operation = "Invoke" if parcel.delivery.via is Via.FUNCTION else "Publish"
        answer = _Answer()
        for attempt in range(max(1, self.state.request.send_attempts)):
            if attempt:
                pause_before(attempt)
            answer = self._attempt(targets, parcel)
            self.state.count_call(operation)
            if answer.failure is None or answer.failure[0] not in THROTTLED:
                break
        return answer

    def _attempt(self, targets: TargetApi, parcel: Parcel) -> _Answer:
        try:
            self._call(targets, parcel)
        except SendAnswerLostError as exc:
            return _Answer(lost=str(exc))
        except AwsError as exc:
            return _Answer(failure=(exc.code, str(exc)))
        except Exception as exc:  # noqa: BLE001 - re-raised once the batch is settled
            # A bug, or an error no gateway knew: whether it was delivered is unknown.
            return _Answer(lost=f"{type(exc).__name__}: {exc}", crash=exc)
        return _Answer()

    @staticmethod
    def _call(targets: TargetApi, parcel: Parcel) -> None:
        delivery = parcel.delivery
        if delivery.via is Via.FUNCTION:
            targets.invoke_event(delivery.arn, parcel.payload)
        else:
            message = parcel.payload.decode("utf-8", "surrogatepass")
            targets.publish(
                delivery.arn, message, parcel.attributes, parcel.group_id, parcel.dedup_id
            )

    def _settle(
        self, answers: list[tuple[Outgoing, _Answer]], parcels: dict[str, Candidate]
    ) -> None:
        """Fail the refused, keep the unconfirmed, delete the confirmed (by destination)."""
        confirmed: dict[str, list[Outgoing]] = defaultdict(list)
        lost: list[Outgoing] = []
        reason = ""
        for item, answer in answers:
            destination = parcels[item.message_id].destination
            if answer.failure is not None:
                self.holding.fail(item, *answer.failure, destination)
            elif answer.lost is not None:
                lost.append(item)
                reason = answer.lost
            else:
                confirmed[destination].append(item)
        if lost:
            self.sender.unconfirmed(lost, reason)
        # Every destination's, even after a delete raised: a copy delivered and not marked moved
        # would be counted not attempted, released, and delivered again by a later run.
        errors: list[DlqRedriveError] = []
        for destination, items in confirmed.items():
            try:
                self.sender.delete_confirmed(items, destination)
            except DlqRedriveError as exc:
                errors.append(exc)
        if errors:
            raise errors[0]
