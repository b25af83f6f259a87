"""When DLQ messages expire (bot.expiry): pure, no server.

A message expires at its SentTimestamp plus the DLQ's MessageRetentionPeriod; the messages that
expire before the next report are those sent before ``expiring_before(next report, retention)``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.expiry import (
    DEFAULT_RETENTION_S,
    ExpiryCounter,
    describe_next_expiry,
    expires_at,
    expiring,
    expiring_before,
    local_time,
    next_expiry,
    next_report_at,
    until_value,
)
from bot.sqs_model import ReceivedMessage, queue_info_from_attributes

SEOUL = ZoneInfo("Asia/Seoul")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
UTC_ZONE = ZoneInfo("UTC")
DAY = 86_400


def _message(sent: datetime | None, n: int = 0) -> ReceivedMessage:
    system = {"SentTimestamp": str(int(sent.timestamp() * 1000))} if sent else {}
    return ReceivedMessage(f"m{n}", f"h{n}", "{}", system, {})


def test_queue_info_reads_the_message_retention_period() -> None:
    # Given a queue description with MessageRetentionPeriod, and one without
    info = queue_info_from_attributes(
        "https://sqs/1/dlq", {"QueueArn": "arn:aws:sqs:r:1:dlq", "MessageRetentionPeriod": "120"}
    )
    bare = queue_info_from_attributes("https://sqs/1/dlq", {"QueueArn": "arn:aws:sqs:r:1:dlq"})
    # Then the first has it, the second says it is not known
    assert info.retention_s == 120
    assert bare.retention_s is None


@pytest.mark.parametrize(
    ("tz", "scheduled_local", "next_local", "hours"),
    [
        # Seoul has no DST: always 24 hours
        (SEOUL, datetime(2026, 12, 1, 6, 0), datetime(2026, 12, 2, 6, 0), 24),
        # Los Angeles falls back on 1 Nov 2026: 25 hours between the two 06:00 reports
        (LOS_ANGELES, datetime(2026, 10, 31, 6, 0), datetime(2026, 11, 1, 6, 0), 25),
        # ...and springs forward on 8 Mar 2026: 23 hours
        (LOS_ANGELES, datetime(2026, 3, 7, 6, 0), datetime(2026, 3, 8, 6, 0), 23),
        (UTC_ZONE, datetime(2026, 12, 1, 6, 0), datetime(2026, 12, 2, 6, 0), 24),
    ],
)
def test_the_next_report_is_the_same_wall_clock_time_the_next_day(
    tz: ZoneInfo, scheduled_local: datetime, next_local: datetime, hours: int
) -> None:
    # Given the report scheduled at 06:00 in the team's zone
    scheduled = scheduled_local.replace(tzinfo=tz).astimezone(UTC)
    # When the next report's time is worked out
    following = next_report_at(scheduled, tz)
    # Then it is 06:00 the next day in that zone, however long that day is
    assert following == next_local.replace(tzinfo=tz).astimezone(UTC)
    assert following - scheduled == timedelta(hours=hours)


@pytest.mark.parametrize("tz", [SEOUL, LOS_ANGELES, UTC_ZONE])
def test_expiring_before_selects_exactly_what_expires_before_the_next_report(
    tz: ZoneInfo,
) -> None:
    # Given the report of 31 Oct 2026 06:00 (the night LA's clocks fall back), a 2-day retention
    scheduled = datetime(2026, 10, 31, 6, 0, tzinfo=tz).astimezone(UTC)
    following = next_report_at(scheduled, tz)
    retention = 2 * DAY
    until = expiring_before(following, retention)
    # And messages sent a millisecond either side of the bound, and exactly on it
    just_before = until - timedelta(milliseconds=1)
    on_it = until
    # Then the one sent before it expires before the next report, the one on it exactly at it
    # (not before: it is still there when the report runs), and nothing else
    assert expires_at(just_before, retention) < following
    assert expires_at(on_it, retention) == following
    counter = ExpiryCounter(retention, until)
    for n, sent in enumerate([just_before, on_it, until + timedelta(hours=1)]):
        counter.add(_message(sent, n))
    assert counter.scan().expiring == 1
    # The bound is the report's time minus the retention: 2 days of real time, whatever the
    # wall clock did in between
    assert following - until == timedelta(days=2)


def test_a_whole_scan_gives_exact_figures() -> None:
    # Given a DLQ with a 4-day retention, the next report at 2026-12-02 06:00 in Seoul, and
    # five seeded messages, three of them sent more than 4 days before it
    following = datetime(2026, 12, 2, 6, 0, tzinfo=SEOUL)
    until = expiring_before(following, 4 * DAY)
    sent = [until - timedelta(hours=h) for h in (30, 5, 1)] + [
        until + timedelta(hours=h) for h in (1, 20)
    ]
    counter = ExpiryCounter(4 * DAY, until)
    for n, time in enumerate(sent):
        counter.add(_message(time, n))
    # When the scan saw all five (the DLQ held five)
    scan = counter.scan(population=5)
    found = expiring(scan)
    # Then the count is exact, and the oldest is the one sent 30 hours before the bound
    assert found is not None
    assert (found.count, found.exact) == (3, True)
    assert found.oldest_sent == until - timedelta(hours=30)
    assert found.oldest_expires == following - timedelta(hours=30)
    nxt = next_expiry(scan)
    assert nxt is not None and nxt.exact
    assert nxt.at == following - timedelta(hours=30)
    assert describe_next_expiry(nxt, SEOUL) == "2026-12-01 00:00 +09:00"


def test_a_partial_scan_gives_bounds_that_say_what_they_were_found_in() -> None:
    # Given a DLQ of about 40 messages of which the scan took 3 (capped)
    until = datetime(2026, 12, 1, tzinfo=UTC)
    counter = ExpiryCounter(DAY, until)
    for n, time in enumerate([until - timedelta(hours=2), until + timedelta(hours=3)]):
        counter.add(_message(time, n))
    counter.add(_message(until + timedelta(hours=5), 9))
    scan = counter.scan(capped=True, population=40)
    # Then the count is at least 1 (not exact), and the next expiry is at the latest the
    # oldest seen's: an unseen message may be older
    found = expiring(scan)
    assert found is not None
    assert (found.count, found.exact, found.scanned, found.population) == (1, False, 3, 40)
    nxt = next_expiry(scan)
    assert nxt is not None and not nxt.exact
    assert nxt.at == until - timedelta(hours=2) + timedelta(days=1)
    assert describe_next_expiry(nxt, LOS_ANGELES) == (
        "at the latest 2026-12-01 14:00 -08:00 (from 3 scanned of ~40)"
    )


def test_a_message_without_a_sent_time_makes_the_figures_a_bound() -> None:
    # Given a whole scan where one message has no SentTimestamp (its expiry cannot be known)
    until = datetime(2026, 12, 1, tzinfo=UTC)
    counter = ExpiryCounter(DAY, until)
    counter.add(_message(until - timedelta(hours=1), 1))
    counter.add(_message(None, 2))
    scan = counter.scan(population=2)
    # Then the scan was whole, yet the count is only a lower bound
    assert scan.whole and not scan.exact
    found = expiring(scan)
    assert found is not None and (found.count, found.exact) == (1, False)


def test_a_fifo_dlq_counts_from_the_sent_time_it_shows() -> None:
    # Given a FIFO DLQ: SQS reset each message's enqueue time when it moved in, so its
    # SentTimestamp is the entry time (the original send was days earlier, in the source)
    retention = 3 * DAY
    entered = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    counter = ExpiryCounter(retention, expiring_before(entered + timedelta(days=3), retention))
    counter.add(_message(entered, 1))
    scan = counter.scan(population=1)
    # Then it expires three days after it entered the DLQ (the same formula), not before
    nxt = next_expiry(scan)
    assert nxt is not None and nxt.exact and nxt.at == entered + timedelta(days=3)
    assert scan.expiring == 0


def test_an_empty_scan_has_no_next_expiry_and_unknown_retention_is_sqs_default() -> None:
    counter = ExpiryCounter(None, datetime(2026, 12, 1, tzinfo=UTC))
    scan = counter.scan(population=0)
    assert scan.retention_s == DEFAULT_RETENTION_S
    assert next_expiry(scan) is None
    assert describe_next_expiry(None, SEOUL) == "-"
    found = expiring(scan)
    assert found is not None and (found.count, found.exact, found.oldest_sent) == (0, True, None)


@pytest.mark.parametrize(
    ("tz", "text"),
    [
        (SEOUL, "2026-11-01 18:30 +09:00"),
        (LOS_ANGELES, "2026-11-01 01:30 -08:00"),  # the second 01:30 of that night
        (UTC_ZONE, "2026-11-01 09:30 +00:00"),
    ],
)
def test_times_are_shown_in_the_team_zone_with_their_offset(tz: ZoneInfo, text: str) -> None:
    assert local_time(datetime(2026, 11, 1, 9, 30, tzinfo=UTC), tz) == text


def test_the_button_until_selects_the_same_messages_as_the_count() -> None:
    # Given a bound with a fraction of a millisecond (a report scheduled off the second)
    until = datetime(2026, 12, 1, 3, 0, 0, 250_400, tzinfo=UTC)
    text = until_value(until, SEOUL)
    # Then the text is in Seoul with its offset, rounded up to the millisecond
    assert text == "2026-12-01T12:00:00.251+09:00"
    # And a message sent in the bound's own millisecond (before the bound) is still selected,
    # one sent a millisecond later is not: whole-millisecond SentTimestamps compare the same way
    bound = datetime.fromisoformat(text)
    counted = ExpiryCounter(DAY, until)
    for n, millis in enumerate((250, 251)):
        sent = datetime(2026, 12, 1, 3, 0, 0, millis * 1000, tzinfo=UTC)
        counted.add(_message(sent, n))
        assert (sent < until) == (sent < bound)
    assert counted.scan().expiring == 1
    assert until_value(datetime(2026, 12, 1, 3, 0, tzinfo=UTC), UTC_ZONE) == (
        "2026-12-01T03:00:00+00:00"
    )
