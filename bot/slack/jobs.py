"""The worker's router: opens the signed job the Slack endpoint (or the worker itself) handed
over, drops replays, and hands the typed job to its handler.

- ``CommandJob`` / ``ReportButtonJob`` (peek, redrive): ``bot.slack.command_handlers``.
- ``MessageButtonJob``, the report's error-group and expiry buttons: ``bot.slack.action_buttons``.
- ``DecisionJob``: ``bot.slack.decisions`` (the rules are ``bot.slack.approvals.decide``).
- ``ContinueJob``: ``bot.slack.runner`` goes on from the run's checkpoint.
- ``EditOpenJob`` / ``EditSubmitJob``: ``bot.slack.edits`` (Edit & resend).
- ``HomeJob`` / ``PeekViewJob``: ``bot.slack.home`` (the App Home tab and its peek modal).
- ``RequestOpenJob`` / ``RequestCountJob`` / ``RequestSubmitJob``: ``bot.slack.request_modal_jobs``
  (the request modal: its form, its live count, its submission).
- ``ReplyJob``: just answer through ``response_url``.

An event that is not a job sealed with the worker's key (unsigned, tampered, stale, malformed)
is refused here: logged as "job refused" with the reason, counted in ``JobsRejected``, nothing
run and nothing said in Slack (its ``response_url`` cannot be trusted either). Every job that
fails tells the person in Slack and is logged; none fails silently.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.errors import DlqRedriveError, UsageError
from bot.slack import blocks
from bot.slack.action_buttons import ActionButtons
from bot.slack.command_handlers import CommandHandlers
from bot.slack.decisions import Decisions
from bot.slack.edits import Edits
from bot.slack.failures import record_worker_failure
from bot.slack.home import HomePublisher, PeekModal
from bot.slack.observability import count, logger
from bot.slack.protocol import (
    CommandJob,
    ContinueJob,
    DecisionJob,
    EditOpenJob,
    EditSubmitJob,
    HomeJob,
    Job,
    JobRejectedError,
    JobSigner,
    MessageButtonJob,
    PeekViewJob,
    ReplyJob,
    ReportButtonJob,
    RequestCountJob,
    RequestOpenJob,
    RequestSubmitJob,
)
from bot.slack.queues import WorkerOptions
from bot.slack.request_modal_jobs import RequestModal
from bot.slack.runner import RedriveRunner
from bot.slack.web_api import SlackApi
from bot.state import StateStore

if TYPE_CHECKING:  # a type only: the router loads no boto3 (tests/unit/test_layering.py)
    from bot.sqs_gateway import SqsGateway

__all__ = ["SlackWorker", "WorkerOptions"]


class SlackWorker:
    """Routes each job to its handler; failures are reported to Slack here, in one place."""

    def __init__(
        self,
        *,
        signer: JobSigner,
        state: StateStore,
        slack: SlackApi,
        commands: CommandHandlers,
        decisions: Decisions,
        runner: RedriveRunner,
        clock: Callable[[], datetime],
        edits: Edits | None = None,
        buttons: ActionButtons | None = None,
        home: HomePublisher | None = None,
        peeks: PeekModal | None = None,
        request_modal: RequestModal | None = None,
    ) -> None:
        self.signer = signer
        self.state = state
        self.slack = slack
        self.commands = commands
        self.decisions = decisions
        self.runner = runner
        self.clock = clock
        self.edits = edits  # Edit & resend (None: its jobs are refused as not set up)
        # A peeked message's Discard, the report's error-group and expiry buttons (None: their
        # jobs are refused as not set up)
        self.buttons = buttons
        self.home = home  # the App Home tab (None: its jobs are refused as not set up)
        self.peeks = peeks  # the Home tab's peek modal (None: likewise)
        self.request_modal = request_modal  # the request modal (None: likewise)

    @property
    def gateway(self) -> SqsGateway:
        """The SQS gateway every job of this worker uses (tests reach its clients)."""
        return self.runner.queues.gateway

    def handle(self, event: Any, context: Any) -> dict[str, Any]:
        """Open ``event`` and run the job in it."""
        try:
            job = self.signer.open(event, self.clock())
        except JobRejectedError as exc:
            logger.warning("job refused", extra={"reason": exc.reason, "error": str(exc)})
            count("JobsRejected")
            return {"ok": False, "refused": exc.reason}
        count("WorkerJobs")
        response_url = getattr(job, "response_url", None)
        try:
            if not self._first_delivery(job):
                return {"ok": True, "replay": True}
            self._route(job, context)
        except DlqRedriveError as exc:
            logger.warning("job refused", extra={"job": job.kind.value, "error": str(exc)})
            if response_url:
                self.slack.respond(response_url, blocks.error(str(exc)))
            return {"ok": False, "error": str(exc)}
        except Exception as exc:  # noqa: BLE001 - reported to the person and logged, not hidden
            # A bug or an unexpected failure: tell the person, keep the details in the logs.
            logger.exception("job failed", extra={"job": job.kind.value})
            count("AsyncStepFailed")
            if response_url:
                self.slack.respond(response_url, blocks.failure(exc))
            return {"ok": False, "error": type(exc).__name__}
        return {"ok": True}

    def record_failure(self, record: dict[str, Any]) -> dict[str, Any]:
        """Lambda's on-failure record of one of this worker's invocations (``handlers/failed``):
        its run is marked failed and its card says why (``bot.slack.failures``)."""
        return record_worker_failure(
            record,
            signer=self.signer,
            state=self.state,
            slack=self.slack,
            cards=self.runner.cards,
            clock=self.clock,
        )

    def _first_delivery(self, job: Job) -> bool:
        """False for a Slack request already handled (Slack and Lambda deliver at least once)."""
        key = getattr(job, "delivery", "")
        if key and not self.state.claim_delivery(key, self.clock()):
            logger.warning("replayed Slack request dropped", extra={"job": job.kind.value})
            count("ReplaysDropped")
            return False
        return True

    def _route(self, job: Job, context: Any) -> None:
        if isinstance(job, ReplyJob):
            self.slack.respond(job.response_url, blocks.error(job.text))
        elif isinstance(job, CommandJob):
            self.commands.command(job, context)
        elif isinstance(job, ReportButtonJob) and job.action in ("peek", "redrive"):
            self.commands.report_button(job, context)
        elif isinstance(job, ReportButtonJob | MessageButtonJob):
            if self.buttons is None:
                raise UsageError("that button is not set up for this worker")
            if isinstance(job, MessageButtonJob):
                self.buttons.message_button(job, context)
            else:
                self.buttons.report_button(job, context)
        elif isinstance(job, DecisionJob):
            self.decisions.handle(job, context)
        elif isinstance(job, ContinueJob):
            self.runner.resume(job, context)
        elif isinstance(job, EditOpenJob | EditSubmitJob):
            if self.edits is None:
                raise UsageError("Edit & resend is not set up for this worker")
            if isinstance(job, EditOpenJob):
                self.edits.open(job)
            else:
                self.edits.submit(job)
        elif isinstance(job, HomeJob) and self.home is not None:
            self.home.publish(job)
        elif isinstance(job, PeekViewJob) and self.peeks is not None:
            self.peeks.fill(job)
        elif isinstance(job, HomeJob | PeekViewJob):
            raise UsageError("the Home tab is not set up for this worker")
        elif isinstance(job, RequestOpenJob | RequestCountJob | RequestSubmitJob):
            self._request_modal(job, context)

    def _request_modal(
        self, job: RequestOpenJob | RequestCountJob | RequestSubmitJob, context: Any
    ) -> None:
        if self.request_modal is None:
            raise UsageError("the request form is not set up for this worker")
        if isinstance(job, RequestOpenJob):
            self.request_modal.open(job, context)
        elif isinstance(job, RequestCountJob):
            self.request_modal.count(job, context)
        else:
            self.request_modal.submit(job, context)
