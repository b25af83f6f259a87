"""The Slack part of ``make demo``: the request → approve → redrive → outcome story, then a
peeked message's Discard (approved, archived to moto's S3 first), then the App Home tab (a
pending request on the approver's dashboard, and its Peek modal), played through the real Lambda
handlers against local stand-ins. Views (the Home tab, modals) come with a Block Kit Builder link.

``run_slack_demo(aws_env)`` expects moto running (``aws_env`` has AWS_ENDPOINT_URL etc.) and the
demo's queues with messages in their DLQs. It starts the local Slack Web API server and the local
Lambda endpoint (which runs the worker for real), creates the state table, sends requests signed
as Slack signs them into ``handlers.slack.handler``, and prints what Slack received.
``slack_session`` is that set-up, shared with infra/local/demo_surfaces.py.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import boto3

import handlers.slack
import handlers.worker
from bot.daily.blocks import view_builder_url
from bot.slack.app import BOLT_LOGGER
from bot.slack.ids import ActionId
from bot.slack.observability import logger
from bot.state import StateStore
from bot.state_table import StateTable, create_state_table
from infra.local.lambda_server import LambdaServer, LocalLambdaContext
from infra.local.slack_api import SlackApiServer, SlackCall
from infra.local.slack_events import (
    LOCAL_TEAM,
    action_body,
    command_body,
    event_callback_body,
    home_opened,
    http_event,
    view_action_body,
)

SECRET = "demo-signing-secret"
JOB_KEY = "demo-job-signing-key-of-32-bytes-or-more"  # signs endpoint→worker jobs
TABLE = "dlq-redrive-demo-state"
# Discard from Slack archives here first (ARCHIVE_BUCKET; moto's S3 stands in for the stack's).
ARCHIVE_BUCKET = "dlq-redrive-demo-slack-archive"
ALICE, BOB, CHANNEL = "U0ALICE", "U0BOB", "C0OPS"
NAMES = {ALICE: "@alice", BOB: "@bob", CHANNEL: "#ops"}
BOLD, DIM, RESET = ("\033[1m", "\033[2m", "\033[0m") if sys.stdout.isatty() else ("", "", "")


def _names(text: str) -> str:
    for ident, name in NAMES.items():
        text = text.replace(f"<@{ident}>", name).replace(f"<#{ident}>", name)
    return text


def _block_lines(block: dict[str, Any]) -> list[str]:
    kind = block.get("type")
    if kind == "section":
        lines = [block["text"]["text"]] if "text" in block else []
        for field in block.get("fields", []):
            label, _, value = field["text"].partition("\n")
            lines.append(f"{label.strip('*')}: {value}")
        if block.get("accessory", {}).get("type") == "button":
            lines.append(f"[ {block['accessory']['text']['text']} ]")
        return lines
    if kind == "context":
        return [f"({element['text']})" for element in block.get("elements", [])]
    if kind == "actions":
        return [" ".join(f"[ {e['text']['text']} ]" for e in block.get("elements", []))]
    if kind == "header":
        return [f"*{block['text']['text']}*"]
    if kind == "input":
        optional = " (optional)" if block.get("optional") else ""
        element = block["element"]
        lines = [f"{block['label']['text']}{optional}: {_element_text(element)}"]
        options = element.get("options") if element["type"] == "static_select" else None
        if options:  # what the menu offers when opened
            lines.append("(menu: " + " · ".join(o["text"]["text"] for o in options) + ")")
        return lines + ([f"({block['hint']['text']})"] if "hint" in block else [])
    return [f"<{kind}>"]


def _element_text(element: dict[str, Any]) -> str:
    """An input as the form shows it: what is chosen or filled in, else its placeholder."""
    kind = str(element.get("type"))
    chosen = element.get("initial_option") or {}
    if kind == "radio_buttons":
        return "  ".join(
            ("(•) " if option == chosen else "( ) ") + option["text"]["text"]
            for option in element.get("options", [])
        )
    shown = chosen.get("text", {}).get("text") or element.get("initial_value")
    shown = shown or element.get("initial_date")
    if element.get("initial_conversation"):
        shown = f"<#{element['initial_conversation']}>"
    elif element.get("default_to_current_conversation"):
        shown = "_the conversation it was opened from_"
    if element.get("initial_date_time"):
        shown = datetime.fromtimestamp(element["initial_date_time"], UTC).strftime("%F %H:%M UTC")
    # A placeholder is greyed out in Slack: in italics here, not to be read as a value.
    placeholder = element.get("placeholder", {}).get("text", "")
    menu = " ▾" if kind.endswith("select") or kind.endswith("picker") else ""
    return f"[ {shown or (placeholder and f'_{placeholder}_') or ' '}{menu} ]"


# Where a view is shown, by the method that showed it.
_VIEW_PLACES = {
    "views.publish": "Home tab of",
    "views.open": "a modal opened",
    "views.update": "the modal, updated",
}


# The calls that show something to people; the others only read (users.info, ...).
_SHOWN = frozenset({"response_url", "chat.postMessage", "chat.update", "chat.postEphemeral"})


def render(call: SlackCall) -> str:
    """One Slack call as a person would see it in the channel."""
    body = call.body
    if call.method not in _SHOWN | _VIEW_PLACES.keys():
        asked = ", ".join(f"{key}={NAMES.get(str(value), value)}" for key, value in body.items())
        return f"{DIM}    [Slack {call.method}({asked}): a read, nothing shown]{RESET}"
    if call.method == "response_url":
        where = f"only visible to you ({body.get('response_type', 'ephemeral')})"
    elif call.method == "chat.update":
        where = f"{NAMES.get(str(body.get('channel')), body.get('channel'))}, card updated"
    elif call.method in _VIEW_PLACES:
        whose = NAMES.get(str(body.get("user_id")), "") if "user_id" in body else ""
        where = f"{_VIEW_PLACES[call.method]} {whose}".strip()
    else:
        where = NAMES.get(str(body.get("channel")), str(body.get("channel")))
    head = f"{BOLD}[Slack {call.method} → {where}]{RESET}"
    if call.refused:  # Slack answered an error: nobody sees it
        return f"    {head} refused: {call.refused}"
    if call.method in _VIEW_PLACES:
        return "\n".join("    " + line for line in [head, *view_lines(body["view"])])
    blocks = body.get("blocks") or []
    content = [line for block in blocks for line in _block_lines(block)] or [body.get("text", "")]
    return "\n".join("    " + line for line in [head, *_shown(content)])


def view_lines(view: dict[str, Any]) -> list[str]:
    """A view (a Home tab, a modal: its title, blocks and buttons) as a person would see it,
    then a Block Kit Builder link that shows it rendered."""
    content = [line for block in view.get("blocks") or [] for line in _block_lines(block)]
    if view.get("type") == "modal":
        buttons = [view[key]["text"] for key in ("close", "submit") if key in view]
        title = f"*{view['title']['text']}*"
        content = [title, *content, " ".join(f"[ {button} ]" for button in buttons)]
    builder = f"See it rendered (Block Kit Builder): {view_builder_url(view)}"
    return [*_shown(content), builder]


def _shown(content: list[Any]) -> list[str]:
    """Lines of text with the demo's people and channel named, each cut to a terminal line."""
    lines: list[str] = []
    for line in content:
        for part in _names(str(line)).splitlines() or [""]:
            lines.append(textwrap.shorten(part, 160, placeholder=" …") if part.strip() else "")
    return lines


