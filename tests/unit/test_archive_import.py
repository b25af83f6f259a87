"""Importing an archive (issue 12) on the in-memory SQS: records go back batched like a redrive,
exactly as exported; what a queue cannot take is counted with the reason and the import goes on;
failures on SQS's side are retried, a lost answer is never sent again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.archive_files import JsonlFileSource
from bot.archive_model import ArchiveFormatError, ArchiveRecord
from bot.importer import NO_GROUP, TOO_LARGE, import_records, import_words
from bot.planner import dedup_id
from bot.sqs_model import SendFailure
from tests.unit.fake_sqs import FakeSqs

ATTRIBUTES = {
    "text": {"DataType": "String", "StringValue": "héllo"},
    "num": {"DataType": "Number", "StringValue": "7"},
    "blob": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
    "dlq-redrive-count": {"DataType": "Number", "StringValue": "2"},
    "dlq-redrive-lineage": {"DataType": "String", "StringValue": "canary-1"},
}


def record(n: int, *, group: str | None = None, body: str | None = None) -> ArchiveRecord:
    system = {"SentTimestamp": "1764547200000", "AWSTraceHeader": "Root=1-abc"}
    if group is not None:
        system["MessageGroupId"] = group
    return ArchiveRecord(
        f"id-{n}", body if body is not None else f"body {n}\n\u2028", ATTRIBUTES, system, "dlq"
    )


class Recording(FakeSqs):
    """The in-memory SQS, keeping every batch's entries as sent."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[list[dict[str, Any]]] = []

    def send_batch(self, url: str, entries: Any) -> tuple[list[str], list[SendFailure]]:
        self.sent.append([dict(entry) for entry in entries])
        return super().send_batch(url, entries)


def test_records_go_back_exactly_as_exported_in_batches_of_ten() -> None:
    # Given a standard queue and 25 archived records with every kind of attribute
    sqs = Recording()
    url = sqs.create("orders")
    # When they are imported
    report = import_records(sqs, [record(n) for n in range(25)], sqs.info(url), location="x")
    # Then all 25 were sent, in three batches, in order
    assert (report.read, report.sent, report.failed, report.left_out) == (25, 25, 0, 0)
    assert [len(batch) for batch in sqs.sent] == [10, 10, 5]
    assert sqs.arrivals(url) == [f"body {n}\n\u2028" for n in range(25)]
    # with every attribute as it was: the counter not incremented, the lineage kept
    entry = sqs.sent[0][0]
    assert entry["MessageAttributes"] == ATTRIBUTES
    assert entry["MessageSystemAttributes"] == {
        "AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-abc"}
    }
    assert "MessageGroupId" not in entry


def test_a_fifo_import_keeps_groups_in_order_and_is_deduplicated_when_run_again() -> None:
    # Given a FIFO queue and records of two groups
    sqs = Recording()
    url = sqs.create("orders.fifo")
    records = [record(n, group="a" if n % 3 else "b") for n in range(12)]
    # When imported twice within five minutes
    first = import_records(sqs, records, sqs.info(url))
    sqs.clock += 60
    import_records(sqs, records, sqs.info(url))
    # Then each record is in the queue once, every group in its order
    assert first.sent == 12
    stored = list(sqs.queues[url].messages.values())
    assert len(stored) == 12
    for group in ("a", "b"):
        in_group = [r.body for r in records if r.attributes["MessageGroupId"] == group]
        assert [m.body for m in stored if m.group == group] == in_group
    entry = sqs.sent[0][0]
    assert entry["MessageGroupId"] == "b"
    assert entry["MessageDeduplicationId"] == dedup_id("id-0", 0)
    # and no batch carried two messages of one group (a failure could break its order)
    assert all(len({e["MessageGroupId"] for e in b}) == len(b) for b in sqs.sent)


