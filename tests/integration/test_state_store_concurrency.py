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
