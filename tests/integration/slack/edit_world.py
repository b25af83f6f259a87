"""Edit & resend played through the real handlers: the peek's button clicked with a trigger_id
the local Slack server handed out, the modal as the server keeps it, its submission signed as
Slack signs it. Shared by tests/integration/slack/test_slack_edit*.py and
tests/hostile/test_slack_edit_forgery.py."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.slack.edit_modal import BODY_BLOCK
from bot.slack.ids import ActionId
from infra.local.scene import QueuePair
from infra.local.slack_events import action_body, http_event, view_submission_body
from tests.integration.slack.slack_harness import CHANNEL, SECRET, SlackHarness


@dataclass
class DlqMessage:
    message_id: str
    body: str
    attributes: dict[str, Any]
    receive_count: int


def dlq_messages(sqs: Any, url: str) -> list[DlqMessage]:
    """Every message of the queue at ``url``, received once each and made visible again: what
    is in the queue, for the test's eyes (each look adds one to a message's receive count)."""
    found: dict[str, DlqMessage] = {}
    handles: list[str] = []
    while True:
        got = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=30,
            MessageAttributeNames=["All"],
            AttributeNames=["All"],
        ).get("Messages", [])
        if not got:
            break
        for m in got:
            handles.append(m["ReceiptHandle"])
            found[m["MessageId"]] = DlqMessage(
                m["MessageId"],
                m["Body"],
                m.get("MessageAttributes", {}),
                int(m["Attributes"]["ApproximateReceiveCount"]),
            )
    for start in range(0, len(handles), 10):
        sqs.change_message_visibility_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": 0}
                for i, h in enumerate(handles[start : start + 10])
            ],
        )
    return list(found.values())


class EditWorld:
    """One DLQ message and the person editing it."""

    def __init__(self, harness: SlackHarness, pair: QueuePair) -> None:
        self.h = harness
        self.pair = pair

    def click(
        self,
        message_id: str,
        *,
        user: str,
        trigger: str | None = None,
        value: str | None = None,
    ) -> dict[str, Any]:
        """Click Edit & resend on a peeked message (a trigger the server handed out now);
        ``value``: the button's, as a peek rendered it (default: the message's queue and id)."""
        value = value or json.dumps({"queue": self.pair.dlq_name, "message_id": message_id})
        body = action_body(
            ActionId.PEEK_EDIT.value,
            value,
            user=user,
            channel=CHANNEL,
            message_ts="1700000000.000100",
            response_url=self.h.response_url(),
            trigger_id=trigger or self.h.slack.state.modals.new_trigger(),
        )
        return self.h.send(http_event(body, SECRET))

    def modal(self) -> dict[str, Any]:
        """The one modal open, as Slack keeps it now."""
        views = list(self.h.slack.state.modals.views.values())
        assert len(views) == 1, views
        return dict(views[0])

    def open_form(self, message_id: str, *, user: str) -> dict[str, Any]:
        ack = self.click(message_id, user=user)
        assert ack["statusCode"] == 200, ack
        self.h.settle()
        return self.modal()

    def submit(self, view: dict[str, Any], text: str, *, user: str) -> dict[str, Any]:
        """Submit ``view`` with ``text`` in the body field; the endpoint's answer (the ack)."""
        values = {
            BODY_BLOCK: {ActionId.EDIT_BODY.value: {"type": "plain_text_input", "value": text}}
        }
        body = view_submission_body(view, values, user=user)
        response = self.h.send(http_event(body, SECRET))
        assert response["statusCode"] == 200, response
        return json.loads(response["body"]) if response.get("body") else {}


def field_error(answer: dict[str, Any]) -> str:
    assert answer.get("response_action") == "errors", answer
    return str(answer["errors"][BODY_BLOCK])


def modal_text(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"])
