"""Runs that end badly: the destination deleted mid-run, the time budget running out, the CLI
killed with SIGKILL. Each time nothing is lost, and a second run finishes the job."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3

from bot.cli import main
from bot.pacing import Deadline
from bot.redrive_model import StopReason
from infra.local.moto_server import LocalAws
from infra.local.scene import count, create_pair, drain, put_in_dlq
from tests.faults.helpers import assert_conserved, dlq_snapshot, outcome, redrive

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

ROOT = Path(__file__).resolve().parents[2]


def test_destination_deleted_mid_run_leaves_the_rest_in_the_dlq(sqs: SQSClient) -> None:
    # Given 50 dead-lettered messages, and someone deleting the source queue just before the
    # engine's third send (we first take out what had already arrived there, to account for it)
    pair = create_pair(sqs, "billing")
    put_in_dlq(sqs, pair, [f"bill-{i:03d}" for i in range(50)])
    before = dlq_snapshot(sqs, pair.dlq_url)
    arrived_before_delete: list[str] = []
    sends = 0
    engine_client = boto3.client("sqs")

    def delete_destination(**_: Any) -> None:
        nonlocal sends
        sends += 1
        if sends == 3:
            arrived_before_delete.extend(m["Body"] for m in drain(sqs, pair.source_url))
            sqs.delete_queue(QueueUrl=pair.source_url)

    engine_client.meta.events.register(
        "before-parameter-build.sqs.SendMessageBatch", delete_destination
    )

    # When the engine redrives on one worker
    report = redrive(engine_client, pair.dlq_name, workers=1)

    # Then the two batches sent before the deletion count as moved; every later message failed
    # with SQS's reason and is still in the DLQ under its own id: none lost, none doubled
    assert report.moved == len(arrived_before_delete) == 20
    assert report.failed == 30
    assert set(report.failure_reasons) == {"AWS.SimpleQueueService.NonExistentQueue"}
    left = {m["MessageId"]: m["Body"] for m in drain(sqs, pair.dlq_url)}
    assert len(left) == 30
    assert all(before[message_id] == body for message_id, body in left.items())
    assert set(left.values()) | set(arrived_before_delete) == set(before.values())


class SteppedClock:
    """A monotonic clock the test moves forward (the Deadline's notion of time)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_time_budget_running_out_mid_redrive_then_a_second_run_finishes(sqs: SQSClient) -> None:
    # Given 50 dead-lettered messages and a 10 s budget that runs out after the second batch
    pair = create_pair(sqs, "shipping")
    put_in_dlq(sqs, pair, [f"parcel-{i:03d}" for i in range(50)])
    before = dlq_snapshot(sqs, pair.dlq_url)
    clock = SteppedClock()
    engine_client = boto3.client("sqs")
    batches = 0

    def spend_the_budget(**_: Any) -> None:
        nonlocal batches
        batches += 1
        if batches == 2:
            clock.now = 11.0

    engine_client.meta.events.register("after-call.sqs.SendMessageBatch", spend_the_budget)

    # When the first run stops at its deadline
    first = redrive(engine_client, pair.dlq_name, workers=1, deadline=Deadline(10, clock=clock))

    # Then it stopped cleanly after the batch in hand, saying it is incomplete, and left the
    # rest visible in the DLQ at once (nothing hidden until a visibility timeout)
    assert first.stopped is StopReason.DEADLINE
    assert not first.complete
    assert first.moved == 20
    assert count(sqs, pair.dlq_url) == 30
    visible = sqs.get_queue_attributes(
        QueueUrl=pair.dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]["ApproximateNumberOfMessages"]
    assert visible == "30"

    # When a second run (the continuation) runs with a fresh budget
    second = redrive(boto3.client("sqs"), pair.dlq_name, workers=2, deadline=Deadline(60))

    # Then it moves exactly the rest: every message once, none left
    assert second.complete
    assert second.moved == 30
    after = outcome(sqs, pair.dlq_url, pair.source_url)
    assert after.in_dlq == {}
    assert_conserved(before, after)


def test_cli_killed_with_sigkill_mid_redrive_then_rerun_loses_nothing(
    aws: LocalAws, sqs: SQSClient
) -> None:
    # Given 100 dead-lettered messages and a CLI redrive slowed to 40 msg/s on 2 workers, with
    # a 2 s visibility timeout so that what it held when it died comes back quickly
    pair = create_pair(sqs, "emails")
    put_in_dlq(sqs, pair, [f"email-{i:03d}" for i in range(100)])
    before = dlq_snapshot(sqs, pair.dlq_url)
    workers = 2
    env = {**os.environ, **aws.env, "TIMEZONE": "UTC", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "bot.cli", "--json", "redrive", pair.dlq_name]
    options = ["--visibility-timeout", "2", "--rate", "40", "--workers", str(workers)]
    process = subprocess.Popen(
        command + options, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )

    # When it is killed with SIGKILL once at least 30 messages reached the source queue
    try:
        deadline = time.monotonic() + 60
        while count(sqs, pair.source_url) < 30:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the redrive never got going"
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    killed_at = count(sqs, pair.source_url)
    assert killed_at < 100, "the redrive finished before it could be killed"

    # ... and run again once what it held became visible
    time.sleep(2.5)
    out = io.StringIO()
    status = main(["--json", "redrive", pair.dlq_name], env={**aws.env, "TIMEZONE": "UTC"}, out=out)

    # Then the second run finishes: the DLQ is empty, every message arrived, and the only
    # duplicates are messages sent but not yet deleted when it died: at most the batches in
    # flight, one per worker (10 messages each)
    assert status == 0, out.getvalue()
    assert json.loads(out.getvalue())["complete"] is True
    after = outcome(sqs, pair.dlq_url, pair.source_url)
    assert after.in_dlq == {}
    assert_conserved(before, after, max_duplicates=10 * workers)
