"""Attacks on the alert checks between reports (issue 14), as an unlucky operator and an attacker
would make them: Slack answers lost or refused, lookups that fail, the state table failing in the
middle of a transaction, many DLQs at once. Real parts: ``handlers.alerts.handler`` on moto (SQS,
the state table, through a fault proxy where DynamoDB must fail) and the local Slack server.

Every test also checks, through the ``alerts`` fixture, that the job never received a message.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

import handlers.alerts
from bot.composition import build_alert_job
from bot.slack.web_api import SlackError
from infra.local.scene import QueuePair, create_pair, drain
from tests.faults.fault_proxy import Fault, FaultProxy
from tests.integration.alerts import conftest as alert_world
from tests.integration.alerts.conftest import LEASE, Alerts

# The alert checks' fixtures (moto with the state table, the local Slack server, the handler).
slack = alert_world.slack
alerts = alert_world.alerts


def fill(sqs: Any, pair: QueuePair, n: int) -> None:
    """``n`` more messages in the DLQ (sent straight in: only its counts matter here)."""
    for start in range(0, n, 10):
        entries = [{"Id": str(i), "MessageBody": f"m{i}"} for i in range(start, min(n, start + 10))]
        sqs.send_message_batch(QueueUrl=pair.dlq_url, Entries=entries)


def text(message: dict[str, Any]) -> str:
    return json.dumps(message["blocks"], ensure_ascii=False)


def lose_the_next_answer(alerts: Alerts, method: str = "chat.postMessage") -> None:
    """Slack acts on the next ``method`` call, then its answer is lost (a 502 on the way back)."""
    state = alerts.slack.state

    def acted_then_lost(body: dict[str, Any]) -> dict[str, Any]:
        del state.overrides[method]
        state.answer(method, body)
        return {"_status": 502, "_text": "Bad Gateway"}

    state.overrides[method] = acted_then_lost


def named_in_channel(alerts: Alerts, name: str) -> int:
    """How many top-level messages of the alert channel name the DLQ ``name``."""
    return sum(f"`{name}`" in text(m) for m in alerts.alerts())


# --- a lookup that fails is not "not found" --------------------------------------------------


@pytest.mark.parametrize("error", ["internal_error", "ratelimited", "service_unavailable"])
def test_a_lookup_slack_fails_once_does_not_post_a_second_top_level_alert(
    alerts: Alerts, sqs: Any, error: str
) -> None:
    # Given a check whose alert Slack took but whose answer was lost (no Lambda retry)
    orders = create_pair(sqs, "orders")
    fill(sqs, orders, 3)
    lose_the_next_answer(alerts)
    with pytest.raises(SlackError):
        alerts.check(0)
    assert named_in_channel(alerts, "orders-dlq") == 1

    # When the next check looks the claimed alert up and Slack fails that lookup once (a
    # transient error: nothing says the alert is missing)
    alerts.slack.state.refuse("conversations.history", error)
    with contextlib.suppress(SlackError):  # failing the check is fine: the next one looks again
        alerts.check(5)
    following = alerts.check(10)

    # Then orders-dlq is named in one top-level message only, and its alert's ts is known: the
    # next growth goes into that thread
    assert named_in_channel(alerts, "orders-dlq") == 1, [text(m) for m in alerts.alerts()]
    assert following["alerted"] == []
    fill(sqs, orders, 10)
    assert alerts.check(15)["growing"] == ["orders-dlq"]
    [alert] = alerts.alerts()
    assert len(alerts.replies(alert["ts"])) == 1


def test_a_lookup_without_the_history_scope_still_posts_the_alert(alerts: Alerts, sqs: Any) -> None:
    # Given a claimed alert whose post never reached Slack, and an app without channels:history
    orders = create_pair(sqs, "orders")
    fill(sqs, orders, 3)
    alerts.slack.state.refuse("chat.postMessage", "internal_error")
    with pytest.raises(SlackError):
        alerts.check(0)
    alerts.slack.state.refuse("conversations.history", "missing_scope")

    # When the next check runs: the lookup can never work, so the alert must not wait on it
    following = alerts.check(5)

    # Then the alert is posted (as docs/alerts.md says: without the scope the part is posted)
    assert following["alerted"] == ["orders-dlq"]
    assert named_in_channel(alerts, "orders-dlq") == 1


# --- the state table failing between the transactions of one thread reply -----------------


@pytest.fixture
def flaky_table(alerts: Alerts) -> Iterator[FaultProxy]:
    """The alerts function's DynamoDB reached through a proxy; ``broken`` TransactWriteItems
    calls (by their order) answered 503 every time, boto3's own retries included."""
    upstream = alerts.env["AWS_ENDPOINT_URL"]
    broken: set[int] = set()
    proxy = FaultProxy(
        upstream,
        lambda action, seen: (
            Fault.UNAVAILABLE
            if action.endswith("TransactWriteItems") and flaky_table_calls(proxy) in broken
            else Fault.PASS
        ),
    )
    proxy.broken = broken  # type: ignore[attr-defined]
    with proxy:
        client = boto3.client("sqs")
        client.meta.events.register(
            "before-call.sqs.*", lambda model, **_: alerts.sqs_calls.append(model.name)
        )
        handlers.alerts.job.use(
            build_alert_job(
                alerts.env,
                sqs_client=client,
                dynamodb_client=boto3.client("dynamodb", endpoint_url=proxy.endpoint),
                lease_timing=LEASE,
                clock=alerts.clock,
            )
        )
        yield proxy


def flaky_table_calls(proxy: FaultProxy) -> int:
    """Which logical TransactWriteItems call this is (boto3's retries of one count as one):
    the number of calls that passed before it."""
    return sum(
        count
        for (name, fault), count in proxy.counts.items()
        if name.endswith("TransactWriteItems") and fault is Fault.PASS
    )


def test_a_table_failure_between_two_transactions_of_one_reply_loses_no_drained_note(
    alerts: Alerts, sqs: Any, flaky_table: FaultProxy
) -> None:
    # Given 150 DLQs alerted in one check (one alert, one thread), then all drained at once
    pairs = [create_pair(sqs, f"svc-{n:03d}") for n in range(150)]
    for pair in pairs:
        fill(sqs, pair, 1)
    first = alerts.check(0)
    assert len(first["alerted"]) == 150
    [alert] = alerts.alerts()
    for pair in pairs:
        drain(sqs, pair.dlq_url)

    # When the check that finds them drained records the first 100 states, and the state table
    # fails the next transaction (503 past boto3's retries); the scheduler then delivers the
    # same check again (at least once), and it runs
    flaky_table.broken.add(1)  # type: ignore[attr-defined]
    with pytest.raises(Exception):  # noqa: B017 - an AwsError, raised for Lambda
        alerts.check(5)
    flaky_table.broken.clear()  # type: ignore[attr-defined]
    alerts.check(5)

    # Then the thread still says, of every one of the 150 DLQs, that it was drained
    replies = [text(r) for r in alerts.replies(alert["ts"])]
    drained = {p.dlq_name for p in pairs if any(f"`{p.dlq_name}`: drained" in r for r in replies)}
    assert drained == {p.dlq_name for p in pairs}, f"{150 - len(drained)} drained notes lost"
