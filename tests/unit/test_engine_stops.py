"""How a run stops and what it holds back, against the in-memory SQS: the first stop reason and
errors, the rate limit against the deadline and a cancel, messages with no recorded source,
messages that cannot carry the redrive counter, and what ``remaining`` counts."""

from __future__ import annotations

import io
import json
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Collection, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.catalog import Dlq
from bot.cli_run import Interrupt
from bot.engine import RedriveEngine, RedriveLedger
from bot.errors import AwsError, UsageError
from bot.pacing import Deadline
from bot.redrive_model import RedriveRequest, StopReason
from bot.selection import Selection
from bot.sqs_model import ReceivedMessage
from tests.unit.fake_ledger import MemoryLedger
from tests.unit.fake_sqs import FakeSqs

UTC_ZONE = ZoneInfo("UTC")
MAX_REDRIVES = 3


@pytest.fixture
def sqs() -> FakeSqs:
    return FakeSqs()


def setup(sqs: FakeSqs, count: int, sources: int = 1) -> tuple[Dlq, str, list[str]]:
    dlq_url = sqs.create("orders-dlq")
    source_urls = [sqs.create(f"orders-{i}") for i in range(sources)]
    for i in range(count):
        sqs.put(dlq_url, json.dumps({"n": i}))
    return refresh(sqs, dlq_url, source_urls), dlq_url, source_urls


def refresh(sqs: FakeSqs, dlq_url: str, source_urls: list[str]) -> Dlq:
    return Dlq(sqs.info(dlq_url), tuple(sqs.info(u) for u in source_urls))


def engine(sqs: FakeSqs, ledger: RedriveLedger | None = None) -> RedriveEngine:
    return RedriveEngine(
        sqs,
        max_redrives=MAX_REDRIVES,
        timezone=UTC_ZONE,
        ledger=ledger,
    )


def request(**kwargs: object) -> RedriveRequest:
    options: dict[str, object] = {"confirm_empty_wait_s": 0, "workers": 2, **kwargs}
    return RedriveRequest(**options)  # type: ignore[arg-type]


# --- 6: the first stop reason wins, and an error is never reported as success ----------------


class ErrorWhileAnotherWorkerReceives(FakeSqs):
    """The first receive (one worker) answers only after the second (another worker) was refused
    by AWS, so that worker reaches ``--limit`` after the error stopped the run."""

    def __init__(self) -> None:
        super().__init__()
        self.receives = 0
        self.refused = threading.Event()
        self.counting = threading.Lock()

    def receive(self, url: str, **kwargs: int) -> list[ReceivedMessage]:
        with self.counting:
            self.receives += 1
            number = self.receives
        if number == 1:
            assert self.refused.wait(10), "the other worker never received"
            return super().receive(url, **kwargs)
        self.refused.set()
        raise AwsError("AWS refused receiving from orders-dlq: AccessDenied: no")


def test_an_aws_error_is_not_hidden_by_the_limit_another_worker_reaches() -> None:
    # Given two workers: one is refused by AWS while the other is receiving a batch that goes
    # past --limit 5
    sqs = ErrorWhileAnotherWorkerReceives()
    dlq, dlq_url, (source,) = setup(sqs, 20)

    # When the DLQ is redriven
    report = engine(sqs).run(dlq, request(workers=2, selection=Selection(limit=5)))

    # Then the run reports the error (not a complete run), with what did move
    assert report.stopped is StopReason.ERROR and not report.complete
    assert "AccessDenied" in (report.error or "")
    assert report.to_dict()["complete"] is False and report.to_dict()["stopped"] == "error"
    assert report.moved == 5 and len(sqs.queues[source].messages) == 5
    assert sqs.visible(dlq_url) == 15  # the rest released


# --- 7: the rate limit, the deadline and a cancel -------------------------------------------


