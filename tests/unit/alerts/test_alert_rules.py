"""The alert rules (bot.alerts.rules.decide): pure, one check at a time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.alerts.rules import (
    ALERTING,
    QUIET,
    AlertState,
    Change,
    Decision,
    Reading,
    decide,
    resolved,
)
from bot.config import AlertSettings

T0 = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
SETTINGS = AlertSettings(channel="C1", threshold=5, growth=10, quiet_minutes=60)


def reading(dlq: str, visible: int, in_flight: int = 0, delayed: int = 0) -> Reading:
    return Reading(dlq, visible, in_flight, delayed)


def check(
    states: dict[str, AlertState], *readings: Reading, at: datetime, run: str = "r"
) -> Decision:
    return decide(states, list(readings), now=at, settings=SETTINGS, run=run, part="alert.1")


def stored(decision: Decision, states: dict[str, AlertState]) -> dict[str, AlertState]:
    """The states after the check's writes (as the store would keep them)."""
    kept = dict(states)
    for state in decision.states:
        kept[state.dlq] = replace(state, version=state.version + 1)
    return kept


def posted(states: dict[str, AlertState], ts: str) -> dict[str, AlertState]:
    return {n: resolved(s, ts) if s.claimed else s for n, s in states.items()}


def changes(decision: Decision) -> list[tuple[str, Change]]:
    return [(a.reading.dlq, a.change) for a in decision.actions]


def test_a_dlq_below_the_threshold_is_quiet_and_its_depth_is_kept() -> None:
    decision = check({}, reading("a", 4), at=T0)

    assert changes(decision) == []
    assert [(s.dlq, s.status, s.last_depth) for s in decision.states] == [("a", QUIET, 4)]


def test_at_the_threshold_a_first_alert_is_claimed_with_its_quiet_period() -> None:
    decision = check({}, reading("a", 3, in_flight=1, delayed=1), at=T0, run="run1")

    [action] = decision.actions
    assert action.change == Change.NEW
    assert action.grew_by is None
    after = action.after
    assert (after.status, after.thread_ts, after.alert_run, after.alert_part) == (
        ALERTING,
        None,
        "run1",
        "alert.1",
    )
    assert after.quiet_until == T0 + timedelta(minutes=60)
    assert after.notified_depth == 5


def test_growth_since_the_last_check_fires_below_the_threshold() -> None:
    big = replace(SETTINGS, threshold=1000)
    first = decide({}, [reading("a", 100)], now=T0, settings=big, run="r", part="p")
    assert first.actions == ()

    later = decide(
        stored(first, {}),
        [reading("a", 110)],
        now=T0 + timedelta(minutes=5),
        settings=big,
        run="r2",
        part="p",
    )

    [action] = later.actions
    assert (action.change, action.grew_by) == (Change.NEW, 10)


def test_a_dlq_seen_for_the_first_time_has_no_growth_only_the_threshold() -> None:
    big = replace(SETTINGS, threshold=1000)

    decision = decide({}, [reading("a", 500)], now=T0, settings=big, run="r", part="p")

    assert decision.actions == ()


def test_while_alerting_it_stays_quiet_until_it_grew_by_the_growth_then_updates() -> None:
    states = posted(stored(check({}, reading("a", 20), at=T0), {}), "111.1")

    small = check(states, reading("a", 29), at=T0 + timedelta(minutes=5))
    assert changes(small) == []
    states = stored(small, states)
    grown = check(states, reading("a", 30), at=T0 + timedelta(minutes=10))

    [action] = grown.actions
    assert action.change == Change.GROWING
    assert action.before.notified_depth == 20
    assert action.after.notified_depth == 30
    assert action.after.thread_ts == "111.1"


def test_no_second_top_level_alert_within_or_after_the_quiet_period_while_not_drained() -> None:
    states = posted(stored(check({}, reading("a", 20), at=T0), {}), "111.1")

    for minutes in (5, 60, 61, 600):
        decision = check(states, reading("a", 20), at=T0 + timedelta(minutes=minutes))
        assert changes(decision) == []


