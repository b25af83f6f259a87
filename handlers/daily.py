"""Lambda entry point of the 06:00 daily DLQ report (EventBridge schedule, and its own
continuations). The job is built once per cold start, on the first invocation (no network at
import); ``build_job`` builds one from any mapping, and ``use_job`` swaps it, for tests."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.catalog import DlqCatalog
from bot.config import DailySettings, EngineSettings, SlackSettings
from bot.daily.job import DailyJob
from bot.daily.once import LeaseTiming
from bot.daily.snapshots import SnapshotStore
from bot.engine import RedriveEngine
from bot.errors import AwsError, ConfigError, DlqRedriveError
from bot.lambda_gateway import LambdaGateway
from bot.printable import visible_json
from bot.redrive_ledger import StateTableRedriveLedger
from bot.slack.credentials import resolve_bot_token
from bot.sqs_gateway import SqsGateway, send_sqs_client
from bot.state_table import StateTable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_sqs import SQSClient

# Log lines can quote message text: control characters in them are written as JSON escapes.
logger = Logger(service="dlq-redrive-daily", json_serializer=visible_json)
metrics = Metrics(namespace="DlqRedrive", service="daily-report")

_job: DailyJob | None = None


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
    """A ``DailyJob`` from configuration ``env``; ConfigError names any bad variable.

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
    snapshots = SnapshotStore(StateTable(table, dynamodb_client))
    slack = WebClient(token=resolve_bot_token(slack_settings), base_url=slack_settings.api_url)
    # A report with thread replies is several posts in a row: wait out a 429 instead of failing.
    slack.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=3))
    return DailyJob(
        catalog=DlqCatalog(gateway, engine_settings),
        engine=RedriveEngine(
            gateway,
            max_redrives=engine_settings.max_redrives,
            timezone=engine_settings.timezone,
            # MAX_REDRIVES also for messages that cannot carry the counter attribute
            ledger=StateTableRedriveLedger(snapshots.table),
        ),
        gateway=gateway,
        snapshots=snapshots,
        slack=slack,
        invoker=LambdaGateway(lambda_client),
        lease_timing=lease_timing,
        redrive_workers=redrive_workers,
        daily=daily,
        engine_settings=engine_settings,
    )


def use_job(job: DailyJob | None) -> None:
    """Replace the cold-start job (``None``: build it again from ``os.environ`` next time)."""
    global _job
    _job = job


def _get_job() -> DailyJob:
    global _job
    if _job is None:
        _job = build_job(os.environ)
    return _job


def _record(outcome: dict[str, Any]) -> None:
    if outcome.get("replayed") or outcome.get("status") == "duplicate_in_progress":
        metrics.add_metric(name="DuplicateEvents", unit=MetricUnit.Count, value=1)
        return
    if outcome.get("status") == "reported":
        metrics.add_metric(
            name="DlqReadFailures", unit=MetricUnit.Count, value=len(outcome["unreadable"])
        )
        metrics.add_metric(
            name="AutoRedriveErrors", unit=MetricUnit.Count, value=len(outcome["redrive_errors"])
        )
    moved = outcome.get("moved_now", outcome.get("moved"))
    if moved is not None:
        metrics.add_metric(name="MessagesAutoRedriven", unit=MetricUnit.Count, value=moved)


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        outcome = _get_job().handle(event, context)
    except DlqRedriveError as exc:
        metrics.add_metric(name="DailyReportFailed", unit=MetricUnit.Count, value=1)
        if isinstance(exc, AwsError):
            raise  # transient: Lambda retries (the run's lease was released)
        # Configuration or a malformed event: a retry cannot help, so answer and stop.
        logger.error("daily report not run: %s", exc)
        return {"status": "error", "error": str(exc)}
    except Exception:
        metrics.add_metric(name="DailyReportFailed", unit=MetricUnit.Count, value=1)
        raise  # e.g. Slack refused the post: Lambda retries
    _record(outcome)
    return outcome
