"""Discard, export and edit through the one engine loop, against the in-memory SQS: a discarded
message is deleted only after the archive's write of its record returned; an export deletes
nothing; an edit sends exactly its message with the new body. Integration tests repeat the key
cases on moto (tests/integration/test_cli_*)."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.archive_files import JsonlFileSink, JsonlFileSource
from bot.archive_model import ArchiveRecord, ArchiveWriteError
from bot.catalog import Dlq
from bot.engine import RedriveEngine
from bot.redrive_model import Action, EditSpec, RedriveRequest, StopReason
from bot.selection import REDRIVE_COUNT_ATTRIBUTE, Pin, Selection, build_selection
from tests.unit.fake_sqs import FakeSqs, arn_of

UTC_ZONE = ZoneInfo("UTC")
POISON = {REDRIVE_COUNT_ATTRIBUTE: {"DataType": "Number", "StringValue": "3"}}  # MAX_REDRIVES 3


class RecordingSink:
    """An archive in memory that keeps what was written, in the order of the writes; a write
    can be made to fail (``fail_after``: that many writes succeed first)."""

    def __init__(self, location: str = "memory://archive", fail_after: int | None = None) -> None:
        self.location = location
        self.writes: list[list[ArchiveRecord]] = []
        self.fail_after = fail_after
        self.dlq_size_at_write: list[int] = []  # messages in the DLQ when each write started
        self.sqs: FakeSqs | None = None
        self.dlq_url = ""
        self._lock = threading.Lock()

    def write(self, records: Sequence[ArchiveRecord]) -> None:
        with self._lock:
            if self.sqs is not None:
                self.dlq_size_at_write.append(len(self.sqs.queues[self.dlq_url].messages))
            if self.fail_after is not None and len(self.writes) >= self.fail_after:
                raise ArchiveWriteError("s3://bucket/p: AccessDenied")
            self.writes.append(list(records))

    def close(self) -> None:
        pass

    @property
    def records(self) -> list[ArchiveRecord]:
        return [record for write in self.writes for record in write]


@pytest.fixture
def sqs() -> FakeSqs:
    return FakeSqs()


def setup(sqs: FakeSqs, count: int, *, sources: int = 1) -> tuple[Dlq, str, list[str]]:
    dlq_url = sqs.create("orders-dlq")
    source_urls = [sqs.create(f"orders-{i}", dead_letter_to=dlq_url) for i in range(sources)]
    for i in range(count):
        sqs.put(
            dlq_url,
            json.dumps({"n": i, "status": 500 if i % 2 else 404}),
            kind={"DataType": "String", "StringValue": "order"},
        )
    dlq = Dlq(sqs.info(dlq_url), tuple(sqs.info(u) for u in source_urls))
    return dlq, dlq_url, source_urls


def engine(sqs: FakeSqs) -> RedriveEngine:
    return RedriveEngine(sqs, max_redrives=3, timezone=UTC_ZONE)  # type: ignore[arg-type]


def request(**kwargs: object) -> RedriveRequest:
    options: dict[str, object] = {"confirm_empty_wait_s": 0, "workers": 2, **kwargs}
    return RedriveRequest(**options)  # type: ignore[arg-type]


# --- discard ------------------------------------------------------------------------------------


def test_discard_archives_every_message_then_deletes_it(sqs: FakeSqs) -> None:
    # Given a DLQ of 25 messages and an archive
    dlq, dlq_url, (source,) = setup(sqs, 25)
    bodies = sqs.bodies(dlq_url)
    sink = RecordingSink()
    # When they are discarded
    report = engine(sqs).run(dlq, request(action=Action.DISCARD, archive=sink))
    # Then each has its record in the archive, the DLQ is empty, nothing went to the source
    assert sorted(r.body for r in sink.records) == bodies
    assert (report.matched, report.archived, report.moved, report.failed) == (25, 25, 25, 0)
    assert report.archive_location == "memory://archive"
    assert not sqs.queues[dlq_url].messages and not sqs.queues[source].messages
    assert not [call for call in sqs.calls if call[0] == "send"]
    assert report.complete and not report.by_destination
    record = sink.records[0]
    assert record.dlq == "orders-dlq" and record.source == arn_of("orders-0")
    assert record.message_attributes["kind"]["StringValue"] == "order"
    assert record.attributes["SentTimestamp"] == "1700000000000"


def test_discard_deletes_a_message_only_after_its_record_was_written(sqs: FakeSqs) -> None:
    # Given an archive that notes how many messages the DLQ held at each write
    dlq, dlq_url, _ = setup(sqs, 23)
    sink = RecordingSink()
    sink.sqs, sink.dlq_url = sqs, dlq_url
    deleted_before_write: list[int] = []
    original_delete = sqs.delete_batch

    def delete_batch(url: str, handles: Sequence[str]) -> list:  # type: ignore[type-arg]
        # every handle deleted is one whose message has a record already
        written = {r.message_id for r in sink.records}
        deleted_before_write.extend(
            1 for h in handles if h.split("#", 1)[0] not in written and url == dlq_url
        )
        return original_delete(url, handles)

    sqs.delete_batch = delete_batch  # type: ignore[method-assign]
    # When the DLQ is discarded with one worker
    report = engine(sqs).run(dlq, request(action=Action.DISCARD, archive=sink, workers=1))
    # Then no delete ever named a message without its record, and each write came first
    assert report.moved == 23 and not deleted_before_write
    assert sink.dlq_size_at_write == [23, 13, 3]


def test_a_discard_whose_archive_write_fails_deletes_nothing_of_that_batch(
    sqs: FakeSqs,
) -> None:
    # Given an archive that takes the first write and refuses the second
    dlq, dlq_url, _ = setup(sqs, 25)
    sink = RecordingSink(fail_after=1)
    # When the DLQ is discarded (one worker: batches one after another)
    report = engine(sqs).run(dlq, request(action=Action.DISCARD, archive=sink, workers=1))
    # Then only the archived batch is gone; the refused one is counted failed with the reason,
    # the run stopped with the archive's error, and every other message is visible again
    assert report.archived == 10 and report.moved == 10
    assert report.failed == 10 and report.failure_reasons == {"ArchiveWriteError": 10}
    assert report.failures[0]["reason"] == "s3://bucket/p: AccessDenied"
    assert report.stopped is StopReason.ERROR
    assert report.error is not None and "memory://archive refused a write" in report.error
    assert len(sqs.queues[dlq_url].messages) == 15 and sqs.visible(dlq_url) == 15
    archived = {r.message_id for r in sink.records}
    assert archived.isdisjoint(sqs.queues[dlq_url].messages)


def test_discard_dry_run_counts_and_writes_nothing(sqs: FakeSqs) -> None:
    dlq, dlq_url, _ = setup(sqs, 12)
    sink = RecordingSink()
    report = engine(sqs).run(dlq, request(action=Action.DISCARD, archive=sink, dry_run=True))
    assert (report.matched, report.archived, report.moved) == (12, 0, 0)
    assert not sink.writes and len(sqs.queues[dlq_url].messages) == 12
    assert sqs.visible(dlq_url) == 12


def test_discard_without_an_archive_deletes_the_selection(sqs: FakeSqs) -> None:
    dlq, dlq_url, _ = setup(sqs, 10)
    selection = build_selection(tz=UTC_ZONE, now=_now(), where=("status=500",))
    report = engine(sqs).run(dlq, request(action=Action.DISCARD, selection=selection))
    assert (report.matched, report.moved, report.archived) == (5, 5, 0)
    assert report.out_of_window == 5
    assert all(json.loads(b)["status"] == 404 for b in sqs.bodies(dlq_url))


def test_discard_takes_poison_and_messages_without_a_source(sqs: FakeSqs) -> None:
    # Given a DLQ with two sources, a poison message and one that records no source
    dlq, dlq_url, _ = setup(sqs, 0, sources=2)
    sqs.put(
        dlq_url, "poison", **{REDRIVE_COUNT_ATTRIBUTE: {"DataType": "Number", "StringValue": "3"}}
    )
    sqs.put(dlq_url, "no source")
    sink = RecordingSink()
    # When discarded: neither needs a destination, and a discard sends nothing round again
    report = engine(sqs).run(dlq, request(action=Action.DISCARD, archive=sink))
    # Then both are archived and deleted
    assert (report.matched, report.moved, report.needs_human, report.no_source) == (2, 2, 0, 0)
    assert sorted(r.body for r in sink.records) == ["no source", "poison"]
    assert {r.source for r in sink.records} == {None}  # two sources, none recorded
    assert not sqs.queues[dlq_url].messages


def test_a_redrive_still_holds_poison_back(sqs: FakeSqs) -> None:
    dlq, dlq_url, _ = setup(sqs, 0)
    sqs.put(
        dlq_url, "poison", **{REDRIVE_COUNT_ATTRIBUTE: {"DataType": "Number", "StringValue": "3"}}
    )
    report = engine(sqs).run(dlq, request())
    assert report.needs_human == 1 and report.moved == 0


def test_discard_to_a_jsonl_file_restores_every_message(sqs: FakeSqs, tmp_path: Path) -> None:
    # Given a real file archive (write + fsync before write returns)
    dlq, dlq_url, _ = setup(sqs, 14)
    bodies = sqs.bodies(dlq_url)
    path = tmp_path / "discarded.jsonl"
    with JsonlFileSink(path) as sink:
        report = engine(sqs).run(dlq, request(action=Action.DISCARD, archive=sink))
    # Then the file holds every body and attribute, and the DLQ is empty
    records = list(JsonlFileSource(path).records())
    assert sorted(r.body for r in records) == bodies and report.archived == 14
    assert all(r.message_attributes["kind"]["StringValue"] == "order" for r in records)
    assert not sqs.queues[dlq_url].messages


# --- export -------------------------------------------------------------------------------------


def test_export_writes_records_and_leaves_every_message_visible(sqs: FakeSqs) -> None:
    dlq, dlq_url, (source,) = setup(sqs, 25)
    bodies = sqs.bodies(dlq_url)
    sink = RecordingSink()
    report = engine(sqs).run(dlq, request(action=Action.EXPORT, archive=sink))
    assert sorted(r.body for r in sink.records) == bodies
    assert (report.matched, report.archived, report.moved) == (25, 25, 0)
    assert sqs.bodies(dlq_url) == bodies and sqs.visible(dlq_url) == 25
    assert not [c for c in sqs.calls if c[0] in ("delete", "send")]
    assert not sqs.queues[source].messages
    assert report.released == 25 and report.complete


def test_export_honours_the_selection_and_the_limit(sqs: FakeSqs) -> None:
    dlq, dlq_url, _ = setup(sqs, 20)
    selection = build_selection(tz=UTC_ZONE, now=_now(), where=("status=404",), limit=4)
    sink = RecordingSink()
    report = engine(sqs).run(
        dlq, request(action=Action.EXPORT, archive=sink, selection=selection, workers=1)
    )
    assert report.archived == 4 and len(sink.records) == 4
    assert all(json.loads(r.body)["status"] == 404 for r in sink.records)
    assert sqs.visible(dlq_url) == 20


def test_an_export_needs_an_archive() -> None:
    with pytest.raises(ValueError, match="needs an archive"):
        RedriveRequest(action=Action.EXPORT)


# --- edit ---------------------------------------------------------------------------------------


def test_edit_sends_that_one_message_with_the_new_body_and_keeps_the_others(
    sqs: FakeSqs,
) -> None:
    # Given a DLQ of 15 messages
    dlq, dlq_url, (source,) = setup(sqs, 15)
    target = list(sqs.queues[dlq_url].messages)[7]
    others = sorted(b for i, b in _bodies_by_id(sqs, dlq_url).items() if i != target)
    # When message 7 is edited
    edit = EditSpec(message_id=target, body='{"n": 7, "fixed": true}')
    report = engine(sqs).run(dlq, request(edit=edit))
    # Then its copy carries the new body, its attributes and the counter; it left the DLQ;
    # every other message is there, visible, untouched
    (copy,) = sqs.queues[source].messages.values()
    assert copy.body == '{"n": 7, "fixed": true}'
    assert copy.message_attributes["kind"]["StringValue"] == "order"
    assert copy.message_attributes[REDRIVE_COUNT_ATTRIBUTE]["StringValue"] == "1"
    assert (report.matched, report.moved) == (1, 1)
    assert target not in sqs.queues[dlq_url].messages
    assert sqs.bodies(dlq_url) == others and sqs.visible(dlq_url) == 14
    assert report.stopped is StopReason.LIMIT and report.complete
    assert report.scanned < 15  # found: the scan ended there


def test_edit_of_a_message_that_is_not_there_matches_nothing(sqs: FakeSqs) -> None:
    dlq, dlq_url, (source,) = setup(sqs, 5)
    report = engine(sqs).run(dlq, request(edit=EditSpec("id-404", "{}")))
    assert (report.matched, report.moved) == (0, 0) and report.out_of_window == 5
    assert report.stopped is StopReason.DRAINED
    assert not sqs.queues[source].messages and sqs.visible(dlq_url) == 5


def test_edit_sends_a_poison_message_a_human_fixed(sqs: FakeSqs) -> None:
    dlq, dlq_url, (source,) = setup(sqs, 0)
    counter = {REDRIVE_COUNT_ATTRIBUTE: {"DataType": "Number", "StringValue": "3"}}
    target = sqs.put(dlq_url, "broken", **counter)
    report = engine(sqs).run(dlq, request(edit=EditSpec(target, "fixed")))
    assert report.moved == 1 and report.needs_human == 0
    (copy,) = sqs.queues[source].messages.values()
    assert copy.body == "fixed"
    assert copy.message_attributes[REDRIVE_COUNT_ATTRIBUTE]["StringValue"] == "4"


def test_edit_keeps_an_approvals_time_bound(sqs: FakeSqs) -> None:
    # Given an approval pinned to messages sent before 2023 (the message was sent in 2023)
    dlq, dlq_url, (source,) = setup(sqs, 3)
    target = next(iter(sqs.queues[dlq_url].messages))
    from datetime import UTC, datetime

    pin = Pin(datetime(2023, 1, 1, tzinfo=UTC))
    report = engine(sqs).run(dlq, request(edit=EditSpec(target, "x"), selection=Selection(pin=pin)))
    assert report.moved == 0 and not sqs.queues[source].messages


def test_edit_deletes_nothing_when_the_send_fails(sqs: FakeSqs) -> None:
    dlq, dlq_url, (source,) = setup(sqs, 4)
    target = next(iter(sqs.queues[dlq_url].messages))
    sqs.fail_call = lambda url: url == source
    report = engine(sqs).run(dlq, request(edit=EditSpec(target, "new"), send_attempts=1))
    assert report.failed == 1 and report.moved == 0
    assert target in sqs.queues[dlq_url].messages and sqs.visible(dlq_url) == 4
    assert sqs.queues[dlq_url].messages[target].body != "new"


def _fifo(sqs: FakeSqs) -> tuple[Dlq, str, str]:
    dlq_url = sqs.create("orders-dlq.fifo")
    source = sqs.create("orders.fifo", dead_letter_to=dlq_url)
    for group in ("a", "b"):
        for i in range(3):
            sqs.put(dlq_url, f"{group}{i}", group=group)
    return Dlq(sqs.info(dlq_url), (sqs.info(source),)), dlq_url, source


def _id_of(sqs: FakeSqs, url: str, body: str) -> str:
    return next(i for i, m in sqs.queues[url].messages.items() if m.body == body)


def test_fifo_edit_of_the_head_of_its_group_is_sent_in_its_group(sqs: FakeSqs) -> None:
    dlq, dlq_url, source = _fifo(sqs)
    report = engine(sqs).run(dlq, request(edit=EditSpec(_id_of(sqs, dlq_url, "b0"), "B0")))
    assert report.moved == 1 and report.held_back == 0
    (copy,) = sqs.queues[source].messages.values()
    assert (copy.body, copy.group) == ("B0", "b")
    assert sqs.arrivals(dlq_url) == ["a0", "a1", "a2", "b1", "b2"]
    assert sqs.visible(dlq_url) == 5


def test_fifo_edit_never_sends_a_message_ahead_of_an_earlier_one_of_its_group(
    sqs: FakeSqs,
) -> None:
    # Given group a's second message is to be edited while a0 is still in the DLQ
    dlq, dlq_url, source = _fifo(sqs)
    # When edited
    report = engine(sqs).run(dlq, request(edit=EditSpec(_id_of(sqs, dlq_url, "a1"), "A1")))
    # Then nothing is sent (the group's order applies) and nothing is deleted; the report
    # says why: held back behind a0, or never reached because a0 blocks the group
    assert report.moved == 0 and not sqs.queues[source].messages
    assert report.held_back == 1 or (report.matched == 0 and report.blocked_groups >= 1)
    assert report.went_wrong
    assert sqs.arrivals(dlq_url) == ["a0", "a1", "a2", "b0", "b1", "b2"]
    assert sqs.visible(dlq_url) == 6


def test_fifo_edit_copies_are_not_deduplicated_against_an_unedited_copy(sqs: FakeSqs) -> None:
    # Given a redrive of b0 whose answer was lost (SQS stored the unedited copy)
    dlq, dlq_url, source = _fifo(sqs)
    target = _id_of(sqs, dlq_url, "b0")
    sqs.lose_answer = lambda url, entries: True
    engine(sqs).run(dlq, request(selection=Selection(limit=1, pin=_only(target)), workers=1))
    sqs.lose_answer = lambda url, entries: False
    assert [m.body for m in sqs.queues[source].messages.values()] == ["b0"]
    # When b0 is edited within the five-minute deduplication window
    report = engine(sqs).run(dlq, request(edit=EditSpec(target, "B0 fixed")))
    # Then SQS stores the edited copy (a shared deduplication id would have dropped it while
    # answering success, and the engine would have deleted the original: the fix lost)
    assert report.moved == 1
    assert [m.body for m in sqs.queues[source].messages.values()] == ["b0", "B0 fixed"]


def test_an_edit_is_a_redrive() -> None:
    with pytest.raises(ValueError, match="an edit is a redrive"):
        RedriveRequest(action=Action.DISCARD, edit=EditSpec("m", "b"))


# --- helpers ------------------------------------------------------------------------------------


def _now():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime(2026, 11, 25, tzinfo=UTC)


def _only(message_id: str) -> Pin:
    from datetime import UTC, datetime

    from bot.selection import pin_digest

    return Pin(datetime(9999, 1, 1, tzinfo=UTC), frozenset({pin_digest(message_id)}))


def _bodies_by_id(sqs: FakeSqs, url: str) -> dict[str, str]:
    return {i: m.body for i, m in sqs.queues[url].messages.items()}
