"""What every part of one redrive run shares: the request, the report, the lock and the stop.

The run's parts (``engine_scan`` receives, ``engine_intake`` judges, ``engine_sending`` sends and
deletes, ``engine_holding`` holds and releases) run on several worker threads at once; each takes
this one ``RunState`` so that there is one lock over the report and one place that decides how the
run stops.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from bot.catalog import Dlq
from bot.delivery_api import TargetApi
from bot.redrive_model import RedriveReport, RedriveRequest, StopReason
from bot.sqs_model import SqsApi


class StopRun(Exception):
    """Raised inside a worker to end the whole scan with a reason."""

    def __init__(self, reason: StopReason, message: str | None = None) -> None:
        super().__init__(message or reason.value)
        self.reason = reason
        self.message = message


@dataclass(slots=True)
class Claim:
    """A selected message being moved: every receipt handle it was received with (SQS delivers
    at least once, so a second delivery can arrive meanwhile, and a delete with an older handle
    "succeeds, but the message might not be deleted"), when the newest was received, and
    whether it was counted matched yet."""

    handles: list[str]
    received_at: float
    matched: bool = False


class RunState:
    """The request, the report and the stop of one run, shared by its worker threads.

    ``lock`` guards the report and every part's bookkeeping; ``clock`` (seconds) times what is
    held (tests pass the fake SQS's clock).
    """

    def __init__(
        self,
        sqs: SqsApi,
        dlq: Dlq,
        request: RedriveRequest,
        report: RedriveReport,
        clock: Callable[[], float],
        targets: TargetApi | None = None,
    ) -> None:
        self.sqs = sqs
        # Functions and topics the feeders' messages go back to (None: this run cannot reach
        # them, and such messages stay in the DLQ, failed with the reason).
        self.targets = targets
        self.dlq = dlq
        self.request = request
        self.report = report
        self.clock = clock
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.stop_decided = False  # a stop reason was recorded (under ``lock``)

    def stop(self, reason: StopReason, message: str | None = None) -> None:
        with self.lock:
            self.stop_locked(reason, message)

    def stop_locked(self, reason: StopReason, message: str | None = None) -> None:
        """Stop every worker; the first reason is kept, except that an error replaces any other
        (a limit reached after an AWS error must not report the run complete)."""
        replace_it = reason is StopReason.ERROR and self.report.stopped is not StopReason.ERROR
        if not self.stop_decided or replace_it:
            self.stop_decided = True
            self.report.stopped = reason
            self.report.error = message
        self.stop_event.set()

    def limit_reached(self) -> bool:
        """Whether --limit is used up (then the run stops). Call with the lock held."""
        limit = self.request.selection.limit
        if limit is None or self.report.matched < limit:
            return False
        self.stop_locked(StopReason.LIMIT)
        return True

    def count_call(self, name: str, count: int = 1) -> None:
        with self.lock:
            self.report.api_calls[name] += count
