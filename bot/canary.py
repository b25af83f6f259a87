"""A redrive with a canary: move a few messages first, watch whether they come back to the DLQ,
and move the rest only if the consumer now takes them.

The canary's copies carry a fresh lineage (the ``dlq-redrive-lineage`` attribute, set by the
planner), so a copy the consumer dead-letters again is recognised in the DLQ. Watching is done by
the engine itself: an export of the DLQ to an archive that only tallies the messages with that
lineage and their error groups (it writes nothing anywhere and deletes nothing; the messages are
released at once), as often as the DLQ's size makes reasonable (``_watch``). On a FIFO DLQ a look
sees only the first message of each group, and a copy comes back at the end of its group: when a
group the canary moved from still has a message in front, the canary cannot tell and stops
(``Watch.HIDDEN``). The rest runs with the same lineage, so the canary's copies that came back
are not sent again by it (``RedriveReport.returned``), and its own copies carry the lineage too.

A canary can only watch copies that come back to the DLQ carrying its lineage: those sent to an
SQS source queue, whose consumer's failures SQS dead-letters back with their attributes. A DLQ
that SNS subscriptions, EventBridge targets or Lambda functions feed has none for the copies of
their messages (``canary_blocker``): it is redriven without a canary.

Every decision is in this module, with the clock and the sleep passed in: the unit tests run it
against the in-memory SQS with a fake clock, the integration test against moto with a consumer.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import TYPE_CHECKING

from bot.error_groups import error_label
from bot.errors import DlqRedriveError, UsageError
from bot.pacing import Deadline
from bot.redrive_model import Action, RedriveReport, RedriveRequest, StopReason
from bot.selection import Selection, lineage_of

if TYPE_CHECKING:
    from bot.archive_model import ArchiveRecord
    from bot.catalog import Dlq
    from bot.engine import RedriveEngine
    from bot.engine_scan import ProgressCallback

POLL_S = 5.0  # how often the DLQ is looked at for returned copies while waiting (a small one)
# A look is a scan of the whole DLQ: every message received (its receive count bumped) and held
# hidden until the look ends. Looks every POLL_S are only for a DLQ of at most this many messages
# (about 100 receives a look); a larger one is looked at once, at the end of the wait.
SMALL_DLQ = 1_000
# Early looks take at most this share of the wait: after a look of d seconds, the next one comes
# no sooner than d / LOOK_SHARE later (a DLQ that is slow to scan is looked at less often).
LOOK_SHARE = 0.25
# The longest a wait is stretched to cover the sources' settings (``CanaryPlan.stretch``).
MAX_STRETCH_S = 900.0
MAX_LABEL = 200  # characters of an error label kept for the report (labels are untrusted)


@dataclass(frozen=True)
class CanaryPlan:
    """How big the canary is, how long to watch it, and what share of it may come back."""

    size: int = 10
    wait_s: float = 60.0
    max_returned_share: float = 0.1
    # Stretch the wait (up to MAX_STRETCH_S) to the time the sources' settings give a consumer
    # that fails a copy before SQS dead-letters it (``settle_s``), and one look more: a wait the
    # user did not choose should be long enough to see a copy come back at all.
    stretch: bool = False
    max_wait_s: float = MAX_STRETCH_S  # the longest a stretched wait may be

    def __post_init__(self) -> None:
        if self.size < 1:
            raise ValueError(f"a canary moves at least 1 message, not {self.size}")
        if self.wait_s < 0:
            raise ValueError(f"a canary's wait cannot be negative ({self.wait_s} s)")
        if not 0 <= self.max_returned_share < 1:
            raise ValueError(
                f"the share of the canary allowed back is from 0 to below 1, "
                f"not {self.max_returned_share}"
            )


class Watch(Enum):
    """How the watch of the canary ended."""

    WAITED = "waited"  # the whole wait passed
    THRESHOLD = "threshold"  # more came back than allowed: stopped waiting at once
    NOTHING_MOVED = "nothing_moved"  # the canary moved nothing: nothing to watch
    NOTHING_LEFT = "nothing_left"  # the canary moved everything selected: nothing to protect
    CANARY_STOPPED = "canary_stopped"  # the canary's run did not finish (deadline, error, ...)
    DEADLINE = "deadline"  # the time budget ran out while waiting
    CANCELLED = "cancelled"
    UNTRACEABLE = "untraceable"  # no copy of the canary could carry the lineage
    # FIFO: a group the canary moved from still had a message in the DLQ at the end of the wait:
    # its copies come back behind it, where no look can see them (SQS hands out a group's first
    # message only), so whether they came back cannot be told.
    HIDDEN = "hidden"


@dataclass
class CanaryOutcome:
    """What the canary did, what came back, and whether the rest moved."""

    canary: RedriveReport
    returned: int  # the canary's copies found back in the DLQ
    untraceable: int  # canary copies sent without the lineage: not recognisable if back
    returned_errors: Counter[str]  # error labels of what came back (escaped by whoever shows)
    stopped: bool  # True: "the consumer is still failing", the rest was not moved
    rest: RedriveReport | None
    lineage: str = ""
    watch: Watch = Watch.WAITED
    waited_s: float = 0.0
    allowed: int = 0  # how many of the canary could come back without stopping the rest
    max_share: float = 0.0  # the plan's max_returned_share: ``allowed`` of the traceable
    polls: list[int] = field(default_factory=list)  # returned, at each look
    # By the source queues' settings (maxReceiveCount x VisibilityTimeout + DelaySeconds), when
    # a copy its consumer fails comes back, for a consumer that keeps the queue's visibility
    # timeout (0: no source says). A shorter watch cannot have seen it (the words say so).
    settle_s: float = 0.0
    # FIFO: groups the canary moved from that still had a message in the DLQ at the last look
    # (its copies may be behind it, unseen: Watch.HIDDEN).
    hidden_groups: int = 0
    # A DLQ of several sources: those none of the canary's copies went to. The rest moved no
    # message of theirs (their consumers were not tried); a later run's canary tries them.
    untried: tuple[str, ...] = ()
    wait_s: float = 0.0  # the wait the watch was given (the plan's, or stretched)

    @property
    def watched_too_briefly(self) -> bool:
        """The watch ended before a copy failed at the sources' settings' pace could be back."""
        return self.watch is Watch.WAITED and self.waited_s < self.settle_s

    @property
    def moved(self) -> int:
        """Moved by the canary and the rest together."""
        return self.canary.moved + (self.rest.moved if self.rest is not None else 0)


class _ErrorTally:
    """An archive that writes nothing: it counts the records of the canary's lineage and their
    error groups, and keeps the FIFO groups of every record (a FIFO DLQ hands out only the first
    message of each group while it is held, so a look sees one message a group). The engine's
    workers call ``write`` from several threads: one at a time counts."""

    def __init__(self, error_attribute: str | None, lineage: str) -> None:
        self.location = "the canary's watch (nothing written)"
        self.labels: Counter[str] = Counter()
        self.returned = 0
        self.groups: set[str] = set()
        self._error_attribute = error_attribute
        self._lineage = lineage
        self._lock = threading.Lock()

    def write(self, records: Sequence[ArchiveRecord]) -> None:
        received = [r.to_received() for r in records]
        mine = [m for m in received if lineage_of(m) == self._lineage]
        labels = [error_label(m, self._error_attribute)[0] for m in mine]
        groups = {m.attributes.get("MessageGroupId") or "" for m in received} - {""}
        with self._lock:
            self.returned += len(mine)
            self.groups |= groups
            for label in labels:
                short = label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"
                self.labels[short] += 1

    def close(self) -> None:
        pass


def new_lineage() -> str:
    """A lineage no other run uses."""
    # uuid (with platform) is imported here, not at the top: bot.run_control imports this
    # module, and the daily function must not load uuid at every cold start for nothing
    # (tests/deploy/test_handler_imports.py).
    import uuid

    return f"canary-{uuid.uuid4().hex}"


def canary_blocker(dlq: Dlq) -> str | None:
    """Why a canary cannot watch ``dlq`` (plain text, every surface escapes it), or None.

    Only SQS sources' copies come back marked. An SNS subscription's, an EventBridge target's or
    a Lambda function's message goes back to that target: a function's invoke carries no
    attribute at all (Lambda writes the bare payload to its DLQ, with its own attributes), and
    a subscription's or a rule target's queue dead-letters by its own RedrivePolicy, into
    another DLQ. A canary would watch for copies that cannot come back, and let the rest go."""
    if not dlq.feeders:
        return None
    targets = sorted({feeder.describe() for feeder in dlq.feeders})
    return (
        f"{dlq.name} is fed by {'; '.join(targets)}: their copies go to those targets, and a copy "
        f"that fails again there does not come back to {dlq.name} marked as the canary's"
    )


def run_with_canary(
    engine: RedriveEngine,
    dlq: Dlq,
    request: RedriveRequest,
    plan: CanaryPlan,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    deadline: Deadline | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    on_progress: ProgressCallback | None = None,
    error_attribute: str | None = None,
    lineage: str | None = None,
) -> CanaryOutcome:
    """Move ``plan.size`` of the selection, watch the DLQ for their copies for up to
    ``plan.wait_s``, and move the rest unless more than ``plan.max_returned_share`` of the
    canary came back (see the module docstring). A dry run has no canary: it is just counted.

    UsageError, before anything moved, for a DLQ a canary cannot watch (``canary_blocker``)."""
    blocker = canary_blocker(dlq)
    if blocker is not None:
        raise UsageError(f"no canary for {dlq.name}: {blocker}; redrive it with --canary 0")
    lineage = lineage or request.lineage or new_lineage()
    limit = request.selection.limit
    size = plan.size if limit is None else min(plan.size, limit)
    first = replace(request, selection=replace(request.selection, limit=size), lineage=lineage)
    canary = engine.run(dlq, first, deadline=deadline, cancelled=cancelled, on_progress=on_progress)
    outcome = CanaryOutcome(
        canary=canary,
        returned=0,
        untraceable=canary.lineage_dropped,
        returned_errors=Counter(),
        stopped=False,
        rest=None,
        lineage=lineage,
        max_share=plan.max_returned_share,
        settle_s=float(settle_time(dlq)),
        wait_s=plan.wait_s,
    )
    if plan.stretch and outcome.settle_s + POLL_S > plan.wait_s:
        outcome.wait_s = max(plan.wait_s, min(plan.max_wait_s, outcome.settle_s + POLL_S))
    traceable = canary.moved - canary.lineage_dropped
    outcome.allowed = int(plan.max_returned_share * traceable)
    if request.dry_run or canary.moved == 0:
        outcome.watch = Watch.NOTHING_MOVED
        return outcome
    if not canary.finished:
        outcome.watch = Watch.CANARY_STOPPED
        return outcome
    if canary.stopped is StopReason.DRAINED or (limit is not None and canary.matched >= limit):
        outcome.watch = Watch.NOTHING_LEFT
        return outcome
    if traceable <= 0:
        # None of its copies can be recognised: whether they came back cannot be told, so the
        # rest does not move on a guess.
        outcome.watch, outcome.stopped = Watch.UNTRACEABLE, True
        return outcome
    _watch(engine, dlq, request, plan, outcome, sleep, clock, deadline, cancelled, error_attribute)
    if outcome.stopped or outcome.watch in (Watch.DEADLINE, Watch.CANCELLED):
        return outcome
    left = None if limit is None else limit - canary.moved
    if left is not None and left <= 0:
        return outcome
    selection = replace(request.selection, limit=left)
    if request.to is None and len(dlq.sources) > 1:
        # The rest goes only to the consumers the canary tried: a canary that happened to take
        # one healthy source's messages says nothing of another source's broken consumer.
        tried = frozenset(canary.by_destination)
        outcome.untried = tuple(sorted(set(dlq.source_names) - tried))
        if outcome.untried:
            sources = tried if selection.sources is None else selection.sources & tried
            selection = replace(selection, sources=sources)
    rest = replace(request, selection=selection, lineage=lineage)
    outcome.rest = engine.run(
        dlq, rest, deadline=deadline, cancelled=cancelled, on_progress=on_progress
    )
    return outcome


def settle_time(dlq: Dlq) -> int:
    """The longest, by the settings of ``dlq``'s sources, a copy its consumer fails takes to be
    dead-lettered back (0: no source has a RedrivePolicy that says)."""
    return max(
        (s.dead_letters_within_s for s in dlq.sources if s.dead_letters_within_s is not None),
        default=0,
    )


def _small(engine: RedriveEngine, dlq: Dlq) -> bool:
    """Whether the DLQ holds few enough messages to be looked at every POLL_S (SQS's
    approximate counts; a DLQ whose counts cannot be read is taken as large: fewer looks)."""
    try:
        info = engine.sqs.queue_info(dlq.info.url)
    except DlqRedriveError:  # AWS refused, or the DLQ is gone: the look will say
        return False
    return info.visible + info.in_flight + info.delayed <= SMALL_DLQ


def _nap(seconds: float, sleep: Callable[[float], None], cancelled: Callable[[], bool]) -> bool:
    """Sleep ``seconds`` in slices of at most POLL_S, so a Ctrl-C (which only sets a flag) is
    heard within POLL_S however long the wait between looks; False: cancelled meanwhile."""
    while seconds > 0:
        step = min(POLL_S, seconds)
        sleep(step)
        seconds -= step
        if cancelled():
            return False
    return True


def _watch(
    engine: RedriveEngine,
    dlq: Dlq,
    request: RedriveRequest,
    plan: CanaryPlan,
    outcome: CanaryOutcome,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    deadline: Deadline | None,
    cancelled: Callable[[], bool],
    error_attribute: str | None,
) -> None:
    """Look at the DLQ for the canary's copies until the wait is over, or more came back than
    allowed (then ``outcome.stopped``), or the time budget or a cancel ends it.

    A look scans the whole DLQ, so how often it looks is in proportion to the DLQ: every POLL_S
    (or longer, when a look took long: LOOK_SHARE) while it holds at most SMALL_DLQ messages,
    else once at the end of the wait (before the time budget ends, if it ends first)."""
    started = clock()
    gap = POLL_S
    while True:
        left = outcome.wait_s - (clock() - started)
        if left <= 0:
            outcome.watch = Watch.WAITED
            break
        budget = deadline.remaining() if deadline is not None else None
        if budget is not None and budget <= min(POLL_S, left):
            outcome.watch = Watch.DEADLINE
            break
        if _small(engine, dlq):
            nap = min(gap, left)
        else:
            # One look at the end of the wait; or before the budget ends, so it still counts.
            nap = left if budget is None else min(left, max(0.0, budget - POLL_S))
        if not _nap(nap, sleep, cancelled):
            outcome.watch = Watch.CANCELLED
            break
        began = clock()
        tally = _ErrorTally(error_attribute, outcome.lineage)
        look = RedriveRequest(
            # Every message, not only the lineage's: on a FIFO DLQ the look must know which
            # groups have a message in front (the tally counts the lineage's apart).
            selection=Selection(),
            action=Action.EXPORT,
            archive=tally,
            workers=request.workers,
            visibility_timeout=request.visibility_timeout,
            confirm_empty_wait_s=request.confirm_empty_wait_s,
        )
        engine.run(dlq, look, deadline=deadline, cancelled=cancelled)
        gap = max(POLL_S, (clock() - began) / LOOK_SHARE)
        outcome.polls.append(tally.returned)
        # Copies only come back while the wait goes on: the largest look is the truest one
        # (a later one can miss a copy another consumer held at that moment).
        if tally.returned >= outcome.returned:
            outcome.returned, outcome.returned_errors = tally.returned, tally.labels
        if outcome.returned > outcome.allowed:
            outcome.watch, outcome.stopped = Watch.THRESHOLD, True
            break
        # The canary's groups seen in the DLQ at the last look: copies may wait behind them.
        outcome.hidden_groups = len(outcome.canary.lineage_groups & tally.groups)
    outcome.waited_s = clock() - started
    if outcome.watch is Watch.WAITED and outcome.hidden_groups:
        outcome.watch, outcome.stopped = Watch.HIDDEN, True
