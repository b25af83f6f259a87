"""Each DLQ's last scan facts (bot.daily.scan_facts) on the in-memory state table: taken from the
figures the report shows, stored one item per DLQ, never replaced by an older scan, read back
in batches of at most 100 keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.daily.figures import ErrorGroup, SampleFigures
from bot.daily.report import DlqStatus
from bot.daily.scan_facts import ScanFactsStore, facts_of
from bot.errors import AwsError
from bot.expiry import ExpiryScan
from bot.slack.home_model import ErrorGroupFact, ScanFacts
from tests.unit.fake_state_table import FakeStateTable

SCANNED = datetime(2026, 12, 1, 6, 0, 2, 500_000, tzinfo=UTC)
OLDEST = datetime(2026, 11, 28, 9, 30, 0, 123_000, tzinfo=UTC)
RETENTION_S = 4 * 86_400


def _figures(*, sampled: int, population: int, capped: bool = False) -> SampleFigures:
    return SampleFigures(
        sampled=sampled,
        capped=capped,
        oldest_sent=OLDEST,
        arrived_yesterday=2,
        unreadable_time=0,
        poison=0,
        error_groups=(
            ErrorGroup("Timeout <!channel>", 3, True),
            ErrorGroup("BadInput", 2, True),
            ErrorGroup("{id:number}", 1, False),
        ),
        other_errors=1,
        population=population,
    )


def _expiry(*, scanned: int, population: int, undated: int = 0) -> ExpiryScan:
    return ExpiryScan(
        retention_s=RETENTION_S,
        until=None,
        scanned=scanned,
        population=population,
        whole=scanned >= population,
        expiring=0,
        oldest_sent=OLDEST,
        undated=undated,
    )


def _facts(dlq: str = "orders-dlq", **changes: object) -> ScanFacts:
    values: dict[str, object] = {
        "dlq": dlq,
        "scanned_at": SCANNED,
        "messages": 7,
        "complete": True,
        "oldest_sent": OLDEST,
        "next_expiry": OLDEST + timedelta(seconds=RETENTION_S),
        "top_errors": (ErrorGroupFact("Timeout <!channel>", 3), ErrorGroupFact("BadInput", 2)),
    }
    values.update(changes)
    return ScanFacts(**values)  # type: ignore[arg-type]


# --- what the report shows -> the facts ----------------------------------------------------------


def test_a_whole_scan_gives_exact_facts_as_the_report_shows_them() -> None:
    # Given a DLQ the report's scan read whole (7 of 7)
    status = DlqStatus(
        name="orders-dlq",
        depth=7,
        depth_before=7,
        figures=_figures(sampled=7, population=7),
        expiry=_expiry(scanned=7, population=7),
    )

    facts = facts_of(status, SCANNED)

    # Then the facts are the report's own figures: the same oldest, expiry and top groups
    assert facts == ScanFacts(
        dlq="orders-dlq",
        scanned_at=SCANNED,
        messages=7,
        complete=True,
        oldest_sent=OLDEST,
        next_expiry=OLDEST + timedelta(seconds=RETENTION_S),
        top_errors=(
            ErrorGroupFact("Timeout <!channel>", 3),
            ErrorGroupFact("BadInput", 2),
            ErrorGroupFact("{id:number}", 1),
        ),
    )


@pytest.mark.parametrize(
    ("figures", "expiry"),
    [
        # the scan stopped at its sample size
        (_figures(sampled=5, population=9, capped=True), _expiry(scanned=5, population=9)),
        # in-flight messages were not received
        (_figures(sampled=5, population=7), _expiry(scanned=5, population=7)),
        # every message received, one without a SentTimestamp: its expiry is unknown
        (_figures(sampled=7, population=7), _expiry(scanned=7, population=7, undated=1)),
    ],
)
def test_a_partial_scan_gives_lower_bounds(figures: SampleFigures, expiry: ExpiryScan) -> None:
    status = DlqStatus(name="orders-dlq", depth=9, figures=figures, expiry=expiry)
    facts = facts_of(status, SCANNED)
    assert facts is not None and facts.complete is False
    assert facts.messages == figures.sampled


def test_an_unreadable_dlq_has_no_facts_and_an_unknown_retention_no_expiry() -> None:
    assert facts_of(DlqStatus(name="gone-dlq", error="no such queue"), SCANNED) is None
    status = DlqStatus(name="orders-dlq", depth=7, figures=_figures(sampled=7, population=7))
    facts = facts_of(status, SCANNED)
    assert facts is not None and facts.next_expiry is None and facts.complete is True


# --- the store -----------------------------------------------------------------------------------


def test_facts_are_stored_one_item_per_dlq_and_read_back_equal() -> None:
    # Given two DLQs' facts, one of an empty DLQ (nothing oldest, nothing expiring)
    table = FakeStateTable()
    store = ScanFactsStore(table)
    empty = _facts("empty-dlq", messages=0, oldest_sent=None, next_expiry=None, top_errors=())
    now = SCANNED + timedelta(minutes=3)

    store.put_all([_facts(), empty], now=now)

    # Then each is one item, expiring 60 days after it was written, and reads back equal
    assert sorted(table.items) == [
        ("SCANFACTS#empty-dlq", "LATEST"),
        ("SCANFACTS#orders-dlq", "LATEST"),
    ]
    item = table.items[("SCANFACTS#orders-dlq", "LATEST")]
    assert item["expires_at"] == {"N": str(int((now + timedelta(days=60)).timestamp()))}
    table.calls.clear()
    got = store.get_many(["orders-dlq", "empty-dlq", "never-scanned-dlq", "orders-dlq"])
    assert got == {"orders-dlq": _facts(), "empty-dlq": empty}
    assert table.calls == ["batch_get"]


def test_a_later_run_replaces_the_facts_and_an_older_scan_never_does() -> None:
    table = FakeStateTable()
    store = ScanFactsStore(table)
    store.put_all([_facts(messages=7)], now=SCANNED)
    tomorrow = SCANNED + timedelta(days=1)

    # When today's run stores its facts, then a late retry of yesterday's run stores its own
    store.put_all([_facts(messages=2, scanned_at=tomorrow)], now=tomorrow)
    assert store.put(_facts(messages=7), now=tomorrow) is False

    # Then today's stay
    assert store.get_many(["orders-dlq"])["orders-dlq"].messages == 2


def test_the_same_scan_stored_again_is_written_again() -> None:
    # (a Lambda retry of the same run writes the same scan time: not refused)
    store = ScanFactsStore(FakeStateTable())
    assert store.put(_facts(), now=SCANNED) is True
    assert store.put(_facts(messages=8), now=SCANNED) is True
    assert store.get_many(["orders-dlq"])["orders-dlq"].messages == 8


def test_facts_of_more_dlqs_than_one_batch_get_takes_come_back() -> None:
    store = ScanFactsStore(FakeStateTable())
    names = [f"svc{n:03d}-dlq" for n in range(250)]
    store.put_all([_facts(name) for name in names], now=SCANNED)
    got = store.get_many(names)
    assert sorted(got) == names and got["svc249-dlq"] == _facts("svc249-dlq")


def test_no_dlq_reads_nothing_and_a_refusal_is_an_aws_error() -> None:
    table = FakeStateTable()
    store = ScanFactsStore(table)
    assert store.get_many([]) == {} and table.calls == []
    table.fail_call = lambda operation: "ServiceUnavailable"
    with pytest.raises(AwsError):
        store.get_many(["orders-dlq"])