@contextmanager
def _process_env(values: dict[str, str]) -> Iterator[None]:
    """boto3 reads endpoints from the process environment, as it does inside Lambda."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


class Conversation:
    def __init__(self, slack: SlackApiServer, lambdas: LambdaServer) -> None:
        self.slack = slack
        self.lambdas = lambdas
        self.shown = 0
        self.responses = 0

    def send(self, body: str, **event: Any) -> dict[str, Any]:
        self.responses += 1
        return handlers.slack.handler(
            http_event(body, SECRET, **event),
            LocalLambdaContext("slack", 10.0, f"demo-{self.responses}"),
        )

    def command(self, user: str, text: str) -> None:
        print(f"\n{BOLD}{NAMES[user]} types in #ops:{RESET} /dlq-redrive {text}")
        url = self.slack.response_url(f"demo{self.responses}")
        # Slack sends a trigger_id with every command: the request form opens with it.
        trigger = self.slack.state.modals.new_trigger()
        body = command_body(text, user=user, channel=CHANNEL, response_url=url, trigger_id=trigger)
        response = self.send(body)
        ack = json.loads(response["body"]).get("text", "") if response.get("body") else ""
        print(f"{DIM}    HTTP {response['statusCode']} (the ack){RESET}")
        if ack:
            print("    " + _names(ack).replace("\n", "\n    "))
        self.show()

    def click(self, user: str, action: ActionId, value: str, message_ts: str) -> None:
        label = {ActionId.APPROVE: "Approve", ActionId.PEEK_DISCARD: "Discard"}.get(
            action, str(action)
        )
        print(f"\n{BOLD}{NAMES[user]} clicks [{label}] on the card{RESET}")
        url = self.slack.response_url(f"demo{self.responses}")
        body = action_body(
            action, value, user=user, channel=CHANNEL, message_ts=message_ts, response_url=url
        )
        response = self.send(body)
        print(f"{DIM}    HTTP {response['statusCode']} (the ack){RESET}")
        self.show()

    def open_home(self, user: str) -> None:
        """``user`` opens the app's Home tab: Slack sends app_home_opened (Events API, JSON)."""
        print(f"\n{BOLD}{NAMES[user]} opens the app's Home tab{RESET}")
        event = event_callback_body(home_opened(user), event_id=f"Ev0DEMO{self.responses:04d}")
        response = self.send(event, content_type="application/json")
        print(f"{DIM}    HTTP {response['statusCode']} (the ack){RESET}")
        self.show()

    def home_click(self, user: str, label: str, action: ActionId, queue: str) -> None:
        """``user`` clicks ``label`` for ``queue`` on their Home tab (a trigger Slack gives)."""
        print(f"\n{BOLD}{NAMES[user]} clicks [{label}] for {queue} on the Home tab{RESET}")
        body = view_action_body(
            action,
            json.dumps({"queue": queue}),
            user=user,
            view=self.slack.state.home.views[user],
            trigger_id=self.slack.state.modals.new_trigger(),
        )
        response = self.send(body)
        print(f"{DIM}    HTTP {response['statusCode']} (the ack){RESET}")
        self.show()

    def show(self) -> None:
        """Wait for the worker, then print every Slack call not shown yet."""
        self.lambdas.wait_idle(120)
        for invocation in self.lambdas.errors():
            print(f"    worker error: {invocation.error!r}")
        calls = list(self.slack.state.calls)
        for call in calls[self.shown :]:
            print(render(call))
        self.shown = len(calls)

    def discard_button(self) -> str:
        """The value of the first Discard button of the last peek shown."""
        peek = self.slack.state.calls_to("response_url")[-1].body
        return str(
            next(
                element["value"]
                for block in peek.get("blocks", [])
                if block["type"] == "actions"
                for element in block["elements"]
                if element["action_id"] == ActionId.PEEK_DISCARD
            )
        )

    def card(self) -> tuple[str, str]:
        """The last approval card's request id, and its ts (Slack's answer, kept in the state)."""
        post = self.slack.state.calls_to("chat.postMessage")[-1]
        actions = next(b for b in post.body["blocks"] if b["type"] == "actions")
        request_id = str(actions["elements"][0]["value"])
        request = StateStore(StateTable(TABLE)).get_request(request_id)
        return request_id, str(request.message_ts if request else "")


