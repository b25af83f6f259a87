"""The report's expiry line and its buttons (expiring, error groups): wording, values, limits.

Rendered without a server; every block is also checked with slack_sdk's own Block models (the
local Slack server does the same for the integration tests)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.models.blocks import Block

from bot.daily.blocks import MAX_BLOCKS, fallback_text, render_report
from bot.daily.figures import ErrorGroup, SampleFigures, group_errors
from bot.daily.report import AutoRedrive, DailyReport, DlqStatus
from bot.error_groups import label_digest
from bot.expiry import ExpiryCounter, ExpiryScan, expiring_before, next_report_at
from bot.selection import Selection, TimeWindow, day_window
from bot.slack.button_values import parse_button_value
from bot.slack.ids import ActionId
from bot.sqs_model import ReceivedMessage
from tests.unit.daily.fakes import report_blocks

SEOUL = ZoneInfo("Asia/Seoul")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
DAY_S = 86_400


def _message(sent: datetime, n: int) -> ReceivedMessage:
    return ReceivedMessage(
        f"m{n}", f"h{n}", "{}", {"SentTimestamp": str(int(sent.timestamp() * 1000))}, {}
    )


def _scan(
    sent: list[datetime], until: datetime, *, retention: int, population: int | None = None
) -> ExpiryScan:
    counter = ExpiryCounter(retention, until)
    for n, time in enumerate(sent):
        counter.add(_message(time, n))
    capped = population is not None and population > len(sent)
    return counter.scan(capped=capped, population=population)


def _figures(
    count: int, *, groups: tuple[ErrorGroup, ...] = (), population: int = 0
) -> SampleFigures:
    return SampleFigures(
        sampled=count,
        capped=population > count,
        oldest_sent=None,
        arrived_yesterday=0,
        unreadable_time=0,
        poison=0,
        error_groups=groups,
        other_errors=0,
        population=population or count,
    )


def _report(
    tz: ZoneInfo, scheduled: datetime, *statuses: DlqStatus, day: date | None = None
) -> DailyReport:
    return DailyReport(
        day=day or (scheduled.astimezone(tz).date() - timedelta(days=1)),
        timezone=tz.key,
        generated_at=scheduled,
        dlqs=statuses,
        next_report=next_report_at(scheduled, tz),
    )


def _text(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")


def _buttons(blocks: list[dict[str, Any]]) -> list[tuple[str, str, dict[str, str]]]:
    return [
        (e["action_id"], e["text"]["text"], json.loads(e["value"]))
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def test_seoul_exact_count_oldest_and_buttons_selecting_what_expires() -> None:
    # Given the Seoul report of 2 Dec 2026 06:00, a DLQ keeping messages 4 days, and five
    # messages, three sent more than 4 days before the next report (3 Dec 06:00 KST)
    scheduled = datetime(2026, 12, 2, 6, 0, tzinfo=SEOUL).astimezone(UTC)
    until = expiring_before(next_report_at(scheduled, SEOUL), 4 * DAY_S)
    sent = [until - timedelta(hours=10), until - timedelta(minutes=1), until - timedelta(hours=3)]
    sent += [until, until + timedelta(hours=7)]
    status = DlqStatus(
        name="orders-dlq",
        depth=5,
        depth_before=5,
        figures=_figures(5),
        expiry=_scan(sent, until, retention=4 * DAY_S, population=5),
    )
    # When rendered
    blocks = report_blocks(_report(SEOUL, scheduled, status))
    # Then the DLQ's section flags exactly 3, with the oldest's sent and expiry times in Seoul
    assert (
        ":hourglass: *3* expire before the next report (Thu 3 Dec 06:00): oldest sent "
        "2026-11-28 20:00 +09:00, expires 2026-12-02 20:00 +09:00"
    ) in _text(blocks)
    # And the notification text says it too
    assert "- orders-dlq: 5, 3 expire before the next report" in fallback_text(
        _report(SEOUL, scheduled, status)
    )
    # And its buttons select by sent time what expires before the next report, in Seoul time
    expiring = [b for b in _buttons(blocks) if "expiring" in b[0]]
    assert expiring == [
        (
            ActionId.REPORT_EXPIRING_REDRIVE.value,
            "Redrive the expiring…",
            {"queue": "orders-dlq", "until": "2026-11-29T06:00:00+09:00"},
        ),
        (
            ActionId.REPORT_EXPIRING_EXPORT.value,
            "Export the expiring…",
            {"queue": "orders-dlq", "until": "2026-11-29T06:00:00+09:00"},
        ),
    ]
    # And the endpoint's reader accepts them (the same form it will get back)
    for action, _, value in expiring:
        assert parse_button_value(action, json.dumps(value)).until == value["until"]


def test_los_angeles_over_the_fall_back_night() -> None:
    # Given the LA report of Sat 31 Oct 2026 06:00 PDT: the next is Sun 1 Nov 06:00 PST, 25 h
    # later; a DLQ keeping messages 1 day
    scheduled = datetime(2026, 10, 31, 6, 0, tzinfo=LOS_ANGELES).astimezone(UTC)
    until = expiring_before(next_report_at(scheduled, LOS_ANGELES), DAY_S)
    sent = [until - timedelta(hours=1), until + timedelta(minutes=1)]
    status = DlqStatus(
        name="orders-dlq",
        depth=2,
        depth_before=2,
        figures=_figures(2),
        expiry=_scan(sent, until, retention=DAY_S, population=2),
    )
    blocks = report_blocks(_report(LOS_ANGELES, scheduled, status))
    # Then one expires before Sunday's report; the bound is 24 h of real time before it:
    # 06:00 PST Sunday less 24 h is 07:00 PDT Saturday, an hour after this report (the 25-hour
    # day), not 06:00
    assert (
        "*1* expire before the next report (Sun 1 Nov 06:00): oldest sent "
        "2026-10-31 06:00 -07:00, expires 2026-11-01 05:00 -08:00"
    ) in _text(blocks)
    values = {b[2]["until"] for b in _buttons(blocks) if "expiring" in b[0]}
    assert values == {"2026-10-31T07:00:00-07:00"}


def test_utc_partial_scan_says_at_least_and_what_it_was_found_in() -> None:
    # Given a DLQ of about 5,000 of which the scan saw 3, two of them expiring
    scheduled = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
    until = expiring_before(next_report_at(scheduled, ZoneInfo("UTC")), 2 * DAY_S)
    sent = [until - timedelta(hours=2), until - timedelta(hours=1), until + timedelta(hours=1)]
    status = DlqStatus(
        name="orders-dlq",
        depth=5000,
        depth_before=5000,
        figures=_figures(3, population=5000),
        expiry=_scan(sent, until, retention=2 * DAY_S, population=5000),
    )
    text = _text(report_blocks(_report(ZoneInfo("UTC"), scheduled, status)))
    assert (
        "*≥ 2* expire before the next report (Thu 3 Dec 06:00) — found in a sample of 3 of "
        "≈ 5,000: oldest found sent 2026-12-01 04:00 +00:00, expires 2026-12-03 04:00 +00:00 "
        "(an unseen one may expire sooner)"
    ) in text


def test_nothing_expiring_means_no_line_and_no_expiry_buttons() -> None:
    scheduled = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
    until = expiring_before(next_report_at(scheduled, ZoneInfo("UTC")), 4 * DAY_S)
    status = DlqStatus(
        name="orders-dlq",
        depth=1,
        depth_before=1,
        figures=_figures(1),
        expiry=_scan([until + timedelta(hours=1)], until, retention=4 * DAY_S, population=1),
    )
    blocks = report_blocks(_report(ZoneInfo("UTC"), scheduled, status))
    assert "expire before" not in _text(blocks)
    assert not [b for b in _buttons(blocks) if "expiring" in b[0]]


def test_an_auto_redrive_reaching_into_the_expiring_says_the_count_was_before_it() -> None:
    scheduled = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
    until = expiring_before(next_report_at(scheduled, ZoneInfo("UTC")), DAY_S)
    yesterday = day_window(date(2026, 12, 1), ZoneInfo("UTC"))
    status = DlqStatus(
        name="orders-dlq",
        depth=1,
        depth_before=3,
        figures=_figures(3),
        expiry=_scan([until - timedelta(hours=1)] * 3, until, retention=DAY_S, population=3),
        redrive=AutoRedrive(moved=2, selection=Selection(window=yesterday)),
    )
    text = _text(report_blocks(_report(ZoneInfo("UTC"), scheduled, status)))
    assert "(counted before the auto-redrive, which may have moved some)" in text
    # A window that starts after the bound cannot have taken any of them: no such note
    later = Selection(window=TimeWindow(until + timedelta(hours=1), yesterday.end))
    quiet = DlqStatus(**{**status.__dict__, "redrive": AutoRedrive(moved=2, selection=later)})
    assert "counted before" not in _text(report_blocks(_report(ZoneInfo("UTC"), scheduled, quiet)))


def test_error_groups_show_their_digest_and_get_redrive_and_discard_buttons() -> None:
    # Given three error groups counted in a whole sample, one label far longer than is shown
    long_label = "Timeout calling " + "x" * 200
    labels = [(long_label, True)] * 3 + [("Declined <!channel>", True)] * 2 + [("json {}", False)]
    groups, _ = group_errors(labels)
    status = DlqStatus(
        name="orders-dlq", depth=6, depth_before=6, figures=_figures(6, groups=groups)
    )
    scheduled = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
    blocks = report_blocks(_report(ZoneInfo("UTC"), scheduled, status))
    text = _text(blocks)
    # Then each group shows the digest of its whole label (what --error takes), the cut label
    # ends with the same digest's first digits
    digest = label_digest(long_label)
    assert f"×3 · {digest}" in text
    assert f"… #{digest[1:7]}`" in text
    assert f"×2 · {label_digest('Declined <!channel>')}" in text
    assert "<!channel>" not in text  # still escaped
    # And each group has Redrive these N / Discard these N buttons with the digest in the value
    errors = [b for b in _buttons(blocks) if "error" in b[0]]
    assert errors[:2] == [
        (
            ActionId.REPORT_ERROR_REDRIVE.value,
            f"Redrive these 3 ({digest})…",
            {"queue": "orders-dlq", "error": digest},
        ),
        (
            ActionId.REPORT_ERROR_DISCARD.value,
            f"Discard these 3 ({digest})…",
            {"queue": "orders-dlq", "error": digest},
        ),
    ]
    assert len(errors) == 6
    for action, _, value in errors:
        assert parse_button_value(action, json.dumps(value)).error == value["error"]


@pytest.mark.parametrize("moved", [0, 2])
def test_error_buttons_name_no_count_unless_it_is_the_dlqs_own(moved: int) -> None:
    # Given a group counted in a partial sample (or in a whole one before an auto-redrive moved)
    groups, _ = group_errors([("Timeout", True)] * 3)
    figures = _figures(3, groups=groups, population=3 if moved else 40)
    redrive = AutoRedrive(moved=moved) if moved else None
    status = DlqStatus(
        name="orders-dlq", depth=38, depth_before=40, figures=figures, redrive=redrive
    )
    blocks = report_blocks(_report(ZoneInfo("UTC"), datetime(2026, 12, 2, 6, tzinfo=UTC), status))
    texts = [b[1] for b in _buttons(blocks) if "error" in b[0]]
    assert texts == [
        f"Redrive these ({label_digest('Timeout')})…",
        f"Discard these ({label_digest('Timeout')})…",
    ]


def test_twenty_dlqs_with_every_button_stay_within_slack_limits() -> None:
    # Given 25 DLQs each with 3 long error groups and expiring messages
    scheduled = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
    until = expiring_before(next_report_at(scheduled, ZoneInfo("UTC")), DAY_S)
    labels = [(f"{n} " + "e" * 500, True) for n in range(3) for _ in range(2)]
    groups, _ = group_errors(labels)
    statuses = [
        DlqStatus(
            name=f"dlq-{n:02d}-" + "q" * 60,
            depth=6,
            depth_before=6,
            figures=_figures(6, groups=groups),
            expiry=_scan([until - timedelta(hours=1)] * 6, until, retention=DAY_S, population=6),
        )
        for n in range(25)
    ]
    rendered = render_report(_report(ZoneInfo("UTC"), scheduled, *statuses))
    # Then the message and every thread reply are valid Block Kit within the limits
    for message in [rendered.message, *rendered.thread]:
        assert len(message.blocks) <= MAX_BLOCKS
        for block in message.blocks:
            Block.parse(block).validate_json()  # type: ignore[union-attr]
            for element in block.get("elements", []):
                if element.get("type") == "button":
                    assert len(element["text"]["text"]) <= 75
                    assert len(element["value"]) <= 2000
        assert all(len(b["elements"]) <= 25 for b in message.blocks if b["type"] == "actions")
    shown = sum(
        1 for m in [rendered.message, *rendered.thread] for b in m.blocks if b["type"] == "actions"
    )
    assert shown == 25


def test_the_kept_report_carries_the_expiry_to_the_continuation() -> None:
    # The report a continuation re-renders comes back from JSON with its expiry figures
    from bot.daily.codec import from_json, to_json

    scheduled = datetime(2026, 12, 2, 6, 0, tzinfo=SEOUL).astimezone(UTC)
    until = expiring_before(next_report_at(scheduled, SEOUL), DAY_S)
    status = DlqStatus(
        name="orders-dlq",
        depth=2,
        depth_before=2,
        figures=_figures(2),
        expiry=_scan([until - timedelta(hours=1)] * 2, until, retention=DAY_S, population=2),
    )
    report = _report(SEOUL, scheduled, status)
    again = from_json(DailyReport, json.loads(json.dumps(to_json(report))))
    assert again == report
    assert render_report(again).message.blocks == render_report(report).message.blocks
