"""``--error`` and ``--where``: which messages they select, and how bad options are refused.
Pure: no server."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.error_groups import error_label, label_digest
from bot.errors import UsageError
from bot.selection import Verdict, build_selection, judge
from bot.selection_options import SelectionArgs, add_selection_options
from bot.sqs_model import ReceivedMessage

UTC_ZONE = ZoneInfo("UTC")
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def message(body: str = "{}", **attributes: tuple[str, str]) -> ReceivedMessage:
    """A message with ``name=(DataType, StringValue)`` message attributes."""
    message_attributes = {
        name: {"DataType": kind, "StringValue": value} for name, (kind, value) in attributes.items()
    }
    return ReceivedMessage("m1", "h1", body, {"SentTimestamp": "1764000000000"}, message_attributes)


def selected(msg: ReceivedMessage, **options: object) -> bool:
    selection = build_selection(tz=UTC_ZONE, now=NOW, **options)  # type: ignore[arg-type]
    return judge(msg, selection, UTC_ZONE, max_redrives=5) is Verdict.SELECT


# --- --error ------------------------------------------------------------------------------------


def test_error_selects_the_group_by_the_attribute_value_the_report_shows() -> None:
    # Given messages with and without the ERROR_ATTRIBUTE, and one of another error
    timeout = message('{"a": 1}', error=("String", "Time  out"))
    other = message('{"a": 1}', error=("String", "Refused"))
    no_attribute = message('{"a": 1}')
    # When selecting the group "Time out" (the label: whitespace runs as one space)
    # Then only the message of that group is selected
    options = {"error": "Time out", "error_attribute": "error"}
    assert selected(timeout, **options)
    assert not selected(other, **options)
    assert not selected(no_attribute, **options)


def test_error_selects_a_body_fingerprint_group_when_the_attribute_is_absent() -> None:
    order = message(json.dumps({"order": {"id": 7}, "error": "late"}))
    other_order = message(json.dumps({"order": {"id": 99}, "error": "other"}))
    text = message("order 7 failed")
    label, by_attribute = error_label(order, "error")
    assert (label, by_attribute) == ("json {error:str, order:{id:num}}", False)
    options = {"error": label, "error_attribute": "error"}
    assert selected(order, **options)
    assert selected(other_order, **options)  # same shape, same group
    assert not selected(text, **options)


def test_error_accepts_the_label_digest_in_any_case() -> None:
    # Given a label longer than a Slack button's value could carry
    long_value = "Failure: " + "x" * 3000
    msg = message("{}", error=("String", long_value))
    digest = label_digest(long_value)
    assert digest.startswith("#") and len(digest) == 13
    assert selected(msg, error=digest, error_attribute="error")
    assert selected(msg, error=digest.upper(), error_attribute="error")
    assert not selected(msg, error=label_digest("Failure"), error_attribute="error")


def test_label_digest_is_the_sha256_of_the_whole_label() -> None:
    import hashlib

    assert label_digest("Time out") == "#" + hashlib.sha256(b"Time out").hexdigest()[:12]
    assert label_digest("bad \ud800 key").startswith("#")  # a lone surrogate is still a label


def test_error_without_error_attribute_judges_every_message_by_its_body() -> None:
    msg = message('{"a": 1}', error=("String", "Time out"))
    assert selected(msg, error="json {a:num}", error_attribute=None)
    assert not selected(msg, error="Time out", error_attribute=None)


def test_an_empty_error_is_refused() -> None:
    with pytest.raises(UsageError, match="--error needs"):
        build_selection(tz=UTC_ZONE, now=NOW, error="  ")


def test_error_and_where_do_not_select_poison() -> None:
    poison = message('{"a": 1}', **{"dlq-redrive-count": ("Number", "5")})
    selection = build_selection(tz=UTC_ZONE, now=NOW, where=("a=1",))
    assert judge(poison, selection, UTC_ZONE, max_redrives=5) is Verdict.NEEDS_HUMAN


# --- --where ------------------------------------------------------------------------------------


def test_where_compares_a_body_field_with_the_value_read_as_json() -> None:
    number = message('{"status": 500}')
    text = message('{"status": "500"}')
    other = message('{"status": 404}')
    boolean = message('{"status": true}')
    assert selected(number, where=("status=500",))
    assert selected(text, where=("status=500",))  # a text field matches VALUE as written
    assert not selected(other, where=("status=500",))
    assert selected(message('{"status": 500.0}'), where=("status=500",))
    # true is not 1, 1 is not true (Python's True == 1 would say so)
    assert not selected(message('{"ok": 1}'), where=("ok=true",))
    assert not selected(boolean, where=("status=1",))
    assert selected(message('{"ok": true}'), where=("ok=true",))
    assert selected(message('{"v": null}'), where=("v=null",))
    # a quoted JSON string VALUE matches the text field only
    assert selected(text, where=('status="500"',))
    assert not selected(number, where=('status="500"',))


def test_where_follows_dotted_paths_and_list_indexes() -> None:
    msg = message(json.dumps({"meta": {"tenant": "acme", "tags": ["a", "b"]}, "n": [1, 2]}))
    assert selected(msg, where=("meta.tenant=acme",))
    assert selected(msg, where=("meta.tags.1=b",))
    assert not selected(msg, where=("meta.tags.5=b",))
    assert not selected(msg, where=("meta.missing=acme",))
    assert selected(msg, where=('meta.tags=["a", "b"]',))


def test_where_with_several_conditions_needs_all() -> None:
    msg = message('{"status": 500, "tenant": "acme"}', kind=("String", "order"))
    assert selected(msg, where=("status=500", "tenant=acme", "attr.kind=order"))
    assert not selected(msg, where=("status=500", "tenant=other"))


def test_where_on_a_body_that_is_not_json_does_not_match_and_raises_nothing() -> None:
    msg = message("status=500 plain text")
    selection = build_selection(tz=UTC_ZONE, now=NOW, where=("status=500",))
    assert judge(msg, selection, UTC_ZONE, max_redrives=5) is Verdict.OUT_OF_WINDOW
    deep = message("[" * 100_000)  # json.loads raises RecursionError
    assert judge(deep, selection, UTC_ZONE, max_redrives=5) is Verdict.OUT_OF_WINDOW


def test_where_attr_compares_the_attribute_string_value_as_stored() -> None:
    msg = message("not json at all", tenant=("String", "acme"), code=("Number", "500.0"))
    assert selected(msg, where=("attr.tenant=acme",))  # the body need not be JSON
    assert selected(msg, where=("attr.code=500.0",))  # a Number as SQS stores its text
    assert not selected(msg, where=("attr.code=500",))
    assert not selected(msg, where=("attr.missing=acme",))
    binary = ReceivedMessage(
        "m2", "h2", "{}", {}, {"blob": {"DataType": "Binary", "BinaryValue": b"acme"}}
    )
    assert not selected(binary, where=("attr.blob=acme",))


def test_where_value_may_hold_an_equals_sign_and_be_empty() -> None:
    assert selected(message('{"q": "a=b"}'), where=("q=a=b",))
    assert selected(message('{"q": ""}'), where=("q=",))


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("status", "is not PATH=VALUE"),
        ("=500", "is not PATH=VALUE"),
        ("a..b=1", "not a dotted field path"),
        ("attr.=1", "names no attribute"),
    ],
)
def test_a_bad_where_is_refused_with_its_text(text: str, complaint: str) -> None:
    with pytest.raises(UsageError, match=complaint):
        build_selection(tz=UTC_ZONE, now=NOW, where=(text,))


def test_where_and_error_combine_with_a_time_window() -> None:
    sent = ReceivedMessage(
        "m1",
        "h1",
        '{"status": 500}',
        {"SentTimestamp": str(int(datetime(2026, 11, 24, 12, tzinfo=UTC).timestamp() * 1000))},
    )
    assert selected(sent, day="2026-11-24", where=("status=500",))
    assert not selected(sent, day="2026-11-23", where=("status=500",))


def test_the_description_names_error_and_where() -> None:
    selection = build_selection(
        tz=UTC_ZONE, now=NOW, error="Time out", where=("status=500", "attr.kind=x")
    )
    text = selection.describe(UTC_ZONE)
    assert "error group 'Time out'" in text
    assert "where status='500'" in text and "where attr.kind='x'" in text


# --- the options, shared by the CLI and Slack ----------------------------------------------------


def parse(words: list[str]) -> SelectionArgs:
    parser = argparse.ArgumentParser()
    add_selection_options(parser)
    return SelectionArgs.from_namespace(parser.parse_args(words))


def test_options_parse_error_and_repeated_where() -> None:
    args = parse(["--error", "#0123456789ab", "--where", "a=1", "--where", "attr.k=v w"])
    assert args.error == "#0123456789ab"
    assert args.where == ("a=1", "attr.k=v w")
    assert parse([]).where == ()


def test_selection_args_round_trip_and_old_dicts_load() -> None:
    args = SelectionArgs(date="2026-11-24", error="Time out", where=("a=1", "b=x"))
    assert SelectionArgs.from_dict(args.to_dict()) == args
    old = {"yesterday": False, "date": None, "since": None, "until": None, "limit": 3}
    loaded = SelectionArgs.from_dict(old)
    assert loaded.error is None and loaded.where == () and loaded.limit == 3


def test_selection_args_build_passes_error_attribute() -> None:
    args = SelectionArgs(error="Time out", where=("a=1",))
    selection = args.build(tz=UTC_ZONE, now=NOW, error_attribute="error")
    assert selection.error == "Time out"
    assert selection.error_attribute == "error"
    assert selection.where == (("a", "1"),)
    assert selected(message('{"a": 1}', error=("String", "Time out")), error="Time out") is False
    msg = message('{"a": 1}', error=("String", "Time out"))
    assert judge(msg, selection, UTC_ZONE, max_redrives=5) is Verdict.SELECT


def test_the_slack_command_parses_where_and_quoted_values() -> None:
    from bot.slack.commands import RedriveCommand, parse_command

    command = parse_command(
        "redrive orders-dlq --where a=b --where 'msg=hello world' --error \"Time  out\""
    )
    assert isinstance(command, RedriveCommand)
    assert command.selection.where == ("a=b", "msg=hello world")
    assert command.selection.error == "Time  out"  # normalised when the selection is built
    with pytest.raises(UsageError, match="--where 'oops' is not PATH=VALUE"):
        command.selection.__class__(where=("oops",)).build(tz=UTC_ZONE, now=NOW)


def test_the_slack_command_reads_a_where_value_as_typed_not_as_slack_escaped_it() -> None:
    from bot.slack.commands import RedriveCommand, parse_command

    # Slack sends "a&b <x>" typed in the command as "a&amp;b &lt;x&gt;"
    command = parse_command("redrive q --where 'note=a&amp;b &lt;x&gt;' --error 'a &amp;lt; b'")
    assert isinstance(command, RedriveCommand)
    assert command.selection.where == ("note=a&b <x>",)
    assert command.selection.error == "a &lt; b"  # typed as "a &lt; b": unescaped once only
