"""A local stand-in for Slack's Web API, reached through ``SLACK_API_URL``.

It records every call (method, headers, parsed body) and answers like Slack does for the methods the
app uses. ``response_url`` posts (from ``respond()``) go to ``<base>/response/<token>`` and are
recorded too. Tests assert on ``calls``; the demo prints them.

Like real Slack it refuses payloads Slack would refuse, so every test that goes through it checks
Block Kit's limits: every block of a message (chat.postMessage, chat.update, chat.postEphemeral,
response_url) or view (views.*) is parsed with slack_sdk's models, which check the documented field
limits, plus the documented limits slack_sdk leaves out (see ``message_problem``). A refused call is
still recorded, with ``refused`` set, and listed in ``FakeSlack.refusals``.

It also keeps the messages it accepted, per channel, with their message metadata, and answers
``conversations.history`` and ``conversations.replies`` from them the way Slack documents (see
``ChannelHistory``): the daily report finds the parts an earlier attempt posted that way.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

# The one measure of block text (UTF-16 code units, as the refusals below were measured); this
# fake's limit sits above the app's own budget, so a message the app over-fills is still refused.
from bot.slack.mrkdwn import block_text_length
from infra.local.slack_events import LOCAL_TEAM

# "You can include up to 50 blocks in each message, and 100 blocks in modals or Home tabs."
# (Slack, Block Kit reference: blocks)
MAX_MESSAGE_BLOCKS = 50
# The total size that makes Slack answer ``msg_blocks_too_long`` is not documented. On record:
# slackapi/bolt-js#2509 was refused at 13,172-13,297 characters of block text, and a maintainer
# answered "12,000 text characters with a buffer for block containers" (quoted in #2867);
# slackapi/bolt-js#2867 was refused at 11,341 characters (every ``text`` string in the blocks,
# summed) and accepted at 9,597. So this fake refuses above 11,000 characters counted that way:
# below every refusal on record, so a message it accepts is one Slack has not been seen to refuse.
MAX_MESSAGE_BLOCK_TEXT = 11_000
# A text object: "The maximum length for this field is 3000 characters."
MAX_TEXT_OBJECT = 3_000
# "Maximum length for the text in each item is 2000 characters." (section block, ``fields``)
MAX_FIELD_TEXT = 2_000
# "limit: The maximum number of items to return. [...] Maximum of 999." "Default: 100"
# (conversations.history reference; conversations.replies takes the same argument)
MAX_HISTORY_LIMIT = 999
DEFAULT_HISTORY_LIMIT = 100
# Methods whose payload carries message blocks, and those that carry a view.
MESSAGE_METHODS = frozenset(
    {"chat.postMessage", "chat.update", "chat.postEphemeral", "chat.scheduleMessage"}
    | {"response_url"}
)
VIEW_METHODS = frozenset({"views.open", "views.push", "views.update", "views.publish"})


@dataclass
class SlackCall:
    method: str  # e.g. "chat.postMessage", or "response_url"
    body: dict[str, Any]
    headers: dict[str, str]
    path: str
    refused: str | None = None  # Slack's error code when the payload was refused
    problem: str | None = None  # what was wrong with it, for the test's failure message


def _block_problem(index: int, raw: Any) -> str | None:
    """Why Slack would refuse this one block, or None."""
    if not isinstance(raw, dict):
        return f"block {index} is not an object"
    try:
        block = Block.parse(raw)
        if block is None:  # slack_sdk knows every block type Slack accepts
            return f"block {index} has an unknown type {raw.get('type')!r}"
        block.validate_json()
        block.to_dict()  # validates every nested element (buttons, confirm dialogs, text objects)
    except (SlackObjectFormationError, TypeError, ValueError, KeyError) as exc:
        return f"block {index} ({raw.get('type')}): {exc}"
    # Limits Slack documents that slack_sdk does not check: a text object's text "minimum length
    # is 1" and "maximum length for this field is 3000 characters" (text object reference), also
    # in context elements and section fields; a section field's text at most 2,000 characters;
    # a header's text "must be plain_text" (header block reference).
    kind = raw.get("type")
    text = raw.get("text")
    if isinstance(text, dict) and not text.get("text"):
        return f"block {index} ({kind}): text must not be empty"
    if kind == "header" and isinstance(text, dict) and text.get("type") != "plain_text":
        return f"block {index} (header): its text must be plain_text"
    for field_ in raw.get("fields") or []:
        if isinstance(field_, dict) and not field_.get("text"):
            return f"block {index}: a field's text must not be empty"
        if isinstance(field_, dict) and len(str(field_.get("text", ""))) > MAX_FIELD_TEXT:
            return f"block {index}: a field's text exceeds {MAX_FIELD_TEXT} characters"
    if kind == "context":
        for element in raw.get("elements") or []:
            if not isinstance(element, dict) or element.get("type") not in ("mrkdwn", "plain_text"):
                continue
            if not element.get("text"):
                return f"block {index} (context): an element's text must not be empty"
            if len(str(element["text"])) > MAX_TEXT_OBJECT:
                return f"block {index} (context): an element's text exceeds {MAX_TEXT_OBJECT}"
    return None


def message_problem(body: dict[str, Any]) -> tuple[str, str] | None:
    """``(error, why)`` when Slack would refuse this message payload, else None.

    chat.postMessage documents ``invalid_blocks`` ("Blocks submitted with this message are not
    valid") and ``msg_blocks_too_long`` ("Blocks submitted with this message are too long").
    """
    blocks = body.get("blocks")
    if blocks is None:
        return None
    if not isinstance(blocks, list):
        return "invalid_blocks", "blocks is not a list"
    if len(blocks) > MAX_MESSAGE_BLOCKS:
        return "invalid_blocks", f"{len(blocks)} blocks, at most {MAX_MESSAGE_BLOCKS} allowed"
    for index, raw in enumerate(blocks):
        problem = _block_problem(index, raw)
        if problem:
            return "invalid_blocks", problem
    # block_id: "Each block_id must be unique for each message" (Block Kit reference: blocks).
    ids = [raw["block_id"] for raw in blocks if isinstance(raw, dict) and "block_id" in raw]
    if len(ids) != len(set(ids)):
        return "invalid_blocks", "block_id must be unique for each message"
    total = block_text_length(blocks)
    if total > MAX_MESSAGE_BLOCK_TEXT:
        return (
            "msg_blocks_too_long",
            f"{total:,} characters of block text, this fake allows {MAX_MESSAGE_BLOCK_TEXT:,}",
        )
    return None


def view_problem(view: Any) -> tuple[str, str] | None:
    """``(error, why)`` when Slack would refuse this view (views.open answers ``invalid_arguments``
    with the failing JSON pointer in ``response_metadata``), else None."""
    if not isinstance(view, dict):
        return "invalid_arguments", "view is not an object"
    raw_blocks = view.get("blocks") or []
    for index, raw in enumerate(raw_blocks):
        problem = _block_problem(index, raw)
        if problem:
            return "invalid_arguments", problem
    try:
        # "title ... Max length of 24 characters"; "blocks ... A maximum of 100 blocks";
        # "private_metadata ... Max length of 3000 characters" (Reference: views): View checks
        # these (and callback_id's 255), as Slack does.
        View(**view).to_dict()
    except (SlackObjectFormationError, TypeError, ValueError) as exc:
        return "invalid_arguments", str(exc)
    problem = _view_limits_problem(view)
    if problem:
        return "invalid_arguments", problem
    return None


# "Triggers expire in three seconds. Use them before you lose them." (Slack, handling user
# interaction: modals)
TRIGGER_TTL_S = 3.0


@dataclass
class ViewStore:
    """The modals Slack keeps open, and the triggers that open them (views.open, views.update).

    views.open: "Open a view for a user", by exchanging "a trigger_id received from another
    interaction"; its errors: "exchanged_trigger_id: The trigger_id was already exchanged in a
    previous call", "expired_trigger_id: The trigger_id is expired", "invalid_trigger_id: The
    trigger_id is invalid". Its answer is the view as stored, with its ``id`` and ``hash``.
    views.update: "view_id: A unique identifier of the view to be updated"; "hash: A string that
    represents view state to protect against possible race conditions"; "hash_conflict: Error
    returned when the provided hash doesn't match the current stored value"; "not_found: Error
    returned when the given view_id or external_id doesn't exist" (Reference: views.open,
    views.update). Triggers are known here only when ``new_trigger`` made them, as Slack knows
    only those it sent with an interaction.
    """

    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    triggers: dict[str, float | None] = field(default_factory=dict)  # id: issued (None: used)
    clock: Callable[[], float] = time.monotonic
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def new_trigger(self) -> str:
        """A trigger_id as Slack sends with an interaction ("132456.7890123.abcdef")."""
        number = next(self._ids)
        trigger = f"{number}.{int(time.time())}.{number:06x}"
        self.triggers[trigger] = self.clock()
        return trigger

    def open(self, body: dict[str, Any], team: str) -> dict[str, Any]:
        trigger = str(body.get("trigger_id", ""))
        if trigger not in self.triggers:
            return {"ok": False, "error": "invalid_trigger_id"}
        issued = self.triggers[trigger]
        if issued is None:
            return {"ok": False, "error": "exchanged_trigger_id"}
        self.triggers[trigger] = None  # single use, also when it came too late
        if self.clock() - issued > TRIGGER_TTL_S:
            return {"ok": False, "error": "expired_trigger_id"}
        view_id = f"V{next(self._ids):08d}"
        return {"ok": True, "view": self._store(view_id, dict(body["view"]), team)}

    def update(self, body: dict[str, Any], team: str) -> dict[str, Any]:
        view_id = str(body.get("view_id", ""))
        current = self.views.get(view_id)
        if current is None:
            return {"ok": False, "error": "not_found"}
        if body.get("hash") and body["hash"] != current["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        return {"ok": True, "view": self._store(view_id, dict(body["view"]), team)}

    def _store(self, view_id: str, view: dict[str, Any], team: str) -> dict[str, Any]:
        stored = _stored_view(view, view_id=view_id, team=team, serial=next(self._ids))
        self.views[view_id] = stored
        return dict(stored)


def _stored_view(
    view: dict[str, Any], *, view_id: str, team: str, serial: int, **more: Any
) -> dict[str, Any]:
    """``view`` as Slack keeps and answers it (views.open, views.update, views.publish): the
    optional fields defaulted, with its id, team, a fresh hash and empty state; ``more``
    adds what one method's answer has besides."""
    return {
        "private_metadata": "",
        "callback_id": "",
        "external_id": "",
        **view,
        "id": view_id,
        "team_id": team,
        "state": {"values": {}},
        "hash": f"{int(time.time())}.{serial}",
        "root_view_id": view_id,
        "app_id": "A1",
        **more,
        "bot_id": "BBOT",
    }


