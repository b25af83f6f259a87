"""The redrive engine: stream messages out of a DLQ and back to where they came from.

The loop is small on purpose; the decisions live in ``selection`` (which messages) and ``planner``
(what to send). The one rule this module exists to keep:

    a message is deleted from the DLQ only after SQS listed its copy in ``Successful``.

Every other message the scan touched (not selected, unreadable, poison, over the limit, failed to
send) is held invisible while the scan runs, so it is not received twice, and made visible again
(ChangeMessageVisibility 0) when the scan ends, however it ends (drained, limit, deadline, cancel,
error).

Stopping: a run stops for the first reason found (drained, limit, deadline, cancel, in-flight
quota), except that an AWS error always wins, so an error is never reported as success. Every
stop, a cancel included, ends the same way: no worker starts another receive, each finishes the
batch it holds, and everything held is released.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, Protocol

from bot.catalog import Dlq
from bot.errors import DlqRedriveError, QueueNotFoundError, SendAnswerLostError, UsageError
from bot.planner import (
    MAX_BATCH_BYTES,
    Outgoing,
    batch_entries,
    batches,
    build_outgoing,
    group_waves,
)
from bot.selection import Selection, Verdict, judge, needs_human
from bot.sqs_gateway import QueueInfo, ReceivedMessage, SendFailure, SqsApi

MAX_FAILURE_DETAILS = 50
# SQS refuses receives past 120,000 in-flight messages on a queue, FIFO too since 2025 (it was
# 20,000); a scan that holds unselected messages stops a little before that and reports the rest.
MAX_HELD = 110_000
TAKEN_MEMORY = 20_000  # selected message ids remembered against a second delivery
RECEIVE_BATCH = 10  # messages per ReceiveMessage, and so the rate tokens a worker takes at once
STOP_POLL_S = 0.05  # how often a waiting worker asks whether the run was cancelled


class StopReason(Enum):
    DRAINED = "drained"  # the DLQ had nothing more to give
    LIMIT = "limit"  # --limit reached
    DEADLINE = "deadline"  # time budget used up
    CANCELLED = "cancelled"
    IN_FLIGHT_LIMIT = "in_flight_limit"  # too many unselected messages held
    ERROR = "error"


class Deadline:
    """A point in time after which no new batch is started."""

    def __init__(self, seconds: float | None, *, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._at = None if seconds is None else clock() + seconds

    @classmethod
    def from_lambda_context(cls, context: Any, *, reserve_s: float = 20.0) -> Deadline:
        """The Lambda's remaining time, minus a reserve to release held messages and report."""
        remaining = context.get_remaining_time_in_millis() / 1000
        return cls(max(0.0, remaining - reserve_s))

    def remaining(self) -> float | None:
        return None if self._at is None else self._at - self._clock()

    def expired(self) -> bool:
        remaining = self.remaining()
        return remaining is not None and remaining <= 0


