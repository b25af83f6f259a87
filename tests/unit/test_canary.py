"""A redrive with a canary, against the in-memory SQS: a consumer stands behind the source queue
and acts each time the canary waits (the wait's ``sleep`` is the consumer's turn and moves the
fake clock). A broken consumer dead-letters what it receives, as SQS does after maxReceiveCount
(same message id, attributes kept); a working one deletes it."""

from __future__ import annotations

import json
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest

from bot.canary import POLL_S, CanaryPlan, Watch, run_with_canary
from bot.catalog import Dlq
from bot.engine import RedriveEngine
from bot.pacing import Deadline
from bot.redrive_model import RedriveRequest, StopReason
from bot.run_control import canary_words
from bot.selection import LINEAGE_ATTRIBUTE, Selection
from tests.unit.fake_sqs import FakeSqs

UTC_ZONE = ZoneInfo("UTC")


class World:
    """A DLQ, its source queue, and the consumer of the source queue."""

    def __init__(self, count: int, *, attributes: int = 0) -> None:
        self.sqs = FakeSqs()
        self.dlq_url = self.sqs.create("orders-dlq")
        self.source = self.sqs.create("orders", dead_letter_to=self.dlq_url)
        extra = {f"a{i}": {"DataType": "String", "StringValue": "x"} for i in range(attributes)}
        for i in range(count):
            error = {"DataType": "String", "StringValue": "Time out" if i % 2 else "Refused"}
            self.sqs.put(self.dlq_url, json.dumps({"n": i}), error=error, **extra)
        self.dlq = Dlq(self.sqs.info(self.dlq_url), (self.sqs.info(self.source),))
        self.engine = RedriveEngine(self.sqs, max_redrives=5, timezone=UTC_ZONE)  # type: ignore[arg-type]
        self.now = 0.0
        self.sleeps: list[float] = []
        self.consumer: Callable[[], None] = lambda: None

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        self.consumer()

    def dead_letter_all(self, share: float = 1.0) -> None:
        """The broken consumer: what it receives goes back to the DLQ, as SQS moves a message
        after maxReceiveCount: the same id, body and attributes (and the lineage with them)."""
        source = self.sqs.queues[self.source]
        taken = list(source.messages.values())
        for stored in taken[: round(len(taken) * share)]:
            del source.messages[stored.message_id]
            self.sqs.queues[self.dlq_url].messages[stored.message_id] = stored
        for stored in taken[round(len(taken) * share) :]:
            del source.messages[stored.message_id]  # processed

    def consume_all(self) -> None:
        self.sqs.queues[self.source].messages.clear()

    def run(self, plan: CanaryPlan, **kwargs: object):  # type: ignore[no-untyped-def]
        request = kwargs.pop("request", RedriveRequest(confirm_empty_wait_s=0, workers=2))
        return run_with_canary(
            self.engine,
            self.dlq,
            request,  # type: ignore[arg-type]
            plan,
            sleep=self.sleep,
            clock=self.clock,
            **kwargs,  # type: ignore[arg-type]
        )


def test_the_canary_stops_on_a_consumer_that_still_fails() -> None:
    # Given 50 messages and a consumer that dead-letters everything again
    world = World(50)
    world.consumer = world.dead_letter_all
    # When redriven with a canary of 10, watched for up to 60 s
    outcome = world.run(CanaryPlan(size=10, wait_s=60), error_attribute="error")
    # Then the 10 came back, the rest never moved, and the watch ended at the first look
    assert outcome.canary.moved == 10 and outcome.returned == 10 and outcome.stopped
    assert outcome.rest is None and outcome.watch is Watch.THRESHOLD
    assert world.sleeps == [POLL_S] and outcome.waited_s == POLL_S
    assert len(world.sqs.queues[world.dlq_url].messages) == 50
    assert world.sqs.visible(world.dlq_url) == 50 and not world.sqs.queues[world.source].messages
    assert outcome.returned_errors == {"Time out": 5, "Refused": 5}
    words = canary_words(outcome)
    assert "The canary moved 10; 10 came back to the DLQ within 5 s, more than the 1 " in words
    assert "allowed (10% of the canary)" in words
    assert "the consumer is still failing, so the rest was not moved" in words


def test_the_canary_proceeds_on_a_consumer_that_works() -> None:
    # Given a consumer that processes what it receives
    world = World(50)
    world.consumer = world.consume_all
    # When redriven with a canary of 10
    outcome = world.run(CanaryPlan(size=10, wait_s=12))
    # Then it watched the whole wait (three looks), nothing came back, and the rest moved
    assert not outcome.stopped and outcome.watch is Watch.WAITED
    assert world.sleeps == [5.0, 5.0, 2.0] and outcome.polls == [0, 0, 0]
    assert outcome.rest is not None and outcome.rest.moved == 40 and outcome.moved == 50
    assert not world.sqs.queues[world.dlq_url].messages
    words = canary_words(outcome)
    assert "0 came back to the DLQ within 12 s (at most 1 allowed)" in words
    assert "so the rest was run: it moved 40" in words