# views.publish: "view_too_large: Error returned if the provided view is greater than 250kb."
MAX_PUBLISHED_VIEW_BYTES = 250 * 1024


@dataclass
class HomeTabs:
    """The Home tab Slack keeps for each person (views.publish), the last one published.

    views.publish: "Create or update the view that comprises an app's Home tab for a specific
    user"; "user_id: id of the user you want publish a view to" and "view: A view payload"
    (both required); "hash: A string that represents view state to protect against possible race
    conditions". Its errors: "hash_conflict: Error returned when the provided hash doesn't match
    the current stored value", "not_enabled: Error returned if a home view is published but the
    Home tab isn't enabled for the app", "view_too_large: Error returned if the provided view is
    greater than 250kb", "invalid_arguments: The method was called with invalid arguments"
    (Reference: views.publish). A view of another type than ``home`` is one of those.
    """

    views: dict[str, dict[str, Any]] = field(default_factory=dict)  # user id: the view shown
    enabled: bool = True  # the manifest's features.app_home.home_tab_enabled
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def publish(self, body: dict[str, Any], team: str) -> dict[str, Any]:
        user, view = str(body.get("user_id") or ""), body.get("view")
        if not user or not isinstance(view, dict) or view.get("type") != "home":
            return {"ok": False, "error": "invalid_arguments"}
        if not self.enabled:
            return {"ok": False, "error": "not_enabled"}
        if len(json.dumps(view).encode()) > MAX_PUBLISHED_VIEW_BYTES:
            return {"ok": False, "error": "view_too_large"}
        current = self.views.get(user)
        if body.get("hash") and (current is None or body["hash"] != current["hash"]):
            return {"ok": False, "error": "hash_conflict"}
        number = next(self._ids)
        view_id = current["id"] if current is not None else f"VH{number:07d}"
        stored = _stored_view(
            view, view_id=view_id, team=team, serial=number, app_installed_team_id=team
        )
        self.views[user] = stored
        return {"ok": True, "view": dict(stored)}


