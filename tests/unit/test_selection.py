"""Which messages a redrive takes: windows, time fields, verdicts. No server needed."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.errors import UsageError
from bot.selection import (
    REDRIVE_COUNT_ATTRIBUTE,
    Pin,
    Selection,
    TimeWindow,
    UnreadableTimeError,
    Verdict,
    build_selection,
    day_window,
    field_value,
    judge,
    pin_digest,
    time_from_value,
    yesterday,
)
from bot.sqs_model import ReceivedMessage

SEOUL = ZoneInfo("Asia/Seoul")
NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 12:00 in Seoul
EPOCH_S = int(datetime(2026, 11, 24, tzinfo=UTC).timestamp())


def message(
    body: str = "{}", sent: datetime | None = None, count: int | None = None
) -> ReceivedMessage:
    attributes = {"SentTimestamp": str(int(sent.timestamp() * 1000))} if sent else {}
    message_attributes = (
        {REDRIVE_COUNT_ATTRIBUTE: {"DataType": "Number", "StringValue": str(count)}}
        if count is not None
        else {}
    )
    return ReceivedMessage("m1", "h1", body, attributes, message_attributes)


def test_a_calendar_day_in_seoul_starts_at_local_midnight() -> None:
    window = day_window(date(2026, 11, 24), SEOUL)
    assert window.start == datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    assert window.end == datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    assert window.contains(datetime(2026, 11, 24, 14, 59, 59, tzinfo=UTC))
    assert not window.contains(datetime(2026, 11, 24, 15, 0, tzinfo=UTC))  # half-open


def test_a_day_with_a_dst_change_is_23_hours_long() -> None:
    window = day_window(date(2026, 3, 8), NEW_YORK)
    assert window.start is not None and window.end is not None
    assert window.end - window.start == timedelta(hours=23)


def test_yesterday_is_computed_in_the_time_zone_not_in_utc() -> None:
    # 2026-11-24T16:00Z is already the 25th in Seoul, so yesterday there is the 24th.
    assert yesterday(datetime(2026, 11, 24, 16, 0, tzinfo=UTC), SEOUL) == date(2026, 11, 24)
    assert yesterday(datetime(2026, 11, 24, 16, 0, tzinfo=UTC), ZoneInfo("UTC")) == date(
        2026, 11, 23
    )


def test_build_selection_for_yesterday_date_and_instants() -> None:
    by_day = build_selection(tz=SEOUL, now=NOW, yesterday_only=True)
    assert by_day.window == day_window(date(2026, 11, 24), SEOUL)
    assert build_selection(tz=SEOUL, now=NOW, day="2026-11-01").window == day_window(
        date(2026, 11, 1), SEOUL
    )
    ranged = build_selection(
        tz=SEOUL, now=NOW, since="2026-11-01T00:00:00Z", until="2026-11-02T09:00:00"
    )
    assert ranged.window.start == datetime(2026, 11, 1, tzinfo=UTC)
    assert ranged.window.end == datetime(2026, 11, 2, 0, 0, tzinfo=UTC)  # naive = Seoul time


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"yesterday_only": True, "day": "2026-11-01"},
            "--yesterday and --date cannot be combined",
        ),
        (
            {"day": "2026-11-01", "since": "2026-11-01"},
            "--date and --since/--until cannot be combined",
        ),
        ({"day": "2026-02-30"}, "invalid date '2026-02-30'"),
        ({"day": "yesterday"}, "invalid date 'yesterday'"),
        ({"since": "soon"}, "invalid time 'soon'"),
        ({"since": "2026-11-02", "until": "2026-11-01"}, "is not before --until"),
        ({"since": "2026-11-01", "until": "2026-11-01"}, "is not before --until"),
        ({"limit": 0}, "--limit must be at least 1"),
        ({"time_field": "occurredAt"}, "--time-field needs a time selection"),
        ({"day": "2026-11-01", "time_field": "a..b"}, "is not a dotted field path"),
    ],
)
def test_bad_selections_are_refused_with_a_clear_message(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        build_selection(tz=SEOUL, now=NOW, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-24T10:00:00Z", datetime(2026, 11, 24, 10, tzinfo=UTC)),
        ("2026-11-24T10:00:00+09:00", datetime(2026, 11, 24, 1, tzinfo=UTC)),
        ("2026-11-24T10:00:00", datetime(2026, 11, 24, 1, tzinfo=UTC)),  # naive: Seoul
        ("2026-11-24", datetime(2026, 11, 23, 15, tzinfo=UTC)),  # a date: local midnight
        (EPOCH_S, datetime(2026, 11, 24, 0, 0, tzinfo=UTC)),
        (EPOCH_S * 1000, datetime(2026, 11, 24, 0, 0, tzinfo=UTC)),
        (EPOCH_S + 0.5, datetime(2026, 11, 24, 0, 0, 0, 500000, tzinfo=UTC)),
    ],
)
def test_time_fields_accept_iso_dates_and_epoch_numbers(value: object, expected: datetime) -> None:
    assert time_from_value(value, SEOUL) == expected


@pytest.mark.parametrize(
    "value",
    [
        True,
        None,
        "tomorrow",
        {"a": 1},
        float("nan"),
        1e30,
        # 400 digits: too large for a float, so ``value / 1000`` itself overflows
        pytest.param(10**399, id="400-digit integer"),
        pytest.param(-(10**399), id="negative 400-digit integer"),
        "0001-01-01T00:00:00",  # before year 1 once read in Seoul and brought to UTC
        "9999-12-31T23:59:59-05:00",  # after year 9999 in UTC
    ],
)
def test_values_that_are_not_times_are_unreadable(value: object) -> None:
    with pytest.raises(UnreadableTimeError):
        time_from_value(value, SEOUL)


def test_field_paths_walk_objects_and_lists() -> None:
    body = json.dumps({"meta": {"date": "2026-11-24", "events": [{"at": 5}]}})
    assert field_value(body, "meta.date") == "2026-11-24"
    assert field_value(body, "meta.events.0.at") == 5
    with pytest.raises(UnreadableTimeError, match="missing"):
        field_value(body, "meta.nope")
    with pytest.raises(UnreadableTimeError, match="not JSON"):
        field_value("<xml/>", "meta.date")


def test_judge_selects_by_sent_time_or_by_body_field() -> None:
    window = day_window(date(2026, 11, 24), SEOUL)
    inside = datetime(2026, 11, 24, 3, tzinfo=UTC)
    outside = datetime(2026, 11, 25, 3, tzinfo=UTC)
    by_sent = Selection(window=window)
    assert judge(message(sent=inside), by_sent, SEOUL, max_redrives=3) is Verdict.SELECT
    assert judge(message(sent=outside), by_sent, SEOUL, max_redrives=3) is Verdict.OUT_OF_WINDOW
    by_field = Selection(window=window, time_field="occurredAt")
    body_in = json.dumps({"occurredAt": "2026-11-24T23:59:59+09:00"})
    assert judge(message(body_in, sent=outside), by_field, SEOUL, max_redrives=3) is Verdict.SELECT
    assert (
        judge(message("not json", sent=inside), by_field, SEOUL, max_redrives=3)
        is Verdict.UNREADABLE_TIME
    )
    assert judge(message("{}", sent=inside), by_field, SEOUL, max_redrives=3) is (
        Verdict.UNREADABLE_TIME
    )


def test_a_time_field_too_large_for_any_clock_is_unreadable_not_a_crash() -> None:
    # Given a JSON body whose time field is a 400-digit integer
    window = day_window(date(2026, 11, 24), SEOUL)
    huge = message('{"occurredAt": ' + "9" * 400 + "}")

    # When it is judged by that field, then its time is unreadable (no OverflowError escapes)
    selection = Selection(window=window, time_field="occurredAt")
    assert judge(huge, selection, SEOUL, max_redrives=3) is Verdict.UNREADABLE_TIME


def test_poison_messages_need_a_human_unless_forced() -> None:
    everything = Selection()
    assert judge(message(count=2), everything, SEOUL, max_redrives=3) is Verdict.SELECT
    assert judge(message(count=3), everything, SEOUL, max_redrives=3) is Verdict.NEEDS_HUMAN
    assert judge(message(count=7), everything, SEOUL, max_redrives=3, force=True) is Verdict.SELECT


def test_the_selection_describes_itself_for_reports() -> None:
    assert Selection().describe(SEOUL) == "all messages"
    day = Selection(window=day_window(date(2026, 11, 24), SEOUL), time_field="meta.date", limit=5)
    assert day.describe(SEOUL) == "2026-11-24 (Asia/Seoul), by body field 'meta.date', at most 5"
    assert "since" in Selection(window=TimeWindow(start=NOW)).describe(SEOUL)


def test_a_pin_selects_only_counted_ids_sent_before_its_time() -> None:
    # Given a pin of message "m1" (every test message has that id) at NOW
    pinned = Selection(pin=Pin(NOW, frozenset({pin_digest("m1")})))
    before, at = NOW - timedelta(seconds=1), NOW
    # Then m1 sent before NOW is selected; at NOW, or without a SentTimestamp, it is outside
    assert judge(message(sent=before), pinned, SEOUL, max_redrives=3) is Verdict.SELECT
    assert judge(message(sent=at), pinned, SEOUL, max_redrives=3) is Verdict.OUT_OF_WINDOW
    assert judge(message(), pinned, SEOUL, max_redrives=3) is Verdict.OUT_OF_WINDOW
    # And another id is outside, however early it was sent
    other = Selection(pin=Pin(NOW, frozenset({pin_digest("m2")})))
    assert judge(message(sent=before), other, SEOUL, max_redrives=3) is Verdict.OUT_OF_WINDOW
    # And a pin without ids keeps only the time bound
    by_time = Selection(pin=Pin(NOW, None))
    assert judge(message(sent=before), by_time, SEOUL, max_redrives=3) is Verdict.SELECT
    # And a SentTimestamp one millisecond before the bound is in, one no clock can hold is out
    just_before = message(sent=NOW - timedelta(milliseconds=1))
    assert judge(just_before, pinned, SEOUL, max_redrives=3) is Verdict.SELECT
    absurd = ReceivedMessage("m1", "h1", "{}", {"SentTimestamp": "9" * 400})
    assert judge(absurd, pinned, SEOUL, max_redrives=3) is Verdict.OUT_OF_WINDOW
    # And a pinned poison message still needs a human
    assert judge(message(sent=before, count=3), pinned, SEOUL, max_redrives=3) is (
        Verdict.NEEDS_HUMAN
    )


def test_a_pin_digest_is_12_bytes_of_the_ids_sha256() -> None:
    digest = pin_digest("3f2a-id")
    assert len(digest) == 12 and digest != pin_digest("3f2a-id2")
    assert digest == pin_digest("3f2a-id")


def test_a_pin_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="aware"):
        Pin(datetime(2026, 11, 25, 9, 0), None)


def test_the_selection_says_it_is_pinned() -> None:
    counted = Selection(limit=39, pin=Pin(NOW, frozenset(pin_digest(f"m{i}") for i in range(39))))
    assert counted.describe(SEOUL) == "all messages, at most 39, pinned to the 39 counted messages"
    one = Selection(pin=Pin(NOW, frozenset({pin_digest("m1")})))
    assert one.describe(SEOUL) == "all messages, pinned to the 1 counted message"
    by_time = Selection(pin=Pin(NOW, None))
    assert by_time.describe(SEOUL) == (
        "all messages, pinned to messages sent before 2026-11-25T12:00:00+09:00"
    )
