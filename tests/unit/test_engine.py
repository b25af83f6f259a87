"""The engine's loop against an in-memory SQS: the safety rule under injected failures, the
limit, the deadline, cancellation and routing. Integration tests repeat the key cases on moto."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.catalog import Dlq
from bot.engine import RedriveEngine
from bot.errors import AwsError
from bot.pacing import Deadline, RateLimiter
from bot.redrive_model import RedriveRequest, StopReason
from bot.selection import REDRIVE_COUNT_ATTRIBUTE, Selection, day_window
from bot.sqs_model import ReceivedMessage, SendFailure
from tests.unit.fake_sqs import FakeSqs

UTC_ZONE = ZoneInfo("UTC")


@pytest.fixture
def sqs() -> FakeSqs:
    return FakeSqs()


def setup(sqs: FakeSqs, count: int, sources: int = 1) -> tuple[Dlq, str, list[str]]:
    dlq_url = sqs.create("orders-dlq")
    source_urls = [sqs.create(f"orders-{i}") for i in range(sources)]
    for i in range(count):
        sqs.put(dlq_url, json.dumps({"n": i, "day": "2026-11-24" if i % 2 else "2026-11-25"}))
    dlq = Dlq(sqs.info(dlq_url), tuple(sqs.info(u) for u in source_urls))
    return dlq, dlq_url, source_urls


def engine(sqs: FakeSqs) -> RedriveEngine:
    return RedriveEngine(sqs, max_redrives=3, timezone=UTC_ZONE)  # type: ignore[arg-type]


def request(**kwargs: object) -> RedriveRequest:
    options: dict[str, object] = {"confirm_empty_wait_s": 0, "workers": 2, **kwargs}
    return RedriveRequest(**options)  # type: ignore[arg-type]


def test_everything_moves_and_the_dlq_is_empty(sqs: FakeSqs) -> None:
    dlq, dlq_url, (source,) = setup(sqs, 25)
    report = engine(sqs).run(dlq, request())
    assert (report.scanned, report.matched, report.moved, report.failed) == (25, 25, 25, 0)
    assert sqs.visible(dlq_url) == 0 and len(sqs.queues[source].messages) == 25
    assert report.complete and report.stopped is StopReason.DRAINED


def test_a_message_delivered_twice_in_one_run_is_sent_once(sqs: FakeSqs) -> None:
    # Given a message SQS hands out a second time while the engine is moving it
    dlq, dlq_url, (source,) = setup(sqs, 3)
    twice = next(iter(sqs.queues[dlq_url].messages))
    sqs.redeliver.add(twice)
    # When the DLQ is redriven
    report = engine(sqs).run(dlq, request(workers=1))
    # Then every message has exactly one copy in its queue, and the report counts each once
    assert sqs.bodies(source) == sorted(set(sqs.bodies(source))) and len(sqs.bodies(source)) == 3
    assert (report.scanned, report.matched, report.moved) == (3, 3, 3)
    assert report.redelivered == 1
    assert report.to_dict()["warnings"]["delivered_twice_sent_once"] == 1
    assert not sqs.queues[dlq_url].messages


def test_entries_sqs_refuses_stay_in_the_dlq_and_are_reported(sqs: FakeSqs) -> None:
    # Given a destination that refuses every third message (a sender fault: no retry helps)
    dlq, dlq_url, (source,) = setup(sqs, 30)
    refused = {
        json.dumps({"n": i, "day": "2026-11-24" if i % 2 else "2026-11-25"})
        for i in range(0, 30, 3)
    }
    sqs.fail_entry = lambda url, entry: (
        SendFailure(entry["Id"], "InvalidParameterValue", "too big", True)
        if entry["MessageBody"] in refused
        else None
    )
    # When the DLQ is redriven
    report = engine(sqs).run(dlq, request())
    # Then exactly the refused ones are still in the DLQ, visible again, with their reason
    assert report.moved == 20 and report.failed == 10
    assert set(sqs.bodies(dlq_url)) == refused
    assert sqs.visible(dlq_url) == 10
    assert report.failure_reasons == {"InvalidParameterValue": 10}
    assert len(sqs.queues[source].messages) + len(sqs.queues[dlq_url].messages) == 30


def test_a_send_that_fails_as_a_whole_deletes_nothing(sqs: FakeSqs) -> None:
    dlq, dlq_url, (source,) = setup(sqs, 12)
    sqs.fail_call = lambda url: url == source
    report = engine(sqs).run(dlq, request(send_attempts=2))
    assert report.moved == 0 and report.failed == 12
    assert len(sqs.queues[dlq_url].messages) == 12 and sqs.visible(dlq_url) == 12
    assert not [c for c in sqs.calls if c[0] == "delete"]


def test_entries_failed_on_the_server_side_are_retried(sqs: FakeSqs) -> None:
    dlq, dlq_url, (source,) = setup(sqs, 10)
    attempts: dict[str, int] = {}

    def flaky(url: str, entry: dict) -> SendFailure | None:
        attempts[entry["MessageBody"]] = attempts.get(entry["MessageBody"], 0) + 1
        first = attempts[entry["MessageBody"]] == 1
        return SendFailure(entry["Id"], "InternalError", "try again", False) if first else None

    sqs.fail_entry = flaky
    report = engine(sqs).run(dlq, request())
    assert report.moved == 10 and report.failed == 0
    assert len(sqs.queues[source].messages) == 10  # each sent exactly once
    assert sqs.queues[dlq_url].messages == {}


def test_the_limit_moves_exactly_that_many_and_releases_the_rest(sqs: FakeSqs) -> None:
    dlq, dlq_url, (source,) = setup(sqs, 40)
    report = engine(sqs).run(dlq, request(selection=Selection(limit=13)))
    assert report.moved == 13 and len(sqs.queues[source].messages) == 13
    assert sqs.visible(dlq_url) == 27
    assert report.stopped is StopReason.LIMIT and report.complete


def test_a_day_selection_by_body_field_moves_only_that_day(sqs: FakeSqs) -> None:
    dlq, dlq_url, (source,) = setup(sqs, 20)
    sqs.put(dlq_url, "not json at all")
    selection = Selection(window=day_window(date(2026, 11, 24), UTC_ZONE), time_field="day")
    report = engine(sqs).run(dlq, request(selection=selection))
    assert report.moved == 10 and report.out_of_window == 10 and report.unreadable == 1
    assert all('"2026-11-24"' in body for body in sqs.bodies(source))
    assert sqs.visible(dlq_url) == 11  # the rest visible again


def test_dry_run_moves_nothing_and_releases_everything(sqs: FakeSqs) -> None:
    dlq, dlq_url, (source,) = setup(sqs, 15)
    report = engine(sqs).run(dlq, request(dry_run=True))
    assert report.matched == 15 and report.moved == 0
    assert sqs.visible(dlq_url) == 15 and sqs.queues[source].messages == {}
    assert report.by_destination == {"orders-0": 15}


def test_poison_messages_stay_unless_forced(sqs: FakeSqs) -> None:
    dlq, dlq_url, (_source,) = setup(sqs, 2)
    counter = {"DataType": "Number", "StringValue": "3"}
    sqs.put(dlq_url, "poison", **{REDRIVE_COUNT_ATTRIBUTE: counter})
    report = engine(sqs).run(dlq, request())
    assert report.moved == 2 and report.needs_human == 1 and sqs.bodies(dlq_url) == ["poison"]
    forced = engine(sqs).run(dlq, request(force=True))
    assert forced.moved == 1 and sqs.queues[dlq_url].messages == {}


def test_an_expired_deadline_stops_cleanly_and_a_second_run_finishes(sqs: FakeSqs) -> None:
    dlq, dlq_url, (_source,) = setup(sqs, 30)
    ticks = iter([0.0, 0.0, 0.0] + [100.0] * 1000)  # the budget runs out after the first batch
    deadline = Deadline(1.0, clock=lambda: next(ticks))
    first = engine(sqs).run(dlq, request(workers=1), deadline=deadline)
    assert first.stopped is StopReason.DEADLINE and not first.complete
    assert 0 < first.moved < 30 and first.remaining == 30 - first.moved
    second = engine(sqs).run(dlq, request())
    assert first.moved + second.moved == 30 and sqs.queues[dlq_url].messages == {}


def test_cancel_stops_before_the_next_batch(sqs: FakeSqs) -> None:
    dlq, dlq_url, (_source,) = setup(sqs, 30)
    report = engine(sqs).run(dlq, request(workers=1), cancelled=lambda: True)
    assert report.stopped is StopReason.CANCELLED and report.moved == 0
    assert sqs.visible(dlq_url) == 30


def test_messages_go_back_to_their_own_source_queue(sqs: FakeSqs) -> None:
    dlq, dlq_url, sources = setup(sqs, 0, sources=2)
    for i, source in enumerate(sources * 3):
        stored_id = sqs.put(dlq_url, f"for {source}")
        arn = f"arn:aws:sqs:us-east-1:123:{sqs.queues[source].name}"
        sqs.queues[dlq_url].messages[stored_id].attributes["DeadLetterQueueSourceArn"] = arn
        del i
    report = engine(sqs).run(dlq, request())
    assert report.moved == 6
    for source in sources:
        assert sqs.bodies(source) == [f"for {source}"] * 3


def test_a_gone_source_queue_keeps_its_messages_in_the_dlq(sqs: FakeSqs) -> None:
    dlq, dlq_url, (_source,) = setup(sqs, 0)
    stored_id = sqs.put(dlq_url, "orphan")
    attrs = sqs.queues[dlq_url].messages[stored_id].attributes
    attrs["DeadLetterQueueSourceArn"] = "arn:aws:sqs:us-east-1:123:deleted-queue"
    report = engine(sqs).run(dlq, request())
    assert report.failed == 1 and report.failure_reasons == {"QueueDoesNotExist": 1}
    assert sqs.bodies(dlq_url) == ["orphan"] and sqs.visible(dlq_url) == 1


def test_the_rate_limit_spaces_the_batches() -> None:
    # 50 messages at 200/s: each batch of 10 waits 0.05 s more than the one before (first free)
    limiter = RateLimiter(200, clock=lambda: 0.0)
    assert [limiter.reserve(10) for _ in range(5)] == pytest.approx([0, 0.05, 0.1, 0.15, 0.2])
    limiter.refund(10)  # the last receive brought nothing: its tokens come back
    assert limiter.reserve(10) == pytest.approx(0.2)


def test_unfiltered_runs_use_three_calls_per_ten_messages(sqs: FakeSqs) -> None:
    dlq, _dlq_url, (_source,) = setup(sqs, 100)
    report = engine(sqs).run(dlq, request(workers=1))
    calls = report.api_calls
    assert calls["SendMessageBatch"] == 10 and calls["DeleteMessageBatch"] == 10
    assert calls["ReceiveMessage"] == 11  # ten full receives and the empty one that ends the scan


class LambdaContext:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_the_lambda_deadline_keeps_a_reserve_to_release_and_report() -> None:
    clock = iter([100.0, 100.0, 150.0])
    deadline = Deadline.from_lambda_context(LambdaContext(60_000), reserve_s=20.0)
    assert 39.0 < (deadline.remaining() or 0) <= 40.0
    assert not deadline.expired()
    nearly_out = Deadline.from_lambda_context(LambdaContext(5_000), reserve_s=20.0)
    assert nearly_out.expired()  # less time left than the reserve: start nothing
    ticking = Deadline(40.0, clock=lambda: next(clock))
    assert ticking.remaining() == 40.0 and ticking.expired() is True


def test_an_aws_error_mid_run_ends_with_a_report_of_what_moved(sqs: FakeSqs) -> None:
    # Given a DLQ that AWS stops answering for after the first batch (deleted, access revoked)
    dlq, dlq_url, (source,) = setup(sqs, 30)
    receive = sqs.receive
    calls = {"n": 0}

    def failing_receive(url: str, **kwargs: int) -> list:
        calls["n"] += 1
        if calls["n"] > 1:
            raise AwsError("AWS refused receiving from orders-dlq: AccessDenied: no")
        return receive(url, **kwargs)

    sqs.receive = failing_receive  # type: ignore[method-assign]
    # When it is redriven, Then the run reports what moved and why it stopped
    report = engine(sqs).run(dlq, request(workers=1))
    assert report.stopped is StopReason.ERROR and "AccessDenied" in (report.error or "")
    assert report.moved == 10 and len(sqs.queues[source].messages) == 10
    assert len(sqs.queues[dlq_url].messages) == 20


class CountingSqs(FakeSqs):
    """Records the wait of each receive, to see when the engine long-polls."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[int] = []
        self.hide_next_receive = False

    def receive(self, url: str, **kwargs: int) -> list:  # type: ignore[override]
        self.waits.append(kwargs["wait_seconds"])
        if self.hide_next_receive:  # a short poll that missed the hosts holding the messages
            self.hide_next_receive = False
            return []
        return super().receive(url, **kwargs)  # type: ignore[arg-type]


