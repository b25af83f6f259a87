"""The asynchronous side: failures reported to Slack, redrives that continue across invocations,
and the daily report's buttons."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

import handlers.worker
from bot.slack.ids import ActionId
from bot.slack.protocol import ContinueJob, JobSigner, job_signing_key
from infra.local.moto_server import LocalAws
from infra.local.scene import count, create_pair, put_in_dlq
from tests.integration.slack.slack_harness import (
    APPROVER,
    SlackHarness,
    ack_text,
    make_harness,
    seed_orders,
)


def _worker_sqs() -> Any:
    return handlers.worker.worker().gateway.client


def _worker_sends() -> Any:
    """The worker's client for SendMessageBatch (its own, without transport retries)."""
    return handlers.worker.worker().gateway.send_client


# --- failures inside the asynchronous step -------------------------------------------------------


def test_sqs_failure_during_the_redrive_is_reported_on_the_card(harness: SlackHarness) -> None:
    # Given an approved-to-be request, and SQS becoming unreachable for the worker
    pair = seed_orders(harness.sqs, 5)
    request_id = harness.request_card()

    def unreachable(**_: object) -> None:
        raise EndpointConnectionError(endpoint_url="http://sqs.local")

    _worker_sqs().meta.events.register("before-send.sqs.ReceiveMessage", unreachable)
    try:
        # When Bob approves
        harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=harness.card_ts())
        harness.settle()
    finally:
        _worker_sqs().meta.events.unregister("before-send.sqs.ReceiveMessage", unreachable)

    # Then the card says the redrive failed and why; nothing left the DLQ
    last = harness.calls("chat.update")[-1].body
    assert ":x: Redrive failed" in last["text"]
    assert "Error:" in json.dumps(last["blocks"])
    assert count(harness.sqs, pair.dlq_url) == 5
    run = harness.state.get_run(request_id)
    assert run is not None and run.status == "failed" and run.error
    assert harness.state.events(request_id)[-1]["detail"]["status"] == "failed"


def test_unexpected_error_in_the_worker_is_told_to_the_user(harness: SlackHarness) -> None:
    # Given a bug-like failure (not an AWS error) while counting
    seed_orders(harness.sqs, 2)

    def broken(**_: object) -> None:
        raise RuntimeError("simulated bug")

    _worker_sqs().meta.events.register("before-send.sqs.ReceiveMessage", broken)
    try:
        harness.command("redrive orders-dlq")
        harness.settle()
    finally:
        _worker_sqs().meta.events.unregister("before-send.sqs.ReceiveMessage", broken)

    # Then the requester hears about it (no card, nothing silent)
    assert "Something went wrong while handling that (RuntimeError)" in harness.responses()[-1]
    assert harness.calls("chat.postMessage") == []


def test_slack_refusing_the_card_is_told_to_the_user(harness: SlackHarness) -> None:
    seed_orders(harness.sqs, 2)
    harness.slack.state.overrides["chat.postMessage"] = lambda body: {
        "ok": False,
        "error": "not_in_channel",
    }

    harness.command("redrive orders-dlq")
    harness.settle()

    assert "Slack refused to post in C_OPS: not_in_channel" in harness.responses()[-1]


