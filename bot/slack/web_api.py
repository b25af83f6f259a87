"""Slack's Web API as the app sees it: a message, the error of a refused or failed call, and the
``SlackApi`` Protocol. No slack_sdk here: the worker's rules and their unit tests take a
``SlackApi``; ``bot.slack.web.SlackGateway`` is the real one (slack_sdk's WebClient),
``tests/unit/fake_slack.py`` the in-memory one. Consumers may ask for less (``UserGroups``,
``SlackMessages``): every part of this Protocol satisfies them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from bot.errors import DlqRedriveError

Message = dict[str, Any]  # chat.postMessage's arguments but the channel: text, blocks, metadata


class SlackError(DlqRedriveError):
    """A Slack call failed (channel not found, bot not in channel, refused blocks, network, ...).

    ``code``: Slack's error code when Slack answered with one (``message_not_found``,
    ``internal_error``, ...); None when Slack could not be reached."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class MessagePage:
    """One page of a channel's messages or a thread's (``next_cursor``: None on the last)."""

    messages: list[Message]
    next_cursor: str | None = None


@dataclass(frozen=True)
class OpenView:
    """A modal Slack has open: its id, and the hash of its current state (views.update with
    that hash fails with ``hash_conflict`` if the view changed since)."""

    id: str
    hash: str


class SlackApi(Protocol):
    """The Slack calls the app makes. Each raises ``SlackError`` when Slack refuses or cannot be
    reached, naming what it was doing and Slack's error code."""

    def post(self, channel: str, message: Message) -> str:
        """chat.postMessage in ``channel``; the message's ``ts`` (to update it later)."""
        ...

    def update(self, channel: str, ts: str, message: Message) -> None:
        """chat.update of the message ``ts`` in ``channel``."""
        ...

    def respond(self, response_url: str, message: Message, *, ephemeral: bool = True) -> None:
        """An answer through a request's ``response_url``."""
        ...

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> OpenView:
        """views.open with an interaction's ``trigger_id`` (valid three seconds, once)."""
        ...

    def update_view(
        self, view_id: str, view: dict[str, Any], *, view_hash: str | None = None
    ) -> OpenView:
        """views.update of the modal ``view_id`` (``view_hash``: only if it is still that)."""
        ...

    def publish_view(self, user: str, view: dict[str, Any]) -> None:
        """views.publish: ``view`` (type ``home``) becomes ``user``'s Home tab of the app."""
        ...

    def user_info(self, user: str) -> dict[str, Any]:
        """users.info: the user object."""
        ...

    def usergroup_members(self, usergroup: str) -> list[str]:
        """usergroups.users.list: the ids of the group's members."""
        ...

    def history(
        self,
        channel: str,
        *,
        oldest: str,
        thread_ts: str | None = None,
        cursor: str | None = None,
        limit: int = 200,
    ) -> MessagePage:
        """conversations.history of ``channel`` (``thread_ts``: conversations.replies of that
        thread) from ``oldest`` on, each message with its metadata."""
        ...