# "max_length: The maximum length of input that the user can provide. If the user provides
# more, they will receive an error." Its bound, like min_length's ("Maximum value is 3000"), is
# 3,000 (Block Kit reference, plain-text input element); slack_sdk checks neither.
MAX_INPUT_LENGTH = 3_000


def _input_problem(index: int, raw: Any) -> str | None:
    """What Slack documents for an input block's plain_text_input that slack_sdk leaves out."""
    element = raw.get("element") if isinstance(raw, dict) else None
    if not isinstance(element, dict) or element.get("type") != "plain_text_input":
        return None
    most = element.get("max_length", MAX_INPUT_LENGTH)
    if not isinstance(most, int) or not 1 <= most <= MAX_INPUT_LENGTH:
        return f"block {index}: max_length must be 1 to {MAX_INPUT_LENGTH}"
    initial = element.get("initial_value")
    if isinstance(initial, str) and block_text_length({"text": initial}) > most:
        # A value over max_length could never be submitted ("they will receive an error").
        return f"block {index}: initial_value is longer than max_length ({most})"
    return None


def _view_limits_problem(view: dict[str, Any]) -> str | None:
    """The documented limits of a view that slack_sdk's View leaves out: "submit ... is required
    when an input block is within the blocks array" (Reference: views, modal)."""
    blocks = view.get("blocks") or []
    for index, raw in enumerate(blocks):
        problem = _input_problem(index, raw)
        if problem:
            return problem
    has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
    if has_input and not view.get("submit"):
        return "a modal with an input block needs submit"
    return None