@pytest.fixture
def no_table_harness(
    aws: LocalAws, slack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[SlackHarness]:
    yield from make_harness(aws, {**slack_env, "STATE_TABLE": "missing-table"}, monkeypatch)


def test_missing_state_table_is_told_to_the_user(no_table_harness: SlackHarness) -> None:
    no_table_harness.command("status")
    no_table_harness.settle()

    answer = no_table_harness.responses()[-1]
    assert "the state table refused to check for a replayed request" in answer
    assert "ResourceNotFoundException" in answer


@pytest.fixture
def no_worker_harness(
    aws: LocalAws, slack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[SlackHarness]:
    yield from make_harness(aws, {**slack_env, "WORKER_FUNCTION_NAME": "nope"}, monkeypatch)


def test_worker_that_cannot_be_invoked_is_told_in_the_ack(no_worker_harness: SlackHarness) -> None:
    ack = no_worker_harness.command("list")

    assert ack["statusCode"] == 200
    assert "Could not start the work: could not start the worker function 'nope'" in ack_text(ack)


# --- continuing across invocations ---------------------------------------------------------------


def test_redrive_longer_than_one_invocation_continues_from_a_checkpoint(
    harness: SlackHarness,
) -> None:
    # Given 100 messages, a worker with a 1-second budget and sends that take 0.4 s a batch
    # (4 workers: at most 2 rounds = 80 messages fit in one invocation)
    pair = seed_orders(harness.sqs, 100)
    request_id = harness.request_card()
    harness.lambdas.set_timeout("worker", 1.0)

    def slow(**_: object) -> None:
        time.sleep(0.4)

    _worker_sends().meta.events.register("before-send.sqs.SendMessageBatch", slow)
    try:
        # When Bob approves
        harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=harness.card_ts())
        harness.settle(timeout=120)
    finally:
        _worker_sends().meta.events.unregister("before-send.sqs.SendMessageBatch", slow)

    # Then every message moved exactly once, over several invocations
    assert count(harness.sqs, pair.source_url) == 100
    assert count(harness.sqs, pair.dlq_url) == 0
    run = harness.state.get_run(request_id)
    assert run is not None and run.status == "done" and run.moved == 100
    assert run.invocation >= 2
    continuations = [
        i.payload for i in harness.lambdas.calls_to("worker") if i.payload["job"] == "continue"
    ]
    # each sealed with the worker's key, like the endpoint's jobs
    signer = JobSigner(job_signing_key(harness.env["JOB_SIGNING_KEY"]))
    opened = [signer.open(c, datetime.now(UTC)) for c in continuations]
    assert [c.invocation for c in opened if isinstance(c, ContinueJob)] == list(
        range(2, run.invocation + 1)
    )
    # and the card said it continues, then the outcome over those invocations
    blocks_text = [json.dumps(c.body["blocks"]) for c in harness.calls("chat.update")]
    assert any("continuing in a new invocation (part 2)" in t for t in blocks_text)
    assert "Done: moved *100*, failed *0*" in harness.updates()[-1]
    assert f"over {run.invocation} invocations" in harness.updates()[-1]
    kinds = [e["kind"] for e in harness.state.events(request_id)]
    assert kinds.count("checkpoint") == run.invocation - 1


@pytest.fixture
def held_harness(
    aws: LocalAws, slack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[SlackHarness]:
    # SQS's in-flight quota (120,000) made small: at most 3 unselected messages held at once
    yield from make_harness(aws, slack_env, monkeypatch, max_held=3)


def test_a_redrive_stopped_by_the_in_flight_quota_says_so_and_releases_the_rest(
    held_harness: SlackHarness,
) -> None:
    harness = held_harness
    # Given 2 orders that failed on 2 January and 6 that failed on the 5th
    pair = create_pair(harness.sqs, "orders")
    days = ["2026-01-02"] * 2 + ["2026-01-05"] * 6
    put_in_dlq(
        harness.sqs,
        pair,
        [json.dumps({"order": i, "at": f"{day}T10:00:00Z"}) for i, day in enumerate(days)],
    )
    # When the 2nd of January is asked for and approved
    request_id = harness.request_card("redrive orders-dlq --time-field at --date 2026-01-02")
    assert "at least 2 match" in json.dumps(harness.card().body["blocks"])
    harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=harness.card_ts())
    harness.settle()
    # Then the two moved, the run stopped on the quota and the card says why and what to do
    assert count(harness.sqs, pair.source_url) == 2
    last = harness.updates()[-1]
    assert "Done: moved *2*" in last
    assert "too many messages outside the selection are held at once" in json.dumps(
        harness.calls("chat.update")[-1].body["blocks"]
    )
    run = harness.state.get_run(request_id)
    assert run is not None and run.status == "done" and run.error
    # And the 6 it held are visible in the DLQ again at once, not hidden for the timeout
    assert count(harness.sqs, pair.dlq_url) == 6


def test_progress_is_shown_on_the_card_while_redriving(harness: SlackHarness) -> None:
    pair = seed_orders(harness.sqs, 60)
    request_id = harness.request_card()

    def slow(**_: object) -> None:
        time.sleep(0.3)

    _worker_sends().meta.events.register("before-send.sqs.SendMessageBatch", slow)
    try:
        harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=harness.card_ts())
        harness.settle()
    finally:
        _worker_sends().meta.events.unregister("before-send.sqs.SendMessageBatch", slow)

    updates = harness.updates()
    assert "Approved by" in updates[0]
    progress = [u for u in updates if "Redriving… moved *" in u]
    assert progress, updates
    assert "Done: moved *60*" in updates[-1]
    assert count(harness.sqs, pair.source_url) == 60


def test_duplicate_continuation_delivery_runs_once(harness: SlackHarness) -> None:
    # Given a finished run
    seed_orders(harness.sqs, 2)
    request_id = harness.request_card()
    harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=harness.card_ts())
    harness.settle()
    updates_before = len(harness.updates())

    # When a stray continuation for it arrives (Lambda delivers events at least once)
    signer = JobSigner(job_signing_key(harness.env["JOB_SIGNING_KEY"]))
    stray = signer.seal(ContinueJob(run_id=request_id, invocation=2), datetime.now(UTC))
    result = handlers.worker.worker().handle(stray, None)

    # Then it does nothing
    assert result == {"ok": True}
    assert len(harness.updates()) == updates_before


# --- the daily report's buttons ---------------------------------------------------------------


def test_report_peek_button_answers_ephemerally(harness: SlackHarness) -> None:
    seed_orders(harness.sqs, 4)

    harness.click(
        ActionId.REPORT_PEEK, json.dumps({"queue": "orders-dlq"}), user=APPROVER, message_ts="1.1"
    )
    harness.settle()

    answer = harness.calls("response_url")[-1].body
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert "showing 3 of ~4 visible" in answer["blocks"][0]["text"]["text"]


def test_report_redrive_button_starts_the_approval_flow_for_that_date(
    harness: SlackHarness,
) -> None:
    # Given today's dead letters and the report's Redrive button for today
    pair = seed_orders(harness.sqs, 3)
    today = datetime.now(UTC).date().isoformat()

    # When someone clicks it
    value = json.dumps({"queue": "orders-dlq", "date": today})
    harness.click(ActionId.REPORT_REDRIVE, value, user="U_X", message_ts="1.1")
    harness.settle()

    # Then the usual approval card is posted for that day, and approving moves them
    card = harness.card()
    assert f"*Selection*\\n`{today} (UTC), by sent time`" in json.dumps(card.body["blocks"])
    assert "3 message(s) from orders-dlq" in card.body["text"]
    harness.click(
        ActionId.APPROVE, harness.request_id(), user=APPROVER, message_ts=harness.card_ts()
    )
    harness.settle()
    assert count(harness.sqs, pair.source_url) == 3
