"""The rules a redrive across invocations follows (bot.run_control): pure, no server."""

from __future__ import annotations

from bot.redrive_model import RedriveReport, StopReason
from bot.run_control import (
    MAX_IDLE_INVOCATIONS,
    RunTotals,
    Step,
    left_in_dlq,
    next_step,
    remaining_limit,
    why_stopped,
)


def _report(stopped: StopReason, **counts: int) -> RedriveReport:
    return RedriveReport(
        dlq="orders-dlq", dry_run=False, selection="all", stopped=stopped, **counts
    )


def test_moves_add_up_over_invocations_and_kept_messages_are_not_counted_twice() -> None:
    # Given a first invocation that ran out of time after moving 40 and failing 3
    totals = RunTotals().fold(_report(StopReason.DEADLINE, moved=40, failed=3, scanned=45))
    # When the second one looks at the 3 failed again (and 2 more) and finishes
    totals = totals.fold(_report(StopReason.DRAINED, moved=10, failed=5, scanned=15))
    # Then the moves add up and the failed are the last full pass's figure, not 3 + 5
    assert totals == RunTotals(moved=50, failed=5, scanned=60)


def test_a_pass_that_did_not_see_everything_keeps_the_largest_figure_seen() -> None:
    totals = RunTotals(moved=5, failed=4, skipped=2, needs_human=1)
    folded = totals.fold(_report(StopReason.DEADLINE, moved=1, failed=1, skipped=3))
    assert (folded.moved, folded.failed, folded.skipped, folded.needs_human) == (6, 4, 3, 1)


def test_a_run_that_ended_by_itself_finishes() -> None:
    for stopped in StopReason:
        if stopped is not StopReason.DEADLINE:
            assert next_step(stopped, 10, 2).step is Step.FINISH


def test_time_running_out_continues_and_progress_resets_the_idle_count() -> None:
    step = next_step(StopReason.DEADLINE, 7, MAX_IDLE_INVOCATIONS - 1)
    assert (step.step, step.idle_invocations) == (Step.CONTINUE, 0)


def test_invocations_that_look_at_nothing_give_up_after_the_third_in_a_row() -> None:
    idle = 0
    steps = []
    for _ in range(MAX_IDLE_INVOCATIONS):
        step = next_step(StopReason.DEADLINE, 0, idle)
        idle = step.idle_invocations
        steps.append(step.step)
    assert steps == [Step.CONTINUE, Step.CONTINUE, Step.GIVE_UP]
    assert "no progress in 3 invocations in a row" in str(step.reason)


def test_a_chain_with_a_most_allowed_number_of_invocations_gives_up_there() -> None:
    step = next_step(StopReason.DEADLINE, 50, 0, invocation=4, max_invocations=4)
    assert step.step is Step.GIVE_UP and "4 invocations" in str(step.reason)
    assert next_step(StopReason.DEADLINE, 50, 0, invocation=3, max_invocations=4).step is (
        Step.CONTINUE
    )


def test_the_remaining_limit_is_under_every_cap_and_never_negative() -> None:
    assert remaining_limit(10) is None
    assert remaining_limit(10, None, 25) == 15
    assert remaining_limit(10, 12, 25) == 2
    assert remaining_limit(30, 12, None) == 0


def test_every_stop_reason_has_its_words() -> None:
    assert {why_stopped(s) for s in StopReason} and all(why_stopped(s) for s in StopReason)
    assert "in-flight quota" in why_stopped(StopReason.IN_FLIGHT_LIMIT)


def test_what_a_run_left_in_the_dlq_is_said_with_the_callers_numbers() -> None:
    report = _report(
        StopReason.DRAINED,
        not_attempted=1_200,
        blocked_groups=2,
        needs_human=1,
        unconfirmed=3,
        held_back=4,
        delete_failed=5,
    )
    lines = left_in_dlq(report, lambda n: f"{n:,}", part=" in the last part")
    assert lines[0].startswith("1,200 selected were not sent in the last part")
    assert len(lines) == 6
    assert left_in_dlq(_report(StopReason.DRAINED, moved=3)) == []


def test_a_progress_snapshot_never_replaces_the_figures_of_earlier_passes() -> None:
    # A snapshot of a run still going says "drained" (its stop is not decided yet)
    totals = RunTotals(moved=5, failed=4)
    snapshot = _report(StopReason.DRAINED, moved=2, failed=1)
    assert totals.fold(snapshot, partial=True) == RunTotals(moved=7, failed=4)


def test_a_slack_run_record_keeps_every_total_under_its_name() -> None:
    # The runner folds a run's totals from and back into its record by field name
    # (bot.slack.runner): a total the record does not keep would be lost between invocations.
    from dataclasses import fields

    from bot.state_model import RunRecord

    assert {f.name for f in fields(RunTotals)} <= {f.name for f in fields(RunRecord)}
