"""The scan of one run: worker threads that receive batches from the DLQ (at the rate asked)
until a stop, hand each to the intake, and release what is held when the scan ends.

Stopping: a run stops for the first reason found (drained, limit, deadline, cancel, in-flight
quota), except that an AWS error always wins, so an error is never reported as success. Every
stop, a cancel included, ends the same way: no worker starts another receive, each finishes the
batch it holds, and everything held is released.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait

from bot.engine_holding import Holding
from bot.engine_intake import Intake
from bot.engine_state import RunState, StopRun
from bot.errors import DlqRedriveError, QueueNotFoundError
from bot.pacing import RECEIVE_BATCH, Deadline, RateLimiter
from bot.redrive_model import RedriveReport, StopReason
from bot.sqs_model import ReceivedMessage

# SQS refuses receives past 120,000 in-flight messages on a queue, FIFO too since 2025 (it was
# 20,000); a scan that holds unselected messages stops a little before that and reports the rest.
MAX_HELD = 110_000
STOP_POLL_S = 0.05  # how often a waiting worker asks whether the run was cancelled

ProgressCallback = Callable[[RedriveReport], None]


class Scan:
    """Runs the workers of one run and ends it; see the module docstring."""

    def __init__(
        self,
        state: RunState,
        holding: Holding,
        intake: Intake,
        deadline: Deadline,
        cancelled: Callable[[], bool],
        on_progress: ProgressCallback | None,
    ) -> None:
        self.state = state
        self.holding = holding
        self.intake = intake
        self.deadline = deadline
        self.cancelled = cancelled
        self.on_progress = on_progress
        request = state.request
        self.rate = RateLimiter(None if request.dry_run else request.rate)
        self.rate_turn = threading.Lock()  # with a rate, one worker at a time waits and receives
        self.max_held = request.max_held or MAX_HELD

    def execute(self) -> RedriveReport:
        report = self.state.report
        started = time.monotonic()
        workers = max(1, self.state.request.workers)
        try:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="redrive") as pool:
                futures = [pool.submit(self._worker) for _ in range(workers)]
                # Waits of STOP_POLL_S, never one without end: Python runs a signal's handler
                # (the CLI's Ctrl-C and SIGTERM, which cancel the run) only in the main thread,
                # between bytecodes, and Linux may hand the signal to another thread (a worker,
                # a delivery's invoke); a main thread blocked until the workers end acted on it
                # only then, after the whole DLQ had moved.
                while wait(futures, timeout=STOP_POLL_S).not_done:
                    pass
                for future in futures:
                    future.result()
        finally:
            report.blocked_groups = len(self.holding.blocked_groups)
            if self.holding.pin_tally is not None:
                report.matched_digests = self.holding.pin_tally.digests
            self.holding.release_all()
            report.duration_s = time.monotonic() - started
            report.remaining = self._remaining()
        return report

    def _worker(self) -> None:
        state = self.state
        try:
            while not state.stop_event.is_set():
                self.holding.heartbeat()
                self._check_limits()
                batch = self._next_batch()
                if batch is None:
                    continue  # the wait for rate tokens ended because the run is stopping
                received_at, messages = batch
                if not messages:
                    return
                try:
                    self.intake.handle(messages, received_at)
                except BaseException:
                    # Whatever interrupted the batch, its messages are released at the end, so
                    # none stays hidden for the whole visibility timeout (but none already moved).
                    self.holding.keep_unfinished(messages, received_at)
                    raise
                if self.on_progress is not None:
                    with state.lock:
                        self.on_progress(state.report)
        except StopRun as stop:
            state.stop(stop.reason, stop.message)
        except DlqRedriveError as exc:
            # AWS refused a call (access denied, the DLQ deleted, ...): stop everyone, release what
            # is held, and report what was done so far with the reason.
            state.stop(StopReason.ERROR, str(exc))
        except BaseException as exc:  # a bug: stop everyone, release, re-raise
            state.stop(StopReason.ERROR, f"{type(exc).__name__}: {exc}")
            raise

    def _check_limits(self) -> None:
        if self.deadline.expired():
            raise StopRun(StopReason.DEADLINE)
        if self.cancelled():
            raise StopRun(StopReason.CANCELLED)
        if len(self.holding.held) >= self.max_held:
            raise StopRun(StopReason.IN_FLIGHT_LIMIT)

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
            if self.state.stop_event.is_set():
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
            raise StopRun(StopReason.DEADLINE)
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
            if self.state.stop_event.wait(min(left, STOP_POLL_S)):
                return False
            self.holding.heartbeat()  # the others wait for this one's turn: it keeps theirs hidden
            self._check_limits()
        return not self.state.stop_event.is_set()

    def _receive(self) -> tuple[float, list[ReceivedMessage]]:
        """(when, what): the time is taken before the call, so that the heartbeat counts a
        message's visibility from no later than SQS started it."""
        state, visibility = self.state, self.holding.visibility
        sqs, url = state.sqs, state.dlq.info.url
        received_at = state.clock()
        messages = sqs.receive(url, max_messages=10, visibility_timeout=visibility, wait_seconds=0)
        state.count_call("ReceiveMessage")
        wait = state.request.confirm_empty_wait_s
        if not messages and wait > 0 and not state.stop_event.is_set():
            # Short polling samples a subset of SQS hosts, so an empty answer may be false. When
            # SQS says nothing is visible the scan is done at once; otherwise one long poll
            # (which asks every host) decides.
            if self._visible_count() == 0:
                return received_at, []
            messages = sqs.receive(
                url, max_messages=10, visibility_timeout=visibility, wait_seconds=wait
            )
            state.count_call("ReceiveMessage")
        return received_at, messages

    def _visible_count(self) -> int | None:
        try:
            info = self.state.sqs.queue_info(self.state.dlq.info.url)
        except DlqRedriveError:
            return None  # unknown: fall back to the long poll
        finally:
            self.state.count_call("GetQueueAttributes")
        return info.visible

    def _remaining(self) -> int | None:
        """What is still in the DLQ once the run released what it held: visible, in flight
        (held by another consumer) or delayed, as SQS counts them (approximately)."""
        report = self.state.report
        try:
            info = self.state.sqs.queue_info(self.state.dlq.info.url)
        except QueueNotFoundError:
            report.dlq_missing = True  # deleted during the run: nothing left to continue
            return None
        except Exception:  # noqa: BLE001 - a report figure, never worth failing the run for
            return None
        finally:
            report.api_calls["GetQueueAttributes"] += 1
        return info.visible + info.in_flight + info.delayed