def test_a_rate_wait_that_would_pass_the_deadline_stops_the_run_at_once(sqs: FakeSqs) -> None:
    # Given 30 messages, --rate 5 (10 messages every 2 s) and a deadline 1 s away (on a clock
    # that stands still: only the rate's wait could take the run past it)
    dlq, dlq_url, (_source,) = setup(sqs, 30)
    deadline = Deadline(1.0, clock=lambda: 0.0)

    # When the DLQ is redriven on one worker
    report = engine(sqs).run(dlq, request(workers=1, rate=5.0), deadline=deadline)

    # Then the first batch moved and the run stopped at the deadline instead of waiting for the
    # tokens of a second one; the rest is visible again
    assert report.stopped is StopReason.DEADLINE and not report.complete
    assert report.moved == 10
    assert sqs.visible(dlq_url) == 20 and report.remaining == 20


class TimedSqs(FakeSqs):
    """Records when each receive and send happened."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[tuple[str, float]] = []

    def receive(self, url: str, **kwargs: int) -> list[ReceivedMessage]:
        got = super().receive(url, **kwargs)
        if got:
            self.times.append(("receive", time.monotonic()))
        return got

    def send_batch(self, url: str, entries: Sequence[dict[str, Any]]) -> Any:
        self.times.append(("send", time.monotonic()))
        return super().send_batch(url, entries)


def test_received_messages_do_not_wait_for_rate_tokens() -> None:
    # Given 20 messages and --rate 5: the second batch of 10 must wait 2 s for its tokens
    sqs = TimedSqs()
    dlq, _dlq_url, (source,) = setup(sqs, 20)

    # When the DLQ is redriven on one worker
    report = engine(sqs).run(dlq, request(workers=1, rate=5.0))

    # Then the wait came before the receive: each batch was sent right after it was received
    # (a generous bound against the 2 s the messages would otherwise have waited in hand)
    assert report.moved == 20 and len(sqs.queues[source].messages) == 20
    kinds = [kind for kind, _ in sqs.times]
    assert kinds == ["receive", "send", "receive", "send"]
    (_, first_receive), (_, first_send), (_, second_receive), (_, second_send) = sqs.times
    assert second_receive - first_receive >= 1.9  # the rate held
    assert second_send - second_receive < 1.0 and first_send - first_receive < 1.0


def test_a_rate_wait_ends_as_soon_as_the_run_is_cancelled(sqs: FakeSqs) -> None:
    # Given --rate 0.5 (the second batch of 10 would wait 20 s) and a cancel that comes while a
    # worker waits for those tokens
    dlq, dlq_url, (_source,) = setup(sqs, 30)
    cancel = threading.Event()
    send = sqs.send_batch

    def send_then_cancel_soon(url: str, entries: Sequence[dict[str, Any]]) -> Any:
        threading.Timer(0.3, cancel.set).start()
        return send(url, entries)

    sqs.send_batch = send_then_cancel_soon  # type: ignore[method-assign]
    started = time.monotonic()

    # When the DLQ is redriven on one worker
    report = engine(sqs).run(
        dlq, request(workers=1, rate=0.5, visibility_timeout=60), cancelled=cancel.is_set
    )

    # Then the wait ended with the cancel (nowhere near 20 s), no new batch was received, and
    # the rest is visible again
    assert time.monotonic() - started < 5.0
    assert report.stopped is StopReason.CANCELLED and report.moved == 10
    assert sqs.visible(dlq_url) == 20


@pytest.mark.parametrize(
    ("rate", "workers", "visibility", "hint"),
    [
        (0.1, 8, 300, "at most 3 workers at this rate"),
        (0.01, 1, 300, "a --rate of at least 0.034"),
        (1.0, 8, 60, "at most 6 workers at this rate"),
    ],
)
def test_a_rate_whose_wait_would_outlast_the_visibility_timeout_is_refused(
    rate: float, workers: int, visibility: int, hint: str
) -> None:
    with pytest.raises(UsageError) as refused:
        RedriveRequest(rate=rate, workers=workers, visibility_timeout=visibility)
    message = str(refused.value)
    assert f"{visibility} s visibility timeout" in message and hint in message
    RedriveRequest(rate=1.0, workers=8, visibility_timeout=300)  # 80 s: fine


# --- 9a: a message with no recorded source ---------------------------------------------------


def put_from(sqs: FakeSqs, dlq_url: str, source_url: str, body: str) -> None:
    stored_id = sqs.put(dlq_url, body)
    arn = f"arn:aws:sqs:us-east-1:123:{sqs.queues[source_url].name}"
    sqs.queues[dlq_url].messages[stored_id].attributes["DeadLetterQueueSourceArn"] = arn


def test_a_message_without_a_recorded_source_waits_for_a_human_and_the_others_move(
    sqs: FakeSqs,
) -> None:
    # Given a DLQ with two sources: four messages say where they came from, two do not
    dlq, dlq_url, sources = setup(sqs, 0, sources=2)
    for source in sources * 2:
        put_from(sqs, dlq_url, source, f"for {sqs.queues[source].name}")
    sqs.put(dlq_url, "no source 1")
    sqs.put(dlq_url, "no source 2")

    # When the DLQ is redriven
    report = engine(sqs).run(dlq, request())

    # Then the four went home, the two stay in the DLQ (visible again), counted with the reason
    assert report.moved == 4 and report.matched == 4 and report.stopped is StopReason.DRAINED
    for source in sources:
        assert sqs.bodies(source) == [f"for {sqs.queues[source].name}"] * 2
    assert sqs.bodies(dlq_url) == ["no source 1", "no source 2"] and sqs.visible(dlq_url) == 2
    assert report.no_source == 2 and report.skipped == 2
    summary = report.to_dict()
    assert summary["skipped_detail"]["no_source"] == 2
    assert summary["no_source_reason"] == (
        "no source recorded and 'orders-dlq' has 2 source queues (orders-0, orders-1); "
        "choose one with --to QUEUE"
    )


def test_when_no_message_can_be_routed_the_run_moves_nothing_and_says_why(sqs: FakeSqs) -> None:
    # Given a DLQ with two sources whose messages do not say theirs (as on moto)
    dlq, dlq_url, sources = setup(sqs, 5, sources=2)
    # When it is redriven
    report = engine(sqs).run(dlq, request())
    # Then nothing moved, all five are visible again, each counted with the reason
    assert (report.moved, report.matched, report.no_source) == (0, 0, 5)
    assert "choose one with --to QUEUE" in (report.no_source_reason or "")
    assert sqs.visible(dlq_url) == 5 and all(sqs.queues[s].messages == {} for s in sources)
    # And with --to they all go there
    moved = engine(sqs).run(dlq, request(to=sqs.info(sources[1])))
    assert moved.moved == 5 and moved.no_source == 0


class RefusingLookups(FakeSqs):
    """AWS refuses (AccessDenied) to look up the URL of the queue ``no-url`` and to read the
    attributes of the queue ``no-attributes`` (another account, a tight policy); counts asks."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: Counter[str] = Counter()

    def url_for_arn(self, arn: str) -> str:
        self.asked[f"url of {arn.rsplit(':', 1)[-1]}"] += 1
        if arn.endswith(":no-url"):
            raise AwsError(
                "AWS refused looking up queue 'no-url': AccessDenied: no", code="AccessDenied"
            )
        return super().url_for_arn(arn)

    def queue_info(self, url: str) -> Any:
        if url.endswith("/no-attributes"):
            self.asked["attributes of no-attributes"] += 1
            raise AwsError(
                "AWS refused reading queue no-attributes: AccessDenied: no", code="AccessDenied"
            )
        return super().queue_info(url)


