"""Where the edited copy of one DLQ message goes, and whether a new body can go there: one answer
for the CLI's ``dlq-redrive edit`` and Slack's Edit & resend, the engine's own routing.

A message an SQS queue dead-lettered goes back to its source queue (the one it names, or the DLQ's
only one); a message an SNS subscription, an EventBridge target or a Lambda function dead-lettered
goes to exactly the target that failed it (``bot.feeder_routing.route``: a queue, a function or a
topic), with the new body shaped as AWS would have delivered it (``bot.deliveries``). Both surfaces
ask here before anything is sent, so neither offers an edit the engine would send elsewhere or
refuse, and neither refuses one the engine would deliver.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.catalog import Dlq
from bot.deliveries import DeliveryShapeError, limit_for, payload
from bot.engine_routing import destination_label
from bot.errors import UsageError
from bot.feeder_routing import Delivery, NoDelivery, route
from bot.feeders import Via
from bot.kind_words import destination_words
from bot.planner import build_outgoing
from bot.sqs_model import QueueInfo, ReceivedMessage, SqsApi


@dataclass(frozen=True)
class EditDestination:
    """Where an edited copy of ``message`` goes, as the engine will route it."""

    message: ReceivedMessage
    label: str  # as a report's ``by_destination`` names it: a queue's name, "lambda <fn>", ...
    words: str  # ``kind_words.destination_words``: "lambda thumbnailer (async invoke)", ...
    # The most bytes a new body may take there: a queue's MaximumMessageSize less the attributes
    # and counter that travel with it; a function's or topic's limit less what shaping adds (an
    # estimate for an SNS event, whose Message is JSON-escaped: ``problem`` says exactly).
    max_body_bytes: int
    queue: QueueInfo | None = None  # a queue destination
    delivery: Delivery | None = None  # a feeder's function or topic

    @property
    def kept(self) -> str:
        """What of the message travels with the edited copy."""
        if self.delivery is not None and self.delivery.via is Via.FUNCTION:
            return "an invoke's payload carries no attributes and no redrive count"
        if self.delivery is not None and self.delivery.via is Via.TOPIC:
            return "a publish carries only its redrive count as an attribute"
        return "its attributes kept, its redrive count incremented"

    def problem(self, body: str) -> str | None:
        """Why ``body`` cannot go there as the engine would send it (plain text), or None."""
        if self.queue is not None:
            item = build_outgoing(
                replace(self.message, body=body),
                fifo=self.queue.fifo,
                max_message_bytes=self.queue.max_message_bytes,
            )
            if item.size > self.queue.max_message_bytes:
                return (
                    f"the edited message would be {item.size:,} bytes with its attributes; "
                    f"{self.queue.name} takes at most {self.queue.max_message_bytes:,} "
                    "(MaximumMessageSize)"
                )
            return None
        assert self.delivery is not None
        try:
            payload(self.message, self.delivery, body=body)
        except DeliveryShapeError as exc:
            return f"the edited message cannot go to {self.delivery.name}: {exc}"
        return None


def edit_destination(sqs: SqsApi, dlq: Dlq, message: ReceivedMessage) -> EditDestination:
    """Where an edited copy of ``message`` of ``dlq`` goes; UsageError (plain text, ending in what
    to do) when it can go nowhere: no source it can name, a feeder's message that cannot go back
    (ambiguous, needs a human, an endpoint SNS alone reaches, ...), no room for any body."""
    routed = route(message, dlq.feeders, has_sqs_sources=bool(dlq.sources))
    if isinstance(routed, NoDelivery):
        raise UsageError(f"message {message.message_id} cannot go back: {routed.reason}")
    if routed is None:  # an SQS source's message: its source queue
        queue = _source_of(sqs, dlq, message)
        label = words = queue.name
    elif routed.via is Via.QUEUE:
        queue = sqs.queue_info(sqs.url_for_arn(routed.arn))
        label, words = queue.name, destination_words(queue.name, dlq.feeders)
    else:
        return _parcel_destination(dlq, message, routed)
    built = build_outgoing(message, fifo=queue.fifo, max_message_bytes=queue.max_message_bytes)
    room = queue.max_message_bytes - (built.size - len(message.body.encode("utf-8")))
    if room < 1:
        raise UsageError(
            f"message {message.message_id}'s attributes leave no room for a body in {queue.name}"
        )
    return EditDestination(message, label, words, room, queue=queue)


def _parcel_destination(dlq: Dlq, message: ReceivedMessage, routed: Delivery) -> EditDestination:
    label = destination_label(routed)
    limit = limit_for(routed) or 0
    try:  # what shaping adds to the stored body (an SNS event's envelope, ...)
        shaped = len(payload(message, routed))
    except DeliveryShapeError:
        shaped = len(message.body.encode("utf-8"))  # the stored body does not shape; a new one may
    room = limit - max(0, shaped - len(message.body.encode("utf-8")))
    return EditDestination(
        message, label, destination_words(label, dlq.feeders), room, delivery=routed
    )


def _source_of(sqs: SqsApi, dlq: Dlq, message: ReceivedMessage) -> QueueInfo:
    """The source queue the message names (read from the DLQ's if known), or the DLQ's only one."""
    if message.source_arn:
        known = {q.arn: q for q in dlq.sources}
        return known.get(message.source_arn) or sqs.queue_info(sqs.url_for_arn(message.source_arn))
    if len(dlq.sources) == 1:
        return dlq.sources[0]
    raise UsageError(
        f"message {message.message_id} does not say its source queue and {dlq.name} has "
        f"{len(dlq.sources)} sources"
    )