@contextmanager
def slack_session(aws_env: dict[str, str]) -> Iterator[Conversation]:
    """The app against local stand-ins: the local Slack Web API server (Alice and Bob members of
    the workspace, both approvers), the local Lambda endpoint running the worker, the state
    table and the archive bucket on moto; the endpoint and worker set up for them, and put back
    as they were after."""
    with SlackApiServer() as slack, LambdaServer({"worker": handlers.worker.handler}) as lambdas:
        for user in (ALICE, BOB):  # members of the workspace, as users.info answers
            slack.state.add_user(user)
        env = {
            **aws_env,
            "SLACK_BOT_TOKEN": "xoxb-demo",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_TEAM_ID": LOCAL_TEAM,
            "JOB_SIGNING_KEY": JOB_KEY,
            "SLACK_API_URL": slack.api_url,
            "APPROVERS": f"{ALICE},{BOB}",
            "STATE_TABLE": TABLE,
            "WORKER_FUNCTION_NAME": "worker",
            "AWS_ENDPOINT_URL_LAMBDA": lambdas.endpoint_url,
            "ARCHIVE_BUCKET": ARCHIVE_BUCKET,
            # The report's channel: where the request form opened from the Home tab posts cards.
            "REPORT_CHANNEL": CHANNEL,
        }
        # The structured logs and metrics (JSON on stdout in Lambda) would drown the story here.
        quiet = {"POWERTOOLS_METRICS_DISABLED": "true"}
        level = logger.log_level
        logger.setLevel("ERROR")
        logging.getLogger(BOLT_LOGGER).setLevel(logging.ERROR)
        with _process_env({**env, **quiet}):
            create_state_table(boto3.client("dynamodb"), TABLE)
            boto3.client("s3").create_bucket(Bucket=ARCHIVE_BUCKET)
            print(
                f"Local Slack Web API on {slack.api_url}, local Lambda endpoint on "
                f"{lambdas.endpoint_url} (runs the worker), state table {TABLE!r}. "
                f"APPROVERS={NAMES[ALICE]},{NAMES[BOB]}; ALLOW_SELF_APPROVAL=false."
            )
            handlers.slack.endpoint.reset(env)
            handlers.worker.worker.reset(env)
            try:
                yield Conversation(slack, lambdas)
            finally:
                handlers.slack.endpoint.reset()
                handlers.worker.worker.reset()
                logger.setLevel(level)


