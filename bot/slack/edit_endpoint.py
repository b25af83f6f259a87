"""Edit & resend on the endpoint's ack path.

The click on a peeked message's Edit & resend opens the loading modal here, at once: views.open
needs the click's trigger_id, which "expire[s] in three seconds" (Slack, modals), so the worker,
invoked asynchronously, could not use it. That is the one Slack Web API call the ack path makes,
and the only reason the endpoint reads the bot token, on the first click (never at cold start).

A submitted modal is checked here before it is acked, so a refusal is shown on the field
(``response_action: errors``): the form must be one the worker sealed for this view and this
person, not too old, and the body must be one ``bot.slack.edit_modal.body_problem`` accepts.
Pure work only (the form is opened with the key the endpoint seals with: no secret is read).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.errors import DlqRedriveError, UsageError
from bot.slack.button_values import ButtonValue
from bot.slack.edit_modal import (
    BODY_BLOCK,
    EditForm,
    FormRefusedError,
    body_problem,
    loading_view,
    read_form,
    submitted_body,
)
from bot.slack.observability import logger
from bot.slack.protocol import JobSigner
from bot.slack.web_api import OpenView


class SlackViews(Protocol):
    def open_view(self, trigger_id: str, view: dict[str, Any]) -> OpenView: ...


class SubmissionRefusedError(UsageError):
    """A submitted edit refused on its field (``errors``: block id to the text shown)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.errors = {BODY_BLOCK: problem}


@dataclass(frozen=True)
class Submission:
    """A submitted edit that passed the checks: its form, sealed and opened, and the body."""

    sealed: str
    form: EditForm
    body: str


@dataclass
class EditEndpoint:
    """The endpoint's part of Edit & resend. ``views``: the Slack client for views.open, made
    on first use (``bot.composition`` resolves the bot token then)."""

    views: Callable[[], SlackViews]
    signer: JobSigner

    def open_loading(self, trigger_id: str, value: ButtonValue) -> OpenView:
        """Open the loading modal for the clicked message; UsageError saying so if Slack would
        not (the click is then answered through its response_url)."""
        message_id = value.message_id or ""
        try:
            return self.views().open_view(trigger_id, loading_view(value.queue, message_id))
        except DlqRedriveError as exc:  # Slack refused, or the token could not be read
            logger.warning("edit form not opened", extra={"error": str(exc)})
            raise UsageError(
                "Could not open the edit form (Slack gives three seconds to open it): "
                "click Edit & resend again."
            ) from exc

    def check(self, view: dict[str, Any], user: str, now: datetime) -> Submission:
        """The submission in ``view`` (a view_submission's view) by ``user``, checked;
        SubmissionRefusedError saying what is wrong, nothing sent otherwise."""
        sealed = view.get("private_metadata")
        try:
            form = read_form(
                self.signer,
                sealed if isinstance(sealed, str) else "",
                now,
                user=user,
                view_id=str(view.get("id", "")),
                current_key_only=True,
            )
        except FormRefusedError as exc:
            logger.warning("edit form refused", extra={"user": user, "error": str(exc)})
            raise SubmissionRefusedError(str(exc)) from exc
        body = submitted_body(view)
        problem = body_problem(form, body)
        if problem is not None:
            raise SubmissionRefusedError(problem)
        return Submission(str(sealed), form, body)
