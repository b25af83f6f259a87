"""Attacks on the canary's promise (issue 12): move N, watch whether their copies come back (by
their lineage), stop on "the consumer is still failing", else move the rest. On the in-memory SQS
with the consumer of ``tests.unit.test_canary`` (it acts each time the canary sleeps, and moves
the fake clock).

- A look is a scan of the whole DLQ (every message received, its receive count bumped, held
  hidden until the look ends): on a large DLQ the watch must not repeat it every 5 s.
- A consumer slower than the wait (a long VisibilityTimeout, several receives before SQS
  dead-letters a copy) must not pass for a working one without a word.
- What comes back without the lineage (other messages failing meanwhile) is not the canary's;
  a message forged with the run's lineage can only stop the rest, never let it move.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bot.canary import (
    MAX_STRETCH_S,
    POLL_S,
    SMALL_DLQ,
    CanaryPlan,
    Watch,
    run_with_canary,
    settle_time,
)
from bot.catalog import Dlq
from bot.pacing import Deadline
from bot.redrive_model import Action, RedriveReport, RedriveRequest
from bot.run_control import canary_words
from bot.selection import LINEAGE_ATTRIBUTE, Selection
from tests.unit.fake_sqs import arn_of
from tests.unit.test_canary import World

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class LookCounter:
    """The engine, counting the receives of the canary's looks (its EXPORT runs) apart."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.engine = world.engine
        self.sqs = world.engine.sqs
        self.look_receives = 0
        self.looks = 0

    def receives(self) -> int:
        return sum(1 for call, url in self.world.sqs.calls if call == "receive")

    def run(self, dlq: Dlq, request: RedriveRequest, **kwargs: Any) -> RedriveReport:
        before = self.receives()
        report = self.engine.run(dlq, request, **kwargs)
        if request.action is Action.EXPORT:
            self.looks += 1
            self.look_receives += self.receives() - before
        return report


def run(world: World, plan: CanaryPlan, engine: Any = None, **kwargs: Any) -> Any:
    request = kwargs.pop("request", RedriveRequest(confirm_empty_wait_s=0, workers=2))
    return run_with_canary(
        engine or world.engine,
        world.dlq,
        request,
        plan,
        sleep=world.sleep,
        clock=world.clock,
        **kwargs,
    )


def slow_sources(world: World, *, visibility: int, receives: int) -> None:
    """The source queue's settings: SQS dead-letters a failed copy after ``receives`` receives,
    each hiding it ``visibility`` seconds."""
    (source,) = world.dlq.sources
    slow = replace(source, visibility_timeout_s=visibility, max_receive_count=receives)
    world.dlq = Dlq(world.dlq.info, (slow,))


# --- cost: a look is a whole scan ---


def test_a_large_dlq_is_looked_at_once_at_the_end_of_the_wait_not_every_5_s() -> None:
    # Given a DLQ of 3,000 messages (three times SMALL_DLQ) and a consumer that works
    world = World(3 * SMALL_DLQ)
    world.consumer = world.consume_all
    counter = LookCounter(world)
    # When a canary of 10 is watched for 60 s
    outcome = run(world, CanaryPlan(size=10, wait_s=60), engine=counter)
    # Then the DLQ was scanned once (about 300 receives of 10), not twelve times (3,600)
    assert counter.looks == 1 and sum(world.sleeps) == 60.0
    assert counter.look_receives <= 3 * SMALL_DLQ // 10 + 10, counter.look_receives
    # and the canary still judged: nothing came back, the rest moved
    assert outcome.watch is Watch.WAITED and outcome.rest is not None
    assert outcome.moved == 3 * SMALL_DLQ


def test_a_large_dlq_whose_consumer_still_fails_is_stopped_by_the_one_look() -> None:
    world = World(3 * SMALL_DLQ)
    world.consumer = world.dead_letter_all
    outcome = run(world, CanaryPlan(size=10, wait_s=60))
    assert outcome.stopped and outcome.returned == 10 and outcome.rest is None
    assert sum(world.sleeps) == 60.0 and outcome.polls == [10]


