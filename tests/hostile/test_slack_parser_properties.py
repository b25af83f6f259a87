"""Property tests of the slash-command parser: any text gets an answer, never an unhandled
exception, both in the pure parser and through the signed endpoint."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.errors import UsageError
from bot.slack.commands import (
    CancelCommand,
    HelpCommand,
    ListCommand,
    PeekCommand,
    RedriveCommand,
    StatusCommand,
    parse_command,
)
from bot.slack.protocol import CommandJob
from infra.local.lambda_server import LocalLambdaContext
from infra.local.slack_events import command_body, http_event
from tests.hostile.recording_endpoint import (
    NOWHERE,
    SECRET,
    RecordingDispatcher,
    recording_endpoint,
)

WORDS = [
    "help",
    "list",
    "peek",
    "redrive",
    "status",
    "cancel",
    "orders-dlq",
    "3",
    "--yesterday",
    "--date",
    "2026-11-24",
    "--since",
    "--until",
    "--time-field",
    "meta.at",
    "--limit",
    "-1",
    "'",
    '"',
    "\\",
    "--",
    "-h",
    "\x00",
    "é",
    "🙂",
]
command_text = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join),
    st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=12)), max_size=6).map(" ".join),
)
KNOWN = (HelpCommand, ListCommand, PeekCommand, RedriveCommand, StatusCommand, CancelCommand)


@given(command_text)
@settings(max_examples=400, deadline=None)
def test_parser_returns_a_command_or_a_usage_error(text: str) -> None:
    try:
        command = parse_command(text)
    except UsageError as exc:
        assert str(exc)  # always says what was wrong
    else:
        assert isinstance(command, KNOWN)


DISPATCHER = RecordingDispatcher()
ENDPOINT = recording_endpoint(DISPATCHER)


@given(command_text)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_endpoint_answers_any_text(text: str) -> None:
    # Given any text typed after /dlq-redrive
    DISPATCHER.jobs.clear()
    body = command_body(text, user="U1", channel="C1", response_url=f"{NOWHERE}/r")

    # When Slack sends it, signed
    response = ENDPOINT.handle(http_event(body, SECRET), LocalLambdaContext("slack", 10, "r"))

    # Then it is acknowledged with 200 and answered: a message in the ack, or a job whose
    # worker will answer through response_url
    assert response["statusCode"] == 200
    answered_in_ack = bool(response["body"]) and bool(json.loads(response["body"])["text"])
    assert answered_in_ack or len(DISPATCHER.jobs) == 1
    if DISPATCHER.jobs:
        (job,) = DISPATCHER.jobs
        assert isinstance(job, CommandJob) and job.text == text
