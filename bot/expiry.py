"""When a DLQ's messages expire: pure, no I/O.

SQS deletes a message, silently, once it has been in the queue for the queue's
MessageRetentionPeriod, counted from its SentTimestamp. In a standard DLQ the SentTimestamp is the
original enqueue time in the source queue (AWS: "the expiration of a message is always based on
its original enqueue timestamp"), so a message can reach the DLQ with little of its retention
left. A FIFO DLQ resets the enqueue time when the message moves in, and its SentTimestamp shows
the reset time. Either way the DLQ's own figures give the rule: a message expires at its
SentTimestamp plus the DLQ's retention.

So the messages that expire before an instant ``t`` are exactly those sent before
``t - retention`` (``expiring_before``): a plain "sent before" selection (``--until``), which is
what the report's buttons select.

A scan sees a DLQ's messages one at a time (``ExpiryCounter``). When it saw every message its
figures are the DLQ's, exactly; otherwise the count is a lower bound and the next expiry an upper
bound ("at the latest": an unseen message may be older), each saying what it was found in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.sqs_model import ReceivedMessage

# SQS's default MessageRetentionPeriod (4 days), for a queue description that does not say.
DEFAULT_RETENTION_S = 345_600

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def sent_at(message: ReceivedMessage) -> datetime | None:
    """The message's SentTimestamp as an aware UTC instant (None: it has none)."""
    millis = message.sent_timestamp_ms
    if millis is None:
        return None
    # Whole milliseconds added to the epoch: exact, and no OverflowError from fromtimestamp.
    try:
        return _EPOCH + timedelta(milliseconds=millis)
    except OverflowError:
        return None


def expires_at(sent: datetime, retention_s: int) -> datetime:
    """When SQS deletes a message sent at ``sent`` from a queue keeping messages ``retention_s``
    seconds."""
    return sent + timedelta(seconds=retention_s)


def expiring_before(before: datetime, retention_s: int) -> datetime:
    """The sent-time bound ``until``: a message expires before ``before`` exactly when it was sent
    before ``until`` (so ``--until`` with it selects what expires by then)."""
    return before - timedelta(seconds=retention_s)


def until_value(until: datetime, tz: ZoneInfo) -> str:
    """``until`` as a button carries it: ISO 8601 in ``tz`` with its offset, rounded up to the
    millisecond. SentTimestamp counts whole milliseconds, so ``sent < until`` and ``sent <`` the
    rounded-up value hold for the same messages: the text selects exactly what was counted."""
    rest = until.microsecond % 1000
    if rest:
        until += timedelta(microseconds=1000 - rest)
    local = until.astimezone(tz)
    return local.isoformat(timespec="milliseconds" if local.microsecond else "seconds")


