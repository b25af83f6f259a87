"""The alert messages (bot.alerts.blocks): within Slack's limits for any number of DLQs, every
count SQS's approximate one said as such, every name escaped."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.models.blocks import Block

from bot.alerts.blocks import MAX_SHOWN, alert_message, update_messages
from bot.alerts.rules import ALERTING, QUIET, AlertAction, AlertState, Change, Reading
from bot.config import AlertSettings
from bot.slack.mrkdwn import MAX_MESSAGE_TEXT, block_text_length

AT = datetime(2026, 12, 2, 3, 5, tzinfo=UTC)
TZ = ZoneInfo("Europe/Paris")
SETTINGS = AlertSettings(channel="C1", threshold=1, growth=10, quiet_minutes=60)


def new(name: str, total: int, *, in_flight: int = 0, grew_by: int | None = None) -> AlertAction:
    reading = Reading(name, total - in_flight, in_flight, 0)
    before = AlertState(
        name, last_depth=total - (grew_by or 0), last_checked=AT - timedelta(minutes=5)
    )
    after = AlertState(name, status=ALERTING, notified_depth=total)
    return AlertAction(Change.NEW, reading, before, after, grew_by=grew_by)


def text_of(blocks: list[dict[str, object]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def within_limits(blocks: list[dict[str, object]]) -> None:
    assert len(blocks) <= 50
    assert block_text_length(blocks) <= MAX_MESSAGE_TEXT
    for block in blocks:
        Block.parse(block).validate_json()  # type: ignore[union-attr]


@pytest.mark.parametrize("count", [1, MAX_SHOWN, MAX_SHOWN + 1, 60, 500])
def test_any_number_of_dlqs_is_one_message_and_a_thread_within_limits(count: int) -> None:
    actions = [new(f"team-{n:03d}-{'q' * 70}", 1 + n % 13) for n in range(count)]

    alert = alert_message(actions, at=AT, tz=TZ, settings=SETTINGS)

    rendered = alert.rendered
    within_limits(rendered.message.blocks)
    for reply in rendered.thread:
        within_limits(reply.blocks)
    everything = [rendered.message, *rendered.thread]
    for action in actions:  # every DLQ named exactly once, with its count, where it says
        line = f"`{action.reading.dlq}`: about {action.reading.total} message"
        assert [text_of(m.blocks).count(line) for m in everything] == [
            int(n == alert.where[action.reading.dlq]) for n in range(len(everything))
        ]
    assert len(rendered.thread) == -(-max(count - MAX_SHOWN, 0) // MAX_SHOWN)


def test_the_deepest_are_shown_and_the_rest_summarised_with_their_true_total() -> None:
    actions = [new(f"q{n:02d}", n + 1) for n in range(25)]  # q24 deepest (25 messages)

    rendered = alert_message(actions, at=AT, tz=TZ, settings=SETTINGS).rendered

    shown = text_of(rendered.message.blocks)
    assert shown.index("`q24`") < shown.index("`q23`")
    assert "`q04`" not in shown and "`q05`" in shown
    assert "… and 5 more DLQs (about 15 messages in all), listed in this thread." in shown


def test_counts_say_they_are_approximate_and_what_is_in_flight() -> None:
    rendered = alert_message(
        [new("orders-dlq", 12, in_flight=2, grew_by=11)], at=AT, tz=TZ, settings=SETTINGS
    ).rendered

    shown = text_of(rendered.message.blocks)
    assert (
        "`orders-dlq`: about 12 messages (of them about 2 in flight), "
        "up about 11 since 04:00" in shown
    )
    assert "Checked at 04:05 (Europe/Paris). Counts are SQS's approximate counts." in shown
    assert rendered.message.text == "DLQ alert: 1 DLQ filling: orders-dlq (about 12)"


def test_names_are_escaped_in_the_blocks_and_the_fallback_text() -> None:
    hostile = "<!channel> & <https://evil|click>`x"

    rendered = alert_message([new(hostile, 3)], at=AT, tz=TZ, settings=SETTINGS).rendered

    for text in (text_of(rendered.message.blocks), rendered.message.text):
        assert "<!channel>" not in text and "<https://evil" not in text
    assert "&lt;!channel&gt; &amp; &lt;https://evil|click&gt;" in rendered.message.text


def test_updates_of_one_thread_are_one_reply_drained_first() -> None:
    alerting = AlertState("a", status=ALERTING, notified_depth=20, thread_ts="1.1")
    quiet = replace(alerting, status=QUIET, quiet_until=AT + timedelta(minutes=40))
    actions = [
        AlertAction(Change.GROWING, Reading("a", 31, 0, 0), alerting, alerting),
        AlertAction(Change.RESOLVED, Reading("b", 0, 0, 0), replace(alerting, dlq="b"), quiet),
        AlertAction(
            Change.REOPENED,
            Reading("c", 4, 0, 0),
            replace(quiet, dlq="c"),
            replace(quiet, dlq="c", status=ALERTING),
        ),
    ]

    [reply] = update_messages(actions, at=AT, tz=TZ)

    within_limits(reply.blocks)
    [section] = [b["text"]["text"] for b in reply.blocks]
    assert section.splitlines() == [
        "*Update at 04:05 (Europe/Paris)*",
        "• `b`: drained (SQS counts no message visible, in flight or delayed)",
        "• `c`: filling again, about 4 messages, within this alert's quiet period (until 04:45)",
        "• `a`: about 31 messages now, up from about 20 when last told",
    ]
