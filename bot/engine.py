"""The redrive engine: stream messages out of a DLQ and back to where they came from.

The loop is small on purpose; the decisions live in ``selection`` (which messages) and ``planner``
(what to send). The one rule this module exists to keep:

    a message is deleted from the DLQ only after SQS listed its copy in ``Successful``.

Every other message the scan touched (not selected, unreadable, poison, over the limit, failed to
send) is held invisible while the scan runs, so it is not received twice (a heartbeat extends its
visibility timeout while the scan outlasts it), and made visible again (ChangeMessageVisibility 0)
when the scan ends, however it ends (drained, limit, deadline, cancel, error).

Stopping: a run stops for the first reason found (drained, limit, deadline, cancel, in-flight
quota), except that an AWS error always wins, so an error is never reported as success. Every
stop, a cancel included, ends the same way: no worker starts another receive, each finishes the
batch it holds, and everything held is released.

What a run is asked and what it did (``bot.redrive_model``), its deadline and rate
(``bot.pacing``) and the bookkeeping of what it holds (``bot.held``) live in modules of their
own, with no I/O, so they load without this module and boto3; they are re-exported here (see
``__all__``) so that older imports from ``bot.engine`` keep working.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from bot.catalog import Dlq
from bot.errors import AwsError, DlqRedriveError, QueueNotFoundError, SendAnswerLostError
from bot.held import HeldMessages
from bot.pacing import RECEIVE_BATCH, Deadline, RateLimiter, check_rate
from bot.planner import (
    MAX_BATCH_BYTES,
    Outgoing,
    batch_entries,
    batches,
    build_outgoing,
    group_waves,
)
from bot.redrive_model import RedriveReport, RedriveRequest, StopReason
from bot.selection import PinTally, Verdict, judge, needs_human
from bot.sqs_model import ReceivedMessage, SendFailure, SqsApi, queue_was_missing

__all__ = [
    "RECEIVE_BATCH",
    "Deadline",
    "ProgressCallback",
    "RateLimiter",
    "RedriveEngine",
    "RedriveLedger",
    "RedriveReport",
    "RedriveRequest",
    "StopReason",
    "check_rate",
    "content_digest",
]

MAX_FAILURE_DETAILS = 50
# SQS refuses receives past 120,000 in-flight messages on a queue, FIFO too since 2025 (it was
# 20,000); a scan that holds unselected messages stops a little before that and reports the rest.
MAX_HELD = 110_000
TAKEN_MEMORY = 20_000  # selected message ids remembered against a second delivery
STOP_POLL_S = 0.05  # how often a waiting worker asks whether the run was cancelled


_T = TypeVar("_T")


def _group(message: ReceivedMessage | Outgoing) -> str:
    """A FIFO message's group (the planner's default for one that has none)."""
    group = (
        message.group if isinstance(message, Outgoing) else message.attributes.get("MessageGroupId")
    )
    return group or "dlq-redrive"


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


@dataclass(slots=True)
class _Claim:
    """A selected message being moved: every receipt handle it was received with (SQS delivers
    at least once, so a second delivery can arrive meanwhile, and a delete with an older handle
    "succeeds, but the message might not be deleted"), when the newest was received, and
    whether it was counted matched yet."""

    handles: list[str]
    received_at: float
    matched: bool = False


@dataclass(frozen=True, slots=True)
class _Refused:
    """AWS's answer to a lookup that failed (a source queue's URL, a destination's size): the
    messages that need it stay in the DLQ, failed with it, and the others move."""

    code: str
    reason: str


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

    ``ledger`` (optional) counts the redrives of messages that cannot carry the counter;
    ``clock`` (seconds) times the heartbeat that keeps held messages hidden (tests pass the fake
    SQS's clock).
    """

    def __init__(
        self,
        sqs: SqsApi,
        *,
        max_redrives: int,
        timezone: Any,
        ledger: RedriveLedger | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sqs = sqs
        self.max_redrives = max_redrives
        self.timezone = timezone
        self.ledger = ledger
        self.clock = clock

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
        # Held invisible until the end, when they are released; kept hidden meanwhile by the
        # heartbeat, with the visibility timeout asked for (what a killed run leaves them hidden).
        self.visibility = request.visibility_timeout
        self.held = HeldMessages(self.visibility)
        self.heartbeat_lock = threading.Lock()  # one worker at a time extends them
        self.sending: dict[str, _Claim] = {}  # selected messages being moved, by id
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
        self.source_urls: dict[str, str] = {}  # a message's DeadLetterQueueSourceArn -> URL
        # What AWS refused to look up (by ARN or URL), so that it is asked once per run.
        self.refused: dict[str, _Refused] = {}
        self.lookup_lock = threading.Lock()
        # FIFO groups with a message that did not move in this run: no later one of the group
        # may be sent, or the group's order would be broken (under ``lock``).
        self.stalled_groups: set[str] = set()
        # FIFO groups of which the run holds a message: the scan may not see past it.
        self.blocked_groups: set[str] = set()
        # A dry run keeps which messages it matched, for the pin of the run its approval starts.
        self.pin_tally = PinTally() if request.dry_run else None

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
            self.report.blocked_groups = len(self.blocked_groups)
            if self.pin_tally is not None:
                self.report.matched_digests = self.pin_tally.digests
            self._release_held()
            self.report.duration_s = time.monotonic() - started
            self.report.remaining = self._remaining()
        return self.report

    def _worker(self) -> None:
        try:
            while not self.stop_event.is_set():
                self._heartbeat()
                self._check_limits()
                batch = self._next_batch()
                if batch is None:
                    continue  # the wait for rate tokens ended because the run is stopping
                received_at, messages = batch
                if not messages:
                    return
                try:
                    self._handle(messages, received_at)
                except BaseException:
                    # Whatever interrupted the batch, its messages are released at the end, so
                    # none stays hidden for the whole visibility timeout (but none already moved).
                    self._keep_unfinished(messages, received_at)
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

    def _next_batch(self) -> tuple[float, list[ReceivedMessage]] | None:
        """(when, what) of the next receive, after its rate tokens; None if the run stopped
        meanwhile.

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
            batch = self._receive()
            self.rate.refund(RECEIVE_BATCH - len(batch[1]))
            return batch

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
            self._heartbeat()  # the others wait for this one's turn: it keeps theirs hidden
            self._check_limits()
        return not self.stop_event.is_set()

    def _receive(self) -> tuple[float, list[ReceivedMessage]]:
        """(when, what): the time is taken before the call, so that the heartbeat counts a
        message's visibility from no later than SQS started it."""
        url = self.dlq.info.url
        received_at = self.engine.clock()
        messages = self.sqs.receive(
            url, max_messages=10, visibility_timeout=self.visibility, wait_seconds=0
        )
        self._count_call("ReceiveMessage")
        if not messages and self.request.confirm_empty_wait_s > 0 and not self.stop_event.is_set():
            # Short polling samples a subset of SQS hosts, so an empty answer may be false. When
            # SQS says nothing is visible the scan is done at once; otherwise one long poll
            # (which asks every host) decides.
            if self._visible_count() == 0:
                return received_at, []
            messages = self.sqs.receive(
                url,
                max_messages=10,
                visibility_timeout=self.visibility,
                wait_seconds=self.request.confirm_empty_wait_s,
            )
            self._count_call("ReceiveMessage")
        return received_at, messages

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

    def _handle(self, messages: list[ReceivedMessage], received_at: float) -> None:
        """Judge, route and build a received batch, then send what is selected.

        Whether a message can carry the counter depends on the destination's size, so a
        message is built for its destination first and judged poison by what travels: its
        counter, or for one that travels without it, the ledger's count of that very entry
        (one ledger question per batch, none when every message carries the counter).
        """
        copies_confirmed: list[str] = []  # receipt handles of second deliveries already moved
        claimed = self._claim(messages, copies_confirmed, received_at)
        if copies_confirmed:
            # First, before anything can fail: a copy of a moved message must not come back.
            failed = self.sqs.delete_batch(self.dlq.info.url, copies_confirmed)
            self._count_call("DeleteMessageBatch")
            with self.lock:
                self.report.delete_failed += sum(not queue_was_missing(f) for f in failed)
        candidates = [self._prepare(message) for message in claimed]
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
                    self._hold(message, blocks_group=False)  # the scan ends here anyway
                else:
                    self._count_matched(message)
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
        for url, (name, items) in to_send.items():
            self._send_all(url, name, items)

    def _claim(
        self, messages: list[ReceivedMessage], copies_confirmed: list[str], received_at: float
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
                    # Seen before in this scan (delivered twice, or the heartbeat came too late
                    # for it): hold it with the newest handle, count it once.
                    self.held.hold(message.message_id, message.receipt_handle, received_at)
                    continue
                # A second delivery of a message this run is moving is never sent twice.
                claim = self.sending.get(message.message_id)
                if claim is not None:  # still being sent: deleted or kept with the others
                    report.redelivered += 1
                    claim.handles.append(message.receipt_handle)
                    claim.received_at = received_at
                    continue
                if message.message_id in self.moved_ids:  # its copy is confirmed: delete it
                    report.redelivered += 1
                    copies_confirmed.append(message.receipt_handle)
                    continue
                report.scanned += 1
                if verdict is Verdict.SELECT and self._no_source(message):
                    report.no_source += 1
                    report.skipped += 1
                    self._hide(message, message.receipt_handle, received_at)
                elif verdict is not Verdict.SELECT:
                    self._count_skip(verdict)
                    self._hide(message, message.receipt_handle, received_at)
                else:
                    self.sending[message.message_id] = _Claim([message.receipt_handle], received_at)
                    claimed.append(message)
        return claimed

    def _limit_reached(self) -> bool:
        """Whether --limit is used up (then the run stops). Call with the lock held."""
        limit = self.request.selection.limit
        if limit is None or self.report.matched < limit:
            return False
        self._stop_locked(StopReason.LIMIT)
        return True

    def _count_matched(self, message: ReceivedMessage) -> None:
        """Count a claimed message matched (once). Call with the lock held."""
        self.report.matched += 1
        self.sending[message.message_id].matched = True
        if self.pin_tally is not None:
            self.pin_tally.add(message.message_id)

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
            found = self._ask_once(
                message.source_arn, self.source_urls, self.sqs.url_for_arn, counted_as=None
            )
            if isinstance(found, _Refused):
                return _Candidate(message, name, failure=(found.code, found.reason))
            url = found
        else:
            (source,) = self.dlq.sources
            url, name = source.url, source.name
        limit = self._size_limit(url)
        if isinstance(limit, _Refused):
            return _Candidate(message, name, url, failure=(limit.code, limit.reason))
        item = build_outgoing(message, fifo=self.dlq.info.fifo, max_message_bytes=limit)
        if item.size <= limit:
            return _Candidate(message, name, url, item)
        reason = (
            f"{item.size:,} bytes with its attributes; {name} takes messages of at most "
            f"{limit:,} bytes (its MaximumMessageSize)"
        )
        return _Candidate(message, name, url, item, ("MessageTooLarge", reason))

    def _size_limit(self, url: str) -> int | _Refused:
        """The destination's MaximumMessageSize (one GetQueueAttributes per destination per run,
        none for those the catalog read), or why AWS would not say."""

        def read(queue_url: str) -> int:
            return self.sqs.queue_info(queue_url).max_message_bytes

        return self._ask_once(url, self.size_limits, read, counted_as="GetQueueAttributes")

    def _ask_once(
        self,
        key: str,
        answers: dict[str, _T],
        ask: Callable[[str], _T],
        *,
        counted_as: str | None,
    ) -> _T | _Refused:
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
                    self.refused[key] = _Refused("QueueDoesNotExist", str(exc))
                except AwsError as exc:
                    self.refused[key] = _Refused(exc.code, str(exc))
                finally:
                    if counted_as is not None:
                        self._count_call(counted_as)
            return answers[key] if key in answers else self.refused[key]

    def _send_all(self, url: str, destination: str, items: list[Outgoing]) -> None:
        """Send ``items`` in batches within the destination's size; FIFO ones wave by wave, so
        that no message leaves before the earlier ones of its group moved (``group_waves``)."""
        # Known: its items were built for it.
        max_bytes = min(self.size_limits[url], self.request.max_batch_bytes or MAX_BATCH_BYTES)
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

    def _hide(
        self,
        message: ReceivedMessage | Outgoing,
        handle: str,
        hidden_at: float,
        *,
        blocks_group: bool = True,
    ) -> None:
        """Hold ``message`` invisible until the end. On FIFO its group is blocked: SQS hands
        out none of the group's later messages while one is in flight. Call with the lock held."""
        self.held.hold(message.message_id, handle, hidden_at)
        if self.dlq.info.fifo and blocks_group:
            self.blocked_groups.add(_group(message))

    def _hold(self, message: ReceivedMessage | Outgoing, *, blocks_group: bool = True) -> None:
        """Hold a claimed message that is not sent, to be released at the end with the newest
        handle it was received with. Call with the lock held."""
        claim = self.sending.pop(message.message_id, None)
        if claim is None:  # not claimed (never the case): hidden since no later than now
            claim = _Claim([message.receipt_handle], self.engine.clock())
        self._hide(message, claim.handles[-1], claim.received_at, blocks_group=blocks_group)

    def _keep(self, message: ReceivedMessage | Outgoing) -> None:
        """Hold a selected message that stays in the DLQ (``_hold``); on FIFO, its group
        stalls. Call with the lock held."""
        self._hold(message)
        if self.dlq.info.fifo:
            self.stalled_groups.add(_group(message))

    def _keep_unfinished(self, messages: list[ReceivedMessage], received_at: float) -> None:
        """After an interruption: hold every message of the batch except those whose copy was
        confirmed (released, a redelivered one could come back after its delete). A selected
        one is counted not attempted (matched first if the batch stopped before it was)."""
        report = self.report
        with self.lock:
            for message in messages:
                if message.message_id in self.moved_ids or message.message_id in self.held:
                    continue
                claim = self.sending.get(message.message_id)
                if claim is None:
                    self._hide(message, message.receipt_handle, received_at)
                elif claim.matched or not self._limit_reached():
                    if not claim.matched:
                        self._count_matched(message)
                    report.not_attempted += 1
                    self._keep(message)
                else:
                    report.over_limit += 1
                    report.skipped += 1
                    self._hold(message, blocks_group=False)

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
                claim = self.sending.pop(item.message_id, None)
                handles.extend(claim.handles if claim else [item.receipt_handle])
                newest.append(len(handles) - 1)
                self.moved_ids[item.message_id] = None
            while len(self.moved_ids) > TAKEN_MEMORY:
                self.moved_ids.popitem(last=False)
        not_deleted = len(confirmed)  # until SQS says otherwise (a delete can raise)
        try:
            failed = self.sqs.delete_batch(self.dlq.info.url, handles)
            self._count_call("DeleteMessageBatch")
            if failed:
                retry = [int(f.entry_id) for f in failed]
                again = self.sqs.delete_batch(self.dlq.info.url, [handles[i] for i in retry])
                self._count_call("DeleteMessageBatch")
                failed = [replace(f, entry_id=str(retry[int(f.entry_id)])) for f in again]
            # The newest handle decides: a failure on an older one leaves nothing behind; nor
            # does one in a DLQ that no longer exists (its messages went with it).
            failed = [f for f in failed if not queue_was_missing(f)]
            not_deleted = len({int(f.entry_id) for f in failed} & set(newest))
        finally:
            # Their copies are confirmed, deleted or not: moved, however this call ended.
            with self.lock:
                self.report.moved += len(confirmed)
                self.report.by_destination[destination] += len(confirmed)
                self.report.counter_dropped += sum(1 for item in confirmed if item.counter_dropped)
                self.report.delete_failed += not_deleted
            self._record_redrives(confirmed)

    def _record_redrives(self, sent: list[Outgoing]) -> None:
        """Count a redrive in the ledger for each message that travelled without the counter:
        confirmed (deleted or not) or unconfirmed, since what may have arrived counts too."""
        ledger = self.engine.ledger
        digests = [content_digest(item.entry) for item in sent if item.counter_dropped]
        if ledger is not None and digests:
            ledger.record(self.dlq.name, digests)

    # --- held messages: kept hidden while the scan runs, released at the end ------------------

    def _heartbeat(self) -> None:
        """Extend the visibility of the held messages before it runs out (``HeldMessages``);
        free (a clock read) until the oldest has been hidden for half the timeout."""
        if self.engine.clock() < self.held.next_due or not self.heartbeat_lock.acquire(False):
            return
        try:
            with self.lock:
                due = self.held.due(self.engine.clock())
            # One that fails (its timeout ran out already) comes back and is held again.
            self._change_visibility(due, self.visibility)
        finally:
            self.heartbeat_lock.release()

    def _release_held(self) -> None:
        with self.lock:
            handles = self.held.handles()
            self.held.clear()
        self.report.released = self._change_visibility(handles, 0)

    def _change_visibility(self, handles: list[str], timeout: int) -> int:
        """ChangeMessageVisibilityBatch for ``handles``, 10 a call, on the workers' threads;
        how many SQS changed."""
        if not handles:
            return 0
        chunks = [handles[i : i + 10] for i in range(0, len(handles), 10)]

        def change(chunk: list[str]) -> int:
            failed = self.sqs.change_visibility_batch(self.dlq.info.url, chunk, timeout)
            return len(chunk) - len(failed)

        with ThreadPoolExecutor(max_workers=max(1, self.request.workers)) as pool:
            changed = sum(pool.map(change, chunks))
        self._count_call("ChangeMessageVisibilityBatch", len(chunks))
        return changed

    def _remaining(self) -> int | None:
        """What is still in the DLQ once the run released what it held: visible, in flight
        (held by another consumer) or delayed, as SQS counts them (approximately)."""
        try:
            info = self.sqs.queue_info(self.dlq.info.url)
        except QueueNotFoundError:
            self.report.dlq_missing = True  # deleted during the run: nothing left to continue
            return None
        except Exception:  # noqa: BLE001 - a report figure, never worth failing the run for
            return None
        finally:
            self.report.api_calls["GetQueueAttributes"] += 1
        return info.visible + info.in_flight + info.delayed
