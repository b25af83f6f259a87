"""The worker's answers to ``/dlq-redrive`` subcommands and the daily report's buttons: list,
peek (only for those the viewers policy lets read bodies), status, cancel, and redrive (a
request for approval, ``bot.slack.redrive_requests``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.errors import UsageError
from bot.inspection import peek, summarize
from bot.kind_words import unread_lines
from bot.selection_options import SelectionArgs
from bot.slack import blocks
from bot.slack.commands import (
    CancelCommand,
    ListCommand,
    PeekCommand,
    RedriveCommand,
    StatusCommand,
    parse_command,
)
from bot.slack.mrkdwn import code
from bot.slack.observability import count
from bot.slack.protocol import CommandJob, ReportButtonJob
from bot.slack.queues import Queues, WorkerOptions
from bot.slack.redrive_requests import RedriveRequests
from bot.slack.web_api import Message, SlackApi
from bot.slack.worker_ports import Approvers, Viewers
from bot.state import StateStore


class CommandHandlers:
    """Runs one command or report-button job."""

    def __init__(
        self,
        *,
        queues: Queues,
        state: StateStore,
        slack: SlackApi,
        requests: RedriveRequests,
        approvers: Approvers,
        viewers: Viewers,
        clock: Callable[[], datetime],
        options: WorkerOptions,
    ) -> None:
        self.queues = queues
        self.state = state
        self.slack = slack
        self.requests = requests
        self.approvers = approvers
        self.viewers = viewers
        self.clock = clock
        self.options = options

    def command(self, job: CommandJob, context: Any) -> None:
        command = parse_command(job.text)
        if isinstance(command, ListCommand):
            catalog = self.queues.catalog()  # one feeder scan: its DLQs and what it could not read
            summaries = summarize(catalog.watched())
            not_read = unread_lines(catalog.unread)
            self.slack.respond(job.response_url, blocks.dlq_list(summaries, not_read))
        elif isinstance(command, PeekCommand):
            self._peek(job.user, job.response_url, command.queue, command.count)
        elif isinstance(command, RedriveCommand):
            body_flag = command.selection.body_flag()
            if body_flag is not None:
                # A count by a body field says what the field holds (a birth date by bisection,
                # a value guess by guess): selecting by it is reading bodies.
                self._may_read_bodies(job.user, f"Selecting by a body field ({body_flag}) ")
            self.requests.request(
                queue=command.queue,
                args=command.selection,
                user=job.user,
                channel=job.channel,
                response_url=job.response_url,
                received_at=datetime.fromisoformat(job.received_at),
                context=context,
            )
        elif isinstance(command, StatusCommand):
            runs = self.state.recent_runs()
            self.slack.respond(job.response_url, blocks.status(runs, self.queues.tz))
        elif isinstance(command, CancelCommand):
            self._cancel(job.response_url, command.run_id, job.user)
        else:  # help is answered in the ack and never reaches the worker
            raise UsageError("nothing to do for that command")

    def report_button(self, job: ReportButtonJob, context: Any) -> None:
        if job.action == "peek":
            self._peek(job.user, job.response_url, job.queue, self.options.peek_default)
            return
        # The report's selection: its day, by the time its figures used (sent time or a field).
        self.requests.request(
            queue=job.queue,
            args=SelectionArgs(date=job.date, time_field=job.time_field),
            user=job.user,
            channel=job.channel,
            response_url=job.response_url,
            received_at=datetime.fromisoformat(job.received_at),
            context=context,
        )

    def _peek(self, user: str, response_url: str, queue: str, n: int) -> None:
        self.slack.respond(response_url, read_peek(self.queues, self.viewers, user, queue, n))

    def _may_read_bodies(self, user: str, doing: str = "") -> None:
        may_read_bodies(self.viewers, user, doing)

    def _cancel(self, response_url: str, run_id: str, user: str) -> None:
        run = self.state.get_run(run_id)
        if run is None:
            raise UsageError(f"no redrive with id {run_id!r}; `/dlq-redrive status` lists them")
        if user != run.requester and user not in self.approvers.members():
            raise UsageError("only the requester or an approver can cancel a redrive")
        self.state.request_cancel(run_id, user)
        self.state.record_event(run_id, "cancel_requested", user, self.clock())
        self.slack.respond(
            response_url,
            blocks.notice(
                f":stop_sign: Cancel requested for {code(run_id)}; it stops after the batch in "
                "flight and the card shows what moved."
            ),
        )


def read_peek(
    queues: Queues, viewers: Viewers, user: str, queue: str, n: int, *, buttons: bool = True
) -> Message:
    """Up to ``n`` messages of ``queue`` as ``blocks.peek`` shows them (``buttons``: with each
    message's Edit & resend and Discard), if the viewers policy lets ``user`` read bodies;
    UsageError saying why not otherwise. Shared by /dlq-redrive peek, the report's Peek button
    and the Home tab's peek modal."""
    # Bodies often hold personal data: checked before anything is received from the DLQ.
    may_read_bodies(viewers, user)
    dlq = queues.catalog().get(queue)
    messages = peek(queues.gateway, dlq, n, max_redrives=queues.settings.max_redrives)
    return blocks.peek(
        dlq.name,
        dlq.info.visible,
        messages,
        queues.tz,
        kind=dlq.kind_label(),
        sources=dlq.describe_sources(),
        buttons=buttons,
    )


def may_read_bodies(viewers: Viewers, user: str, doing: str = "") -> None:
    """UsageError (saying what was asked, then why) unless the viewers policy lets ``user``
    read message bodies."""
    why = viewers.refusal(user)
    if why is not None:
        count("PeeksRefused")
        raise UsageError(f"{doing}reads message bodies. {why}" if doing else why)