def test_drained_means_nothing_visible_in_flight_or_delayed() -> None:
    states = posted(stored(check({}, reading("a", 20), at=T0), {}), "111.1")

    for left in (reading("a", 0, in_flight=1), reading("a", 0, delayed=1)):
        assert changes(check(states, left, at=T0 + timedelta(minutes=5))) == []
    drained = check(states, reading("a", 0), at=T0 + timedelta(minutes=5))

    [action] = drained.actions
    assert action.change == Change.RESOLVED
    assert action.after.status == QUIET
    assert action.after.thread_ts == "111.1"  # a refill within the quiet period replies there


def test_refilled_within_the_quiet_period_replies_in_the_old_thread() -> None:
    states = posted(stored(check({}, reading("a", 20), at=T0), {}), "111.1")
    states = stored(check(states, reading("a", 0), at=T0 + timedelta(minutes=5)), states)

    refilled = check(states, reading("a", 8), at=T0 + timedelta(minutes=10))

    [action] = refilled.actions
    assert action.change == Change.REOPENED
    assert (action.after.status, action.after.thread_ts) == (ALERTING, "111.1")
    assert action.after.quiet_until == T0 + timedelta(minutes=60)  # not restarted


def test_refilled_after_the_quiet_period_is_a_new_alert() -> None:
    states = posted(stored(check({}, reading("a", 20), at=T0), {}), "111.1")
    states = stored(check(states, reading("a", 0), at=T0 + timedelta(minutes=5)), states)

    refilled = check(states, reading("a", 8), at=T0 + timedelta(minutes=60))

    [action] = refilled.actions
    assert action.change == Change.NEW
    assert action.after.thread_ts is None


def test_a_claimed_alert_must_be_looked_up_before_deciding() -> None:
    states = stored(check({}, reading("a", 20), at=T0, run="r1"), {})

    with pytest.raises(ValueError, match="was not looked up"):
        check(states, reading("a", 20), at=T0 + timedelta(minutes=5), run="r2")


def test_an_owed_alert_is_posted_by_the_next_check_and_no_other() -> None:
    states = stored(check({}, reading("a", 20), at=T0, run="r1"), {})
    owed = {n: resolved(s, None) for n, s in states.items()}  # its post is not in Slack

    again = check(owed, reading("a", 20), at=T0 + timedelta(minutes=5), run="r2")

    [action] = again.actions
    assert (action.change, action.after.alert_run) == (Change.NEW, "r2")


def test_an_owed_alert_of_a_dlq_drained_since_goes_quiet_without_a_message() -> None:
    states = stored(check({}, reading("a", 20), at=T0, run="r1"), {})
    owed = {n: resolved(s, None) for n, s in states.items()}

    drained = check(owed, reading("a", 0), at=T0 + timedelta(minutes=5), run="r2")

    assert drained.actions == ()
    [state] = drained.states
    assert (state.status, state.quiet_until, state.thread_ts) == (QUIET, None, None)


def test_unchanged_counts_write_nothing() -> None:
    states = stored(check({}, reading("a", 3), at=T0), {})

    assert check(states, reading("a", 3), at=T0 + timedelta(minutes=5)).states == ()


def test_a_dlq_without_a_reading_keeps_its_state() -> None:
    states = posted(stored(check({}, reading("a", 20), at=T0), {}), "111.1")

    assert check(states, at=T0 + timedelta(minutes=5)) == Decision((), ())


def test_sixty_dlqs_filling_at_once_are_sixty_new_alerts_of_one_check() -> None:
    readings = [reading(f"q{i:02}", 10 + i) for i in range(60)]

    decision = check({}, *readings, at=T0, run="r1")

    assert [a.change for a in decision.actions] == [Change.NEW] * 60
    assert {(a.after.alert_run, a.after.alert_part) for a in decision.actions} == {
        ("r1", "alert.1")
    }


def test_an_unchanged_state_is_written_again_after_a_day_to_outlive_its_ttl() -> None:
    states = stored(check({}, reading("a", 3), at=T0), {})

    [state] = check(states, reading("a", 3), at=T0 + timedelta(days=1)).states

    assert state.last_checked == T0 + timedelta(days=1)
