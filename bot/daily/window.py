"""Which days the daily auto-redrive takes: pure, no I/O.

Standard DLQs keep a message's original SentTimestamp (and a body's time field never changes),
so yesterday alone would miss a message sent late one day that dead-letters after the next
06:00 run. Each run takes again the last days of the previous finished window, for as long as a
message can spend in a source queue before SQS dead-letters it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.selection import TimeWindow, day_window
from bot.sqs_model import QueueInfo

# The auto-redrive never reaches further back than this many days (after days without a run).
CATCH_UP_DAYS = 7


def dead_letter_days(sources: Iterable[QueueInfo]) -> int:
    """How many days back from the previous window's end the auto-redrive of a DLQ fed by
    ``sources`` looks again: the longest a message can spend in one of them before SQS
    dead-letters it, by the queue's settings (maxReceiveCount receives, each hiding it for the
    VisibilityTimeout, after DelaySeconds), rounded up to whole days; at least 1 (the day the
    previous run went through may hold a message sent just before midnight), at most
    ``CATCH_UP_DAYS``. Time a message waits for a consumer, or a consumer that extends its
    visibility, is not in the settings: such a message can dead-letter later still."""
    longest = max(
        (s.dead_letters_within_s for s in sources if s.dead_letters_within_s is not None),
        default=0,
    )
    days = -(-longest // int(timedelta(days=1).total_seconds()))  # rounded up
    return min(CATCH_UP_DAYS, max(1, days))


def auto_redrive_window(
    previous_end: datetime | None, day: date, tz: ZoneInfo, *, lookback_days: int = 1
) -> TimeWindow:
    """The auto-redrive's window in the run that reports on ``day``: ``[start, day + 1)``.

    Each run takes again the last ``lookback_days`` days of the previous finished window
    (``previous_end``; see ``dead_letter_days``), and every day since: a message is taken by the
    first run after it dead-letters, as long as it dead-lettered within that time of being sent.
    Without a previous window, yesterday only; never more than ``CATCH_UP_DAYS`` days in all.
    """
    end = day_window(day, tz).end
    first = day
    if previous_end is not None:
        first = previous_end.astimezone(tz).date() - timedelta(days=lookback_days)
    first = min(day, max(first, day - timedelta(days=CATCH_UP_DAYS - 1)))
    return TimeWindow(day_window(first, tz).start, end)
