"""Fixtures for the daily report: moto (session server from tests/conftest.py), the local Slack Web
API server, the state table, and a way to run ``handlers.daily.handler`` with a scheduled event."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

import handlers.daily
from bot.composition import build_daily_job
from bot.daily.once import LeaseTiming
from bot.state_table import create_state_table
from infra.local.lambda_server import LocalLambdaContext
from infra.local.moto_server import LocalAws
from infra.local.slack_api import SlackApiServer, SlackCall

STATE_TABLE = "dlq-redrive-state"
REPORT_CHANNEL = "C0REPORT"
FUNCTION_NAME = "dlq-redrive-daily"
# The run's lease in seconds rather than tens of seconds: an attempt killed by a test is taken
# over by its retry within about LEASE.lease_s, and a duplicate sees a live one renew quickly.
LEASE = LeaseTiming(renew_s=0.2, lease_s=1.5, poll_s=0.05)


def scheduled_event(time: str) -> dict[str, Any]:
    """An EventBridge scheduled event as Lambda receives it."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": time,
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/dlq-redrive-daily"],
        "detail": {},
    }


def context(timeout_s: float = 900.0) -> LocalLambdaContext:
    return LocalLambdaContext(FUNCTION_NAME, timeout_s, str(uuid.uuid4()))


@dataclass
class Daily:
    """A configured daily function: ``run`` sends a scheduled event into the real handler."""

    env: dict[str, str]
    slack: SlackApiServer
    build: Callable[..., None]

    def configure(self, **overrides: str) -> None:
        self.env.update(overrides)

    def run(self, time: str, *, timeout_s: float = 900.0, **clients: Any) -> dict[str, Any]:
        self.build(**clients)
        result: dict[str, Any] = handlers.daily.handler(scheduled_event(time), context(timeout_s))
        return result

    def posts(self) -> list[SlackCall]:
        return self.slack.state.calls_to("chat.postMessage")

    def reports(self) -> list[SlackCall]:
        return [c for c in self.posts() if not c.body.get("thread_ts")]

    def report_text(self, index: int = -1) -> str:
        """Every text of the report's blocks, joined (for assertions on what people read)."""
        return blocks_text(self.reports()[index].body["blocks"])


def blocks_text(blocks: list[dict[str, Any]]) -> str:
    parts: list[str] = []
    for block in blocks:
        if "text" in block:
            parts.append(block["text"]["text"])
        for element in block.get("elements", []):
            text = element.get("text")
            parts.append(text["text"] if isinstance(text, dict) else str(text or ""))
    return "\n".join(parts)


def button_values(blocks: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (element["action_id"], json.loads(element["value"]))
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
    ]


@pytest.fixture
def slack() -> Iterator[SlackApiServer]:
    with SlackApiServer() as server:
        yield server
        # Every payload the job sent must be one real Slack accepts (limits, block shapes).
        server.state.assert_no_refusals()


@pytest.fixture
def daily(aws: LocalAws, slack: SlackApiServer) -> Iterator[Daily]:
    create_state_table(boto3.client("dynamodb"), STATE_TABLE)
    env = {
        **aws.env,
        "TIMEZONE": "UTC",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "test-secret",
        "SLACK_API_URL": slack.api_url,
        "STATE_TABLE": STATE_TABLE,
        "REPORT_CHANNEL": REPORT_CHANNEL,
        # The auto-redrive starts with its canary (the default), watched for no time: tests of
        # other things need no wait; the canary's own tests set their wait.
        "DAILY_CANARY_WAIT_S": "0",
    }

    def build(**clients: Any) -> None:
        clients.setdefault("lease_timing", LEASE)
        handlers.daily.job.use(build_daily_job(env, **clients))

    yield Daily(env, slack, build)
    handlers.daily.job.use(None)