def _flag(value: Any) -> bool:
    """A boolean argument as Slack reads it: JSON ``true``, or ``1``/``true`` in a query string."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true"}


def metadata_problem(raw: Any) -> tuple[dict[str, Any] | None, str | None]:
    """``(metadata, error)``: the message metadata of a chat.postMessage/chat.update payload.

    "metadata: JSON object with event_type and event_payload fields, presented as a URL-encoded
    string." (chat.postMessage reference) A JSON body may carry the object itself, as slack_sdk
    sends it; a form body carries the string. Anything else is ``invalid_metadata_format``.
    """
    if raw is None:
        return None, None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return None, "invalid_metadata_format"
    if (
        not isinstance(raw, dict)
        or not isinstance(raw.get("event_type"), str)
        or not isinstance(raw.get("event_payload"), dict)
    ):
        return None, "invalid_metadata_format"
    return {"event_type": raw["event_type"], "event_payload": raw["event_payload"]}, None


@dataclass
class ChannelHistory:
    """The messages the server accepted in each channel, and Slack's two ways of reading them.

    From Slack's reference for conversations.history: "This method returns a portion of message
    events from the specified conversation"; "oldest: Only messages after this Unix timestamp
    will be included in results"; "latest: Only messages before this Unix timestamp";
    "inclusive: Include messages with oldest or latest timestamps in results"; "The most recent
    messages in the time range are returned first"; "include_all_metadata: Return all metadata
    associated with this message". A channel's history holds its top-level messages, not the
    replies in threads: those come from conversations.replies, whose "ts" "must be the timestamp
    of an existing message" (else ``thread_not_found``), and which returns the parent first and
    then the replies, oldest first. Messages come back without ``metadata`` unless
    include_all_metadata is set (stricter than Slack may be for an app's own metadata, so code
    that forgets to ask fails here).
    """

    channels: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def post(self, channel: str, message: dict[str, Any]) -> None:
        self.channels.setdefault(channel, []).append(message)

    def find(self, channel: str, ts: str) -> dict[str, Any] | None:
        return next((m for m in self.channels.get(channel, []) if m["ts"] == ts), None)

    def history(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = str(body.get("channel", ""))
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        top = [m for m in self.channels[channel] if m.get("thread_ts") in (None, m["ts"])]
        chosen = sorted(self._in_range(top, body), key=lambda m: float(m["ts"]), reverse=True)
        return self._page(chosen, body)

    def replies(self, body: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(body.get("channel", "")), str(body.get("ts", ""))
        parent = self.find(channel, ts)
        if parent is None:
            return {"ok": False, "error": "thread_not_found"}
        thread = [m for m in self.channels[channel] if m.get("thread_ts") == ts and m is not parent]
        chosen = [parent, *sorted(self._in_range(thread, body), key=lambda m: float(m["ts"]))]
        return self._page(chosen, body)

    @staticmethod
    def _in_range(messages: list[dict[str, Any]], body: dict[str, Any]) -> list[dict[str, Any]]:
        oldest = float(body.get("oldest") or 0)
        latest = float(body["latest"]) if body.get("latest") else float("inf")
        inclusive = _flag(body.get("inclusive", False))

        def inside(ts: float) -> bool:
            if inclusive:
                return oldest <= ts <= latest
            return oldest < ts < latest

        return [m for m in messages if inside(float(m["ts"]))]

    @staticmethod
    def _page(messages: list[dict[str, Any]], body: dict[str, Any]) -> dict[str, Any]:
        limit = min(int(body.get("limit") or DEFAULT_HISTORY_LIMIT), MAX_HISTORY_LIMIT)
        start = int(body.get("cursor") or 0)
        page = messages[start : start + limit]
        with_metadata = _flag(body.get("include_all_metadata", False))
        shown = [{k: v for k, v in m.items() if with_metadata or k != "metadata"} for m in page]
        more = start + limit < len(messages)
        return {
            "ok": True,
            "messages": shown,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }


@dataclass
class FakeSlack:
    """The server's state: recorded calls, user groups, and optional per-method overrides."""

    calls: list[SlackCall] = field(default_factory=list)
    # The calls refused for their payload, in order, until a test takes them
    refusals: list[SlackCall] = field(default_factory=list)
    usergroups: dict[str, list[str]] = field(default_factory=dict)
    # users.info: the workspace's people by id (see ``add_user``); an id not here is not found
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    # method -> function(body) returning the JSON to answer (e.g. to simulate an error or a 429)
    overrides: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = field(default_factory=dict)
    # Refusals a test asked for (see ``refuse``): method, which call, the error Slack answers.
    planned_refusals: list[tuple[str, Callable[[dict[str, Any]], bool], str]] = field(
        default_factory=list
    )
    # The messages accepted, for conversations.history and conversations.replies
    history: ChannelHistory = field(default_factory=ChannelHistory)
    # The open modals and the triggers handed out, for views.open and views.update
    modals: ViewStore = field(default_factory=ViewStore)
    # Each person's Home tab as last published (views.publish)
    home: HomeTabs = field(default_factory=HomeTabs)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def record(self, call: SlackCall) -> None:
        with self._changed:
            self.calls.append(call)
            if call.refused:
                self.refusals.append(call)
            self._changed.notify_all()

    def take_refusals(self) -> list[SlackCall]:
        """The refused calls not taken yet (a test that provokes a refusal takes it; the fixtures
        fail a test that leaves one, since the app then sent what real Slack would refuse)."""
        with self._changed:
            taken, self.refusals[:] = list(self.refusals), []
            return taken

    def add_user(self, user_id: str, *, team: str = LOCAL_TEAM, **flags: bool) -> dict[str, Any]:
        """Make ``user_id`` known to users.info: a full member of ``team`` unless ``flags`` say
        otherwise (``is_restricted``, ``is_ultra_restricted``, ``is_stranger``, ``deleted``,
        ``is_bot``). Returns the user object, shaped like the example of Slack's user type:
        ``{"id": "W012A3CDE", "team_id": "T012AB3C4", "name": "spengler", "deleted": false,
        ..., "is_restricted": false, "is_ultra_restricted": false, "is_bot": false,
        "is_stranger": false, ..., "is_app_user": false}`` (api.slack.com/types/user)."""
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": team,
            "name": user_id.lower(),
            "deleted": False,
            "real_name": user_id,
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": False,
            "is_stranger": False,
            "is_app_user": False,
            **flags,
        }
        with self._lock:
            self.users[user_id] = user
        return user

    def calls_to(self, method: str) -> list[SlackCall]:
        return [c for c in list(self.calls) if c.method == method]

    def wait_for(
        self, predicate: Callable[[list[SlackCall]], bool], timeout: float = 10.0
    ) -> list[SlackCall]:
        """Block until ``predicate(calls)`` holds (asynchronous steps post later); return calls."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(list(self.calls)):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        "Slack calls never matched; got: "
                        + json.dumps(
                            [(c.method, c.refused, c.problem, c.body) for c in self.calls],
                            default=str,
                        )[:4000]
                    )
                self._changed.wait(remaining)
            return list(self.calls)

    def assert_no_refusals(self) -> None:
        """Fail when a payload was refused and no test took the refusal (fixtures call this)."""
        left = self.take_refusals()
        if left:
            raise AssertionError(
                "Slack would refuse what the app sent: "
                + "; ".join(f"{c.method}: {c.refused} ({c.problem})" for c in left)
            )

    def clear(self) -> None:
        with self._changed:
            self.calls.clear()
            self.refusals.clear()
            self.history.channels.clear()

    def refusal(self, method: str, body: dict[str, Any]) -> tuple[str, str] | None:
        """Slack's error for a payload it would refuse, or None (checked before any override)."""
        if method in MESSAGE_METHODS:
            return message_problem(body)
        if method in VIEW_METHODS:
            return view_problem(body.get("view"))
        return None

    def refuse(
        self, method: str, error: str, when: Callable[[dict[str, Any]], bool] = lambda _: True
    ) -> None:
        """Answer the next ``method`` call whose body ``when`` accepts with ``{"ok": false,
        "error": error}``, once (``when`` sees each call until one matches)."""
        with self._lock:
            self.planned_refusals.append((method, when, error))

    def _refusal(self, method: str, body: dict[str, Any]) -> str | None:
        with self._lock:
            for index, (refused, when, error) in enumerate(self.planned_refusals):
                if refused == method and when(body):
                    del self.planned_refusals[index]
                    return error
        return None

    def answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        error = self._refusal(method, body)
        if error is not None:
            return {"ok": False, "error": error}
        if method in self.overrides:
            return self.overrides[method](body)
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": LOCAL_TEAM}
        if method in {"chat.postMessage", "chat.update"}:
            return self._message(method, body)
        if method in {"views.open", "views.update"}:
            with self._lock:
                if method == "views.open":
                    return self.modals.open(body, LOCAL_TEAM)
                return self.modals.update(body, LOCAL_TEAM)
        if method == "views.publish":
            with self._lock:
                return self.home.publish(body, LOCAL_TEAM)
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._new_ts()}
        if method in {"conversations.history", "conversations.replies"}:
            with self._lock:
                if method == "conversations.history":
                    return self.history.history(body)
                return self.history.replies(body)
        if method == "usergroups.users.list":
            # "This method returns a list of all users within a User Group": {"ok": true,
            # "users": ["U060R4BJ4", "W123A4BC5"]}; "no_such_subteam: No usergroup found with
            # the given Id" (usergroups.users.list reference)
            group = str(body.get("usergroup", ""))
            if group not in self.usergroups:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": self.usergroups[group]}
        if method == "users.info":
            # "This method returns information about a member of a workspace." "Returns a user
            # object"; "user_not_found: Value passed for `user` was invalid." (users.info
            # reference). Slack knows people of a shared channel's other workspaces too: their
            # object carries their own team_id (and is_stranger when Slack says so).
            with self._lock:
                found = self.users.get(str(body.get("user", "")))
            if found is None:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": dict(found)}
        return {"ok": True}

    def _new_ts(self) -> str:
        """A message ts as Slack makes them: the posting time in seconds, unique per channel
        (here: a sequence number as the fraction, so ts values keep increasing)."""
        with self._lock:
            return f"{int(time.time())}.{next(self._ts):06d}"

    def _message(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        metadata, error = metadata_problem(body.get("metadata"))
        if error is not None:
            return {"ok": False, "error": error}
        channel = str(body.get("channel", ""))
        fields = {k: body[k] for k in ("text", "blocks") if k in body}
        if method == "chat.postMessage":
            ts = self._new_ts()
            message = {"type": "message", "ts": ts, "bot_id": "BBOT", **fields}
            if body.get("thread_ts"):
                message["thread_ts"] = str(body["thread_ts"])
            if metadata is not None:
                message["metadata"] = metadata
            with self._lock:
                self.history.post(channel, message)
            return {"ok": True, "channel": channel, "ts": ts, "message": message}
        ts = str(body.get("ts", ""))
        with self._lock:
            stored = self.history.find(channel, ts)
            if stored is not None:
                stored.update(fields)
                # chat.update's metadata replaces the message's; left out, the message keeps it.
                if metadata is not None:
                    stored["metadata"] = metadata
        # A ts this server never issued (a test's override answered the post) is accepted as
        # it is: this fake does not answer chat.update's message_not_found.
        return {"ok": True, "channel": channel, "ts": ts, "message": stored or body}


def _handler(state: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8") if length else ""
            content_type = self.headers.get("Content-Type", "")
            body: dict[str, Any]
            if "json" in content_type:
                body = json.loads(raw) if raw else {}
            else:
                body = {k: v[-1] for k, v in urllib.parse.parse_qs(raw).items()}
                for key in ("blocks", "attachments", "view"):
                    if isinstance(body.get(key), str):
                        body[key] = json.loads(body[key])
            path, _, query = self.path.partition("?")
            # GET methods (conversations.history, ...) take their arguments in the query string.
            body.update({k: v[-1] for k, v in urllib.parse.parse_qs(query).items()})
            webhook = path.startswith("/response/")
            method = "response_url" if webhook else path.rstrip("/").rsplit("/", 1)[-1]
            refusal = state.refusal(method, body)
            call = SlackCall(method, body, dict(self.headers.items()), path)
            reply_type = "application/json"
            if refusal is not None:
                call.refused, call.problem = refusal
                if webhook:
                    # response_url answers like an incoming webhook: "HTTP 400 Bad Request" with
                    # "simple strings ... in the response body" (Slack changelog, 2016-05-17).
                    answer: dict[str, Any] = {"_status": 400, "_text": refusal[0]}
                else:
                    answer = {"ok": False, "error": refusal[0]}
                    if refusal[0] == "invalid_arguments":
                        answer["response_metadata"] = {"messages": [f"[ERROR] {refusal[1]}"]}
            elif webhook:
                answer = {"ok": True}
            else:
                answer = state.answer(method, body)
            state.record(call)
            # An override may answer with an HTTP status other than 200 (e.g. 429 or 500).
            status = int(answer.pop("_status", 200))
            if "_text" in answer:
                payload = str(answer.pop("_text")).encode()
                reply_type = "text/plain"
            else:
                payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", reply_type)
            self.send_header("Content-Length", str(len(payload)))
            if status == 429:
                self.send_header("Retry-After", "1")
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST

    return Handler


class SlackApiServer:
    """Run ``FakeSlack`` on 127.0.0.1:<ephemeral port>. ``api_url`` is the SLACK_API_URL value."""

    def __init__(self) -> None:
        self.state = FakeSlack()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self.httpd.daemon_threads = True
        host, port = self.httpd.server_address[:2]
        self.base_url = f"http://{host!s}:{port}"
        self.api_url = f"{self.base_url}/api/"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def response_url(self, token: str = "r1") -> str:
        return f"{self.base_url}/response/{token}"

    def __enter__(self) -> SlackApiServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
