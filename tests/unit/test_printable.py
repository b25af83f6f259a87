"""Untrusted text shown on a terminal or in a log line: nothing in it acts (pure)."""

from __future__ import annotations

import importlib
import json
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.printable import visible, visible_json


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("real\rfake", "real\\rfake"),
        ("one\ntwo", "one\\ntwo"),
        ("\x1b[2J\x1b]8;;https://evil.example\x07", "\\x1b[2J\\x1b]8;;https://evil.example\\x07"),
        ("\x9b2J \x9d0;title\x9c", "\\x9b2J \\x9d0;title\\x9c"),
        ("invoice \u202efdp.exe", "invoice \\u202efdp.exe"),
        ("acme ✓ 😀 tab\there", "acme ✓ 😀 tab\\there"),
    ],
)
def test_control_and_format_characters_are_shown_as_escapes(raw: str, shown: str) -> None:
    assert visible(raw) == shown


def test_newlines_can_be_kept_for_text_shown_on_its_own_lines() -> None:
    assert visible("a\r\nb", keep_newlines=True) == "a\\r\nb"


@given(st.text())
def test_any_text_prints_as_one_line_of_printable_characters(text: str) -> None:
    assert visible(text).isprintable()


@given(st.dictionaries(st.text(), st.text() | st.integers()))
def test_a_log_line_is_the_same_json_with_nothing_that_acts_on_a_terminal(
    value: dict[str, object],
) -> None:
    line = visible_json(value)
    assert line.isprintable()
    assert json.loads(line) == value


def test_a_log_line_keeps_readable_text_readable() -> None:
    assert visible_json({"tenant": "acme ✓", "body": "a\x9bb"}) == (
        '{"tenant":"acme ✓","body":"a\\u009bb"}'
    )


@pytest.mark.parametrize("module", ["bot.slack.observability", "handlers.daily"])
def test_our_log_lines_show_message_text_without_acting_on_a_terminal(module: str) -> None:
    # Given the logger of the Slack app (worker and endpoint) or of the daily report
    logger = importlib.import_module(module).logger
    text = "bad \x9b2J\x9d0;x\x9c \u202eabc \u2028 ✓"

    # When it formats a line with text taken from a message: CSI, OSC, U+202E, U+2028
    record = logging.LogRecord(module, logging.WARNING, __file__, 1, "job refused", None, None)
    record.error = text  # as ``extra={"error": ...}`` sets it
    line = logger.registered_formatter.format(record)

    # Then the line is printable, still JSON, and says the same
    assert line.isprintable()
    assert json.loads(line)["error"] == text
