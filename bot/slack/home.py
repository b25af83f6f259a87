"""The worker's answers to the App Home tab: publish a person's dashboard, fill the peek modal.

- ``HomeJob`` (they opened the Home tab, or clicked Refresh): read what the tab shows
  (``bot.slack.home_data``: one batch of GetQueueAttributes, no message received), render it
  (``bot.slack.home_view``) and ``views.publish`` it for that person, within the same job. When
  the read fails as a whole, the tab says so (``home_error_view``) with its Refresh button.
  Anyone in the workspace can open the tab, while the daily report shows the error groups only
  in its channel: their labels are read from message bodies (a masked text, an error message),
  so the tab shows them only to those the viewers policy lets read bodies, as peek does; the
  pending requests' selections likewise (they may quote a label or a body field's value).
- ``PeekViewJob`` (Peek clicked on the Home tab; the endpoint opened the loading modal): peek as
  ``/dlq-redrive peek`` does, for those the viewers policy lets read bodies, and ``views.update``
  the modal with the messages (without their Discard / Edit & resend buttons:
  ``bot.slack.peek_modal``) or with why none are shown. The update carries the loading view's
  hash, so it never overwrites anything newer. If the person closed the modal meanwhile
  (``not_found``), the messages are not sent anywhere else: a peek is shown, not kept, and a DM
  would keep message bodies in Slack's history.

A Home tab click has no ``response_url``: every answer goes to the tab or the modal, here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.errors import DlqRedriveError
from bot.slack.command_handlers import read_peek
from bot.slack.home_model import HomeData
from bot.slack.home_view import home_error_view, home_view
from bot.slack.observability import count, logger
from bot.slack.peek_modal import peek_view, problem_view
from bot.slack.protocol import HomeJob, PeekViewJob
from bot.slack.queues import Queues
from bot.slack.web_api import SlackApi, SlackError
from bot.slack.worker_ports import Viewers

NO_ERROR_LABELS = (
    "Error groups are not shown: their labels are read from message bodies, which only "
    "approvers and VIEWERS may read."
)
NO_SELECTIONS = (
    "What the pending requests select is not shown: it may quote message bodies (an error "
    "group's label, a body field's value), which only approvers and VIEWERS may read."
)
HIDDEN_SELECTION = "selection not shown (see above)"

# views.update's answers when the modal is no longer the one the endpoint opened: closed
# ("not_found: ... the given view_id ... doesn't exist") or changed ("hash_conflict").
MODAL_GONE = frozenset({"not_found", "hash_conflict"})
# views.publish's answers refusing the view itself: "view_too_large: ... greater than 250kb",
# "invalid_arguments: The method was called with invalid arguments" (Reference: views.publish).
VIEW_REFUSED = frozenset({"view_too_large", "invalid_arguments"})


class HomeReading(Protocol):
    """What the Home tab shows to one person (``bot.slack.home_data.HomeReader``)."""

    def read(self, user: str) -> HomeData: ...


class HomePublisher:
    """Publishes the Home tab of the person a ``HomeJob`` names."""

    def __init__(
        self, reader: HomeReading, slack: SlackApi, tz: ZoneInfo, viewers: Viewers
    ) -> None:
        self.reader = reader
        self.slack = slack
        self.tz = tz
        self.viewers = viewers

    def publish(self, job: HomeJob) -> None:
        """Read, render and publish ``job.user``'s Home tab (SlackError if Slack refuses
        otherwise than by the view: the tab then says so)."""
        view = self._view(job)
        try:
            self.slack.publish_view(job.user, view)
        except SlackError as exc:
            if exc.code not in VIEW_REFUSED:
                raise
            # Our view was refused (a limit or a block we got wrong): the tab would stay blank
            # (a first-time viewer then has no Refresh button) or stale. Say so in it instead.
            logger.error(
                "home tab refused by Slack",
                extra={"error": exc.code, "blocks": len(view["blocks"]), "reason": job.reason},
            )
            count("HomeRefused")
            self.slack.publish_view(
                job.user,
                home_error_view(
                    f"Slack refused to show this tab ({exc.code}); the logs have the details. "
                    "Refresh to try again."
                ),
            )
            return
        count("HomePublished")

    def _view(self, job: HomeJob) -> dict[str, Any]:
        try:
            data = self.reader.read(job.user)
            if self.viewers.refusal(job.user) is not None:
                data = without_body_text(data)
            return home_view(data, tz=self.tz)
        except DlqRedriveError as exc:  # a domain error says what went wrong in its words
            logger.warning("home tab not read", extra={"reason": job.reason, "error": str(exc)})
            return home_error_view(str(exc))
        except Exception as exc:  # noqa: BLE001 - shown in the tab and logged, not hidden
            # The tab is the only place to say it (no response_url): the details go to the logs.
            logger.exception("home tab read failed", extra={"reason": job.reason})
            return home_error_view(
                f"Something went wrong while reading ({type(exc).__name__}); the logs have "
                "the details. Refresh to try again."
            )


def without_body_text(data: HomeData) -> HomeData:
    """``data`` without what is read from message bodies, saying why (pure): the error groups'
    labels, and the pending requests' selections (an ``--error`` label or a ``--where`` value
    typed by someone who may read them: the card shows it in its channel, the tab to anyone)."""
    data = without_error_labels(data)
    if not data.approvals:
        return data
    approvals = tuple(replace(a, selection_text=HIDDEN_SELECTION) for a in data.approvals)
    return replace(data, approvals=approvals, problems=(*data.problems, NO_SELECTIONS))


def without_error_labels(data: HomeData) -> HomeData:
    """``data`` without the error groups' labels, saying why when it had any (pure)."""
    if not any(dlq.scan is not None and dlq.scan.top_errors for dlq in data.dlqs):
        return data
    dlqs = tuple(
        replace(dlq, scan=replace(dlq.scan, top_errors=())) if dlq.scan is not None else dlq
        for dlq in data.dlqs
    )
    return replace(data, dlqs=dlqs, problems=(*data.problems, NO_ERROR_LABELS))


class PeekModal:
    """Fills the Home tab's peek modal the endpoint opened (``bot.slack.home_endpoint``)."""

    def __init__(
        self, *, queues: Queues, viewers: Viewers, slack: SlackApi, peek_count: int
    ) -> None:
        self.queues = queues
        self.viewers = viewers
        self.slack = slack
        self.peek_count = peek_count

    def fill(self, job: PeekViewJob) -> None:
        """Peek ``job.queue`` for ``job.user`` (if they may read bodies) into the modal."""
        failure: Exception | None = None
        try:
            shown = read_peek(
                self.queues, self.viewers, job.user, job.queue, self.peek_count, buttons=False
            )
            view = peek_view(job.queue, shown["blocks"])
        except DlqRedriveError as exc:  # not a viewer, not a watched DLQ, SQS refused, ...
            view = problem_view(str(exc))
        except Exception as exc:  # noqa: BLE001 - said in the modal, then raised to be logged
            # Nobody else would tell the person: the modal would say "Reading…" for ever.
            view = problem_view(
                f"Something went wrong while reading the messages ({type(exc).__name__}); "
                "the logs have the details."
            )
            failure = exc
        try:
            self.slack.update_view(job.view_id, view, view_hash=job.view_hash)
        except SlackError as exc:
            if exc.code not in MODAL_GONE:
                raise
            logger.info("peek modal gone before it was filled", extra={"error": exc.code})
        if failure is not None:
            raise failure  # a bug or an unexpected answer: logged and counted by the worker
