"""The Home tab's Peek on the endpoint's ack path.

A click on Peek opens the loading peek modal here, at once: views.open needs the click's
trigger_id, which "expire[s] in three seconds" (Slack, modals), so the worker, invoked
asynchronously, could not use it. That is the one Slack call the ack path makes for it, as for
Edit & resend (``bot.slack.edit_endpoint``); the worker fills the modal in
(``bot.slack.home.PeekModal``). A Home tab click has no ``response_url``, so what cannot be done
is said in the modal too. Loaded on the first Peek click, never at cold start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.errors import DlqRedriveError, UsageError
from bot.slack.observability import logger
from bot.slack.peek_modal import loading_view, problem_view
from bot.slack.web_api import OpenView, SlackApi


@dataclass
class HomeEndpoint:
    """The endpoint's part of the Home tab's Peek. ``views``: the Slack client for views.open,
    made on first use (``bot.composition`` resolves the bot token then)."""

    views: Callable[[], SlackApi]

    def open_peek(self, trigger_id: str, queue: str) -> OpenView:
        """Open the loading peek modal of ``queue``; UsageError if Slack would not (the click
        then has nowhere to be answered: it is logged)."""
        try:
            return self.views().open_view(trigger_id, loading_view(queue))
        except DlqRedriveError as exc:  # Slack refused, or the token could not be read
            logger.warning("peek modal not opened", extra={"error": str(exc)})
            raise UsageError("could not open the peek modal") from exc

    def refuse(self, trigger_id: str, problem: str) -> None:
        """Open a modal saying ``problem`` (a click refused before any work: its only answer)."""
        try:
            self.views().open_view(trigger_id, problem_view(problem))
        except DlqRedriveError as exc:
            logger.warning("refusal modal not opened", extra={"error": str(exc)})

    def show_problem(self, opened: OpenView, problem: str) -> None:
        """Replace the loading modal ``opened`` by ``problem`` (the work could not be started)."""
        try:
            self.views().update_view(opened.id, problem_view(problem), view_hash=opened.hash)
        except DlqRedriveError as exc:
            logger.warning("peek modal not updated", extra={"error": str(exc)})