def test_a_drained_dlq_ends_the_scan_without_waiting_for_a_long_poll() -> None:
    sqs = CountingSqs()
    dlq, _dlq_url, _sources = setup(sqs, 10)
    report = engine(sqs).run(dlq, RedriveRequest(workers=1, confirm_empty_wait_s=1))
    assert report.moved == 10
    assert sqs.waits == [0, 0]  # a full receive, then an empty one: SQS says 0 visible, done
    # one GetQueueAttributes to confirm the DLQ is empty, one for what remains after the run
    assert report.api_calls["GetQueueAttributes"] == 2


def test_a_false_empty_short_poll_is_confirmed_by_a_long_poll() -> None:
    sqs = CountingSqs()
    dlq, _dlq_url, (source,) = setup(sqs, 10)
    sqs.hide_next_receive = True  # the first short poll comes back empty though 10 are visible
    report = engine(sqs).run(dlq, RedriveRequest(workers=1, confirm_empty_wait_s=1))
    assert report.moved == 10 and len(sqs.queues[source].messages) == 10
    assert sqs.waits[:2] == [0, 1]  # the empty short poll was checked with a long poll


# --- a message SQS delivers again while it is being moved (issue 10, item 2) -------------------


def _message_of(handle: str) -> str:
    return handle.split("#", 1)[0]  # the fake's handles are "<message id>#<n>"


