"""How one run stops (``RunState``): the first reason is kept, an AWS error replaces any other,
and a used-up --limit stops the run. No SQS call is made."""

from __future__ import annotations

from bot.catalog import Dlq
from bot.engine_state import RunState
from bot.redrive_model import RedriveReport, RedriveRequest, StopReason
from bot.selection import Selection
from tests.unit.fake_sqs import FakeSqs


def state(limit: int | None = None) -> RunState:
    sqs = FakeSqs()
    dlq = Dlq(sqs.info(sqs.create("orders-dlq")), ())
    request = RedriveRequest(selection=Selection(limit=limit))
    report = RedriveReport(dlq="orders-dlq", dry_run=False, selection="all messages")
    return RunState(sqs, dlq, request, report, clock=lambda: 0.0)  # type: ignore[arg-type]


def test_the_first_stop_reason_is_kept() -> None:
    run = state()
    run.stop(StopReason.DEADLINE)
    run.stop(StopReason.CANCELLED)
    assert run.report.stopped is StopReason.DEADLINE and run.stop_event.is_set()


def test_an_error_replaces_an_earlier_reason_and_is_not_replaced() -> None:
    # Given a run that reached its limit, then met an AWS error
    run = state()
    run.stop(StopReason.LIMIT)
    run.stop(StopReason.ERROR, "AccessDenied: no")
    # Then the error is what it reports, and a later error or reason does not replace it
    run.stop(StopReason.ERROR, "a second one")
    run.stop(StopReason.DRAINED)
    assert (run.report.stopped, run.report.error) == (StopReason.ERROR, "AccessDenied: no")
    assert not run.report.complete


def test_a_used_up_limit_stops_the_run() -> None:
    run = state(limit=2)
    run.report.matched = 1
    with run.lock:
        assert not run.limit_reached()
    run.report.matched = 2
    with run.lock:
        assert run.limit_reached()
    assert run.report.stopped is StopReason.LIMIT and run.stop_event.is_set()
