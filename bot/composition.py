"""The one composition root: every function's object graph (the Slack endpoint, the worker, the
daily job, the on-failure handler) and the CLI's context are built here, from an environment
mapping, with any client injected (``sqs_client``, ``sqs_send_client``, ``dynamodb_client``,
``lambda_client``, ``sns_client``, ``events_client``, ``slack_client``); a client not injected is
made from the default boto3 session or the Slack bot token. Settings are read and validated here,
once per cold start; the parts are wired by ``assemble_*`` (unit tests call those with in-memory
fakes).

Each builder imports what it builds inside its body: the Slack endpoint's handler imports this
module, and its cold start must not load the engine, the worker or the daily job
(tests/deploy/test_handler_imports.py). Handlers keep what they built in a ``ColdStart``.

Nothing here touches the network: clients connect on first use.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TextIO, TypeVar

from bot.clock import Clock, utcnow

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from slack_sdk import WebClient

    from bot.alerts.job import AlertJob
    from bot.archive_location import ArchiveLocation
    from bot.archive_model import ArchiveSink, ArchiveSource
    from bot.cli_context import CliContext
    from bot.config import EngineSettings, SlackSettings
    from bot.daily.job import DailyJob
    from bot.daily.once import LeaseTiming
    from bot.delivery_api import TargetApi
    from bot.engine import RedriveEngine
    from bot.engine_ledger import RedriveLedger
    from bot.failure_routing import FailureRouter
    from bot.feeders import FeederDirectory
    from bot.lambda_gateway import LambdaRedriveGateway
    from bot.slack.edit_endpoint import EditEndpoint
    from bot.slack.home_endpoint import HomeEndpoint
    from bot.slack.jobs import SlackWorker
    from bot.slack.queues import WorkerOptions
    from bot.slack.request_endpoint import RequestEndpoint
    from bot.slack.runtime import SlackEndpoint
    from bot.slack.web import SlackGateway
    from bot.sqs_gateway import SqsGateway
    from bot.sqs_model import SqsApi
    from bot.state_table import StateTable
    from bot.state_table_api import StateTableApi

T = TypeVar("T")


class ColdStart(Generic[T]):
    """What a handler builds once per cold start, on first use (never at import: building may
    resolve secrets). Calling it answers the built object; tests reset or replace it."""

    def __init__(self, build: Callable[..., T], env: Mapping[str, str]) -> None:
        self._build = build
        self._env = env
        self._built: T | None = None

    def __call__(self) -> T:
        if self._built is None:
            self._built = self._build(self._env)
        return self._built

    def reset(self, env: Mapping[str, str] | None = None, **options: Any) -> None:
        """Forget what was built; with ``env``, build it from that mapping now."""
        self._built = None if env is None else self._build(env, **options)

    def use(self, built: T | None) -> None:
        """Use ``built`` from now on (None: build again on next use)."""
        self._built = built


# --- the Slack endpoint -----------------------------------------------------------------------


def build_endpoint(
    env: Mapping[str, str],
    *,
    lambda_client: LambdaClient | None = None,
    slack_client: WebClient | None = None,
    clock: Clock = utcnow,
) -> SlackEndpoint:
    """The Slack endpoint: Bolt, the request checks, and the dispatcher that hands signed jobs
    to the worker. It alone reads the Slack signing secret."""
    import functools

    from bot.config import EngineSettings, SlackSettings
    from bot.slack.app import build_app
    from bot.slack.credentials import (
        lazy_bot_token,
        resolve_job_signer,
        resolve_signing_secret,
    )
    from bot.slack.dispatch import LambdaDispatcher, SealingDispatcher, worker_function_name
    from bot.slack.runtime import SlackEndpoint

    slack_settings = SlackSettings.from_env(env)
    signer = resolve_job_signer(slack_settings)
    bot_token = lazy_bot_token(slack_settings)

    @functools.cache
    def views() -> SlackGateway:
        # Made on the first Edit & resend or Home tab Peek click, the token read then (never at
        # cold start).
        # No waiting out a 429 and a short timeout: the ack must go within Slack's 3 seconds.
        from bot.slack.web import SlackGateway

        return SlackGateway(
            slack_client
            or _web_client(bot_token(), slack_settings, rate_limit_retries=0, timeout=2)
        )

    @functools.cache
    def edits() -> EditEndpoint:
        # Loaded on the first Edit & resend click or submission, not at cold start
        # (bot/slack/app.py; tests/deploy/test_handler_imports.py).
        from bot.slack.edit_endpoint import EditEndpoint

        return EditEndpoint(views, signer)

    @functools.cache
    def home() -> HomeEndpoint:
        # Loaded on the first Home tab Peek click, not at cold start.
        from bot.slack.home_endpoint import HomeEndpoint

        return HomeEndpoint(views)

    engine_settings = EngineSettings.from_env(env)

    @functools.cache
    def requests() -> RequestEndpoint:
        # Loaded on the first request modal (/dlq-redrive with no text, Home's Redrive…), not
        # at cold start (bot/slack/app.py; tests/deploy/test_handler_imports.py).
        from bot.slack.request_endpoint import RequestEndpoint

        return RequestEndpoint(
            views, signer, engine_settings.timezone, engine_settings.error_attribute
        )

    app = build_app(
        slack_settings=slack_settings,
        engine_settings=engine_settings,
        signing_secret=resolve_signing_secret(slack_settings),
        # Bolt's own client calls nothing (every listener only acks and hands on): no token.
        client=slack_client or _web_client("", slack_settings),
        dispatcher=SealingDispatcher(
            signer,
            LambdaDispatcher(worker_function_name(slack_settings), lambda_client),
            clock=clock,
        ),
        edits=edits,
        home=home,
        requests=requests,
        clock=clock,
    )
    return SlackEndpoint(app)


# --- the worker --------------------------------------------------------------------------------


def build_worker(
    env: Mapping[str, str],
    *,
    sqs_client: SQSClient | None = None,
    sqs_send_client: SQSClient | None = None,
    dynamodb_client: DynamoDBClient | None = None,
    lambda_client: LambdaClient | None = None,
    slack_client: WebClient | None = None,
    clock: Clock = utcnow,
    options: WorkerOptions | None = None,
    pin_part_digests: int | None = None,
    s3_client: S3Client | None = None,
    sns_client: SNSClient | None = None,
    events_client: EventBridgeClient | None = None,
) -> SlackWorker:
    """The worker: SQS, the state table, Slack, and the dispatcher of its continuations. It reads
    the bot token and the job signing key, never the signing secret. ``pin_part_digests``: the
    digests of an approval's pin each state table item holds (None: production's; tests split
    small pins with a small one)."""
    from bot.config import EngineSettings, SlackSettings
    from bot.slack.approvers import ApproverDirectory
    from bot.slack.credentials import resolve_bot_token
    from bot.slack.dispatch import LambdaDispatcher, worker_function_name
    from bot.slack.viewers import ViewerPolicy
    from bot.slack.web import SlackGateway
    from bot.slack.worker_runtime import assemble_worker
    from bot.state import StateStore
    from bot.state_model import PIN_INLINE_DIGESTS

    engine_settings = EngineSettings.from_env(env)
    slack_settings = SlackSettings.from_env(env)
    slack = SlackGateway(
        slack_client or _web_client(resolve_bot_token(slack_settings), slack_settings)
    )
    table = _state_table(slack_settings, dynamodb_client)
    gateway = _sqs_gateway(sqs_client, sqs_send_client)
    clients = (sns_client, events_client, lambda_client)
    engine, feeders = _redriving(gateway, engine_settings, table, *clients)
    return assemble_worker(
        engine_settings=engine_settings,
        slack_settings=slack_settings,
        slack=slack,
        state=StateStore(table, pin_part_digests=pin_part_digests or PIN_INLINE_DIGESTS),
        gateway=gateway,
        engine=engine,
        feeders=feeders,
        dispatcher=LambdaDispatcher(worker_function_name(slack_settings), lambda_client),
        approvers=ApproverDirectory(slack_settings.approvers, slack),
        viewers=ViewerPolicy.from_settings(slack_settings, slack),
        clock=clock,
        options=options,
        # Discards and exports from Slack write to ARCHIVE_BUCKET (always an s3:// location).
        archives=lambda location: archive_sink(location, s3_client=s3_client),
        report_channel=env.get("REPORT_CHANNEL", "").strip() or None,
    )


# --- the daily job -----------------------------------------------------------------------------


def build_daily_job(
    env: Mapping[str, str],
    *,
    sqs_client: SQSClient | None = None,
    sqs_send_client: SQSClient | None = None,
    dynamodb_client: DynamoDBClient | None = None,
    lambda_client: LambdaClient | None = None,
    slack_client: WebClient | None = None,
    lease_timing: LeaseTiming | None = None,
    redrive_workers: int | None = None,
    sns_client: SNSClient | None = None,
    events_client: EventBridgeClient | None = None,
) -> DailyJob:
    """The daily report's job; ConfigError names any bad variable. It reads the Slack bot token
    only, never the signing secret.

    ``lease_timing``: the run lease's (``bot.daily.once``); tests shorten it.
    ``redrive_workers``: the auto-redrive's engine workers (default: the engine's); tests on
    moto's FIFO queues use one, as its concurrent FIFO receives race each other.
    """
    from bot.alerts.store import FedDlqStore
    from bot.config import DailySettings, EngineSettings, SlackSettings
    from bot.daily.builder import assemble_job
    from bot.daily.lease import LeaseStore
    from bot.daily.run_state import RunState
    from bot.daily.scan_facts import ScanFactsStore
    from bot.daily.snapshots import SnapshotStore
    from bot.lambda_gateway import LambdaGateway
    from bot.slack.credentials import resolve_bot_token
    from bot.slack.web import SlackGateway

    engine_settings = EngineSettings.from_env(env)
    slack_settings = SlackSettings.from_env(env)
    table = _state_table(slack_settings, dynamodb_client)
    gateway = _sqs_gateway(sqs_client, sqs_send_client)
    if slack_client is None:
        # A report with thread replies is several posts in a row: wait out 429s instead of
        # failing, and give each post slack_sdk's default 30 s.
        slack_client = _web_client(
            resolve_bot_token(slack_settings), slack_settings, rate_limit_retries=3, timeout=30
        )
    clients = (sns_client, events_client, lambda_client)
    engine, feeders = _redriving(gateway, engine_settings, table, *clients)
    return assemble_job(
        gateway=gateway,
        engine=engine,
        feeders=feeders,
        snapshots=SnapshotStore(table),
        scan_facts=ScanFactsStore(table),
        fed_dlqs=FedDlqStore(table),
        runs=RunState(table),
        leases=LeaseStore(table),
        slack=SlackGateway(slack_client),
        invoker=LambdaGateway(lambda_client),
        daily=DailySettings.from_env(env),
        engine_settings=engine_settings,
        lease_timing=lease_timing,
        redrive_workers=redrive_workers,
    )


# --- the alert checks between the daily reports ------------------------------------------------


def build_alert_job(
    env: Mapping[str, str],
    *,
    sqs_client: SQSClient | None = None,
    dynamodb_client: DynamoDBClient | None = None,
    slack_client: WebClient | None = None,
    lease_timing: LeaseTiming | None = None,
    clock: Clock = utcnow,
) -> AlertJob:
    """The alert checks' job (issue 14); ConfigError names any bad variable. It reads the Slack
    bot token only. Its clients: SQS (ListQueues, GetQueueUrl, GetQueueAttributes: never a
    receive), the state table, Slack; no SNS, EventBridge or Lambda client (the feeder-fed DLQs
    come from the daily report's record: ``bot.alerts.store.FedDlqStore``)."""
    from bot.alerts.job import EVENT_TYPE as ALERT_EVENT_TYPE
    from bot.alerts.job import AlertJob, AlertParts, AlertPosts
    from bot.alerts.store import AlertStore, FedDlqStore
    from bot.alerts.watch import AlertWatch
    from bot.config import AlertSettings, EngineSettings, SlackSettings
    from bot.daily.lease import LeaseStore
    from bot.daily.once import LeaseTiming
    from bot.daily.posting import ReportPoster
    from bot.daily.run_state import RunState
    from bot.slack.credentials import resolve_bot_token
    from bot.slack.web import SlackGateway

    engine_settings = EngineSettings.from_env(env)
    slack_settings = SlackSettings.from_env(env)
    settings = AlertSettings.from_env(env)
    table = _state_table(slack_settings, dynamodb_client)
    if slack_client is None:
        # An alert and its thread are a few posts: wait out a 429 rather than fail the check.
        slack_client = _web_client(
            resolve_bot_token(slack_settings), slack_settings, rate_limit_retries=3, timeout=30
        )
    poster = ReportPoster(
        SlackGateway(slack_client),
        AlertPosts(RunState(table)),
        settings.channel,
        clock,
        event_type=ALERT_EVENT_TYPE,
    )
    parts = AlertParts(
        watch=AlertWatch(_sqs_gateway(sqs_client), engine_settings, FedDlqStore(table)),
        store=AlertStore(table),
        poster=poster,
        leases=LeaseStore(table),
        settings=settings,
        timezone=engine_settings.timezone,
        clock=clock,
        lease_timing=lease_timing or LeaseTiming(),
    )
    return AlertJob(parts)


# --- the redrive engine, the worker's and the daily job's -------------------------------------


def redrive_engine(
    sqs: SqsApi,
    settings: EngineSettings,
    table: StateTableApi,
    *,
    targets: TargetApi | None = None,
) -> RedriveEngine:
    """The engine of every function that redrives (the worker for approvals, the daily job for
    its auto-redrive): one construction, so both keep MAX_REDRIVES the same way, also for a
    message that cannot carry the counter attribute (counted in the state table's ledger).
    ``targets``: the functions and topics a message of another kind goes back to
    (``delivery_targets``). Unit tests pass in-memory fakes."""
    from bot.engine import RedriveEngine
    from bot.redrive_ledger import StateTableRedriveLedger

    return RedriveEngine(
        sqs,
        max_redrives=settings.max_redrives,
        timezone=settings.timezone,
        ledger=StateTableRedriveLedger(table),
        targets=targets,
    )


def _redriving(
    gateway: SqsApi,
    settings: EngineSettings,
    table: StateTableApi,
    sns_client: SNSClient | None,
    events_client: EventBridgeClient | None,
    lambda_client: LambdaClient | None,
) -> tuple[RedriveEngine, FeederDirectory]:
    """The engine and the feeder directory of a function that redrives (the worker, the daily
    job): one wiring of the injected clients, so both reach every DLQ kind the same way."""
    targets = delivery_targets(settings, sns_client=sns_client, lambda_client=lambda_client)
    feeders = feeder_directory(
        settings, sns_client=sns_client, events_client=events_client, lambda_client=lambda_client
    )
    return redrive_engine(gateway, settings, table, targets=targets), feeders


# --- the DLQs' other feeders: SNS subscriptions, EventBridge targets, Lambda functions -----------


def feeder_directory(
    settings: EngineSettings,
    *,
    sns_client: SNSClient | None = None,
    events_client: EventBridgeClient | None = None,
    lambda_client: LambdaClient | None = None,
) -> FeederDirectory:
    """What finds the feeders of the kinds ``DLQ_KINDS`` names (and only those), of the topics,
    rules and functions in scope (``DLQ_SNS_TOPICS``, ...). Each gateway makes its client on
    first use unless one is injected (tests: the local servers)."""
    from bot.feeder_directory import FeederDirectoryGateway
    from bot.feeders import Kind

    kinds = settings.dlq_kinds
    sns = events = lambda_ = None
    if Kind.SNS in kinds:
        from bot.sns_gateway import SnsGateway

        sns = SnsGateway(sns_client, topics=settings.sns_topics)
    if Kind.EVENTS in kinds:
        from bot.events_gateway import EventsGateway

        events = EventsGateway(
            events_client, buses=settings.event_buses, rules=settings.event_rules
        )
    if Kind.LAMBDA in kinds:
        lambda_ = _lambda_redrive(lambda_client, functions=settings.lambda_functions)
    return FeederDirectoryGateway(sns, events, lambda_, kinds)


def delivery_targets(
    settings: EngineSettings,
    *,
    sns_client: SNSClient | None = None,
    lambda_client: LambdaClient | None = None,
) -> TargetApi | None:
    """Where a message of another kind goes back (an asynchronous invoke, a publish), or None
    when ``DLQ_KINDS`` names SQS alone. The clients are made on the first delivery (one through
    which a delivery is never retried: ``bot.aws_clients``), unless injected: then the delivering
    client talks to the injected one's endpoint."""
    from bot.delivery_gateway import DeliveryGateway
    from bot.feeders import Kind
    from bot.sns_gateway import SnsGateway

    if settings.dlq_kinds <= {Kind.SQS}:
        return None
    return DeliveryGateway(_lambda_redrive(lambda_client), SnsGateway(sns_client))


def _lambda_redrive(
    client: LambdaClient | None, *, functions: tuple[str, ...] = ()
) -> LambdaRedriveGateway:
    # Not the dispatching client (bot.lambda_gateway.default_lambda_client: the Slack ack's short
    # timeouts): discovery and redrives get normal ones. An injected client (tests) is used for
    # reads, and the one-attempt invoking client is made for its endpoint.
    from bot.lambda_gateway import LambdaRedriveGateway

    return LambdaRedriveGateway(client, functions=functions)


# --- the on-failure destination ----------------------------------------------------------------


def build_failure_router(env: Mapping[str, str], **clients: Any) -> FailureRouter:
    """The on-failure handler: a record of the worker's goes to the worker's failure rules, any
    other to the daily job's; each side is built when its first record arrives."""
    from bot.config import SlackSettings
    from bot.failure_routing import FailureRouter

    return FailureRouter(
        worker_function=SlackSettings.from_env(env).worker_function,
        worker=lambda: build_worker(env, **clients),
        daily=lambda: build_daily_job(env, **clients),
    )


# --- the command line --------------------------------------------------------------------------


def build_cli_context(
    env: Mapping[str, str] | None,
    *,
    out: TextIO,
    err: TextIO,
    now: Clock = utcnow,
    gateway: SqsGateway | None = None,
) -> CliContext:
    """The CLI's context; its SQS gateway is made on first use (``--help`` needs none), with its
    own client for sends (see ``bot.sqs_gateway.send_sqs_client``) unless one is injected; so
    are the feeder directory and the delivery targets of ``DLQ_KINDS``."""
    from bot.cli_context import CliContext
    from bot.config import EngineSettings

    settings = EngineSettings.from_env(env)
    return CliContext(
        env=env,
        settings=settings,
        make_gateway=(lambda: gateway) if gateway is not None else (lambda: _sqs_gateway()),
        out=out,
        err=err,
        now=now,
        make_feeders=lambda: feeder_directory(settings),
        make_targets=lambda: delivery_targets(settings),
        make_ledger=lambda: cli_ledger(env),
    )


def cli_ledger(env: Mapping[str, str] | None) -> RedriveLedger | None:
    """The CLI's redrive ledger: the state table's when ``STATE_TABLE`` names one (the one the
    Slack worker and the daily job count in), else None. Without it a function that keeps
    failing would be invoked again by every CLI run: its payload carries no counter."""
    name = (os.environ if env is None else env).get("STATE_TABLE") or None
    if name is None:
        return None
    from bot.redrive_ledger import StateTableRedriveLedger
    from bot.state_table import StateTable

    return StateTableRedriveLedger(StateTable(name))


# --- archives: export, discard --archive, import ------------------------------------------------


def archive_sink(
    location: str | ArchiveLocation, *, s3_client: S3Client | None = None, append: bool = False
) -> ArchiveSink:
    """Where an export or a discard writes its records: a local ``.jsonl`` file (``append``:
    add to one that holds records already) or ``s3://bucket/prefix``. The S3 client is made
    here, only for an S3 location, unless one is injected (``AWS_ENDPOINT_URL`` reaches a
    local server)."""
    from bot.archive_files import JsonlFileSink
    from bot.archive_location import FileLocation, parse_archive_location

    where = parse_archive_location(location) if isinstance(location, str) else location
    if isinstance(where, FileLocation):
        return JsonlFileSink(where.path, append=append)
    from bot.s3_gateway import S3Archive, default_s3_client

    return S3Archive(s3_client if s3_client is not None else default_s3_client(), where)


def archive_source(
    location: str | ArchiveLocation, *, s3_client: S3Client | None = None
) -> ArchiveSource:
    """What an import reads: a local ``.jsonl`` file or every ``.jsonl`` object under
    ``s3://bucket/prefix``, streamed (the S3 client as for ``archive_sink``)."""
    from bot.archive_files import JsonlFileSource
    from bot.archive_location import FileLocation, parse_archive_location

    where = parse_archive_location(location) if isinstance(location, str) else location
    if isinstance(where, FileLocation):
        return JsonlFileSource(where.path)
    from bot.s3_gateway import S3Source, default_s3_client

    return S3Source(s3_client if s3_client is not None else default_s3_client(), where)


# --- clients shared by the builders ------------------------------------------------------------


def _sqs_gateway(
    client: SQSClient | None = None, send_client: SQSClient | None = None
) -> SqsGateway:
    """The SQS gateway; sends go through a client without transport retries, as in production,
    also when a test injects ``client`` (then one for its endpoint), unless it injects that one."""
    from bot.sqs_gateway import SqsGateway, send_sqs_client

    if send_client is None and client is not None:
        send_client = send_sqs_client(like=client)
    return SqsGateway(client, send_client=send_client)


def _state_table(settings: SlackSettings, client: DynamoDBClient | None) -> StateTable:
    from bot.errors import ConfigError
    from bot.state_table import StateTable

    if not settings.state_table:
        raise ConfigError("STATE_TABLE is not set (the DynamoDB table for approvals and runs)")
    return StateTable(settings.state_table, client)


def _web_client(token: str, settings: SlackSettings, **options: int) -> WebClient:
    from bot.slack.web import build_web_client

    return build_web_client(token, settings.api_url, **options)