def test_what_a_queue_cannot_take_is_counted_with_why_and_the_rest_goes() -> None:
    # Given a FIFO queue of 1 KiB messages, and records: one too large, one without a group
    sqs = Recording()
    url = sqs.create("small.fifo", max_message_bytes=1024)
    records = [
        record(1, group="g"),
        record(2, group="g", body="x" * 2000),
        record(3),
        record(4, group="g"),
    ]
    # When imported
    report = import_records(sqs, records, sqs.info(url))
    # Then the two that fit went, the others are counted with their reasons
    assert sqs.arrivals(url) == [records[0].body, records[3].body]
    assert report.sent == 2
    assert report.not_sent == {NO_GROUP: 1, f"{TOO_LARGE} (1,024 bytes)": 1}
    assert report.left_out == 2


def test_failures_on_sqs_side_are_retried_and_sender_faults_are_not() -> None:
    # Given a queue that fails one entry once on its side, and refuses another for good
    sqs = Recording()
    url = sqs.create("orders")
    failed_once: set[str] = set()

    def fail(url: str, entry: dict[str, Any]) -> SendFailure | None:
        if entry["MessageBody"].startswith("body 3") and "3" not in failed_once:
            failed_once.add("3")
            return SendFailure(entry["Id"], "InternalError", "try again", False)
        if entry["MessageBody"].startswith("body 5"):
            return SendFailure(entry["Id"], "InvalidParameterValue", "no", True)
        return None

    sqs.fail_entry = fail
    waits: list[float] = []
    # When 8 records are imported
    report = import_records(sqs, [record(n) for n in range(8)], sqs.info(url), sleep=waits.append)
    # Then the one that failed on SQS's side went on the retry, the refused one did not
    assert report.sent == 7
    assert (report.failed, dict(report.failed_by_code)) == (1, {"InvalidParameterValue": 1})
    assert [len(batch) for batch in sqs.sent] == [8, 1]
    assert waits == [0.2]
    assert sorted(sqs.arrivals(url)) == sorted(f"body {n}\n\u2028" for n in range(8) if n != 5)


def test_an_entry_failing_every_attempt_is_counted_failed() -> None:
    # Given a queue that is down for one entry however often it is asked
    sqs = Recording()
    url = sqs.create("orders")
    sqs.fail_entry = lambda u, e: (
        SendFailure(e["Id"], "ServiceUnavailable", "down", False)
        if e["MessageBody"].startswith("body 1")
        else None
    )
    # When imported with three attempts
    report = import_records(sqs, [record(0), record(1)], sqs.info(url), sleep=lambda s: None)
    # Then it was tried three times and counted failed with SQS's code
    assert [len(batch) for batch in sqs.sent] == [2, 1, 1]
    assert (report.sent, report.failed) == (1, 1)
    assert report.failed_by_code == {"ServiceUnavailable": 1}


def test_a_lost_answer_is_unconfirmed_never_resent_and_holds_its_fifo_group_back() -> None:
    # Given a FIFO queue whose answer to the first call is lost after it stored the messages
    sqs = Recording()
    url = sqs.create("orders.fifo")
    calls = iter(range(100))
    sqs.lose_answer = lambda u, e: next(calls) == 0
    records = [record(1, group="a"), record(2, group="b"), record(3, group="a")]
    # When imported
    report = import_records(sqs, records, sqs.info(url))
    # Then the first wave is unconfirmed and not sent again; group a's next record waits
    assert report.unconfirmed == 2
    assert "Connection was closed" in (report.unconfirmed_reason or "")
    assert report.held_back == 1
    assert report.sent == 0
    assert len(sqs.sent) == 1
    assert sqs.arrivals(url) == [records[0].body, records[1].body]


def test_a_dry_run_counts_and_sends_nothing() -> None:
    # Given a FIFO queue and three records, one without a group
    sqs = Recording()
    url = sqs.create("orders.fifo")
    records = [record(1, group="a"), record(2), record(3, group="a")]
    # When imported as a dry run
    report = import_records(sqs, records, sqs.info(url), dry_run=True, location="in.jsonl")
    # Then nothing was sent and the figures say what would be
    assert sqs.sent == []
    assert (report.read, report.sent, report.not_sent) == (3, 2, {NO_GROUP: 1})
    assert import_words(report) == [
        "3 record(s) read from in.jsonl; would send 2 to orders.fifo (dry run: nothing was sent)",
        f"  not sent, {NO_GROUP}: 1",
    ]


