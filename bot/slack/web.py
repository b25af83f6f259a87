"""The one module that calls Slack's Web API and ``response_url`` (a thin gateway).

Everything above it gets a ``SlackGateway`` built around an injected ``slack_sdk.WebClient`` whose
``base_url`` comes from ``SLACK_API_URL``, so tests and the demo talk to a local server.
"""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from bot.slack.web_api import Message, MessagePage, OpenView, SlackError


def build_web_client(
    token: str, api_url: str, *, rate_limit_retries: int = 2, timeout: int = 10
) -> WebClient:
    """A WebClient for ``api_url`` that waits out up to ``rate_limit_retries`` 429s in a row
    instead of failing at once."""
    client = WebClient(token=token, base_url=api_url, timeout=timeout)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=rate_limit_retries))
    return client


def _error(doing: str, exc: Exception) -> SlackError:
    if isinstance(exc, SlackApiError):
        code = exc.response.get("error")
        return SlackError(f"Slack refused to {doing}: {code or 'unknown error'}", code=code)
    return SlackError(f"could not reach Slack to {doing} ({type(exc).__name__})")


def _open_view(view: Any) -> OpenView:
    if not isinstance(view, dict) or not view.get("id"):
        raise SlackError("Slack answered without the view it opened")
    return OpenView(str(view["id"]), str(view.get("hash", "")))


class SlackGateway:
    """``SlackApi`` on slack_sdk: posting, updating and answering messages; looking up users and
    expanding user groups."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def post(self, channel: str, message: Message) -> str:
        """Post ``message`` in ``channel``; return its ``ts`` (to update it later)."""
        try:
            response = self.client.chat_postMessage(channel=channel, **message)
        except (SlackApiError, SlackRequestError, OSError) as exc:
            raise _error(f"post in {channel}", exc) from exc
        return str(response["ts"])

    def update(self, channel: str, ts: str, message: Message) -> None:
        try:
            self.client.chat_update(channel=channel, ts=ts, **message)
        except (SlackApiError, SlackRequestError, OSError) as exc:
            raise _error(f"update the message {ts} in {channel}", exc) from exc

    def respond(self, response_url: str, message: Message, *, ephemeral: bool = True) -> None:
        """Answer through the request's ``response_url`` (ephemeral unless told otherwise)."""
        try:
            response = WebhookClient(response_url, timeout=10).send(
                text=message.get("text"),
                blocks=message.get("blocks"),
                response_type="ephemeral" if ephemeral else "in_channel",
                replace_original=False,
            )
        except OSError as exc:
            raise _error("answer the command", exc) from exc
        if response.status_code >= 400:
            raise SlackError(f"Slack refused the answer (HTTP {response.status_code})")

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> OpenView:
        try:
            response = self.client.views_open(trigger_id=trigger_id, view=view)
        except (SlackApiError, SlackRequestError, OSError) as exc:
            raise _error("open the form", exc) from exc
        return _open_view(response.get("view"))

    def update_view(
        self, view_id: str, view: dict[str, Any], *, view_hash: str | None = None
    ) -> OpenView:
        try:
            response = self.client.views_update(view_id=view_id, view=view, hash=view_hash)
        except (SlackApiError, SlackRequestError, OSError) as exc:
            raise _error(f"update the form {view_id}", exc) from exc
        return _open_view(response.get("view"))

    def publish_view(self, user: str, view: dict[str, Any]) -> None:
        # No hash: the Home tab shows what was read last, whoever published before.
        try:
            self.client.views_publish(user_id=user, view=view)
        except (SlackApiError, SlackRequestError, OSError) as exc:
            raise _error(f"publish the Home tab of {user}", exc) from exc

    def user_info(self, user: str) -> dict[str, Any]:
        """users.info: the user object as Slack documents it (``team_id``, ``deleted``,
        ``is_bot``, ``is_restricted``, ``is_ultra_restricted``, ``is_stranger``, ...)."""
        try:
            response = self.client.users_info(user=user)
        except (SlackApiError, SlackRequestError, OSError) as exc:
            raise _error(f"look up user {user}", exc) from exc
        found = response.get("user")
        if not isinstance(found, dict):
            raise SlackError(f"Slack answered users.info for {user} without a user")
        return found

    def usergroup_members(self, usergroup: str) -> list[str]:
        try:
            response = self.client.usergroups_users_list(usergroup=usergroup)
        except (SlackApiError, SlackRequestError, OSError) as exc:
            raise _error(f"list the members of user group {usergroup}", exc) from exc
        users: list[Any] = response.get("users") or []
        return [str(user) for user in users]

    def history(
        self,
        channel: str,
        *,
        oldest: str,
        thread_ts: str | None = None,
        cursor: str | None = None,
        limit: int = 200,
    ) -> MessagePage:
        """conversations.history (or .replies of ``thread_ts``), metadata included: needs the
        ``channels:history`` scope (``groups:history`` in a private channel)."""
        query: dict[str, Any] = {
            "channel": channel,
            "oldest": oldest,
            "include_all_metadata": True,
            "limit": limit,
            "cursor": cursor,
        }
        try:
            if thread_ts is None:
                response = self.client.conversations_history(**query)
            else:
                response = self.client.conversations_replies(ts=thread_ts, **query)
        except (SlackApiError, SlackRequestError, OSError) as exc:
            raise _error(f"read the messages of {channel}", exc) from exc
        messages: list[Any] = response.get("messages") or []
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
        return MessagePage([dict(m) for m in messages], cursor)
