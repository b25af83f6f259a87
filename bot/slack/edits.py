"""Edit & resend, the worker's part.

- ``EditOpenJob``: the endpoint opened a loading modal; for someone who may read bodies
  (``bot.slack.viewers``), the message is found (a scan that releases everything it received,
  as a peek) and the modal is replaced with its body in a text field, the form sealed in the
  view's ``private_metadata`` (``bot.slack.edit_modal``); otherwise with why not.
- ``EditSubmitJob``: a submission the endpoint checked. Checked again here (the form opened
  with every key, the body, the viewer), the message is read again for the diff, and an
  approval request for the edit is stored and its card posted where the peek was. Approving it
  runs the engine with an ``EditSpec`` (``bot.slack.runner``): the edited copy is sent to the
  source, and the original deleted only once SQS confirmed the copy.

What goes wrong is said in the modal (the person is looking at it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.body_edits import body_sha256, edit_diff, is_json
from bot.catalog import Dlq
from bot.edit_destination import EditDestination, edit_destination
from bot.errors import DlqRedriveError, UsageError
from bot.inspection import find_message
from bot.kind_words import not_resent_lines
from bot.selection import pin_digest
from bot.selection_options import SelectionArgs
from bot.slack import blocks
from bot.slack.edit_modal import (
    MAX_INPUT_CHARS,
    EditForm,
    body_problem,
    edit_summary,
    edit_view,
    notice_view,
    read_form,
    too_large_view,
)
from bot.slack.mrkdwn import escape, number, text_length
from bot.slack.observability import count, logger
from bot.slack.protocol import EditOpenJob, EditSubmitJob, JobSigner
from bot.slack.queues import Queues
from bot.slack.web_api import SlackApi, SlackError
from bot.slack.worker_ports import Viewers
from bot.sqs_model import ReceivedMessage
from bot.state import StateStore
from bot.state_model import ApprovalRequest, RequestAction, new_request_id


class Edits:
    """Fills the edit modal, and turns a submitted edit into an approval request."""

    def __init__(
        self,
        *,
        queues: Queues,
        state: StateStore,
        slack: SlackApi,
        viewers: Viewers,
        signer: JobSigner,
        approval_ttl: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self.queues = queues
        self.state = state
        self.slack = slack
        self.viewers = viewers
        self.signer = signer
        self.approval_ttl = approval_ttl
        self.clock = clock

    def open(self, job: EditOpenJob) -> None:
        """Replace the loading modal with the body to edit, or with why it cannot be."""
        try:
            view = self._form_view(job)
        except DlqRedriveError as exc:
            view = notice_view(f":x: {escape(str(exc))}")
        self._show(job.view_id, view, view_hash=job.view_hash)

    def submit(self, job: EditSubmitJob) -> None:
        """Store the approval request of a submitted edit and post its card; the modal says
        where, or why not."""
        try:
            channel = self._request(job)
        except DlqRedriveError as exc:
            logger.warning("edit refused", extra={"user": job.user, "error": str(exc)})
            self._show(job.view_id, notice_view(f":x: {escape(str(exc))}"))
            return
        self._show(
            job.view_id,
            notice_view(
                f":inbox_tray: The approval card with the change is posted in <#{channel}>."
            ),
        )

    def _show(self, view_id: str, view: dict[str, Any], *, view_hash: str | None = None) -> None:
        """views.update; a modal the person closed meanwhile (``not_found``) or changed
        (``hash_conflict``) is left alone: nobody is looking at it."""
        try:
            self.slack.update_view(view_id, view, view_hash=view_hash)
        except SlackError as exc:
            if exc.code not in ("not_found", "hash_conflict"):
                raise
            logger.info("edit form gone before it was updated", extra={"code": exc.code})

    # --- the modal --------------------------------------------------------------------------

    def _form_view(self, job: EditOpenJob) -> dict[str, Any]:
        # Bodies often hold personal data: checked before anything is received from the DLQ.
        why = self.viewers.refusal(job.user)
        if why is not None:
            count("PeeksRefused")
            return notice_view(f":lock: {escape(why)}")
        dlq = self.queues.catalog().get(job.queue)
        message = self._message(dlq, job.message_id)
        chars = text_length(message.body)
        if chars > MAX_INPUT_CHARS:
            return too_large_view(dlq.name, message.message_id, chars)
        destination = self._destination(dlq, message)
        form = EditForm(
            queue=dlq.name,
            message_id=message.message_id,
            source=destination.words,
            was_json=is_json(message.body),
            old_sha256=body_sha256(message.body),
            max_bytes=destination.max_body_bytes,
            user=job.user,
            channel=job.channel,
            view_id=job.view_id,
        )
        return edit_view(form, form.seal(self.signer, self.clock()), message.body)

    def _message(self, dlq: Dlq, message_id: str) -> ReceivedMessage:
        found = find_message(self.queues.gateway, dlq, message_id)
        if found.message is None:
            fifo = (
                " In a FIFO DLQ only the first message of each group can be read until the "
                "ones before it leave."
                if dlq.info.fifo
                else ""
            )
            raise UsageError(
                f"Message {message_id} was not found in {dlq.name} (looked at "
                f"{number(found.scanned)} message(s)): it was moved or deleted, or someone is "
                f"receiving it right now. Peek again.{fifo}"
            )
        return found.message

    def _destination(self, dlq: Dlq, message: ReceivedMessage) -> EditDestination:
        """Where the edited copy goes, as the engine routes it and the CLI's edit asks
        (``bot.edit_destination``): its source queue, or the target of the feeder that failed
        it; UsageError (said in the modal) when it can go nowhere."""
        try:
            return edit_destination(self.queues.gateway, dlq, message)
        except UsageError as exc:
            raise UsageError(
                f"{exc}. Nothing was sent (the CLI's `dlq-redrive redrive --to QUEUE` moves a "
                "message to a queue you name)."
            ) from exc

    # --- the request ------------------------------------------------------------------------

    def _request(self, job: EditSubmitJob) -> str:
        now = self.clock()
        # The endpoint checked all this; the worker runs only what it has checked itself.
        form = read_form(self.signer, job.form, now, user=job.user, view_id=job.view_id)
        problem = body_problem(form, job.body)
        if problem is not None:
            raise UsageError(problem)
        why = self.viewers.refusal(job.user)
        if why is not None:
            raise UsageError(why)
        dlq = self.queues.catalog().get(form.queue)
        message = self._message(dlq, form.message_id)
        old = message.body  # for the diff: the form holds no body
        if body_sha256(old) != form.old_sha256:
            raise UsageError(f"Message {form.message_id} is not the one edited: open it again.")
        # Where it goes now, as the approved run will route it: the same target the form named,
        # and a body that target takes as the engine shapes it (exactly, not the form's bound).
        destination = self._destination(dlq, message)
        if destination.words != form.source:
            raise UsageError(
                f"Message {form.message_id} would now go to {destination.words}, not "
                f"{form.source} as the form said: open it again."
            )
        problem = destination.problem(job.body)
        if problem is not None:
            raise UsageError(f"{problem}; nothing was asked.")
        counted_at = self.clock()
        request = ApprovalRequest(
            request_id=new_request_id(counted_at),
            dlq=dlq.name,
            selection=SelectionArgs().to_dict(),
            selection_text=edit_summary(form.message_id, form.source),
            matched=1,
            requester=job.user,
            channel=form.channel,
            requested_at=datetime.fromisoformat(job.received_at),
            approval_expires_at=counted_at + self.approval_ttl,
            would_move=1,
            pin_sent_before=counted_at,  # the message was read before now: it was sent before
            pin_digests=frozenset({pin_digest(form.message_id)}),
            action=RequestAction.EDIT.value,
            edit_message_id=form.message_id,
            edit_body=job.body,
            old_body_sha256=form.old_sha256,
            new_body_sha256=body_sha256(job.body),
            edit_diff=edit_diff(old, job.body, was_json=form.was_json),
            # A feeder's message: where its copy goes, on every card (as a redrive's says).
            deliveries="\n".join([f"{destination.words}: 1", *not_resent_lines(dlq.feeders)])
            if dlq.feeders
            else None,
            approved_to=destination.label if dlq.feeders else None,
        )
        self.state.put_request(request)
        self.state.record_event(
            request.request_id, "requested", job.user, counted_at, **request.audit_detail()
        )
        logger.info(
            "edit requested",
            extra={"correlation_id": request.request_id, "dlq": dlq.name},
        )
        count("EditsRequested")
        card = blocks.approval_card(request, self.queues.tz)
        ts = self.slack.post(form.channel, card)
        self.state.set_card(request.request_id, ts)
        return form.channel