def test_a_destination_aws_will_not_describe_fails_only_its_own_messages_once_asked() -> None:
    # Given a DLQ with three sources: one whose URL AWS will not give, one whose attributes
    # (MaximumMessageSize) it will not give, and one it answers for; 4 messages from each
    sqs = RefusingLookups()
    dlq, dlq_url, (good,) = setup(sqs, 0)
    no_url, no_attributes = sqs.create("no-url"), sqs.create("no-attributes")
    for n in range(4):
        for source in (good, no_url, no_attributes):
            put_from(sqs, dlq_url, source, f"{sqs.queues[source].name}-{n}")

    # When the DLQ is redriven on two workers
    report = engine(sqs).run(dlq, request())

    # Then the run goes to the end: the good source's messages move; the others stay in the
    # DLQ, failed with AWS's code; and AWS was asked about each queue once
    assert report.stopped is StopReason.DRAINED and report.error is None
    assert report.moved == 4 and sqs.bodies(good) == [f"orders-0-{n}" for n in range(4)]
    assert report.failed == 8 and report.failure_reasons == {"AccessDenied": 8}
    assert sqs.visible(dlq_url) == 8 and not sqs.queues[no_url].messages
    assert sqs.asked["url of no-url"] == 1 and sqs.asked["attributes of no-attributes"] == 1
    assert sqs.asked["url of orders-0"] == 1
    assert not report.complete


