"""An adversarial review of the engine's promises (issue 10, items 1-3, 5-9, and the README's
safety guarantees), against the in-memory SQS: what an unlucky operator and a hostile network can
do to a run, and whether every number the run reports still adds up.

Each test states the promise it tries to break. Tests that pass are regression tests.
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.catalog import Dlq
from bot.cli import print_summary
from bot.engine import RedriveEngine
from bot.errors import AwsError
from bot.pacing import Deadline
from bot.redrive_model import RedriveReport, RedriveRequest, StopReason
from bot.selection import REDRIVE_COUNT_ATTRIBUTE, Selection, day_window
from bot.sqs_model import ReceivedMessage, SendFailure
from tests.unit.fake_sqs import FakeSqs

UTC_ZONE = ZoneInfo("UTC")


@pytest.fixture
def sqs() -> FakeSqs:
    return FakeSqs()


def engine(sqs: FakeSqs) -> RedriveEngine:
    return RedriveEngine(sqs, max_redrives=3, timezone=UTC_ZONE)


def request(**kwargs: object) -> RedriveRequest:
    options: dict[str, object] = {"confirm_empty_wait_s": 0, "workers": 1, **kwargs}
    return RedriveRequest(**options)  # type: ignore[arg-type]


def setup(sqs: FakeSqs, bodies: list[str], *, sources: int = 1) -> tuple[Dlq, str, list[str]]:
    dlq_url = sqs.create("orders-dlq")
    source_urls = [sqs.create(f"orders-{i}") for i in range(sources)]
    for body in bodies:
        sqs.put(dlq_url, body)
    return refresh(sqs, dlq_url, source_urls), dlq_url, source_urls


def refresh(sqs: FakeSqs, dlq_url: str, source_urls: list[str]) -> Dlq:
    return Dlq(sqs.info(dlq_url), tuple(sqs.info(u) for u in source_urls))


def put_from(sqs: FakeSqs, dlq_url: str, source_name: str, body: str) -> str:
    """A DLQ message whose DeadLetterQueueSourceArn names ``source_name``."""
    stored_id = sqs.put(dlq_url, body)
    arn = f"arn:aws:sqs:us-east-1:123:{source_name}"
    sqs.queues[dlq_url].messages[stored_id].attributes["DeadLetterQueueSourceArn"] = arn
    return stored_id


def assert_adds_up(report: RedriveReport) -> None:
    """Every message the run looked at is in exactly one bucket of the report."""
    answer = report.to_dict()
    detail = answer["skipped_detail"]
    assert answer["scanned"] == answer["matched"] + answer["skipped"], answer
    assert answer["skipped"] == sum(detail.values()), answer
    if not report.dry_run:
        kept = ("failed", "unconfirmed", "held_back", "not_attempted")
        settled = answer["moved"] + sum(answer[bucket] for bucket in kept)
        assert answer["matched"] == settled, answer
        assert answer["moved"] == sum(answer["by_destination"].values()), answer
    assert sum(answer["failure_reasons"].values()) == answer["failed"], answer


# --- a scan that outlasts the visibility timeout (README guarantee 2, issue item 7) -------------


class SlowDlq(FakeSqs):
    """Every receive takes ``seconds`` of the fake's clock (a slow network, or a --rate wait),
    and SQS gives up after ``max_receives`` (so that a scan that never ends fails the test
    instead of hanging it)."""

    def __init__(self, seconds: float, max_receives: int) -> None:
        super().__init__()
        self.seconds, self.max_receives, self.receives = seconds, max_receives, 0

    def receive(self, url: str, **kwargs: Any) -> list[ReceivedMessage]:
        self.receives += 1
        if self.receives > self.max_receives:
            raise AwsError(f"the scan made {self.max_receives} receives and was still going")
        self.clock += self.seconds
        return super().receive(url, **kwargs)


def test_a_scan_longer_than_the_visibility_timeout_still_ends() -> None:
    # Given 60 messages, none of them selected (outside the window), a 30 s visibility timeout,
    # and receives that take 10 s each (as a --rate 1 wait would): one pass over the DLQ takes
    # 60 s, so the first held messages come back before the scan has seen the last ones
    sqs = SlowDlq(seconds=10.0, max_receives=200)
    dlq, dlq_url, _sources = setup(sqs, [json.dumps({"day": "2026-11-24"})] * 60)
    selection = Selection(window=day_window(date(2026, 11, 25), UTC_ZONE))
    # When the DLQ is scanned (by an engine that reads the time from the fake's clock)
    timed = RedriveEngine(sqs, max_redrives=3, timezone=UTC_ZONE, clock=lambda: sqs.clock)
    report = timed.run(dlq, request(visibility_timeout=30, selection=selection))
    # Then the scan ends (every message looked at once, all released), instead of receiving the
    # held messages that come back, again and again, for ever: the held ones were kept hidden
    # (ChangeMessageVisibility to the 30 s asked for) before their timeout ran out
    assert report.error is None, report.error
    assert report.stopped is StopReason.DRAINED
    assert report.scanned == report.out_of_window == 60
    assert sqs.visible(dlq_url) == 60
    assert {timeout for _, timeout in sqs.visibility_changes} == {30, 0}


def test_the_visibility_timeout_asked_for_is_the_one_messages_are_hidden_for(
    sqs: FakeSqs,
) -> None:
    # Given --visibility-timeout 60 and --deadline 3600 (README: "--visibility-timeout: how
    # long scanned messages stay hidden"; "Messages a killed run held become visible again after
    # the visibility timeout (--visibility-timeout, default 300 s)")
    dlq, _dlq_url, _sources = setup(sqs, ["a", "b", "c"])
    asked: list[int] = []
    receive = sqs.receive

    def recording(url: str, **kwargs: Any) -> list[ReceivedMessage]:
        asked.append(kwargs["visibility_timeout"])
        return receive(url, **kwargs)

    sqs.receive = recording  # type: ignore[method-assign]
    # When the DLQ is redriven
    engine(sqs).run(dlq, request(visibility_timeout=60), deadline=Deadline(3600))
    # Then no message was hidden for longer than the 60 s asked for (a SIGKILL would otherwise
    # leave what the run held hidden for an hour, not a minute)
    assert asked and max(asked) <= 60, asked


# --- a dry run tells the truth (every number shown is true) ----------------------------------


def test_a_dry_run_does_not_promise_to_move_what_the_destination_cannot_take(
    sqs: FakeSqs,
) -> None:
    # Given a destination that takes at most 1,024 bytes, and one body of 2,000 bytes
    dlq_url = sqs.create("orders-dlq", max_message_bytes=1_048_576)
    source = sqs.create("orders", max_message_bytes=1_024)
    for body in ("small-1", "x" * 2_000, "small-2"):
        sqs.put(dlq_url, body)
    dlq = Dlq(sqs.info(dlq_url), (sqs.info(source),))
    # When a dry run is followed by the real run
    dry = engine(sqs).run(dlq, request(dry_run=True))
    real = engine(sqs).run(dlq, request())
    # Then the dry run's "would move" (report and CLI summary) is what the real run moved; the
    # big one is announced as one that will stay (the real run kept it, MessageTooLarge)
    assert (real.moved, real.failed) == (2, 1)
    assert dry.to_dict()["by_destination"] == {"orders": 2}, dry.to_dict()
    assert dry.failure_reasons == {"MessageTooLarge": 1}
    summary = io.StringIO()
    print_summary(dry, summary)
    would_move = re.search(r"^would move\s+(\d+)$", summary.getvalue(), re.MULTILINE)
    assert would_move is not None and int(would_move.group(1)) == real.moved, summary.getvalue()


# --- one message must not block a whole DLQ (issue item 9) -------------------------------------


class RefusedLookup(FakeSqs):
    """GetQueueUrl of one queue is refused (AccessDenied: another account, a tight policy)."""

    def __init__(self, refused: str) -> None:
        super().__init__()
        self.refused = refused

    def url_for_arn(self, arn: str) -> str:
        if arn.endswith(f":{self.refused}"):
            raise AwsError(
                f"AWS refused looking up queue {self.refused!r}: AccessDenied: no",
                code="AccessDenied",
            )
        return super().url_for_arn(arn)


def test_a_source_queue_that_cannot_be_looked_up_keeps_only_its_own_messages() -> None:
    # Given a DLQ with two sources, 20 messages from them, and one message from a third queue
    # whose URL lookup AWS refuses (AccessDenied); a gone queue is already handled this way
    sqs = RefusedLookup("partner-orders")
    dlq, dlq_url, sources = setup(sqs, [], sources=2)
    for n in range(20):
        put_from(sqs, dlq_url, sqs.queues[sources[n % 2]].name, f"order-{n}")
    put_from(sqs, dlq_url, "partner-orders", "from a partner")
    # When the DLQ is redriven
    report = engine(sqs).run(dlq, request())
    # Then that one message stays in the DLQ, failed with AWS's reason, and the others move
    assert report.moved == 20 and report.failed == 1, report.to_dict()
    assert report.stopped is StopReason.DRAINED and report.failure_reasons == {"AccessDenied": 1}
    assert sqs.bodies(dlq_url) == ["from a partner"] and sqs.visible(dlq_url) == 1
    assert_adds_up(report)


def test_every_number_adds_up_when_an_aws_error_stops_the_run_mid_batch() -> None:
    # Given a batch whose last message's destination lookup is refused by AWS after the
    # others of the batch were selected
    sqs = RefusedLookup("partner-orders")
    dlq, dlq_url, (source,) = setup(sqs, [])
    for n in range(9):
        put_from(sqs, dlq_url, "orders-0", f"order-{n}")
    put_from(sqs, dlq_url, "partner-orders", "from a partner")
    # When the DLQ is redriven
    report = engine(sqs).run(dlq, request())
    # Then whatever the run decided, every message it matched is in one bucket: moved, failed,
    # unconfirmed or held back (none vanishes from the summary), and none is lost
    assert len(sqs.queues[source].messages) + len(sqs.queues[dlq_url].messages) == 10
    assert_adds_up(report)


# --- "complete" is never true when something went wrong ---------------------------------------


def _refuse(body: str) -> Any:
    return lambda url, entry: (
        SendFailure(entry["Id"], "InvalidParameterValue", "no", True)
        if entry["MessageBody"] == body
        else None
    )


def _lose_first_answer(sqs: FakeSqs) -> None:
    lost: list[bool] = []

    def lose(url: str, entries: Sequence[dict[str, Any]]) -> bool:
        if not lost:
            lost.append(True)
            return True
        return False

    sqs.lose_answer = lose


class RefusingDeletes(FakeSqs):
    def delete_batch(self, url: str, receipt_handles: Sequence[str]) -> list[SendFailure]:
        return [
            SendFailure(str(i), "InternalError", "no", False) for i in range(len(receipt_handles))
        ]


@pytest.mark.parametrize("trouble", ["failed", "unconfirmed", "sent_but_not_deleted"])
def test_complete_is_never_true_when_something_went_wrong(trouble: str) -> None:
    # Given a DLQ of 5 messages, and one kind of trouble on the way
    sqs = RefusingDeletes() if trouble == "sent_but_not_deleted" else FakeSqs()
    dlq, _dlq_url, _sources = setup(sqs, [f"m-{n}" for n in range(5)])
    if trouble == "failed":
        sqs.fail_entry = _refuse("m-2")
    elif trouble == "unconfirmed":
        _lose_first_answer(sqs)
    # When the DLQ is redriven to the end
    report = engine(sqs).run(dlq, request())
    answer = report.to_dict()
    # Then the trouble is counted, and the run does not call itself complete
    assert answer[trouble] if trouble != "sent_but_not_deleted" else answer["warnings"][trouble]
    assert answer["complete"] is False, answer


# --- regression: the promises that held ------------------------------------------------------


class RedeliveredToAnotherWorker(FakeSqs):
    """While worker A sends message X, SQS delivers X again to worker B (X's visibility ran out:
    a slow answer); A's send answers only once B has handled that second delivery."""

    def __init__(self) -> None:
        super().__init__()
        self.receives = 0
        self.counting = threading.Lock()
        self.second_delivery_handled = threading.Event()
        self.x: str | None = None

    def receive(self, url: str, **kwargs: Any) -> list[ReceivedMessage]:
        with self.counting:
            self.receives += 1
            number = self.receives
        if number >= 3:
            self.second_delivery_handled.set()  # B came back for more: it handled X
        if number == 2 and self.x is not None:
            queue = self.queues[url]
            stored = queue.messages[self.x]
            with self._lock:
                self._hand_out(queue, stored)
                return [self._delivery(stored)]
        return super().receive(url, **kwargs)

    def send_batch(self, url: str, entries: Sequence[dict[str, Any]]) -> Any:
        assert self.second_delivery_handled.wait(10), "the second delivery never came"
        return super().send_batch(url, entries)


