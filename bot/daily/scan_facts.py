"""What the last daily scan of each DLQ found, kept for the App Home tab.

The Home never receives a message (opening a tab must not touch a DLQ's messages or their
receive counts), so the figures only a scan can give (the oldest message, when the first one
expires, the top error groups) come from the daily report's scan: after it, the job stores each
readable DLQ's facts, taken from the very figures its report shows (``facts_of``).

One item per DLQ: ``pk = "SCANFACTS#<dlq name>"``, ``sk = "LATEST"``, overwritten by each daily
run (never by an older scan: a late retry of yesterday's run keeps today's), expiring
``RETENTION`` after it was written (a DLQ no longer watched leaves none behind).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.expiry import next_expiry
from bot.slack.home_model import ErrorGroupFact, ScanFacts
from bot.state_schema import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE
from bot.state_table_api import ConditionFailedError, Item, StateTableApi, key

if TYPE_CHECKING:  # a type only: the worker reads these facts without the report's model
    from bot.daily.report import DlqStatus

RETENTION = timedelta(days=60)
PREFIX = "SCANFACTS#"
LATEST = "LATEST"


def facts_of(status: DlqStatus, scanned_at: datetime) -> ScanFacts | None:
    """What the report's scan of ``status`` found, as the report shows it (None: the DLQ could
    not be read). Exact only when the scan received every message and each had a SentTimestamp;
    otherwise the oldest is "at least" that old and the next expiry "at the latest"."""
    figures = status.figures
    if status.error is not None or figures is None:
        return None
    scan = status.expiry
    next_one = None if scan is None else next_expiry(scan)
    return ScanFacts(
        dlq=status.name,
        scanned_at=scanned_at,
        messages=figures.sampled,
        complete=figures.whole and (scan is None or scan.exact),
        oldest_sent=figures.oldest_sent,
        next_expiry=None if next_one is None else next_one.at,
        top_errors=tuple(ErrorGroupFact(g.label, g.count) for g in figures.error_groups),
    )


def _instant(value: datetime) -> str:
    # UTC to the microsecond, always the same length: the text sorts as the time does, which
    # the "never older" condition compares.
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _to_item(facts: ScanFacts, now: datetime) -> Item:
    item: Item = {
        PARTITION_KEY: {"S": PREFIX + facts.dlq},
        SORT_KEY: {"S": LATEST},
        "scanned_at": {"S": _instant(facts.scanned_at)},
        "messages": {"N": str(facts.messages)},
        "complete": {"BOOL": facts.complete},
        "top_errors": {
            "L": [
                {"M": {"label": {"S": group.label}, "count": {"N": str(group.count)}}}
                for group in facts.top_errors
            ]
        },
        TTL_ATTRIBUTE: {"N": str(int((now + RETENTION).timestamp()))},
    }
    if facts.oldest_sent is not None:
        item["oldest_sent"] = {"S": _instant(facts.oldest_sent)}
    if facts.next_expiry is not None:
        item["next_expiry"] = {"S": _instant(facts.next_expiry)}
    return item


def _from_item(item: Item) -> ScanFacts:
    def instant(name: str) -> datetime | None:
        value: dict[str, Any] | None = item.get(name)
        return None if value is None else datetime.fromisoformat(value["S"])

    scanned_at = instant("scanned_at")
    assert scanned_at is not None  # every item is written with it
    return ScanFacts(
        dlq=item[PARTITION_KEY]["S"].removeprefix(PREFIX),
        scanned_at=scanned_at,
        messages=int(item["messages"]["N"]),
        complete=bool(item["complete"]["BOOL"]),
        oldest_sent=instant("oldest_sent"),
        next_expiry=instant("next_expiry"),
        top_errors=tuple(
            ErrorGroupFact(group["M"]["label"]["S"], int(group["M"]["count"]["N"]))
            for group in item["top_errors"]["L"]
        ),
    )


class ScanFactsStore:
    """Reads and writes ``ScanFacts`` items; the only code touching them in the state table."""

    def __init__(self, table: StateTableApi) -> None:
        self.table = table

    def put(self, facts: ScanFacts, *, now: datetime) -> bool:
        """Store ``facts`` (at ``now``) as the DLQ's latest unless a later scan's are stored
        already; False then (nothing written)."""
        try:
            self.table.put(
                _to_item(facts, now),
                condition="attribute_not_exists(pk) OR scanned_at <= :at",
                values={":at": {"S": _instant(facts.scanned_at)}},
                doing=f"save the scan facts of {facts.dlq!r}",
            )
        except ConditionFailedError:
            return False
        return True

    def put_all(self, facts: list[ScanFacts], *, now: datetime) -> None:
        """``put`` each DLQ's facts, up to 8 at once (AwsError: the first refusal)."""
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda one: self.put(one, now=now), facts))

    def get_many(self, dlqs: list[str]) -> dict[str, ScanFacts]:
        """The latest facts of these DLQs, by name (a DLQ never scanned is absent): one
        BatchGetItem per 100 DLQs."""
        names = list(dict.fromkeys(dlqs))  # DynamoDB refuses a batch naming a key twice
        if not names:
            return {}
        items = self.table.batch_get(
            [key(PREFIX + name, LATEST) for name in names], doing="read the last scans' facts"
        )
        found = (_from_item(item) for item in items)
        return {facts.dlq: facts for facts in found}
