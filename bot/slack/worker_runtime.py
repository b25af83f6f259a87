"""Wires the worker (the Slack app's slow work: SQS, the state table, Slack messages) from parts
already built: ``bot.composition.build_worker`` passes the real gateways, unit tests in-memory
fakes. Kept apart from the endpoint's code so neither side loads the other's (the endpoint no
engine, the worker no Bolt)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from bot.alerts.store import FedDlqStore
from bot.archive_model import ArchiveSink
from bot.clock import Clock, utcnow
from bot.config import EngineSettings, SlackSettings
from bot.daily.scan_facts import ScanFactsStore
from bot.daily.snapshots import SnapshotStore
from bot.engine import RedriveEngine
from bot.feeders import FeederDirectory
from bot.slack.action_buttons import ActionButtons
from bot.slack.cards import Cards
from bot.slack.command_handlers import CommandHandlers
from bot.slack.credentials import resolve_job_signer
from bot.slack.decisions import Decisions
from bot.slack.dispatch import Dispatcher, SealingDispatcher
from bot.slack.edits import Edits
from bot.slack.home import HomePublisher, PeekModal
from bot.slack.home_data import HomeOptions, HomeReader
from bot.slack.jobs import SlackWorker
from bot.slack.queues import Queues, WorkerOptions
from bot.slack.redrive_requests import RedriveRequests
from bot.slack.request_modal_jobs import RequestModal
from bot.slack.runner import RedriveRunner
from bot.slack.web_api import SlackApi
from bot.slack.worker_ports import Approvers, Viewers
from bot.sqs_gateway import SqsGateway
from bot.state import StateStore


def assemble_worker(
    *,
    engine_settings: EngineSettings,
    slack_settings: SlackSettings,
    slack: SlackApi,
    state: StateStore,
    gateway: SqsGateway,
    engine: RedriveEngine,
    dispatcher: Dispatcher,
    approvers: Approvers,
    viewers: Viewers,
    clock: Clock = utcnow,
    options: WorkerOptions | None = None,
    archives: Callable[[str], ArchiveSink] | None = None,
    feeders: FeederDirectory | None = None,
    report_channel: str | None = None,
) -> SlackWorker:
    """The worker's parts wired together from injected clients (unit tests pass fakes);
    ``engine`` is ``bot.composition.redrive_engine``'s, with its redrive ledger; ``archives``
    makes the archive at a location (``bot.composition.archive_sink``: discards and exports);
    ``feeders`` finds the SNS subscriptions, EventBridge targets and Lambda functions that feed
    DLQs (``bot.composition.feeder_directory``; None: the DLQs SQS queues feed only);
    ``report_channel``: where the request modal posts cards by default when opened from the Home
    tab (REPORT_CHANNEL; None: the person picks a channel)."""
    options = options or WorkerOptions()
    signer = resolve_job_signer(slack_settings)
    queues = Queues(gateway, engine_settings, engine, feeders)
    cards = Cards(slack, engine_settings.timezone)
    runner = RedriveRunner(
        queues=queues,
        state=state,
        cards=cards,
        dispatcher=SealingDispatcher(signer, dispatcher, clock=clock),
        clock=clock,
        options=options,
        archives=archives,
    )
    requests = RedriveRequests(
        queues=queues,
        state=state,
        slack=slack,
        approval_ttl=timedelta(minutes=slack_settings.approval_ttl_minutes),
        clock=clock,
        options=options,
    )
    buttons = ActionButtons(
        queues=queues,
        state=state,
        slack=slack,
        requests=requests,
        viewers=viewers,
        clock=clock,
        options=options,
        archives=archives,
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
        home=HomePublisher(
            HomeReader(
                queues=queues,
                state=state,
                snapshots=SnapshotStore(state.table),
                scan_facts=ScanFactsStore(state.table),
                approvers=approvers,
                fed=FedDlqStore(state.table),
                clock=clock,
                options=HomeOptions(allow_self_approval=slack_settings.allow_self_approval),
            ),
            slack,
            engine_settings.timezone,
            viewers,
        ),
        peeks=PeekModal(
            queues=queues, viewers=viewers, slack=slack, peek_count=options.peek_default
        ),
        buttons=buttons,
        request_modal=RequestModal(
            queues=queues,
            requests=requests,
            export=buttons.export,
            slack=slack,
            viewers=viewers,
            signer=signer,
            clock=clock,
            allowed_channels=slack_settings.allowed_channels,
            default_channel=report_channel,
            scan_facts=ScanFactsStore(state.table),
        ),
        edits=Edits(
            queues=queues,
            state=state,
            slack=slack,
            viewers=viewers,
            signer=signer,
            approval_ttl=timedelta(minutes=slack_settings.approval_ttl_minutes),
            clock=clock,
        ),
    )
