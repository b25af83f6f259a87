"""Which days the auto-redrive takes: the last day of the previous finished window again, and
every day since (issue 10, item 15). Pure: no server."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from bot.daily.window import CATCH_UP_DAYS, auto_redrive_window, dead_letter_days
from bot.selection import TimeWindow, day_window
from bot.sqs_model import QueueInfo

SEOUL = ZoneInfo("Asia/Seoul")


def test_the_window_starts_with_the_last_day_the_previous_run_took() -> None:
    day = date(2026, 3, 10)
    yesterday = day_window(day, SEOUL)
    # First run ever: yesterday only
    assert auto_redrive_window(None, day, SEOUL) == yesterday
    # The run of the day before finished its window at 00:00 today: that day again, and yesterday
    before = day_window(day - timedelta(days=1), SEOUL)
    assert before.end == yesterday.start
    assert auto_redrive_window(yesterday.start, day, SEOUL) == TimeWindow(
        before.start, yesterday.end
    )
    # The same run already finished (a later attempt sees an end of today): yesterday only
    assert auto_redrive_window(yesterday.end, day, SEOUL) == yesterday
    # Runs missed for a month: at most CATCH_UP_DAYS days back
    long_ago = day_window(day - timedelta(days=30), SEOUL).start
    window = auto_redrive_window(long_ago, day, SEOUL)
    assert window.start == day_window(day - timedelta(days=CATCH_UP_DAYS - 1), SEOUL).start
    assert window.end == yesterday.end


def _source(receives: int | None, visibility_s: int, delay_s: int = 0) -> QueueInfo:
    return QueueInfo(
        "orders",
        "https://sqs/orders",
        "arn:aws:sqs:us-east-1:1:orders",
        False,
        0,
        0,
        0,
        None if receives is None else "arn:aws:sqs:us-east-1:1:orders-dlq",
        visibility_timeout_s=visibility_s,
        delay_s=delay_s,
        max_receive_count=receives,
    )


def test_the_days_looked_back_cover_the_slowest_source_by_its_settings() -> None:
    hour = 3_600
    # No source (or none with a RedrivePolicy), or a quick one: the last day again, as before
    assert dead_letter_days([]) == 1
    assert dead_letter_days([_source(None, 12 * hour)]) == 1
    assert dead_letter_days([_source(1, 30)]) == 1
    # 5 receives of a 6-hour visibility timeout: up to 30 hours, so 2 days
    assert dead_letter_days([_source(1, 30), _source(5, 6 * hour)]) == 2
    # Exactly 2 days is 2 days; a delay on top makes it 3
    assert dead_letter_days([_source(4, 12 * hour)]) == 2
    assert dead_letter_days([_source(4, 12 * hour, delay_s=900)]) == 3
    # Never more than CATCH_UP_DAYS
    assert dead_letter_days([_source(1_000, 12 * hour)]) == CATCH_UP_DAYS


def test_the_window_starts_that_many_days_before_the_previous_end() -> None:
    day = date(2026, 3, 12)
    previous_end = day_window(day, SEOUL).start  # the run of the day before went through 11 Mar
    window = auto_redrive_window(previous_end, day, SEOUL, lookback_days=2)
    assert window == TimeWindow(
        day_window(date(2026, 3, 10), SEOUL).start, day_window(day, SEOUL).end
    )
    # and never more than CATCH_UP_DAYS days in all
    widest = auto_redrive_window(previous_end, day, SEOUL, lookback_days=CATCH_UP_DAYS)
    assert widest.start == day_window(day - timedelta(days=CATCH_UP_DAYS - 1), SEOUL).start