def test_a_message_delivered_to_another_worker_while_it_is_sent_is_sent_once_and_deleted() -> None:
    sqs = RedeliveredToAnotherWorker()
    dlq, dlq_url, (source,) = setup(sqs, [f"m-{n}" for n in range(5)])
    sqs.x = next(iter(sqs.queues[dlq_url].messages))
    report = engine(sqs).run(dlq, request(workers=2))
    assert sorted(sqs.bodies(source)) == [f"m-{n}" for n in range(5)]
    assert sqs.queues[dlq_url].messages == {}
    assert report.moved == 5 and report.redelivered == 1
    assert not [h for h, _ in sqs.visibility_changes if h.startswith(f"{sqs.x}#")]
    assert_adds_up(report)


def setup_fifo(sqs: FakeSqs, groups: dict[str, int]) -> tuple[Dlq, str, str]:
    dlq_url = sqs.create("orders-dlq.fifo")
    source = sqs.create("orders.fifo")
    for index in range(max(groups.values())):
        for group, count in groups.items():
            if index < count:
                sqs.put(dlq_url, f"{group}-{index}", group=group)
    return Dlq(sqs.info(dlq_url), (sqs.info(source),)), dlq_url, source


def test_fifo_partial_failures_in_several_groups_keep_every_groups_order(sqs: FakeSqs) -> None:
    # Given a FIFO DLQ with groups a, b, c: a-0 fails on SQS's side every time, b-1 once, and
    # the destination refuses c-2 (a sender fault)
    dlq, dlq_url, source = setup_fifo(sqs, {"a": 5, "b": 5, "c": 5})
    tries: Counter[str] = Counter()

    def trouble(url: str, entry: dict[str, Any]) -> SendFailure | None:
        body = entry["MessageBody"]
        tries[body] += 1
        if body == "a-0" or (body == "b-1" and tries[body] == 1):
            return SendFailure(entry["Id"], "InternalError", "try again", False)
        if body == "c-2":
            return SendFailure(entry["Id"], "InvalidParameterValue", "no", True)
        return None

    sqs.fail_entry = trouble
    # When the DLQ is redriven on two workers
    report = engine(sqs).run(dlq, request(workers=2))
    # Then no group's message overtook an earlier one: a sent nothing, b all in order, c up to
    # c-1; what stayed is counted: failed a-0 and c-2, held back a-1..a-3 (received with them);
    # a-4, c-3 and c-4 were never delivered while their group was held (README: "a filtered
    # FIFO scan may leave some for a later run (counted as remaining)")
    arrived = sqs.arrivals(source)
    assert [b for b in arrived if b[0] == "a"] == []
    assert [b for b in arrived if b[0] == "b"] == [f"b-{n}" for n in range(5)]
    assert [b for b in arrived if b[0] == "c"] == ["c-0", "c-1"]
    assert (report.moved, report.failed, report.held_back) == (7, 2, 3)
    assert sqs.visible(dlq_url) == 8 and report.remaining == 8
    assert_adds_up(report)


