"""Wires the daily job from parts already built: ``bot.composition.build_daily_job`` passes the
real gateways (boto3 clients made there unless injected), unit tests in-memory fakes."""

from __future__ import annotations

from bot.alerts.store import FedDlqStore
from bot.catalog import DlqCatalog
from bot.clock import Clock, utcnow
from bot.config import DailySettings, EngineSettings
from bot.daily.auto_redrive import AutoRedriver
from bot.daily.continuing import ContinuationRun
from bot.daily.failures import DailyFailures
from bot.daily.inspector import DlqInspector
from bot.daily.job import DailyJob
from bot.daily.once import LeaseTiming
from bot.daily.ports import Leases, Runs, ScanFactsSink, Snapshots
from bot.daily.posting import ReportPoster
from bot.daily.report_run import ReportRun
from bot.daily.report_updates import ReportUpdates
from bot.engine import RedriveEngine
from bot.feeders import FeederDirectory
from bot.lambda_api import AsyncInvoker
from bot.slack.web_api import SlackApi
from bot.sqs_model import QueueDirectory


def assemble_job(
    *,
    gateway: QueueDirectory,
    engine: RedriveEngine,
    snapshots: Snapshots,
    runs: Runs,
    leases: Leases,
    slack: SlackApi,
    invoker: AsyncInvoker,
    daily: DailySettings,
    engine_settings: EngineSettings,
    clock: Clock = utcnow,
    lease_timing: LeaseTiming | None = None,
    redrive_workers: int | None = None,
    feeders: FeederDirectory | None = None,
    scan_facts: ScanFactsSink | None = None,
    fed_dlqs: FedDlqStore | None = None,
) -> DailyJob:
    """The job's parts wired together around the given gateways. ``feeders``: what finds the
    SNS subscriptions, EventBridge targets and Lambda functions that feed DLQs (None: the
    DLQs SQS queues feed only). ``scan_facts``: where each DLQ's last scan facts are kept for
    the App Home (None: not kept). ``fed_dlqs``: where the alert checks find the DLQs only
    feeders feed (None: not recorded)."""
    catalog = DlqCatalog(gateway, engine_settings, feeders)
    poster = ReportPoster(slack, runs, daily.report_channel, clock)
    updates = ReportUpdates(
        poster=poster,
        runs=runs,
        snapshots=snapshots,
        daily=daily,
        clock=clock,
        scan_facts=scan_facts,
    )
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
        fed_dlqs=fed_dlqs,
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
