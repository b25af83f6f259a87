"""Builds the worker (the Slack app's slow work: SQS, the state table, Slack messages) from the
environment, once per cold start. Kept apart from the endpoint's runtime so neither side loads
the other's code (the endpoint no engine, the worker no Bolt). Only the worker's settings are
read: the bot token and the job signing key, never the Slack signing secret."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from bot.config import EngineSettings, SlackSettings
from bot.errors import ConfigError
from bot.slack.approvers import ApproverDirectory
from bot.slack.cards import Cards
from bot.slack.command_handlers import CommandHandlers
from bot.slack.credentials import resolve_bot_token, resolve_job_signer
from bot.slack.decisions import Decisions
from bot.slack.dispatch import (
    Dispatcher,
    LambdaDispatcher,
    SealingDispatcher,
    worker_function_name,
)
from bot.slack.jobs import SlackWorker
from bot.slack.queues import Queues, WorkerOptions
from bot.slack.redrive_requests import RedriveRequests
from bot.slack.runner import RedriveRunner
from bot.slack.viewers import ViewerPolicy
from bot.slack.web import SlackGateway, build_web_client
from bot.slack.web_api import SlackApi
from bot.slack.worker_ports import Approvers, Viewers
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
    approvers = ApproverDirectory(slack_settings.approvers, slack)
    return assemble_worker(
        engine_settings=engine_settings,
        slack_settings=slack_settings,
        slack=slack,
        state=StateStore(_state_table(slack_settings)),
        gateway=SqsGateway(),  # its own client for sends: see send_sqs_client
        dispatcher=LambdaDispatcher(worker_function_name(slack_settings)),
        approvers=approvers,
        viewers=ViewerPolicy.from_settings(slack_settings, slack),
        clock=clock,
        options=options,
    )


def assemble_worker(
    *,
    engine_settings: EngineSettings,
    slack_settings: SlackSettings,
    slack: SlackApi,
    state: StateStore,
    gateway: SqsGateway,
    dispatcher: Dispatcher,
    approvers: Approvers,
    viewers: Viewers,
    clock: Clock = _utcnow,
    options: WorkerOptions | None = None,
) -> SlackWorker:
    """The worker's parts wired together from injected clients (unit tests pass fakes)."""
    options = options or WorkerOptions()
    signer = resolve_job_signer(slack_settings)
    queues = Queues(gateway, engine_settings)
    cards = Cards(slack, engine_settings.timezone)
    runner = RedriveRunner(
        queues=queues,
        state=state,
        cards=cards,
        dispatcher=SealingDispatcher(signer, dispatcher, clock=clock),
        clock=clock,
        options=options,
    )
    requests = RedriveRequests(
        queues=queues,
        state=state,
        slack=slack,
        approval_ttl=timedelta(minutes=slack_settings.approval_ttl_minutes),
        clock=clock,
        options=options,
    )
    return SlackWorker(
        signer=signer,
        state=state,
        slack=slack,
        commands=CommandHandlers(
            queues=queues,
            state=state,
            slack=slack,
            requests=requests,
            approvers=approvers,
            viewers=viewers,
            clock=clock,
            options=options,
        ),
        decisions=Decisions(
            state=state,
            slack=slack,
            cards=cards,
            runner=runner,
            approvers=approvers,
            allow_self_approval=slack_settings.allow_self_approval,
            clock=clock,
        ),
        runner=runner,
        clock=clock,
    )
