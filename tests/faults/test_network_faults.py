"""Throttling, 503s, connection resets and lost answers between the engine and SQS: nothing is
lost, and a send whose answer is lost costs at most one extra copy of its messages.

The engine runs with the production gateway's clients (``SqsGateway()``: adaptive retries for
receives and deletes, a single attempt per send) pointed at a ``FaultProxy`` in front of moto
through AWS_ENDPOINT_URL_SQS, as it would reach any endpoint.
"""

from __future__ import annotations

import io
import json
import time
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import pytest
from botocore.config import Config

from bot.cli import main
from bot.sqs_gateway import SqsGateway
from infra.local.moto_server import LocalAws
from infra.local.scene import QueuePair, count, create_pair, drain, put_in_dlq
from tests.faults.fault_proxy import Fault, FaultProxy, Rule
from tests.faults.helpers import assert_conserved, dlq_snapshot, outcome, redrive

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

MESSAGES = 60


@pytest.fixture
def scene(sqs: SQSClient) -> Iterator[tuple[QueuePair, dict[str, str]]]:
    pair = create_pair(sqs, "payments")
    put_in_dlq(sqs, pair, [f"payment-{i:03d}" for i in range(MESSAGES)])
    yield pair, dlq_snapshot(sqs, pair.dlq_url)


def _proxy(
    aws: LocalAws, monkeypatch: pytest.MonkeyPatch, rule: Rule, **options: float
) -> FaultProxy:
    proxy = FaultProxy(aws.endpoint, rule, **options)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", proxy.endpoint)
    return proxy


def every(n: int, fault: Fault, actions: set[str] | None = None) -> Rule:
    """The n-th, 2n-th, ... call of each action (of ``actions`` only, if given) gets ``fault``."""

    def rule(action: str, seen: int) -> Fault:
        if actions is not None and action not in actions:
            return Fault.PASS
        return fault if seen % n == n - 1 else Fault.PASS

    return rule


