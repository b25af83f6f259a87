"""Requests from another workspace or organisation are refused before anything is dispatched.

Slack signs requests from every workspace the same way: in a Slack Connect channel that is an
allowed channel, people of another organisation can run the slash command and click the buttons
with valid signatures. The endpoint checks each request's team (and, when configured, its
Enterprise Grid org) against the installed one (SLACK_TEAM_ID / SLACK_ENTERPRISE_ID).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bot.composition import build_endpoint
from bot.errors import ConfigError
from bot.slack.ids import ActionId
from bot.slack.protocol import ReplyJob
from bot.slack.workspace import REFUSAL
from infra.local.lambda_server import LocalLambdaContext
from infra.local.moto_server import LocalAws
from infra.local.scene import count
from infra.local.slack_events import LOCAL_TEAM, action_body, command_body, http_event
from tests.hostile.recording_endpoint import (
    NOWHERE,
    RecordingDispatcher,
    recording_endpoint,
)
from tests.hostile.recording_endpoint import SECRET as RECORDING_SECRET
from tests.integration.slack.slack_harness import (
    APPROVER,
    CHANNEL,
    REQUESTER,
    SECRET,
    SlackHarness,
    ack_text,
    harness,
    make_harness,
    seed_orders,
    slack_env,
)

__all__ = ["harness", "slack_env"]  # fixtures

OTHER_TEAM = "T_OTHER"
ENTERPRISE = "E_LOCAL"
REFUSED = "This app serves only the workspace it is installed in"


def _work(harness: SlackHarness) -> list[str]:
    """The kinds of the jobs dispatched to the worker, but replies (a refused click's answer)."""
    kinds = [str(invocation.payload["job"]) for invocation in harness.lambdas.invocations]
    return [kind for kind in kinds if kind != "reply"]


def _command(harness: SlackHarness, text: str, **where: str) -> dict[str, object]:
    body = command_body(
        text, user=REQUESTER, channel=CHANNEL, response_url=harness.response_url(), **where
    )
    return harness.send(http_event(body, SECRET))


def _click(harness: SlackHarness, action: ActionId, value: str, **where: str) -> dict[str, object]:
    body = action_body(
        str(action),
        value,
        user=APPROVER,
        channel=CHANNEL,
        message_ts="1.1",
        response_url=harness.response_url(),
        **where,
    )
    return harness.send(http_event(body, SECRET))


def test_a_slash_command_from_another_workspace_is_refused_and_not_dispatched(
    harness: SlackHarness,
) -> None:
    # Given a DLQ with messages
    pair = seed_orders(harness.sqs, 2)

    # When a correctly signed peek and redrive arrive from another workspace
    for text in ("peek orders-dlq", "redrive orders-dlq"):
        response = _command(harness, text, team=OTHER_TEAM)

        # Then each is answered with the refusal, and no worker job exists
        assert response["statusCode"] == 200
        assert REFUSED in ack_text(response)
    assert harness.lambdas.invocations == []
    assert harness.slack.state.calls == []
    assert count(harness.sqs, pair.dlq_url) == 2


def test_a_slack_connect_user_clicking_approve_in_an_allowed_channel_is_refused(
    harness: SlackHarness,
) -> None:
    # Given a pending request whose card is in the (shared) channel
    pair = seed_orders(harness.sqs, 2)
    request_id = harness.request_card()
    invocations = len(harness.lambdas.invocations)

    # When someone of another workspace clicks Approve on it (the channel's team is ours, the
    # user's is not), and a click arrives that names another team outright
    _click(harness, ActionId.APPROVE, request_id, user_team=OTHER_TEAM)
    _click(harness, ActionId.APPROVE, request_id, team=OTHER_TEAM)
    harness.settle()

    # Then no work was dispatched, the request is still pending and the clickers were told
    assert len(_work(harness)) == invocations
    stored = harness.state.get_request(request_id)
    assert stored is not None and stored.status == "pending"
    assert count(harness.sqs, pair.dlq_url) == 2
    answers = harness.responses()
    assert len(answers) == 2 and all(REFUSED in answer for answer in answers)


def test_a_report_peek_from_another_workspace_shows_no_body(harness: SlackHarness) -> None:
    seed_orders(harness.sqs, 2)
    value = json.dumps({"queue": "orders-dlq"})

    _click(harness, ActionId.REPORT_PEEK, value, user_team=OTHER_TEAM)
    harness.settle()

    assert _work(harness) == []
    assert [REFUSED in answer for answer in harness.responses()] == [True]
    sent = json.dumps([call.body for call in harness.slack.state.calls])
    assert "order" not in sent.replace("orders-dlq", "")


def test_a_request_without_a_team_is_refused(harness: SlackHarness) -> None:
    body = command_body("list", user=REQUESTER, channel=CHANNEL, response_url="http://x")
    stripped = "&".join(part for part in body.split("&") if not part.startswith("team_id="))

    response = harness.send(http_event(stripped, SECRET))

    assert REFUSED in ack_text(response)
    assert harness.lambdas.invocations == []


def test_the_request_from_our_own_workspace_is_served(harness: SlackHarness) -> None:
    seed_orders(harness.sqs, 2)

    response = _command(harness, "list", team=LOCAL_TEAM)
    harness.settle()

    assert response["statusCode"] == 200 and ack_text(response) == ""
    assert len(harness.lambdas.invocations) == 1
    assert "orders-dlq" in harness.responses()[-1]


@pytest.fixture
def grid_harness(
    aws: LocalAws, slack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[SlackHarness]:
    yield from make_harness(aws, {**slack_env, "SLACK_ENTERPRISE_ID": ENTERPRISE}, monkeypatch)


def test_with_an_enterprise_configured_every_request_must_name_it(
    grid_harness: SlackHarness,
) -> None:
    # Given the app installed in workspace T_LOCAL of the Enterprise Grid org E_LOCAL
    seed_orders(grid_harness.sqs, 2)

    # When requests name another org, or none, with our team id
    refused = [
        _command(grid_harness, "list", enterprise="E_OTHER"),
        _command(grid_harness, "list"),
    ]
    _click(grid_harness, ActionId.REPORT_PEEK, '{"queue": "orders-dlq"}', enterprise="E_OTHER")
    grid_harness.settle()

    # Then none is dispatched
    assert all(REFUSED in ack_text(response) for response in refused)
    assert [REFUSED in answer for answer in grid_harness.responses()] == [True]
    assert _work(grid_harness) == []

    # And one that names our org is served
    served = _command(grid_harness, "list", enterprise=ENTERPRISE)
    grid_harness.settle()
    assert ack_text(served) == ""
    assert _work(grid_harness) == ["command"]


def test_the_endpoint_cannot_run_without_the_installed_team(slack_env: dict[str, str]) -> None:
    env = {key: value for key, value in slack_env.items() if key != "SLACK_TEAM_ID"}

    with pytest.raises(ConfigError, match="SLACK_TEAM_ID is not set"):
        build_endpoint(env)


def test_a_refused_click_is_answered_by_the_worker_not_from_the_ack_path() -> None:
    # Given the endpoint, with a response_url where nothing listens
    dispatcher = RecordingDispatcher()
    endpoint = recording_endpoint(dispatcher)
    body = action_body(
        str(ActionId.REPORT_PEEK),
        '{"queue": "orders-dlq"}',
        user=APPROVER,
        channel=CHANNEL,
        message_ts="1.1",
        response_url=f"{NOWHERE}/r",
        user_team=OTHER_TEAM,
    )

    # When a click from another workspace arrives, signed
    response = endpoint.handle(
        http_event(body, RECORDING_SECRET), LocalLambdaContext("slack", 10, "r")
    )

    # Then it is acknowledged without a call to Slack, and the one job is the refusal's answer
    assert response["statusCode"] == 200 and response["body"] == ""
    assert dispatcher.jobs == [ReplyJob(f"{NOWHERE}/r", REFUSAL)]
