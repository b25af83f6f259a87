"""Requests as Slack sends them, wrapped as API Gateway HTTP API (payload 2.0) events.

Signed exactly like Slack: ``v0=`` + HMAC-SHA256(signing secret, ``v0:{timestamp}:{body}``).
Used by the tests, the ack benchmark and the demo.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.parse
from typing import Any

from bot.slack.ids import SLASH_COMMAND


def sign(secret: str, timestamp: str, body: str) -> str:
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256)
    return "v0=" + digest.hexdigest()


def http_event(
    body: str,
    secret: str,
    *,
    timestamp: int | None = None,
    signature: str | None = None,
    path: str = "/slack/events",
    content_type: str = "application/x-www-form-urlencoded",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An HTTP API v2 event for ``body``, signed with ``secret`` (or carrying ``signature``).
    ``content_type``: ``application/json`` for the Events API; ``headers``: more of them (Slack's
    ``x-slack-retry-num`` on a retried event)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "version": "2.0",
        "routeKey": "POST /slack/events",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "content-type": content_type,
            "x-slack-request-timestamp": ts,
            "x-slack-signature": signature or sign(secret, ts, body),
            "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            **(headers or {}),
        },
        "requestContext": {
            "http": {"method": "POST", "path": path, "sourceIp": "127.0.0.1"},
            "requestId": "local",
        },
        "body": body,
        "isBase64Encoded": False,
    }


# The workspace the local stand-ins play (auth.test answers it; the test and demo environments
# set SLACK_TEAM_ID to it).
LOCAL_TEAM = "T_LOCAL"


def command_body(
    text: str,
    *,
    user: str,
    channel: str,
    response_url: str,
    team: str = LOCAL_TEAM,
    enterprise: str | None = None,
    trigger_id: str = "1.2.3",
) -> str:
    """The form body of ``/dlq-redrive <text>`` (``enterprise_id`` only for an Enterprise Grid
    workspace, as Slack sends it; ``trigger_id``: one the local Slack server handed out, to
    open a modal with)."""
    fields = {
        "token": "legacy-verification-token",
        "team_id": team,
        "team_domain": "example",
        "channel_id": channel,
        "channel_name": "ops",
        "user_id": user,
        "user_name": user.lower(),
        "command": SLASH_COMMAND,
        "text": text,
        "api_app_id": "A1",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
    if enterprise is not None:
        fields["enterprise_id"] = enterprise
    return urllib.parse.urlencode(fields)


def action_body(
    action_id: str,
    value: str,
    *,
    user: str,
    channel: str,
    message_ts: str,
    response_url: str,
    team: str = LOCAL_TEAM,
    user_team: str | None = None,
    enterprise: str | None = None,
    trigger_id: str = "1.2.3",
) -> str:
    """The form body of a button click (``block_actions``) on the message ``message_ts``.

    ``user_team``: the clicker's own workspace when it is not ``team`` (a Slack Connect user);
    ``enterprise``: the Enterprise Grid org (Slack sends ``"enterprise": null`` outside one)."""
    return _block_actions_body(
        _button(action_id, value),
        team=team,
        user=user,
        user_team=user_team,
        enterprise=enterprise,
        trigger_id=trigger_id,
        container={"type": "message", "message_ts": message_ts, "channel_id": channel},
        channel={"id": channel, "name": "ops"},
        message={"type": "message", "ts": message_ts, "text": "card"},
        response_url=response_url,
    )


def _button(action_id: str, value: str) -> dict[str, Any]:
    """A button's action in a ``block_actions`` payload, clicked now."""
    return {
        "type": "button",
        "action_id": action_id,
        "block_id": "b1",
        "value": value,
        "action_ts": f"{time.time():.6f}",
    }


def _block_actions_body(
    action: dict[str, Any],
    *,
    team: str,
    user: str,
    user_team: str | None,
    enterprise: str | None,
    trigger_id: str,
    container: dict[str, Any],
    **where: Any,
) -> str:
    """The form body of a ``block_actions`` payload of ``action`` in ``container``; ``where``:
    the fields of the place clicked (a message's channel, message and response_url; a view)."""
    payload = {
        "type": "block_actions",
        "team": {"id": team, "domain": "example"},
        "enterprise": None if enterprise is None else {"id": enterprise, "name": "Example"},
        "user": {"id": user, "username": user.lower(), "team_id": user_team or team},
        "api_app_id": "A1",
        "token": "legacy-verification-token",
        "container": container,
        "trigger_id": trigger_id,
        **where,
        "actions": [action],
    }
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


