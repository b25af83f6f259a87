"""The daily job's rules across invocations, against in-memory SQS, state table, Slack and
Lambda (no server): when the auto-redrive hands over, when it gives up, and how its counts add
up (bot.run_control's rules, shared with an approved Slack redrive)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from bot.config import DailySettings, EngineSettings
from bot.daily.auto_redrive import auto_redrive_of
from bot.daily.builder import assemble_job
from bot.daily.continuing import MAX_INVOCATIONS, chain_step
from bot.daily.events import Continuation, parse_event
from bot.daily.job import DailyJob
from bot.daily.once import LeaseTiming
from bot.daily.report import AutoRedrive
from bot.engine import RedriveEngine
from bot.redrive_model import RedriveReport, StopReason
from bot.run_control import Step
from bot.selection import Selection
from infra.local.lambda_server import LocalLambdaContext
from tests.unit.daily.fakes import CHANNEL, Stores, calls_to, section_texts
from tests.unit.fake_lambda import FakeLambda
from tests.unit.fake_sqs import FakeSqs

SCHEDULE = {"time": "2026-03-11T06:00:00Z", "detail-type": "Scheduled Event"}
FUNCTION = "dlq-redrive-daily"
ENV = {"TIMEZONE": "UTC", "REPORT_CHANNEL": CHANNEL, "AUTO_REDRIVE": "*"}
ENV |= {"AUTO_REDRIVE_TIME_FIELD": "at"}
LEASE = LeaseTiming(renew_s=0.2, lease_s=1.5, poll_s=0.05)


def _job(sqs: FakeSqs, stores: Stores, invoker: FakeLambda) -> DailyJob:
    settings = EngineSettings.from_env(ENV)
    return assemble_job(
        gateway=sqs,
        engine=RedriveEngine(sqs, max_redrives=3, timezone=settings.timezone),
        snapshots=stores.snapshots,
        runs=stores.runs,
        leases=stores.leases,
        slack=stores.slack,
        invoker=invoker,
        daily=DailySettings.from_env(ENV),
        engine_settings=settings,
        clock=stores.clock,
        lease_timing=LEASE,
    )


def _orders(sqs: FakeSqs, count: int) -> tuple[str, str]:
    """orders-dlq with ``count`` of yesterday's messages, and its source queue."""
    dlq = sqs.create("orders-dlq")
    source = sqs.create("orders", dead_letter_to=dlq)
    for n in range(count):
        sqs.put(dlq, json.dumps({"at": "2026-03-10T10:00:00Z", "n": n}))
    return dlq, source


def _context(timeout_s: float) -> LocalLambdaContext:
    return LocalLambdaContext(FUNCTION, timeout_s, str(uuid.uuid4()))


def test_a_06_00_run_without_time_to_redrive_hands_over_with_what_is_left() -> None:
    # Given 3 of yesterday's messages, and a run whose time is all reserved for the report
    sqs, stores, invoker = FakeSqs(), Stores.make(), FakeLambda(functions={FUNCTION})
    dlq, source = _orders(sqs, 3)

    # When the 06:00 run runs
    outcome = _job(sqs, stores, invoker).handle(SCHEDULE, _context(10))

    # Then the report says the auto-redrive goes on, and the next invocation got the DLQ
    assert outcome["continuing"] == ["orders-dlq"] and outcome["moved_now"] == 0
    assert "still running" in section_texts(stores.slack)[0]
    [event] = invoker.payloads(FUNCTION)
    work = parse_event(event)
    assert isinstance(work, Continuation)
    assert (work.queues, work.invocation, work.idle_invocations) == (("orders-dlq",), 2, 1)
    assert work.thread_ts == outcome["ts"]
    assert sqs.visible(dlq) == 3 and sqs.visible(source) == 0


def test_a_continuation_with_time_finishes_and_the_report_says_so() -> None:
    # Given a 06:00 run that handed its auto-redrive over
    sqs, stores, invoker = FakeSqs(), Stores.make(), FakeLambda(functions={FUNCTION})
    dlq, source = _orders(sqs, 3)
    job = _job(sqs, stores, invoker)
    first = job.handle(SCHEDULE, _context(10))

    # When the continuation runs with time to spare
    outcome = job.handle(invoker.payloads(FUNCTION)[0], _context(600))

    # Then it moved every message, said so in the thread and updated the report
    assert outcome["status"] == "finished" and outcome["total_moved"] == 3
    assert sqs.visible(source) == 3 and sqs.visible(dlq) == 0
    thread = [c for c in calls_to(stores.slack, "chat.postMessage") if c.get("thread_ts")]
    assert [c["thread_ts"] for c in thread] == [first["ts"]]
    assert "finished after 2 invocations" in section_texts(stores.slack)[-1]
    [update] = section_texts(stores.slack, "chat.update")
    assert "still running" not in update and "moved 3 back" in update
    assert len(invoker.invocations) == 1


