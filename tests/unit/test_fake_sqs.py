"""The in-memory SQS the engine tests use keeps AWS's documented semantics, unpleasant ones first:
if it were kinder than SQS, the engine tests would pass against behaviour SQS does not have."""

from __future__ import annotations

import sys
import threading
from zoneinfo import ZoneInfo

import pytest

from bot.catalog import Dlq
from bot.engine import RedriveEngine
from bot.errors import SendAnswerLostError
from bot.redrive_model import RedriveRequest
from bot.sqs_model import SendFailure
from tests.unit.fake_sqs import FakeSqs


def _receive(sqs: FakeSqs, url: str, visibility: int = 30) -> list[str]:
    got = sqs.receive(url, max_messages=10, visibility_timeout=visibility, wait_seconds=0)
    return [m.receipt_handle for m in got]


def test_a_delete_with_an_older_receipt_handle_succeeds_and_deletes_nothing() -> None:
    # Given a message received twice (its visibility ran out in between)
    sqs = FakeSqs()
    url = sqs.create("q")
    sqs.put(url, "m")
    (first,) = _receive(sqs, url, visibility=10)
    sqs.clock += 11
    (second,) = _receive(sqs, url)
    # Then each delivery has its own handle, and deleting with the first one "succeeds"
    assert first != second
    assert sqs.delete_batch(url, [first]) == []
    assert sqs.bodies(url) == ["m"]  # ... but the message is still there
    # And the most recent handle deletes it; deleting again with it still succeeds
    assert sqs.delete_batch(url, [second]) == []
    assert sqs.bodies(url) == []
    assert sqs.delete_batch(url, [second]) == []
    # While a handle SQS never issued is refused
    (failure,) = sqs.delete_batch(url, ["made-up"])
    assert failure.code == "ReceiptHandleIsInvalid" and failure.sender_fault


def test_a_message_delivered_twice_in_one_receive_has_two_handles() -> None:
    sqs = FakeSqs()
    url = sqs.create("q")
    message_id = sqs.put(url, "m")
    sqs.redeliver.add(message_id)
    handles = _receive(sqs, url)
    assert len(handles) == 2 and len(set(handles)) == 2
    sqs.delete_batch(url, [handles[0]])
    assert sqs.bodies(url) == ["m"]  # the first handle is already an old one


def test_entries_of_a_batch_fail_one_by_one() -> None:
    # Given a queue that fails the second of three entries on its side
    sqs = FakeSqs()
    url = sqs.create("q")
    sqs.fail_entry = lambda u, e: (
        SendFailure(e["Id"], "InternalError", "", False) if e["MessageBody"] == "b" else None
    )
    entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate("abc")]
    ok, failed = sqs.send_batch(url, entries)
    # Then the others are stored all the same
    assert ok == ["0", "2"] and [f.entry_id for f in failed] == ["1"]
    assert sqs.arrivals(url) == ["a", "c"]


def test_a_lost_answer_comes_after_sqs_stored_the_batch() -> None:
    sqs = FakeSqs()
    url = sqs.create("q")
    sqs.lose_answer = lambda u, entries: True
    with pytest.raises(SendAnswerLostError):
        sqs.send_batch(url, [{"Id": "0", "MessageBody": "a"}])
    assert sqs.arrivals(url) == ["a"]


def test_a_queue_refuses_what_is_over_its_maximum_message_size() -> None:
    sqs = FakeSqs()
    url = sqs.create("q", max_message_bytes=1024)
    entries = [{"Id": "0", "MessageBody": "x" * 1024}, {"Id": "1", "MessageBody": "x" * 1025}]
    ok, (failure,) = sqs.send_batch(url, entries)
    assert ok == ["0"] and failure.code == "InvalidParameterValue" and failure.sender_fault
    assert "shorter than 1024 bytes" in failure.reason
    assert sqs.info(url).max_message_bytes == 1024


def test_fifo_holds_a_group_back_while_one_of_its_messages_is_in_flight() -> None:
    # Given a FIFO queue with two groups
    sqs = FakeSqs()
    url = sqs.create("q.fifo")
    for body in ("a0", "a1", "b0"):
        sqs.put(url, body, group=body[0])
    # When a receive takes a0 only
    first = sqs.receive(url, max_messages=1, visibility_timeout=30, wait_seconds=0)
    # Then the next receive gets b0 but not a1, until a0 is deleted
    later = sqs.receive(url, max_messages=10, visibility_timeout=30, wait_seconds=0)
    assert [m.body for m in first] == ["a0"] and [m.body for m in later] == ["b0"]
    sqs.delete_batch(url, [first[0].receipt_handle])
    again = sqs.receive(url, max_messages=10, visibility_timeout=30, wait_seconds=0)
    assert [m.body for m in again] == ["a1"]


def test_fifo_drops_a_repeated_deduplication_id_within_five_minutes() -> None:
    sqs = FakeSqs()
    url = sqs.create("q.fifo")
    entry = {"Id": "0", "MessageBody": "a", "MessageGroupId": "g", "MessageDeduplicationId": "d"}
    assert sqs.send_batch(url, [entry])[0] == ["0"]
    assert sqs.send_batch(url, [entry])[0] == ["0"]  # accepted, not delivered
    assert sqs.arrivals(url) == ["a"]
    sqs.clock += 301
    sqs.send_batch(url, [entry])
    assert sqs.arrivals(url) == ["a", "a"]


def test_counts_read_while_several_workers_move_messages_are_read_safely() -> None:
    # Given 2,000 messages in a DLQ, moved by an engine with 8 workers, while a test reads the
    # queues' counts and bodies from another thread (as a test waiting on progress does)
    sqs = FakeSqs()
    dlq_url, source_url = sqs.create("orders-dlq"), sqs.create("orders")
    for n in range(2_000):
        sqs.put(dlq_url, f"m{n}")
    dlq = Dlq(sqs.info(dlq_url), (sqs.info(source_url),))
    engine = RedriveEngine(sqs, max_redrives=3, timezone=ZoneInfo("UTC"))  # type: ignore[arg-type]
    stop = threading.Event()
    errors: list[Exception] = []

    def read_counts() -> None:
        while not stop.is_set():
            try:
                sqs.visible(dlq_url)
                sqs.info(source_url)
                sqs.bodies(source_url)
                sqs.arrivals(dlq_url)
            except RuntimeError as exc:  # "dictionary changed size during iteration"
                errors.append(exc)
                return

    # When the redrive runs, threads switching as often as they can
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    reader = threading.Thread(target=read_counts)
    reader.start()
    try:
        report = engine.run(dlq, RedriveRequest(workers=8, confirm_empty_wait_s=0))
    finally:
        stop.set()
        reader.join()
        sys.setswitchinterval(interval)

    # Then every read saw a consistent queue, and every message moved once
    assert errors == []
    assert report.moved == 2_000 and report.complete, report.to_dict()
    assert len(sqs.bodies(source_url)) == 2_000 and sqs.bodies(dlq_url) == []
