"""The endpoint reads the bot token only for Edit & resend's views.open, on the first click: its
cold start reads none (docs/architecture.md, the ack path)."""

from __future__ import annotations

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters

import handlers.slack
from infra.local.scene import create_pair, put_in_dlq
from tests.integration.slack.edit_world import EditWorld, dlq_messages
from tests.integration.slack.slack_harness import REQUESTER, SlackHarness, ack_text

TOKEN_PARAM = "/dlq-redrive/test/slack-bot-token"


@pytest.fixture
def slack_env(slack_env: dict[str, str]) -> dict[str, str]:
    # The token as deployed: an SSM SecureString (the worker reads it when it is built)
    boto3.client("ssm").put_parameter(Name=TOKEN_PARAM, Value="xoxb-first", Type="SecureString")
    env = {k: v for k, v in slack_env.items() if k != "SLACK_BOT_TOKEN"}
    return {**env, "SLACK_BOT_TOKEN_PARAM": TOKEN_PARAM}


def _store_token(value: str | None) -> None:
    ssm = boto3.client("ssm")
    if value is None:
        ssm.delete_parameter(Name=TOKEN_PARAM)
    else:
        ssm.put_parameter(Name=TOKEN_PARAM, Value=value, Type="SecureString", Overwrite=True)
    parameters.clear_caches()  # powertools keeps what it read for an hour


def test_the_endpoint_reads_the_token_on_the_first_edit_click_not_at_cold_start(
    harness: SlackHarness,
) -> None:
    # Given a bot token nobody can read right now
    _store_token(None)

    # When the endpoint starts cold, Then it starts, and a command is acked and handed over
    handlers.slack.endpoint.reset(harness.env)
    ack = harness.command("list")
    assert ack["statusCode"] == 200 and "Could not" not in ack_text(ack)
    harness.settle()

    # Given the token readable again, and a message in a DLQ
    _store_token("xoxb-lazy")
    pair = create_pair(harness.sqs, "orders")
    put_in_dlq(harness.sqs, pair, ['{"order": 1}'])
    (message,) = dlq_messages(harness.sqs, pair.dlq_url)

    # When someone clicks Edit & resend
    EditWorld(harness, pair).open_form(message.message_id, user=REQUESTER)

    # Then the endpoint read the token then, and opened the modal with it
    (opened,) = harness.calls("views.open")
    assert opened.headers.get("Authorization") == "Bearer xoxb-lazy"


def test_an_unreadable_token_is_said_on_the_click_and_nothing_else_fails(
    harness: SlackHarness,
) -> None:
    # Given an endpoint started while the token cannot be read
    _store_token(None)
    handlers.slack.endpoint.reset(harness.env)
    pair = create_pair(harness.sqs, "orders")
    put_in_dlq(harness.sqs, pair, ['{"order": 1}'])
    (message,) = dlq_messages(harness.sqs, pair.dlq_url)

    # When someone clicks Edit & resend
    ack = EditWorld(harness, pair).click(message.message_id, user=REQUESTER)
    harness.settle()

    # Then the click is acked, no modal was opened, and the person is told to try again
    assert ack["statusCode"] == 200
    assert harness.calls("views.open") == []
    assert "Could not open the edit form" in harness.responses()[-1]
