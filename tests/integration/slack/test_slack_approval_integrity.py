"""An approval means exactly what was approved, through the real worker on moto and the local
Slack server: the run moves only what the count counted and at most the card's number, a won
approval cannot be lost to Slack, and a worker that dies leaves a card that says so."""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

import handlers.failed
import handlers.worker
from bot.slack.ids import ActionId
from bot.slack.protocol import DecisionJob, JobSigner, job_signing_key
from infra.local.lambda_server import LocalLambdaContext
from infra.local.scene import count, drain, put_in_dlq
from tests.integration.slack.slack_harness import (
    APPROVER,
    APPROVER_2,
    CHANNEL,
    SlackHarness,
    seed_orders,
)


def _worker_sqs() -> Any:
    return handlers.worker.worker().gateway.client


def _worker_sends() -> Any:
    return handlers.worker.worker().gateway.send_client


def _card_bound(harness: SlackHarness) -> int:
    """The N of the card's "up to N" (title) and of its dialog's "Move up to N"."""
    card = harness.card().body
    text = json.dumps(card["blocks"])
    title = re.search(r"up to ([\d,]+) message\(s\)", card["text"])
    dialog = re.search(r"Move up to ([\d,]+) counted", text)
    assert title and dialog, text
    assert title.group(1) == dialog.group(1)
    return int(title.group(1).replace(",", ""))


def test_an_approved_run_moves_at_most_what_a_count_that_stopped_early_counted(
    harness: SlackHarness,
) -> None:
    # Given 120 dead letters and a count that runs out of time part way (slow receives, a
    # 1-second worker)
    pair = seed_orders(harness.sqs, 120)
    harness.lambdas.set_timeout("worker", 1.0)

    def slow(**_: object) -> None:
        time.sleep(0.3)

    _worker_sqs().meta.events.register("before-send.sqs.ReceiveMessage", slow)
    try:
        request_id = harness.request_card()
    finally:
        _worker_sqs().meta.events.unregister("before-send.sqs.ReceiveMessage", slow)
    harness.lambdas.set_timeout("worker", 60.0)
    # and a card that says the count stopped early, why, and the bound
    bound = _card_bound(harness)
    card = json.dumps(harness.card().body["blocks"])
    assert "Counting stopped early because its time budget ran out" in card
    assert f"Approving moves at most the {bound} counted message(s)" in card
    assert "wait for a request of their own" in card
    assert 0 < bound < 120

    # When Bob approves, with time enough to move everything
    harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=harness.card_ts())
    harness.settle()

    # Then the run moved no more than the card said, and the rest wait in the DLQ
    run = harness.state.get_run(request_id)
    assert run is not None and run.status == "done"
    assert run.moved <= bound
    assert count(harness.sqs, pair.source_url) == run.moved
    assert count(harness.sqs, pair.dlq_url) == 120 - run.moved


def test_an_approval_moves_the_counted_messages_never_later_arrivals(
    harness: SlackHarness,
) -> None:
    # Given a card for the 3 orders in the DLQ
    pair = seed_orders(harness.sqs, 3)
    request_id = harness.request_card()
    # and, before anyone approves, someone else moves those 3 and 3 new ones arrive
    assert len(drain(harness.sqs, pair.dlq_url)) == 3
    put_in_dlq(harness.sqs, pair, [json.dumps({"late": i}) for i in range(3)])

    # When Bob approves
    harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=harness.card_ts())
    harness.settle()

    # Then none of the later arrivals moved: they wait for a request of their own
    assert count(harness.sqs, pair.source_url) == 0
    assert sorted(json.loads(b)["late"] for b in _bodies(harness, pair.dlq_url)) == [0, 1, 2]
    # and the card says it moved none of the 3 counted, and why
    assert "Done: moved *0*" in harness.updates()[-1]
    last = json.dumps(harness.calls("chat.update")[-1].body["blocks"])
    assert "The run took only the 3 message(s) counted for this request and moved 0" in last
    assert "Messages that arrived after the count wait for a request of their own" in last


def _bodies(harness: SlackHarness, url: str) -> list[str]:
    return [str(m["Body"]) for m in drain(harness.sqs, url)]


def test_an_approval_whose_card_slack_will_not_update_still_runs(harness: SlackHarness) -> None:
    # Given a card, and Slack refusing every update that says it was approved (each retry)
    pair = seed_orders(harness.sqs, 4)
    request_id = harness.request_card()
    for _ in range(5):
        harness.slack.state.refuse(
            "chat.update", "internal_error", lambda body: "Approved by" in str(body.get("text"))
        )

    # When Bob approves
    harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=harness.card_ts())
    harness.settle()

    # Then the run happened, and its record says done
    assert count(harness.sqs, pair.source_url) == 4
    run = harness.state.get_run(request_id)
    assert run is not None and run.status == "done" and run.moved == 4
    assert "Done: moved *4*" in harness.updates()[-1]
    # and a later click is told it is approved, without a second run
    harness.click(ActionId.APPROVE, request_id, user=APPROVER_2, message_ts=harness.card_ts())
    harness.settle()
    assert f"Already approved by <@{APPROVER}>" in harness.responses()[-1]
    assert count(harness.sqs, pair.source_url) == 4


