"""Attacks on the alert checks between reports (issue 14), as an unlucky operator and an attacker
would make them: Slack answers lost or refused, lookups that fail, the state table failing in the
middle of a transaction, many DLQs at once. Real parts: ``handlers.alerts.handler`` on moto (SQS,
the state table, through a fault proxy where DynamoDB must fail) and the local Slack server.

Every test also checks, through the ``alerts`` fixture, that the job never received a message.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest

from bot.slack.web_api import SlackError
from infra.local.scene import QueuePair, create_pair
from tests.integration.alerts import conftest as alert_world
from tests.integration.alerts.conftest import Alerts

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
