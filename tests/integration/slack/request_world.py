"""The request modal played through the real handlers (issue 14): the slash command or a Home tab
button with a trigger_id the local Slack server handed out, the modal as the server keeps it, its
inputs filled as Slack reports them in ``view.state.values``, clicks and submissions signed as
Slack signs them."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from bot.slack.ids import ActionId
from bot.slack.protocol import JobSigner, RequestSubmitJob, job_signing_key
from bot.slack.request_form import (
    REQUEST_FIELD_ACTION,
    REQUEST_FIELD_CHANNEL,
    REQUEST_FIELD_DAY,
    REQUEST_FIELD_ERROR,
    REQUEST_FIELD_LIMIT,
    REQUEST_FIELD_NOTE,
    REQUEST_FIELD_QUEUE,
    REQUEST_FIELD_SELECTION,
    REQUEST_FIELD_SINCE,
    REQUEST_FIELD_UNTIL,
    REQUEST_FIELD_WHERE,
    RequestForm,
)
from infra.local.slack_events import (
    LOCAL_TEAM,
    command_body,
    http_event,
    view_action_body,
    view_submission_body,
)
from tests.integration.slack.slack_harness import (
    CHANNEL,
    REQUESTER,
    SECRET,
    SlackHarness,
    seed_orders,
)

# How each input reports its value in a view's state (Block Kit, "view.state.values").
_SELECT = "static_select"
_FIELDS: dict[str, tuple[str, str, str]] = {
    # name: (block and action id, element type, the state's key for its value)
    "queue": (REQUEST_FIELD_QUEUE, _SELECT, "selected_option"),
    "action": (REQUEST_FIELD_ACTION, "radio_buttons", "selected_option"),
    "selection": (REQUEST_FIELD_SELECTION, "radio_buttons", "selected_option"),
    "day": (REQUEST_FIELD_DAY, "datepicker", "selected_date"),
    "since": (REQUEST_FIELD_SINCE, "datetimepicker", "selected_date_time"),
    "until": (REQUEST_FIELD_UNTIL, "datetimepicker", "selected_date_time"),
    "error": (REQUEST_FIELD_ERROR, _SELECT, "selected_option"),
    "where": (REQUEST_FIELD_WHERE, "plain_text_input", "value"),
    "limit": (REQUEST_FIELD_LIMIT, "number_input", "value"),
    "note": (REQUEST_FIELD_NOTE, "plain_text_input", "value"),
    "channel": (REQUEST_FIELD_CHANNEL, "conversations_select", "selected_conversation"),
}


def state(**given: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """``view.state.values`` with the inputs ``given`` filled (by the names of ``_FIELDS``)."""
    values: dict[str, dict[str, dict[str, Any]]] = {}
    for name, value in given.items():
        block, kind, key = _FIELDS[name]
        shown: Any = {"value": str(value)} if key == "selected_option" else value
        values[block] = {block: {"type": kind, key: shown}}
    return values


class RequestWorld:
    """The person asking, their modal, and Slack's record of it."""

    def __init__(self, harness: SlackHarness) -> None:
        self.h = harness

    def command(
        self, text: str = "", *, user: str, channel: str = CHANNEL, timestamp: int | None = None
    ) -> dict[str, Any]:
        """``/dlq-redrive <text>`` with a trigger the server handed out now; the ack."""
        body = command_body(
            text,
            user=user,
            channel=channel,
            response_url=self.h.response_url(),
            trigger_id=self.h.slack.state.modals.new_trigger(),
        )
        return self.h.send(http_event(body, SECRET, timestamp=timestamp))

    def open(self, *, user: str, text: str = "") -> dict[str, Any]:
        """Open the modal by the slash command and wait for the worker to fill it."""
        ack = self.command(text, user=user)
        assert ack["statusCode"] == 200, ack
        self.h.settle()
        return self.modal()

    def home_click(self, action: ActionId, queue: str, *, user: str) -> dict[str, Any]:
        """Click Redrive… or Export… of ``queue`` on the Home tab; the ack."""
        home = {"id": "VHOME", "type": "home", "hash": "h", "callback_id": "", "blocks": []}
        body = view_action_body(
            action.value,
            json.dumps({"queue": queue}),
            user=user,
            view=home,
            trigger_id=self.h.slack.state.modals.new_trigger(),
        )
        return self.h.send(http_event(body, SECRET))

    def modal(self) -> dict[str, Any]:
        """The one modal open, as Slack keeps it now."""
        views = list(self.h.slack.state.modals.views.values())
        assert len(views) == 1, views
        return dict(views[0])

    def change(
        self,
        view: dict[str, Any],
        values: dict[str, Any],
        *,
        user: str,
        action_id: str = ActionId.REQUEST_COUNT.value,
        timestamp: int | None = None,
        signature: str | None = None,
    ) -> dict[str, Any]:
        """A click in the modal (Count, or an input that dispatches) with ``values`` filled;
        the ack."""
        body = view_action_body(
            action_id, "count", user=user, view={**view, "state": {"values": values}}
        )
        return self.h.send(http_event(body, SECRET, timestamp=timestamp, signature=signature))

    def count(self, view: dict[str, Any], values: dict[str, Any], *, user: str) -> dict[str, Any]:
        """Count with ``values`` filled; the modal once the worker showed the count."""
        ack = self.change(view, values, user=user)
        assert ack["statusCode"] == 200, ack
        self.h.settle()
        return self.modal()

    def submit(
        self,
        view: dict[str, Any],
        values: dict[str, Any],
        *,
        user: str,
        timestamp: int | None = None,
        signature: str | None = None,
    ) -> dict[str, Any]:
        """Submit ``view`` with ``values``; the HTTP answer (status and parsed body)."""
        body = view_submission_body(view, values, user=user)
        response = self.h.send(http_event(body, SECRET, timestamp=timestamp, signature=signature))
        answer = json.loads(response["body"]) if response.get("body") else {}
        return {"status": response["statusCode"], **answer}


