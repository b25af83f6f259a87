"""End to end under serverless-offline: the stack as serverless.yml declares it, on this machine.

Given serverless-offline running serverless.yml with the project's venv python, SQS, DynamoDB and
SSM on moto's server (AWS_ENDPOINT_URL), the Slack secrets put in SSM as SecureStrings exactly as
docs/deploy.md says, and Slack's Web API on the local recording server (--param slackApiUrl):
a signed `/dlq-redrive` request over real HTTP reaches the Slack function, which hands the work
to the worker through offline's Lambda port (AWS_ENDPOINT_URL_LAMBDA), which answers in Slack.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from bot.slack.ids import ActionId
from bot.state import StateStore
from bot.state_table import StateTable, create_state_table
from infra.local.moto_server import LocalAws
from infra.local.scene import QueuePair, count, create_pair, put_in_dlq
from infra.local.slack_api import SlackApiServer, SlackCall
from infra.local.slack_events import LOCAL_TEAM, action_body, command_body, sign
from tests.e2e.offline import OfflineStack, offline_stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

SIGNING_SECRET = "e2e-signing-secret-7f3a"
BOT_TOKEN = "xoxb-e2e-bot-token"
STAGE_TABLE = "dlq-redrive-dev-state"  # serverless.yml: ${self:service}-${sls:stage}-state
REQUESTER, APPROVER, CHANNEL = "U_ALICE", "U_BOB", "C_OPS"
# The stage's default SSM parameter names (serverless.yml params), as docs/deploy.md fills them.
TOKEN_PARAM = "/dlq-redrive/dev/slack-bot-token"
SECRET_PARAM = "/dlq-redrive/dev/slack-signing-secret"
JOB_KEY_SECRET = "dlq-redrive/dev/job-signing-key"  # serverless.yml custom.jobSigningKeySecretName
JOB_KEY = "e2e0job0signing0key0generated0by0cloudformation0in0a0deployment0"  # 64 characters
ASYNC_TIMEOUT_S = 120.0


@pytest.fixture(scope="module")
def slack_server() -> Iterator[SlackApiServer]:
    with SlackApiServer() as server:
        yield server


@pytest.fixture(scope="module")
def stack(
    artifact: Path,
    moto_server: LocalAws,
    slack_server: SlackApiServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OfflineStack]:
    # The functions get AWS only through endpoints and dummy keys, and the Slack secrets only
    # through SSM (any SLACK_BOT_TOKEN / SLACK_SIGNING_SECRET of the caller is removed).
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update(moto_server.env)
    log = tmp_path_factory.mktemp("offline") / "serverless-offline.log"
    params = {
        "slackApiUrl": slack_server.api_url,
        "approvers": APPROVER,
        "reportChannel": CHANNEL,
        # The parameters without a default: the installed workspace, and the queues redriven
        # messages may go back to (seed()'s source queue).
        "slackTeamId": LOCAL_TEAM,
        "sourceNamePatterns": "orders",
        # offline cannot resolve the name CloudFormation gives the archive bucket it creates
        # (a Ref): the functions get this one instead (docs/deploy.md, offline by hand).
        "archiveBucket": "dlq-redrive-offline-archive",
    }
    with offline_stack(env, params, log) as started:
        yield started


@pytest.fixture
def deployed(aws: LocalAws, slack_server: SlackApiServer) -> StateStore:
    """A clean account as docs/deploy.md leaves it: the secrets in SSM, the stack's table."""
    ssm = boto3.client("ssm")
    ssm.put_parameter(Name=TOKEN_PARAM, Type="SecureString", Value=BOT_TOKEN)
    ssm.put_parameter(Name=SECRET_PARAM, Type="SecureString", Value=SIGNING_SECRET)
    # The job signing key, which the stack generates (serverless.yml JobSigningKey) by this name.
    boto3.client("secretsmanager").create_secret(Name=JOB_KEY_SECRET, SecretString=JOB_KEY)
    dynamodb = boto3.client("dynamodb")
    create_state_table(dynamodb, STAGE_TABLE)
    slack_server.state.clear()
    return StateStore(StateTable(STAGE_TABLE, dynamodb))


def post(url: str, body: str, *, secret: str = SIGNING_SECRET) -> tuple[int, dict[str, Any]]:
    """POST ``body`` as Slack does: form-encoded, signed with ``secret``, timestamped now."""
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        url,
        data=body.encode(),
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": sign(secret, timestamp, body),
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            raw = response.read().decode()
            status = response.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read().decode(), exc.code
    return status, json.loads(raw) if raw.strip().startswith("{") else {"raw": raw}


def wait_for_slack(
    stack: OfflineStack,
    slack: SlackApiServer,
    predicate: Callable[[list[SlackCall]], bool],
) -> list[SlackCall]:
    """Wait for the asynchronous step's Slack calls; on timeout show offline's log too."""
    try:
        return slack.state.wait_for(predicate, timeout=ASYNC_TIMEOUT_S)
    except AssertionError as exc:
        raise AssertionError(str(exc) + stack.log_tail()) from exc


def seed(sqs: Any, messages: int) -> QueuePair:
    pair = create_pair(sqs, "orders")
    put_in_dlq(sqs, pair, [json.dumps({"order": i}) for i in range(messages)])
    return pair