COUNTER_BYTES = len(REDRIVE_COUNT_ATTRIBUTE) + len("Number") + len("1")


@pytest.mark.parametrize(
    ("body", "attribute", "moves", "with_counter"),
    [
        ("x" * (1_024 - COUNTER_BYTES), None, True, True),  # exactly at the limit with it
        ("x" * 1_024, None, True, False),  # exactly at the limit without it
        ("é" * 512, None, True, False),  # 512 characters, 1,024 bytes
        ("é" * 513, None, False, False),  # 513 characters, 1,026 bytes
        ("😀" * 256, None, True, False),  # 4 bytes each
        ("x" * 1_000, "v" * (1_024 - 1_000 - len("tag") - len("String")), True, False),
        ("x" * 1_000, "v" * (1_025 - 1_000 - len("tag") - len("String")), False, False),
    ],
    ids=[
        "at-limit-with-counter",
        "at-limit",
        "2-byte",
        "2-byte-over",
        "4-byte",
        "attr",
        "attr-over",
    ],
)
def test_the_destinations_maximum_message_size_is_counted_in_bytes_with_attributes(
    sqs: FakeSqs, body: str, attribute: str | None, moves: bool, with_counter: bool
) -> None:
    dlq_url = sqs.create("orders-dlq", max_message_bytes=1_048_576)
    source = sqs.create("orders", max_message_bytes=1_024)
    attrs: dict[str, Any] = (
        {"tag": {"DataType": "String", "StringValue": attribute}} if attribute else {}
    )
    sqs.put(dlq_url, body, **attrs)
    dlq = Dlq(sqs.info(dlq_url), (sqs.info(source),))
    report = engine(sqs).run(dlq, request())
    assert report.moved == int(moves) and report.failed == int(not moves), report.to_dict()
    if moves:
        (arrived,) = sqs.queues[source].messages.values()
        assert arrived.body == body
        assert (REDRIVE_COUNT_ATTRIBUTE in arrived.message_attributes) is with_counter
        assert report.counter_dropped == int(not with_counter)
    else:
        assert report.failure_reasons == {"MessageTooLarge": 1}
        assert sqs.bodies(dlq_url) == [body] and sqs.visible(dlq_url) == 1
    assert_adds_up(report)


