"""What a redrive is asked to do (``RedriveRequest``) and what it did (``RedriveReport``,
``StopReason``).

One engine loop does every DLQ action (``Action``): redrive (copy to SQS, then delete), discard
(archive record, then delete), export (archive record, then release), and edit (a redrive of one
message with a new body, ``EditSpec``). They differ only in where the copy goes before the
original may be deleted, and whether it is deleted.

Plain data, no I/O, apart from the engine, so that code which only builds a request or words a
report (the Slack blocks, their tests) need not load the engine, the SQS gateway or boto3.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import TYPE_CHECKING, Any

from bot.pacing import check_rate
from bot.selection import Selection

if TYPE_CHECKING:
    from bot.archive_model import ArchiveSink
    from bot.sqs_model import QueueInfo


# A run's later parts are told what its earlier parts sent without an answer
# (``RedriveRequest.not_again``) through a record of bounded size: the Slack run's record in
# DynamoDB (400 KB an item), the daily job's continuation event (Lambda's 256 KB). At most this
# many ids (an SQS message id is 36 characters): lost answers are rare. Past the cap the newest
# are not carried, and a later part may send those a second time (the part that lost each
# answer counted it unconfirmed, so the run's summary said it may have been delivered).
MAX_NOT_AGAIN = 5_000


def not_again_after(
    before: Sequence[str], unconfirmed: AbstractSet[str], *, cap: int = MAX_NOT_AGAIN
) -> tuple[str, ...]:
    """What the parts of a run after this one must not send again: what earlier parts carried
    (``before``, kept first: it was carried longest) and the ids this part left unconfirmed
    (``RedriveReport.unconfirmed_ids``), at most ``cap``."""
    carried = set(before)
    new = sorted(unconfirmed - carried)
    return (*before, *new)[: max(cap, 0)]


class Action(StrEnum):
    """What the run does with each selected message."""

    REDRIVE = "redrive"  # copy to its source (or --to), delete after SQS confirmed
    DISCARD = "discard"  # archive record (if an archive), delete after the write returned
    EXPORT = "export"  # archive record, then the message is released (stays in the DLQ)


@dataclass(frozen=True)
class EditSpec:
    """Edit and resend: the one message (by id) and the body its copy carries instead."""

    message_id: str
    body: str


class StopReason(Enum):
    DRAINED = "drained"  # the DLQ had nothing more to give
    LIMIT = "limit"  # --limit reached
    DEADLINE = "deadline"  # time budget used up
    CANCELLED = "cancelled"
    IN_FLIGHT_LIMIT = "in_flight_limit"  # too many unselected messages held
    ERROR = "error"


@dataclass(frozen=True)
class RedriveRequest:
    """Everything a redrive is asked to do, already validated."""

    selection: Selection = field(default_factory=Selection)
    to: QueueInfo | None = None  # --to: every message goes there, whatever its source
    dry_run: bool = False
    force: bool = False
    workers: int = 4
    rate: float | None = None
    visibility_timeout: int = 300
    confirm_empty_wait_s: int = 1
    max_batch_bytes: int | None = None  # default: the destination's MaximumMessageSize
    send_attempts: int = 3
    max_held: int | None = None  # default: just under SQS's in-flight quota for the queue type
    action: Action = Action.REDRIVE
    # DISCARD: the archive (None only with --no-archive); EXPORT: the output (required).
    archive: ArchiveSink | None = None
    edit: EditSpec | None = None  # REDRIVE of exactly that message, with the new body
    lineage: str | None = None  # stamped on every copy sent (the canary finds its returns)
    # An approval's destinations (``destination`` labels its card counted): a message routed
    # anywhere else stays in the DLQ, failed NotApproved. None: wherever it routes.
    only_to: frozenset[str] | None = None
    # The message ids whose copy an earlier part of the same run (an invocation before this
    # continuation) sent without an answer (``RedriveReport.unconfirmed_ids``): they may have
    # been delivered, so they stay in the DLQ, counted unconfirmed again, never sent again.
    not_again: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        check_rate(self.rate, self.workers, self.visibility_timeout)
        if self.action is Action.EXPORT and self.archive is None:
            raise ValueError("an export needs an archive to write to")
        if self.edit is not None and self.action is not Action.REDRIVE:
            raise ValueError("an edit is a redrive of one message")


@dataclass
class RedriveReport:
    """What a run did. ``to_dict`` is the CLI's ``--json`` and what Slack and the daily job show."""

    dlq: str
    dry_run: bool
    selection: str
    scanned: int = 0
    matched: int = 0
    moved: int = 0
    failed: int = 0
    # Sent, but SQS's answer was lost (connection reset, timeout): the copy may have been
    # delivered. Not deleted, not sent again in this run; never counted as failed.
    unconfirmed: int = 0
    unconfirmed_reason: str | None = None  # the last lost answer's error, for the summary
    # Their message ids, for a continuation of the run (``RedriveRequest.not_again``).
    unconfirmed_ids: set[str] = field(default_factory=set)
    # FIFO: selected, but an earlier message of its group did not move, so it was not sent (a
    # group's order is never broken); kept in the DLQ for a later run.
    held_back: int = 0
    # Selected, but the run stopped on an error before it sent them: kept in the DLQ.
    not_attempted: int = 0
    skipped: int = 0
    out_of_window: int = 0
    unreadable: int = 0
    # Redriven MAX_REDRIVES times already (poison), or its target cannot take it as configured
    # (an EventBridge ERROR_CODE such as NO_PERMISSIONS: ``needs_human_reasons``).
    needs_human: int = 0
    needs_human_reasons: Counter[str] = field(default_factory=Counter)  # reason -> messages
    no_source: int = 0  # no recorded source in a DLQ with several: held for a human (or --to)
    no_source_reason: str | None = None
    over_limit: int = 0
    # Copies this run's lineage sent (a canary and the rest after it) that came back to the DLQ
    # during the run: the consumer failed them again; not sent again, left for a human.
    returned: int = 0
    counter_dropped: int = 0
    lineage_dropped: int = 0  # copies sent without the lineage attribute (no room): untraceable
    delete_failed: int = 0
    # Archive records durably written (DISCARD, EXPORT); where they went.
    archived: int = 0
    archive_location: str | None = None
    redelivered: int = 0  # delivered again while this run was moving it: not sent twice
    # FIFO: groups of which the run held a message (not selected, failed, ...; not those over
    # --limit): SQS hands out none of a group's later messages while one is in flight, so the
    # scan may not have seen all of theirs. An upper bound of the groups it missed messages of.
    blocked_groups: int = 0
    released: int = 0
    # In the DLQ after the run released what it held: visible + in flight + delayed, from SQS's
    # approximate counts (in flight includes what other consumers hold). None if unreadable.
    remaining: int | None = None
    dlq_missing: bool = False  # the DLQ no longer existed at the end (deleted during the run)
    stopped: StopReason = StopReason.DRAINED
    error: str | None = None
    duration_s: float = 0.0
    by_destination: Counter[str] = field(default_factory=Counter)
    # FIFO: the groups of the copies sent with a lineage (a canary's): a FIFO DLQ shows only the
    # first message of each group, so the canary's watch must know where its copies may hide.
    lineage_groups: set[str] = field(default_factory=set)
    failure_reasons: Counter[str] = field(default_factory=Counter)
    failures: list[dict[str, str]] = field(default_factory=list)
    api_calls: Counter[str] = field(default_factory=Counter)
    # A dry run: the ``pin_digest`` of every message it counted matched, for the ``Pin`` of the
    # run its approval starts; None when it matched more than PIN_MAX_IDS (and on a real run).
    # Not in ``to_dict``: it is for pinning an approval, not for showing.
    matched_digests: frozenset[bytes] | None = None

    @property
    def finished(self) -> bool:
        """The scan ended by itself: the DLQ had nothing more to give, or --limit was reached.
        Whether to go on (a re-run, a continuation) is decided by this, never by ``complete``:
        a finished run with failures would only find the same messages again."""
        return self.stopped in (StopReason.DRAINED, StopReason.LIMIT)

    @property
    def unseen(self) -> int:
        """A dry run that ended as drained while SQS still counts more messages in the DLQ than
        it looked at (it holds every one it counts and released them before counting): those
        it never received. SQS can stop handing out messages while some are visible (short
        polls sample hosts; the drill saw a 1 s long poll come back empty with 5,888 visible),
        or more arrived: either way the count did not see every message. 0 otherwise."""
        if not self.dry_run or self.stopped is not StopReason.DRAINED or self.remaining is None:
            return 0
        return max(0, self.remaining - self.scanned)

    @property
    def went_wrong(self) -> bool:
        """Something kept selected messages from moving: an error, failed, unconfirmed, held
        back or not attempted messages, a delete SQS refused, or FIFO groups left unscanned."""
        return self.stopped is StopReason.ERROR or any(
            (
                self.failed,
                self.unconfirmed,
                self.held_back,
                self.not_attempted,
                self.delete_failed,
                self.blocked_groups,
            )
        )

    @property
    def complete(self) -> bool:
        """Everything selected moved (a dry run: could move): finished, nothing went wrong."""
        return self.finished and not self.went_wrong

    @property
    def destined(self) -> int:
        """Moved (a dry run: would move, those the destination can take), over all destinations."""
        return sum(self.by_destination.values())

    @property
    def rate(self) -> float:
        """Messages per second: moved to a queue, else archived (export), else deleted."""
        done = self.destined or self.archived or self.moved
        return done / self.duration_s if self.duration_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "dlq": self.dlq,
            "dry_run": self.dry_run,
            "selection": self.selection,
            "scanned": self.scanned,
            "matched": self.matched,
            "moved": self.moved,
            "failed": self.failed,
            "unconfirmed": self.unconfirmed,
            "unconfirmed_reason": self.unconfirmed_reason,
            "held_back": self.held_back,
            "not_attempted": self.not_attempted,
            "skipped": self.skipped,
            "skipped_detail": {
                "out_of_window": self.out_of_window,
                "unreadable_time": self.unreadable,
                "needs_human": self.needs_human,
                "no_source": self.no_source,
                "over_limit": self.over_limit,
                "returned_during_run": self.returned,
            },
            "needs_human": self.needs_human,
            "needs_human_reasons": dict(self.needs_human_reasons),
            "no_source_reason": self.no_source_reason,
            "archived": self.archived,
            "archive_location": self.archive_location,
            "warnings": {
                "sent_without_counter": self.counter_dropped,
                "sent_without_lineage": self.lineage_dropped,
                "sent_but_not_deleted": self.delete_failed,
                "delivered_twice_sent_once": self.redelivered,
            },
            "blocked_groups": self.blocked_groups,
            "released": self.released,
            "remaining": self.remaining,
            "dlq_missing": self.dlq_missing,
            "stopped": self.stopped.value,
            "complete": self.complete,
            "error": self.error,
            "duration_s": round(self.duration_s, 3),
            "msgs_per_s": round(self.rate, 1),
            "by_destination": dict(self.by_destination),
            "failure_reasons": dict(self.failure_reasons),
            "failures": list(self.failures),
            "api_calls": dict(self.api_calls),
        }
