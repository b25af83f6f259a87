"""Drive the Slack app end to end: signed HTTP API events into ``handlers.slack.handler``, the
worker served by the local Lambda endpoint, Slack's Web API served by the local Slack server, SQS
and DynamoDB on moto. Shared by tests/integration/slack and tests/hostile/test_slack_*.py."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

import handlers.slack
import handlers.worker
from bot.slack.ids import ActionId
from bot.slack.jobs import WorkerOptions
from bot.state import StateStore
from bot.state_table import StateTable, create_state_table
from infra.local.lambda_server import LambdaServer, LocalLambdaContext
from infra.local.moto_server import LocalAws
from infra.local.scene import QueuePair, create_pair, put_in_dlq
from infra.local.slack_api import SlackApiServer, SlackCall
from infra.local.slack_events import LOCAL_TEAM, action_body, command_body, http_event

SECRET = "test-signing-secret"
JOB_KEY = "test-job-signing-key-of-32-bytes-or-more"  # signs endpoint→worker jobs
TABLE = "dlq-redrive-state"
REQUESTER = "U_ALICE"
APPROVER = "U_BOB"
APPROVER_2 = "U_CAROL"
OUTSIDER = "U_MALLORY"
CHANNEL = "C_OPS"


@dataclass
class SlackHarness:
    """Everything a test needs to play a Slack conversation and look at the results."""

    slack: SlackApiServer
    lambdas: LambdaServer
    env: dict[str, str]
    sqs: Any
    state: StateStore
    _responses: int = field(default=0)

    def response_url(self) -> str:
        self._responses += 1
        return self.slack.response_url(f"r{self._responses}")

    def send(self, event: dict[str, Any]) -> dict[str, Any]:
        context = LocalLambdaContext("slack", 10.0, "req-1")
        return handlers.slack.handler(event, context)

    def command(
        self,
        text: str,
        *,
        user: str = REQUESTER,
        channel: str = CHANNEL,
        timestamp: int | None = None,
    ) -> dict[str, Any]:
        """Send ``/dlq-redrive <text>``; return the HTTP response (the ack)."""
        body = command_body(text, user=user, channel=channel, response_url=self.response_url())
        return self.send(http_event(body, SECRET, timestamp=timestamp))

    def click(
        self,
        action_id: ActionId | str,
        value: str,
        *,
        user: str,
        message_ts: str,
        channel: str = CHANNEL,
    ) -> dict[str, Any]:
        body = action_body(
            str(action_id),
            value,
            user=user,
            channel=channel,
            message_ts=message_ts,
            response_url=self.response_url(),
        )
        return self.send(http_event(body, SECRET))

    def settle(self, timeout: float = 60.0) -> None:
        """Wait until every asynchronous worker invocation finished; none may have raised."""
        self.lambdas.wait_idle(timeout)
        self.lambdas.raise_errors()

    # --- what Slack received -------------------------------------------------------------------

    def calls(self, method: str) -> list[SlackCall]:
        return self.slack.state.calls_to(method)

    def responses(self) -> list[str]:
        """The texts answered through response_url, in order."""
        return [str(c.body.get("text", "")) for c in self.calls("response_url")]

    def card(self) -> SlackCall:
        posts = self.calls("chat.postMessage")
        assert len(posts) == 1, f"expected one approval card, got {len(posts)}"
        return posts[0]

    def card_ts(self) -> str:
        ts = self.state.get_request(self.request_id())
        assert ts is not None and ts.message_ts
        return ts.message_ts

    def request_id(self) -> str:
        blocks = self.card().body["blocks"]
        actions = next(b for b in blocks if b["type"] == "actions")
        return str(actions["elements"][0]["value"])

    def updates(self) -> list[str]:
        """The status lines of every chat.update of the card, in order."""
        return [str(c.body.get("text", "")) for c in self.calls("chat.update")]

    def request_card(self, text: str = "redrive orders-dlq") -> str:
        """Ask for a redrive and wait for its card; return the request id."""
        ack = self.command(text)
        assert ack["statusCode"] == 200, ack
        self.settle()
        return self.request_id()


def ack_text(response: dict[str, Any]) -> str:
    body = response.get("body") or ""
    if not body:
        return ""
    return str(json.loads(body).get("text", ""))


class FakeClock:
    """The worker's clock, moved by the test (to let an approval expire)."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._offset += delta


def seed_orders(sqs: Any, count: int = 5, name: str = "orders") -> QueuePair:
    pair = create_pair(sqs, name)
    put_in_dlq(sqs, pair, [json.dumps({"order": i}) for i in range(count)])
    return pair


@pytest.fixture
def slack_env(aws: LocalAws) -> dict[str, str]:
    return {
        **aws.env,
        "TIMEZONE": "UTC",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_TEAM_ID": LOCAL_TEAM,
        "JOB_SIGNING_KEY": JOB_KEY,
        "APPROVERS": f"{APPROVER},{APPROVER_2},{REQUESTER}",
        "STATE_TABLE": TABLE,
        "WORKER_FUNCTION_NAME": "worker",
    }


@pytest.fixture
def harness(
    aws: LocalAws, slack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[SlackHarness]:
    """The whole app on local stand-ins, built from ``slack_env`` (tests may edit it first)."""
    yield from make_harness(aws, slack_env, monkeypatch)


def make_harness(
    aws: LocalAws,
    env: Mapping[str, str],
    monkeypatch: pytest.MonkeyPatch,
    *,
    worker_timeout_s: float = 60.0,
    progress_interval_s: float = 0.2,
    clock: Callable[[], datetime] | None = None,
    max_held: int | None = None,
) -> Iterator[SlackHarness]:
    dynamodb = boto3.client("dynamodb")
    create_state_table(dynamodb, TABLE)
    with (
        SlackApiServer() as slack,
        LambdaServer(
            {"worker": handlers.worker.handler}, timeouts={"worker": worker_timeout_s}
        ) as lambdas,
    ):
        # The people of these conversations: full members of the installed workspace, as
        # users.info answers for them (a test adds guests and strangers itself).
        for user in (REQUESTER, APPROVER, APPROVER_2, OUTSIDER):
            slack.state.add_user(user)
        full_env = {
            **env,
            "SLACK_API_URL": slack.api_url,
            "AWS_ENDPOINT_URL_LAMBDA": lambdas.endpoint_url,
        }
        # boto3 reads endpoints from the process environment, as it does in Lambda.
        monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", lambdas.endpoint_url)
        handlers.slack.endpoint.reset(full_env)
        worker_options: dict[str, Any] = {
            "options": WorkerOptions(progress_interval_s=progress_interval_s, max_held=max_held)
        }
        if clock is not None:
            worker_options["clock"] = clock
        handlers.worker.worker.reset(full_env, **worker_options)
        try:
            yield SlackHarness(
                slack=slack,
                lambdas=lambdas,
                env=full_env,
                sqs=boto3.client("sqs"),
                state=StateStore(StateTable(TABLE, dynamodb)),
            )
            lambdas.wait_idle(60)
            # Every payload the app sent must be one real Slack accepts (limits, block shapes).
            slack.state.assert_no_refusals()
        finally:
            handlers.slack.endpoint.reset()
            handlers.worker.worker.reset()
