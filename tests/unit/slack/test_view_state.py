"""infra.local.slack_events.view_state / view_input_body: a modal's state as Slack reports it
(the demo and tests fill the request form with them), checked against the form's own reader."""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import replace

import pytest

from bot.slack.request_form import (
    REQUEST_FIELD_CHANNEL,
    REQUEST_FIELD_LIMIT,
    REQUEST_FIELD_NOTE,
    REQUEST_FIELD_QUEUE,
    REQUEST_FIELD_SELECTION,
    REQUEST_FIELD_WHERE,
    RequestForm,
    form_view,
    read_form,
)
from infra.local.slack_events import view_input_body, view_state


def _form(**given: object) -> RequestForm:
    return replace(RequestForm.blank(), **given)


def _view(form: RequestForm) -> dict[str, object]:
    return form_view(
        dlqs=[("orders-dlq", 3), ("invoices-dlq", 7)],
        form=form,
        error_groups=[],
        count_line=None,
        default_channel="C0OPS",
        private_metadata="ticket",
    )


def test_every_input_is_reported_changed_initial_or_empty() -> None:
    # Given the form showing a body-field selection with a limit already filled in
    view = _view(_form(selection="field", limit="5"))

    # When the person picks a DLQ and types a condition
    state = view_state(view, {REQUEST_FIELD_QUEUE: "invoices-dlq", REQUEST_FIELD_WHERE: "a=1"})

    # Then each input is in the state: the DLQ as the whole option, the condition typed, the
    # limit and the channel as the view set them, the empty note as null
    values = state["values"]
    picked = values[REQUEST_FIELD_QUEUE][REQUEST_FIELD_QUEUE]
    assert picked["type"] == "static_select"
    assert picked["selected_option"]["value"] == "invoices-dlq"
    assert picked["selected_option"]["text"]["text"] == "invoices-dlq (about 7)"
    assert values[REQUEST_FIELD_LIMIT][REQUEST_FIELD_LIMIT] == {
        "type": "number_input",
        "value": "5",
    }
    assert values[REQUEST_FIELD_NOTE][REQUEST_FIELD_NOTE]["value"] is None
    channel = values[REQUEST_FIELD_CHANNEL][REQUEST_FIELD_CHANNEL]
    assert channel["selected_conversation"] == "C0OPS"
    # And the form's reader reads back exactly that
    form = read_form(state)
    assert (form.queue, form.selection, form.where, form.limit, form.note, form.channel) == (
        "invoices-dlq",
        "field",
        ("a=1",),
        "5",
        None,
        "C0OPS",
    )


def test_an_input_the_view_does_not_show_cannot_be_filled_in() -> None:
    # Given the form of every message (no conditions field)
    view = _view(_form())

    # When a condition is typed anyway, Then it is refused
    with pytest.raises(ValueError, match="no input"):
        view_state(view, {REQUEST_FIELD_WHERE: "a=1"})


def test_a_dispatched_change_carries_the_element_and_its_new_value() -> None:
    # Given the form with the selection switched to a body field
    view = {**_view(_form()), "id": "V1"}
    view["state"] = view_state(view, {REQUEST_FIELD_SELECTION: "field"})

    # When Slack sends that change
    body = view_input_body(view, REQUEST_FIELD_SELECTION, user="U1")

    # Then its one action is the radio buttons' with the option chosen, in the view's container
    payload = json.loads(urllib.parse.parse_qs(body)["payload"][0])
    (action,) = payload["actions"]
    assert action["type"] == "radio_buttons"
    assert (action["action_id"], action["block_id"]) == (REQUEST_FIELD_SELECTION,) * 2
    assert action["selected_option"]["value"] == "field"
    assert payload["container"] == {"type": "view", "view_id": "V1"}
    assert payload["view"]["state"] == view["state"]