def test_no_source_messages_do_not_use_up_the_limit(sqs: FakeSqs) -> None:
    dlq, dlq_url, sources = setup(sqs, 0, sources=2)
    for i in range(4):
        sqs.put(dlq_url, f"unknown {i}")
        put_from(sqs, dlq_url, sources[0], f"known {i}")
    report = engine(sqs).run(dlq, request(workers=1, selection=Selection(limit=3)))
    assert report.moved == 3 and report.no_source == 4 and report.over_limit == 1


# --- 9b: messages that cannot carry the redrive counter --------------------------------------


TEN_ATTRIBUTES = {f"a{i}": {"DataType": "String", "StringValue": str(i)} for i in range(10)}


def put_with(sqs: FakeSqs, url: str, body: str, attributes: dict[str, dict[str, Any]]) -> None:
    stored_id = sqs.put(url, body)
    sqs.queues[url].messages[stored_id].message_attributes = dict(attributes)


def fail_back_into_the_dlq(sqs: FakeSqs, source_url: str, dlq_url: str) -> None:
    """The consumer fails again: SQS dead-letters the message as it was sent (new id)."""
    for stored in list(sqs.queues[source_url].messages.values()):
        del sqs.queues[source_url].messages[stored.message_id]
        put_with(sqs, dlq_url, stored.body, stored.message_attributes)


def test_a_message_that_cannot_carry_the_counter_needs_a_human_after_max_redrives(
    sqs: FakeSqs,
) -> None:
    # Given a message with 10 attributes (no room for dlq-redrive-count) and a ledger
    dlq, dlq_url, (source,) = setup(sqs, 0)
    put_with(sqs, dlq_url, "full", TEN_ATTRIBUTES)
    ledger = MemoryLedger()

    # When it is redriven and fails back into the DLQ MAX_REDRIVES times
    for _ in range(MAX_REDRIVES):
        report = engine(sqs, ledger).run(dlq, request())
        assert report.moved == 1 and report.counter_dropped == 1 and report.needs_human == 0
        fail_back_into_the_dlq(sqs, source, dlq_url)

    # Then the ledger counted the same message (one digest) each time, and the next run leaves
    # it for a human, visible in the DLQ
    assert list(ledger.redrives.values()) == [MAX_REDRIVES]
    stuck = engine(sqs, ledger).run(dlq, request())
    assert stuck.moved == 0 and stuck.needs_human == 1 and stuck.skipped == 1
    assert sqs.bodies(dlq_url) == ["full"] and sqs.visible(dlq_url) == 1
    # --force still moves it (and counts it once more)
    forced = engine(sqs, ledger).run(dlq, request(force=True))
    assert forced.moved == 1 and list(ledger.redrives.values()) == [MAX_REDRIVES + 1]


def test_messages_that_carry_the_counter_never_reach_the_ledger(sqs: FakeSqs) -> None:
    dlq, _dlq_url, _sources = setup(sqs, 12)
    ledger = MemoryLedger()
    asked: list[Collection[str]] = []
    counts = ledger.counts

    def recording(dlq: str, digests: Collection[str]) -> dict[str, int]:
        asked.append(digests)
        return counts(dlq, digests)

    ledger.counts = recording  # type: ignore[method-assign]
    report = engine(sqs, ledger).run(dlq, request())
    assert report.moved == 12 and not ledger.redrives and not any(asked)