def test_a_redelivered_message_is_deleted_with_every_handle_and_never_released(
    sqs: FakeSqs,
) -> None:
    # Given a message SQS hands out a second time (a new receipt handle) while it is being moved,
    # and an SQS where deleting with an older handle deletes nothing (as AWS documents)
    dlq, dlq_url, (source,) = setup(sqs, 3)
    twice = next(iter(sqs.queues[dlq_url].messages))
    sqs.redeliver.add(twice)
    # When the DLQ is redriven
    report = engine(sqs).run(dlq, request(workers=1))
    # Then its one copy was confirmed and it is gone from the DLQ: deleted with the newest handle
    # too, and no handle of it (or of any moved message) was ever made visible again
    assert report.moved == 3 and len(sqs.bodies(source)) == 3
    assert sqs.queues[dlq_url].messages == {}
    assert not [h for h, _ in sqs.visibility_changes if _message_of(h) == twice]
    assert report.released == 0


# --- a send whose answer is lost (issue 10, item 1) --------------------------------------------


def _lose_first_answer(sqs: FakeSqs, url: str, lost: list[str]) -> None:
    """SQS stores the first batch sent to ``url``, then the answer is lost (a reset)."""

    def lose(to: str, entries: Sequence[dict[str, Any]]) -> bool:
        if to == url and not lost:
            lost.extend(entry["MessageBody"] for entry in entries)
            return True
        return False

    sqs.lose_answer = lose