class RateLimiter:
    """A token schedule shared by the workers: on average at most ``per_second`` messages.

    A worker reserves the tokens of a whole receive *before* receiving, so messages never wait
    for tokens while they are held invisible, and gives back what the receive did not use. The
    caller does the waiting (it must wake when the run stops); this only says how long.
    """

    def __init__(
        self, per_second: float | None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_second = per_second
        self._clock = clock
        self._lock = threading.Lock()
        self._next = clock()

    def reserve(self, count: int) -> float:
        """Take ``count`` tokens; the seconds to wait before using them (0: at once)."""
        if not self.per_second:
            return 0.0
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + count / self.per_second
        return start - now

    def refund(self, count: int) -> None:
        """Give back ``count`` reserved tokens that were not used."""
        if self.per_second and count > 0:
            with self._lock:
                self._next -= count / self.per_second


def check_rate(rate: float | None, workers: int, visibility_timeout: int) -> None:
    """Refuse a ``rate`` at which a worker could wait longer than the visibility timeout.

    Each worker takes the tokens of a whole receive, so with every worker waiting the last one
    waits ``workers × 10 / rate`` seconds; longer than the visibility timeout, the messages the
    run holds would come back (and be received again) while it waits.
    """
    if not rate:
        return
    wait = max(1, workers) * RECEIVE_BATCH / rate
    if wait <= visibility_timeout:
        return
    fitting = math.floor(visibility_timeout * rate / RECEIVE_BATCH)
    lowest_rate = math.ceil(RECEIVE_BATCH / visibility_timeout * 1000) / 1000
    fix = (
        f"at most {fitting} workers at this rate"
        if fitting >= 1
        else f"a --rate of at least {lowest_rate:g}"
    )
    raise UsageError(
        f"--rate {rate:g} with {workers} worker(s) can make a worker wait {wait:,.0f} s for its "
        f"next {RECEIVE_BATCH} messages, longer than the {visibility_timeout} s visibility "
        f"timeout: use {fix}, or a longer --visibility-timeout"
    )


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

    def __post_init__(self) -> None:
        check_rate(self.rate, self.workers, self.visibility_timeout)


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
    # FIFO: selected, but an earlier message of its group did not move, so it was not sent (a
    # group's order is never broken); kept in the DLQ for a later run.
    held_back: int = 0
    skipped: int = 0
    out_of_window: int = 0
    unreadable: int = 0
    needs_human: int = 0  # redriven MAX_REDRIVES times already (poison)
    no_source: int = 0  # no recorded source in a DLQ with several: held for a human (or --to)
    no_source_reason: str | None = None
    over_limit: int = 0
    counter_dropped: int = 0
    delete_failed: int = 0
    redelivered: int = 0  # delivered again while this run was moving it: not sent twice
    released: int = 0
    # In the DLQ after the run released what it held: visible + in flight + delayed, from SQS's
    # approximate counts (in flight includes what other consumers hold). None if unreadable.
    remaining: int | None = None
    stopped: StopReason = StopReason.DRAINED
    error: str | None = None
    duration_s: float = 0.0
    by_destination: Counter[str] = field(default_factory=Counter)
    failure_reasons: Counter[str] = field(default_factory=Counter)
    failures: list[dict[str, str]] = field(default_factory=list)
    api_calls: Counter[str] = field(default_factory=Counter)

    @property
    def complete(self) -> bool:
        return self.stopped in (StopReason.DRAINED, StopReason.LIMIT)

    @property
    def rate(self) -> float:
        count = self.matched if self.dry_run else self.moved
        return count / self.duration_s if self.duration_s > 0 else 0.0

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
            "skipped": self.skipped,
            "skipped_detail": {
                "out_of_window": self.out_of_window,
                "unreadable_time": self.unreadable,
                "needs_human": self.needs_human,
                "no_source": self.no_source,
                "over_limit": self.over_limit,
            },
            "needs_human": self.needs_human,
            "no_source_reason": self.no_source_reason,
            "warnings": {
                "sent_without_counter": self.counter_dropped,
                "sent_but_not_deleted": self.delete_failed,
                "delivered_twice_sent_once": self.redelivered,
            },
            "released": self.released,
            "remaining": self.remaining,
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


ProgressCallback = Callable[[RedriveReport], None]


class _Stop(Exception):
    """Raised inside a worker to end the whole scan with a reason."""

    def __init__(self, reason: StopReason, message: str | None = None) -> None:
        super().__init__(message or reason.value)
        self.reason = reason
        self.message = message


@dataclass(slots=True)
class _Candidate:
    """A selected message on its way: where it goes, and what travels (or why it cannot)."""

    message: ReceivedMessage
    destination: str  # the queue's name
    url: str = ""
    item: Outgoing | None = None  # built for the destination's MaximumMessageSize
    failure: tuple[str, str] | None = None  # (code, reason): it stays in the DLQ, failed


class RedriveLedger(Protocol):
    """How often messages that cannot carry the ``dlq-redrive-count`` attribute (10 attributes
    already, or no room left in the message size) were redriven, by ``content_digest``.

    Without one, such a message escapes MAX_REDRIVES; the daily job keeps one in its state table.
    """

    def counts(self, dlq: str, digests: Collection[str]) -> dict[str, int]:
        """The recorded redrives of each digest (absent: none)."""
        ...

    def record(self, dlq: str, digests: Sequence[str]) -> None:
        """Add one redrive for each digest (a digest listed twice counts twice)."""
        ...


def content_digest(entry: Mapping[str, Any]) -> str:
    """A message's identity across redrives (SQS gives every copy a new id): the sha256 of the
    body and message attributes of its SendMessageBatch ``entry``. Identical messages share it."""

    def value(raw: Any) -> Any:
        if isinstance(raw, bytes | bytearray):
            return base64.b64encode(raw).decode("ascii")
        if isinstance(raw, list):
            return [value(item) for item in raw]
        return raw

    attributes = {
        name: {key: value(raw) for key, raw in attribute.items()}
        for name, attribute in entry.get("MessageAttributes", {}).items()
    }
    canonical = json.dumps(
        {"body": entry["MessageBody"], "attributes": attributes},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


class RedriveEngine:
    """Moves messages from a DLQ back to their source queues; see the module docstring.

    ``ledger`` (optional) counts the redrives of messages that cannot carry the counter.
    """

    def __init__(
        self,
        sqs: SqsApi,
        *,
        max_redrives: int,
        timezone: Any,
        ledger: RedriveLedger | None = None,
    ) -> None:
        self.sqs = sqs
        self.max_redrives = max_redrives
        self.timezone = timezone
        self.ledger = ledger

    def run(
        self,
        dlq: Dlq,
        request: RedriveRequest,
        *,
        deadline: Deadline | None = None,
        cancelled: Callable[[], bool] = lambda: False,
        on_progress: ProgressCallback | None = None,
    ) -> RedriveReport:
        run = _Run(self, dlq, request, deadline or Deadline(None), cancelled, on_progress)
        return run.execute()


class _Run:
    """The state of one redrive run, shared by its worker threads."""

    def __init__(
        self,
        engine: RedriveEngine,
        dlq: Dlq,
        request: RedriveRequest,
        deadline: Deadline,
        cancelled: Callable[[], bool],
        on_progress: ProgressCallback | None,
    ) -> None:
        self.engine = engine
        self.sqs = engine.sqs
        self.dlq = dlq
        self.request = request
        self.deadline = deadline
        self.cancelled = cancelled
        self.on_progress = on_progress
        self.report = RedriveReport(
            dlq=dlq.name,
            dry_run=request.dry_run,
            selection=request.selection.describe(engine.timezone),
        )
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.held: dict[str, str] = {}  # message id -> receipt handle, released at the end
        # Selected messages whose copy is being sent: id -> every receipt handle received for it.
        # SQS delivers at least once, so a second delivery (a new handle) can arrive meanwhile,
        # and a delete with an older handle "succeeds, but the message might not be deleted".
        self.sending: dict[str, list[str]] = {}
        # Ids whose copy is confirmed, so a later delivery is deleted, never sent or released;
        # the most recent TAKEN_MEMORY are enough, since it comes within the same few calls.
        self.moved_ids: OrderedDict[str, None] = OrderedDict()
        self.stop_decided = False  # a stop reason was recorded (under ``lock``)
        self.rate = RateLimiter(None if request.dry_run else request.rate)
        self.rate_turn = threading.Lock()  # with a rate, one worker at a time waits and receives
        self.max_held = request.max_held or MAX_HELD
        # Each destination's MaximumMessageSize, read once per run (those the catalog read are
        # known already): messages are built, refused and batched to fit it.
        known = (*dlq.sources, *([request.to] if request.to is not None else []))
        self.size_limits: dict[str, int] = {q.url: q.max_message_bytes for q in known}
        self.size_lock = threading.Lock()
        # FIFO groups with a message that did not move in this run: no later one of the group
        # may be sent, or the group's order would be broken (under ``lock``).
        self.stalled_groups: set[str] = set()
        self.visibility = self._visibility_timeout()

    def _visibility_timeout(self) -> int:
        # Held messages must stay invisible until the scan ends; with a deadline the scan ends by
        # then, so the timeout follows it (SQS allows up to 12 hours).
        remaining = self.deadline.remaining()
        if remaining is None:
            return self.request.visibility_timeout
        return max(30, min(43_200, int(remaining) + 60))

    # --- the scan ---------------------------------------------------------------------------

    def execute(self) -> RedriveReport:
        started = time.monotonic()
        workers = max(1, self.request.workers)
        try:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="redrive") as pool:
                futures = [pool.submit(self._worker) for _ in range(workers)]
                for future in futures:
                    future.result()
        finally:
            self._release_held()
            self.report.duration_s = time.monotonic() - started
            self.report.remaining = self._remaining()
        return self.report

    def _worker(self) -> None:
        try:
            while not self.stop_event.is_set():
                self._check_limits()
                messages = self._next_batch()
                if messages is None:
                    continue  # the wait for rate tokens ended because the run is stopping
                if not messages:
                    return
                try:
                    self._handle(messages)
                except BaseException:
                    # Whatever interrupted the batch, its messages are released at the end, so
                    # none stays hidden for the whole visibility timeout (but none already moved).
                    self._keep_unfinished(messages)
                    raise
                if self.on_progress is not None:
                    with self.lock:
                        self.on_progress(self.report)
        except _Stop as stop:
            self._stop(stop.reason, stop.message)
        except DlqRedriveError as exc:
            # AWS refused a call (access denied, the DLQ deleted, ...): stop everyone, release what
            # is held, and report what was done so far with the reason.
            self._stop(StopReason.ERROR, str(exc))
        except BaseException as exc:  # a bug: stop everyone, release, re-raise
            self._stop(StopReason.ERROR, f"{type(exc).__name__}: {exc}")
            raise

    def _stop(self, reason: StopReason, message: str | None = None) -> None:
        with self.lock:
            self._stop_locked(reason, message)

    def _stop_locked(self, reason: StopReason, message: str | None = None) -> None:
        """Stop every worker; the first reason is kept, except that an error replaces any other
        (a limit reached after an AWS error must not report the run complete)."""
        replace_it = reason is StopReason.ERROR and self.report.stopped is not StopReason.ERROR
        if not self.stop_decided or replace_it:
            self.stop_decided = True
            self.report.stopped = reason
            self.report.error = message
        self.stop_event.set()

    def _check_limits(self) -> None:
        if self.deadline.expired():
            raise _Stop(StopReason.DEADLINE)
        if self.cancelled():
            raise _Stop(StopReason.CANCELLED)
        if len(self.held) >= self.max_held:
            raise _Stop(StopReason.IN_FLIGHT_LIMIT)

    def _next_batch(self) -> list[ReceivedMessage] | None:
        """Receive the next batch, after its rate tokens; None if the run stopped meanwhile.

        With a rate, workers take turns to wait for their tokens and receive, so the tokens an
        empty (or short) receive gives back serve the next worker at once: a DLQ that runs dry
        costs one wait, not one already reserved by every worker.
        """
        if not self.rate.per_second:
            return self._receive()
        with self.rate_turn:
            if self.stop_event.is_set():
                return None
            self._check_limits()
            if not self._take_tokens():
                return None
            messages = self._receive()
            self.rate.refund(RECEIVE_BATCH - len(messages))
            return messages

    def _take_tokens(self) -> bool:
        """Wait for the rate limit's tokens of one receive; False if the run stopped meanwhile.

        A wait that would end past the deadline is not started: the run stops there at once.
        """
        delay = self.rate.reserve(RECEIVE_BATCH)
        if delay <= 0:
            return True
        left = self.deadline.remaining()
        if left is not None and delay >= left:
            self.rate.refund(RECEIVE_BATCH)
            raise _Stop(StopReason.DEADLINE)
        if self._pause(delay):
            return True
        self.rate.refund(RECEIVE_BATCH)
        return False

    def _pause(self, seconds: float) -> bool:
        """Wait ``seconds``, waking at once when the run stops; True if the time passed.

        A cancel from outside (a signal handler, a Slack button) is a callable, so it is asked
        every STOP_POLL_S; a stop from another worker wakes the wait directly.
        """
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if self.stop_event.wait(min(left, STOP_POLL_S)):
                return False
            self._check_limits()
        return not self.stop_event.is_set()

    def _receive(self) -> list[ReceivedMessage]:
        url = self.dlq.info.url
        messages = self.sqs.receive(
            url, max_messages=10, visibility_timeout=self.visibility, wait_seconds=0
        )
        self._count_call("ReceiveMessage")
        if not messages and self.request.confirm_empty_wait_s > 0 and not self.stop_event.is_set():
            # Short polling samples a subset of SQS hosts, so an empty answer may be false. When
            # SQS says nothing is visible the scan is done at once; otherwise one long poll
            # (which asks every host) decides.
            if self._visible_count() == 0:
                return []
            messages = self.sqs.receive(
                url,
                max_messages=10,
                visibility_timeout=self.visibility,
                wait_seconds=self.request.confirm_empty_wait_s,
            )
            self._count_call("ReceiveMessage")
        return messages

    def _visible_count(self) -> int | None:
        try:
            info = self.sqs.queue_info(self.dlq.info.url)
        except DlqRedriveError:
            return None  # unknown: fall back to the long poll
        finally:
            self._count_call("GetQueueAttributes")
        return info.visible

    def _count_call(self, name: str, count: int = 1) -> None:
        with self.lock:
            self.report.api_calls[name] += count

    def _handle(self, messages: list[ReceivedMessage]) -> None:
        """Judge, route and build a received batch, then send what is selected.

        Whether a message can carry the counter depends on the destination's size, so a
        message is built for its destination first and judged poison by what travels: its
        counter, or for one that travels without it, the ledger's count of that very entry
        (one ledger question per batch, none when every message carries the counter).
        """
        copies_confirmed: list[str] = []  # receipt handles of second deliveries already moved
        candidates = [self._prepare(message) for message in self._claim(messages, copies_confirmed)]
        recorded = self._recorded_redrives(candidates)
        to_send: dict[str, tuple[str, list[Outgoing]]] = {}
        failures: list[tuple[_Candidate, tuple[str, str]]] = []
        report = self.report
        with self.lock:
            for candidate in candidates:
                message = candidate.message
                count = recorded.get(message.message_id, 0)
                if count and needs_human(
                    message, max_redrives=self.engine.max_redrives, recorded_redrives=count
                ):
                    report.skipped += 1
                    report.needs_human += 1
                    self._hold(message)
                elif self._limit_reached():
                    report.over_limit += 1
                    report.skipped += 1
                    self._hold(message)
                else:
                    report.matched += 1
                    if candidate.failure is not None:
                        failures.append((candidate, candidate.failure))
                    elif self.request.dry_run:
                        report.by_destination[candidate.destination] += 1
                        self._hold(message)
                    elif candidate.item is not None:
                        to_send.setdefault(candidate.url, (candidate.destination, []))[1].append(
                            candidate.item
                        )
        for candidate, (code, reason) in failures:
            self._fail(candidate.message, code, reason, candidate.destination)
        if copies_confirmed:
            failed = self.sqs.delete_batch(self.dlq.info.url, copies_confirmed)
            self._count_call("DeleteMessageBatch")
            with self.lock:
                report.delete_failed += len(failed)
        for url, (name, items) in to_send.items():
            self._send_all(url, name, items)

    def _claim(
        self, messages: list[ReceivedMessage], copies_confirmed: list[str]
    ) -> list[ReceivedMessage]:
        """The messages of a batch that may be selected, claimed (in ``sending``) so that a
        second delivery meanwhile is not taken twice; the others are held, counted, or (a
        second delivery of a moved message) listed in ``copies_confirmed`` for deletion."""
        verdicts = [
            judge(
                message,
                self.request.selection,
                self.engine.timezone,
                max_redrives=self.engine.max_redrives,
                force=self.request.force,
            )
            for message in messages
        ]
        claimed: list[ReceivedMessage] = []
        report = self.report
        with self.lock:
            for message, verdict in zip(messages, verdicts, strict=True):
                if message.message_id in self.held:
                    # Seen before in this scan (its visibility ran out): refresh the handle only.
                    self.held[message.message_id] = message.receipt_handle
                    continue
                # A second delivery of a message this run is moving is never sent twice.
                handles = self.sending.get(message.message_id)
                if handles is not None:  # still being sent: deleted or kept with the others
                    report.redelivered += 1
                    handles.append(message.receipt_handle)
                    continue
                if message.message_id in self.moved_ids:  # its copy is confirmed: delete it
                    report.redelivered += 1
                    copies_confirmed.append(message.receipt_handle)
                    continue
                report.scanned += 1
                if verdict is Verdict.SELECT and self._no_source(message):
                    report.no_source += 1
                    report.skipped += 1
                    self.held[message.message_id] = message.receipt_handle
                elif verdict is not Verdict.SELECT:
                    self._count_skip(verdict)
                    self.held[message.message_id] = message.receipt_handle
                else:
                    self.sending[message.message_id] = [message.receipt_handle]
                    claimed.append(message)
        return claimed

    def _limit_reached(self) -> bool:
        """Whether --limit is used up (then the run stops). Call with the lock held."""
        limit = self.request.selection.limit
        if limit is None or self.report.matched < limit:
            return False
        self._stop_locked(StopReason.LIMIT)
        return True

    def _no_source(self, message: ReceivedMessage) -> bool:
        """Whether nothing says where ``message`` goes: no --to, no recorded source, and not
        exactly one source queue. It is held for a human (counted with the reason); the run
        moves the others. Call with the lock held."""
        if self.request.to is not None or message.source_arn or len(self.dlq.sources) == 1:
            return False
        if self.report.no_source_reason is None:
            names = ", ".join(self.dlq.source_names) or "none"
            self.report.no_source_reason = (
                f"no source recorded and {self.dlq.name!r} has {len(self.dlq.sources)} source "
                f"queues ({names}); choose one with --to QUEUE"
            )
        return True

    def _recorded_redrives(self, candidates: list[_Candidate]) -> dict[str, int]:
        """The ledger's redrive count of each candidate that travels without the counter, by
        message id: one question for the whole batch, none if every message carries it."""
        ledger = self.engine.ledger
        if ledger is None or self.request.force:
            return {}
        digests = {
            candidate.message.message_id: content_digest(candidate.item.entry)
            for candidate in candidates
            if candidate.item is not None and candidate.item.counter_dropped
        }
        if not digests:
            return {}
        counts = ledger.counts(self.dlq.name, set(digests.values()))
        return {message_id: counts.get(digest, 0) for message_id, digest in digests.items()}

    def _count_skip(self, verdict: Verdict) -> None:
        report = self.report
        report.skipped += 1
        if verdict is Verdict.OUT_OF_WINDOW:
            report.out_of_window += 1
        elif verdict is Verdict.UNREADABLE_TIME:
            report.unreadable += 1
        elif verdict is Verdict.NEEDS_HUMAN:
            report.needs_human += 1

    def _prepare(self, message: ReceivedMessage) -> _Candidate:
        """Where ``message`` goes and the entry that takes it there (built for that queue's
        MaximumMessageSize), or why it cannot go: its source queue is gone, or the destination
        cannot take it (then it stays in the DLQ, failed with the reason, and is never sent).

        The destination is --to, else the message's own source queue (the
        DeadLetterQueueSourceArn SQS gives), else the DLQ's single source (``_no_source`` held
        the others back).
        """
        if self.request.to is not None:
            url, name = self.request.to.url, self.request.to.name
        elif message.source_arn:
            name = message.source_arn.rsplit(":", 1)[-1]
            try:
                url = self.sqs.url_for_arn(message.source_arn)
            except QueueNotFoundError as exc:
                return _Candidate(message, name, failure=("QueueDoesNotExist", str(exc)))
        else:
            (source,) = self.dlq.sources
            url, name = source.url, source.name
        try:
            limit = self._size_limit(url)
        except QueueNotFoundError as exc:
            return _Candidate(message, name, url, failure=("QueueDoesNotExist", str(exc)))
        item = build_outgoing(message, fifo=self.dlq.info.fifo, max_message_bytes=limit)
        if item.size <= limit:
            return _Candidate(message, name, url, item)
        reason = (
            f"{item.size:,} bytes with its attributes; {name} takes messages of at most "
            f"{limit:,} bytes (its MaximumMessageSize)"
        )
        return _Candidate(message, name, url, item, ("MessageTooLarge", reason))

    def _size_limit(self, url: str) -> int:
        """The destination's MaximumMessageSize (one GetQueueAttributes per destination per run,
        none for those the catalog read); QueueNotFoundError if it is gone."""
        known = self.size_limits.get(url)  # every message asks: no lock once it is known
        if known is not None:
            return known
        with self.size_lock:
            if url not in self.size_limits:
                try:
                    self.size_limits[url] = self.sqs.queue_info(url).max_message_bytes
                finally:
                    self._count_call("GetQueueAttributes")
            return self.size_limits[url]

    def _send_all(self, url: str, destination: str, items: list[Outgoing]) -> None:
        """Send ``items`` in batches within the destination's size; FIFO ones wave by wave, so
        that no message leaves before the earlier ones of its group moved (``group_waves``)."""
        max_bytes = min(self._size_limit(url), self.request.max_batch_bytes or MAX_BATCH_BYTES)
        waves = group_waves(items) if self.dlq.info.fifo else [items]
        for wave in waves:
            for batch in batches(self._not_held_back(wave), max_bytes=max_bytes):
                self._send(url, destination, batch)

    def _not_held_back(self, wave: list[Outgoing]) -> list[Outgoing]:
        """``wave`` without the messages of FIFO groups that stalled: those are kept in the DLQ,
        counted held back, for a later run to send after the message that did not move."""
        if not self.stalled_groups:
            return wave
        ready = []
        with self.lock:
            for item in wave:
                if item.group in self.stalled_groups:
                    self.report.held_back += 1
                    self._keep(item)
                else:
                    ready.append(item)
        return ready

    def _hold(self, message: ReceivedMessage | Outgoing) -> None:
        """Hold a claimed message that is not sent, to be released at the end with the newest
        handle it was received with. Call with the lock held."""
        handles = self.sending.pop(message.message_id, None)
        self.held[message.message_id] = handles[-1] if handles else message.receipt_handle

    def _keep(self, message: ReceivedMessage | Outgoing) -> None:
        """Hold a selected message that stays in the DLQ (``_hold``); on FIFO, its group
        stalls. Call with the lock held."""
        self._hold(message)
        if self.dlq.info.fifo:
            group = (
                message.group
                if isinstance(message, Outgoing)
                else message.attributes.get("MessageGroupId")
            )
            self.stalled_groups.add(group or "dlq-redrive")

    def _keep_unfinished(self, messages: list[ReceivedMessage]) -> None:
        """After an interruption: hold every message of the batch except those whose copy was
        confirmed (released, a redelivered one could come back after its delete)."""
        with self.lock:
            for message in messages:
                if message.message_id in self.moved_ids or message.message_id in self.held:
                    continue
                if message.message_id in self.sending:
                    self._keep(message)
                else:
                    self.held[message.message_id] = message.receipt_handle

    def _fail(self, message: ReceivedMessage | Outgoing, code: str, reason: str, dest: str) -> None:
        """Count a message that stays in the DLQ (held, released at the end)."""
        with self.lock:
            self.report.failed += 1
            self.report.failure_reasons[code] += 1
            self._keep(message)
            if len(self.report.failures) < MAX_FAILURE_DETAILS:
                self.report.failures.append(
                    {
                        "message_id": message.message_id,
                        "destination": dest,
                        "code": code,
                        "reason": reason,
                    }
                )

    def _send(self, url: str, destination: str, batch: list[Outgoing]) -> None:
        """Send a batch, retrying entries SQS failed on its side; delete only confirmed ones.

        A call whose answer is lost is not sent again in this run (SQS may have stored it): its
        messages stay in the DLQ, counted unconfirmed. So each lost answer costs at most one
        extra copy of its messages, and only if a later run sends them again.
        """
        items = batch
        retry: list[tuple[Outgoing, SendFailure]] = []
        confirmed: list[Outgoing] = []
        for attempt in range(max(1, self.request.send_attempts)):
            if attempt:
                time.sleep(0.2 * 2 ** (attempt - 1))
            try:
                ok, failed = self.sqs.send_batch(url, batch_entries(items))
            except SendAnswerLostError as exc:
                self._unconfirmed(items, str(exc))
                retry = []
                break
            finally:
                self._count_call("SendMessageBatch")
            stored, retry = self._sort_answer(items, ok, failed, destination)
            confirmed += stored
            if not retry:
                break
            items = [item for item, _ in retry]
        for item, failure in retry:
            self._fail(item, failure.code, failure.reason, destination)
        if confirmed:
            self._delete(confirmed, destination)

    def _sort_answer(
        self, items: list[Outgoing], ok: list[str], failed: list[SendFailure], destination: str
    ) -> tuple[list[Outgoing], list[tuple[Outgoing, SendFailure]]]:
        """(confirmed, to retry) from SQS's answer to a send; sender faults fail at once, and an
        entry the answer does not settle (in neither list, or in both) is unconfirmed."""
        ok_ids = set(ok)
        failures = {failure.entry_id: failure for failure in failed}
        confirmed: list[Outgoing] = []
        retry: list[tuple[Outgoing, SendFailure]] = []
        unsettled: list[Outgoing] = []
        for index, item in enumerate(items):
            failure = failures.get(str(index))
            listed_ok = str(index) in ok_ids
            if listed_ok and failure is None:
                confirmed.append(item)
            elif failure is None or listed_ok:
                unsettled.append(item)
            elif failure.sender_fault:
                self._fail(item, failure.code, failure.reason, destination)
            else:  # failed on SQS's side: try again
                retry.append((item, failure))
        if unsettled:
            self._unconfirmed(unsettled, "SQS's answer said neither stored nor failed")
        return confirmed, retry

    def _unconfirmed(self, items: list[Outgoing], reason: str) -> None:
        """Messages SQS may have stored without saying so: kept in the DLQ, never re-sent here,
        and counted as redriven in the ledger (it may have been a redrive)."""
        with self.lock:
            self.report.unconfirmed += len(items)
            self.report.unconfirmed_reason = reason
            for item in items:
                self._keep(item)
        self._record_redrives(items)

    def _delete(self, confirmed: list[Outgoing], destination: str) -> None:
        """Delete messages SQS listed in Successful, with every handle each was received with.

        From here on a message is moved: a later delivery of it is deleted at once, and none
        of its handles is ever released (a delete with an older handle may delete nothing).
        """
        handles: list[str] = []
        newest: list[int] = []  # index in ``handles`` of each message's most recent handle
        with self.lock:
            for item in confirmed:
                handles.extend(self.sending.pop(item.message_id, [item.receipt_handle]))
                newest.append(len(handles) - 1)
                self.moved_ids[item.message_id] = None
            while len(self.moved_ids) > TAKEN_MEMORY:
                self.moved_ids.popitem(last=False)
        failed = self.sqs.delete_batch(self.dlq.info.url, handles)
        self._count_call("DeleteMessageBatch")
        if failed:
            retry = [int(f.entry_id) for f in failed]
            again = self.sqs.delete_batch(self.dlq.info.url, [handles[i] for i in retry])
            self._count_call("DeleteMessageBatch")
            failed = [replace(f, entry_id=str(retry[int(f.entry_id)])) for f in again]
        # The newest handle decides: a failure on an older one leaves nothing behind.
        not_deleted = {int(f.entry_id) for f in failed} & set(newest)
        with self.lock:
            self.report.moved += len(confirmed)
            self.report.by_destination[destination] += len(confirmed)
            self.report.counter_dropped += sum(1 for item in confirmed if item.counter_dropped)
            self.report.delete_failed += len(not_deleted)
        self._record_redrives(confirmed)

    def _record_redrives(self, sent: list[Outgoing]) -> None:
        """Count a redrive in the ledger for each message that travelled without the counter:
        confirmed (deleted or not) or unconfirmed, since what may have arrived counts too."""
        ledger = self.engine.ledger
        digests = [content_digest(item.entry) for item in sent if item.counter_dropped]
        if ledger is not None and digests:
            ledger.record(self.dlq.name, digests)

    # --- the end ------------------------------------------------------------------------------

    def _release_held(self) -> None:
        handles = list(self.held.values())
        self.held.clear()
        if not handles:
            return
        chunks = [handles[i : i + 10] for i in range(0, len(handles), 10)]

        def release(chunk: list[str]) -> int:
            failed = self.sqs.change_visibility_batch(self.dlq.info.url, chunk, 0)
            return len(chunk) - len(failed)

        with ThreadPoolExecutor(max_workers=max(1, self.request.workers)) as pool:
            released = sum(pool.map(release, chunks))
        self.report.released = released
        self.report.api_calls["ChangeMessageVisibilityBatch"] += len(chunks)

    def _remaining(self) -> int | None:
        """What is still in the DLQ once the run released what it held: visible, in flight
        (held by another consumer) or delayed, as SQS counts them (approximately)."""
        try:
            info = self.sqs.queue_info(self.dlq.info.url)
        except Exception:  # noqa: BLE001 - a report figure, never worth failing the run for
            return None
        finally:
            self.report.api_calls["GetQueueAttributes"] += 1
        return info.visible + info.in_flight + info.delayed