def test_the_limit_on_several_workers_with_failures_never_sends_more_than_asked(
    sqs: FakeSqs,
) -> None:
    dlq, dlq_url, (source,) = setup(sqs, [f"m-{n:02d}" for n in range(60)])
    sqs.fail_entry = lambda url, entry: (
        SendFailure(entry["Id"], "InvalidParameterValue", "no", True)
        if entry["MessageBody"].endswith("3")
        else None
    )
    report = engine(sqs).run(dlq, request(workers=4, selection=Selection(limit=17)))
    assert report.stopped is StopReason.LIMIT
    assert report.matched == 17 and report.moved + report.failed == 17
    assert len(sqs.queues[source].messages) == report.moved
    assert len(sqs.queues[dlq_url].messages) == 60 - report.moved == sqs.visible(dlq_url)
    assert_adds_up(report)


def test_no_source_messages_in_a_fifo_dlq_with_several_sources_are_counted_and_kept(
    sqs: FakeSqs,
) -> None:
    dlq_url = sqs.create("orders-dlq.fifo")
    sources = [sqs.create("orders-0.fifo"), sqs.create("orders-1.fifo")]
    for n in range(6):
        stored = sqs.put(dlq_url, f"g{n % 3}-{n}", group=f"g{n % 3}")
        if n % 2:
            sqs.queues[dlq_url].messages[stored].attributes["DeadLetterQueueSourceArn"] = (
                f"arn:aws:sqs:us-east-1:123:orders-{n % 2 - 1}.fifo"
            )
    dlq = Dlq(sqs.info(dlq_url), tuple(sqs.info(u) for u in sources))
    report = engine(sqs).run(dlq, request(workers=2))
    assert (report.moved, report.no_source) == (3, 3)
    assert sqs.visible(dlq_url) == 3 and len(sqs.queues[sources[0]].messages) == 3
    assert_adds_up(report)