def view_submission_body(
    view: dict[str, Any],
    values: dict[str, dict[str, dict[str, Any]]],
    *,
    user: str,
    team: str = LOCAL_TEAM,
) -> str:
    """The form body of a modal's submission (``view_submission``): ``view`` as Slack keeps it
    (views.open's or views.update's answer) with the inputs' ``values`` in its state
    (``{block_id: {action_id: {"type": "plain_text_input", "value": ...}}}``)."""
    payload = {
        "type": "view_submission",
        "team": {"id": team, "domain": "example"},
        "user": {"id": user, "username": user.lower(), "team_id": team},
        "api_app_id": "A1",
        "token": "legacy-verification-token",
        "trigger_id": "9.8.7",
        "view": {**view, "state": {"values": values}},
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


def event_callback_body(
    event: dict[str, Any], *, event_id: str, team: str = LOCAL_TEAM, enterprise: str | None = None
) -> str:
    """The JSON body of an Events API delivery of ``event`` (the outer "event wrapper": "token",
    "team_id", "api_app_id", "event", "type": "event_callback", "event_id", "event_time",
    "authorizations"; Slack's Events API reference)."""
    wrapper = {
        "token": "legacy-verification-token",
        "team_id": team,
        "enterprise_id": enterprise,
        "api_app_id": "A1",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [
            {"enterprise_id": enterprise, "team_id": team, "user_id": "UBOT", "is_bot": True}
        ],
        "is_ext_shared_channel": False,
    }
    return json.dumps(wrapper)


def home_opened(
    user: str, *, tab: str = "home", view: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An ``app_home_opened`` event: ``user`` opened the app's ``tab`` ("home" or "messages");
    ``view``: the Home tab's current view, sent when one was published before (Slack's
    app_home_opened reference)."""
    event: dict[str, Any] = {
        "type": "app_home_opened",
        "user": user,
        "channel": f"D{user[-6:]}",
        "tab": tab,
        "event_ts": f"{time.time():.6f}",
    }
    if view is not None:
        event["view"] = view
    return event


def url_verification_body(challenge: str) -> str:
    """The JSON body Slack sends to check an events Request URL: "token", "challenge", "type":
    "url_verification" (Slack's url_verification reference). It names no team."""
    return json.dumps(
        {"token": "legacy-verification-token", "challenge": challenge, "type": "url_verification"}
    )


def view_action_body(
    action_id: str,
    value: str,
    *,
    user: str,
    view: dict[str, Any],
    team: str = LOCAL_TEAM,
    trigger_id: str = "1.2.3",
    action: dict[str, Any] | None = None,
) -> str:
    """The form body of a button click (``block_actions``) in a view (the Home tab, a modal):
    its container is the view, and it carries neither a channel nor a ``response_url``.
    ``action``: another element's action instead of the button's (see ``view_input_body``)."""
    return _block_actions_body(
        action or _button(action_id, value),
        team=team,
        user=user,
        user_team=None,
        enterprise=None,
        trigger_id=trigger_id,
        container={"type": "view", "view_id": view.get("id", "")},
        view=view,
    )


# How an input element reports its value in a view's state, and the field that sets it initially
# (Block Kit reference: each element's "initial_*"; the view state object: "values": {block_id:
# {action_id: {"type": ..., <value>: ...}}}, an input left empty reported with a null value).
_STATE_KEYS = {
    "static_select": ("selected_option", "initial_option"),
    "radio_buttons": ("selected_option", "initial_option"),
    "datepicker": ("selected_date", "initial_date"),
    "datetimepicker": ("selected_date_time", "initial_date_time"),
    "conversations_select": ("selected_conversation", "initial_conversation"),
    "plain_text_input": ("value", "initial_value"),
    "number_input": ("value", "initial_value"),
}


def view_state(view: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """The ``state`` Slack sends with ``view`` once the person changed the inputs ``changes``
    (block id: the value typed or picked; for a select or radio buttons the option's value):
    every input of the view, as changed, else as the view set it initially, else empty. A block
    id the view has no input for is a ValueError (nobody can fill in what is not shown)."""
    values: dict[str, Any] = {}
    for block in view.get("blocks") or []:
        if block.get("type") != "input":
            continue
        element, block_id = block["element"], block["block_id"]
        key, initial = _STATE_KEYS[element["type"]]
        value = changes.get(block_id, element.get(initial))
        if key == "selected_option" and isinstance(value, str):
            options = element.get("options") or [
                option for group in element.get("option_groups", []) for option in group["options"]
            ]
            value = next(option for option in options if option["value"] == value)
        values[block_id] = {element["action_id"]: {"type": element["type"], key: value}}
    missing = set(changes) - set(values)
    if missing:
        raise ValueError(f"the view has no input {sorted(missing)}")
    return {"values": values}


def view_input_body(
    view: dict[str, Any], block_id: str, *, user: str, team: str = LOCAL_TEAM
) -> str:
    """The form body of a change of the input ``block_id`` of ``view`` (its ``state`` holding
    the new value) when that input dispatches it (``dispatch_action``): a ``block_actions``
    whose action is the element with its new value."""
    ((action_id, reported),) = view["state"]["values"][block_id].items()
    action = {
        **reported,
        "action_id": action_id,
        "block_id": block_id,
        "action_ts": f"{time.time():.6f}",
    }
    return view_action_body(action_id, "", user=user, view=view, team=team, action=action)