def run_slack_demo(aws_env: dict[str, str]) -> None:
    """Play the Slack story on the demo scene; print what Slack received."""
    print(f"\n{BOLD}== The Slack app: /dlq-redrive and the approval button =={RESET}")
    with slack_session(aws_env) as talk:
        talk.command(ALICE, "list")
        talk.command(ALICE, "redrive orders-dlq --limit 2")
        request_id, ts = talk.card()
        # The requester may not approve her own request (ALLOW_SELF_APPROVAL=false).
        talk.click(ALICE, ActionId.APPROVE, request_id, ts)
        talk.click(BOB, ActionId.APPROVE, request_id, ts)
        talk.command(ALICE, "status")
        # A label for a shipment since cancelled: peeked, discarded (archived to S3
        # first), approved. (orders-dlq keeps its last message for the 06:00 auto-redrive.)
        talk.command(ALICE, "peek shipping-dlq 1")
        talk.click(ALICE, ActionId.PEEK_DISCARD, talk.discard_button(), "1.1")
        request_id, ts = talk.card()
        talk.click(BOB, ActionId.APPROVE, request_id, ts)
        # The App Home tab: Alice asks again, Bob sees it on his dashboard and peeks.
        talk.command(ALICE, "redrive orders-dlq --limit 1")
        talk.open_home(BOB)
        talk.home_click(BOB, "Peek", ActionId.HOME_PEEK, "orders-dlq")
