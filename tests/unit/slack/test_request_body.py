"""The body of a Slack request, parsed as Slack documents it (pure: no server)."""

from __future__ import annotations

import json
import urllib.parse

import pytest

from bot.slack.request_body import MalformedRequestError, parse_request_body

FORM = "application/x-www-form-urlencoded"


def _form(**fields: str) -> str:
    return urllib.parse.urlencode(fields)


@pytest.mark.parametrize(
    "text", ["payload", "peek payload-dlq", "payload=x&team_id=T_OTHER", "{payload}", ""]
)
def test_a_slash_command_is_its_forms_fields_whatever_its_text(text: str) -> None:
    body = _form(team_id="T_LOCAL", command="/dlq-redrive", text=text)

    assert parse_request_body(body, FORM) == {
        "team_id": "T_LOCAL",
        "command": "/dlq-redrive",
        "text": text,
    }


def test_an_interactivity_payload_is_the_json_of_its_payload_field() -> None:
    payload = {"type": "block_actions", "team": {"id": "T_LOCAL"}, "actions": []}

    assert parse_request_body(_form(payload=json.dumps(payload)), FORM) == payload


def test_a_json_body_is_its_object() -> None:
    event = {"type": "event_callback", "team_id": "T_LOCAL"}

    assert parse_request_body(json.dumps(event), "application/json") == event
    assert parse_request_body("", FORM) == {}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("team_id=T_OTHER&team_id=T_LOCAL&text=list", "team_id"),
        ("team_id=T_LOCAL&text=list&team_id=T_OTHER", "team_id"),
        ("payload=%7B%7D&payload=%7B%7D", "payload"),
    ],
)
def test_a_repeated_field_is_refused(body: str, field: str) -> None:
    with pytest.raises(MalformedRequestError, match=f"'{field}' is repeated"):
        parse_request_body(body, FORM)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("payload=%7Bnot-json", FORM),
        ("payload=%5B1%5D", FORM),
        ("payload=null", FORM),
        ("[1, 2]", "application/json"),
        ("{not json", FORM),
    ],
)
def test_a_body_that_is_not_a_json_object_where_one_is_due_is_refused(
    body: str, content_type: str
) -> None:
    with pytest.raises(MalformedRequestError, match="not a JSON object"):
        parse_request_body(body, content_type)
