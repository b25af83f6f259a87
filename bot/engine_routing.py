"""Where a selected message goes and what travels: its destination queue, and the entry built for
that queue's MaximumMessageSize (or why it cannot go); or, for a message an SNS subscription, an
EventBridge target or a Lambda function dead-lettered (``bot.feeder_routing``), exactly the target
that failed it: a queue (the same entry), a function or a topic (a ``Parcel``).

The look-ups this needs (a source queue's URL by ARN, a destination's size) are asked once per run
however many workers need them; what AWS refused fails only the messages that need the answer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

from bot.deliveries import DeliveryShapeError, limit_for, payload
from bot.engine_state import RunState
from bot.errors import AwsError, QueueNotFoundError
from bot.feeder_routing import EVENTBRIDGE_DLQ_ATTRIBUTES, Delivery, NoDelivery, route
from bot.feeders import Kind, Via
from bot.planner import Outgoing, build_outgoing, dedup_id
from bot.redrive_model import Action
from bot.selection import REDRIVE_COUNT_ATTRIBUTE, redrive_count
from bot.sqs_model import ReceivedMessage

if TYPE_CHECKING:
    from bot.delivery_api import TargetApi

_T = TypeVar("_T")


def destination_label(delivery: Delivery) -> str:
    """How a report names where a delivery went: a queue by its name (as for SQS sources), a
    function as ``lambda <name>``, a topic as ``sns <name>``."""
    if delivery.via is Via.FUNCTION:
        return f"lambda {delivery.name}"
    if delivery.via is Via.TOPIC:
        return f"sns {delivery.name}"
    return delivery.name


@dataclass(frozen=True, slots=True)
class Parcel:
    """A copy for a function (an asynchronous invoke) or a topic (a publish): the bytes that
    travel and, for a topic, its message attributes and FIFO ids."""

    delivery: Delivery
    payload: bytes
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    group_id: str | None = None
    dedup_id: str | None = None


@dataclass(slots=True)
class Candidate:
    """A selected message on its way: where it goes, and what travels (or why it cannot)."""

    message: ReceivedMessage
    destination: str  # the queue's name, or ``destination_label`` of a delivery
    url: str = ""
    # built for the destination's MaximumMessageSize; for a parcel, its payload as the entry's
    # body (what the ledger counts it by: it carries no counter)
    item: Outgoing | None = None
    failure: tuple[str, str] | None = None  # (code, reason): it stays in the DLQ, failed
    delivery: Delivery | None = None  # a feeder's target (None: an SQS source or --to)
    parcel: Parcel | None = None  # for a function or a topic: sent by ``engine_delivering``
    held: str | None = None  # why it waits for a human (an EventBridge ERROR_CODE): not sent


@dataclass(frozen=True, slots=True)
class Refused:
    """AWS's answer to a lookup that failed (a source queue's URL, a destination's size): the
    messages that need it stay in the DLQ, failed with it, and the others move."""

    code: str
    reason: str


class Router:
    """Routes the selected messages of one run; see the module docstring."""

    def __init__(self, state: RunState) -> None:
        self.state = state
        request, dlq = state.request, state.dlq
        # Each destination's MaximumMessageSize, read once per run (those the catalog read are
        # known already): messages are built, refused and batched to fit it.
        known = (*dlq.sources, *([request.to] if request.to is not None else []))
        self.size_limits: dict[str, int] = {q.url: q.max_message_bytes for q in known}
        # A message's DeadLetterQueueSourceArn, or a feeder's queue's ARN -> its URL
        self.source_urls: dict[str, str] = {}
        # A dry run's functions that exist and may be invoked (Invoke DryRun, once per run)
        self.invocable: dict[str, bool] = {}
        # What AWS refused to look up (by ARN or URL), so that it is asked once per run.
        self.refused: dict[str, Refused] = {}
        self.lookup_lock = threading.Lock()

    def prepare(self, message: ReceivedMessage) -> Candidate:
        """``_prepare``'s candidate, failed NotApproved when an approval did not name where
        it goes (``only_approved``)."""
        return only_approved(self._prepare(message), self.state.request.only_to)

    def _prepare(self, message: ReceivedMessage) -> Candidate:
        """Where ``message`` goes and the entry that takes it there (built for that queue's
        MaximumMessageSize), or why it cannot go: its source queue is gone, or the destination
        cannot take it (then it stays in the DLQ, failed with the reason, and is never sent).

        The destination is --to, else the target of the feeder that failed it
        (``feeder_routing.route``: a queue, a function or a topic), else the message's own source
        queue (the DeadLetterQueueSourceArn SQS gives), else the DLQ's single source (the intake
        held the others back as having no source).
        """
        request, dlq = self.state.request, self.state.dlq
        routed = None if request.to is not None else self.route(message)
        if isinstance(routed, NoDelivery):
            if routed.needs_human:
                return Candidate(message, "", held=routed.reason)
            return Candidate(message, "", failure=(routed.code, routed.reason))
        if routed is not None and routed.via is not Via.QUEUE:
            return self._parcel(message, routed)
        if request.to is not None:
            url, name = request.to.url, request.to.name
        elif routed is not None or message.source_arn:
            # A subscription's or a rule target's queue, or the message's own source queue.
            arn = routed.arn if routed is not None else message.source_arn or ""
            name = routed.name if routed is not None else arn.rsplit(":", 1)[-1]
            found = self._ask_once(
                arn, self.source_urls, self.state.sqs.url_for_arn, counted_as=None
            )
            if isinstance(found, Refused):
                return Candidate(message, name, failure=(found.code, found.reason))
            url = found
            if (
                routed is not None
                and routed.feeder is not None
                and routed.feeder.kind is Kind.EVENTS
            ):
                message = _without(message, EVENTBRIDGE_DLQ_ATTRIBUTES)
        else:
            (source,) = dlq.sources
            url, name = source.url, source.name
        limit = self.size_limit(url)
        if isinstance(limit, Refused):
            return Candidate(message, name, url, failure=(limit.code, limit.reason))
        item = build_outgoing(
            message,
            fifo=dlq.info.fifo,
            max_message_bytes=limit,
            body=request.edit.body if request.edit is not None else None,
            lineage=request.lineage,
        )
        delivery = routed if isinstance(routed, Delivery) else None
        if item.size <= limit:
            return Candidate(message, name, url, item, delivery=delivery)
        reason = (
            f"{item.size:,} bytes with its attributes; {name} takes messages of at most "
            f"{limit:,} bytes (its MaximumMessageSize)"
        )
        return Candidate(message, name, url, item, ("MessageTooLarge", reason), delivery)

    def has_route(self, message: ReceivedMessage) -> bool:
        """Whether something says where ``message`` goes (--to, its source, the one source, a
        feeder's routing, which also says why a message of theirs goes nowhere)."""
        dlq, request = self.state.dlq, self.state.request
        return (
            request.action is not Action.REDRIVE  # the archive: no queue to find
            or request.to is not None
            or bool(message.source_arn)
            or len(dlq.sources) == 1
            or self.route(message) is not None
        )

    def route(self, message: ReceivedMessage) -> Delivery | NoDelivery | None:
        """Which feeder's target ``message`` goes back to (None: an SQS source's message)."""
        dlq = self.state.dlq
        if not dlq.feeders:
            return None
        return route(
            message, dlq.feeders, has_sqs_sources=bool(dlq.sources), force=self.state.request.force
        )

    def _parcel(self, message: ReceivedMessage, delivery: Delivery) -> Candidate:
        """The copy of ``message`` for a function or a topic, shaped as the feeder would have
        delivered it (``bot.deliveries``; an edit's body replaces the stored one first), or why
        it cannot go: it cannot be shaped, or it is over the target's limit (failed before any
        call). A function's copy carries no counter (the ledger counts it by its payload); a
        topic's carries it as a message attribute."""
        request = self.state.request
        name = destination_label(delivery)
        try:
            data = payload(
                message, delivery, body=request.edit.body if request.edit is not None else None
            )
        except DeliveryShapeError as exc:
            return Candidate(message, name, failure=(exc.code, exc.reason), delivery=delivery)
        refused = self._function_refused(delivery)
        if refused is not None:
            failure = (refused.code, refused.reason)
            return Candidate(message, name, failure=failure, delivery=delivery)
        attributes: dict[str, dict[str, Any]] = {}
        if delivery.via is Via.TOPIC:
            count = str(redrive_count(message) + 1)  # as a queue's copy counts (bot.planner)
            attributes[REDRIVE_COUNT_ATTRIBUTE] = {"DataType": "String", "StringValue": count}
        size = len(data) + sum(
            len(n.encode()) + len(a["DataType"]) + len(a["StringValue"].encode())
            for n, a in attributes.items()
        )
        group = message.attributes.get("MessageGroupId")
        item = Outgoing(
            message.message_id,
            message.receipt_handle,
            {"MessageBody": data.decode("utf-8", "surrogatepass")},
            size,
            counter_dropped=delivery.via is Via.FUNCTION,
            # FIFO: its group, whose order the deliverer keeps (the planner's default if none)
            group=(group or "dlq-redrive") if self.state.dlq.info.fifo else None,
            lineage_dropped=request.lineage is not None,
        )
        ordinal = redrive_count(message) + 1
        edited = request.edit.body if request.edit is not None else None
        dedup = dedup_id(message.message_id, ordinal, edited) if group else None
        parcel = Parcel(delivery, data, attributes, group, dedup)
        candidate = Candidate(message, name, item=item, delivery=delivery, parcel=parcel)
        limit = limit_for(delivery)
        if limit is not None and size > limit:  # a topic's message with its attributes
            what = "an asynchronous invoke" if delivery.via is Via.FUNCTION else "a publish"
            candidate.failure = (
                "PayloadTooLarge",
                f"{size:,} bytes; {what} to {name} takes at most {limit:,} bytes",
            )
        return candidate

    def size_limit(self, url: str) -> int | Refused:
        """The destination's MaximumMessageSize (one GetQueueAttributes per destination per run,
        none for those the catalog read), or why AWS would not say."""
        sqs = self.state.sqs

        def read(queue_url: str) -> int:
            return sqs.queue_info(queue_url).max_message_bytes

        return self._ask_once(url, self.size_limits, read, counted_as="GetQueueAttributes")

    def _function_refused(self, delivery: Delivery) -> Refused | None:
        """In a dry run, why the function a copy would go to cannot take it (``_invocable``)."""
        targets = self.state.targets
        if not self.state.request.dry_run or delivery.via is not Via.FUNCTION or targets is None:
            return None
        found = self._ask_once(
            delivery.arn, self.invocable, _invocable(targets), counted_as="Invoke"
        )
        return found if isinstance(found, Refused) else None

    def _ask_once(
        self,
        key: str,
        answers: dict[str, _T],
        ask: Callable[[str], _T],
        *,
        counted_as: str | None,
    ) -> _T | Refused:
        """``ask(key)``, asked once per run however many workers need it at the same time:
        the answer is kept in ``answers``, a refusal (the queue is gone, AWS denied it) in
        ``refused``. A refusal fails only the messages that need the answer, with AWS's code:
        one queue nobody may look up does not stop the redrive of the others."""
        known = answers.get(key)  # every message asks: no lock once it is known
        if known is not None:
            return known
        with self.lookup_lock:
            if key not in answers and key not in self.refused:
                try:
                    answers[key] = ask(key)
                except QueueNotFoundError as exc:
                    self.refused[key] = Refused("QueueDoesNotExist", str(exc))
                except AwsError as exc:
                    self.refused[key] = Refused(exc.code, str(exc))
                finally:
                    if counted_as is not None:
                        self.state.count_call(counted_as)
            return answers[key] if key in answers else self.refused[key]


def only_approved(candidate: Candidate, only_to: frozenset[str] | None) -> Candidate:
    """``candidate``, failed NotApproved (it stays in the DLQ) when it would be sent to a
    destination an approval did not name (``RedriveRequest.only_to``: what feeds the DLQ changed
    since the count the approvers saw)."""
    if (
        only_to is not None
        and candidate.failure is None
        and candidate.held is None
        and candidate.destination not in only_to
    ):
        approved = ", ".join(sorted(only_to)) or "nothing"
        candidate.failure = (
            "NotApproved",
            f"it goes to {candidate.destination} now, and the approval named only "
            f"{approved} (what feeds the DLQ changed since the count): ask again",
        )
    return candidate


def _invocable(targets: TargetApi) -> Callable[[str], bool]:
    """Whether a function exists and may be invoked (Invoke DryRun), for a dry run: as a missing
    destination queue is found by its look-up, so that "would move" counts only what the real
    run could deliver; asked once per function per run (``Router._ask_once``). A real run learns
    it from the invoke itself."""

    def check(function_arn: str) -> bool:
        targets.check_invoke(function_arn)
        return True

    return check


def _without(message: ReceivedMessage, names: frozenset[str]) -> ReceivedMessage:
    """``message`` without the message attributes ``names``."""
    kept = {k: v for k, v in message.message_attributes.items() if k not in names}
    return replace(message, message_attributes=kept)
