"""The figures of one DLQ, computed from a sample of its messages: pure, no I/O.

Given each message a scan receives (``ReceivedMessage``), yesterday's window and a few settings,
``FigureCounter`` counts how old the oldest message is, how many arrived yesterday, how many are
poison (already redriven ``MAX_REDRIVES`` times) and the top error groups. An error group is the
value of the message attribute named by ``ERROR_ATTRIBUTE`` when the message has it, else a
fingerprint of the body's *shape*: the keys and value types of a JSON body, or the text with its
numbers and ids masked, so that "order 123 failed" and "order 456 failed" fall in one group.

The figures are counted while the scan streams: no message is kept, and an error group keeps a
digest of its label and the label's first characters only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

# Re-exported: the error groups were defined here before --error needed them too.
from bot.error_groups import body_fingerprint as body_fingerprint
from bot.error_groups import error_label as error_label
from bot.error_groups import is_label_digest, label_digest, reads_like_body_label
from bot.selection import TimeWindow, UnreadableTimeError, message_time, redrive_count
from bot.sqs_model import ReceivedMessage

TOP_ERROR_GROUPS = 3
MAX_LABEL = 80
LABEL_HASH = 6  # hex digits of the whole label's hash a cut label ends with


@dataclass(frozen=True)
class ErrorGroup:
    """Messages sharing one error: ``label`` is what the report shows."""

    label: str
    count: int
    by_attribute: bool  # True: the ERROR_ATTRIBUTE value; False: a body-shape fingerprint
    # bot.error_groups.label_digest of the whole label: what --error and the report's buttons
    # select the group by ("" in figures kept from before it was counted).
    digest: str = ""


@dataclass(frozen=True)
class SampleFigures:
    """What a sample of one DLQ's messages says. Counts are over the sample only: they are the
    DLQ's own counts only when the sample was ``whole``, and lower bounds otherwise."""

    sampled: int
    capped: bool  # the DLQ held more messages than the sample took
    oldest_sent: datetime | None
    arrived_yesterday: int
    unreadable_time: int  # messages whose time (body field) could not be read
    poison: int  # of every day
    error_groups: tuple[ErrorGroup, ...]
    other_errors: int  # sampled messages outside the top groups
    poison_yesterday: int = 0  # of those that arrived yesterday
    # Messages in the DLQ when the scan started (visible, in flight and delayed, from SQS's
    # approximate counters): what the sample is a sample of.
    population: int = 0

    @property
    def whole(self) -> bool:
        """The scan received every message the DLQ held: its counts are the DLQ's, exactly.
        (In-flight or delayed messages are not received, so they keep a sample partial.)"""
        return not self.capped and self.sampled >= self.population

    def oldest_age(self, now: datetime) -> timedelta | None:
        """How long the oldest sampled message has waited, at ``now``."""
        return None if self.oldest_sent is None else max(timedelta(0), now - self.oldest_sent)


def group_key(label: str, by_attribute: bool) -> str:
    """A stable key of a group's whole label and kind: its ``label_digest`` (what ``--error``
    and the report's buttons select it by, and what tells two cut labels apart) and the kind
    (an attribute value may read like a body shape)."""
    return label_digest(label, by_attribute) + (":attribute" if by_attribute else ":body")


def key_digest(key: str) -> str:
    """The ``label_digest`` in a ``group_key``."""
    return key.split(":", 1)[0]


def shown_labels(
    groups: Sequence[tuple[str, str]],
    limit: int = MAX_LABEL,
    tag: Sequence[bool] = (),
) -> list[str]:
    """The text shown for each group given as (label, digest), no two alike.

    A label longer than ``limit`` is cut and ends with ``…`` and a short hash of the whole label,
    so two groups that differ only past the cut never read the same. Should two texts still
    clash (an attribute value that reads like a body shape, or equal short hashes), those get a
    hash, then the whole one: digests of different groups differ. ``tag``: groups tagged
    whatever (an attribute value that reads like a body shape: its bare label would select the
    body-shape group).
    """
    forced = list(tag) + [False] * (len(groups) - len(tag))
    tagged = [len(label) > limit or force for (label, _), force in zip(groups, forced, strict=True)]
    sizes = [LABEL_HASH] * len(groups)
    for _ in range(3):  # untagged -> short hash -> whole digest
        shown = [
            _shown(label, digest, limit, size, tagged=tag)
            for (label, digest), size, tag in zip(groups, sizes, tagged, strict=True)
        ]
        clashing = [i for i, text in enumerate(shown) if shown.count(text) > 1]
        if not clashing:
            break
        for i in clashing:
            if tagged[i]:
                sizes[i] = len(groups[i][1])
            tagged[i] = True
    return shown


def _shown(label: str, digest: str, limit: int, size: int, *, tagged: bool) -> str:
    if not tagged:
        return label
    tag = f" #{digest[:size]}"
    if len(label) + len(tag) > limit:
        return label[: limit - len(tag) - 1] + "…" + tag
    return label + tag


@dataclass
class _Tally:
    count: int
    head: str  # the label's first MAX_LABEL + 1 characters: enough to show it, or to cut it
    by_attribute: bool