def test_a_send_whose_answer_is_lost_is_unconfirmed_kept_and_not_sent_again(sqs: FakeSqs) -> None:
    # Given 25 messages, and a network that loses SQS's answer to the first send after SQS
    # stored the batch
    dlq, dlq_url, (source,) = setup(sqs, 25)
    lost: list[str] = []
    _lose_first_answer(sqs, source, lost)
    # When the DLQ is redriven
    report = engine(sqs).run(dlq, request(workers=1))
    # Then those messages are unconfirmed, not failed: still in the DLQ and visible again, and
    # never sent again in this run (one copy of every message arrived)
    assert len(lost) == 10
    assert (report.moved, report.unconfirmed, report.failed) == (15, 10, 0)
    assert sqs.bodies(dlq_url) == sorted(lost) and sqs.visible(dlq_url) == 10
    assert Counter(sqs.arrivals(source)) == Counter(set(sqs.arrivals(source)))
    assert len(sqs.arrivals(source)) == 25
    answer = report.to_dict()
    assert (answer["unconfirmed"], answer["failed"]) == (10, 0)
    assert "Connection was closed" in answer["unconfirmed_reason"]
    # And a later run sends them again: at most one extra copy per message of the lost answer
    again = engine(sqs).run(dlq, request())
    assert again.moved == 10 and sqs.queues[dlq_url].messages == {}
    copies = Counter(sqs.arrivals(source))
    assert {body: copies[body] for body in lost} == {body: 2 for body in lost}
    assert sum(copies.values()) == 25 + len(lost)


