"""Replacing the job signing key (docs/deploy.md, "The job signing key") strands nothing.

The key lives in Secrets Manager (moto here); ``put_secret_value`` rotates it: the new value
becomes AWSCURRENT and the one before it AWSPREVIOUS ("If you specify AWSCURRENT, and it is
already attached to another version, then Secrets Manager also moves the staging label
AWSPREVIOUS to the version that AWSCURRENT was removed from", PutSecretValue API reference).
Containers started before the rotation keep sealing with the old key for a while, containers
started after it open with the new one: a job sealed with either must still run, and nothing
sealed with a key that was never current may.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters

import handlers.slack
import handlers.worker
from bot.slack.ids import ActionId
from bot.slack.jobs import WorkerOptions
from bot.slack.protocol import DecisionJob, JobSigner, job_signing_key
from infra.local.moto_server import LocalAws
from infra.local.scene import count
from infra.local.slack_events import LOCAL_TEAM
from tests.integration.slack.slack_harness import (
    APPROVER,
    CHANNEL,
    SlackHarness,
    make_harness,
    seed_orders,
)

SECRET_ID = "dlq-redrive/test/job-signing-key"
OLD_KEY = "old0" * 16  # 64 letters and digits, as CloudFormation generates them
NEW_KEY = "new1" * 16
NEWER_KEY = "nwr2" * 16


def _rotate(value: str) -> None:
    """What docs/deploy.md tells the operator to run (put-secret-value)."""
    boto3.client("secretsmanager").put_secret_value(SecretId=SECRET_ID, SecretString=value)


def _new_process() -> None:
    """Forget what this test process cached, as a container started now has nothing cached."""
    parameters.clear_caches()


@pytest.fixture
def secret_env(aws: LocalAws, slack_env: dict[str, str]) -> dict[str, str]:
    # Given the key deployed as the stack deploys it: a Secrets Manager secret, no plain key
    boto3.client("secretsmanager").create_secret(Name=SECRET_ID, SecretString=OLD_KEY)
    _new_process()
    env = {k: v for k, v in slack_env.items() if k != "JOB_SIGNING_KEY"}
    return {**env, "JOB_SIGNING_KEY_SECRET": SECRET_ID}


@pytest.fixture
def secret_harness(
    aws: LocalAws, secret_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[SlackHarness]:
    yield from make_harness(aws, secret_env, monkeypatch)


class RotatedBeforePart2:
    """The worker function, where the key is rotated just as a run hands over to its part 2,
    and Lambda starts that part in a new container (which reads the new key)."""

    def __init__(self, handler: Any) -> None:
        self.handler = handler
        self.env: dict[str, str] = {}
        self.rotated_at_part: int | None = None

    def __call__(self, event: Any, context: Any) -> Any:
        if isinstance(event, dict) and event.get("job") == "continue" and not self.rotated_at_part:
            self.rotated_at_part = event["body"]["invocation"]
            _rotate(NEW_KEY)
            _new_process()
            handlers.worker.worker.reset(self.env, options=WorkerOptions(progress_interval_s=0.2))
        return self.handler(event, context)


@pytest.fixture
def rotating_harness(
    aws: LocalAws, secret_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[SlackHarness, RotatedBeforePart2]]:
    worker = RotatedBeforePart2(handlers.worker.handler)
    monkeypatch.setattr(handlers.worker, "handler", worker)
    for harness in make_harness(aws, secret_env, monkeypatch):
        worker.env = harness.env
        yield harness, worker


def test_a_continuation_sealed_with_the_previous_key_still_runs_after_a_rotation(
    rotating_harness: tuple[SlackHarness, RotatedBeforePart2],
) -> None:
    harness, worker = rotating_harness
    # Given a redrive of 100 messages too long for one invocation (1 s budget, slow sends)
    pair = seed_orders(harness.sqs, 100)
    request_id = harness.request_card()
    harness.lambdas.set_timeout("worker", 1.0)

    def slow(**_: object) -> None:
        import time

        time.sleep(0.4)

    sends = handlers.worker.worker().gateway.send_client
    sends.meta.events.register("before-send.sqs.SendMessageBatch", slow)
    # When it is approved, and the key is rotated while part 1 hands over to part 2 (sealed
    # with the old key), which a container started after the rotation runs
    harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=harness.card_ts())
    harness.settle(timeout=120)

    # Then the part sealed with the previous key ran: the run finished and moved everything
    assert worker.rotated_at_part == 2
    refused = [i.result for i in harness.lambdas.calls_to("worker") if i.result != {"ok": True}]
    assert refused == []
    run = harness.state.get_run(request_id)
    assert run is not None and (run.status, run.moved) == ("done", 100)
    assert count(harness.sqs, pair.source_url) == 100
    assert count(harness.sqs, pair.dlq_url) == 0
    assert "Done: moved *100*, failed *0*" in harness.updates()[-1]


def _approve(harness: SlackHarness, request_id: str, delivery: str) -> DecisionJob:
    return DecisionJob(
        decision="approve",
        request_id=request_id,
        user=APPROVER,
        channel=CHANNEL,
        message_ts=harness.card_ts(),
        team=LOCAL_TEAM,
        response_url=harness.response_url(),
        delivery=delivery,
    )


def test_a_click_sealed_with_the_new_key_runs_on_a_worker_still_holding_the_old_one(
    secret_harness: SlackHarness,
) -> None:
    harness = secret_harness
    # Given a pending request, and a worker container that read the key before the rotation
    pair = seed_orders(harness.sqs, 3)
    request_id = harness.request_card()
    handlers.worker.worker()  # built, holding OLD_KEY
    # When the key is rotated and an endpoint container started since (new key) sends a click
    _rotate(NEW_KEY)
    _new_process()
    handlers.slack.endpoint.reset(harness.env)
    harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=harness.card_ts())
    harness.settle()

    # Then the worker re-read the key once instead of refusing: the approval ran
    results = [i.result for i in harness.lambdas.calls_to("worker")]
    assert {"ok": False, "refused": "tampered"} not in results
    assert count(harness.sqs, pair.source_url) == 3
    run = harness.state.get_run(request_id)
    assert run is not None and run.status == "done"


def test_a_job_sealed_with_a_key_that_was_never_current_is_refused_after_rotations(
    secret_harness: SlackHarness,
) -> None:
    harness = secret_harness
    # Given a pending request and the key rotated twice (OLD is now neither current nor previous)
    pair = seed_orders(harness.sqs, 3)
    request_id = harness.request_card()
    _rotate(NEW_KEY)
    _rotate(NEWER_KEY)
    now = datetime.now(UTC)
    never = JobSigner(b"a-key-that-was-never-the-current-one").seal(
        _approve(harness, request_id, "never"), now
    )
    retired = JobSigner(job_signing_key(OLD_KEY)).seal(_approve(harness, request_id, "old"), now)

    # When each reaches a worker container started after the rotations
    _new_process()
    handlers.worker.worker.reset(harness.env)
    results = [handlers.worker.worker().handle(event, None) for event in (never, retired)]

    # Then both are refused as tampered (after re-reading the key once) and nothing was
    # approved or moved
    assert results == [{"ok": False, "refused": "tampered"}] * 2
    assert harness.state.get_run(request_id) is None
    assert count(harness.sqs, pair.dlq_url) == 3
    # while a click sealed with the key before the current one still opens
    previous = JobSigner(job_signing_key(NEW_KEY)).seal(_approve(harness, request_id, "p"), now)
    assert handlers.worker.worker().handle(previous, None) == {"ok": True}
