"""Ctrl-C (SIGINT, once or twice) and SIGTERM during a CLI redrive, in a real process against
moto's server: no new batch starts, the batches in hand are finished, every held message is
visible again at once, the partial summary is printed, and the exit status is 3.

The signals come while a batch is in hand for sure: a fault proxy holds every SendMessageBatch
answer back for 2 s after SQS stored the copies, and the test signals once copies arrived."""

from __future__ import annotations

import json
import re
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from infra.local.moto_server import LocalAws
from infra.local.scene import count, create_pair, drain, put_in_dlq
from tests.faults.cli_process import start_cli
from tests.faults.fault_proxy import Fault, FaultProxy

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

ROOT = Path(__file__).resolve().parents[2]
IN_WINDOW, OUT_OF_WINDOW = 60, 40


def queue_counts(sqs: SQSClient, url: str) -> tuple[int, int]:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        int(attrs["ApproximateNumberOfMessages"]),
        int(attrs["ApproximateNumberOfMessagesNotVisible"]),
    )


@pytest.mark.parametrize(
    ("signum", "times"),
    [(signal.SIGINT, 1), (signal.SIGINT, 2), (signal.SIGTERM, 1)],
    ids=["ctrl-c", "ctrl-c-twice", "sigterm"],
)
def test_a_signal_stops_the_redrive_releases_what_it_holds_and_prints_the_summary(
    aws: LocalAws, sqs: SQSClient, signum: signal.Signals, times: int
) -> None:
    # Given 100 dead-lettered messages, 60 of one day and 40 of the next (mixed), and a redrive
    # of the first day at 10 msg/s on 2 workers (10 s in all), holding the other day's messages
    # invisible for the default 300 s while it scans
    pair = create_pair(sqs, "emails")
    days = ["2026-11-24", "2026-11-25", "2026-11-24", "2026-11-25", "2026-11-24"]  # 3 : 2
    bodies = [json.dumps({"day": days[n % 5], "n": n}) for n in range(IN_WINDOW + OUT_OF_WINDOW)]
    put_in_dlq(sqs, pair, bodies)

    def slow_sends(action: str, seen: int) -> Fault:
        return Fault.SLOW_ANSWER if action == "SendMessageBatch" else Fault.PASS

    command = [sys.executable, "-m", "bot.cli", "redrive", pair.dlq_name]
    options = ["--date", "2026-11-24", "--time-field", "day", "--rate", "10", "--workers", "2"]
    with FaultProxy(aws.endpoint, slow_sends, slow_answer_s=2.0) as proxy:
        process = start_cli(command + options, aws, AWS_ENDPOINT_URL_SQS=proxy.endpoint)

        # When the signal comes as soon as copies of a batch arrived (its answer still on the
        # way, so the batch is in hand), and a second one while that batch is still in hand
        try:
            give_up = time.monotonic() + 60
            while count(sqs, pair.source_url) == 0:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < give_up, "the redrive never got going"
                time.sleep(0.05)
            for _ in range(times):
                process.send_signal(signum)
                time.sleep(0.3)
            out, err = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

    # Then it stopped with status 3 before the end, saying it was interrupted, with the summary
    assert process.returncode == 3, (out, err)
    assert signum.name in err
    if times == 2:
        assert f"{signum.name} again: still stopping" in err
    assert "interrupted" in out
    moved_row = re.search(r"^moved\s+(\d+)$", out, re.MULTILINE)
    assert moved_row, out
    moved = int(moved_row.group(1))
    assert 0 < moved < IN_WINDOW, "the redrive finished before the signal"
    assert f"~{len(bodies) - moved} messages left in the DLQ" in out
    # ... every message it did not move is visible in the DLQ again at once, none hidden
    assert queue_counts(sqs, pair.dlq_url) == (len(bodies) - moved, 0)
    # ... and nothing is lost or doubled: what moved is in the source queue, the rest in the DLQ
    arrived = [m["Body"] for m in drain(sqs, pair.source_url)]
    left = [m["Body"] for m in drain(sqs, pair.dlq_url)]
    assert len(arrived) == moved
    assert sorted(arrived + left) == sorted(bodies)
    assert all('"2026-11-24"' in body for body in arrived)