def test_copies_of_the_canary_that_came_back_are_not_sent_again_by_the_rest() -> None:
    # Given a consumer that dead-letters one in ten (the share allowed: 0.1 of 10)
    world = World(30)
    world.consumer = lambda: world.dead_letter_all(share=0.1)
    # When redriven with a canary of 10
    outcome = world.run(CanaryPlan(size=10, wait_s=5))
    # Then the rest ran without the copy that came back: it stays in the DLQ for a human
    assert outcome.returned == 1 and not outcome.stopped and outcome.allowed == 1
    assert outcome.rest is not None and outcome.rest.moved == 20 and outcome.rest.returned == 1
    (back,) = world.sqs.queues[world.dlq_url].messages.values()
    assert back.message_attributes[LINEAGE_ATTRIBUTE]["StringValue"] == outcome.lineage
    # and every copy of the rest carries the lineage too
    assert all(
        m.message_attributes[LINEAGE_ATTRIBUTE]["StringValue"] == outcome.lineage
        for m in world.sqs.queues[world.source].messages.values()
    )


def test_the_rest_takes_only_what_the_limit_left() -> None:
    world = World(40)
    world.consumer = world.consume_all
    request = RedriveRequest(selection=Selection(limit=15), confirm_empty_wait_s=0, workers=1)
    outcome = world.run(CanaryPlan(size=10, wait_s=1), request=request)
    assert outcome.canary.moved == 10 and outcome.rest is not None and outcome.rest.moved == 5
    assert len(world.sqs.queues[world.dlq_url].messages) == 25


def test_a_canary_that_moves_everything_selected_waits_for_nothing() -> None:
    world = World(6)
    outcome = world.run(CanaryPlan(size=10, wait_s=60))
    assert outcome.canary.moved == 6 and outcome.watch is Watch.NOTHING_LEFT
    assert world.sleeps == [] and outcome.rest is None and not outcome.stopped
    assert "everything selected" in canary_words(outcome)


def test_the_watch_ends_when_the_time_budget_cannot_afford_another_look() -> None:
    world = World(30)
    world.consumer = world.consume_all
    deadline = Deadline(7, clock=world.clock)
    outcome = world.run(CanaryPlan(size=10, wait_s=60), deadline=deadline)
    assert outcome.watch is Watch.DEADLINE and outcome.rest is None and not outcome.stopped
    assert world.sleeps == [5.0]
    assert len(world.sqs.queues[world.dlq_url].messages) == 20
    assert "before the time budget ran out: the rest was not moved" in canary_words(outcome)


def test_a_cancel_during_the_watch_moves_nothing_more() -> None:
    world = World(30)
    world.consumer = world.consume_all
    outcome = world.run(CanaryPlan(size=10, wait_s=60), cancelled=lambda: world.now >= 5)
    assert outcome.watch is Watch.CANCELLED and outcome.rest is None
    assert outcome.canary.stopped is StopReason.LIMIT  # the cancel came after the canary


def test_a_canary_whose_copies_cannot_carry_the_lineage_stops() -> None:
    # Given messages with 9 attributes: the counter takes the 10th, the lineage has no room
    world = World(20, attributes=8)  # 8 + "error" = 9
    world.consumer = world.dead_letter_all
    outcome = world.run(CanaryPlan(size=10, wait_s=60))
    # Then whether the canary came back cannot be told: the rest does not move on a guess
    assert outcome.untraceable == 10 and outcome.canary.lineage_dropped == 10
    assert outcome.stopped and outcome.watch is Watch.UNTRACEABLE and outcome.rest is None
    assert world.sleeps == []
    assert "whether they come back cannot be told" in canary_words(outcome)


def test_a_dry_run_with_a_canary_only_counts() -> None:
    world = World(20)
    request = RedriveRequest(dry_run=True, confirm_empty_wait_s=0)
    outcome = world.run(CanaryPlan(size=10, wait_s=60), request=request)
    assert outcome.canary.matched == 10 and outcome.canary.moved == 0
    assert outcome.watch is Watch.NOTHING_MOVED and world.sleeps == []
    assert len(world.sqs.queues[world.dlq_url].messages) == 20


@pytest.mark.parametrize(
    ("size", "wait_s", "share"), [(0, 60.0, 0.1), (10, -1.0, 0.1), (10, 60.0, 1.0)]
)
def test_a_plan_that_makes_no_sense_is_refused(size: int, wait_s: float, share: float) -> None:
    with pytest.raises(ValueError):
        CanaryPlan(size=size, wait_s=wait_s, max_returned_share=share)


def test_what_came_back_during_a_run_is_said_with_what_it_left() -> None:
    from bot.redrive_model import RedriveReport
    from bot.run_control import left_in_dlq

    report = RedriveReport(dlq="q", dry_run=False, selection="all", returned=2)
    (line,) = left_in_dlq(report)
    assert line.startswith("2 copies this run sent came back to the DLQ during it")
