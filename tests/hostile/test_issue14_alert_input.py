"""Hostile DLQ names in the alert messages (issue 14): a name the alerts show comes from AWS
(ListQueues, a URL given in DLQ_QUEUES, the feeder-fed list the daily report recorded), so it is
escaped on every surface: the blocks, the fallback text (notifications), and the log lines."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.models.blocks import Block

from bot.alerts.blocks import alert_message, update_messages
from bot.alerts.rules import ALERTING, AlertAction, AlertState, Change, Reading
from bot.config import AlertSettings
from bot.printable import printable_logger

NOW = datetime(2026, 3, 11, 3, 0, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")
SETTINGS = AlertSettings(channel="C0ALERTS")
HOSTILE = [
    "<!channel>",
    "<!here|here> ping",
    "<https://evil.example|click>",
    "`code` end",
    "*bold* _it_ ~st~",
    "a&b<c>d",
    "line\nbreak\rand\ttab",
    "\u202eevil\u202c",
    "x" * 300,
]
LIVE = ("<!channel>", "<!here", "<https://", "line\nbreak", "\rand", "\u202e")


def action(name: str, change: Change, total: int) -> AlertAction:
    before = AlertState(name, status=ALERTING, notified_depth=1, thread_ts="1.2")
    after = AlertState(name, status=ALERTING, notified_depth=total, quiet_until=NOW)
    if change == Change.NEW:
        before = AlertState(name, last_depth=0, last_checked=NOW - timedelta(minutes=5))
    return AlertAction(change, Reading(name, total, 2, 1), before, after, grew_by=total)


def texts(blocks: list[dict[str, object]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def assert_inert(shown: str) -> None:
    for live in LIVE:
        assert live not in shown, (live, shown[:300])


def test_hostile_names_in_the_alert_are_escaped_in_its_blocks_and_its_fallback_text() -> None:
    # Given DLQs with hostile names, some beyond the first 20 (listed in the alert's thread)
    names = [f"{n:02d}{h}" for n, h in enumerate(HOSTILE * 3)]
    actions = [action(name, Change.NEW, 5 + n) for n, name in enumerate(names)]

    # When the alert is rendered
    alert = alert_message(actions, at=NOW, tz=UTC_ZONE, settings=SETTINGS)

    # Then no name pings, links, breaks out of its code span or reverses the text, in the
    # message, its fallback text (what notifications show) or its thread; the blocks are valid
    for message in [alert.rendered.message, *alert.rendered.thread]:
        assert_inert(texts(message.blocks).replace("\\n", "\n"))
        assert_inert(message.text)
        for block in message.blocks:
            Block.parse(block).validate_json()  # type: ignore[union-attr]
    # And every DLQ is named exactly once, in the alert or its thread
    assert sorted(alert.where) == sorted(names)


@pytest.mark.parametrize("change", [Change.GROWING, Change.REOPENED, Change.RESOLVED])
def test_hostile_names_in_thread_updates_are_escaped(change: Change) -> None:
    actions = [action(name, change, 40) for name in HOSTILE]
    for message in update_messages(actions, at=NOW, tz=UTC_ZONE):
        assert_inert(texts(message.blocks).replace("\\n", "\n"))
        assert_inert(message.text)


def test_a_hostile_name_in_the_alert_logs_is_one_line(caplog: pytest.LogCaptureFixture) -> None:
    # Given the alert modules' logger (bot.printable): a name with a line break and a reversal
    logger = printable_logger("bot.alerts.job")
    with caplog.at_level(logging.WARNING):
        logger.warning("alert of %s (%s) is not in Slack: posting it", HOSTILE[6], HOSTILE[7])
    # Then the log line cannot be split into a forged second line or reversed
    [record] = caplog.records
    assert "\n" not in record.getMessage() and "\u202e" not in record.getMessage()