def test_a_signed_redrive_request_is_approved_and_redriven_through_the_stack(
    stack: OfflineStack, slack_server: SlackApiServer, deployed: StateStore
) -> None:
    sqs = boto3.client("sqs")
    # Given 4 dead-lettered orders
    pair = seed(sqs, 4)

    # When Alice sends `/dlq-redrive redrive orders-dlq --limit 3` over HTTP, signed
    body = command_body(
        "redrive orders-dlq --limit 3",
        user=REQUESTER,
        channel=CHANNEL,
        response_url=slack_server.response_url("e2e-request"),
    )
    status, ack = post(stack.events_url, body)

    # Then the Slack function acks at once
    assert status == 200, f"{ack}{stack.log_tail()}"
    assert "orders-dlq" in str(ack.get("text", "")), ack
    # And the worker, started through offline's Lambda port, posts the approval card
    calls = wait_for_slack(
        stack, slack_server, lambda c: any(x.method == "chat.postMessage" for x in c)
    )
    (card,) = [c for c in calls if c.method == "chat.postMessage"]
    assert card.body["channel"] == CHANNEL
    assert "3 message(s) from orders-dlq" in card.body["text"]
    assert card.headers.get("Authorization") == f"Bearer {BOT_TOKEN}"  # the token from SSM
    stack.wait_for_log("(λ: worker) RequestId")  # offline ran it, not some other stand-in
    # And both functions ran from the unpacked deployment artifact, not from the working tree
    ran = {d.parent.parent.name for d in stack.code_dirs()}
    assert {"slack", "worker"} <= ran
    assert all((d / "botocore" / "data" / "sqs").is_dir() for d in stack.code_dirs())
    assert count(sqs, pair.dlq_url) == 4  # asking moved nothing

    # When Bob clicks Approve on the card
    actions = next(b for b in card.body["blocks"] if b["type"] == "actions")
    request_id = str(actions["elements"][0]["value"])
    stored = deployed.get_request(request_id)
    assert stored is not None and stored.message_ts
    click = action_body(
        str(ActionId.APPROVE),
        request_id,
        user=APPROVER,
        channel=CHANNEL,
        message_ts=stored.message_ts,
        response_url=slack_server.response_url("e2e-approve"),
    )
    status, _ = post(stack.events_url, click)
    assert status == 200, stack.log_tail()

    # Then the worker redrives exactly 3 and says so on the card
    wait_for_slack(
        stack,
        slack_server,
        lambda c: any(
            x.method == "chat.update" and "Done: moved *3*" in str(x.body.get("text", ""))
            for x in c
        ),
    )
    assert count(sqs, pair.source_url) == 3
    assert count(sqs, pair.dlq_url) == 1
    # And the state table (the stack's, from bot/state_table.json) recorded each step
    assert [e["kind"] for e in deployed.events(request_id)] == ["requested", "approved", "outcome"]


def test_a_request_with_a_bad_signature_is_refused_and_starts_nothing(
    stack: OfflineStack, slack_server: SlackApiServer, deployed: StateStore
) -> None:
    sqs = boto3.client("sqs")
    # Given dead-lettered orders
    pair = seed(sqs, 2)
    # When a request signed with another secret arrives
    body = command_body(
        "redrive orders-dlq",
        user=REQUESTER,
        channel=CHANNEL,
        response_url=slack_server.response_url("e2e-forged"),
    )
    status, _ = post(stack.events_url, body, secret="not-the-signing-secret")
    # Then it is refused, nothing is posted to Slack and nothing moves
    assert status == 401, stack.log_tail()
    time.sleep(2)  # room for a wrongly started worker to show itself
    assert slack_server.state.calls == []
    assert count(sqs, pair.dlq_url) == 2


def test_the_scheduled_daily_report_is_posted_once_through_the_stack(
    stack: OfflineStack, slack_server: SlackApiServer, deployed: StateStore
) -> None:
    # (The auto-redrive is left to tests/integration/daily: offline hands Python handlers a
    # context named "Fake" with a 6-second budget, so a redrive there only schedules its own
    # continuation, to a function that does not exist.)
    sqs = boto3.client("sqs")
    # Given 3 orders dead-lettered today, and the schedule's event for 06:00 UTC tomorrow, when
    # "yesterday" is today (the stage's TIMEZONE is UTC)
    pair = seed(sqs, 3)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date()
    event = {"time": f"{tomorrow.isoformat()}T06:00:00Z"}
    lambdas = boto3.client("lambda", endpoint_url=stack.lambda_endpoint)

    # When EventBridge Scheduler's input reaches the daily function through offline's Lambda port
    def invoke() -> dict[str, Any]:
        response = lambdas.invoke(
            FunctionName="dlq-redrive-dev-daily",
            InvocationType="RequestResponse",
            Payload=json.dumps(event).encode(),
        )
        payload: dict[str, Any] = json.loads(response["Payload"].read())
        return payload

    outcome = invoke()

    # Then the report is posted to the stage's report channel, with the token read from SSM
    assert outcome.get("status") == "reported", f"{outcome}{stack.log_tail()}"
    assert outcome["day"] == datetime.now(UTC).date().isoformat()
    posts = [c for c in slack_server.state.calls if c.method == "chat.postMessage"]
    (report,) = [p for p in posts if "thread_ts" not in p.body]
    assert {p.body["channel"] for p in posts} == {CHANNEL}
    assert "orders-dlq" in json.dumps(report.body["blocks"])
    assert report.headers.get("Authorization") == f"Bearer {BOT_TOKEN}"
    stack.wait_for_log("(λ: daily) RequestId")
    # And reporting moved nothing (AUTO_REDRIVE is unset on this stage) and hid nothing
    assert count(sqs, pair.dlq_url) == 3
    assert count(sqs, pair.source_url) == 0
    # And the same event again (a retry, or a duplicate delivery) posts nothing more
    again = invoke()
    assert again.get("status") != "error" and again.get("ts") == outcome["ts"], again
    assert [c for c in slack_server.state.calls if c.method == "chat.postMessage"] == posts