def setup_fifo(sqs: FakeSqs, groups: dict[str, int]) -> tuple[Dlq, str, str]:
    """A FIFO DLQ and its FIFO source; ``groups`` gives each group's message count, sent in turn
    (bodies "<group>-<n>")."""
    dlq_url = sqs.create("orders-dlq.fifo")
    source = sqs.create("orders.fifo")
    for index in range(max(groups.values())):
        for group, count in groups.items():
            if index < count:
                sqs.put(dlq_url, f"{group}-{index}", group=group)
    return Dlq(sqs.info(dlq_url), (sqs.info(source),)), dlq_url, source


def _group(bodies: list[str], group: str) -> list[str]:
    return [body for body in bodies if body.startswith(f"{group}-")]


def test_fifo_a_lost_answer_sent_again_by_a_later_run_is_deduplicated(sqs: FakeSqs) -> None:
    # Given a FIFO DLQ and a lost answer to the first send
    dlq, _dlq_url, source = setup_fifo(sqs, {"a": 5, "b": 5})
    lost: list[str] = []
    _lose_first_answer(sqs, source, lost)
    first = engine(sqs).run(dlq, request(workers=1))
    # When a second run sends them again within SQS's 5-minute deduplication interval
    second = engine(sqs).run(dlq, request(workers=1))
    # Then the retried copies carry the same deduplication id: each message arrived once
    assert first.unconfirmed == len(lost) > 0 and second.moved + first.moved == 10
    assert sorted(sqs.arrivals(source)) == sorted(f"{g}-{i}" for g in "ab" for i in range(5))


# --- FIFO order when an entry does not move (issue 10, item 3) ---------------------------------


def test_fifo_an_entry_sqs_fails_once_is_retried_before_the_rest_of_its_group(
    sqs: FakeSqs,
) -> None:
    # Given a FIFO DLQ with two groups, and an SQS that fails a-0 on its side the first time
    dlq, _dlq_url, source = setup_fifo(sqs, {"a": 5, "b": 5})
    attempts: Counter[str] = Counter()

    def flaky(url: str, entry: dict[str, Any]) -> SendFailure | None:
        attempts[entry["MessageBody"]] += 1
        if entry["MessageBody"] == "a-0" and attempts["a-0"] == 1:
            return SendFailure(entry["Id"], "InternalError", "try again", False)
        return None

    sqs.fail_entry = flaky
    # When the DLQ is redriven
    report = engine(sqs).run(dlq, request(workers=1))
    # Then every message moved, and each group arrived in its order: a-1 never before a-0
    assert report.moved == 10 and report.failed == 0
    arrived = sqs.arrivals(source)
    assert _group(arrived, "a") == [f"a-{i}" for i in range(5)]
    assert _group(arrived, "b") == [f"b-{i}" for i in range(5)]


