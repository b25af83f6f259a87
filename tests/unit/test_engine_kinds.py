"""The engine with DLQs that SNS subscriptions, EventBridge targets and Lambda functions
dead-letter into, against the in-memory SQS and the in-memory targets (``fake_targets``): each
message goes back to exactly the target that failed it and nowhere else, and is deleted from the
DLQ only after that target confirmed its copy (a queue's Successful, Lambda's 202, SNS's
MessageId). The messages are shaped as AWS documents them (``kind_messages``)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.canary import CanaryPlan, canary_blocker, run_with_canary
from bot.catalog import Dlq
from bot.engine import RedriveEngine
from bot.engine_holding import MAX_REASON_CHARS
from bot.errors import AwsError, SendAnswerLostError, UsageError
from bot.feeders import Feeder
from bot.redrive_model import EditSpec, RedriveReport, RedriveRequest, StopReason
from bot.selection import REDRIVE_COUNT_ATTRIBUTE, Selection
from bot.sqs_model import ReceivedMessage
from tests.unit import kind_messages as km
from tests.unit.fake_ledger import MemoryLedger
from tests.unit.fake_sqs import FakeSqs, arn_of
from tests.unit.fake_targets import FakeTargets
from tests.unit.kind_feeders import (
    HANDLER,
    RULE,
    SUBSCRIPTION,
    TOPIC,
    events_feeder,
    lambda_feeder,
    sns_feeder,
)

UTC_ZONE = ZoneInfo("UTC")
OTHER_TOPIC = km.arn("sns", "payments")
AUDIT = km.arn("lambda", "function:orders-audit")


class World:
    """One DLQ and its feeders, the queues around it, and the functions and topics."""

    def __init__(self, *feeders: Feeder, sources: int = 0) -> None:
        self.sqs = FakeSqs()
        self.dlq_url = self.sqs.create("kind-dlq")
        self.billing = self.sqs.create("orders-billing")  # the failed subscription's/target's
        self.shipping = self.sqs.create("orders-shipping")  # another subscriber of the topic
        self.sources = [
            self.sqs.create(f"orders-{i}", dead_letter_to=self.dlq_url) for i in range(sources)
        ]
        self.feeders = feeders
        self.targets = FakeTargets()
        self.ledger = MemoryLedger()

    @property
    def dlq(self) -> Dlq:
        return Dlq(
            self.sqs.info(self.dlq_url),
            tuple(self.sqs.info(u) for u in self.sources),
            tuple(self.feeders),
        )

    def put(self, message: ReceivedMessage) -> str:
        return self.sqs.put(self.dlq_url, message.body, **message.message_attributes)  # type: ignore[arg-type]

    def run(self, **options: Any) -> RedriveReport:
        engine = RedriveEngine(
            self.sqs,
            max_redrives=3,
            timezone=UTC_ZONE,
            ledger=self.ledger,
            targets=options.pop("targets", self.targets),
        )
        settings: dict[str, Any] = {"confirm_empty_wait_s": 0, "workers": 2, **options}
        return engine.run(self.dlq, RedriveRequest(**settings))

    def left(self) -> list[str]:
        return self.sqs.bodies(self.dlq_url)


def eventbridge_message(target: str, **options: Any) -> ReceivedMessage:
    return km.eventbridge_dlq_message(
        km.eventbridge_event({"orderId": options.pop("order", "o-1")}),
        rule_arn=RULE,
        target_arn=target,
        **options,
    )


# --- each kind reaches exactly its failed target -------------------------------------------------


def test_an_sns_subscription_dlq_goes_to_the_subscriptions_queue_only() -> None:
    # Given a topic with two queue subscribers, of which billing's dead-letters into the DLQ
    world = World(sns_feeder("sqs", arn_of("orders-billing")))
    envelope = km.sns_envelope('{"orderId":"o-1"}', topic_arn=TOPIC, attributes={"kind": "new"})
    world.put(envelope)
    # When the DLQ is redriven
    report = world.run()
    # Then billing's queue got the body as stored (the envelope), the other subscriber and the
    # topic nothing, and the DLQ is empty
    assert world.sqs.bodies(world.billing) == [envelope.body]
    assert world.sqs.bodies(world.shipping) == [] and world.targets.calls == []
    assert (report.moved, report.failed, report.by_destination) == (1, 0, {"orders-billing": 1})
    assert world.left() == []


def test_a_raw_subscription_keeps_its_message_attributes() -> None:
    world = World(sns_feeder("sqs", arn_of("orders-billing"), raw=True))
    world.put(km.sns_envelope("plain text", topic_arn=TOPIC, attributes={"kind": "new"}, raw=True))
    world.run()
    (stored,) = world.sqs.queues[world.billing].messages.values()
    assert stored.body == "plain text"
    assert stored.message_attributes["kind"]["StringValue"] == "new"
    assert stored.message_attributes[REDRIVE_COUNT_ATTRIBUTE]["StringValue"] == "1"


def test_an_sns_subscription_of_a_function_is_invoked_with_the_sns_event() -> None:
    # Given a function subscribed to the topic whose subscription dead-letters into the DLQ
    world = World(sns_feeder("lambda", HANDLER))
    envelope = km.sns_envelope(
        '{"orderId":"o-1"}', topic_arn=TOPIC, subject="new order", attributes={"kind": "new"}
    )
    world.put(envelope)
    # When redriven
    report = world.run()
    # Then the function got one asynchronous invoke with the event Lambda's SNS trigger builds,
    # nothing was published to the topic, and the DLQ is empty
    document = json.loads(envelope.body)
    (event,) = world.targets.payloads(HANDLER)
    (record,) = event["Records"]
    assert record["EventSource"] == "aws:sns" and record["EventSubscriptionArn"] == SUBSCRIPTION
    sns = record["Sns"]
    assert (sns["Message"], sns["TopicArn"], sns["MessageId"]) == (
        '{"orderId":"o-1"}',
        TOPIC,
        document["MessageId"],
    )
    assert sns["Subject"] == "new order"
    assert sns["MessageAttributes"] == {"kind": {"Type": "String", "Value": "new"}}
    assert sns["SigningCertUrl"] == document["SigningCertURL"]
    assert world.targets.published == [] and world.sqs.bodies(world.billing) == []
    assert report.moved == 1 and report.by_destination == {"lambda orders-handler": 1}
    assert world.left() == []


def test_an_eventbridge_target_gets_the_event_and_the_rules_other_target_nothing() -> None:
    # Given a rule with two targets, a function (dead-lettering into the DLQ) and a queue
    world = World(
        events_feeder(HANDLER, "handler"),
        events_feeder(arn_of("orders-shipping"), "shipping"),
    )
    message = eventbridge_message(HANDLER)
    world.put(message)
    report = world.run()
    # Then only the failed target, the function, got the event as EventBridge sends it
    assert world.targets.payloads(HANDLER) == [json.loads(message.body)]
    assert world.sqs.bodies(world.shipping) == [] and world.targets.published == []
    assert report.moved == 1 and world.left() == []


def test_an_eventbridge_queue_target_gets_the_event_without_eventbridges_attributes() -> None:
    world = World(
        events_feeder(arn_of("orders-billing"), "billing"),
        events_feeder(HANDLER, "handler"),
    )
    message = eventbridge_message(arn_of("orders-billing"))
    world.put(message)
    world.run()
    (stored,) = world.sqs.queues[world.billing].messages.values()
    # The DLQ's account of the failure (RULE_ARN, ERROR_CODE, ...) is not part of the event
    assert stored.body == message.body
    assert set(stored.message_attributes) == {REDRIVE_COUNT_ATTRIBUTE}
    assert world.targets.invokes == []


def test_an_eventbridge_topic_target_is_published_to_once_with_the_counter() -> None:
    world = World(events_feeder(TOPIC, "fanout"))
    message = eventbridge_message(TOPIC)
    world.put(message)
    report = world.run()
    (published,) = world.targets.messages(TOPIC)
    assert published.message == message.body
    assert published.attributes == {
        REDRIVE_COUNT_ATTRIBUTE: {"DataType": "String", "StringValue": "1"}
    }
    assert report.moved == 1 and report.by_destination == {"sns orders": 1}
    assert report.counter_dropped == 0 and world.left() == []


def test_a_lambda_async_dlq_message_is_invoked_on_its_function_only() -> None:
    world = World(lambda_feeder(HANDLER))
    world.put(km.lambda_async_dlq_message({"orderId": "o-7"}))
    report = world.run()
    assert [arn for arn, _ in world.targets.invokes] == [HANDLER]
    assert world.targets.payloads(HANDLER) == [{"orderId": "o-7"}]
    # A function's copy cannot carry the counter: said, and the ledger counts it instead
    assert report.moved == 1 and report.counter_dropped == 1
    assert sum(world.ledger.redrives.values()) == 1 and world.left() == []


def test_an_on_failure_record_invokes_its_function_with_the_request_payload() -> None:
    world = World(lambda_feeder(HANDLER, on_failure=True))
    world.put(km.lambda_on_failure_record({"orderId": "o-9"}, function_arn=HANDLER + ":$LATEST"))
    report = world.run()
    # Qualified as the record names it; the function gets the event, not the record
    assert [arn for arn, _ in world.targets.invokes] == [HANDLER + ":$LATEST"]
    assert world.targets.payloads(HANDLER) == [{"orderId": "o-9"}]
    assert report.moved == 1 and world.left() == []


def test_many_function_deliveries_each_go_once() -> None:
    world = World(lambda_feeder(HANDLER))
    for n in range(25):
        world.put(km.lambda_async_dlq_message({"n": n}))
    report = world.run(workers=3)
    assert sorted(p["n"] for p in world.targets.payloads(HANDLER)) == list(range(25))
    assert report.moved == 25 and report.api_calls["Invoke"] == 25 and world.left() == []


def test_an_sqs_sources_message_in_a_mixed_dlq_still_goes_to_its_source() -> None:
    world = World(sns_feeder("sqs", arn_of("orders-billing")), sources=1)
    message_id = world.sqs.put(world.dlq_url, "from sqs")
    stored = world.sqs.queues[world.dlq_url].messages[message_id]
    stored.attributes["DeadLetterQueueSourceArn"] = arn_of("orders-0")
    report = world.run()
    assert world.sqs.bodies(world.sources[0]) == ["from sqs"] and report.moved == 1
    assert world.sqs.bodies(world.billing) == []


# --- what is not delivered, and why ----------------------------------------------------------


@pytest.mark.parametrize("code", ["NO_PERMISSIONS", "NO_RESOURCE", "RESOURCE_NOT_FOUND"])
def test_eventbridge_codes_no_retry_fixes_are_held_for_a_human(code: str) -> None:
    world = World(events_feeder(HANDLER, "handler"))
    world.put(eventbridge_message(HANDLER, error_code=code))
    world.put(eventbridge_message(HANDLER, order="o-2"))  # a retryable one moves
    report = world.run()
    assert len(world.targets.invokes) == 1 and len(world.left()) == 1
    assert (report.needs_human, report.skipped, report.moved, report.failed) == (1, 1, 1, 0)
    ((reason, count),) = report.needs_human_reasons.items()
    assert count == 1 and f"ERROR_CODE {code}" in reason
    assert report.to_dict()["needs_human_reasons"] == {reason: 1}
    # --force: a human fixed the target and sends it
    forced = world.run(force=True)
    assert forced.moved == 1 and world.left() == []


def test_a_forged_target_arn_is_refused_and_nothing_is_invoked() -> None:
    # Given a message that names a function which is not a target feeding this DLQ
    world = World(events_feeder(HANDLER, "handler"))
    world.put(eventbridge_message(AUDIT))
    report = world.run()
    assert world.targets.calls == [] and len(world.left()) == 1
    assert report.failed == 1 and report.failure_reasons == {"UnknownTarget": 1}


def test_a_huge_forged_target_arn_is_not_copied_whole_into_the_report() -> None:
    # Given a message whose TARGET_ARN is 200,000 characters (anyone may send to the DLQ)
    world = World(events_feeder(HANDLER, "handler"))
    world.put(eventbridge_message(HANDLER + "x" * 200_000))
    report = world.run()
    # Then it is refused, and the reason the report keeps is bounded, and says it was cut
    assert report.failure_reasons == {"UnknownTarget": 1}
    reason = report.failures[0]["reason"]
    assert len(reason) <= MAX_REASON_CHARS and reason.endswith("…")


def test_functions_sharing_a_dlq_are_ambiguous_and_held() -> None:
    world = World(lambda_feeder(HANDLER), lambda_feeder(AUDIT))
    world.put(km.lambda_async_dlq_message({"orderId": "o-1"}))
    report = world.run()
    assert world.targets.calls == [] and len(world.left()) == 1
    assert report.failure_reasons == {"Ambiguous": 1}
    assert "orders-handler, orders-audit" in report.failures[0]["reason"]


def test_a_subscription_to_an_http_endpoint_is_refused_with_its_reason() -> None:
    feeder = sns_feeder(
        "https",
        "https://example.com/hook",
        refusal="https endpoints are not reachable as SNS would deliver; redrive by hand",
    )
    world = World(feeder)
    world.put(km.sns_envelope(topic_arn=TOPIC))
    report = world.run()
    assert report.failure_reasons == {"Unsupported": 1} and len(world.left()) == 1
    assert "https endpoints" in report.failures[0]["reason"]


def test_a_function_payload_over_the_limit_fails_before_any_call() -> None:
    world = World(lambda_feeder(HANDLER))
    world.put(km.lambda_async_dlq_message({"blob": "x" * 300_000}))
    report = world.run()
    assert world.targets.calls == [] and len(world.left()) == 1
    assert report.failure_reasons == {"PayloadTooLarge": 1}


def test_without_delivery_targets_a_functions_message_stays() -> None:
    world = World(lambda_feeder(HANDLER))
    world.put(km.lambda_async_dlq_message())
    report = world.run(targets=None)
    assert report.failure_reasons == {"NoDeliveryTargets": 1} and len(world.left()) == 1


# --- dry run and selection ------------------------------------------------------------------------


def test_a_dry_run_counts_by_destination_and_delivers_nothing() -> None:
    world = World(
        events_feeder(HANDLER, "handler"),
        events_feeder(arn_of("orders-billing"), "billing"),
        events_feeder(TOPIC, "fanout"),
    )
    world.put(eventbridge_message(HANDLER))
    world.put(eventbridge_message(HANDLER, order="o-2"))
    world.put(eventbridge_message(arn_of("orders-billing")))
    world.put(eventbridge_message(TOPIC))
    world.put(eventbridge_message(HANDLER, error_code="NO_PERMISSIONS"))
    report = world.run(dry_run=True)
    assert report.by_destination == {
        "lambda orders-handler": 2,
        "orders-billing": 1,
        "sns orders": 1,
    }
    assert report.needs_human == 1
    assert world.targets.calls == [] and world.sqs.bodies(world.billing) == []
    assert len(world.left()) == 5 and report.moved == 0


def test_where_selects_per_kind() -> None:
    world = World(lambda_feeder(HANDLER))
    world.put(km.lambda_async_dlq_message({"orderId": "o-1", "tenant": "a"}))
    world.put(km.lambda_async_dlq_message({"orderId": "o-2", "tenant": "b"}))
    report = world.run(selection=Selection(where=(("tenant", "b"),)))
    assert world.targets.payloads(HANDLER) == [{"orderId": "o-2", "tenant": "b"}]
    assert (report.moved, report.out_of_window) == (1, 1) and len(world.left()) == 1


def test_an_edit_of_a_functions_message_invokes_it_with_the_new_body() -> None:
    world = World(lambda_feeder(HANDLER))
    message_id = world.put(km.lambda_async_dlq_message({"orderId": "bad"}))
    report = world.run(edit=EditSpec(message_id, '{"orderId": "fixed"}'))
    assert world.targets.payloads(HANDLER) == [{"orderId": "fixed"}]
    assert report.moved == 1 and world.left() == []


# --- deleted only after the target confirmed ----------------------------------------------------


def test_a_refused_invoke_keeps_its_message_and_the_others_move() -> None:
    # Given Lambda throttling the invokes of one function
    world = World(events_feeder(HANDLER, "handler"), events_feeder(AUDIT, "audit"))
    world.put(eventbridge_message(HANDLER))
    world.put(eventbridge_message(AUDIT, order="o-2"))
    world.targets.refuse = lambda target: "TooManyRequestsException" if target == HANDLER else None
    report = world.run()
    # Then its message stays, failed with Lambda's code, and the other was delivered and deleted
    assert report.failure_reasons == {"TooManyRequestsException": 1} and report.moved == 1
    (left,) = world.left()
    assert json.loads(left)["detail"] == {"orderId": "o-1"}
    (delivered,) = world.targets.payloads(AUDIT)
    assert delivered["detail"] == {"orderId": "o-2"}


def test_a_throttled_delivery_is_tried_again_and_a_lasting_throttle_fails() -> None:
    # Given Lambda throttling the first invoke of one message and every invoke of another
    world = World(events_feeder(HANDLER, "handler"), events_feeder(AUDIT, "audit"))
    world.put(eventbridge_message(HANDLER))
    world.put(eventbridge_message(AUDIT, order="o-2"))
    handler_calls = iter(range(100))

    def throttle(target: str) -> str | None:
        if target == AUDIT or next(handler_calls) == 0:
            return "TooManyRequestsException"
        return None

    world.targets.refuse = throttle
    report = world.run(workers=1)
    # Then the one throttled once went on the second try (the throttle said it was not
    # taken), the other failed after every attempt (send_attempts), and stays
    assert len(world.targets.payloads(HANDLER)) == 1 and world.targets.payloads(AUDIT) == []
    assert report.moved == 1 and report.failure_reasons == {"TooManyRequestsException": 1}
    assert world.targets.calls.count(("Invoke", AUDIT)) == 3
    assert report.api_calls["Invoke"] == 5 and len(world.left()) == 1


def test_a_refused_publish_keeps_its_message() -> None:
    world = World(events_feeder(TOPIC, "fanout"))
    world.put(eventbridge_message(TOPIC))
    world.targets.refuse = lambda target: "AuthorizationError"
    report = world.run()
    assert report.failure_reasons == {"AuthorizationError": 1} and len(world.left()) == 1


def test_a_lost_answer_keeps_the_message_unconfirmed_never_sent_twice_and_counted() -> None:
    # Given Lambda took the invoke but its answer was lost (a read timeout)
    world = World(lambda_feeder(HANDLER))
    world.put(km.lambda_async_dlq_message({"orderId": "o-1"}))
    world.targets.lose_answer = lambda target: True
    world.sqs.redeliver.update(world.sqs.queues[world.dlq_url].messages)  # and SQS hands it twice
    report = world.run(workers=1)
    # Then it stays in the DLQ, unconfirmed, invoked once only, and the ledger counts it
    assert len(world.targets.invokes) == 1
    assert (report.unconfirmed, report.moved, report.failed) == (1, 0, 0)
    assert len(world.left()) == 1 and sum(world.ledger.redrives.values()) == 1
    assert report.went_wrong


def test_a_crash_between_the_invoke_and_the_delete_leaves_the_message_and_counts_it() -> None:
    # Given a DLQ whose delete fails as a whole after Lambda accepted the invoke
    world = World(lambda_feeder(HANDLER))
    world.put(km.lambda_async_dlq_message({"orderId": "o-1"}))

    def crash(url: str, handles: Sequence[str]) -> list[Any]:
        raise AwsError("Connection reset by peer", code="ConnectionReset")

    world.sqs.delete_batch = crash  # type: ignore[method-assign, assignment]
    report = world.run()
    # Then the message is still in the DLQ, the run says it stopped on the error, and the
    # ledger counted the delivery (a later run knows it was redriven once)
    assert len(world.targets.invokes) == 1 and len(world.left()) == 1
    assert report.stopped is StopReason.ERROR and "Connection reset" in (report.error or "")
    assert sum(world.ledger.redrives.values()) == 1


def test_a_failed_delete_still_marks_every_confirmed_copy_of_the_batch_moved() -> None:
    # Given one batch with copies for two functions, and a DLQ whose first delete fails whole
    world = World(events_feeder(HANDLER, "handler"), events_feeder(AUDIT, "audit"))
    world.put(eventbridge_message(HANDLER))
    world.put(eventbridge_message(AUDIT, order="o-2"))
    delete = world.sqs.delete_batch
    calls = iter(range(100))

    def first_fails(url: str, handles: Sequence[str]) -> list[Any]:
        if next(calls) == 0:
            raise AwsError("Connection reset by peer", code="ConnectionReset")
        return delete(url, handles)

    world.sqs.delete_batch = first_fails  # type: ignore[method-assign, assignment]
    report = world.run(workers=1)
    # Then both copies count as delivered (never as "not attempted", which a later run would
    # deliver again), both are in the ledger, and the one whose delete went is gone
    assert len(world.targets.invokes) == 2
    assert (report.moved, report.not_attempted) == (2, 0)
    assert sum(world.ledger.redrives.values()) == 2
    assert len(world.left()) == 1


def test_an_unexpected_error_in_one_delivery_settles_the_others_first() -> None:
    # Given a target API that fails one invoke with an error no gateway knows (a bug)
    class Buggy(FakeTargets):
        def invoke_event(self, function_arn: str, payload: bytes) -> None:
            super().invoke_event(function_arn, payload)
            if function_arn == HANDLER:
                raise RuntimeError("bug after the request went out")

    world = World(events_feeder(HANDLER, "handler"), events_feeder(AUDIT, "audit"))
    world.targets = Buggy()
    world.put(eventbridge_message(HANDLER))
    world.put(eventbridge_message(AUDIT, order="o-2"))
    # When the DLQ is redriven, the bug surfaces
    with pytest.raises(RuntimeError, match="bug after"):
        world.run(workers=1)
    # But only after the batch was settled: the other copy confirmed and deleted, the buggy
    # one kept (its outcome unknown: it may have been delivered) and counted in the ledger
    (left,) = world.left()
    assert json.loads(left)["detail"] == {"orderId": "o-1"}
    assert sum(world.ledger.redrives.values()) == 2


def test_the_poison_rule_stops_a_function_message_redriven_max_redrives_times() -> None:
    # Given a function that keeps failing: each invoke comes back to its DLQ with the same
    # payload and a new RequestID (Lambda's DLQ message), no counter (a payload has no room)
    world = World(lambda_feeder(HANDLER))
    world.put(km.lambda_async_dlq_message({"orderId": "o-1"}))
    reports = []
    for _ in range(4):
        reports.append(world.run())
        for _, payload in world.targets.invokes[len(reports) - 1 :]:
            world.put(km.lambda_async_dlq_message(json.loads(payload)))
    # Then three redrives went out (max_redrives=3), and the fourth run holds it for a human
    assert [r.moved for r in reports] == [1, 1, 1, 0]
    assert reports[-1].needs_human == 1 and len(world.targets.invokes) == 3
    assert len(world.left()) == 1


# --- no canary where copies cannot come back marked ---------------------------------------------


@pytest.mark.parametrize(
    "feeder",
    [
        lambda_feeder(HANDLER),
        sns_feeder("sqs", arn_of("orders-billing")),
        events_feeder(arn_of("orders-billing"), "billing"),
    ],
    ids=["lambda", "sns-queue", "events-queue"],
)
def test_a_canary_is_refused_for_a_dlq_whose_copies_cannot_come_back_marked(
    feeder: Feeder,
) -> None:
    world = World(feeder, sources=1)
    world.put(km.lambda_async_dlq_message())
    engine = RedriveEngine(world.sqs, max_redrives=3, timezone=UTC_ZONE, targets=world.targets)
    why = canary_blocker(world.dlq)
    assert why is not None and feeder.describe() in why and "marked" in why
    with pytest.raises(UsageError, match=r"no canary for kind-dlq: .*--canary 0"):
        run_with_canary(engine, world.dlq, RedriveRequest(confirm_empty_wait_s=0), CanaryPlan())
    # Nothing was touched
    assert world.targets.calls == [] and world.sqs.calls == []
    assert (
        canary_blocker(Dlq(world.sqs.info(world.dlq_url), (world.sqs.info(world.sources[0]),)))
        is None
    )


def test_fifo_function_deliveries_go_in_order_and_a_group_stops_at_its_first_failure() -> None:
    # Given a FIFO DLQ whose function refuses the first message of group "g"
    world = World()
    world.dlq_url = world.sqs.create("kind-dlq.fifo")
    world.feeders = (replace(lambda_feeder(HANDLER), dlq_arn=arn_of("kind-dlq.fifo")),)
    lambda_attributes: dict[str, Any] = km.lambda_async_dlq_message().message_attributes
    for n, group in ((0, "g"), (1, "g"), (2, "g"), (9, "h")):
        world.sqs.put(world.dlq_url, json.dumps({"n": n}), group=group, **lambda_attributes)
    refused = iter([True])
    world.targets.refuse = lambda target: "ServiceException" if next(refused, False) else None
    report = world.run(workers=1)
    # Then nothing of "g" went after its first message failed, and "h" went
    assert world.targets.payloads(HANDLER) == [{"n": 9}]
    assert (report.failed, report.held_back, report.moved) == (1, 2, 1)
    assert len(world.left()) == 3


# --- the one promise, whatever the messages say and whatever the targets answer -------------------

_MARK = re.compile(r"mark-(\d+)-")
_SHAPES = (
    "events-handler",
    "events-queue",
    "events-topic",
    "events-forged",
    "async",
    "sns",
    "junk",
)


def _shaped(shape: str, n: int, code: str) -> ReceivedMessage:
    mark = f"mark-{n}-"
    if shape.startswith("events"):
        target = {
            "events-handler": HANDLER,
            "events-queue": arn_of("orders-billing"),
            "events-topic": TOPIC,
            "events-forged": AUDIT,
        }[shape]
        return eventbridge_message(target, order=mark, error_code=code)
    if shape == "async":
        return km.lambda_async_dlq_message({"mark": mark})
    if shape == "sns":
        return km.sns_envelope(json.dumps({"mark": mark}), topic_arn=TOPIC)
    return km.lambda_async_dlq_message(body=f"not json {mark}")


@given(
    shapes=st.lists(
        st.tuples(st.sampled_from(_SHAPES), st.sampled_from(["THROTTLING", "NO_PERMISSIONS"])),
        min_size=1,
        max_size=25,
    ),
    answers=st.lists(st.sampled_from(["ok", "refuse", "lose"]), min_size=1, max_size=30),
    workers=st.integers(1, 3),
)
@settings(max_examples=60, deadline=None)
def test_nothing_is_deleted_unless_its_target_confirmed_and_nothing_goes_elsewhere(
    shapes: list[tuple[str, str]], answers: list[str], workers: int
) -> None:
    # Given a DLQ fed by a rule's function, queue and topic targets, and whatever its messages
    # say (forged targets, codes for a human, bodies that are no event)
    world = World(
        events_feeder(HANDLER, "handler"),
        events_feeder(arn_of("orders-billing"), "billing"),
        events_feeder(TOPIC, "fanout"),
    )
    for n, (shape, code) in enumerate(shapes):
        world.put(_shaped(shape, n, code))
    # and targets that accept, refuse, or take a copy and lose the answer, call by call
    turns = iter(answers * 100)
    confirmed: set[int] = set()
    delivered: list[str] = []

    class Answering(FakeTargets):
        def invoke_event(self, function_arn: str, payload: bytes) -> None:
            self._answer_with(function_arn, payload.decode())

        def publish(self, topic_arn: str, message: str, *args: Any) -> str:
            self._answer_with(topic_arn, message)
            return "sns-1"

        def _answer_with(self, target: str, text: str) -> None:
            answer = next(turns)
            if answer == "refuse":
                raise AwsError("refused", code="ServiceException")
            delivered.append(target)
            if answer == "lose":
                raise SendAnswerLostError("lost")
            confirmed.update(int(m) for m in _MARK.findall(text))

    world.targets = Answering()
    # When the DLQ is redriven
    report = world.run(workers=workers)
    # Then every message gone from the DLQ had its copy confirmed by its target (or by SQS)
    confirmed.update(
        int(m) for body in world.sqs.bodies(world.billing) for m in _MARK.findall(body)
    )
    left = {int(m) for body in world.left() for m in _MARK.findall(body)}
    gone = set(range(len(shapes))) - left
    assert gone <= confirmed
    # and nothing went anywhere but a target that feeds this DLQ (never the forged one)
    assert set(delivered) <= {HANDLER, TOPIC}
    assert world.sqs.bodies(world.shipping) == []
    # and the numbers add up: each selected message moved, failed, was unconfirmed or held
    assert report.moved == len(gone)
    assert report.matched == report.moved + report.failed + report.unconfirmed
