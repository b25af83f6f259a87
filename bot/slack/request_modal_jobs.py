"""The request modal, the worker's part (the endpoint's is ``bot.slack.request_endpoint``).

- ``RequestOpenJob``: the endpoint opened a loading modal; it is replaced (views.update, with the
  hash views.open answered) by the form (``bot.slack.request_form.form_view``): the watched DLQs
  with SQS's approximate depth, the ticket sealed in its ``private_metadata``. With a DLQ preset
  (the Home tab's buttons) it is counted at once.
- ``RequestCountJob``: an input changed or Count was clicked: the form is checked as the typed
  flags are and counted by the same dry run a request makes (``RedriveRequests.count``), then
  shown again with its count line. The update carries the hash the click saw, so a count that
  finishes after a newer update of the modal is dropped (``hash_conflict``), never shown over it;
  the count line names the selection it counted.
- ``RequestSubmitJob``: a submission the endpoint checked, checked again here. A redrive is asked
  for as a typed one is (``RedriveRequests.request``: count, pin, card in the chosen channel, the
  note on it); an export is written to S3 as the report's Export button does
  (``ActionButtons.export``: viewers only, no approval). The outcome is shown in the modal.

A modal has no response_url: every answer goes into it (views.update by view id). When the person
closed it meanwhile (``not_found``), the outcome of a submission is sent to their DM with the app
instead (chat.postMessage to their user id: the app's Messages tab), so it is never lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from bot.error_groups import label_digest
from bot.errors import DlqRedriveError, UsageError
from bot.selection_options import SelectionArgs
from bot.slack import blocks
from bot.slack.command_handlers import may_read_bodies
from bot.slack.home_model import ScanFacts
from bot.slack.mrkdwn import code, escape
from bot.slack.observability import logger
from bot.slack.protocol import JobSigner, RequestCountJob, RequestOpenJob, RequestSubmitJob
from bot.slack.queues import Queues
from bot.slack.redrive_requests import RedriveRequests
from bot.slack.request_form import (
    MAX_OPTION_VALUE,
    RequestForm,
    card_channel_problem,
    check_form,
    count_line,
    counting_line,
    form_view,
    problems_line,
    result_view,
)
from bot.slack.request_ticket import RequestTicket
from bot.slack.web_api import Message, OpenView, SlackApi, SlackError
from bot.slack.worker_ports import Viewers
from bot.state_model import RequestAction


class Exporter(Protocol):
    """``ActionButtons.export``: the one way the worker exports to S3."""

    def __call__(
        self,
        *,
        queue: str,
        args: SelectionArgs,
        user: str,
        received_at: datetime,
        context: Any,
    ) -> Message: ...


class ScanFactsReader(Protocol):
    """``bot.daily.scan_facts.ScanFactsStore``: what the last daily scan found in each DLQ."""

    def get_many(self, dlqs: list[str]) -> dict[str, ScanFacts]: ...


class RequestModal:
    """Fills, counts and submits the request modal."""

    def __init__(
        self,
        *,
        queues: Queues,
        requests: RedriveRequests,
        export: Exporter,
        slack: SlackApi,
        viewers: Viewers,
        signer: JobSigner,
        clock: Callable[[], datetime],
        allowed_channels: tuple[str, ...] = (),
        default_channel: str | None = None,
        scan_facts: ScanFactsReader | None = None,
    ) -> None:
        self.queues = queues
        self.requests = requests
        self.export = export
        self.slack = slack
        self.viewers = viewers
        self.signer = signer
        self.clock = clock
        self.allowed_channels = frozenset(allowed_channels)
        # Where the card goes when the modal was not opened from a channel (the Home tab):
        # the report's channel, if configured (None: the person picks one).
        self.default_channel = default_channel
        # The error groups the last daily scan found, offered in the form (None: only typed).
        self.scan_facts = scan_facts

    # --- the jobs ---------------------------------------------------------------------------

    def open(self, job: RequestOpenJob, context: Any) -> None:
        """Replace the loading modal with the form (counted at once when the DLQ is preset)."""
        form = RequestForm.blank(queue=job.queue or None, action=job.action)
        ticket = RequestTicket(job.user, job.view_id, job.channel)
        try:
            dlqs = watched_dlqs(self.queues)
        except Exception as exc:
            # Nobody else would tell the person: the modal would say "Reading…" for ever.
            failed = blocks.error(str(exc)) if isinstance(exc, DlqRedriveError) else None
            show(
                self.slack,
                job.view_id,
                job.user,
                result_view(failed or blocks.failure(exc), action=job.action),
                job.view_hash,
            )
            if failed is None:
                raise  # a bug: logged and counted by the worker's router
            return
        line = None if form.queue is None else counting_line(form.queue)
        opened = show(
            self.slack, job.view_id, job.user, self._form(form, ticket, dlqs, line), job.view_hash
        )
        if opened is not None and form.queue is not None:
            received_at = datetime.fromisoformat(job.received_at)
            line = self._count_line(form, job.user, received_at, context)
            show(
                self.slack, job.view_id, job.user, self._form(form, ticket, dlqs, line), opened.hash
            )

    def count(self, job: RequestCountJob, context: Any) -> None:
        """Show the form as it is now, with what it would take (or why it cannot be counted)."""
        form = RequestForm.from_json(job.form)
        ticket = RequestTicket(job.user, job.view_id, form.channel or "")
        received_at = datetime.fromisoformat(job.received_at)
        dlqs = watched_dlqs(self.queues)
        line = self._count_line(form, job.user, received_at, context)
        show(self.slack, job.view_id, job.user, self._form(form, ticket, dlqs, line), job.view_hash)

    def submit(self, job: RequestSubmitJob, context: Any) -> None:
        """Ask for the redrive (the card in the chosen channel) or export; the outcome in the
        modal, or in the person's DM when the modal is gone."""
        form = RequestForm.from_json(job.form)

        def reply(message: Message) -> None:
            show(
                self.slack,
                job.view_id,
                job.user,
                result_view(message, action=form.action),
                dm=message,
            )

        try:
            outcome = self._submit(form, job, context, reply)
        except DlqRedriveError as exc:
            logger.warning("request refused", extra={"user": job.user, "error": str(exc)})
            outcome = blocks.error(str(exc))
        except Exception as exc:
            # The modal says "Counting…" until told otherwise: tell, then let the router log it.
            reply(blocks.failure(exc))
            raise
        if outcome is not None:
            reply(outcome)

    # --- the work ---------------------------------------------------------------------------

    def _submit(
        self,
        form: RequestForm,
        job: RequestSubmitJob,
        context: Any,
        reply: Callable[[Message], None],
    ) -> Message | None:
        """The outcome to show, or None when ``reply`` was already given it."""
        received_at = datetime.fromisoformat(job.received_at)
        # The endpoint checked all this; the worker runs only what it has checked itself.
        args = checked_args(form, self.queues, self.viewers, job.user, received_at)
        queue = form.queue or ""
        if form.action == "export":
            return self.export(
                queue=queue, args=args, user=job.user, received_at=received_at, context=context
            )
        channel = form.channel or ""
        allowed = not self.allowed_channels or channel in self.allowed_channels
        if card_channel_problem(channel) or not allowed:  # a channel, where the app is enabled
            raise UsageError("The app does not post approval cards in that channel; nothing asked.")
        request = self.requests.request(
            queue=queue,
            args=args,
            user=job.user,
            channel=channel,
            response_url="",
            received_at=received_at,
            context=context,
            reply=reply,
            note=form.note,
        )
        if request is None:  # nothing to ask for: ``reply`` said so
            return None
        return blocks.notice(
            f":inbox_tray: The approval card of request {code(request.request_id)} "
            f"({code(request.dlq)}) is posted in <#{channel}>."
        )

    def _count_line(
        self, form: RequestForm, user: str, received_at: datetime, context: Any
    ) -> str | None:
        """The count line of ``form``: what its dry run found, or why it was not counted
        (None: no DLQ chosen yet)."""
        if form.queue is None:
            return None
        try:
            args = checked_args(form, self.queues, self.viewers, user, received_at)
            counted = self.requests.count(
                queue=form.queue,
                args=args,
                received_at=received_at,
                context=context,
                # An export takes every message that matches, wherever it would go: counted as
                # a discard is (no destinations), not as a redrive (which refuses a DLQ whose
                # messages cannot go back).
                action=RequestAction.DISCARD if form.action == "export" else RequestAction.REDRIVE,
            )
        except UsageError as exc:
            _, problems = check_form(
                form,
                tz=self.queues.tz,
                now=received_at,
                error_attribute=self.queues.settings.error_attribute,
            )
            return problems_line(problems) if problems else f":x: {escape(str(exc))}"
        return count_line(counted.report, form.action)

    def _form(
        self,
        form: RequestForm,
        ticket: RequestTicket,
        dlqs: list[tuple[str, int]],
        line: str | None,
    ) -> dict[str, Any]:
        return form_view(
            dlqs=dlqs,
            form=replace(form, channel=form.channel or ticket.channel or None),
            # The labels are read from message bodies: offered only to those who may read them,
            # as the Home tab shows them (bot.slack.home.without_error_labels).
            error_groups=offered_error_groups(self.scan_facts, form.queue)
            if self.viewers.refusal(ticket.user) is None
            else [],
            count_line=line,
            default_channel=ticket.channel or self.default_channel,
            private_metadata=ticket.seal(self.signer, self.clock()),
        )