def test_fifo_the_rest_of_a_group_waits_behind_a_message_that_did_not_move(sqs: FakeSqs) -> None:
    # Given a FIFO DLQ with two groups, and a destination that refuses a-1 (a sender fault)
    dlq, dlq_url, source = setup_fifo(sqs, {"a": 5, "b": 5})
    sqs.fail_entry = lambda url, entry: (
        SendFailure(entry["Id"], "InvalidParameterValue", "no", True)
        if entry["MessageBody"] == "a-1"
        else None
    )
    # When the DLQ is redriven
    report = engine(sqs).run(dlq, request(workers=1))
    # Then group a stops at a-1: a-2..a-4 are held back in the DLQ (counted, visible again),
    # never sent; group b moves whole
    arrived = sqs.arrivals(source)
    assert _group(arrived, "a") == ["a-0"] and _group(arrived, "b") == [f"b-{i}" for i in range(5)]
    assert (report.moved, report.failed, report.held_back) == (6, 1, 3)
    assert sqs.bodies(dlq_url) == ["a-1", "a-2", "a-3", "a-4"] and sqs.visible(dlq_url) == 4
    assert report.to_dict()["held_back"] == 3


def test_fifo_the_rest_of_a_group_waits_behind_an_unconfirmed_message(sqs: FakeSqs) -> None:
    # Given a FIFO DLQ with two groups, and a lost answer to the second send (a-1 and b-1)
    dlq, dlq_url, source = setup_fifo(sqs, {"a": 5, "b": 5})
    sends: list[list[str]] = []

    def lose_second(url: str, entries: Sequence[dict[str, Any]]) -> bool:
        sends.append([entry["MessageBody"] for entry in entries])
        return len(sends) == 2

    sqs.lose_answer = lose_second
    # When the DLQ is redriven
    report = engine(sqs).run(dlq, request(workers=1))
    # Then no later message of either group was sent after the unconfirmed one
    assert sorted(sends[1]) == ["a-1", "b-1"]
    assert sorted(sqs.arrivals(source)) == ["a-0", "a-1", "b-0", "b-1"]
    assert (report.moved, report.unconfirmed, report.held_back) == (2, 2, 6)
    assert len(sqs.queues[dlq_url].messages) == 8 and sqs.visible(dlq_url) == 8


# --- the destination's MaximumMessageSize and the in-flight quota (issue 10, item 8) ----------


def setup_sized(sqs: FakeSqs, max_message_bytes: int, bodies: list[str]) -> tuple[Dlq, str, str]:
    dlq_url = sqs.create("orders-dlq", max_message_bytes=1_048_576)
    source = sqs.create("orders", max_message_bytes=max_message_bytes)
    for body in bodies:
        sqs.put(dlq_url, body)
    return Dlq(sqs.info(dlq_url), (sqs.info(source),)), dlq_url, source


def test_a_message_the_destination_cannot_take_stays_in_the_dlq_and_is_never_sent(
    sqs: FakeSqs,
) -> None:
    # Given a destination whose MaximumMessageSize is 1,024 bytes and one body bigger than that
    big = "x" * 2_000
    dlq, dlq_url, _source = setup_sized(sqs, 1_024, ["small-1", big, "small-2"])
    sent: list[str] = []

    def record(url: str, entry: dict[str, Any]) -> None:
        sent.append(entry["MessageBody"])

    sqs.fail_entry = record
    # When the DLQ is redriven
    report = engine(sqs).run(dlq, request())
    # Then it stays in the DLQ, counted failed with a reason naming the destination's limit,
    # without even being tried; the others moved
    assert report.moved == 2 and report.failed == 1
    assert report.failure_reasons == {"MessageTooLarge": 1}
    (failure,) = report.failures
    assert "orders" in failure["reason"] and "1,024 bytes" in failure["reason"]
    assert big not in sent and sqs.bodies(dlq_url) == [big] and sqs.visible(dlq_url) == 1


