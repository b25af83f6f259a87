"""The redrive engine: stream messages out of a DLQ and back to where they came from.

The loop is small on purpose; the decisions live in ``selection`` (which messages) and ``planner``
(what to send). The one rule the engine exists to keep (``bot.engine_sending``):

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

One run is a few parts that share a ``RunState`` (``bot.engine_state``: the request, the report,
the lock, the stop), each in a module of its own so it can be read alone: the scan receives and
stops (``engine_scan``), the intake judges and claims (``engine_intake``), the router finds each
message's destination (``engine_routing``), the sender sends and deletes (``engine_sending``),
the deliverer invokes functions and publishes to topics for the feeders' messages
(``engine_delivering``), and the holding keeps what is not moved hidden and releases it
(``engine_holding``). This module only puts them together.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bot.catalog import Dlq
from bot.delivery_api import TargetApi
from bot.engine_delivering import Deliverer
from bot.engine_holding import Holding
from bot.engine_intake import Intake
from bot.engine_ledger import RedriveLedger, RunLedger, content_digest
from bot.engine_routing import Router
from bot.engine_scan import ProgressCallback, Scan
from bot.engine_sending import Sender
from bot.engine_state import RunState
from bot.pacing import RECEIVE_BATCH, Deadline, RateLimiter, check_rate
from bot.redrive_model import Action, RedriveReport, RedriveRequest, StopReason
from bot.selection import Pin, pin_digest
from bot.sqs_model import SqsApi

# An edit's pin admits its one message whenever it was sent (a pin also bounds the sent time).
_ANY_TIME = datetime(9999, 1, 1, tzinfo=UTC)

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
    "for_action",
]


def for_action(request: RedriveRequest) -> RedriveRequest:
    """``request`` as the loop runs it for its action.

    An edit selects its one message: a pin with that message's digest (keeping the time bound
    of an approval's pin), at most one. Only a redrive judges a message poison: the redrive
    counter guards against sending a message round and round, which a discard or an export
    does not do, and an edit is a human's fix of exactly such a message.
    """
    selection = request.selection
    if request.edit is not None:
        sent_before = selection.pin.sent_before if selection.pin is not None else _ANY_TIME
        digests = frozenset({pin_digest(request.edit.message_id)})
        selection = replace(selection, pin=Pin(sent_before, digests), limit=1)
    force = request.force or request.edit is not None or request.action is not Action.REDRIVE
    if selection is request.selection and force == request.force:
        return request
    return replace(request, selection=selection, force=force)


class RedriveEngine:
    """Moves messages from a DLQ back to their source queues; see the module docstring.

    ``ledger`` (optional) counts the redrives of messages that cannot carry the counter across
    runs (without one, each run counts what it sent itself: ``bot.engine_ledger.InRunLedger``);
    ``clock`` (seconds) times the heartbeat that keeps held messages hidden (tests pass the fake
    SQS's clock); ``targets`` (optional) invokes the functions and publishes to the topics that
    the messages of SNS subscriptions, EventBridge targets and Lambda functions go back to.
    """

    def __init__(
        self,
        sqs: SqsApi,
        *,
        max_redrives: int,
        timezone: Any,
        ledger: RedriveLedger | None = None,
        clock: Callable[[], float] = time.monotonic,
        targets: TargetApi | None = None,
    ) -> None:
        self.sqs = sqs
        self.targets = targets
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
        request = for_action(request)
        report = RedriveReport(
            dlq=dlq.name,
            dry_run=request.dry_run,
            selection=request.selection.describe(self.timezone),
            archive_location=request.archive.location if request.archive is not None else None,
        )
        state = RunState(self.sqs, dlq, request, report, self.clock, self.targets)
        holding = Holding(state)
        router = Router(state)
        ledger = RunLedger(self.ledger, dlq.name, force=request.force)
        sender = Sender(state, holding, router, ledger)
        intake = Intake(
            state,
            holding,
            router,
            sender,
            Deliverer(state, holding, sender),
            ledger,
            max_redrives=self.max_redrives,
            timezone=self.timezone,
        )
        scan = Scan(state, holding, intake, deadline or Deadline(None), cancelled, on_progress)
        return scan.execute()
