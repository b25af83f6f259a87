"""The worker's answers to the issue 12 buttons: a peeked message's Discard, the daily report's
error-group buttons (Redrive these / Discard these: selection ``--error <digest>``) and expiry
buttons (Redrive: selection ``--until``; Export: written to S3 at once, no approval).

Redrives and discards go through the approval flow like any redrive (``bot.slack.redrive_requests``
counts, pins and posts the card). An export deletes nothing, so it needs no approval, but it
reads bodies: only those the viewers policy lets read them may export.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.errors import UsageError
from bot.redrive_model import Action, RedriveRequest
from bot.selection_options import SelectionArgs
from bot.slack import blocks
from bot.slack.observability import count, logger
from bot.slack.protocol import MessageButtonJob, ReportButtonJob
from bot.slack.queues import Queues, WorkerOptions, deadline_of
from bot.slack.redrive_requests import RedriveRequests
from bot.slack.web_api import Message, SlackApi
from bot.slack.worker_ports import Viewers
from bot.state import StateStore
from bot.state_model import RequestAction, new_request_id

if TYPE_CHECKING:  # a Protocol only: the worker's rules load no S3 client (test_layering)
    from bot.archive_model import ArchiveSink

NO_BUCKET_EXPORT = (
    "Exporting from Slack writes to S3, and no archive bucket is configured (ARCHIVE_BUCKET), "
    "so nothing was exported. Ask an admin to set it, or use the CLI's `dlq-redrive export`."
)


class ActionButtons:
    """Runs one job of the issue 12 buttons."""

    def __init__(
        self,
        *,
        queues: Queues,
        state: StateStore,
        slack: SlackApi,
        requests: RedriveRequests,
        viewers: Viewers,
        clock: Callable[[], datetime],
        options: WorkerOptions,
        archives: Callable[[str], ArchiveSink] | None = None,
    ) -> None:
        self.queues = queues
        self.state = state
        self.slack = slack
        self.requests = requests
        self.viewers = viewers
        self.clock = clock
        self.options = options
        self.archives = archives  # an archive at a location (bot.composition.archive_sink)

    def message_button(self, job: MessageButtonJob, context: Any) -> None:
        """A peeked message's Discard: a discard request pinned to that one message."""
        self.requests.request(
            queue=job.queue,
            args=SelectionArgs(),
            user=job.user,
            channel=job.channel,
            response_url=job.response_url,
            received_at=datetime.fromisoformat(job.received_at),
            context=context,
            action=RequestAction.DISCARD,
            message_id=job.message_id,
        )

    def report_button(self, job: ReportButtonJob, context: Any) -> None:
        """An error-group or expiry button of the daily report."""
        if job.action == "expiring_export":
            self._export(job, context)
            return
        if job.action in ("error_redrive", "error_discard"):
            args = SelectionArgs(date=job.date, time_field=job.time_field, error=job.error)
        elif job.action == "expiring_redrive":
            args = SelectionArgs(until=job.until)
        else:  # peek and redrive are the command handlers' (bot.slack.jobs routes them)
            raise UsageError("nothing to do for that button")
        self.requests.request(
            queue=job.queue,
            args=args,
            user=job.user,
            channel=job.channel,
            response_url=job.response_url,
            received_at=datetime.fromisoformat(job.received_at),
            context=context,
            action=RequestAction.DISCARD
            if job.action == "error_discard"
            else RequestAction.REDRIVE,
        )

    def _export(self, job: ReportButtonJob, context: Any) -> None:
        """Write what expires before the next report to S3 and answer with where and how many."""
        exported = self.export(
            queue=job.queue,
            args=SelectionArgs(until=job.until),
            user=job.user,
            received_at=datetime.fromisoformat(job.received_at),
            context=context,
        )
        self.slack.respond(job.response_url, exported)

    def export(
        self,
        *,
        queue: str,
        args: SelectionArgs,
        user: str,
        received_at: datetime,
        context: Any,
    ) -> Message:
        """Write what ``args`` select in ``queue`` to ``s3://bucket/exports/<id>/`` (the
        messages stay in the DLQ; no approval: nothing is deleted); the answer saying where and
        how many (the report's expiry button, the request modal's Export). UsageError when
        ``user`` may not read bodies (checked before anything is received) or no bucket is set."""
        why = self.viewers.refusal(user)
        if why is not None:  # checked before anything is received from the DLQ
            count("PeeksRefused")
            raise UsageError(f"Exporting reads message bodies. {why}")
        if not self.queues.settings.archive_bucket or self.archives is None:
            raise UsageError(NO_BUCKET_EXPORT)
        selection = args.build(
            tz=self.queues.tz, now=received_at, error_attribute=self.queues.settings.error_attribute
        )
        dlq = self.queues.catalog().get(queue)
        export_id = new_request_id(self.clock())
        location = f"s3://{self.queues.settings.archive_bucket}/exports/{export_id}/"
        archive = self.archives(location)
        try:
            report = self.queues.engine().run(
                dlq,
                RedriveRequest(
                    selection=selection,
                    max_held=self.options.max_held,
                    action=Action.EXPORT,
                    archive=archive,
                ),
                deadline=deadline_of(context),
            )
        finally:
            archive.close()
        self.state.record_event(
            export_id,
            "exported",
            user,
            self.clock(),
            action="export",
            dlq=dlq.name,
            what=report.selection,
            archive_location=location,
            exported=report.archived,
            stopped=report.stopped.value,
        )
        logger.info(
            "export done",
            extra={"correlation_id": export_id, "dlq": dlq.name, "exported": report.archived},
        )
        return blocks.export_result(report, location)
