"""The daily report's record of the feeder-fed DLQs (``bot.alerts.store.FedDlqStore``) with each
one's feeder kinds and the kinds its scan could not read, as the App Home tab reads it
(``bot.watched_dlqs``): kinds as recorded, "not known yet" for a record written before kinds
were kept (never a guess), on the in-memory state table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.alerts.store import FED, WATCH, FedDlqStore
from bot.feeders import Kind
from bot.sqs_model import QueueInfo
from bot.state_schema import PARTITION_KEY, SORT_KEY
from bot.watched_dlqs import NOT_KNOWN, FedRecord, WatchedDlq
from tests.unit.fake_state_table import FakeStateTable

NOW = datetime(2026, 12, 1, 6, 0, 12, tzinfo=UTC)


def test_the_kinds_and_the_kinds_not_read_come_back_as_recorded() -> None:
    # Given a report's record: two fed DLQs, SNS subscriptions not read
    store = FedDlqStore(FakeStateTable())
    store.record(
        {"notices-dlq": "https://q/notices-dlq", "resize-dlq": "https://q/resize-dlq"},
        kinds={"notices-dlq": (Kind.SNS, Kind.EVENTS), "resize-dlq": (Kind.LAMBDA,)},
        unread=((Kind.SNS, "AccessDenied: no sns:ListSubscriptions"),),
        now=NOW,
    )
    # When it is read back
    record = store.latest()
    # Then each DLQ's kinds, the kind not read and when are as recorded
    assert record == FedRecord(
        urls={"notices-dlq": "https://q/notices-dlq", "resize-dlq": "https://q/resize-dlq"},
        kinds={"notices-dlq": (Kind.SNS, Kind.EVENTS), "resize-dlq": (Kind.LAMBDA,)},
        unread=((Kind.SNS, "AccessDenied: no sns:ListSubscriptions"),),
        recorded_at=NOW,
    )
    # and the alert checks' view of it is unchanged: the URLs
    assert store.read() == record.urls
    # and a DLQ it does not name had no feeder when the report scanned
    assert record.feeder_kinds("orders-dlq") == ()


def test_a_record_of_urls_only_has_kinds_not_known() -> None:
    # Given the record an earlier version wrote (no kinds, no unread)
    table = FakeStateTable()
    table.put(
        {
            PARTITION_KEY: {"S": WATCH},
            SORT_KEY: {"S": FED},
            "dlqs": {"M": {"notices-dlq": {"S": "https://q/notices-dlq"}}},
            "recorded_at": {"S": NOW.isoformat(timespec="seconds")},
        },
        doing="write an old record",
    )
    record = FedDlqStore(table).latest()
    # Then the fed DLQ's kinds are not known; one it does not name had none then
    assert record.feeder_kinds("notices-dlq") is None
    assert record.feeder_kinds("orders-dlq") == ()
    assert record.recorded_at == NOW and record.unread == ()


def test_no_record_yet_knows_no_kinds() -> None:
    record = FedDlqStore(FakeStateTable()).latest()
    assert record == FedRecord() and record.feeder_kinds("orders-dlq") is None


def test_a_partial_scan_keeps_the_kinds_held_and_records_what_it_could_not_read() -> None:
    # Given a full report's record, then one whose scan could not read SNS subscriptions
    store = FedDlqStore(FakeStateTable())
    store.record({"a-dlq": "https://q/a"}, kinds={"a-dlq": (Kind.SNS,)}, now=NOW)
    later = NOW + timedelta(days=1)
    store.record(
        {"b-dlq": "https://q/b"},
        kinds={"b-dlq": (Kind.LAMBDA,)},
        unread=((Kind.SNS, "throttled"),),
        now=later,
        partial=True,
    )
    record = store.latest()
    # Then both DLQs keep their kinds, and the record says what the later scan missed and when
    assert record.kinds == {"a-dlq": (Kind.SNS,), "b-dlq": (Kind.LAMBDA,)}
    assert record.unread == ((Kind.SNS, "throttled"),) and record.recorded_at == later


def test_a_dlqs_kind_words() -> None:
    info = QueueInfo("x", "https://q/x", "arn:aws:sqs:us-east-1:1:x", False, 0, 0, 0, None)
    assert WatchedDlq(info, True, ()).kind_label() == "sqs"
    assert WatchedDlq(info, True, (Kind.SNS,)).kind_label() == "sqs+sns"
    assert WatchedDlq(info, False, (Kind.LAMBDA, Kind.SNS)).kind_label() == "sns+lambda"
    assert WatchedDlq(info, False, None).kind_label() == NOT_KNOWN
    assert WatchedDlq(info, True, None).kind_label() == f"sqs, other {NOT_KNOWN}"