def test_a_destination_of_1_mib_takes_a_256_kib_body_with_its_counter(sqs: FakeSqs) -> None:
    # Given a destination that takes 1 MiB, and bodies of 256 KiB and of 1 MiB
    at_old_limit, at_limit = "y" * 262_144, "z" * 1_048_576
    dlq, _dlq_url, source = setup_sized(sqs, 1_048_576, [at_old_limit, at_limit])
    # When the DLQ is redriven
    report = engine(sqs).run(dlq, request())
    # Then both moved; the 256 KiB one keeps its redrive counter, which the 1 MiB one has no
    # room for (it travels without, and the run says so)
    assert report.moved == 2 and report.counter_dropped == 1
    arrived = {m.body[0]: m for m in sqs.queues[source].messages.values()}
    assert REDRIVE_COUNT_ATTRIBUTE in arrived["y"].message_attributes
    assert REDRIVE_COUNT_ATTRIBUTE not in arrived["z"].message_attributes


def test_batches_fill_up_to_the_destinations_maximum_message_size(sqs: FakeSqs) -> None:
    # Given eight 200,000-byte bodies for a destination that takes 1 MiB
    dlq, _dlq_url, _source = setup_sized(sqs, 1_048_576, [f"{i}" * 200_000 for i in range(8)])
    # When the DLQ is redriven with one worker
    report = engine(sqs).run(dlq, request(workers=1))
    # Then they travel five and three to a batch (1 MiB at most each), not one by one
    assert report.moved == 8 and report.api_calls["SendMessageBatch"] == 2


def test_a_destination_known_only_from_the_message_is_read_once_per_run(sqs: FakeSqs) -> None:
    # Given messages that name their source queue, which the DLQ's catalog entry does not list,
    # and which takes at most 1,024 bytes
    dlq_url = sqs.create("orders-dlq")
    source = sqs.create("orders-eu", max_message_bytes=1_024)
    for n in range(30):
        stored_id = sqs.put(dlq_url, "x" * (2_000 if n == 7 else 10))
        attrs = sqs.queues[dlq_url].messages[stored_id].attributes
        attrs["DeadLetterQueueSourceArn"] = "arn:aws:sqs:us-east-1:123:orders-eu"
    dlq = Dlq(sqs.info(dlq_url), (sqs.info(sqs.create("orders-us")), sqs.info(sqs.create("x"))))
    # When the DLQ is redriven
    report = engine(sqs).run(dlq, request(workers=3))
    # Then the destination's size was read once, and followed
    assert sqs.calls.count(("queue_info", source)) == 1
    assert report.moved == 29 and report.failure_reasons == {"MessageTooLarge": 1}


class EndlessFifoDlq(FakeSqs):
    """A FIFO DLQ handing out ``total`` distinct messages, ten per receive, without storing them
    (a fake that held them all would scan them on every receive)."""

    def __init__(self, total: int) -> None:
        super().__init__()
        self.total, self.handed = total, 0
        self.dlq_url = self.create("huge-dlq.fifo")
        self.released = 0

    def receive(self, url: str, **kwargs: Any) -> list[ReceivedMessage]:  # type: ignore[override]
        if url != self.dlq_url:
            return super().receive(url, **kwargs)
        start, self.handed = self.handed, min(self.total, self.handed + 10)
        return [
            ReceivedMessage(
                f"m-{n}",
                f"h-{n}",
                "{}",
                {"SentTimestamp": "1700000000000", "MessageGroupId": f"{n}"},
            )
            for n in range(start, self.handed)
        ]

    def change_visibility_batch(  # type: ignore[override]
        self, url: str, receipt_handles: Sequence[str], timeout: int
    ) -> list[SendFailure]:
        self.released += len(receipt_handles)
        return []


def test_a_fifo_scan_holds_past_the_old_20000_in_flight_quota() -> None:
    # Given a FIFO DLQ of 25,000 messages, none of them selected (all outside the window)
    sqs = EndlessFifoDlq(25_000)
    source = sqs.create("huge.fifo")
    dlq = Dlq(sqs.info(sqs.dlq_url), (sqs.info(source),))
    selection = Selection(window=day_window(date(2026, 11, 24), UTC_ZONE))
    # When it is scanned
    report = engine(sqs).run(dlq, request(workers=1, selection=selection))
    # Then the scan looks past all of them (FIFO's in-flight quota is 120,000 since 2025)
    assert report.stopped is StopReason.DRAINED
    assert report.scanned == report.out_of_window == 25_000 and sqs.released == 25_000