def checked_args(
    form: RequestForm, queues: Queues, viewers: Viewers, user: str, received_at: datetime
) -> SelectionArgs:
    """The form's selection as the typed flags give it; UsageError naming each problem, or
    when selecting by a body field and ``user`` may not read bodies (as the command)."""
    args, problems = check_form(
        form, tz=queues.tz, now=received_at, error_attribute=queues.settings.error_attribute
    )
    if args is None or form.queue is None:
        raise UsageError("; ".join(problems.values()) or "Choose a DLQ.")
    body_flag = args.body_flag()
    if body_flag is not None:
        # A count by a body field says what the field holds (as the typed command).
        may_read_bodies(viewers, user, f"Selecting by a body field ({body_flag}) ")
    return args


def show(
    slack: SlackApi,
    view_id: str,
    user: str,
    view: dict[str, Any],
    view_hash: str | None = None,
    *,
    dm: Message | None = None,
) -> OpenView | None:
    """views.update of the modal; None when it is gone (``not_found``: ``dm`` is sent to the
    person's DM with the app instead) or was changed since ``view_hash`` (``hash_conflict``: a
    newer state is shown, this one is dropped). An outcome (``dm`` given) the modal could not
    show for any other reason (Slack's internal_error, an answer lost) is sent to the DM too:
    told twice rather than never (the modal would say "Counting…" for ever)."""
    try:
        return slack.update_view(view_id, view, view_hash=view_hash)
    except SlackError as exc:
        if exc.code not in ("not_found", "hash_conflict") and dm is None:
            raise
        logger.info("request modal not updated", extra={"code": exc.code})
        if exc.code != "hash_conflict" and dm is not None:
            slack.post(user, dm)
    return None


def watched_dlqs(queues: Queues) -> list[tuple[str, int]]:
    """The watched DLQs with SQS's approximate depth, deepest first (one catalog read: no
    message received)."""
    watched = queues.catalog().watched()
    return sorted(((d.name, d.info.visible) for d in watched), key=lambda d: (-d[1], d[0]))


def offered_error_groups(
    scan_facts: ScanFactsReader | None, queue: str | None
) -> list[tuple[str, str]]:
    """The DLQ's largest error groups as the last daily scan found them (as the report and the
    Home tab show them): (what --error takes, the label). The label itself when an option's
    value can hold it, else its #digest (as the report's buttons carry it). None read: none
    offered, a label can still be typed."""
    if queue is None or scan_facts is None:
        return []
    try:
        facts = scan_facts.get_many([queue]).get(queue)
    except DlqRedriveError as exc:  # the state table: the form works without them
        logger.warning("error groups not read", extra={"error": str(exc)})
        return []
    if facts is None:
        return []
    return [
        (g.label if len(g.label) <= MAX_OPTION_VALUE else label_digest(g.label), g.label)
        for g in facts.top_errors
    ]
