"""Builds the worker (the Slack app's slow work: SQS, the state table, Slack messages) from the
environment, once per cold start. Kept apart from the endpoint's runtime so neither side loads
the other's code (the endpoint no engine, the worker no Bolt)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from bot.config import EngineSettings, SlackSettings
from bot.errors import ConfigError
from bot.slack.approvals import ApproverDirectory
from bot.slack.credentials import resolve_bot_token
from bot.slack.dispatch import LambdaDispatcher, worker_function_name
from bot.slack.jobs import SlackWorker, WorkerOptions
from bot.slack.web import SlackGateway, build_web_client
from bot.sqs_gateway import SqsGateway
from bot.state import StateStore

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _state_table(settings: SlackSettings) -> str:
    if not settings.state_table:
        raise ConfigError("STATE_TABLE is not set (the DynamoDB table for approvals and runs)")
    return settings.state_table


def build_worker(
    env: Mapping[str, str], *, clock: Clock = _utcnow, options: WorkerOptions | None = None
) -> SlackWorker:
    """The worker for ``env``: SQS, the state table, Slack and the dispatcher for continuations."""
    slack_settings = SlackSettings.from_env(env)
    engine_settings = EngineSettings.from_env(env)
    slack = SlackGateway(
        build_web_client(resolve_bot_token(slack_settings), slack_settings.api_url)
    )
    return SlackWorker(
        engine_settings=engine_settings,
        slack_settings=slack_settings,
        slack=slack,
        state=StateStore(_state_table(slack_settings)),
        gateway=SqsGateway(),  # its own client for sends: see send_sqs_client
        dispatcher=LambdaDispatcher(worker_function_name(slack_settings)),
        approvers=ApproverDirectory(slack_settings.approvers, slack),
        clock=clock,
        options=options,
    )
