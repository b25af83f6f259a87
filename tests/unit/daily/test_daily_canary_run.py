"""The daily auto-redrive's canary as the report keeps it (bot.daily.canary_run): which
invocation starts with a canary, what a stopped or passed one leaves for the continuation chain,
and the report's words. Pure: outcomes built by hand, no server."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.canary import CanaryOutcome, Watch
from bot.catalog import DlqCatalog
from bot.config import DailySettings, EngineSettings
from bot.daily.auto_redrive import auto_redrive_of
from bot.daily.blocks import fallback_text, render_report
from bot.daily.canary_run import canary_plan, canary_result, outcome_report, with_canary
from bot.daily.codec import from_json, to_json
from bot.daily.once import Attempt, LeaseTiming
from bot.daily.report import AutoRedrive, CanaryResult, DailyReport, DlqStatus
from bot.pacing import Deadline
from bot.redrive_model import RedriveReport, StopReason
from bot.selection import LINEAGE_ATTRIBUTE, Selection, day_window

DAILY = DailySettings(
    report_channel="C1", auto_redrive=None, report_when_empty=True, error_attribute="error"
)
SELECTION = Selection(window=day_window(date(2026, 3, 10), ZoneInfo("UTC")))


def _report(moved: int, stopped: StopReason = StopReason.DRAINED, **more: int) -> RedriveReport:
    return RedriveReport(
        "orders-dlq", dry_run=False, selection="", moved=moved, stopped=stopped, **more
    )


def _stopped() -> CanaryOutcome:
    return CanaryOutcome(
        canary=_report(10, StopReason.LIMIT, scanned=10, matched=10),
        returned=9,
        untraceable=0,
        returned_errors=Counter({"Timeout <!here>": 7, "Declined": 2}),
        stopped=True,
        rest=None,
        lineage="canary-abc",
        watch=Watch.THRESHOLD,
        waited_s=5.0,
        allowed=1,
        max_share=0.1,
    )


def test_the_canary_is_on_by_default_off_at_zero_and_not_run_again_once_passed() -> None:
    plan = canary_plan(DAILY, None)
    assert plan is not None and (plan.size, plan.wait_s, plan.max_returned_share) == (10, 120, 0.1)
    off = DailySettings(
        report_channel="C1",
        auto_redrive=None,
        report_when_empty=True,
        error_attribute=None,
        canary_size=0,
    )
    assert canary_plan(off, None) is None
    # A continuation after a canary that passed goes on without one; after one not judged yet
    # (the time ran out while watching) it starts with one again
    passed = AutoRedrive(canary=CanaryResult(moved=10, passed=True, lineage="canary-abc"))
    unjudged = AutoRedrive(canary=CanaryResult(moved=10, lineage="canary-abc", watch="deadline"))
    assert canary_plan(DAILY, passed) is None
    assert canary_plan(DAILY, unjudged) is not None


def test_a_stopped_canary_ends_the_dlqs_run_and_says_why() -> None:
    # Given a canary that moved 10 and saw 9 come back (more than the 1 allowed)
    outcome = _stopped()
    kept = canary_result(outcome)
    result = with_canary(auto_redrive_of(outcome_report(outcome), SELECTION), kept)
    # Then the DLQ's run is over (no continuation), and the canary is kept with its words
    assert result.moved == 10 and not result.continuing and result.canary == kept
    assert kept.stopped and not kept.passed
    assert kept.errors == (("Timeout <!here>", 7), ("Declined", 2))
    assert kept.words.startswith("The canary moved 10; 9 came back to the DLQ within 5 s")
    assert "the consumer is still failing" in kept.words
    # And the report says it, the labels escaped, with what is left in the DLQ
    status = DlqStatus(name="orders-dlq", depth=30, depth_before=30, redrive=result)
    report = DailyReport(
        day=date(2026, 3, 10),
        timezone="UTC",
        generated_at=datetime(2026, 3, 11, 6, tzinfo=UTC),
        dlqs=(status,),
        auto_redrive_names=("orders-dlq",),
    )
    blocks = render_report(report).message.blocks
    text = "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert "Came back with: `Timeout &lt;!here&gt;` ×7, `Declined` ×2." in text
    assert "<!here>" not in text
    assert "*≈ 30* left in the DLQ." in text
    assert "the canary stopped the auto-redrive: the consumer is still failing" in fallback_text(
        report
    )


def test_a_passed_canary_and_its_rest_count_as_one_run() -> None:
    # Given a canary of 10 that passed and a rest that moved 20 more and drained the DLQ
    outcome = CanaryOutcome(
        canary=_report(10, StopReason.LIMIT, scanned=10, matched=10),
        returned=0,
        untraceable=0,
        returned_errors=Counter(),
        stopped=False,
        rest=_report(20, scanned=25, matched=20, out_of_window=5),
        lineage="canary-abc",
        watch=Watch.WAITED,
        waited_s=120.0,
        allowed=1,
        max_share=0.1,
    )
    result = with_canary(
        auto_redrive_of(outcome_report(outcome), SELECTION), canary_result(outcome)
    )
    # Then 30 moved, and the run looked at every message (the canary's 10 among them): the
    # report can count yesterday's exactly (35 looked at, 5 outside the day)
    assert result.moved == 30 and result.scanned == 35
    assert result.found_in(SELECTION) == 30
    assert result.canary is not None and result.canary.passed


def test_a_watch_cut_by_the_time_budget_hands_over_to_a_continuation() -> None:
    outcome = CanaryOutcome(
        canary=_report(10, StopReason.LIMIT),
        returned=0,
        untraceable=0,
        returned_errors=Counter(),
        stopped=False,
        rest=None,
        lineage="canary-abc",
        watch=Watch.DEADLINE,
    )
    kept = canary_result(outcome)
    result = with_canary(auto_redrive_of(outcome_report(outcome), SELECTION), kept)
    assert result.continuing and not kept.passed and not kept.stopped


def test_the_canary_travels_to_a_continuation_and_back() -> None:
    # The continuation's event and the kept report carry the canary (lineage included)
    result = with_canary(AutoRedrive(moved=10, selection=SELECTION), canary_result(_stopped()))
    assert from_json(AutoRedrive, json.loads(json.dumps(to_json(result)))) == result


def _world(canary_size: str = "10") -> tuple[Any, Any, Any, str]:
    """An auto-redriver on the in-memory SQS: orders → orders-dlq, 15 messages in the DLQ."""
    from tests.unit.daily.fakes import Stores
    from tests.unit.fake_sqs import FakeSqs

    sqs = FakeSqs()
    dlq_url = sqs.create("orders-dlq")
    source_url = sqs.create("orders", dead_letter_to=dlq_url)
    for n in range(15):
        sqs.put(dlq_url, json.dumps({"n": n}))
    settings = EngineSettings.from_env({})
    redriver = Stores.make().auto_redriver(sqs, DAILY_CANARY_SIZE=canary_size)
    dlq = DlqCatalog(sqs, settings).get("orders-dlq")  # type: ignore[arg-type]
    return sqs, redriver, dlq, source_url


def test_a_continuation_after_a_passed_canary_moves_the_rest_with_its_lineage() -> None:
    # Given a run whose canary passed in an earlier invocation, and one of its copies that came
    # back to the DLQ since (it carries the canary's lineage)
    sqs, redriver, dlq, source_url = _world()
    back = {"DataType": "String", "StringValue": "canary-abc"}
    sqs.put(dlq.info.url, json.dumps({"n": "back"}), **{LINEAGE_ATTRIBUTE: back})
    before = AutoRedrive(
        moved=10,
        continuing=True,
        selection=Selection(),
        canary=CanaryResult(moved=10, passed=True, lineage="canary-abc", words="passed"),
    )
    attempt = Attempt(None, "k", "owner", LeaseTiming(), None)
    # When the continuation carries on
    done = redriver.redrive(
        datetime(2026, 3, 11, 6, tzinfo=UTC),
        dlq,
        Selection(),
        Deadline(600.0),
        attempt,
        before=before,
    )
    # Then no new canary ran (nothing waited: all 15 moved in one go, the passed canary kept),
    # every copy carries the canary's lineage, and the copy that came back was not sent again
    assert done.moved_now == 15
    assert done.result.canary == before.canary
    sent = sqs.queues[source_url].messages.values()
    assert len(sent) == 15
    assert {m.message_attributes[LINEAGE_ATTRIBUTE]["StringValue"] for m in sent} == {"canary-abc"}
    assert [m.body for m in sqs.queues[dlq.info.url].messages.values()] == ['{"n": "back"}']