def test_a_worker_that_dies_mid_run_leaves_a_failed_run_and_a_card_that_says_why(
    harness: SlackHarness,
) -> None:
    # Given an approved redrive whose invocation hangs in its first send (as one that Lambda
    # then kills at its timeout)
    seed_orders(harness.sqs, 30)
    request_id = harness.request_card()
    hung, release = threading.Event(), threading.Event()

    def hang(**_: object) -> None:
        hung.set()
        release.wait(30)
        raise RuntimeError("the invocation was killed")  # never seen: the run is failed by then

    _worker_sends().meta.events.register("before-send.sqs.SendMessageBatch", hang)
    try:
        harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=harness.card_ts())
        assert hung.wait(30)
        # When Lambda sends its on-failure destination the record of that invocation
        decision = next(
            i.payload for i in harness.lambdas.calls_to("worker") if i.payload["job"] == "decision"
        )
        record = _failure_record(decision, "Task timed out after 900.00 seconds")
        result = _deliver_to_failed(harness, record)

        # Then the run record and the card say it failed, and why
        assert result == {"ok": True, "run": request_id, "marked": True}
        run = harness.state.get_run(request_id)
        assert run is not None and run.status == "failed"
        assert "Task timed out after 900.00 seconds" in str(run.error)
        last = harness.calls("chat.update")[-1].body
        assert ":x: Redrive failed" in last["text"]
        assert "Task timed out after 900.00 seconds" in json.dumps(last["blocks"])
    finally:
        release.set()
        harness.settle()
        _worker_sends().meta.events.unregister("before-send.sqs.SendMessageBatch", hang)
    # And the killed invocation, had it gone on, never overwrote the failure
    run = harness.state.get_run(request_id)
    assert run is not None and run.status == "failed" and "Task timed out" in str(run.error)


def test_a_failure_record_with_a_made_up_job_changes_nothing(harness: SlackHarness) -> None:
    seed_orders(harness.sqs, 2)
    request_id = harness.request_card()
    harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=harness.card_ts())
    harness.settle()
    updates = len(harness.updates())
    forged = {"job": "continue", "body": {"run_id": request_id, "invocation": 1}}

    assert _deliver_to_failed(harness, _failure_record(forged, "x")) == {
        "ok": False,
        "refused": "unsigned",
    }
    run = harness.state.get_run(request_id)
    assert run is not None and run.status == "done" and len(harness.updates()) == updates


def test_an_unsigned_decision_event_approves_nothing(harness: SlackHarness) -> None:
    # Given a pending request
    pair = seed_orders(harness.sqs, 3)
    request_id = harness.request_card()

    # When someone who may invoke the worker sends it a decision of their own making
    made_up = {
        "job": "decision",
        "decision": "approve",
        "request_id": request_id,
        "user": APPROVER,
        "channel": CHANNEL,
        "message_ts": harness.card_ts(),
        "response_url": harness.response_url(),
        "delivery": "made-up",
    }
    result = handlers.worker.worker().handle(made_up, None)

    # Then it is refused: nothing approved, nothing moved, no audit entry in Bob's name
    assert result == {"ok": False, "refused": "unsigned"}
    stored = harness.state.get_request(request_id)
    assert stored is not None and stored.status == "pending"
    assert count(harness.sqs, pair.dlq_url) == 3
    assert [e["kind"] for e in harness.state.events(request_id)] == ["requested"]
    # while the same click sealed with the worker's key is taken
    signer = JobSigner(job_signing_key(harness.env["JOB_SIGNING_KEY"]))
    job = DecisionJob(
        "approve", request_id, APPROVER, CHANNEL, harness.card_ts(), "T_LOCAL", "", "sealed"
    )
    assert handlers.worker.worker().handle(signer.seal(job, _now()), None) == {"ok": True}
    assert count(harness.sqs, pair.source_url) == 3


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _deliver_to_failed(harness: SlackHarness, record: dict[str, Any]) -> Any:
    """Invoke the on-failure destination function (``handlers/failed.py``) with ``record``, as
    Lambda does once the worker's invocation failed for good."""
    handlers.failed.router.reset(harness.env)
    try:
        return handlers.failed.handler(record, LocalLambdaContext("failed", 60.0, "req-failed"))
    finally:
        handlers.failed.router.reset()


def _failure_record(payload: Any, message: str) -> dict[str, Any]:
    """The record Lambda sends an on-failure destination (documented shape)."""
    return {
        "version": "1.0",
        "timestamp": "2026-12-01T12:15:01.000Z",
        "requestContext": {
            "requestId": "c0ffee00-0000-4000-8000-000000000001",
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:worker:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 1,
        },
        "requestPayload": payload,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": {"errorType": "Sandbox.Timedout", "errorMessage": message},
    }