@pytest.mark.parametrize("fault", [Fault.THROTTLE, Fault.UNAVAILABLE])
def test_throttled_and_unavailable_calls_are_retried_and_everything_moves(
    aws: LocalAws,
    sqs: SQSClient,
    scene: tuple[QueuePair, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    fault: Fault,
) -> None:
    # Given an SQS that answers every fifth call of every action with a throttle (or a 503)
    pair, before = scene
    with _proxy(aws, monkeypatch, every(5, fault)) as proxy:
        # When the engine redrives through it with the production client
        report = redrive(None, pair.dlq_name, workers=4)

    # Then faults were really injected into sends, deletes and receives, every message moved
    # exactly once, and nothing is left behind
    assert proxy.injected("SendMessageBatch") > 0
    assert proxy.injected("DeleteMessageBatch") > 0
    assert proxy.injected("ReceiveMessage") > 0
    assert report.moved == MESSAGES
    assert report.failed == 0
    after = outcome(sqs, pair.dlq_url, pair.source_url)
    assert after.in_dlq == {}
    assert_conserved(before, after)


def test_sends_throttled_beyond_every_retry_stay_in_the_dlq_and_are_reported(
    aws: LocalAws,
    sqs: SQSClient,
    scene: tuple[QueuePair, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given an SQS that accepts the first two SendMessageBatch calls, then throttles every one
    pair, before = scene

    def rule(action: str, seen: int) -> Fault:
        return Fault.THROTTLE if action == "SendMessageBatch" and seen >= 2 else Fault.PASS

    with _proxy(aws, monkeypatch, rule) as proxy:
        # When the engine redrives with a client that does not retry (only the engine's own
        # retries of unconfirmed entries remain)
        client = boto3.client("sqs", config=Config(retries={"max_attempts": 1, "mode": "standard"}))
        report = redrive(client, pair.dlq_name, workers=2)

    # Then the two accepted batches moved, every other message is reported failed with the
    # throttling code and is back in the DLQ under its own id; nothing lost, nothing doubled
    assert proxy.injected("SendMessageBatch") > 0
    assert report.moved == 20
    assert report.failed == MESSAGES - 20
    assert set(report.failure_reasons) == {"RequestThrottled"}
    after = outcome(sqs, pair.dlq_url, pair.source_url)
    assert len(after.in_dlq) == MESSAGES - 20
    assert_conserved(before, after)


def test_connections_reset_before_reaching_sqs_lose_nothing_and_double_nothing(
    aws: LocalAws,
    sqs: SQSClient,
    scene: tuple[QueuePair, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a network that resets every fourth connection before the request reaches SQS
    pair, before = scene
    with _proxy(aws, monkeypatch, every(4, Fault.RESET_BEFORE)) as proxy:
        # When the engine redrives through it
        report = redrive(None, pair.dlq_name, workers=4)

    # Then receives and deletes were retried; a reset send cannot be told from one whose answer
    # was lost, so its messages stayed in the DLQ as unconfirmed (never failed)
    assert proxy.injected("SendMessageBatch") > 0
    assert report.failed == 0 and report.unconfirmed > 0
    assert report.moved + report.unconfirmed == MESSAGES

    # And a second run moves them: every message arrived once, none is left
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", aws.endpoint)
    second = redrive(None, pair.dlq_name, workers=4)
    assert second.moved == report.unconfirmed
    after = outcome(sqs, pair.dlq_url, pair.source_url)
    assert after.in_dlq == {}
    assert_conserved(before, after)


def test_a_lost_send_answer_is_unconfirmed_and_costs_at_most_one_extra_copy(
    aws: LocalAws,
    sqs: SQSClient,
    scene: tuple[QueuePair, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a network that loses SQS's answer (a reset after SQS acted) to every third send and
    # every third delete
    pair, before = scene
    rule = every(3, Fault.RESET_AFTER, {"SendMessageBatch", "DeleteMessageBatch"})
    with _proxy(aws, monkeypatch, rule) as proxy:
        # When the engine redrives through it
        report = redrive(None, pair.dlq_name, workers=4)
    lost = [body for batch in proxy.lost_sends() for body in batch]

    # Then the messages of the lost sends are reported unconfirmed, never failed; the sends were
    # not retried (the proxy saw exactly the sends the engine made), deletes were
    assert proxy.lost_sends() and proxy.injected("DeleteMessageBatch") > 0
    assert report.unconfirmed == len(lost) and report.failed == 0
    assert report.moved == MESSAGES - len(lost)
    assert proxy.calls("SendMessageBatch") == report.api_calls["SendMessageBatch"]
    # ... and every message arrived exactly once (SQS had stored the lost ones), while the lost
    # ones are still in the DLQ under their own ids
    first = Counter(m["Body"] for m in drain(sqs, pair.source_url))
    assert first == Counter(before.values())
    kept = dlq_snapshot(sqs, pair.dlq_url)
    assert sorted(kept.values()) == sorted(lost)
    assert all(before[message_id] == body for message_id, body in kept.items())

    # When a later run (no faults) redrives what is left
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", aws.endpoint)
    second = redrive(None, pair.dlq_name, workers=4)

    # Then the DLQ is empty, and each lost answer cost exactly one extra copy of each of its
    # messages: at most 10 per lost answer, never more than 2 copies of a message
    assert (second.moved, second.unconfirmed) == (len(lost), 0)
    again = Counter(m["Body"] for m in drain(sqs, pair.source_url))
    assert again == Counter(lost)
    copies = first + again
    assert sum(copies.values()) - MESSAGES == len(lost) <= 10 * len(proxy.lost_sends())
    assert max(copies.values()) == 2
    assert dlq_snapshot(sqs, pair.dlq_url) == {}


def test_fifo_a_lost_send_answer_resent_within_five_minutes_is_deduplicated(
    aws: LocalAws, sqs: SQSClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a FIFO DLQ with three groups, and a network that loses the answer to the first send
    pair = create_pair(sqs, "ledger.fifo")
    for group in ("g1", "g2", "g3"):
        put_in_dlq(sqs, pair, [f"{group}-{i}" for i in range(5)], group_id=group)

    def rule(action: str, seen: int) -> Fault:
        return Fault.RESET_AFTER if action == "SendMessageBatch" and seen == 0 else Fault.PASS

    with _proxy(aws, monkeypatch, rule) as proxy:
        first = redrive(None, pair.dlq_name, workers=1)
    # When a second run sends the unconfirmed ones again at once
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", aws.endpoint)
    second = redrive(None, pair.dlq_name, workers=1)

    # Then SQS dropped the repeated copies by their deduplication id: one copy of each message
    (lost,) = proxy.lost_sends()
    assert first.unconfirmed == len(lost) and first.failed == 0
    assert first.moved + second.moved == 15
    arrived = [m["Body"] for m in drain(sqs, pair.source_url)]
    assert sorted(arrived) == sorted(f"{g}-{i}" for g in ("g1", "g2", "g3") for i in range(5))
    assert count(sqs, pair.dlq_url) == 0


def test_the_cli_reports_a_lost_send_answer_as_unconfirmed_with_exit_status_1(
    aws: LocalAws,
    sqs: SQSClient,
    scene: tuple[QueuePair, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a network that loses the answer to the second send
    pair, _before = scene

    def rule(action: str, seen: int) -> Fault:
        return Fault.RESET_AFTER if action == "SendMessageBatch" and seen == 1 else Fault.PASS

    with _proxy(aws, monkeypatch, rule) as proxy:
        # When the CLI redrives through it (its own composition: production clients)
        out, err = io.StringIO(), io.StringIO()
        status = main(
            ["--json", "redrive", pair.dlq_name, "--workers", "2"],
            env={**aws.env, "AWS_ENDPOINT_URL_SQS": proxy.endpoint, "TIMEZONE": "UTC"},
            out=out,
            err=err,
        )

    # Then --json says how many may have been delivered, apart from failed, and the exit status
    # says not everything is settled
    (lost,) = proxy.lost_sends()
    answer = json.loads(out.getvalue())
    assert status == 1, err.getvalue()
    assert (answer["unconfirmed"], answer["failed"]) == (len(lost), 0)
    assert answer["moved"] == MESSAGES - len(lost)
    assert "no answer from SQS" in answer["unconfirmed_reason"]


def test_a_send_answer_later_than_the_clients_read_timeout_is_unconfirmed(
    aws: LocalAws,
    sqs: SQSClient,
    scene: tuple[QueuePair, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a network that holds back SQS's answer to the first send past the send client's read
    # timeout (shortened from the production 30 s, the same single attempt)
    pair, _before = scene

    def rule(action: str, seen: int) -> Fault:
        return Fault.SLOW_ANSWER if action == "SendMessageBatch" and seen == 0 else Fault.PASS

    with _proxy(aws, monkeypatch, rule, slow_answer_s=1.5) as proxy:
        config = Config(read_timeout=0.5, retries={"total_max_attempts": 1, "mode": "standard"})
        gateway = SqsGateway(send_client=boto3.client("sqs", config=config))
        gateway_report = redrive(gateway, pair.dlq_name, workers=1)

    # Then that batch is unconfirmed, not failed, and its messages arrived once
    assert proxy.injected("SendMessageBatch") == 1
    assert gateway_report.unconfirmed == 10 and gateway_report.failed == 0
    assert "ReadTimeoutError" in (gateway_report.unconfirmed_reason or "")
    time.sleep(1.5)  # the held-back answer's request was served meanwhile
    arrived = Counter(m["Body"] for m in drain(sqs, pair.source_url))
    assert sum(arrived.values()) == MESSAGES and max(arrived.values()) == 1
