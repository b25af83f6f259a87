"""At most one attempt at a time, and a report even when an attempt dies: the daily job's runs.

EventBridge and Lambda deliver an event at least once, and Lambda retries an asynchronous
invocation that failed twice, about one and three minutes later (a timeout, an out-of-memory
kill and a crash count as failures). So every piece of work (the 06:00 run, each continuation)
goes through ``run_once`` with a lease in the state table (``bot.daily.lease``):

- the attempt that claims it renews it every ``LeaseTiming.renew_s`` while it is alive (a
  heartbeat thread), to ``lease_s`` from then. A killed attempt renews nothing, so its lease runs
  out ``lease_s`` after its last renewal at the latest: Lambda's retry then takes over, instead of
  being answered "in progress" until the dead attempt's whole time budget (15 minutes) is over,
  after the retries were spent;
- an event that finds the work running watches the lease: if its owner renews it, the owner is
  alive and the event was a duplicate (answered ``duplicate_in_progress``, nothing done); if the
  lease runs out first, its owner is dead and this attempt takes over. Lambda's retry of the same
  invocation (same request id) takes over at once: that invocation has ended;
- an attempt that raises ends its lease at once (Lambda's retry claims it without waiting) and
  the error propagates; one that finishes stores its answer, which a later duplicate gets back
  with ``"replayed": true``.

The heartbeat also carries the attempt's progress: per DLQ, what it moved that the run's moved
counter does not hold yet (``Attempt.note``). An attempt that takes over from a dead one counts
those moves (``Attempt.inherited``), so the report of a retried run still says what went back.
A kill can still lose the moves of the batch in hand between SQS's delete and the note, and count
twice the moves noted between adding them to the counter and clearing the note: both windows are
a few milliseconds, where without the note it was the whole redrive.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

from bot.daily.lease import DONE, Lease
from bot.errors import AwsError
from bot.printable import printable_logger

if TYPE_CHECKING:
    from bot.daily.ports import Leases

logger = printable_logger(__name__)

# Lambda runs a failed asynchronous invocation this many times in all: serverless.yml's
# maximumRetryAttempts (2) plus the first. The last one says in the thread what it could not do.
LAMBDA_ATTEMPTS = 3


class LeaseUnavailableError(AwsError):
    """The lease could not be claimed or read: the state table cannot be used right now."""


@dataclass(frozen=True)
class LeaseTiming:
    """How often a live attempt renews its lease, how long a lease lasts without renewal, and
    how often an event that found the work running looks again. A lease outlives two missed
    renewals; it runs out well before Lambda's first retry (after about a minute)."""

    renew_s: float = 15.0
    lease_s: float = 45.0
    poll_s: float = 5.0


