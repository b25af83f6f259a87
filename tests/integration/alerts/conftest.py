"""Fixtures of the alert checks' integration tests: moto (the session server of tests/conftest.py)
with the state table, the local Slack Web API server, and a way to run ``handlers.alerts.handler``
with a scheduled event at a chosen time.

The job's SQS client records every operation it calls (botocore's own ``before-call`` event,
no patching): every test ends by checking it never received a message.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

import handlers.alerts
from bot.composition import build_alert_job
from bot.daily.once import LeaseTiming
from bot.state_table import create_state_table
from infra.local.lambda_server import LocalLambdaContext
from infra.local.moto_server import LocalAws
from infra.local.slack_api import SlackApiServer, SlackCall
from tests.integration.daily.daily_support import slack  # noqa: F401 - the strict Slack fixture

STATE_TABLE = "dlq-redrive-state"
ALERT_CHANNEL = "C0ALERTS"
FUNCTION_NAME = "dlq-redrive-alerts"
# Checks in these tests start here (in the past: the local Slack server stamps messages with
# the real time, and a lookup reads the channel from a check's scheduled time on).
START = datetime(2026, 3, 11, 3, 0, tzinfo=UTC)
LEASE = LeaseTiming(renew_s=0.2, lease_s=1.5, poll_s=0.05)
# What the alert job may call on SQS: list, look up and read attributes. Nothing that receives.
READ_ONLY = {"ListQueues", "GetQueueUrl", "GetQueueAttributes"}


@dataclass
class Alerts:
    """A configured alerts function: ``check`` sends a scheduled event into the real handler."""

    env: dict[str, str]
    slack: SlackApiServer
    sqs_calls: list[str] = field(default_factory=list)
    now: datetime = START

    def configure(self, **overrides: str) -> None:
        self.env.update(overrides)

    def build(self) -> None:
        client = boto3.client("sqs")
        client.meta.events.register(
            "before-call.sqs.*", lambda model, **_: self.sqs_calls.append(model.name)
        )
        handlers.alerts.job.use(
            build_alert_job(self.env, sqs_client=client, lease_timing=LEASE, clock=self.clock)
        )

    def clock(self) -> datetime:
        return self.now

    def check(self, minutes: int, *, request_id: str | None = None) -> dict[str, Any]:
        """The check scheduled ``minutes`` after ``START`` (run at that time)."""
        at = START + timedelta(minutes=minutes)
        self.now = at
        event = {"time": at.isoformat().replace("+00:00", "Z")}
        context = LocalLambdaContext(FUNCTION_NAME, 60.0, request_id or str(uuid.uuid4()))
        result: dict[str, Any] = handlers.alerts.handler(event, context)
        return result

    def posts(self) -> list[SlackCall]:
        return self.slack.state.calls_to("chat.postMessage")

    def alerts(self) -> list[dict[str, Any]]:
        """The top-level messages the alert channel holds (as Slack keeps them, ts included)."""
        held = self.slack.state.history.channels.get(ALERT_CHANNEL, [])
        return [m for m in held if not m.get("thread_ts")]

    def replies(self, thread_ts: str) -> list[dict[str, Any]]:
        held = self.slack.state.history.channels.get(ALERT_CHANNEL, [])
        return [m for m in held if m.get("thread_ts") == thread_ts]


@pytest.fixture
def alerts(aws: LocalAws, slack: SlackApiServer) -> Iterator[Alerts]:  # noqa: F811
    create_state_table(boto3.client("dynamodb"), STATE_TABLE)
    env = {
        **aws.env,
        "TIMEZONE": "UTC",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": slack.api_url,
        "STATE_TABLE": STATE_TABLE,
        "REPORT_CHANNEL": "C0REPORT",
        "ALERT_CHANNEL": ALERT_CHANNEL,
    }
    made = Alerts(env, slack)
    made.build()
    yield made
    handlers.alerts.job.use(None)
    assert set(made.sqs_calls) <= READ_ONLY, made.sqs_calls