def test_a_large_dlq_is_looked_at_before_the_time_budget_ends() -> None:
    # Given a time budget shorter than the wait: the one look comes before it ends, so a
    # consumer still failing is still caught (not "the budget ran out" with no look at all)
    world = World(3 * SMALL_DLQ)
    world.consumer = world.dead_letter_all
    deadline = Deadline(40, clock=world.clock)
    outcome = run(world, CanaryPlan(size=10, wait_s=60), deadline=deadline)
    assert outcome.stopped and outcome.watch is Watch.THRESHOLD
    assert sum(world.sleeps) == 40 - POLL_S


def test_a_small_dlq_is_looked_at_less_often_when_a_look_is_slow() -> None:
    # Given a small DLQ whose looks take 10 s each (a slow network, a throttled account)
    world = World(50)
    world.consumer = world.consume_all
    engine = world.engine

    looks_at: list[float] = []

    class SlowLooks:
        sqs = engine.sqs

        def run(self, dlq: Dlq, request: RedriveRequest, **kwargs: Any) -> RedriveReport:
            if request.action is Action.EXPORT:
                looks_at.append(world.now)
                world.now += 10
            return engine.run(dlq, request, **kwargs)

    outcome = run(world, CanaryPlan(size=10, wait_s=120), engine=SlowLooks())
    # Then after the first look (at 5 s) the next ones start 50 s apart: a look of 10 s is
    # followed by 40 s without one (looks take a quarter of the time), not by 5 s
    assert looks_at[:3] == [POLL_S, 55.0, 105.0]
    assert len(outcome.polls) == 4 and outcome.watch is Watch.WAITED


# --- a consumer slower than the wait ---


def dead_letter_after(world: World, seconds: float) -> None:
    """A consumer that fails every copy, which SQS dead-letters only ``seconds`` after it was
    sent (maxReceiveCount receives, each hiding it for the VisibilityTimeout)."""
    if world.now >= seconds:
        world.dead_letter_all()


def test_copies_failing_slower_than_the_default_wait_are_waited_for() -> None:
    # Given a source that dead-letters a failed copy after 5 receives of 120 s (10 minutes)
    world = World(50)
    slow_sources(world, visibility=120, receives=5)
    world.consumer = lambda: dead_letter_after(world, 600)
    assert settle_time(world.dlq) == 600
    # When the canary runs with the default wait (the CLI's when --canary-wait is not given)
    outcome = run(world, CanaryPlan(size=10, stretch=True))
    # Then the wait covered the source's settings: the copies came back, the rest never moved
    assert outcome.wait_s == 600 + POLL_S
    assert outcome.stopped and outcome.returned == 10 and outcome.rest is None
    assert len(world.sqs.queues[world.dlq_url].messages) == 50


def test_a_stretched_wait_has_a_ceiling() -> None:
    world = World(50)
    slow_sources(world, visibility=43_200, receives=10)  # 12 h x 10: days
    world.consumer = world.consume_all
    outcome = run(world, CanaryPlan(size=10, stretch=True))
    assert outcome.wait_s == MAX_STRETCH_S
    assert "Warning: by the source queue's settings" in canary_words(outcome)


def test_a_wait_given_shorter_than_the_sources_settings_is_kept_but_said() -> None:
    # Given the same slow source and a wait of 60 s chosen by the user
    world = World(50)
    slow_sources(world, visibility=300, receives=5)
    world.consumer = lambda: dead_letter_after(world, 1500)
    outcome = run(world, CanaryPlan(size=10, wait_s=60))
    # Then the rest moved (the user's wait), and the words say the watch could not see them
    assert outcome.rest is not None and outcome.watched_too_briefly
    words = canary_words(outcome)
    assert "comes back about 1500 s after it is sent, later than the 60 s watched" in words


def test_a_wait_long_enough_for_the_sources_says_no_warning() -> None:
    world = World(30)
    slow_sources(world, visibility=10, receives=3)
    world.consumer = world.consume_all
    outcome = run(world, CanaryPlan(size=10, wait_s=60))
    assert not outcome.watched_too_briefly and "Warning" not in canary_words(outcome)


def test_the_cli_stretches_only_its_default_wait() -> None:
    from bot.cli import _canary_plan

    def args(wait: float | None) -> argparse.Namespace:
        return argparse.Namespace(
            canary=5, canary_wait=wait, canary_max_returned=None, dry_run=False
        )

    default, given = _canary_plan(args(None)), _canary_plan(args(30.0))
    assert default is not None and default.stretch
    assert given is not None and not given.stretch and given.wait_s == 30.0