def test_without_a_ledger_a_counterless_message_keeps_moving(sqs: FakeSqs) -> None:
    # The CLI has no state table: it relies on the attribute counter alone (see the README)
    dlq, dlq_url, (source,) = setup(sqs, 0)
    put_with(sqs, dlq_url, "full", TEN_ATTRIBUTES)
    for _ in range(MAX_REDRIVES + 1):
        assert engine(sqs).run(dlq, request()).moved == 1
        fail_back_into_the_dlq(sqs, source, dlq_url)


COUNTER_BYTES = len("dlq-redrive-count") + len("Number") + len("1")  # as SQS counts its size


@pytest.mark.parametrize(
    ("destination_bytes", "body_bytes", "attributes"),
    [
        # fits the destination, but not with the counter (room for all but the last 10 bytes)
        pytest.param(64 * 1024, 64 * 1024 - COUNTER_BYTES + 10, {}, id="64KiB-no-room"),
        pytest.param(1_024, 1_024 - COUNTER_BYTES + 1, {}, id="1KiB-no-room"),
        # bigger than the old 256 KiB maximum, and no attribute left for the counter
        pytest.param(1_048_576, 300 * 1024, TEN_ATTRIBUTES, id="1MiB-300KiB-10-attributes"),
    ],
)
def test_the_ledger_judges_a_message_by_the_destination_it_is_sent_to(
    sqs: FakeSqs, destination_bytes: int, body_bytes: int, attributes: dict[str, Any]
) -> None:
    # Given a source queue with its own MaximumMessageSize, and a message that fits it but
    # travels without dlq-redrive-count there
    dlq_url = sqs.create("orders-dlq", max_message_bytes=1_048_576)
    source = sqs.create("orders", max_message_bytes=destination_bytes)
    put_with(sqs, dlq_url, "x" * body_bytes, attributes)
    dlq = refresh(sqs, dlq_url, [source])
    ledger = MemoryLedger()

    # When it is redriven and fails back into the DLQ MAX_REDRIVES times
    for _ in range(MAX_REDRIVES):
        report = engine(sqs, ledger).run(dlq, request())
        assert report.moved == 1 and report.counter_dropped == 1 and report.needs_human == 0
        fail_back_into_the_dlq(sqs, source, dlq_url)

    # Then the next run leaves it in the DLQ for a human: the ledger was asked about the very
    # entry that was sent (before, it was asked about one built for 256 KiB, or not at all)
    stuck = engine(sqs, ledger).run(dlq, request())
    assert stuck.moved == 0 and stuck.needs_human == 1 and stuck.failed == 0
    assert list(ledger.redrives.values()) == [MAX_REDRIVES]
    assert len(sqs.queues[dlq_url].messages) == 1 == sqs.visible(dlq_url)


def asking(ledger: MemoryLedger) -> list[Collection[str]]:
    """Record every ``counts`` question the engine asks ``ledger``."""
    asked: list[Collection[str]] = []
    counts = ledger.counts

    def recording(dlq: str, digests: Collection[str]) -> dict[str, int]:
        asked.append(digests)
        return counts(dlq, digests)

    ledger.counts = recording  # type: ignore[method-assign]
    return asked


def test_a_message_that_carries_the_counter_at_its_destination_never_reaches_the_ledger(
    sqs: FakeSqs,
) -> None:
    # Given a body of just under 256 KiB (no room for the counter there) bound for a queue
    # that takes 1 MiB, where it carries the counter
    dlq_url = sqs.create("orders-dlq", max_message_bytes=1_048_576)
    source = sqs.create("orders", max_message_bytes=1_048_576)
    sqs.put(dlq_url, "x" * (256 * 1024 - 4))
    dlq = refresh(sqs, dlq_url, [source])
    ledger = MemoryLedger()
    asked = asking(ledger)

    # When it is redriven
    report = engine(sqs, ledger).run(dlq, request())

    # Then it travelled with its counter, and the ledger was neither asked nor told
    assert report.moved == 1 and report.counter_dropped == 0
    (copy,) = sqs.queues[source].messages.values()
    assert copy.message_attributes["dlq-redrive-count"]["StringValue"] == "1"
    assert asked == [] and not ledger.redrives