def test_a_redelivered_message_whose_send_answer_is_lost_is_released_with_its_newest_handle(
    sqs: FakeSqs,
) -> None:
    # Given a message SQS delivers twice in one receive, and the answer to its send lost
    dlq, dlq_url, _sources = setup(sqs, [f"m-{n}" for n in range(3)])
    twice = next(iter(sqs.queues[dlq_url].messages))
    sqs.redeliver.add(twice)
    _lose_first_answer(sqs)
    # When the DLQ is redriven
    report = engine(sqs).run(dlq, request())
    # Then all three are unconfirmed (not failed), kept, and visible again; the twice-delivered
    # one was released with the handle of its latest delivery (an older one may not work)
    assert (report.moved, report.unconfirmed, report.failed, report.redelivered) == (0, 3, 0, 1)
    assert sqs.visible(dlq_url) == 3
    newest = sqs.queues[dlq_url].messages[twice].handle
    released = [h for h, timeout in sqs.visibility_changes if h.startswith(f"{twice}#")]
    assert released == [newest]
    assert_adds_up(report)


def test_under_every_fault_at_once_nothing_is_lost_and_every_number_adds_up(
    sqs: FakeSqs,
) -> None:
    # Given 200 messages and, together: every 4th send's answer lost after SQS stored it, every
    # 7th message failed on SQS's side once, every 13th refused, 5 messages delivered twice, and
    # a destination that takes at most 2,048 bytes with three bodies over it
    bodies = [f"m-{n:03d}" + ("x" * 3_000 if n in (11, 99, 150) else "") for n in range(200)]
    dlq_url = sqs.create("orders-dlq", max_message_bytes=1_048_576)
    source = sqs.create("orders", max_message_bytes=2_048)
    for body in bodies:
        sqs.put(dlq_url, body)
    dlq = Dlq(sqs.info(dlq_url), (sqs.info(source),))
    sqs.redeliver.update(list(sqs.queues[dlq_url].messages)[5:200:40])
    sends: list[int] = []
    lost: list[str] = []
    lock = threading.Lock()

    def lose(url: str, entries: Sequence[dict[str, Any]]) -> bool:
        with lock:
            sends.append(1)
            if len(sends) % 4 == 0:
                lost.extend(entry["MessageBody"] for entry in entries)
                return True
        return False

    tried: Counter[str] = Counter()

    def trouble(url: str, entry: dict[str, Any]) -> SendFailure | None:
        body = entry["MessageBody"]
        n = int(body[2:5])
        with lock:
            tried[body] += 1
            first_try = tried[body] == 1
        if n % 13 == 0:
            return SendFailure(entry["Id"], "InvalidParameterValue", "no", True)
        if n % 7 == 0 and first_try:
            return SendFailure(entry["Id"], "InternalError", "again", False)
        return None

    sqs.lose_answer = lose
    sqs.fail_entry = trouble
    # When the DLQ is redriven on four workers
    report = engine(sqs).run(dlq, request(workers=4))
    # Then every message is in the destination or the DLQ (once in the DLQ, visible again); the
    # DLQ holds exactly the failed and the unconfirmed ones; the destination has one copy of
    # each moved or unconfirmed-but-stored message; and every number adds up
    left = sqs.bodies(dlq_url)
    arrived = Counter(sqs.arrivals(source))
    assert set(left) | set(arrived) == set(bodies) and len(left) == len(set(left))
    assert max(arrived.values()) == 1
    assert sqs.visible(dlq_url) == len(left) == report.failed + report.unconfirmed
    assert report.moved == len(set(arrived) - set(left))
    assert report.unconfirmed == len(lost) and set(lost) <= set(left)
    assert report.failure_reasons["MessageTooLarge"] == 3
    # (the fake delivers again only when the receive has room left: those it did count once)
    assert report.redelivered == 5 - len(sqs.redeliver) > 0 and report.scanned == 200
    assert report.stopped is StopReason.DRAINED
    assert_adds_up(report)
