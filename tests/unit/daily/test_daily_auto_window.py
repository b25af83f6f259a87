"""Which days the auto-redrive takes: the last day of the previous finished window again, and
every day since (issue 10, item 15). Pure: no server."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from bot.daily.job import CATCH_UP_DAYS, auto_redrive_window
from bot.selection import TimeWindow, day_window

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