def test_the_ledger_is_asked_at_most_once_per_received_batch(sqs: FakeSqs) -> None:
    # Given 25 messages that cannot carry the counter, with ordinary ones among them
    dlq, dlq_url, _sources = setup(sqs, 0)
    for i in range(25):
        put_with(sqs, dlq_url, f"full {i}", TEN_ATTRIBUTES)
        sqs.put(dlq_url, f"plain {i}")
    ledger = MemoryLedger()
    asked = asking(ledger)

    # When one worker redrives them (batches of 10)
    report = engine(sqs, ledger).run(dlq, request(workers=1))

    # Then each receive cost at most one question, about the counter-less ones only
    assert report.moved == 50 and report.counter_dropped == 25
    receives = report.api_calls["ReceiveMessage"]
    assert len(asked) <= receives and sum(len(digests) for digests in asked) == 25
    assert sum(ledger.redrives.values()) == 25


def test_an_unconfirmed_send_of_a_counterless_message_counts_as_a_redrive(sqs: FakeSqs) -> None:
    # Given a message with no room for the counter, whose first send SQS stores but whose
    # answer is lost (the copy may have been delivered: it was)
    dlq, dlq_url, (source,) = setup(sqs, 0)
    put_with(sqs, dlq_url, "full", TEN_ATTRIBUTES)
    ledger = MemoryLedger()
    answers_to_lose = [source]
    sqs.lose_answer = lambda url, entries: url in answers_to_lose and not answers_to_lose.clear()

    # When the consumer fails every copy it gets, and the DLQ is redriven until nothing moves
    first = engine(sqs, ledger).run(dlq, request())
    assert first.unconfirmed == 1 and first.moved == 0
    assert list(ledger.redrives.values()) == [1]  # counted, as it may have been a redrive
    deliveries = 0
    for _ in range(2 * MAX_REDRIVES):
        deliveries += len(sqs.queues[source].messages)
        fail_back_into_the_dlq(sqs, source, dlq_url)
        report = engine(sqs, ledger).run(dlq, request())
        if not sqs.queues[source].messages:
            break

    # Then the consumer got it MAX_REDRIVES times plus at most the one extra copy the lost
    # answer allows (the README's bound), and every copy now waits for a human
    assert deliveries <= MAX_REDRIVES + 1
    assert report.moved == 0 and report.needs_human == len(sqs.queues[dlq_url].messages)


# --- 19: remaining counts what is in flight too -----------------------------------------------


def test_remaining_counts_messages_in_flight_with_another_consumer(sqs: FakeSqs) -> None:
    # Given 5 messages, 2 of which another consumer has received (in flight, invisible)
    dlq, dlq_url, (_source,) = setup(sqs, 5)
    sqs.receive(dlq_url, max_messages=2, visibility_timeout=300, wait_seconds=0)

    # When the DLQ is redriven
    report = engine(sqs).run(dlq, request())

    # Then the run is complete for what it could see, and remaining says 2 are still there
    assert report.complete and report.moved == 3
    assert report.remaining == 2 == len(sqs.queues[dlq_url].messages)


def test_a_drained_dlq_costs_one_rate_wait_not_one_per_worker(sqs: FakeSqs) -> None:
    # Given 20 messages, --rate 5 (2 s per batch of 10) and 4 workers
    dlq, _dlq_url, (source,) = setup(sqs, 20)
    started = time.monotonic()

    # When the DLQ is redriven
    report = engine(sqs).run(dlq, request(workers=4, rate=5.0))

    # Then everything moved, and the end was found after one more slot (~4 s in all), not after
    # every worker waited for a slot reserved before the DLQ ran dry (~10 s; generous bound)
    assert report.moved == 20 and len(sqs.queues[source].messages) == 20
    assert time.monotonic() - started < 7.0


