"""Untrusted text in Slack mrkdwn: nothing live, fences whole, control characters visible (pure)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.slack import mrkdwn
from bot.slack.mrkdwn import CODE_BACKTICK, code, code_block, escape, number

# A raw &, < or > left in the output: Slack would parse it (only our entities may remain).
_LIVE = re.compile(r"[<>]|&(?!amp;|lt;|gt;)")


def _unescaped(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@pytest.mark.parametrize(
    "hostile",
    [
        "<https://evil.example|Runbook: re-authenticate>",
        "<@U0123ABC> <!channel> <!here> <#C0123> <!subteam^S1>",
        "&lt;already escaped&gt;",
    ],
)
def test_links_mentions_and_entities_stay_text(hostile: str) -> None:
    for shown in (escape(hostile), code(hostile), code_block(hostile, 3_000)):
        assert not _LIVE.search(shown)
    # And what people read is the original text (Slack turns the entities back into characters)
    assert _unescaped(escape(hostile)) == hostile


def test_a_backtick_cannot_end_inline_code() -> None:
    shown = code("grp`<!channel>`")
    assert shown == f"`grp{CODE_BACKTICK}&lt;!channel&gt;{CODE_BACKTICK}`"
    assert shown.count("`") == 2


def test_fences_in_a_body_cannot_end_the_code_block() -> None:
    shown = code_block("before```\n<!channel>\n```after", 3_000)
    assert shown.startswith("```") and shown.endswith("```") and shown.count("`") == 6


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("real\rfake", "real\\rfake"),
        ("one\ntwo", "one\\ntwo"),
        ("\x1b]8;;https://evil.example\x07link", "\\x1b]8;;https://evil.example\\x07link"),
        ("\x9b2J", "\\x9b2J"),
        ("abc\u202edef", "abc\\u202edef"),
    ],
)
def test_control_characters_are_shown_as_escapes(raw: str, shown: str) -> None:
    assert code(raw) == f"`{shown}`"
    assert escape(raw) == shown


def test_a_code_block_keeps_its_lines_but_shows_carriage_returns() -> None:
    assert code_block("a\r\nb", 100) == "```a\\r\nb```"


def test_a_long_text_is_cut_before_the_fence_and_never_inside_an_escape() -> None:
    shown = code_block("&" * 5_000, 3_000)
    assert len(shown) <= 3_000 and shown.endswith("…```")
    assert shown[3:-4] == "&amp;" * ((3_000 - 7) // 5)


def test_counts_have_thousands_separators() -> None:
    assert [number(n) for n in (0, 999, 18_212, 1_234_567)] == ["0", "999", "18,212", "1,234,567"]


@given(st.text(), st.integers(min_value=8, max_value=3_000))
def test_any_text_is_inert_within_its_limit_and_fenced_whole(text: str, limit: int) -> None:
    block = code_block(text, limit)
    inline = code(text, limit=limit)
    plain = escape(text, limit=limit)
    for shown in (block, inline, plain):
        assert not _LIVE.search(shown)
        assert len(shown) <= limit
    # Only the code block keeps line breaks; nothing else invisible or acting survives
    assert all(c.isprintable() or c == "\n" for c in block)
    assert all(c.isprintable() for c in inline + plain)
    assert block.startswith("```") and block.endswith("```") and block.count("`") == 6
    assert inline.startswith("`") and inline.endswith("`") and inline.count("`") == 2


@given(st.text().filter(str.isprintable))
def test_printable_text_reads_back_exactly(text: str) -> None:
    assert _unescaped(escape(text)) == text


def test_lengths_are_counted_as_slack_counts_them_in_utf16_code_units() -> None:
    # Given text of emoji outside the Basic Multilingual Plane (two UTF-16 units each)
    emoji = "\U0001f480" * 100
    # Then its length, the block text and every cut count each one twice
    assert mrkdwn.text_length(emoji) == 200
    assert mrkdwn.block_text_length([{"type": "section", "text": {"text": emoji}}]) == 200
    shortened = mrkdwn.cut(emoji, 51)
    assert mrkdwn.text_length(shortened) <= 51
    assert shortened.endswith(mrkdwn.ELLIPSIS)
    assert mrkdwn.text_length(mrkdwn.code_block(emoji, 41)) <= 41
