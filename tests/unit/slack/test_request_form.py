"""The request modal's form (bot/slack/request_form.py): read from a view's state as Slack sends
it, checked into the SelectionArgs the typed flags give (same messages selected), and each bad
input refused on its own field."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.error_groups import label_digest
from bot.slack.commands import RedriveCommand, parse_command
from bot.slack.request_form import (
    MAX_NOTE,
    REQUEST_FIELD_ACTION,
    REQUEST_FIELD_CHANNEL,
    REQUEST_FIELD_DAY,
    REQUEST_FIELD_ERROR_LABEL,
    REQUEST_FIELD_LIMIT,
    REQUEST_FIELD_NOTE,
    REQUEST_FIELD_QUEUE,
    REQUEST_FIELD_SELECTION,
    REQUEST_FIELD_SINCE,
    REQUEST_FIELD_TIME_FIELD,
    REQUEST_FIELD_UNTIL,
    REQUEST_FIELD_WHERE,
    REQUEST_FIELDS,
    RequestForm,
    check_form,
    read_form,
)

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # 12:00 in Seoul
ERROR_ATTRIBUTE = "errorType"
# 2026-12-01 08:00 and 18:30 in Seoul, as a datetimepicker sends them (epoch seconds)
SINCE_EPOCH = int(datetime(2026, 12, 1, 8, 0, tzinfo=SEOUL).timestamp())
UNTIL_EPOCH = int(datetime(2026, 12, 1, 18, 30, tzinfo=SEOUL).timestamp())


def _select(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": value, "text": {}}}


def _radio(value: str) -> dict[str, Any]:
    return {"type": "radio_buttons", "selected_option": {"value": value, "text": {}}}


def _text(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def state(**inputs: dict[str, Any]) -> dict[str, Any]:
    """A view's ``state`` as Slack sends it: {"values": {block_id: {action_id: element}}}; the
    keyword names the field (queue=..., day=...)."""
    by_name = {field.removeprefix("dlq_redrive.request_"): field for field in REQUEST_FIELDS}
    return {"values": {by_name[name]: {by_name[name]: value} for name, value in inputs.items()}}


def _check(form: RequestForm) -> tuple[Any, dict[str, str]]:
    return check_form(form, tz=SEOUL, now=NOW, error_attribute=ERROR_ATTRIBUTE)


# Each selection kind, as the modal's state carries it, and the flags that say the same.
EQUIVALENTS = [
    ({"selection": _radio("all")}, ""),
    ({"selection": _radio("all"), "limit": {"type": "number_input", "value": "25"}}, "--limit 25"),
    ({"selection": _radio("yesterday")}, "--yesterday"),
    (
        {"selection": _radio("yesterday"), "time_field": _text("occurredAt")},
        "--yesterday --time-field occurredAt",
    ),
    (
        {"selection": _radio("day"), "day": {"type": "datepicker", "selected_date": "2026-11-24"}},
        "--date 2026-11-24",
    ),
    (
        {
            "selection": _radio("range"),
            "since": {"type": "datetimepicker", "selected_date_time": SINCE_EPOCH},
            "until": {"type": "datetimepicker", "selected_date_time": UNTIL_EPOCH},
            "time_field": _text("meta.at"),
        },
        "--since 2026-12-01T08:00:00+09:00 --until 2026-12-01T18:30:00+09:00 --time-field meta.at",
    ),
    (
        {
            "selection": _radio("range"),
            "until": {"type": "datetimepicker", "selected_date_time": UNTIL_EPOCH},
        },
        "--until 2026-12-01T18:30:00+09:00",
    ),
    (
        {"selection": _radio("error"), "error": _select(label_digest("Timeout: <n> ms"))},
        f"--error {label_digest('Timeout: <n> ms')}",
    ),
    (
        {"selection": _radio("error"), "error_label": _text("Timeout:   <n> ms")},
        "--error 'Timeout:   <n> ms'",
    ),
    (
        {
            "selection": _radio("field"),
            "where": _text("meta.status=500\r\n\nattr.kind = a b\n"),
            "limit": {"type": "number_input", "value": "3"},
        },
        "--where meta.status=500 --where 'attr.kind = a b' --limit 3",
    ),
]


@pytest.mark.parametrize(("inputs", "flags"), EQUIVALENTS)
def test_the_modal_selects_what_the_typed_flags_select(inputs: dict[str, Any], flags: str) -> None:
    # Given a filled modal, and the slash command a person would type for the same selection
    form = read_form(state(queue=_select("orders-dlq"), **inputs))
    typed = parse_command(f"redrive orders-dlq {flags}")
    assert isinstance(typed, RedriveCommand)

    # When the modal's form is checked
    args, problems = _check(form)

    # Then it gives the flags' own arguments, which build the same selection
    assert problems == {}
    assert args == typed.selection
    assert args.build(tz=SEOUL, now=NOW, error_attribute=ERROR_ATTRIBUTE) == (
        typed.selection.build(tz=SEOUL, now=NOW, error_attribute=ERROR_ATTRIBUTE)
    )
    assert form.queue == typed.queue


def test_fields_of_another_selection_left_in_the_state_are_not_taken() -> None:
    # Given a person who picked a day and a time field, then switched to an error group
    form = read_form(
        state(
            queue=_select("orders-dlq"),
            selection=_radio("error"),
            day={"type": "datepicker", "selected_date": "2026-11-24"},
            time_field=_text("meta.at"),
            error=_select("#0123456789ab"),
        )
    )

    # Then only the error group selects (as --error alone would)
    args, problems = _check(form)
    assert problems == {}
    assert args == parse_command("redrive q --error #0123456789ab").selection  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("inputs", "block", "words"),
    [
        ({"queue": None}, REQUEST_FIELD_QUEUE, "Choose a DLQ"),
        (
            {"selection": _radio("day"), "day": {"selected_date": "2026-02-30"}},
            REQUEST_FIELD_DAY,
            "invalid date '2026-02-30'",
        ),
        ({"selection": _radio("day")}, REQUEST_FIELD_DAY, "Pick a day"),
        (
            {"selection": _radio("day"), "day": {"selected_date": "9999-12-31"}},
            REQUEST_FIELD_DAY,
            "outside the years 1 to 9999",
        ),
        ({"selection": _radio("range")}, REQUEST_FIELD_SINCE, "Pick a start, an end, or both"),
        (
            {
                "selection": _radio("range"),
                "since": {"selected_date_time": UNTIL_EPOCH},
                "until": {"selected_date_time": SINCE_EPOCH},
            },
            REQUEST_FIELD_UNTIL,
            "is not before --until",
        ),
        (
            {"selection": _radio("range"), "since": _text("yesterday morning")},
            REQUEST_FIELD_SINCE,
            "invalid time 'yesterday morning'",
        ),
        (
            {"selection": _radio("yesterday"), "time_field": _text("meta..at")},
            REQUEST_FIELD_TIME_FIELD,
            "is not a dotted field path",
        ),
        ({"selection": _radio("error")}, REQUEST_FIELD_ERROR_LABEL, "Pick an error group"),
        (
            {
                "selection": _radio("error"),
                "error": _select("#0123456789ab"),
                "error_label": _text("Timeout"),
            },
            REQUEST_FIELD_ERROR_LABEL,
            "not both",
        ),
        ({"selection": _radio("field")}, REQUEST_FIELD_WHERE, "at least one condition"),
        (
            {"selection": _radio("field"), "where": _text("meta.status=500\nstatus")},
            REQUEST_FIELD_WHERE,
            "--where 'status' is not PATH=VALUE",
        ),
        (
            {"selection": _radio("field"), "where": _text("attr.=x")},
            REQUEST_FIELD_WHERE,
            "names no attribute",
        ),
        ({"limit": _text("0")}, REQUEST_FIELD_LIMIT, "--limit must be at least 1, got 0"),
        ({"limit": _text("2.5")}, REQUEST_FIELD_LIMIT, "'2.5' is not a whole number"),
        ({"limit": _text("-3")}, REQUEST_FIELD_LIMIT, "at least 1"),
        ({"note": _text("n" * (MAX_NOTE + 1))}, REQUEST_FIELD_NOTE, f"At most {MAX_NOTE}"),
    ],
)
def test_each_bad_input_is_refused_on_its_own_field(
    inputs: dict[str, Any], block: str, words: str
) -> None:
    # Given a modal with one bad input (the DLQ chosen unless the input is the DLQ)
    given = {"queue": _select("orders-dlq"), **inputs}
    form = read_form(state(**{k: v for k, v in given.items() if v is not None}))

    # When it is checked
    args, problems = _check(form)

    # Then nothing is built, and the problem is on that field alone
    assert args is None
    assert list(problems) == [block]
    assert words in problems[block]


def test_several_bad_inputs_are_each_answered() -> None:
    form = read_form(
        state(
            selection=_radio("day"),
            day={"selected_date": "someday"},
            limit=_text("none"),
        )
    )
    args, problems = _check(form)
    assert args is None
    assert set(problems) == {REQUEST_FIELD_QUEUE, REQUEST_FIELD_DAY, REQUEST_FIELD_LIMIT}


def test_an_unknown_selection_or_action_is_refused_on_its_field() -> None:
    form = replace(RequestForm.blank(queue="q", action="purge"), selection="everything")
    args, problems = _check(form)
    assert args is None
    assert set(problems) == {REQUEST_FIELD_ACTION, REQUEST_FIELD_SELECTION}


def test_read_form_takes_every_element_kind_and_is_tolerant() -> None:
    form = read_form(
        state(
            queue=_select("orders-dlq"),
            action=_radio("export"),
            selection=_radio("range"),
            since={"type": "datetimepicker", "selected_date_time": SINCE_EPOCH},
            note=_text("  for INC-42 "),
            channel={"type": "conversations_select", "selected_conversation": "C_OPS"},
            limit={"type": "number_input", "value": None},
        )
    )
    assert form.action == "export"
    assert form.since == str(SINCE_EPOCH)
    assert form.note == "  for INC-42 "
    assert form.channel == "C_OPS"
    assert form.limit is None
    # Nothing filled (or not a state at all): a redrive of every message, no DLQ
    for empty in ({}, {"values": None}, {"values": {REQUEST_FIELD_QUEUE: "x"}}):
        blank = read_form(empty)
        assert (blank.queue, blank.action, blank.selection, blank.where) == (
            None,
            "redrive",
            "all",
            (),
        )
    # A forged value of another type reads as not given; a value the radio never offered is
    # kept, for check_form to refuse on its field (read as a redrive, it asked for what nobody
    # chose)
    odd = read_form(state(queue={"selected_option": {"value": ["a"]}}, action=_radio("purge")))
    assert (odd.queue, odd.action) == (None, "purge")
    assert REQUEST_FIELD_ACTION in _check(odd)[1]


def test_the_form_survives_the_job_payload() -> None:
    form = read_form(
        state(
            queue=_select("orders-dlq"),
            selection=_radio("field"),
            where=_text("a=1\nb=2"),
            error_label=_text("x"),
            channel={"selected_conversation": "C1"},
        )
    )
    assert RequestForm.from_json(form.to_json()) == form
    for bad in ("[]", '{"where": "a=1", "action": "redrive", "selection": "all"}', '{"queue": 1}'):
        with pytest.raises(ValueError):
            RequestForm.from_json(bad)


def test_the_channel_is_read_but_not_judged_here() -> None:
    # The allowed-channel check is the endpoint's (it knows the configuration)
    form = read_form(state(queue=_select("q"), channel={"selected_conversation": "C_ANY"}))
    assert _check(form)[1] == {}
    assert REQUEST_FIELD_CHANNEL in REQUEST_FIELDS and REQUEST_FIELD_ACTION in REQUEST_FIELDS
    assert REQUEST_FIELD_SELECTION in REQUEST_FIELDS
