"""What issue 12's full-size drill on LocalStack (infra.local.incident_drill_actions) found,
kept as tests of the parts at fault: pure, no server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.expiry import ExpiryCounter, describe_next_expiry, next_expiry
from bot.sqs_model import ReceivedMessage

HOUR = 3600


def _sent(at: datetime, n: int = 0) -> ReceivedMessage:
    return ReceivedMessage(
        f"m{n}", f"h{n}", "{}", {"SentTimestamp": str(int(at.timestamp() * 1000))}
    )


def test_an_at_the_latest_expiry_between_minutes_is_not_shown_before_it() -> None:
    # Given (as in the drill) the oldest message seen expires at 22:39:04.791, and the scan saw
    # 1,000 of 14,000: the next expiry is at the latest 22:39:04.791
    sent = datetime(2026, 12, 1, 21, 39, 4, 791_000, tzinfo=UTC)
    counter = ExpiryCounter(HOUR)
    counter.add(_sent(sent))
    bound = next_expiry(counter.scan(capped=True, population=14_000))
    assert bound is not None and not bound.exact
    # Then the minute shown is one by which it has expired: "at the latest 22:39" would say it
    # is gone 4.8 s before it is (a bound shown to the minute is rounded up, never down)
    assert describe_next_expiry(bound, ZoneInfo("UTC")) == (
        "at the latest 2026-12-01 22:40 +00:00 (from 1 scanned of ~14,000)"
    )


def test_an_at_the_latest_expiry_on_the_minute_stays_on_it() -> None:
    sent = datetime(2026, 12, 1, 21, 39, tzinfo=UTC)
    counter = ExpiryCounter(HOUR)
    counter.add(_sent(sent))
    bound = next_expiry(counter.scan(capped=True, population=20))
    assert bound is not None
    assert describe_next_expiry(bound, ZoneInfo("Asia/Seoul")) == (
        "at the latest 2026-12-02 07:39 +09:00 (from 1 scanned of ~20)"
    )
    # An exact expiry keeps its minute (22:39:30 is "22:39", as a clock shows it)
    exact = next_expiry(counter.scan(population=1))
    assert exact is not None and exact.exact
    later = ExpiryCounter(HOUR)
    later.add(_sent(sent + timedelta(seconds=30)))
    assert describe_next_expiry(next_expiry(later.scan(population=1)), ZoneInfo("UTC")) == (
        "2026-12-01 22:39 +00:00"
    )
