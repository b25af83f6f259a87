"""Builds the daily job from configuration and clients: ``build_job`` from the environment
(boto3 clients made here unless injected), ``assemble_job`` from parts already built (the
in-memory fakes of the unit tests, or the real gateways)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.catalog import DlqCatalog
from bot.config import DailySettings, EngineSettings, SlackSettings
from bot.daily.auto_redrive import AutoRedriver
from bot.daily.continuing import ContinuationRun
from bot.daily.failures import DailyFailures
from bot.daily.inspector import DlqInspector
from bot.daily.job import DailyJob
from bot.daily.lease import LeaseStore
from bot.daily.once import LeaseTiming
from bot.daily.ports import Leases, Runs, SlackClient, Snapshots
from bot.daily.posting import ReportPoster
from bot.daily.report_run import ReportRun
from bot.daily.report_updates import ReportUpdates
from bot.daily.snapshots import RunState, SnapshotStore
from bot.engine import RedriveEngine
from bot.errors import ConfigError
from bot.lambda_api import AsyncInvoker
from bot.lambda_gateway import LambdaGateway
from bot.redrive_ledger import StateTableRedriveLedger
from bot.slack.credentials import resolve_bot_token
from bot.sqs_gateway import SqsGateway, send_sqs_client
from bot.sqs_model import QueueDirectory
from bot.state_table import StateTable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_sqs import SQSClient


def _utcnow() -> datetime:
    return datetime.now(UTC)


def build_job(
    env: Mapping[str, str],
    *,
    sqs_client: SQSClient | None = None,
    sqs_send_client: SQSClient | None = None,
    dynamodb_client: DynamoDBClient | None = None,
    lambda_client: LambdaClient | None = None,
    lease_timing: LeaseTiming | None = None,
    redrive_workers: int | None = None,
) -> DailyJob:
    """A ``DailyJob`` from configuration ``env``; ConfigError names any bad variable. It reads
    the Slack bot token only, never the signing secret.

    SQS sends go through a client without transport retries, as in production, also when a
    test injects ``sqs_client`` (then one for its endpoint), unless it injects that one too.
    ``lease_timing``: the run lease's (``bot.daily.once``); tests shorten it.
    ``redrive_workers``: the auto-redrive's engine workers (default: the engine's); tests on
    moto's FIFO queues use one, as its concurrent FIFO receives race each other.
    """
    engine_settings = EngineSettings.from_env(env)
    daily = DailySettings.from_env(env)
    slack_settings = SlackSettings.from_env(env)
    table = slack_settings.state_table
    if not table:
        raise ConfigError("STATE_TABLE is not set (the DynamoDB table for snapshots and runs)")
    if sqs_send_client is None and sqs_client is not None:
        sqs_send_client = send_sqs_client(like=sqs_client)
    gateway = SqsGateway(sqs_client, send_client=sqs_send_client)
    state_table = StateTable(table, dynamodb_client)
    snapshots = SnapshotStore(state_table)
    slack = WebClient(token=resolve_bot_token(slack_settings), base_url=slack_settings.api_url)
    # A report with thread replies is several posts in a row: wait out a 429 instead of failing.
    slack.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=3))
    engine = RedriveEngine(
        gateway,
        max_redrives=engine_settings.max_redrives,
        timezone=engine_settings.timezone,
        # MAX_REDRIVES also for messages that cannot carry the counter attribute
        ledger=StateTableRedriveLedger(state_table),
    )
    return assemble_job(
        gateway=gateway,
        engine=engine,
        snapshots=snapshots,
        runs=RunState(state_table),
        leases=LeaseStore(state_table),
        slack=slack,
        invoker=LambdaGateway(lambda_client),
        daily=daily,
        engine_settings=engine_settings,
        lease_timing=lease_timing,
        redrive_workers=redrive_workers,
    )


def assemble_job(
    *,
    gateway: QueueDirectory,
    engine: RedriveEngine,
    snapshots: Snapshots,
    runs: Runs,
    leases: Leases,
    slack: SlackClient,
    invoker: AsyncInvoker,
    daily: DailySettings,
    engine_settings: EngineSettings,
    clock: Callable[[], datetime] = _utcnow,
    lease_timing: LeaseTiming | None = None,
    redrive_workers: int | None = None,
) -> DailyJob:
    """The job's parts wired together around the given gateways."""
    catalog = DlqCatalog(gateway, engine_settings)
    poster = ReportPoster(slack, runs, daily.report_channel, clock)
    updates = ReportUpdates(poster=poster, runs=runs, snapshots=snapshots, daily=daily, clock=clock)
    redriver = AutoRedriver(
        engine=engine,
        snapshots=snapshots,
        runs=runs,
        daily=daily,
        engine_settings=engine_settings,
        clock=clock,
        workers=redrive_workers,
    )
    continuation = ContinuationRun(
        catalog=catalog,
        gateway=gateway,
        redriver=redriver,
        updates=updates,
        poster=poster,
        invoker=invoker,
        clock=clock,
    )
    inspector = DlqInspector(
        catalog=catalog,
        gateway=gateway,
        snapshots=snapshots,
        daily=daily,
        engine_settings=engine_settings,
    )
    report = ReportRun(
        catalog=catalog,
        gateway=gateway,
        inspector=inspector,
        redriver=redriver,
        updates=updates,
        continuation=continuation,
        daily=daily,
        engine_settings=engine_settings,
        clock=clock,
    )
    failures = DailyFailures(
        leases=leases,
        snapshots=snapshots,
        poster=poster,
        updates=updates,
        timezone=engine_settings.timezone,
        clock=clock,
    )
    return DailyJob(
        report=report,
        continuation=continuation,
        failures=failures,
        snapshots=snapshots,
        leases=leases,
        clock=clock,
        lease_timing=lease_timing,
    )
