"""Every job the endpoint hands the worker is typed and sealed; the worker, invoked through the
Lambda API by anyone else, runs nothing it cannot verify (issue 11: anyone who can invoke the
worker function could approve as anyone).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from bot.slack.ids import ActionId
from bot.slack.protocol import (
    CommandJob,
    DecisionJob,
    JobSigner,
    ReplyJob,
    ReportButtonJob,
    job_signing_key,
)
from infra.local.scene import count
from infra.local.slack_events import LOCAL_TEAM
from tests.integration.slack.slack_harness import (
    APPROVER,
    CHANNEL,
    JOB_KEY,
    OUTSIDER,
    REQUESTER,
    SlackHarness,
    seed_orders,
)

SIGNER = JobSigner(job_signing_key(JOB_KEY))


def _now() -> datetime:
    return datetime.now(UTC)


def test_every_job_the_endpoint_hands_the_worker_is_typed_and_sealed(
    harness: SlackHarness,
) -> None:
    # Given a DLQ with messages and a pending request for it
    seed_orders(harness.sqs, 3)
    request_id = harness.request_card()

    # When people use the command, the card's buttons and a report button
    harness.command("list")
    harness.click(ActionId.REJECT, request_id, user=APPROVER, message_ts=harness.card_ts())
    harness.click(ActionId.REPORT_PEEK, '{"queue": "orders-dlq"}', user=APPROVER, message_ts="1.1")
    harness.click(ActionId.APPROVE, "not-a-request-id", user=APPROVER, message_ts="1.1")
    harness.settle()

    # Then every event the worker was invoked with is a sealed envelope of a typed job that the
    # worker's key opens, saying who asked, where, and from which workspace
    events = [invocation.payload for invocation in harness.lambdas.invocations]
    assert len(events) == 5
    assert all(set(event) == {"job", "body", "issued_at", "expires_at", "sig"} for event in events)
    jobs = [SIGNER.open(event, _now()) for event in events]
    redrive, listing, decision, peek, reply = jobs
    assert isinstance(redrive, CommandJob) and redrive.text == "redrive orders-dlq"
    assert isinstance(listing, CommandJob) and listing.text == "list"
    assert (redrive.user, redrive.channel, redrive.team) == (REQUESTER, CHANNEL, LOCAL_TEAM)
    assert isinstance(decision, DecisionJob)
    assert (decision.decision, decision.request_id, decision.user, decision.team) == (
        "reject",
        request_id,
        APPROVER,
        LOCAL_TEAM,
    )
    assert isinstance(peek, ReportButtonJob)
    assert (peek.action, peek.queue, peek.user, peek.team) == (
        "peek",
        "orders-dlq",
        APPROVER,
        LOCAL_TEAM,
    )
    assert isinstance(reply, ReplyJob) and "not valid" in reply.text
    # And each is valid for the job's time to live only
    assert all(e["expires_at"] - e["issued_at"] == SIGNER.ttl_s for e in events)


def _invoke_worker(harness: SlackHarness, event: Any) -> None:
    """Invoke the worker function through the Lambda API, as anyone with the right may."""
    client = boto3.client("lambda", endpoint_url=harness.lambdas.endpoint_url)
    response = client.invoke(
        FunctionName="worker", InvocationType="Event", Payload=json.dumps(event).encode()
    )
    assert response["StatusCode"] == 202


def test_decisions_invoked_straight_on_the_worker_approve_nothing(harness: SlackHarness) -> None:
    # Given a pending request
    pair = seed_orders(harness.sqs, 3)
    request_id = harness.request_card()
    before = len(harness.lambdas.invocations)
    approve = DecisionJob(
        decision="approve",
        request_id=request_id,
        user=APPROVER,
        channel=CHANNEL,
        message_ts=harness.card_ts(),
        team=LOCAL_TEAM,
        response_url=harness.response_url(),
        delivery="made-up",
    )

    # When decisions "by Bob" reach the worker through the Lambda API, not from the endpoint:
    unsigned = {"job": "decision", **asdict(approve)}  # the old, plain form
    envelope_without_sig = {k: v for k, v in SIGNER.seal(approve, _now()).items() if k != "sig"}
    other_key = JobSigner(b"not-the-worker-key-but-32-bytes-long").seal(approve, _now())
    edited = SIGNER.seal(
        DecisionJob(**{**asdict(approve), "user": OUTSIDER, "delivery": "edited"}), _now()
    )
    edited["body"]["user"] = APPROVER  # Mallory's own sealed click, re-addressed to Bob
    stale = SIGNER.seal(
        DecisionJob(**{**asdict(approve), "delivery": "stale"}), _now() - timedelta(hours=1)
    )
    for event in (unsigned, envelope_without_sig, other_key, edited, stale):
        _invoke_worker(harness, event)
    harness.settle()

    # Then each is refused with its reason, and nothing was decided, run or moved
    results = [i.result for i in harness.lambdas.invocations[before:]]
    assert results == [
        {"ok": False, "refused": "unsigned"},
        {"ok": False, "refused": "unsigned"},
        {"ok": False, "refused": "tampered"},
        {"ok": False, "refused": "tampered"},
        {"ok": False, "refused": "stale"},
    ]
    stored = harness.state.get_request(request_id)
    assert stored is not None and stored.status == "pending" and stored.decided_by is None
    # And the audit has no approval, by Bob or anyone
    assert [event["kind"] for event in harness.state.events(request_id)] == ["requested"]
    assert harness.state.get_run(request_id) is None
    assert count(harness.sqs, pair.dlq_url) == 3
    assert harness.updates() == []
