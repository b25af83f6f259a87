"""Form bodies through the real Slack handler: a slash command is its form's fields, whatever
its text says; an interactivity payload only when the form has a ``payload`` field.

Bolt 1.30's own parser took any form body containing the substring "payload" for a button click
and, finding no ``payload`` field, parsed it as ``{}``: ``/dlq-redrive peek payload-dlq`` was
refused as coming "from another workspace" (it named no team).
"""

from __future__ import annotations

import json

from bot.slack.ids import ActionId
from infra.local.slack_events import LOCAL_TEAM, action_body, command_body, http_event
from tests.integration.slack.slack_harness import (
    CHANNEL,
    REQUESTER,
    SECRET,
    SlackHarness,
    ack_text,
    harness,
    seed_orders,
    slack_env,
)

__all__ = ["harness", "slack_env"]  # fixtures

REFUSED = "This app serves only the workspace it is installed in"


def _jobs(harness: SlackHarness) -> list[dict[str, object]]:
    """The jobs the endpoint handed to the worker (the sealed envelopes' bodies)."""
    return [dict(invocation.payload["body"]) for invocation in harness.lambdas.invocations]


def _nothing_happened(harness: SlackHarness) -> None:
    assert harness.lambdas.invocations == []
    assert harness.slack.state.calls == []


def test_a_slash_command_naming_a_queue_called_payload_is_served(harness: SlackHarness) -> None:
    # Given a DLQ whose name contains "payload"
    seed_orders(harness.sqs, 2, name="payload")

    # When its messages are peeked at with a signed slash command
    response = harness.command("peek payload-dlq")
    harness.settle()

    # Then the command reaches the worker with its text and our team, and the peek is answered
    assert response["statusCode"] == 200 and REFUSED not in ack_text(response)
    (job,) = _jobs(harness)
    assert job["text"] == "peek payload-dlq" and job["team"] == LOCAL_TEAM
    assert job["user"] == REQUESTER and job["channel"] == CHANNEL
    (answer,) = harness.responses()
    assert answer == "payload-dlq: 2 message(s)"


def test_form_syntax_typed_in_the_text_stays_in_the_text(harness: SlackHarness) -> None:
    # Given a requester who types form syntax naming another team after /dlq-redrive
    typed = "peek payload=x&team_id=T_OTHER"

    # When Slack sends it (urlencoded inside the text field), signed
    response = harness.command(typed)
    harness.settle()

    # Then it is one command of our team, with exactly that text: no field was added or replaced
    assert response["statusCode"] == 200 and REFUSED not in ack_text(response)
    (job,) = _jobs(harness)
    assert job["text"] == typed and job["team"] == LOCAL_TEAM
    # And the worker answers about the queue named by that text (there is none)
    (answer,) = harness.responses()
    assert "payload=x&amp;team_id=T_OTHER" in answer and REFUSED not in answer


def test_a_form_repeating_a_field_is_refused_whichever_copy_comes_first(
    harness: SlackHarness,
) -> None:
    # Given slash command bodies that carry team_id twice, ours last or ours first (Slack never
    # repeats a field; a parser keeping the last copy would take the first body for ours)
    body = command_body("list", user=REQUESTER, channel=CHANNEL, response_url="http://x")
    for forged in (f"team_id=T_OTHER&{body}", f"{body}&team_id=T_OTHER"):
        # When one arrives correctly signed
        response = harness.send(http_event(forged, SECRET))

        # Then it is refused as malformed, and nothing is dispatched or posted
        assert response["statusCode"] == 400
        assert "team_id" in response["body"] and "repeated" in response["body"]
    _nothing_happened(harness)


def test_a_click_whose_form_repeats_its_payload_is_refused(harness: SlackHarness) -> None:
    # Given a click body followed by a second payload that names another team
    click = action_body(
        str(ActionId.REPORT_PEEK),
        json.dumps({"queue": "orders-dlq"}),
        user=REQUESTER,
        channel=CHANNEL,
        message_ts="1.1",
        response_url="http://x",
    )
    other = action_body(
        str(ActionId.REPORT_PEEK),
        json.dumps({"queue": "orders-dlq"}),
        user=REQUESTER,
        channel=CHANNEL,
        message_ts="1.1",
        response_url="http://x",
        team="T_OTHER",
    )

    # When it arrives signed
    response = harness.send(http_event(f"{click}&{other}", SECRET))

    # Then it is refused as malformed
    assert response["statusCode"] == 400 and "payload" in response["body"]
    _nothing_happened(harness)


def test_a_form_whose_payload_is_not_a_json_object_gets_400_signed_or_not(
    harness: SlackHarness,
) -> None:
    # Given form bodies whose payload field is not a JSON object
    for body in ("payload=%7Bnot-json", "payload=%5B1%2C2%5D", "payload=null"):
        # When they arrive signed, and with a forged signature
        for event in (http_event(body, SECRET), http_event(body, SECRET, signature="v0=00")):
            response = harness.send(event)

            # Then the answer is a clear 400 (not an unhandled error), and nothing happened
            assert response["statusCode"] == 400, body
            assert "payload" in response["body"]
    _nothing_happened(harness)


def test_a_forged_signature_on_a_payload_text_still_gets_401(harness: SlackHarness) -> None:
    # Given a well-formed slash command mentioning "payload", signed with another secret
    body = command_body("peek payload-dlq", user=REQUESTER, channel=CHANNEL, response_url="x")

    # When it arrives
    response = harness.send(http_event(body, "not-the-signing-secret"))

    # Then Bolt's signature check refuses it as before
    assert response["statusCode"] == 401
    _nothing_happened(harness)
