"""Throttling, 503s and connection resets between the engine and SQS: nothing is lost.

The engine runs with the production client (``default_sqs_client``: adaptive retries) pointed at
a ``FaultProxy`` in front of moto through AWS_ENDPOINT_URL_SQS, as it would reach any endpoint.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import pytest
from botocore.config import Config

from bot.sqs_gateway import default_sqs_client
from infra.local.moto_server import LocalAws
from infra.local.scene import QueuePair, create_pair, put_in_dlq
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


def _proxy(aws: LocalAws, monkeypatch: pytest.MonkeyPatch, rule: Rule) -> FaultProxy:
    proxy = FaultProxy(aws.endpoint, rule)
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
        report = redrive(default_sqs_client(), pair.dlq_name, workers=4)

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


def test_connections_reset_before_reaching_sqs_lose_nothing(
    aws: LocalAws,
    sqs: SQSClient,
    scene: tuple[QueuePair, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a network that resets every fourth connection before the request reaches SQS
    pair, before = scene
    with _proxy(aws, monkeypatch, every(4, Fault.RESET_BEFORE)) as proxy:
        # When the engine redrives through it
        report = redrive(default_sqs_client(), pair.dlq_name, workers=4)

    # Then the calls were retried: everything moved exactly once
    assert proxy.injected() > 0
    assert report.moved == MESSAGES
    after = outcome(sqs, pair.dlq_url, pair.source_url)
    assert after.in_dlq == {}
    assert_conserved(before, after)


def test_answers_lost_to_a_reset_after_sqs_acted_duplicate_at_most_those_batches(
    aws: LocalAws,
    sqs: SQSClient,
    scene: tuple[QueuePair, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a network that loses SQS's answer (reset after SQS acted) to every third send and
    # delete: the retried send sends the batch again; the retried delete finds it already gone
    pair, before = scene
    rule = every(3, Fault.RESET_AFTER, {"SendMessageBatch", "DeleteMessageBatch"})
    with _proxy(aws, monkeypatch, rule) as proxy:
        # When the engine redrives through it
        report = redrive(default_sqs_client(), pair.dlq_name, workers=4)

    # Then nothing is lost and the DLQ is empty; the only duplicates are the batches whose
    # answer was lost (at-least-once delivery, as SQS itself promises)
    lost_send_answers = proxy.injected("SendMessageBatch")
    assert lost_send_answers > 0
    assert proxy.injected("DeleteMessageBatch") > 0
    assert report.moved == MESSAGES
    after = outcome(sqs, pair.dlq_url, pair.source_url)
    assert after.in_dlq == {}
    assert_conserved(before, after, max_duplicates=10 * lost_send_answers)
