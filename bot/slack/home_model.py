"""What the App Home tab shows, as plain data (no I/O, no boto3, no slack_sdk).

``bot.slack.home_data`` reads it (SQS attributes, daily snapshots, the last scan's facts, pending
approvals, runs in progress); ``bot.slack.home_view`` turns it into Block Kit. Kept apart so the
view is a pure function tested without any server, and the reader without any Slack wording.

Figures keep where they came from: ``depth`` / ``in_flight`` are SQS's approximate counts read
when the tab was opened; ``ScanFacts`` are what the last daily scan found (exact only when it
read every message); a ``TrendPoint`` says whether the report counted it or took SQS's estimate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

# The parts of the tab a read can miss while the rest shows (``HomeData.not_read``): for those,
# an empty value means "not read", and the view must not say "none" (a false figure).
HomePart = Literal["dlqs", "approvals", "runs", "scans"]


@dataclass(frozen=True)
class TrendPoint:
    """One daily-report snapshot of a DLQ (``bot.daily.snapshots.Snapshot``)."""

    day: date
    depth: int
    exact: bool  # counted by the report (True) or SQS's approximate count


@dataclass(frozen=True)
class ErrorGroupFact:
    """One error group the last scan found."""

    label: str  # untrusted (from messages): escape it
    count: int


@dataclass(frozen=True)
class ScanFacts:
    """What the last daily scan of one DLQ found (stored and read by ``bot.daily.scan_facts``)."""

    dlq: str
    scanned_at: datetime
    messages: int  # how many messages the scan read
    complete: bool  # True: it read every message (figures exact); False: lower bounds
    oldest_sent: datetime | None  # SentTimestamp of the oldest message read
    next_expiry: datetime | None  # when the first message read expires (oldest_sent + retention)
    top_errors: tuple[ErrorGroupFact, ...]  # at most 3, largest first


@dataclass(frozen=True)
class HomeDlq:
    """One watched DLQ as the Home tab shows it."""

    name: str
    kind: str  # WatchedDlq.kind_label(): feeder kinds as of HomeData.kinds_as_of
    fifo: bool
    depth: int  # ApproximateNumberOfMessages, read on open
    in_flight: int  # ApproximateNumberOfMessagesNotVisible, read on open
    retention_s: int | None
    # Up to the last 7 report days, oldest first (days without a snapshot absent).
    trend: tuple[TrendPoint, ...]
    scan: ScanFacts | None  # None: no daily scan recorded yet


@dataclass(frozen=True)
class PendingApproval:
    """An approval request still waiting for a decision."""

    request_id: str
    dlq: str
    action: str  # RequestAction value
    matched: int
    count_complete: bool
    selection_text: str  # untrusted-ish: escape
    requested_by: str  # user id
    requested_at: datetime
    expires_at: datetime
    channel: str  # where the card is
    message_ts: str | None
    mine: bool  # requested by the Home's viewer
    may_decide: bool  # the viewer may approve it (approvers policy, not their own unless allowed)


@dataclass(frozen=True)
class RunInProgress:
    """A redrive (or other action) run that has not finished."""

    run_id: str
    dlq: str
    action: str
    moved: int
    matched: int  # at most this many (the approved count)
    started_at: datetime
    approved_by: str | None


@dataclass(frozen=True)
class HomeData:
    """Everything one viewer's Home tab shows, read at ``read_at``."""

    user: str
    read_at: datetime
    dlqs: tuple[HomeDlq, ...]  # every watched DLQ, sorted by depth desc then name
    approvals: tuple[PendingApproval, ...]
    runs: tuple[RunInProgress, ...]
    unread: tuple[str, ...]  # plain lines (bot.kind_words.unread_lines) of kinds not read
    problems: tuple[str, ...] = ()  # plain lines: what could not be read (state table down...)
    not_read: frozenset[HomePart] = frozenset()  # parts whose empty value is a failed read
    # The runs in progress were looked for among the latest this many runs (None: among every
    # run): an older one still going is not in ``runs``, so their count is a lower bound.
    runs_window: int | None = None
    # Watched DLQs whose attributes could not be read (each a ``problems`` line): not in
    # ``dlqs``, so the tab's count and total are of those read.
    dlqs_not_read: int = 0
    # When the daily report recorded the feeder kinds shown, and ``unread`` (None: no report
    # has recorded them yet, or its record could not be read: the kinds say "not known yet").
    kinds_as_of: datetime | None = None