# --- what counts as came back ---


def test_other_messages_failing_meanwhile_are_not_counted_as_the_canarys() -> None:
    # Given a working consumer, while other producers' messages dead-letter into the DLQ
    world = World(30)

    def meanwhile() -> None:
        world.consume_all()
        for i in range(5):
            world.sqs.put(world.dlq_url, json.dumps({"other": i}))

    world.consumer = meanwhile
    outcome = run(world, CanaryPlan(size=10, wait_s=10))
    # Then none of them is the canary's: it passed, and the rest moved them too
    assert outcome.returned == 0 and not outcome.stopped and outcome.polls == [0, 0]
    assert outcome.rest is not None


def test_a_message_forged_with_the_runs_lineage_can_only_stop_the_rest() -> None:
    # Given someone who read the lineage off a copy in the source queue and sends two messages
    # carrying it to the DLQ (the consumer works otherwise)
    world = World(30)

    def forge() -> None:
        (lineage,) = {
            m.message_attributes[LINEAGE_ATTRIBUTE]["StringValue"]
            for m in world.sqs.queues[world.source].messages.values()
        } or {None}
        world.consume_all()
        if lineage is not None:
            tag = {"DataType": "String", "StringValue": lineage}
            for _ in range(2):
                world.sqs.put(world.dlq_url, "forged", **{LINEAGE_ATTRIBUTE: tag})

    world.consumer = forge
    request = RedriveRequest(confirm_empty_wait_s=0, workers=2)
    outcome = run(world, CanaryPlan(size=10, wait_s=10), request=request)
    # Then it counts as came back: the rest does not move (the safe side) ...
    assert outcome.stopped and outcome.rest is None and outcome.returned == 2
    # ... and a forgery cannot make it proceed: the canary's own copies still count
    world2 = World(30)
    world2.consumer = world2.dead_letter_all
    outcome2 = run(world2, CanaryPlan(size=10, wait_s=10))
    assert outcome2.stopped and outcome2.returned == 10


def test_a_fresh_lineage_is_never_a_guessable_one() -> None:
    world = World(30)
    world.consumer = world.consume_all
    first = run(world, CanaryPlan(size=10, wait_s=1))
    second = run(World(30), CanaryPlan(size=10, wait_s=1))
    assert first.lineage != second.lineage and len(first.lineage) >= len("canary-") + 32


def test_a_canary_with_some_copies_untraceable_judges_the_traceable_ones() -> None:
    # Given 10 messages with 9 attributes (no room for the lineage after the counter) first,
    # then messages with room, and a consumer that fails everything
    world = World(0)
    extra = {f"a{i}": {"DataType": "String", "StringValue": "x"} for i in range(9)}
    for i in range(5):
        world.sqs.put(world.dlq_url, json.dumps({"full": i}), **extra)
    for i in range(25):
        world.sqs.put(world.dlq_url, json.dumps({"n": i}))
    world.consumer = world.dead_letter_all
    outcome = run(world, CanaryPlan(size=10, wait_s=10))
    # Then 5 untraceable, 5 traceable came back: more than int(0.1 x 5) = 0 allowed, stopped
    assert outcome.untraceable == 5 and outcome.returned == 5 and outcome.allowed == 0
    assert outcome.stopped and outcome.rest is None
    assert "what came back is a lower bound" in canary_words(outcome)


def test_a_limit_below_the_canary_size_is_the_whole_run() -> None:
    world = World(30)
    request = RedriveRequest(selection=Selection(limit=3), confirm_empty_wait_s=0, workers=1)
    outcome = run(world, CanaryPlan(size=10, wait_s=60), request=request)
    assert outcome.canary.moved == 3 and outcome.watch is Watch.NOTHING_LEFT
    assert world.sleeps == [] and len(world.sqs.queues[world.dlq_url].messages) == 27


# --- FIFO: a look sees the first message of each group only ---


