"""A hand-written in-memory Slack with ``SlackApi``'s methods, for tests without a server.
tests/integration/slack/test_slack_contract.py runs the same tests against it and against
``bot.slack.web.SlackGateway`` on the local Slack server (infra/local/slack_api.py), so it cannot
drift from the real one.

It refuses what Slack refuses, checked by the very code the local server checks with
(``infra.local.slack_api.message_problem``: Block Kit's documented limits through slack_sdk's
models, at most 50 blocks, unique block ids, and the block text Slack has been seen to refuse as
``msg_blocks_too_long``, measured by ``bot.slack.mrkdwn.block_text_length``):

- chat.postMessage / chat.update answer ``{"ok": false, "error": "invalid_blocks"}`` (or
  ``msg_blocks_too_long``), which the gateway raises as ``SlackError``;
- a ``response_url`` answers "HTTP 400 Bad Request" with the error as plain text, "like an incoming
  webhook" (Slack changelog, 2016-05-17);
- users.info answers ``user_not_found`` for an id it does not know, usergroups.users.list
  ``no_such_subteam`` for a group it does not know.

``refuse(method, error)`` makes the next call of ``method`` fail with ``error``, as Slack's
``{"ok": false}`` does; ``unreachable = True`` fails every call as the gateway says a connection
that failed (``SlackError`` without a code) until it is set back.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from bot.slack.web_api import Message, MessagePage, OpenView, SlackError
from infra.local.slack_api import (
    ChannelHistory,
    HomeTabs,
    ViewStore,
    message_problem,
    metadata_problem,
    view_problem,
)
from infra.local.slack_events import LOCAL_TEAM


@dataclass
class Posted:
    """A message as Slack keeps it (updates replace its text and blocks)."""

    channel: str
    ts: str
    message: Message


@dataclass
class FakeSlackGateway:
    """``SlackApi`` in memory. ``calls`` records (method, body) of every call, refused ones too."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    messages: dict[tuple[str, str], Posted] = field(default_factory=dict)
    answers: list[tuple[str, Message, bool]] = field(
        default_factory=list
    )  # url, message, ephemeral
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    usergroups: dict[str, list[str]] = field(default_factory=dict)
    planned_refusals: list[tuple[str, str]] = field(default_factory=list)
    unreachable: bool = False
    # What conversations.history / .replies read: the messages as Slack keeps them, with the
    # local server's semantics (infra/local/slack_api.py: oldest, threads, metadata on request).
    channel_history: ChannelHistory = field(default_factory=ChannelHistory)
    # The open modals and the triggers handed out, with the local server's semantics
    # (infra/local/slack_api.py: a trigger once and within three seconds, the view's hash).
    modals: ViewStore = field(default_factory=ViewStore)
    # Each person's Home tab as last published, with the local server's semantics (views.publish)
    home: HomeTabs = field(default_factory=HomeTabs)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- set-up ---

    def add_user(self, user_id: str, *, team: str = LOCAL_TEAM, **flags: bool) -> None:
        """A full member of ``team`` unless ``flags`` say otherwise (``is_restricted``,
        ``is_ultra_restricted``, ``is_stranger``, ``deleted``, ``is_bot``)."""
        self.users[user_id] = {
            "id": user_id,
            "team_id": team,
            "name": user_id.lower(),
            "deleted": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": False,
            "is_stranger": False,
            **flags,
        }

    def refuse(self, method: str, error: str) -> None:
        """The next ``method`` call ("chat.update", ...) fails with Slack's ``error``."""
        self.planned_refusals.append((method, error))

    # --- SlackApi ---

    def post(self, channel: str, message: Message) -> str:
        self._check("chat.postMessage", {"channel": channel, **message}, f"post in {channel}")
        with self._lock:
            # As Slack makes them: the posting time in seconds, unique in the channel.
            ts = f"{int(time.time())}.{next(self._ts):06d}"
            self.messages[(channel, ts)] = Posted(channel, ts, dict(message))
            kept = {"type": "message", "ts": ts, "bot_id": "BBOT", **_shown(message)}
            if message.get("thread_ts"):
                kept["thread_ts"] = str(message["thread_ts"])
            self.channel_history.post(channel, kept)
        return ts

    def update(self, channel: str, ts: str, message: Message) -> None:
        body = {"channel": channel, "ts": ts, **message}
        self._check("chat.update", body, f"update the message {ts} in {channel}")
        with self._lock:
            posted = self.messages.get((channel, ts))
            if posted is not None:
                posted.message.update({k: v for k, v in message.items() if k != "metadata"})
            kept = self.channel_history.find(channel, ts)
            if kept is not None:
                kept.update(_shown(message))

    def respond(self, response_url: str, message: Message, *, ephemeral: bool = True) -> None:
        body = {"text": message.get("text"), "blocks": message.get("blocks")}
        with self._lock:
            self.calls.append(("response_url", {"url": response_url, **body}))
        problem = message_problem({k: v for k, v in body.items() if v is not None})
        if problem is not None:
            raise SlackError("Slack refused the answer (HTTP 400)")
        self.answers.append((response_url, dict(message), ephemeral))

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> OpenView:
        body = {"trigger_id": trigger_id, "view": view}
        self._check("views.open", body, "open the form")
        with self._lock:
            return self._view(self.modals.open(body, LOCAL_TEAM), "open the form")

    def update_view(
        self, view_id: str, view: dict[str, Any], *, view_hash: str | None = None
    ) -> OpenView:
        body = {"view_id": view_id, "view": view, "hash": view_hash}
        doing = f"update the form {view_id}"
        self._check("views.update", body, doing)
        with self._lock:
            return self._view(self.modals.update(body, LOCAL_TEAM), doing)

    def publish_view(self, user: str, view: dict[str, Any]) -> None:
        body = {"user_id": user, "view": view}
        doing = f"publish the Home tab of {user}"
        self._check("views.publish", body, doing)
        with self._lock:
            self._view(self.home.publish(body, LOCAL_TEAM), doing)

    @staticmethod
    def _view(answer: dict[str, Any], doing: str) -> OpenView:
        if not answer.get("ok"):
            error = str(answer.get("error"))
            raise SlackError(f"Slack refused to {doing}: {error}", code=error)
        return OpenView(answer["view"]["id"], answer["view"]["hash"])

    def user_info(self, user: str) -> dict[str, Any]:
        self._check("users.info", {"user": user}, f"look up user {user}")
        found = self.users.get(user)
        if found is None:
            raise SlackError(f"Slack refused to look up user {user}: user_not_found")
        return dict(found)

    def usergroup_members(self, usergroup: str) -> list[str]:
        doing = f"list the members of user group {usergroup}"
        self._check("usergroups.users.list", {"usergroup": usergroup}, doing)
        if usergroup not in self.usergroups:
            raise SlackError(f"Slack refused to {doing}: no_such_subteam")
        return list(self.usergroups[usergroup])

    def history(
        self,
        channel: str,
        *,
        oldest: str,
        thread_ts: str | None = None,
        cursor: str | None = None,
        limit: int = 200,
    ) -> MessagePage:
        method = "conversations.history" if thread_ts is None else "conversations.replies"
        body: dict[str, Any] = {
            "channel": channel,
            "oldest": oldest,
            "include_all_metadata": True,
            "limit": limit,
            "cursor": cursor,
            "ts": thread_ts,
        }
        self._check(method, body, f"read the messages of {channel}")
        with self._lock:
            if thread_ts is None:
                answer = self.channel_history.history(body)
            else:
                answer = self.channel_history.replies(body)
        if not answer.get("ok"):
            error = str(answer.get("error"))
            raise SlackError(
                f"Slack refused to read the messages of {channel}: {error}", code=error
            )
        cursor = answer["response_metadata"]["next_cursor"] or None
        return MessagePage([dict(m) for m in answer["messages"]], cursor)

    # --- the rules ---

    def _check(self, method: str, body: dict[str, Any], doing: str) -> None:
        """Record the call; SlackError as the gateway raises it for what Slack would refuse."""
        with self._lock:
            self.calls.append((method, body))
            planned = next((p for p in self.planned_refusals if p[0] == method), None)
            if planned is not None:
                self.planned_refusals.remove(planned)
        if self.unreachable:  # worded as bot.slack.web.SlackGateway words a failed connection
            raise SlackError(f"could not reach Slack to {doing} (ConnectionError)")
        if planned is not None:
            raise SlackError(f"Slack refused to {doing}: {planned[1]}", code=planned[1])
        if method in ("chat.postMessage", "chat.update"):
            problem = message_problem(body)
            if problem is None:
                problem = _metadata_problem(body.get("metadata"))
            if problem is not None:
                raise SlackError(f"Slack refused to {doing}: {problem[0]}", code=problem[0])
        if method in ("views.open", "views.update", "views.publish"):
            problem = view_problem(body.get("view"))
            if problem is not None:
                raise SlackError(f"Slack refused to {doing}: {problem[0]}", code=problem[0])

    def asked(self, method: str, key: str) -> list[Any]:
        """``key`` of every call of ``method``, in order (``asked("users.info", "user")``)."""
        return [body.get(key) for m, body in self.calls if m == method]

    def texts(self, method: str) -> list[str]:
        """The ``text`` of every call of ``method``, in order."""
        return [str(body.get("text", "")) for m, body in self.calls if m == method]


def _shown(message: Message) -> dict[str, Any]:
    """What of ``message`` Slack keeps: text, blocks and metadata (as the local server checks
    and keeps it)."""
    kept = {k: message[k] for k in ("text", "blocks") if k in message}
    metadata, _ = metadata_problem(message.get("metadata"))
    if metadata is not None:
        kept["metadata"] = metadata
    return kept


def _metadata_problem(raw: Any) -> tuple[str, str] | None:
    _, error = metadata_problem(raw)
    return None if error is None else (error, "metadata")