class StopsHandingOut(FakeSqs):
    """SQS that answers every receive empty once ``after`` messages were handed out, though
    more are visible: what the LocalStack drill saw during a 30,000-message count (a 1 s long
    poll came back empty with 5,888 visible; the count ended as "drained")."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.after = after
        self.handed = 0

    def receive(self, url: str, **kwargs: Any) -> list[ReceivedMessage]:
        if self.handed >= self.after:
            return []
        got = super().receive(url, **kwargs)
        self.handed += len(got)
        return got


def test_a_count_that_sqs_stopped_feeding_says_how_many_it_never_saw() -> None:
    # Given a DLQ of 30 messages, and SQS handing out no more after 20
    sqs = StopsHandingOut(after=20)
    dlq, _dlq_url, _ = setup(sqs, 30)
    # When a dry run counts
    report = engine(sqs).run(dlq, request(dry_run=True))
    # Then it ended as drained (nothing more came), but it knows it never saw 10 of them
    assert report.stopped is StopReason.DRAINED and report.scanned == 20
    assert report.unseen == 10
    # and a count that stopped at its --limit is not said to have missed any
    plain = FakeSqs()
    dlq, _, _ = setup(plain, 30)
    limited = request(dry_run=True, selection=Selection(limit=5))
    assert engine(plain).run(dlq, limited).unseen == 0


def test_a_signal_the_os_hands_to_a_worker_thread_stops_the_run_at_once(sqs: FakeSqs) -> None:
    # Given 30 messages, and the CLI's Ctrl-C/SIGTERM handling around the run. Linux may hand
    # a process's signal to another of its threads (when the main thread cannot take it at
    # once; a signal sent to a thread's id always goes to that thread), but Python runs the
    # handler only in the main thread, between bytecodes: a main thread blocked until the
    # workers end acted on it only then (found: a SIGTERM'd function redrive moved all 300
    # events over 23 s, its summary saying "interrupted by SIGTERM").
    dlq, dlq_url, _ = setup(sqs, 30)
    interrupt = Interrupt(io.StringIO())
    send = sqs.send_batch
    seen_in_first_batch: list[bool] = []

    def send_after_a_signal_to_this_thread(url: str, entries: Sequence[dict[str, Any]]) -> Any:
        if not seen_in_first_batch:
            # When SIGTERM arrives on the worker thread sending the first batch, the main
            # thread waiting for the run's workers (a lock's wait, in threading)
            waiting_for_workers()
            signal.pthread_kill(threading.get_ident(), signal.SIGTERM)
            give_up = time.monotonic() + 10  # the handler runs within STOP_POLL_S, or never
            while not interrupt.is_set() and time.monotonic() < give_up:
                time.sleep(0.01)
            seen_in_first_batch.append(interrupt.is_set())
        return send(url, entries)

    def waiting_for_workers() -> None:
        main = threading.main_thread().ident
        give_up = time.monotonic() + 10
        while time.monotonic() < give_up:
            frame = sys._current_frames().get(main or 0)
            if frame is not None and frame.f_code.co_filename == threading.__file__:
                callers = []
                while frame is not None:
                    callers.append(frame.f_code.co_name)
                    frame = frame.f_back
                if "execute" in callers and "start" not in callers:  # the run's, not a start's
                    return
            time.sleep(0.001)
        raise AssertionError("the main thread never waited for the workers")

    sqs.send_batch = send_after_a_signal_to_this_thread  # type: ignore[method-assign]
    with interrupt:
        report = engine(sqs).run(dlq, request(workers=1), cancelled=interrupt.is_set)

    # Then the handler ran while that batch was in hand, and no other batch was received
    assert seen_in_first_batch == [True]
    assert interrupt.signal_name == "SIGTERM"
    assert report.stopped is StopReason.CANCELLED and report.moved == 10
    assert sqs.visible(dlq_url) == 20


def test_a_signal_sets_the_stop_before_it_writes_to_stderr() -> None:
    """A stderr that blocks (a full pipe nobody reads) must not hold the stop back: the flag the
    engine polls is set before the "stopping" line is written."""
    seen: list[bool] = []

    class BlockingErr(io.StringIO):
        def write(self, text: str) -> int:
            seen.append(interrupt.is_set())
            return super().write(text)

    interrupt = Interrupt(BlockingErr())
    interrupt._on_signal(signal.SIGTERM, None)
    assert seen and seen[0] is True
    assert interrupt.signal_name == "SIGTERM"
