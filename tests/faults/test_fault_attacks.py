"""An adversarial review of the engine and the CLI on moto, through the fault proxy: lost answers
to deletes and releases, Ctrl-C during the release at the end, the DLQ deleted mid-run. Each test
states the promise it tries to break; those that pass are regression tests.
"""

from __future__ import annotations

import io
import json
import re
import signal
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import boto3
import pytest

from bot.cli import main
from bot.selection import Selection, day_window
from bot.sqs_gateway import SqsGateway
from infra.local.moto_server import LocalAws
from infra.local.scene import create_pair, drain, put_in_dlq
from tests.faults.cli_process import start_cli
from tests.faults.fault_proxy import Fault, FaultProxy, Rule
from tests.faults.helpers import assert_conserved, dlq_snapshot, outcome, redrive

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

ROOT = Path(__file__).resolve().parents[2]


def _proxy(
    aws: LocalAws, monkeypatch: pytest.MonkeyPatch, rule: Rule, **options: float
) -> FaultProxy:
    proxy = FaultProxy(aws.endpoint, rule, **options)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", proxy.endpoint)
    return proxy


def first(action: str, fault: Fault, times: int = 1) -> Rule:
    """The first ``times`` calls of ``action`` get ``fault``; everything else passes."""

    def rule(name: str, seen: int) -> Fault:
        return fault if name == action and seen < times else Fault.PASS

    return rule


def queue_counts(sqs: SQSClient, url: str) -> tuple[int, int]:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]), int(
        attrs["ApproximateNumberOfMessagesNotVisible"]
    )


def test_a_lost_delete_answer_is_not_reported_as_sent_but_not_deleted(
    aws: LocalAws, sqs: SQSClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 30 messages, and a network that loses SQS's answer to the first delete after SQS
    # deleted the messages
    pair = create_pair(sqs, "invoices")
    put_in_dlq(sqs, pair, [f"invoice-{i:02d}" for i in range(30)])
    before = dlq_snapshot(sqs, pair.dlq_url)
    with _proxy(aws, monkeypatch, first("DeleteMessageBatch", Fault.RESET_AFTER)) as proxy:
        # When the engine redrives through it with the production clients
        report = redrive(None, pair.dlq_name, workers=1)
    # Then the fault was injected, every message moved once, none is reported "sent but not
    # deleted" (they were deleted: saying a later redrive would send them again is untrue)
    assert proxy.injected("DeleteMessageBatch") == 1
    assert report.moved == 30 and report.delete_failed == 0, report.to_dict()
    after = outcome(sqs, pair.dlq_url, pair.source_url)
    assert after.in_dlq == {}
    assert_conserved(before, after)


def test_a_lost_release_answer_still_leaves_every_held_message_visible_and_counted(
    aws: LocalAws, sqs: SQSClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 20 messages of one day and 20 of another, and a network that loses SQS's answer to
    # the first ChangeMessageVisibilityBatch (the release at the end) after SQS acted
    pair = create_pair(sqs, "tickets")
    bodies = [json.dumps({"day": "2026-11-2" + "45"[n % 2], "n": n}) for n in range(40)]
    put_in_dlq(sqs, pair, bodies)
    rule = first("ChangeMessageVisibilityBatch", Fault.RESET_AFTER)
    with _proxy(aws, monkeypatch, rule) as proxy:
        # When the engine redrives one day through it
        report = redrive(
            None,
            pair.dlq_name,
            workers=2,
            selection=_day_selection("2026-11-24"),
        )
    # Then the held 20 are visible at once and the report says all 20 were released
    assert proxy.injected("ChangeMessageVisibilityBatch") == 1
    assert report.moved == 20 and report.out_of_window == 20
    assert queue_counts(sqs, pair.dlq_url) == (20, 0)
    assert report.released == 20 and report.remaining == 20


def _day_selection(day: str) -> Selection:
    return Selection(window=day_window(date.fromisoformat(day), ZoneInfo("UTC")), time_field="day")


def test_ctrl_c_twice_during_the_release_at_the_end_still_releases_and_summarises(
    aws: LocalAws, sqs: SQSClient
) -> None:
    # Given 20 messages of one day and 20 of another, a CLI redrive of the first day, and a
    # network that holds back SQS's answers to the release (ChangeMessageVisibilityBatch) 2 s
    pair = create_pair(sqs, "alerts")
    bodies = [json.dumps({"day": "2026-11-2" + "45"[n % 2], "n": n}) for n in range(40)]
    put_in_dlq(sqs, pair, bodies)

    def slow_release(action: str, seen: int) -> Fault:
        return Fault.SLOW_ANSWER if action == "ChangeMessageVisibilityBatch" else Fault.PASS

    command = [sys.executable, "-m", "bot.cli", "redrive", pair.dlq_name]
    options = ["--date", "2026-11-24", "--time-field", "day", "--workers", "2"]
    with FaultProxy(aws.endpoint, slow_release, slow_answer_s=2.0) as proxy:
        process = start_cli(command + options, aws, AWS_ENDPOINT_URL_SQS=proxy.endpoint)
        # When Ctrl-C comes twice while the release is on its way
        try:
            give_up = time.monotonic() + 60
            while proxy.calls("ChangeMessageVisibilityBatch") == 0:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < give_up, "the release never started"
                time.sleep(0.02)
            process.send_signal(signal.SIGINT)
            time.sleep(0.3)
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

    # Then the release finished (nothing hidden), the summary was printed, and the exit status
    # is one a finished run (0) or a stopped one (3) gives, never 130 without a summary
    assert process.returncode in (0, 3), (process.returncode, out, err)
    moved = re.search(r"^moved\s+(\d+)$", out, re.MULTILINE)
    assert moved and int(moved.group(1)) == 20, out
    assert queue_counts(sqs, pair.dlq_url) == (20, 0)
    arrived = [m["Body"] for m in drain(sqs, pair.source_url)]
    assert sorted(arrived) == sorted(b for b in bodies if '"2026-11-24"' in b)


def test_the_dlq_deleted_mid_run_is_an_error_with_true_numbers(
    aws: LocalAws, sqs: SQSClient
) -> None:
    # Given 40 messages, and someone deleting the DLQ right after the engine's first send
    pair = create_pair(sqs, "refunds")
    put_in_dlq(sqs, pair, [f"refund-{i:02d}" for i in range(40)])
    client = boto3.client("sqs")
    sends = 0

    def delete_the_dlq(**_: Any) -> None:
        nonlocal sends
        sends += 1
        if sends == 1:
            sqs.delete_queue(QueueUrl=pair.dlq_url)

    client.meta.events.register("after-call.sqs.SendMessageBatch", delete_the_dlq)
    env = {**aws.env, "TIMEZONE": "UTC", "DLQ_QUEUES": pair.dlq_name}

    # When the CLI redrives (text, then the same scene's numbers as --json)
    out, err = io.StringIO(), io.StringIO()
    status = main(
        ["redrive", pair.dlq_name, "--workers", "1"],
        env=env,
        gateway=SqsGateway(client, send_client=client),
        out=out,
        err=err,
    )

    # Then the run is an error (exit 1), and every number it shows is a number: the summary
    # does not say "~None messages left", nor "run the same command again" for a DLQ that is gone
    text = out.getvalue()
    assert status == 1, (text, err.getvalue())
    assert "does not exist" in text
    assert "None" not in text, text
    arrived = Counter(m["Body"] for m in drain(sqs, pair.source_url))
    assert sum(arrived.values()) == 10 and max(arrived.values()) == 1