class FifoWorld(World):
    """orders-dlq.fifo and orders.fifo; ``groups`` groups of ``per_group`` messages each."""

    def __init__(self, groups: int, per_group: int) -> None:
        super().__init__(0)
        self.dlq_url = self.sqs.create("orders-dlq.fifo")
        self.source = self.sqs.create("orders.fifo", dead_letter_to=self.dlq_url)
        for g in range(groups):
            for i in range(per_group):
                self.sqs.put(self.dlq_url, json.dumps({"g": g, "n": i}), group=f"g{g}")
        self.dlq = Dlq(self.sqs.info(self.dlq_url), (self.sqs.info(self.source),))


def test_a_fifo_canary_whose_copies_return_behind_their_group_cannot_pass() -> None:
    # Given one FIFO group of 50 and a consumer that fails everything: the canary's 10 copies
    # come back at the end of the group, behind its 40 others, and SQS shows a look only the
    # group's first message
    world = FifoWorld(groups=1, per_group=50)
    world.consumer = world.dead_letter_all
    outcome = run(
        world,
        CanaryPlan(size=10, wait_s=10),
        request=RedriveRequest(confirm_empty_wait_s=0, workers=1),
    )
    # Then the canary does not take "none seen" for "none came back": the rest never moved
    assert outcome.watch is Watch.HIDDEN and outcome.stopped and outcome.rest is None
    assert outcome.hidden_groups == 1
    assert len(world.sqs.queues[world.dlq_url].messages) == 50
    assert "whether they came back cannot be told" in canary_words(outcome)


def test_a_fifo_canary_of_whole_groups_passes_on_a_working_consumer() -> None:
    world = FifoWorld(groups=30, per_group=1)
    world.consumer = world.consume_all
    outcome = run(
        world,
        CanaryPlan(size=10, wait_s=10),
        request=RedriveRequest(confirm_empty_wait_s=0, workers=1),
    )
    assert outcome.watch is Watch.WAITED and not outcome.stopped
    assert outcome.rest is not None and outcome.moved == 30


def test_a_fifo_canary_of_whole_groups_stops_on_a_failing_consumer() -> None:
    world = FifoWorld(groups=30, per_group=1)
    world.consumer = world.dead_letter_all
    outcome = run(
        world,
        CanaryPlan(size=10, wait_s=10),
        request=RedriveRequest(confirm_empty_wait_s=0, workers=1),
    )
    assert outcome.watch is Watch.THRESHOLD and outcome.returned == 10 and outcome.rest is None


# --- a DLQ of several sources: the canary must try the consumers the rest reaches ---


class TwoSources:
    """mixed-dlq fed by ``healthy`` (a consumer that works) and ``broken`` (one that fails
    everything); the DLQ holds ``first`` messages of healthy, then ``then`` of broken. On the
    in-memory SQS only: moto's DLQ messages carry no DeadLetterQueueSourceArn (FACTS.md), which
    is what routes a DLQ's messages to their several sources."""

    def __init__(self, first: int, then: int) -> None:
        self.world = World(0)
        sqs = self.world.sqs
        self.dlq_url = self.world.dlq_url
        self.healthy = sqs.create("healthy", dead_letter_to=self.dlq_url)
        self.broken = sqs.create("broken", dead_letter_to=self.dlq_url)
        for i in range(first + then):
            name = "healthy" if i < first else "broken"
            mid = sqs.put(self.dlq_url, json.dumps({"n": i}))
            sqs.queues[self.dlq_url].messages[mid].attributes["DeadLetterQueueSourceArn"] = arn_of(
                name
            )
        self.world.dlq = Dlq(
            sqs.info(self.dlq_url), (sqs.info(self.healthy), sqs.info(self.broken))
        )
        self.world.consumer = self.consume

    def consume(self) -> None:
        sqs = self.world.sqs
        sqs.queues[self.healthy].messages.clear()
        for stored in list(sqs.queues[self.broken].messages.values()):
            # Dead-lettered by SQS: it names the queue it came from
            del sqs.queues[self.broken].messages[stored.message_id]
            stored.attributes["DeadLetterQueueSourceArn"] = arn_of("broken")
            sqs.queues[self.dlq_url].messages[stored.message_id] = stored

    def from_broken_in_dlq(self) -> int:
        messages = self.world.sqs.queues[self.dlq_url].messages.values()
        return sum(
            m.attributes.get("DeadLetterQueueSourceArn") == arn_of("broken") for m in messages
        )