def next_report_at(scheduled: datetime, tz: ZoneInfo) -> datetime:
    """The daily report after the one scheduled at ``scheduled``: the same wall-clock time the
    next day in ``tz`` (the schedule is a daily cron in that zone, so across a DST change it is
    23 or 25 hours later), as an aware UTC instant."""
    local = scheduled.astimezone(tz)
    following: date = local.date() + timedelta(days=1)
    wall = time(local.hour, local.minute, local.second, local.microsecond)
    return datetime.combine(following, wall, tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class ExpiryScan:
    """What a scan of one DLQ found about expiry.

    ``until``: the sent-time bound counted against (``expiring_before``), None if none was asked.
    ``expiring``: messages seen sent before ``until``. ``oldest_sent``: the oldest SentTimestamp
    seen. ``undated``: messages seen without a SentTimestamp (their expiry is unknown).
    ``scanned`` of ``population`` (SQS's approximate count when the scan began); ``whole``: the
    scan received every message the DLQ held.
    """

    retention_s: int
    until: datetime | None
    scanned: int
    population: int
    whole: bool
    expiring: int
    oldest_sent: datetime | None
    undated: int = 0

    @property
    def exact(self) -> bool:
        """The figures are the DLQ's own: every message seen and dated."""
        return self.whole and not self.undated


@dataclass(frozen=True)
class Expiring:
    """How many messages of a DLQ expire before a time, and the oldest of them.

    ``count`` is exact, or at least that many (``exact`` False: found among ``scanned`` of about
    ``population``). ``oldest_sent`` / ``oldest_expires``: the oldest message seen; when not
    ``exact`` an unseen one may be older, so its expiry is "at the latest".
    """

    count: int
    exact: bool
    scanned: int
    population: int
    until: datetime
    oldest_sent: datetime | None
    oldest_expires: datetime | None


@dataclass(frozen=True)
class NextExpiry:
    """When the next message of a DLQ expires: exactly ``at`` (``exact``), or at the latest
    ``at`` (found among ``scanned`` of about ``population``)."""

    at: datetime
    exact: bool
    scanned: int
    population: int
    undated: int = 0  # of those scanned, without a SentTimestamp: when they expire is unknown


def expiring(scan: ExpiryScan) -> Expiring | None:
    """What ``scan`` says expires before its ``until`` (None: no ``until`` was counted)."""
    if scan.until is None:
        return None
    oldest = scan.oldest_sent
    return Expiring(
        count=scan.expiring,
        exact=scan.exact,
        scanned=scan.scanned,
        population=scan.population,
        until=scan.until,
        oldest_sent=oldest,
        oldest_expires=None if oldest is None else expires_at(oldest, scan.retention_s),
    )


def next_expiry(scan: ExpiryScan) -> NextExpiry | None:
    """When the next message expires, from ``scan`` (None: it saw no dated message)."""
    if scan.oldest_sent is None:
        return None
    return NextExpiry(
        at=expires_at(scan.oldest_sent, scan.retention_s),
        exact=scan.exact,
        scanned=scan.scanned,
        population=scan.population,
        undated=scan.undated,
    )


def describe_next_expiry(next_one: NextExpiry | None, tz: ZoneInfo) -> str:
    """One short text for a table cell or a line: ``2026-12-03 06:00 +09:00`` when exact, else
    ``at the latest …`` with what the scan saw; ``-`` when nothing was seen."""
    if next_one is None:
        return "-"
    if next_one.exact:
        return local_time(next_one.at, tz)
    when = latest_local_time(next_one.at, tz)
    # Why it is a bound: not every message was seen, or some seen had no SentTimestamp.
    undated = f", {next_one.undated:,} without a SentTimestamp" if next_one.undated else ""
    return (
        f"at the latest {when} (from {next_one.scanned:,} scanned of "
        f"~{next_one.population:,}{undated})"
    )


def latest_local_time(bound: datetime, tz: ZoneInfo) -> str:
    """An upper bound ("at the latest …") in ``tz`` to the minute, rounded up: "at the latest
    22:39" for 22:39:04 would say the message is gone seconds before it is."""
    past_minute = bound - bound.replace(second=0, microsecond=0)
    return local_time(bound + (timedelta(minutes=1) - past_minute) % timedelta(minutes=1), tz)


def local_time(instant: datetime, tz: ZoneInfo) -> str:
    """``instant`` in ``tz`` to the minute, with its offset (unambiguous across DST changes)."""
    local = instant.astimezone(tz)
    offset = local.strftime("%z")
    return f"{local.strftime('%Y-%m-%d %H:%M')} {offset[:3]}:{offset[3:]}"


class ExpiryCounter:
    """Counts one DLQ's expiry figures as a scan hands over its messages, keeping no message.

    ``until``: count the messages sent before it (``expiring_before``); None counts only the
    oldest. Not thread-safe (one scan feeds one counter)."""

    def __init__(self, retention_s: int | None, until: datetime | None = None) -> None:
        self.retention_s = DEFAULT_RETENTION_S if retention_s is None else retention_s
        self.until = until
        self.scanned = self.expiring = self.undated = 0
        self.oldest: datetime | None = None

    def add(self, message: ReceivedMessage) -> None:
        """Count one message (each message once)."""
        self.scanned += 1
        sent = sent_at(message)
        if sent is None:
            self.undated += 1
            return
        if self.oldest is None or sent < self.oldest:
            self.oldest = sent
        if self.until is not None and sent < self.until:
            self.expiring += 1

    def scan(self, *, capped: bool = False, population: int | None = None) -> ExpiryScan:
        """The figures so far. ``capped``: the DLQ held more than the scan took;
        ``population``: how many it held (default: as many as were counted)."""
        held = self.scanned if population is None else population
        return ExpiryScan(
            retention_s=self.retention_s,
            until=self.until,
            scanned=self.scanned,
            population=held,
            whole=not capped and self.scanned >= held,
            expiring=self.expiring,
            oldest_sent=self.oldest,
            undated=self.undated,
        )
