"""The daily job's run lease (bot.daily.once, bot.daily.lease) on moto's DynamoDB: a duplicate
while the first attempt is alive does nothing, a dead attempt is taken over once its short lease
runs out (at once by Lambda's retry of the same request), its uncounted moves are inherited, and
a finished run answers again with its first answer."""

from __future__ import annotations

import threading
import time
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from bot.daily.lease import LeaseStore
from bot.daily.once import Attempt, LeaseTiming, LeaseUnavailableError, run_once
from bot.state_table import StateTable, create_state_table
from infra.local.moto_server import LocalAws

TABLE = "dlq-redrive-state"
KEY = "report#2026-03-11T06:00:00+00:00"
FAST = LeaseTiming(renew_s=0.1, lease_s=1.0, poll_s=0.02)


@pytest.fixture
def store(aws: LocalAws) -> LeaseStore:
    client = boto3.client("dynamodb")
    create_state_table(client, TABLE)
    return LeaseStore(StateTable(TABLE, client))


def _now_ms() -> int:
    return int(time.time() * 1000)


def _no_wait(seconds: float) -> None:
    raise AssertionError(f"waited {seconds} s: the lease should have been taken at once")


def test_a_duplicate_while_the_first_attempt_is_alive_does_nothing(store: LeaseStore) -> None:
    # Given a first attempt that is running (and renewing its lease) until released
    started, release = threading.Event(), threading.Event()
    results: dict[str, Any] = {}

    def first(attempt: Attempt) -> dict[str, Any]:
        started.set()
        release.wait(30)
        return {"status": "reported", "ts": "1.000001"}

    thread = threading.Thread(
        target=lambda: results.update(first=run_once(store, KEY, "req-1", first, timing=FAST))
    )
    thread.start()
    assert started.wait(10)

    # When the same event arrives again (another request id), longer than a lease after
    ran: list[int] = []
    time.sleep(FAST.lease_s * 1.5)
    duplicate = run_once(store, KEY, "req-2", lambda _: ran.append(1) or {}, timing=FAST)
    release.set()
    thread.join(30)

    # Then it did nothing and said so; the first finished; a later duplicate gets its answer
    assert duplicate == {"status": "duplicate_in_progress", "key": KEY} and ran == []
    assert results["first"] == {"status": "reported", "ts": "1.000001"}
    again = run_once(store, KEY, "req-3", lambda _: ran.append(1) or {}, timing=FAST)
    assert again == {"status": "reported", "ts": "1.000001", "replayed": True} and ran == []


def test_an_attempt_that_stopped_renewing_is_taken_over_with_its_uncounted_moves(
    store: LeaseStore,
) -> None:
    # Given an attempt killed after noting 3 moves it had not counted yet (no heartbeat since)
    assert store.claim(KEY, "req-1", now_ms=_now_ms(), lease_ms=1_000)[0]
    assert store.renew(KEY, "req-1", until_ms=_now_ms() + 1_000, pending={"orders-dlq": 3})

    # When another request delivers the event
    seen: list[tuple[int, dict[str, int], int]] = []

    def work(attempt: Attempt) -> dict[str, Any]:
        lease = store.read(KEY, now_ms=_now_ms())
        assert lease is not None
        seen.append((attempt.number, dict(attempt.inherited), lease.attempt))
        return {"status": "reported"}

    result = run_once(store, KEY, "req-2", work, timing=FAST)

    # Then it ran (as attempt 2) once the dead attempt's lease had run out, with its moves
    assert result == {"status": "reported"}
    assert seen == [(2, {"orders-dlq": 3}, 2)]


def test_lambdas_retry_of_the_same_request_takes_over_at_once(store: LeaseStore) -> None:
    # Given an attempt that died holding a long lease (Lambda keeps the request id on retry)
    assert store.claim(KEY, "req-1", now_ms=_now_ms(), lease_ms=600_000)[0]

    # When Lambda retries that invocation
    result = run_once(
        store, KEY, "req-1", lambda a: {"attempt": a.number}, timing=FAST, sleep=_no_wait
    )

    # Then the retry runs without waiting for the lease
    assert result == {"attempt": 2}


def test_an_attempt_that_raises_ends_its_lease_and_keeps_its_uncounted_moves(
    store: LeaseStore,
) -> None:
    # Given an attempt that moved 4 messages, then failed before counting them
    def failing(attempt: Attempt) -> dict[str, Any]:
        attempt.note("orders-dlq", 4)
        raise RuntimeError("Slack refused the post")

    with pytest.raises(RuntimeError):
        run_once(store, KEY, "req-1", failing, timing=LeaseTiming(renew_s=60, lease_s=600))

    # When Lambda's retry comes (at once here), it takes over without waiting, with the moves
    result = run_once(
        store, KEY, "req-2", lambda a: {"inherited": a.inherited}, timing=FAST, sleep=_no_wait
    )
    assert result == {"inherited": {"orders-dlq": 4}}


def test_an_attempt_whose_lease_was_taken_over_knows_and_does_not_overwrite_it(
    store: LeaseStore,
) -> None:
    # Given an attempt holding the lease, which stalls past it, and another that takes over
    assert store.claim(KEY, "req-1", now_ms=_now_ms(), lease_ms=1_000)
    lease = store.read(KEY, now_ms=_now_ms())
    stalled = Attempt(store, KEY, "req-1", FAST, lease)
    assert store.claim(KEY, "req-2", now_ms=_now_ms() + 2_000, lease_ms=60_000)[0]

    # When the stalled one wakes up and renews, then finishes
    stalled.flush()
    stalled.complete({"status": "reported"})

    # Then it knows it lost the lease, and the new owner's lease is untouched
    assert stalled.lost
    now = store.read(KEY, now_ms=_now_ms())
    assert now is not None and (now.owner, now.state) == ("req-2", "running")


def test_a_state_table_that_cannot_be_used_is_said_before_any_work(store: LeaseStore) -> None:
    def unavailable(**_: object) -> None:
        raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "x"}}, "UpdateItem")

    assert isinstance(store.table, StateTable)
    store.table.client.meta.events.register("provide-client-params.dynamodb", unavailable)
    ran: list[int] = []
    with pytest.raises(LeaseUnavailableError):
        run_once(store, KEY, "req-1", lambda _: ran.append(1) or {}, timing=FAST)
    assert ran == []