class Attempt:
    """The attempt that holds a lease: its number, the moves it inherited, its heartbeat.

    Without a store (the state table cannot be used: ``degraded``) it records nothing and its
    number is unknown (0).
    """

    def __init__(
        self,
        store: Leases | None,
        key: str,
        owner: str,
        timing: LeaseTiming,
        lease: Lease | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.key = key
        self.owner = owner
        self.timing = timing
        self.clock = clock
        self.number = lease.attempt if lease is not None else 0
        # Moves of dead attempts not in the counter yet, and this attempt's own, per DLQ.
        self.inherited: dict[str, int] = dict(lease.pending) if lease is not None else {}
        self._current: dict[str, int] = {}
        self._lock = threading.Lock()  # one write at a time, from the heartbeat or the job
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lost = False  # another attempt took the lease over (this one stalled too long)

    @property
    def degraded(self) -> bool:
        return self.store is None

    @property
    def first(self) -> bool:
        """No earlier attempt of this work claimed the lease: nothing of it can be in Slack."""
        return self.number == 1

    @property
    def last(self) -> bool:
        """Lambda will not run this work again if this attempt fails."""
        return self.number >= LAMBDA_ATTEMPTS

    # --- progress -----------------------------------------------------------------------------

    def note(self, dlq: str, moved: int) -> None:
        """This attempt has moved ``moved`` out of ``dlq`` so far (not yet counted). Cheap: the
        heartbeat writes it, at once."""
        with self._lock:
            self._current[dlq] = moved
        self._wake.set()

    def flush(self) -> None:
        """Write the pending moves now (before adding them to the counter)."""
        self._renew()

    def counted(self, dlq: str) -> None:
        """This attempt's moves out of ``dlq`` are in the counter now."""
        with self._lock:
            self._current.pop(dlq, None)
        self._renew()

    def folded(self, dlq: str) -> None:
        """The inherited moves out of ``dlq`` are in the counter now."""
        with self._lock:
            self.inherited.pop(dlq, None)
        self._renew()

    def pending(self) -> dict[str, int]:
        with self._lock:
            names = set(self.inherited) | set(self._current)
            return {n: self.inherited.get(n, 0) + self._current.get(n, 0) for n in names}

    # --- the heartbeat ------------------------------------------------------------------------

    def __enter__(self) -> Attempt:
        if self.store is not None:
            self._thread = threading.Thread(
                target=self._beat, name=f"lease-{self.key}", daemon=True
            )
            self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # Whatever ended the attempt, it renews nothing more (a dead process renews nothing).
        self._halt()

    def _halt(self) -> None:
        """Stop the heartbeat, and wait until it wrote its last renewal: the end of the attempt
        is written after it, never overwritten by it."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def _beat(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.timing.renew_s)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self._renew()
            except AwsError as exc:  # the next beat tries again; the lease outlives two misses
                logger.warning("lease of %s not renewed: %s", self.key, exc)

    def _renew(self) -> None:
        if self.store is None:
            return
        with self._lock:
            until = int((self.clock() + self.timing.lease_s) * 1000)
            pending = {
                n: self.inherited.get(n, 0) + self._current.get(n, 0)
                for n in set(self.inherited) | set(self._current)
            }
            if not self.store.renew(self.key, self.owner, until_ms=until, pending=pending):
                if not self.lost:
                    logger.error("lease of %s was taken over: another attempt runs it", self.key)
                self.lost = True

    # --- the end ------------------------------------------------------------------------------

    def complete(self, result: dict[str, Any]) -> None:
        self._halt()
        if self.store is None:
            return
        try:
            if not self.store.complete(self.key, self.owner, result):
                logger.error("run %s finished, but another attempt holds its lease", self.key)
        except AwsError as exc:  # the work is done; a later duplicate may run it again
            logger.error("run %s finished but not recorded: %s", self.key, exc)

    def release(self) -> None:
        self._halt()
        if self.store is None:
            return
        try:
            self.store.release(self.key, self.owner, pending=self.pending())
        except AwsError as exc:  # its lease then runs out on its own
            logger.error("lease of %s not released: %s", self.key, exc)


def run_once(
    store: Leases,
    key: str,
    owner: str,
    work: Callable[[Attempt], dict[str, Any]],
    *,
    timing: LeaseTiming,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """``work`` for ``key`` unless another attempt runs or ran it (see the module docstring).

    LeaseUnavailableError if the lease cannot be claimed or read (before ``work`` started: the
    caller decides what to do without one); whatever ``work`` raises propagates as it is.
    """

    def now_ms() -> int:
        return int(clock() * 1000)

    def claim() -> tuple[bool, Lease | None]:
        try:
            return store.claim(key, owner, now_ms=now_ms(), lease_ms=_ms(timing.lease_s))
        except AwsError as exc:
            raise LeaseUnavailableError(str(exc)) from exc

    def read() -> Lease | None:
        try:
            return store.read(key, now_ms=now_ms())
        except AwsError as exc:
            raise LeaseUnavailableError(str(exc)) from exc

    claimed, lease = claim()
    seen: Lease | None = None
    while not claimed:
        if lease is None:  # gone meanwhile (expired): claim it afresh
            claimed, lease = claim()
            continue
        if lease.state == DONE:
            logger.info("run %s already done: its answer again", key)
            return {**(lease.result or {}), "replayed": True}
        if seen is None:
            seen = lease
        elif (lease.owner, lease.until_ms) != (seen.owner, seen.until_ms):
            logger.warning("duplicate event while %s runs (its lease was renewed)", key)
            return {"status": "duplicate_in_progress", "key": key}
        left_ms = lease.until_ms - now_ms()
        if left_ms < 0:  # its owner stopped renewing it: take over
            logger.warning("run %s: its attempt stopped renewing the lease; taking over", key)
            claimed, lease = claim()
            continue
        sleep(min(timing.poll_s, left_ms / 1000 + 0.01))
        lease = read()
    with Attempt(store, key, owner, timing, lease, clock) as attempt:
        try:
            result = work(attempt)
        except Exception:
            attempt.release()
            raise
        attempt.complete(result)
    return result


def lease_owner(context: Any) -> str:
    """Who claims a lease: the Lambda request id (Lambda's retry of an asynchronous invocation
    keeps it, so the retry takes over at once), or a random one when invoked without (locally,
    in tests). uuid is imported here: Lambda always gives an id, and uuid (with platform) would
    load at every cold start for nothing."""
    given = str(getattr(context, "aws_request_id", "") or "")
    if given:
        return given
    import uuid

    return str(uuid.uuid4())


def _ms(seconds: float) -> int:
    return int(seconds * 1000)