def test_a_second_invocation_in_a_row_that_moves_nothing_gives_up_and_says_why() -> None:
    # Given a continuation whose 06:00 run moved nothing (one idle invocation behind it)
    sqs, stores, invoker = FakeSqs(), Stores.make(), FakeLambda(functions={FUNCTION})
    dlq, _ = _orders(sqs, 2)
    job = _job(sqs, stores, invoker)
    job.handle(SCHEDULE, _context(10))

    # When it has no time to move anything either
    outcome = job.handle(invoker.payloads(FUNCTION)[0], _context(10))

    # Then the chain stops (no third invocation), the thread says why, the report that it stopped
    assert outcome["status"] == "stopped" and len(invoker.invocations) == 1
    text = section_texts(stores.slack)[-1]
    assert "stopped after 2 invocations without finishing" in text
    assert "no progress in 2 invocations in a row: the function's time budget is too small" in (
        text
    )
    [update] = section_texts(stores.slack, "chat.update")
    assert "still running" not in update
    assert "stopped after 2 invocations without finishing; see the thread" in update
    assert sqs.visible(dlq) == 2


def test_a_continuation_that_cannot_be_invoked_is_said_in_the_thread() -> None:
    sqs, stores = FakeSqs(), Stores.make()
    _orders(sqs, 1)
    outcome = _job(sqs, stores, FakeLambda(refuse_next=["AccessDeniedException"])).handle(
        SCHEDULE, _context(10)
    )
    assert "AccessDeniedException" in outcome["continue_error"]
    assert "Could not continue: AWS refused invoking" in section_texts(stores.slack)[-1]


def test_the_chain_goes_on_while_invocations_move_messages_and_stops_at_the_most_allowed() -> None:
    # Time ran out after moving some: go on, the idle count starts again
    step = chain_step(3, True, moved=50, scanned=80, idle=1)
    assert (step.step, step.idle_invocations) == (Step.CONTINUE, 0)
    # Nothing ran out of time: finish
    assert chain_step(3, False, moved=0, scanned=0, idle=1).step is Step.FINISH
    # The most invocations allowed: give up, saying so
    last = chain_step(MAX_INVOCATIONS, True, moved=50, scanned=80, idle=0)
    assert last.step is Step.GIVE_UP and f"{MAX_INVOCATIONS} invocations" in str(last.reason)


def test_an_invocation_that_looked_at_messages_but_moved_none_made_no_progress() -> None:
    # Every continuation looks again at the messages an earlier one left: looking is no progress
    first = chain_step(2, True, moved=0, scanned=5_000, idle=0)
    assert (first.step, first.idle_invocations) == (Step.CONTINUE, 1)
    second = chain_step(3, True, moved=0, scanned=5_000, idle=first.idle_invocations)
    assert second.step is Step.GIVE_UP and "no progress in 2 invocations" in str(second.reason)


def test_failed_and_poison_counts_follow_the_shared_rule_across_invocations() -> None:
    # Given an earlier invocation that left 3 failed and 1 poison message behind
    selection = Selection()
    before = AutoRedrive(moved=40, failed=3, needs_human=1, continuing=True, selection=selection)

    def report(stopped: StopReason, **counts: int) -> RedriveReport:
        return RedriveReport("orders-dlq", dry_run=False, selection="", stopped=stopped, **counts)

    # When the next one runs out of time having seen only 1 of them: the largest figures stay
    partial = auto_redrive_of(report(StopReason.DEADLINE, moved=5, failed=1), selection, before)
    assert (partial.moved, partial.failed, partial.needs_human) == (5, 3, 1)
    assert partial.continuing
    # When one looks at every message: its own figures are the DLQ's
    whole = auto_redrive_of(report(StopReason.DRAINED, moved=5, failed=1), selection, before)
    assert (whole.failed, whole.needs_human, whole.continuing) == (1, 0, False)


def test_a_continuation_event_from_before_the_idle_count_reads_as_none_idle() -> None:
    event = {
        "dlq_redrive_daily": "continue",
        "time": datetime(2026, 3, 11, 6, tzinfo=UTC).isoformat(),
        "day": "2026-03-10",
        "queues": ["orders-dlq"],
        "invocation": 2,
        "channel": CHANNEL,
        "thread_ts": "1.2",
    }
    work = parse_event(event)
    assert isinstance(work, Continuation) and work.idle_invocations == 0
