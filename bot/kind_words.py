"""How the CLI and Slack word a DLQ's kinds: what discovery could not read, and where a message's
copy goes. Plain text, no I/O; every surface escapes it for itself (``bot.printable`` on a
terminal, ``bot.slack.mrkdwn`` in Slack), since the names in it are AWS resources anyone who can
create one may have named.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.feeders import Feeder, Kind, Via, resource_name

# What discovery reads for each kind: the subject of "... not read".
_READ = {
    Kind.SQS: "sqs queues",
    Kind.SNS: "sns subscriptions",
    Kind.EVENTS: "eventbridge rule targets",
    Kind.LAMBDA: "lambda functions",
}


def unread_line(kind: Kind, why: str) -> str:
    """One line for a kind discovery could not read: "sns subscriptions not read: AccessDenied:
    ..." and what it means for the list (a DLQ only they feed is missing from it)."""
    return f"{_READ.get(kind, str(kind))} not read: {why} (a DLQ only they feed is not listed)"


def unread_lines(unread: tuple[tuple[Kind, str], ...]) -> list[str]:
    """``unread_line`` for each kind not read, in ``Kind`` order."""
    order = list(Kind)
    return [
        unread_line(kind, why)
        for kind, why in sorted(unread, key=lambda item: order.index(item[0]))
    ]


# How ``bot.engine_routing.destination_label`` names a function's and a topic's deliveries in a
# report's ``by_destination`` (a queue goes by its bare name: SQS names have no spaces).
_FUNCTION_LABEL, _TOPIC_LABEL = "lambda ", "sns "

# What a feeder's target is to the message, said where its copy goes: not the topic or the bus,
# whose every other subscriber or rule would get it again.
_ROLE = {
    Kind.SNS: "the subscription's endpoint, not the topic",
    Kind.EVENTS: "the rule's target, not the bus",
}


def _role(feeder: Feeder) -> str:
    """What ``feeder``'s target is to its messages ("" for a function's own async DLQ: the
    stored event goes back as it was)."""
    if feeder.kind is Kind.LAMBDA:
        return "the on-failure record's requestPayload" if feeder.on_failure else ""
    if feeder.kind is Kind.SNS and feeder.via is Via.FUNCTION:
        return "the SNS event to " + _ROLE[Kind.SNS]
    return _ROLE.get(feeder.kind, "")


def destination_words(label: str, feeders: Sequence[Feeder] = (), *, to: str | None = None) -> str:
    """Where a report's ``by_destination`` entry ``label`` delivered, said precisely with the
    DLQ's ``feeders``: "lambda orders-handler (async invoke)", "queue orders (the subscription's
    endpoint, not the topic)", "topic alerts (publish; the rule's target, not the bus)", "orders"
    (an SQS source, or a queue no feeder names). ``to``: the queue a ``--to`` named, which takes
    every message."""
    if to is not None and label == to:
        return f"queue {label} (--to: every message selected, whatever fed it)"
    if label.startswith(_FUNCTION_LABEL):
        name, via, what = label.removeprefix(_FUNCTION_LABEL), Via.FUNCTION, "async invoke"
        shown = f"lambda {name}"
    elif label.startswith(_TOPIC_LABEL):
        name, via, what = label.removeprefix(_TOPIC_LABEL), Via.TOPIC, "publish"
        shown = f"topic {name}"
    else:  # a queue: by its bare name when it is an SQS source's (as summaries always said)
        name, via, what, shown = label, Via.QUEUE, "", label
    roles = sorted(
        {
            _role(f)
            for f in feeders
            if f.via is via and resource_name(f.target_arn) == name and _role(f)
        }
    )
    said = "; ".join(part for part in (what, *roles) if part)
    if via is Via.QUEUE and roles:
        shown = f"queue {label}"
    return f"{shown} ({said})" if said else shown


def delivery_lines(
    by_destination: Mapping[str, int], feeders: Sequence[Feeder] = (), *, to: str | None = None
) -> list[str]:
    """ "<destination_words>: <count>" for each destination, by name."""
    return [
        f"{destination_words(label, feeders, to=to)}: {count:,}"
        for label, count in sorted(by_destination.items())
    ]


def not_resent_lines(feeders: Sequence[Feeder]) -> list[str]:
    """What a redrive of these feeders' messages never does: publish to the topic again or put
    the event on the bus again (every other subscriber or rule would get a duplicate)."""
    lines = []
    if any(f.kind is Kind.SNS for f in feeders):
        lines.append(
            "nothing is published to the topic again: its other subscriptions get no duplicate"
        )
    if any(f.kind is Kind.EVENTS for f in feeders):
        lines.append("nothing is put on the bus again: no other rule or target sees the event")
    return lines


def function_deliveries(by_destination: Mapping[str, int]) -> int:
    """How many of ``by_destination`` went to functions (their payloads carry no counter)."""
    return sum(n for label, n in by_destination.items() if label.startswith(_FUNCTION_LABEL))


# Failure codes of a message that has no target to deliver to (``bot.feeder_routing.NoDelivery``),
# as summaries and cards name them; their reason says why and what to do.
ROUTING_REFUSALS = {
    "Ambiguous": "ambiguous",
    "UnknownTarget": "names a target that does not feed this DLQ",
    "Unsupported": "target not reachable as AWS would deliver",
    "NotAnEvent": "not an event its function can take",
    # an approved run's message now routed elsewhere than its card said (RedriveRequest.only_to)
    "NotApproved": "bound for a target the approval did not name",
}


def first_reason(failures: Sequence[Mapping[str, str]], code: str) -> str:
    """The reason of the first failure detail with ``code`` ("" when none was kept)."""
    return next((f["reason"] for f in failures if f.get("code") == code), "")


def undeliverable(feeders: Sequence[Feeder], *, has_sources: bool) -> str | None:
    """Why no message of a DLQ fed only by ``feeders`` can go back (each refused: an https or
    email endpoint SNS alone reaches, a transformed events target, ...), or None when some can:
    a redrive of it is refused before anything is received."""
    if has_sources or not feeders or any(f.refusal is None for f in feeders):
        return None
    return "; ".join(sorted({f"{f.describe()}: {f.refusal}" for f in feeders}))
