"""The approval's transaction under concurrency, on the local DynamoDB (moto with the isolation
DynamoDB documents, see infra/local/moto_server.py): exactly one of many approvals wins, and the
loser's cancelled transaction erases nothing the winner wrote."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import boto3

from bot.state import StateStore
from bot.state_model import ApprovalRequest, RequestStatus, RunRecord, RunStatus
from bot.state_table import StateTable, create_state_table
from infra.local.moto_server import LocalAws

TABLE = "dlq-redrive-state"


def test_of_twenty_concurrent_approvals_one_wins_and_keeps_its_run_and_event(
    aws: LocalAws,
) -> None:
    # Given a pending request
    client = boto3.client("dynamodb")
    create_state_table(client, TABLE)
    store = StateStore(StateTable(TABLE, client))
    now = datetime.now(UTC)
    store.put_request(
        ApprovalRequest(
            "20261201-120000-abcdef",
            "orders-dlq",
            {},
            "all messages",
            3,
            "U_ALICE",
            "C_OPS",
            now,
            now + timedelta(hours=1),
        )
    )
    approvers = [f"U_{i}" for i in range(20)]
    start = threading.Barrier(len(approvers))
    won: list[str] = []

    def approve(user: str) -> None:
        run = RunRecord(
            "20261201-120000-abcdef", "orders-dlq", "U_ALICE", user, RunStatus.RUNNING, now, now
        )
        start.wait()
        store = StateStore(StateTable(TABLE, boto3.client("dynamodb")))
        if store.approve_and_start(run.run_id, run).won:
            won.append(user)

    # When twenty approvers approve at the same moment
    threads = [threading.Thread(target=approve, args=(u,)) for u in approvers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then one won, and the request, its run and its audit say that one
    assert len(won) == 1
    request = store.get_request("20261201-120000-abcdef")
    run = store.get_run("20261201-120000-abcdef")
    assert request is not None and request.status is RequestStatus.APPROVED
    assert request.decided_by == won[0]
    assert run is not None and run.approved_by == won[0]
    events = store.events("20261201-120000-abcdef")
    assert [(e["kind"], e["actor"]) for e in events] == [("approved", won[0])]


def test_a_dead_hand_over_is_failed_or_claimed_never_both(aws: LocalAws) -> None:
    # Given runs that part 1 (Bob's click "d1") handed over to part 2, and part 1's on-failure
    # record racing part 2's claim, on the local DynamoDB
    client = boto3.client("dynamodb")
    create_state_table(client, TABLE)
    now = datetime.now(UTC)
    for attempt in range(10):
        run_id = f"20261201-120000-race{attempt:02d}"
        store = StateStore(StateTable(TABLE, client))
        run = RunRecord(run_id, "orders-dlq", "U_ALICE", "U_BOB", RunStatus.RUNNING, now, now)
        run.started_by = "d1"
        assert store.start_run(run)
        run.status, run.invocation, run.moved = RunStatus.CONTINUING, 2, 7
        assert store.save_run(run, expected_invocation=1) is not None
        start = threading.Barrier(2)
        claimed: list[RunRecord | None] = []

        def claim(
            run_id: str = run_id,
            start: threading.Barrier = start,
            claimed: list[RunRecord | None] = claimed,
        ) -> None:
            other = StateStore(StateTable(TABLE, boto3.client("dynamodb")))
            start.wait()
            claimed.append(other.claim_continuation(run_id, 2, now, owner="part-2"))

        racer = threading.Thread(target=claim)
        racer.start()
        start.wait()
        failed = store.fail_hand_over(
            run_id,
            "part 2 was never started",
            now,
            invocation=1,
            approved_by="U_BOB",
            started_by="d1",
        )
        racer.join(30)

        # Then exactly one write took the run, and the stored run is the winner's
        assert (failed is None) is (claimed[0] is not None)
        stored = store.get_run(run_id)
        assert stored is not None and stored.moved == 7
        if failed is not None:
            assert stored.status is RunStatus.FAILED and stored.invocation == 1
            assert stored.error == "part 2 was never started" and not stored.unreported
        else:
            assert stored.status is RunStatus.RUNNING and stored.started_by == "part-2"
    # and the record of another click never fails a hand-over
    run = RunRecord(
        "20261201-120000-other", "orders-dlq", "U_ALICE", "U_BOB", RunStatus.RUNNING, now, now
    )
    run.started_by = "d1"
    assert store.start_run(run)
    run.status, run.invocation = RunStatus.CONTINUING, 2
    assert store.save_run(run, expected_invocation=1) is not None
    run_id = run.run_id
    assert store.fail_hand_over(run_id, "x", now, invocation=1, started_by="d9") is None