class ErrorTally:
    """Counts per error group, keeping per group a digest of its whole label, a count and the
    label's first ``MAX_LABEL + 1`` characters: never a whole label, which may be a 1 MiB
    attribute value. Groups are at most as many as the messages counted (the sample's cap)."""

    def __init__(self) -> None:
        self._groups: dict[str, _Tally] = {}

    def add(self, label: str, by_attribute: bool) -> None:
        digest = group_key(label, by_attribute)
        tally = self._groups.get(digest)
        if tally is None:
            self._groups[digest] = _Tally(1, label[: MAX_LABEL + 1], by_attribute)
        else:
            tally.count += 1

    def top(self, top: int = TOP_ERROR_GROUPS) -> tuple[tuple[ErrorGroup, ...], int]:
        """The ``top`` largest groups (ties by label: a stable report) and the others' count."""
        ranked = sorted(
            self._groups.items(), key=lambda item: (-item[1].count, item[1].head, item[0])
        )
        chosen = ranked[:top]
        # Tagged with the digest's hex (the kind after it, for two groups of one label)
        shown = shown_labels(
            [(tally.head, key.lstrip("#")) for key, tally in chosen],
            # Tagged whatever: a label --error would not read as itself (an attribute value
            # that reads like a body shape, or like another group's digest).
            tag=[
                reads_like_body_label(tally.head, tally.by_attribute)
                or is_label_digest(tally.head.strip().lower())
                for _, tally in chosen
            ],
        )
        groups = tuple(
            ErrorGroup(
                label=text,
                count=tally.count,
                by_attribute=tally.by_attribute,
                digest=key_digest(key),
            )
            for text, (key, tally) in zip(shown, chosen, strict=True)
        )
        return groups, sum(tally.count for _, tally in ranked[top:])


def group_errors(
    labels: Iterable[tuple[str, bool]], top: int = TOP_ERROR_GROUPS
) -> tuple[tuple[ErrorGroup, ...], int]:
    """The ``top`` most frequent of these (label, by_attribute) groups and the others' count."""
    tally = ErrorTally()
    for label, by_attribute in labels:
        tally.add(label, by_attribute)
    return tally.top(top)


class FigureCounter:
    """The figures of one DLQ, counted one message at a time as a scan receives them.

    It keeps what a figure needs (counters, the oldest time, an ``ErrorTally``) and never a
    message or a body, so a DLQ of 1,000 bodies of 1 MiB costs one receive batch of memory.
    """

    def __init__(
        self,
        *,
        yesterday: TimeWindow,
        tz: ZoneInfo,
        max_redrives: int,
        error_attribute: str | None,
        time_field: str | None = None,
    ) -> None:
        self.yesterday = yesterday
        self.tz = tz
        self.max_redrives = max_redrives
        self.error_attribute = error_attribute
        self.time_field = time_field
        self.sampled = self.arrived = self.unreadable = self.poison = self.poison_yesterday = 0
        self.oldest: datetime | None = None
        self.errors = ErrorTally()

    def add(self, message: ReceivedMessage) -> None:
        """Count one message (each message once)."""
        self.sampled += 1
        try:
            sent: datetime | None = message_time(message, None, self.tz)
        except UnreadableTimeError:
            sent = None  # no SentTimestamp: it cannot be the oldest
        if sent is not None and (self.oldest is None or sent < self.oldest):
            self.oldest = sent
        try:
            arrived = self.yesterday.contains(message_time(message, self.time_field, self.tz))
        except UnreadableTimeError:
            arrived = False
            self.unreadable += 1
        poison = redrive_count(message) >= self.max_redrives
        self.arrived += arrived
        self.poison += poison
        self.poison_yesterday += arrived and poison
        self.errors.add(*error_label(message, self.error_attribute))

    def figures(self, *, capped: bool = False, population: int | None = None) -> SampleFigures:
        """The figures so far; ``population`` is how many messages the DLQ held (default: as
        many as were counted, a whole sample)."""
        groups, other = self.errors.top()
        return SampleFigures(
            sampled=self.sampled,
            capped=capped,
            oldest_sent=self.oldest,
            arrived_yesterday=self.arrived,
            unreadable_time=self.unreadable,
            poison=self.poison,
            error_groups=groups,
            other_errors=other,
            poison_yesterday=self.poison_yesterday,
            population=self.sampled if population is None else population,
        )


def sample_figures(
    messages: Iterable[ReceivedMessage],
    *,
    yesterday: TimeWindow,
    tz: ZoneInfo,
    max_redrives: int,
    error_attribute: str | None,
    time_field: str | None = None,
    capped: bool = False,
    population: int | None = None,
) -> SampleFigures:
    """Figures of a DLQ from the messages a scan sampled (each message once)."""
    counter = FigureCounter(
        yesterday=yesterday,
        tz=tz,
        max_redrives=max_redrives,
        error_attribute=error_attribute,
        time_field=time_field,
    )
    for message in messages:
        counter.add(message)
    return counter.figures(capped=capped, population=population)
