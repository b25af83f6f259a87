"""A redrive of each DLQ kind reaches exactly the target that failed its messages, and nothing
else, on moto (SQS, SNS, EventBridge) and the local Lambda server (functions, their DLQ settings,
every invoke recorded), through the real gateways, discovery and engine.

The scene: topic ``orders`` with two queue subscribers (``billing-inbox`` with a DLQ,
``shipping-inbox`` without) and a function subscriber (``notifier``, with a DLQ); rule
``invoice-due`` with three targets (function ``billing-fn`` and queue ``ledger-inbox``, both
dead-lettering into ``events-dlq``, and queue ``audit-inbox`` without a DLQ); function
``thumbnailer`` (async DLQ ``thumbs-dlq``) and ``invoice-pdf`` (on-failure destination
``pdf-failures``), and ``mailer`` and ``resizer`` sharing ``shared-dlq``. moto dead-letters none
of these services' messages, so each DLQ is seeded with messages shaped as AWS documents them
(``tests/unit/kind_messages.py``).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import boto3
import pytest

from bot.catalog import Dlq, DlqCatalog
from bot.composition import delivery_targets, feeder_directory, redrive_engine
from bot.config import EngineSettings
from bot.engine import RedriveEngine
from bot.error_groups import error_label
from bot.redrive_model import RedriveReport, RedriveRequest
from bot.selection import REDRIVE_COUNT_ATTRIBUTE, Selection
from bot.sqs_gateway import SqsGateway
from bot.sqs_model import ReceivedMessage
from bot.state_table import StateTable, create_state_table
from infra.local.kinds_scene import KindsBuilder
from infra.local.lambda_server import LambdaServer, function_arn
from infra.local.scene import count
from tests.faults.fault_proxy import Fault, FaultProxy
from tests.unit.fake_ledger import MemoryLedger
from tests.unit.kind_messages import (
    as_send_entry,
    eventbridge_dlq_message,
    eventbridge_event,
    lambda_async_dlq_message,
    lambda_on_failure_record,
    sns_envelope,
)

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from infra.local.moto_server import LocalAws

QUEUES = (
    "billing-inbox",
    "shipping-inbox",
    "orders-sub-dlq",
    "notifier-dlq",
    "ledger-inbox",
    "audit-inbox",
    "events-dlq",
    "thumbs-dlq",
    "pdf-failures",
    "shared-dlq",
)
FUNCTIONS = ("notifier", "billing-fn", "thumbnailer", "invoice-pdf", "mailer", "resizer")


class Scene(KindsBuilder):
    """The scene of the module docstring, and the catalog and engine the app would build."""

    def __init__(self, sqs: SQSClient, lambdas: LambdaServer) -> None:
        super().__init__(sqs, lambdas)
        self.queues(*QUEUES)
        self.topic = self.create_topic("orders")
        self.subscriptions = {
            "billing-inbox": self.subscribe("sqs", self.arns["billing-inbox"], "orders-sub-dlq"),
            "shipping-inbox": self.subscribe("sqs", self.arns["shipping-inbox"], None),
            "notifier": self.subscribe("lambda", function_arn("notifier"), "notifier-dlq"),
        }
        self.rule = self.put_rule(
            "invoice-due",
            "billing",
            [
                self.target("billing", function_arn("billing-fn"), "events-dlq"),
                self.target("ledger", self.arns["ledger-inbox"], "events-dlq"),
                self.target("audit", self.arns["audit-inbox"]),
            ],
        )
        for name in ("notifier", "billing-fn"):
            self.function(name)
        self.function("thumbnailer", dead_letter="thumbs-dlq")
        self.function("invoice-pdf", on_failure="pdf-failures")
        self.function("mailer", dead_letter="shared-dlq")
        self.function("resizer", dead_letter="shared-dlq")
        self.settings = EngineSettings.from_env({"DLQ_QUEUES": "*", "TIMEZONE": "UTC"})
        self.ledger = MemoryLedger()

    def subscribe(self, protocol: str, endpoint: str, dlq: str | None) -> str:
        """Subscribe ``endpoint`` to the topic ``orders``, dead-lettering into ``dlq``."""
        return self.subscribe_to(self.topic, protocol, endpoint, dlq)

    def catalog(self) -> DlqCatalog:
        return DlqCatalog(SqsGateway(), self.settings, feeder_directory(self.settings))

    def dlq(self, name: str) -> Dlq:
        return self.catalog().get(name)

    def redrive(self, name: str, *, sqs: SqsGateway | None = None, **options: Any) -> RedriveReport:
        engine = RedriveEngine(
            sqs or SqsGateway(),
            max_redrives=3,
            timezone=ZoneInfo("UTC"),
            ledger=self.ledger,
            targets=delivery_targets(self.settings),
        )
        request = RedriveRequest(**{"confirm_empty_wait_s": 0, "workers": 2, **options})
        report = engine.run(self.dlq(name), request)
        self.lambdas.wait_idle()
        return report

    def invoked(self, function: str) -> list[Any]:
        """The payloads ``function`` was invoked with (every invoke the server took)."""
        self.lambdas.wait_idle()
        return [i.payload for i in self.lambdas.calls_to(function)]

    def nothing_else(
        self, *, queues: Collection[str] = (), functions: Collection[str] = ()
    ) -> None:
        """No queue of the scene but ``queues`` and no function but ``functions`` got anything."""
        for queue in ("billing-inbox", "shipping-inbox", "ledger-inbox", "audit-inbox"):
            if queue not in queues:
                assert count(self.sqs, self.urls[queue]) == 0, queue
        for function in FUNCTIONS:
            if function not in functions:
                assert self.invoked(function) == [], function


@pytest.fixture
def scene(aws: LocalAws, sqs: SQSClient, lambdas: LambdaServer) -> Scene:
    return Scene(sqs, lambdas)


def invoice(scene: Scene, target: str, number: str, **options: Any) -> ReceivedMessage:
    return eventbridge_dlq_message(
        eventbridge_event({"invoiceId": number}), rule_arn=scene.rule, target_arn=target, **options
    )


# --- discovery --------------------------------------------------------------------------------


def test_every_kind_is_discovered_with_its_feeders(scene: Scene) -> None:
    found = {dlq.name: dlq for dlq in scene.catalog().watched()}
    assert {name: dlq.kind_label() for name, dlq in found.items()} == {
        "orders-sub-dlq": "sns",
        "notifier-dlq": "sns",
        "events-dlq": "events",
        "thumbs-dlq": "lambda",
        "pdf-failures": "lambda",
        "shared-dlq": "lambda",
    }
    assert found["orders-sub-dlq"].describe_sources() == [
        f"sns subscription {scene.subscriptions['billing-inbox']} → sqs billing-inbox"
    ]
    assert len(found["events-dlq"].feeders) == 2


# --- each kind reaches only its failed target ----------------------------------------------------


def test_an_sns_subscription_dlq_goes_to_its_queue_not_the_topic(scene: Scene) -> None:
    # Given two envelopes the billing subscription could not deliver
    envelopes = [
        sns_envelope(json.dumps({"orderId": o}), topic_arn=scene.topic, attributes={"t": "a"})
        for o in ("o-1", "o-2")
    ]
    scene.seed("orders-sub-dlq", *envelopes)
    # When its DLQ is redriven
    report = scene.redrive("orders-sub-dlq")
    # Then billing's queue got both envelopes as stored, the topic's other subscribers (a queue
    # moto would deliver a publish to, and a function) nothing, and the DLQ is empty
    got = scene.received("billing-inbox")
    assert sorted(m["Body"] for m in got) == sorted(e.body for e in envelopes)
    assert all(m["MessageAttributes"][REDRIVE_COUNT_ATTRIBUTE]["StringValue"] == "1" for m in got)
    scene.nothing_else()
    assert (report.moved, report.failed, scene.left("orders-sub-dlq")) == (2, 0, 0)
    assert report.by_destination == {"billing-inbox": 2}


def test_an_sns_subscription_of_a_function_gets_the_sns_event(scene: Scene) -> None:
    envelope = sns_envelope('{"orderId":"o-3"}', topic_arn=scene.topic, subject="shipped")
    scene.seed("notifier-dlq", envelope)
    report = scene.redrive("notifier-dlq")
    (event,) = scene.invoked("notifier")
    (record,) = event["Records"]
    assert record["EventSource"] == "aws:sns"
    assert record["EventSubscriptionArn"] == scene.subscriptions["notifier"]
    assert record["Sns"]["Message"] == '{"orderId":"o-3"}'
    assert record["Sns"]["TopicArn"] == scene.topic and record["Sns"]["Subject"] == "shipped"
    assert record["Sns"]["MessageId"] == json.loads(envelope.body)["MessageId"]
    scene.nothing_else(functions={"notifier"})
    assert report.moved == 1 and scene.left("notifier-dlq") == 0
    assert report.by_destination == {"lambda notifier": 1}


def test_eventbridge_targets_each_get_their_own_and_the_rules_other_target_nothing(
    scene: Scene,
) -> None:
    # Given events the function target and the queue target of one rule each failed
    to_function = invoice(scene, function_arn("billing-fn"), "inv-1", error_code="THROTTLING")
    to_queue = invoice(scene, scene.arns["ledger-inbox"], "inv-2", error_code="TIMEOUT")
    scene.seed("events-dlq", to_function, to_queue)
    report = scene.redrive("events-dlq")
    # Then each got exactly its event, as EventBridge delivers it (no DLQ attributes), and the
    # third target of the rule nothing
    assert scene.invoked("billing-fn") == [json.loads(to_function.body)]
    (queued,) = scene.received("ledger-inbox")
    assert queued["Body"] == to_queue.body
    assert set(queued.get("MessageAttributes", {})) == {REDRIVE_COUNT_ATTRIBUTE}
    scene.nothing_else(queues={"ledger-inbox"}, functions={"billing-fn"})
    assert report.moved == 2 and scene.left("events-dlq") == 0


def test_a_lambda_async_dlq_and_an_on_failure_record_invoke_their_functions(scene: Scene) -> None:
    scene.seed("thumbs-dlq", lambda_async_dlq_message({"key": "cat.heic"}))
    record = lambda_on_failure_record(
        {"invoiceId": "inv-80"}, function_arn=function_arn("invoice-pdf") + ":$LATEST"
    )
    scene.seed("pdf-failures", record)
    thumbs = scene.redrive("thumbs-dlq")
    pdf = scene.redrive("pdf-failures")
    assert scene.invoked("thumbnailer") == [{"key": "cat.heic"}]
    assert scene.invoked("invoice-pdf") == [{"invoiceId": "inv-80"}]
    scene.nothing_else(functions={"thumbnailer", "invoice-pdf"})
    assert (thumbs.moved, pdf.moved) == (1, 1)
    assert scene.left("thumbs-dlq") == scene.left("pdf-failures") == 0
    # A function's copy carries no counter: the ledger counted each
    assert thumbs.counter_dropped == 1 and sum(scene.ledger.redrives.values()) == 2


# --- held and refused, with the reason ---------------------------------------------------------


def test_eventbridge_codes_no_retry_fixes_are_held_and_reported(scene: Scene) -> None:
    scene.seed(
        "events-dlq",
        invoice(scene, function_arn("billing-fn"), "inv-3", error_code="NO_PERMISSIONS"),
        invoice(scene, scene.arns["ledger-inbox"], "inv-4", error_code="RESOURCE_NOT_FOUND"),
    )
    report = scene.redrive("events-dlq")
    assert (report.needs_human, report.moved, report.failed) == (2, 0, 0)
    reasons = " ".join(report.needs_human_reasons)
    assert "NO_PERMISSIONS" in reasons and "RESOURCE_NOT_FOUND" in reasons
    scene.nothing_else()
    # Both stay, their attributes intact, for a human
    kept = scene.received("events-dlq")
    codes = {m["MessageAttributes"]["ERROR_CODE"]["StringValue"] for m in kept}
    assert codes == {"NO_PERMISSIONS", "RESOURCE_NOT_FOUND"}


def test_a_forged_target_arn_is_refused_and_nothing_is_delivered(scene: Scene) -> None:
    # Given messages naming the rule's target without a DLQ, and a function of another kind
    scene.seed(
        "events-dlq",
        invoice(scene, scene.arns["audit-inbox"], "inv-5"),
        invoice(scene, function_arn("thumbnailer"), "inv-6"),
    )
    report = scene.redrive("events-dlq")
    assert report.failure_reasons == {"UnknownTarget": 2} and report.moved == 0
    scene.nothing_else()
    assert scene.left("events-dlq") == 2


def test_functions_sharing_a_dlq_are_ambiguous_and_held(scene: Scene) -> None:
    scene.seed("shared-dlq", lambda_async_dlq_message({"to": "someone"}))
    report = scene.redrive("shared-dlq")
    assert report.failure_reasons == {"Ambiguous": 1}
    assert "mailer" in report.failures[0]["reason"] and "resizer" in report.failures[0]["reason"]
    scene.nothing_else()
    assert scene.left("shared-dlq") == 1


# --- dry run and selection -------------------------------------------------------------------


def test_a_dry_run_counts_each_kind_by_destination_and_delivers_nothing(scene: Scene) -> None:
    scene.seed("orders-sub-dlq", sns_envelope(topic_arn=scene.topic))
    scene.seed(
        "events-dlq",
        invoice(scene, function_arn("billing-fn"), "inv-7"),
        invoice(scene, scene.arns["ledger-inbox"], "inv-8"),
        invoice(scene, function_arn("billing-fn"), "inv-9", error_code="NO_PERMISSIONS"),
    )
    scene.seed("thumbs-dlq", lambda_async_dlq_message({"key": "a"}))
    sub = scene.redrive("orders-sub-dlq", dry_run=True)
    events = scene.redrive("events-dlq", dry_run=True)
    thumbs = scene.redrive("thumbs-dlq", dry_run=True)
    assert sub.by_destination == {"billing-inbox": 1}
    assert events.by_destination == {"lambda billing-fn": 1, "ledger-inbox": 1}
    assert events.needs_human == 1
    assert thumbs.by_destination == {"lambda thumbnailer": 1}
    scene.nothing_else()
    assert (scene.left("orders-sub-dlq"), scene.left("events-dlq"), scene.left("thumbs-dlq")) == (
        1,
        3,
        1,
    )


def test_where_and_error_select_per_kind(scene: Scene) -> None:
    # --where on an SNS envelope's fields and on a function's payload
    scene.seed(
        "notifier-dlq",
        sns_envelope('{"orderId":"o-1"}', topic_arn=scene.topic, subject="keep"),
        sns_envelope('{"orderId":"o-2"}', topic_arn=scene.topic, subject="send"),
    )
    scene.seed("thumbs-dlq", *(lambda_async_dlq_message({"key": k}) for k in ("a", "b")))
    notifier = scene.redrive("notifier-dlq", selection=Selection(where=(("Subject", "send"),)))
    thumbs = scene.redrive("thumbs-dlq", selection=Selection(where=(("key", "b"),)))
    assert [e["Records"][0]["Sns"]["Subject"] for e in scene.invoked("notifier")] == ["send"]
    assert scene.invoked("thumbnailer") == [{"key": "b"}]
    assert (notifier.moved, notifier.out_of_window, thumbs.moved) == (1, 1, 1)
    # --error on the group EventBridge's ERROR_CODE / ERROR_MESSAGE label
    throttled = invoice(scene, function_arn("billing-fn"), "inv-10", error_code="THROTTLING")
    timed_out = invoice(scene, function_arn("billing-fn"), "inv-11", error_code="TIMEOUT")
    scene.seed("events-dlq", throttled, timed_out)
    label, _ = error_label(timed_out, None)
    events = scene.redrive("events-dlq", selection=Selection(error=label))
    assert [e["detail"]["invoiceId"] for e in scene.invoked("billing-fn")] == ["inv-11"]
    assert (events.moved, events.out_of_window, scene.left("events-dlq")) == (1, 1, 1)


# --- deleted only after Lambda confirmed --------------------------------------------------------


def test_a_refused_invoke_keeps_its_message_and_the_others_move(scene: Scene) -> None:
    # Given Lambda answering one invoke with 500 ServiceException
    scene.seed("thumbs-dlq", *(lambda_async_dlq_message({"key": k}) for k in ("a", "b", "c")))
    scene.lambdas.fault("thumbnailer", status=500)
    report = scene.redrive("thumbs-dlq", workers=1)
    # Then that message stays, failed with Lambda's code, and the others were delivered
    assert report.failure_reasons == {"ServiceException": 1} and report.moved == 2
    assert len(scene.invoked("thumbnailer")) == 2 and scene.left("thumbs-dlq") == 1


def test_an_invoke_throttled_on_every_attempt_keeps_its_message(scene: Scene) -> None:
    scene.seed("thumbs-dlq", lambda_async_dlq_message({"key": "busy"}))
    scene.lambdas.fault("thumbnailer", status=429, times=3)
    report = scene.redrive("thumbs-dlq")
    assert report.failure_reasons == {"TooManyRequestsException": 1} and report.moved == 0
    assert report.api_calls["Invoke"] == 3 and scene.invoked("thumbnailer") == []
    assert scene.left("thumbs-dlq") == 1


def test_a_throttled_invoke_is_tried_again(scene: Scene) -> None:
    scene.seed("thumbs-dlq", lambda_async_dlq_message({"key": "busy"}))
    scene.lambdas.fault("thumbnailer", status=429)
    report = scene.redrive("thumbs-dlq")
    assert scene.invoked("thumbnailer") == [{"key": "busy"}]
    assert (report.moved, report.failed, report.api_calls["Invoke"]) == (1, 0, 2)
    assert scene.left("thumbs-dlq") == 0


def test_a_lost_answer_leaves_the_message_unconfirmed_and_counted(scene: Scene) -> None:
    # Given Lambda queues the invoke but its answer never comes back
    scene.seed("thumbs-dlq", lambda_async_dlq_message({"key": "lost"}))
    scene.lambdas.fault("thumbnailer", lose_answer=True)
    report = scene.redrive("thumbs-dlq")
    # Then the function got it once, the message stays (not deleted unconfirmed), and the
    # ledger counts the redrive it may have been
    assert scene.invoked("thumbnailer") == [{"key": "lost"}]
    assert (report.unconfirmed, report.moved, report.failed) == (1, 0, 0)
    assert scene.left("thumbs-dlq") == 1 and sum(scene.ledger.redrives.values()) == 1


def test_a_crash_between_the_invoke_and_the_delete_leaves_the_message(
    scene: Scene, aws: LocalAws
) -> None:
    # Given an SQS whose delete never reaches it (the connection resets first)
    scene.seed("thumbs-dlq", lambda_async_dlq_message({"key": "crash"}))

    def rule(action: str, seen: int) -> Fault:
        return Fault.RESET_BEFORE if action == "DeleteMessageBatch" else Fault.PASS

    with FaultProxy(aws.endpoint, rule) as proxy:
        client = boto3.client("sqs", endpoint_url=proxy.endpoint)
        report = scene.redrive("thumbs-dlq", sqs=SqsGateway(client))
    # Then the function was invoked, the message is still in the DLQ, the run says its copy
    # went but it was not deleted, and the ledger counted the delivery
    assert scene.invoked("thumbnailer") == [{"key": "crash"}]
    assert proxy.injected("DeleteMessageBatch") >= 1
    assert (report.moved, report.delete_failed) == (1, 1) and report.went_wrong
    assert sum(scene.ledger.redrives.values()) == 1
    # (hidden until its visibility timeout ends: a moved message is never released, since a
    # later run would send it again; then it is back for the next run, which the ledger bounds)
    assert scene.left("thumbs-dlq") == 1


def test_an_eventbridge_topic_target_is_published_to_and_its_subscribers_get_it(
    scene: Scene,
) -> None:
    # Given a rule target that is a topic (with a DLQ), whose queue subscriber moto delivers to
    alerts = scene.create_topic("alerts")
    scene.queues("alerts-inbox", "alerts-dlq")
    scene.sns.subscribe(
        TopicArn=alerts,
        Protocol="sqs",
        Endpoint=scene.arns["alerts-inbox"],
        Attributes={"RawMessageDelivery": "true"},
    )
    scene.events.put_targets(
        Rule="invoice-due", Targets=[scene.target("alerts", alerts, "alerts-dlq")]
    )
    event = invoice(scene, alerts, "inv-12", error_code="THROTTLING")
    scene.seed("alerts-dlq", event)
    # When its DLQ is redriven
    report = scene.redrive("alerts-dlq")
    # Then SNS took one publish of the event (its MessageId confirmed it), which its subscriber
    # got with the counter, and the DLQ is empty
    (got,) = scene.received("alerts-inbox")
    assert got["Body"] == event.body
    assert got["MessageAttributes"][REDRIVE_COUNT_ATTRIBUTE]["StringValue"] == "1"
    assert report.moved == 1 and report.by_destination == {"sns alerts": 1}
    assert report.api_calls["Publish"] == 1 and scene.left("alerts-dlq") == 0
    scene.nothing_else()
    # And a publish SNS refuses (the topic was deleted) keeps its message, with SNS's code
    scene.seed("alerts-dlq", invoice(scene, alerts, "inv-13"))
    scene.sns.delete_topic(TopicArn=alerts)
    refused = scene.redrive("alerts-dlq")
    assert refused.failure_reasons == {"NotFound": 1}, refused.failures
    assert refused.moved == 0 and scene.left("alerts-dlq") == 1


def test_the_state_tables_ledger_stops_a_function_that_keeps_failing(scene: Scene) -> None:
    # Given a function that still fails: Lambda writes each event it could not process to the
    # function's DLQ again, the payload as it was, with a new RequestID (no counter can ride on
    # an invoke's payload)
    dlq_url = scene.urls["thumbs-dlq"]

    def still_failing(event: Any, context: Any) -> None:
        message = lambda_async_dlq_message(event)
        boto3.client("sqs").send_message(QueueUrl=dlq_url, **as_send_entry(message))

    scene.function("thumbnailer", dead_letter="thumbs-dlq", handler=still_failing)
    scene.seed("thumbs-dlq", lambda_async_dlq_message({"key": "broken.heic"}))
    dynamodb = boto3.client("dynamodb")
    create_state_table(dynamodb, "dlq-redrive-state")
    settings = EngineSettings.from_env({"DLQ_QUEUES": "*", "TIMEZONE": "UTC", "MAX_REDRIVES": "2"})
    # When the app's engine (the worker's and the daily job's: the state table's ledger)
    # redrives the DLQ three times
    reports = []
    for _ in range(3):
        engine = redrive_engine(
            SqsGateway(),
            settings,
            StateTable("dlq-redrive-state", dynamodb),
            targets=delivery_targets(settings),
        )
        reports.append(engine.run(scene.dlq("thumbs-dlq"), RedriveRequest(confirm_empty_wait_s=0)))
        scene.lambdas.wait_idle()
    # Then it went twice (MAX_REDRIVES: a copy back within the same run counts too), and the
    # last run holds it for a human
    assert sum(r.moved for r in reports) == 2
    assert reports[-1].moved == 0 and reports[-1].needs_human == 1
    assert scene.invoked("thumbnailer") == [{"key": "broken.heic"}] * 2
    assert scene.left("thumbs-dlq") == 1


def test_a_subscription_sns_alone_can_reach_is_refused_with_its_reason(scene: Scene) -> None:
    # Given an https subscription of the topic that dead-letters into its own DLQ
    scene.queues("hooks-dlq")
    scene.subscribe("https", "https://hooks.example.com/orders", "hooks-dlq")
    scene.seed("hooks-dlq", sns_envelope(topic_arn=scene.topic))
    # When its DLQ is redriven
    report = scene.redrive("hooks-dlq")
    # Then the message stays, refused with why, and nothing was delivered anywhere (the topic's
    # queue subscribers would show a publish)
    assert report.failure_reasons == {"Unsupported": 1} and report.moved == 0
    assert "https" in report.failures[0]["reason"]
    scene.nothing_else()
    assert scene.left("hooks-dlq") == 1
