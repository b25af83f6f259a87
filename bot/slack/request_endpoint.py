"""The request modal on the endpoint's ack path (``/dlq-redrive`` with no text,
``/dlq-redrive redrive`` with no queue, the Home tab's Redrive… and Export…).

Opening: the loading modal is opened here, at once, as Edit & resend's is
(``bot.slack.edit_endpoint``): views.open needs the interaction's trigger_id, which "expire[s] in
three seconds" (Slack, modals), so the worker, invoked asynchronously, could not use it. That is
the one Slack Web API call this path makes; the worker fills the form in
(``bot.slack.request_modal_jobs``).

A change in the modal (an input that dispatches, the Count button) and its submission are checked
here: the view must be a request modal whose ticket (``bot.slack.request_ticket``) was sealed for
that view and the person acting. A submission is then checked as the typed flags would be
(``bot.slack.request_form.check_form``) and the card's channel as a command's channel is, so a
refusal is shown on its field (``response_action: errors``) and nothing is handed over. Pure work
only. Loaded on the first such request, never at cold start (tests/deploy/test_handler_imports.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.errors import DlqRedriveError, UsageError
from bot.slack import blocks
from bot.slack.ids import ActionId
from bot.slack.observability import logger
from bot.slack.protocol import JobSigner
from bot.slack.request_form import (
    REQUEST_FIELD_CHANNEL,
    REQUEST_FIELD_QUEUE,
    TITLES,
    RequestForm,
    card_channel_problem,
    check_form,
    loading_view,
    read_form,
    response_errors,
    result_view,
)
from bot.slack.request_ticket import RequestTicket, TicketRefusedError
from bot.slack.web_api import OpenView


class SlackViews(Protocol):
    def open_view(self, trigger_id: str, view: dict[str, Any]) -> OpenView: ...

    def update_view(
        self, view_id: str, view: dict[str, Any], *, view_hash: str | None = None
    ) -> OpenView: ...


class RequestRefusedError(UsageError):
    """A submission refused on its fields (``errors``: block id to the text shown under it)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass
class RequestEndpoint:
    """The endpoint's part of the request modal. ``views``: the Slack client for views.open,
    made on first use (``bot.composition`` resolves the bot token then); ``tz`` and
    ``error_attribute``: TIMEZONE and ERROR_ATTRIBUTE, as a typed command's selection uses."""

    views: Callable[[], SlackViews]
    signer: JobSigner
    tz: ZoneInfo
    error_attribute: str | None

    def open_loading(self, trigger_id: str, action: str) -> OpenView:
        """Open the loading request modal for ``action`` (redrive or export); UsageError saying
        so if Slack would not."""
        try:
            return self.views().open_view(trigger_id, loading_view(TITLES[action]))
        except DlqRedriveError as exc:  # Slack refused, or the token could not be read
            logger.warning("request form not opened", extra={"error": str(exc)})
            raise UsageError(
                "Could not open the request form (Slack gives three seconds to open it): try again."
            ) from exc

    def refuse(self, trigger_id: str, problem: str) -> None:
        """Open a modal saying ``problem``: the only answer a Home tab click can get (it has
        no response_url)."""
        try:
            self.views().open_view(trigger_id, result_view(blocks.error(problem)))
        except DlqRedriveError as exc:
            logger.warning("refusal modal not opened", extra={"error": str(exc)})

    def show_problem(self, opened: OpenView, problem: str) -> None:
        """Replace the loading modal ``opened`` by ``problem`` (the work could not be started)."""
        try:
            self.views().update_view(
                opened.id, result_view(blocks.error(problem)), view_hash=opened.hash
            )
        except DlqRedriveError as exc:
            logger.warning("request modal not updated", extra={"error": str(exc)})

    def changed(self, view: dict[str, Any], user: str, now: datetime) -> RequestForm:
        """The form of a request modal ``user`` changed (an input that dispatches, or Count),
        the card's channel defaulting to the ticket's; TicketRefusedError when the view is not
        their request modal."""
        ticket = self._ticket(view, user, now)
        form = read_form(view.get("state") or {})
        return replace(form, channel=form.channel or ticket.channel or None)

    def check(
        self,
        view: dict[str, Any],
        user: str,
        now: datetime,
        channel_refusal: Callable[[str], str | None],
    ) -> RequestForm:
        """The submitted form of ``view`` by ``user``, checked as the typed flags are, with the
        channel the card goes to filled in (a redrive); RequestRefusedError with each problem
        on its field otherwise. ``channel_refusal``: why the app may not be used in a channel
        (the slash command's check), or None."""
        try:
            ticket = self._ticket(view, user, now)
        except TicketRefusedError as exc:
            raise RequestRefusedError(
                response_errors({REQUEST_FIELD_QUEUE: str(exc)}, view)
            ) from exc
        form = read_form(view.get("state") or {})
        _, problems = check_form(form, tz=self.tz, now=now, error_attribute=self.error_attribute)
        if form.action == "redrive":
            channel = form.channel or ticket.channel
            refusal = card_channel_problem(channel) or channel_refusal(channel)
            if refusal is not None:
                problems[REQUEST_FIELD_CHANNEL] = _plain_channels(refusal)
            form = replace(form, channel=channel or None)
        if problems:
            raise RequestRefusedError(response_errors(problems, view))
        return form

    def not_started(self, view: dict[str, Any], problem: str) -> RequestRefusedError:
        """The refusal of a checked submission the worker could not be handed (shown on the
        form, which stays open to submit again)."""
        return RequestRefusedError(response_errors({REQUEST_FIELD_QUEUE: problem}, view))

    def _ticket(self, view: dict[str, Any], user: str, now: datetime) -> RequestTicket:
        if view.get("callback_id") != ActionId.REQUEST_MODAL:
            raise TicketRefusedError("This is not a request form.")
        try:
            return RequestTicket.open(
                self.signer,
                view.get("private_metadata"),
                now,
                user=user,
                view_id=str(view.get("id", "")),
                current_key_only=True,
            )
        except TicketRefusedError as exc:
            logger.warning("request form refused", extra={"user": user, "error": str(exc)})
            raise


def _plain_channels(text: str) -> str:
    """A refusal worded for mrkdwn (``<#C123>`` links) as a field's error, which Slack shows as
    plain text: the ids bare."""
    return text.replace("<#", "#").replace(">", "")
