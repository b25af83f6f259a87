"""The alert states in the state table (bot.alerts.store.AlertStore), on the in-memory table
that tests/integration/test_state_table_contract.py holds to DynamoDB's behaviour."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.alerts.rules import ALERTING, AlertState
from bot.alerts.store import RETENTION, AlertStore
from tests.unit.fake_state_table import FakeStateTable

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def test_a_state_reads_back_as_written_one_version_up() -> None:
    store = AlertStore(FakeStateTable())
    state = AlertState(
        "orders-dlq",
        status=ALERTING,
        last_depth=12,
        last_checked=NOW,
        alerted_at=NOW,
        notified_depth=12,
        thread_ts="1700000000.000100",
        quiet_until=NOW + timedelta(minutes=60),
        alert_run="2026-12-02T03:00:00+00:00",
        alert_part="alert.1",
    )

    saved = store.save(state, now=NOW)

    assert saved == replace(state, version=1)
    assert store.states(now=NOW) == {"orders-dlq": saved}


def test_two_checks_acting_on_one_state_the_second_write_is_refused() -> None:
    # Given a stored state both checks read at version 1
    store = AlertStore(FakeStateTable())
    read = store.save(AlertState("a", last_depth=0), now=NOW)
    assert read is not None

    # When both write what they decided from it
    first = store.save(replace(read, status=ALERTING, alert_run="r1"), now=NOW)
    second = store.save(replace(read, status=ALERTING, alert_run="r2"), now=NOW)

    # Then only the first is stored; the second learns it lost (and posts nothing for it)
    assert first is not None and second is None
    assert store.states(now=NOW)["a"].alert_run == "r1"


def test_a_new_state_is_written_once_even_by_two_first_sightings() -> None:
    store = AlertStore(FakeStateTable())

    assert store.save(AlertState("a"), now=NOW) is not None
    assert store.save(AlertState("a", status=ALERTING), now=NOW) is None


def test_a_state_past_its_ttl_reads_as_absent() -> None:
    # DynamoDB deletes expired items only eventually: the reader must not see them
    store = AlertStore(FakeStateTable())
    store.save(AlertState("a", status=ALERTING), now=NOW)

    assert store.states(now=NOW + RETENTION - timedelta(seconds=1)) != {}
    assert store.states(now=NOW + RETENTION + timedelta(seconds=1)) == {}


def test_a_state_past_its_ttl_not_yet_deleted_can_be_written_anew() -> None:
    store = AlertStore(FakeStateTable())
    store.save(AlertState("a", status=ALERTING), now=NOW)
    later = NOW + RETENTION + timedelta(seconds=1)

    saved = store.save(AlertState("a", last_depth=3), now=later)

    assert saved is not None and store.states(now=later) == {"a": saved}


def test_the_states_one_reply_spoke_of_are_recorded_all_or_none() -> None:
    # Given two stored states, one of which another check changed meanwhile
    store = AlertStore(FakeStateTable())
    a = store.save(AlertState("a", last_depth=1), now=NOW)
    b = store.save(AlertState("b", last_depth=1), now=NOW)
    assert a is not None and b is not None
    assert store.save(replace(b, last_depth=7), now=NOW) is not None

    # When this check records both after its reply
    saved = store.save_all([replace(a, notified_depth=20), replace(b, notified_depth=20)], now=NOW)

    # Then neither was written: a retry renders the reply for both again, never for one alone
    assert saved is False
    states = store.states(now=NOW)
    assert states["a"].notified_depth is None and states["b"].last_depth == 7
    assert store.save_all([replace(states["a"], notified_depth=20)], now=NOW) is True
    assert store.states(now=NOW)["a"].notified_depth == 20