def filled(harness: SlackHarness, n: int) -> tuple[RequestWorld, dict[str, Any]]:
    """``n`` orders in orders-dlq and the request modal the requester opened (the world and the
    modal as the worker filled it)."""
    seed_orders(harness.sqs, n)
    world = RequestWorld(harness)
    return world, world.open(user=REQUESTER)


def worker_jobs(harness: SlackHarness) -> int:
    """How many jobs the endpoint has handed the worker so far."""
    return len(harness.lambdas.calls_to("worker"))


def sealed_submission(
    harness: SlackHarness, view: dict[str, Any], form: RequestForm, *, delivery: str
) -> dict[str, Any]:
    """The worker's event for the requester's submission of ``form`` in ``view``, sealed now
    with the worker's key, as the endpoint hands it over (for a test that plays the endpoint)."""
    now = datetime.now(UTC)
    job = RequestSubmitJob(
        view_id=view["id"],
        user=REQUESTER,
        team=LOCAL_TEAM,
        form=form.to_json(),
        received_at=now.isoformat(),
        delivery=delivery,
    )
    return JobSigner(job_signing_key(harness.env["JOB_SIGNING_KEY"])).seal(job, now)


def modal_text(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"])


def count_line(view: dict[str, Any]) -> str:
    """The modal's count line (the section beside the Count button)."""
    (line,) = [
        b["text"]["text"]
        for b in view["blocks"]
        if b.get("accessory", {}).get("action_id") == ActionId.REQUEST_COUNT
    ]
    return str(line)


def epoch(iso: str) -> int:
    """A datetimepicker's value: epoch seconds of ``iso`` (UTC)."""
    return int(time.mktime(time.strptime(iso, "%Y-%m-%dT%H:%M:%S")) - time.timezone)