def test_records_are_streamed_not_loaded_first() -> None:
    # Given an archive of 10,000 records read lazily, noting how many were read
    sqs = Recording()
    url = sqs.create("orders")
    read = 0
    read_at_first_send: list[int] = []

    def archive() -> Iterator[ArchiveRecord]:
        nonlocal read
        for n in range(10_000):
            read += 1
            yield record(n)

    original = sqs.send_batch

    def send_batch(u: str, entries: Any) -> tuple[list[str], list[SendFailure]]:
        read_at_first_send.append(read)
        return original(u, entries)

    sqs.send_batch = send_batch  # type: ignore[method-assign]
    # When imported in chunks of 100
    report = import_records(sqs, archive(), sqs.info(url), chunk_records=100)
    # Then the first batch left after at most one chunk was read, and all went
    assert read_at_first_send[0] == 100
    assert report.sent == 10_000


def test_the_words_say_every_figure() -> None:
    # Given an import that had every outcome
    sqs = Recording()
    url = sqs.create("orders")
    sqs.fail_entry = lambda u, e: (
        SendFailure(e["Id"], "InvalidParameterValue", "no", True)
        if e["MessageBody"].startswith("body 1")
        else None
    )
    report = import_records(sqs, [record(0), record(1)], sqs.info(url), location="s3://b/p/")
    # Then the words state them
    assert import_words(report) == [
        "2 record(s) read from s3://b/p/; sent 1 to orders",
        "  failed (SQS refused them): 1 (InvalidParameterValue: 1)",
    ]
    assert report.to_dict()["failed_by_code"] == {"InvalidParameterValue": 1}


def test_an_archive_that_cannot_be_read_to_its_end_stops_there_and_says_so(
    tmp_path: Path,
) -> None:
    # Given an archive file whose fourth line is broken, then more records
    path = tmp_path / "in.jsonl"
    lines = [record(n).to_json_line() for n in range(3)] + ["{broken"]
    lines += [record(n).to_json_line() for n in range(3, 6)]
    path.write_text("\n".join(lines) + "\n")
    sqs = Recording()
    url = sqs.create("orders")
    # When it is imported in chunks of two
    report = import_records(
        sqs, JsonlFileSource(path).records(), sqs.info(url), location=str(path), chunk_records=2
    )
    # Then the three records before the bad line were sent, none after, and the report says why
    assert sqs.arrivals(url) == [f"body {n}\n\u2028" for n in range(3)]
    assert (report.read, report.sent, report.left_out) == (3, 3, 0)
    assert report.error is not None and "line 4: not JSON" in report.error
    assert not report.complete
    assert import_words(report)[-1].startswith(f"  stopped: {path}, line 4: not JSON")
    assert report.to_dict()["error"] == report.error


def test_an_import_is_complete_only_when_every_record_was_sent() -> None:
    sqs = Recording()
    url = sqs.create("orders.fifo")
    assert import_records(sqs, [record(1, group="g")], sqs.info(url)).complete
    assert not import_records(sqs, [record(2)], sqs.info(url)).complete  # no group


def test_a_bad_line_found_before_anything_was_sent_is_raised_and_nothing_is_sent(
    tmp_path: Path,
) -> None:
    # Given an archive whose fourth line is broken, read in chunks of 100
    path = tmp_path / "in.jsonl"
    lines = [record(n).to_json_line() for n in range(3)] + ["{broken"]
    path.write_text("\n".join(lines) + "\n")
    sqs = Recording()
    url = sqs.create("orders")
    # When imported, and imported as a dry run
    for dry_run in (False, True):
        with pytest.raises(ArchiveFormatError, match="line 4: not JSON"):
            import_records(sqs, JsonlFileSource(path).records(), sqs.info(url), dry_run=dry_run)
    # Then the error is raised (a usage error) and nothing was sent
    assert sqs.sent == []