def test_a_canary_that_only_reached_a_healthy_source_moves_nothing_to_another() -> None:
    # Given 10 messages of a healthy source first, then 30 of a source whose consumer fails
    scene = TwoSources(first=10, then=30)
    # When the canary of 10 takes the healthy source's 10 (nothing comes back)
    outcome = run(scene.world, CanaryPlan(size=10, wait_s=10))
    # Then the rest did not flood the broken consumer: its 30 stay in the DLQ, and it is said
    assert dict(outcome.canary.by_destination) == {"healthy": 10}
    assert outcome.untried == ("broken",) and not outcome.stopped
    assert outcome.rest is not None and outcome.rest.moved == 0
    assert scene.from_broken_in_dlq() == 30
    assert "None of the canary went to broken" in canary_words(outcome)
    # and the next run's canary tries the broken source, and stops
    again = run(scene.world, CanaryPlan(size=10, wait_s=10))
    assert again.stopped and again.returned == 10 and scene.from_broken_in_dlq() == 30


def test_a_canary_that_reached_both_sources_stops_on_the_broken_one() -> None:
    scene = TwoSources(first=5, then=30)
    outcome = run(scene.world, CanaryPlan(size=10, wait_s=10))
    assert dict(outcome.canary.by_destination) == {"healthy": 5, "broken": 5}
    assert outcome.stopped and outcome.returned == 5 and outcome.rest is None


def test_a_daily_canary_with_an_untried_source_is_not_passed_for_a_continuation() -> None:
    from bot.daily.canary_run import canary_result

    scene = TwoSources(first=10, then=30)
    result = canary_result(run(scene.world, CanaryPlan(size=10, wait_s=10)))
    assert not result.passed and not result.stopped


def test_a_cancel_during_a_long_wait_between_looks_is_heard_within_a_poll() -> None:
    # Given a large DLQ (one look at the end of a 60 s wait) and a Ctrl-C 7 s into the wait
    world = World(3 * SMALL_DLQ)
    world.consumer = world.consume_all
    outcome = run(world, CanaryPlan(size=10, wait_s=60), cancelled=lambda: world.now >= 7)
    # Then the watch ends at the next slice of POLL_S, without a look and without the rest
    assert outcome.watch is Watch.CANCELLED and outcome.rest is None
    assert sum(world.sleeps) == 2 * POLL_S and outcome.polls == []


def test_the_cli_json_says_how_the_watch_ended(sqs: SQSClient, engine_env: dict) -> None:
    from infra.local.scene import create_pair, put_in_dlq
    from tests.integration.cli_helpers import run_cli
    from tests.integration.test_cli_canary import consumer

    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [json.dumps({"n": n}) for n in range(12)])
    with consumer(sqs, orders, fails=True):
        result = run_cli(
            ["--json", "redrive", "orders-dlq", "--canary", "3", "--canary-wait", "15"],
            engine_env,
        )
    assert result.code == 1, result.err
    assert result.json["watch"] == "threshold" and result.json["wait_s"] == 15
    assert result.json["untried_sources"] == [] and result.json["waited_s"] <= 15


def test_the_daily_canary_waits_as_long_as_its_sources_need_within_its_own_bound() -> None:
    # Given the daily defaults (a 120 s wait) and a source that dead-letters a failed copy
    # after 5 receives of 30 s: 150 s, longer than the wait
    from bot.config import MAX_CANARY_WAIT_S, DailySettings
    from bot.daily.canary_run import canary_plan

    plan = canary_plan(DailySettings.from_env({"REPORT_CHANNEL": "C1"}), None)
    assert plan is not None and plan.wait_s == 120
    world = World(50)
    slow_sources(world, visibility=30, receives=5)
    world.consumer = lambda: dead_letter_after(world, 150)
    # When the daily's canary runs
    outcome = run(world, plan)
    # Then it watched long enough to see the copies come back, and stopped the rest
    assert outcome.wait_s == 150 + POLL_S
    assert outcome.stopped and outcome.returned == 10 and outcome.rest is None
    assert not outcome.watched_too_briefly
    # And a source needing days is watched no longer than the daily function's bound
    slow = World(50)
    slow_sources(slow, visibility=43_200, receives=10)
    slow.consumer = slow.consume_all
    assert run(slow, plan).wait_s == MAX_CANARY_WAIT_S
