"""What the App Home tab reads (bot.slack.home_data.HomeReader), on moto's SQS and DynamoDB: every
figure equal to what was seeded, the queues read with one round of GetQueueAttributes and no
message received, and a part that cannot be read (the state table down, a configured DLQ
deleted, the approvers' user group) a problem line while the rest still shows.

The reader's SQS and DynamoDB calls go through tests/faults/fault_proxy.py, which counts them
(and, for the state table down, answers 503 ServiceUnavailable)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config

from bot.alerts.store import FedDlqStore
from bot.composition import redrive_engine
from bot.config import EngineSettings
from bot.daily.scan_facts import ScanFactsStore
from bot.daily.snapshots import Snapshot, SnapshotStore
from bot.slack.approvers import ApproverDirectory
from bot.slack.home_data import HomeOptions, HomeReader
from bot.slack.home_model import (
    ErrorGroupFact,
    HomeData,
    HomeDlq,
    PendingApproval,
    RunInProgress,
    ScanFacts,
    TrendPoint,
)
from bot.slack.queues import Queues
from bot.slack.web_api import SlackError
from bot.sqs_gateway import SqsGateway
from bot.state import StateStore
from bot.state_model import ApprovalRequest, RequestStatus, RunRecord, RunStatus
from bot.state_table import StateTable, create_state_table
from infra.local.moto_server import LocalAws
from infra.local.scene import create_pair
from tests.faults.fault_proxy import Fault, FaultProxy, ProxyRequest
from tests.unit.approval_requests import approval_request

TABLE = "dlq-redrive-state"
NOW = datetime.now(UTC).replace(microsecond=0)
RECORDED = NOW - timedelta(hours=3)  # the last daily report's record of the feeder-fed DLQs
TODAY = NOW.date()
DAY_S = 86_400
# Calls that would touch a DLQ's messages: the Home makes none.
MESSAGE_CALLS = (
    "ReceiveMessage",
    "ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch",
    "DeleteMessage",
    "DeleteMessageBatch",
    "SendMessage",
    "SendMessageBatch",
)


class NoUserGroups:
    """APPROVERS lists user ids only here: nothing asks Slack for a group."""

    def usergroup_members(self, usergroup: str) -> list[str]:
        raise AssertionError(f"asked for user group {usergroup}")


class UnreadableUserGroups:
    def usergroup_members(self, usergroup: str) -> list[str]:
        raise SlackError("usergroups.users.list failed: missing_scope", code="missing_scope")


@dataclass
class Seen:
    """The reader's calls, as the proxy in front of moto saw them."""

    actions: Counter[str]
    attribute_reads: Counter[str]  # GetQueueAttributes, by queue URL


@pytest.fixture
def seen(aws: LocalAws) -> Iterator[tuple[FaultProxy, Seen]]:
    observed = Seen(Counter(), Counter())

    def inspect(request: ProxyRequest) -> Fault | None:
        observed.actions[request.action] += 1
        if request.action == "GetQueueAttributes":
            observed.attribute_reads[json.loads(request.body)["QueueUrl"]] += 1
        return None

    with FaultProxy(aws.endpoint, lambda action, n: Fault.PASS, inspect=inspect) as proxy:
        yield proxy, observed


def _client(service: str, endpoint: str) -> Any:
    # One attempt: a state table that is down is down (no retries to wait out in a test).
    return boto3.client(service, endpoint_url=endpoint, config=Config(retries={"max_attempts": 1}))


def _reader(
    endpoint: str,
    *,
    dynamodb_endpoint: str | None = None,
    env: dict[str, str] | None = None,
    approvers: ApproverDirectory | None = None,
) -> HomeReader:
    settings = EngineSettings.from_env({"TIMEZONE": "UTC", **(env or {})})
    gateway = SqsGateway(_client("sqs", endpoint))
    table = StateTable(TABLE, _client("dynamodb", dynamodb_endpoint or endpoint))
    return HomeReader(
        queues=Queues(gateway, settings, redrive_engine(gateway, settings, table)),
        state=StateStore(table),
        snapshots=SnapshotStore(table),
        scan_facts=ScanFactsStore(table),
        approvers=approvers or ApproverDirectory(("U_BOB",), NoUserGroups()),
        fed=FedDlqStore(table),
        clock=lambda: NOW,
        options=HomeOptions(allow_self_approval=False),
    )


def _request(request_id: str, requester: str, *, asked: datetime, matched: int) -> ApprovalRequest:
    return approval_request(
        request_id,
        requested_at=asked,
        selection={"date": "2026-11-30"},
        selection_text="2026-11-30 (UTC), by sent time <!channel>",
        matched=matched,
        requester=requester,
        message_ts="1700000000.000100",
    )


@dataclass
class Scene:
    orders: ApprovalRequest
    bobs: ApprovalRequest
    running: RunRecord
    facts: ScanFacts


def _seed(sqs: Any) -> Scene:
    """Three DLQs (and their sources, and one queue that is no DLQ) with known counts, and the
    state table's snapshots, scan facts, requests and runs."""
    orders = create_pair(sqs, "orders")
    payments = create_pair(sqs, "payments")
    billing = create_pair(sqs, "billing.fifo")
    sqs.create_queue(QueueName="loose")
    for pair, retention in ((orders, 2 * DAY_S), (payments, DAY_S), (billing, 14 * DAY_S)):
        sqs.set_queue_attributes(
            QueueUrl=pair.dlq_url, Attributes={"MessageRetentionPeriod": str(retention)}
        )
    for n in range(4):
        sqs.send_message(QueueUrl=orders.dlq_url, MessageBody=f"order {n}")
    for n in range(6):
        sqs.send_message(QueueUrl=payments.dlq_url, MessageBody=f"payment {n}")
    # one of orders-dlq's 4 in flight (a consumer holds it): 3 visible, 1 not
    sqs.receive_message(QueueUrl=orders.dlq_url, MaxNumberOfMessages=1, VisibilityTimeout=600)

    create_state_table(boto3.client("dynamodb"), TABLE)
    table = StateTable(TABLE)
    snapshots = SnapshotStore(table)
    for days_ago, depth, exact in ((1, 3, True), (3, 10, False), (7, 2, True), (8, 99, True)):
        snapshot = Snapshot("orders-dlq", TODAY - timedelta(days=days_ago), depth, exact)
        snapshots.put(snapshot, taken_at=NOW)
    # The last daily report's feeder scan found no subscription, rule or function feeding a DLQ.
    FedDlqStore(table).record({}, now=RECORDED)
    facts = ScanFacts(
        dlq="orders-dlq",
        scanned_at=NOW - timedelta(hours=3),
        messages=4,
        complete=True,
        oldest_sent=NOW - timedelta(days=1, hours=2),
        next_expiry=NOW + timedelta(hours=22),
        top_errors=(ErrorGroupFact("Timeout <@U_ALL>", 3), ErrorGroupFact("Declined", 1)),
    )
    ScanFactsStore(table).put_all([facts], now=NOW)

    store = StateStore(table)
    alices = _request("r-1-alice", "U_ALICE", asked=NOW - timedelta(minutes=20), matched=4)
    bobs = _request("r-2-bob", "U_BOB", asked=NOW - timedelta(minutes=10), matched=2)
    approved = _request("r-3-approved", "U_ALICE", asked=NOW - timedelta(minutes=30), matched=9)
    rejected = _request("r-4-rejected", "U_ALICE", asked=NOW - timedelta(minutes=5), matched=1)
    lapsed = _request("r-5-lapsed", "U_ALICE", asked=NOW - timedelta(hours=2), matched=1)
    for request in (alices, bobs, approved, rejected, lapsed):
        store.put_request(request)
    store.decide(rejected.request_id, RequestStatus.REJECTED, "U_BOB", NOW)
    running = RunRecord(
        run_id=approved.request_id,
        dlq="orders-dlq",
        requester="U_ALICE",
        approved_by="U_BOB",
        status=RunStatus.RUNNING,
        started_at=NOW - timedelta(minutes=25),
        updated_at=NOW,
        moved=5,
    )
    assert store.approve_and_start(approved.request_id, running).won
    finished = _request("r-0-done", "U_ALICE", asked=NOW - timedelta(minutes=50), matched=7)
    store.put_request(finished)
    store.decide(finished.request_id, RequestStatus.APPROVED, "U_BOB", NOW - timedelta(minutes=45))
    store.start_run(
        RunRecord(
            finished.request_id,
            "orders-dlq",
            "U_ALICE",
            "U_BOB",
            RunStatus.DONE,
            NOW - timedelta(minutes=45),
            NOW,
            moved=7,
        )
    )
    return Scene(alices, bobs, running, facts)


def _pending(request: ApprovalRequest, *, mine: bool, may_decide: bool) -> PendingApproval:
    return PendingApproval(
        request_id=request.request_id,
        dlq=request.dlq,
        action="redrive",
        matched=request.matched,
        count_complete=True,
        selection_text=request.selection_text,
        requested_by=request.requester,
        requested_at=request.requested_at,
        expires_at=request.approval_expires_at,
        channel="C_OPS",
        message_ts="1700000000.000100",
        mine=mine,
        may_decide=may_decide,
    )


def _dlq(name: str, depth: int, in_flight: int, retention_s: int, **more: Any) -> HomeDlq:
    values: dict[str, Any] = {"kind": "sqs", "fifo": False, "trend": (), "scan": None}
    values.update(more)
    return HomeDlq(name, depth=depth, in_flight=in_flight, retention_s=retention_s, **values)


def test_every_figure_is_what_was_seeded(sqs: Any, seen: tuple[FaultProxy, Seen]) -> None:
    # Given three DLQs, their snapshots and last scan, requests in every state and two runs
    scene = _seed(sqs)
    proxy, _ = seen

    # When Bob (an approver) opens his Home tab
    data = _reader(proxy.endpoint).read("U_BOB")

    # Then the tab's data is exactly what was seeded: SQS's counts, deepest first; the trend of
    # the last 7 report days, oldest first (a day outside it left out); the last scan's facts;
    # the pending requests oldest first (Alice's, which he may approve, and his own, which he
    # may not); the running run with its request's action and count
    assert data == HomeData(
        user="U_BOB",
        read_at=NOW,
        dlqs=(
            _dlq("payments-dlq", 6, 0, DAY_S),
            _dlq(
                "orders-dlq",
                3,
                1,
                2 * DAY_S,
                trend=(
                    TrendPoint(TODAY - timedelta(days=7), 2, True),
                    TrendPoint(TODAY - timedelta(days=3), 10, False),
                    TrendPoint(TODAY - timedelta(days=1), 3, True),
                ),
                scan=scene.facts,
            ),
            _dlq("billing-dlq.fifo", 0, 0, 14 * DAY_S, fifo=True),
        ),
        approvals=(
            _pending(scene.orders, mine=False, may_decide=True),
            _pending(scene.bobs, mine=True, may_decide=False),
        ),
        runs=(
            RunInProgress(
                run_id="r-3-approved",
                dlq="orders-dlq",
                action="redrive",
                moved=5,
                matched=9,
                started_at=scene.running.started_at,
                approved_by="U_BOB",
            ),
        ),
        unread=(),
        problems=(),
        kinds_as_of=RECORDED,
    )


def test_the_queues_are_read_with_one_round_of_attributes_and_no_message_is_received(
    sqs: Any, seen: tuple[FaultProxy, Seen]
) -> None:
    # Given the scene (7 queues: 3 DLQs, their 3 sources, one queue that is no DLQ)
    _seed(sqs)
    proxy, observed = seen
    urls = sqs.list_queues()["QueueUrls"]
    assert len(urls) == 7

    # When the tab is read
    _reader(proxy.endpoint).read("U_ALICE")

    # Then SQS was asked for the queue list once and each queue's attributes once, and nothing
    # that touches a message (a receive would hide it from its consumer and count a receive)
    assert observed.actions["ListQueues"] == 1
    assert observed.attribute_reads == Counter({url: 1 for url in urls})
    assert {call: observed.actions[call] for call in MESSAGE_CALLS} == dict.fromkeys(
        MESSAGE_CALLS, 0
    )
    # And the state table was asked with one query and one batch get per part
    # the 7-day trend of the 3 DLQs (21 keys), pending requests, runs' requests, scan facts
    assert observed.actions["BatchGetItem"] == 4
    assert observed.actions["Query"] == 2  # the pending requests' index, the recent runs
    assert observed.actions["Scan"] == 0
    # And every message is still where it was: 3 visible and 1 in flight in orders-dlq
    attributes = sqs.get_queue_attributes(
        QueueUrl=sqs.get_queue_url(QueueName="orders-dlq")["QueueUrl"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert attributes == {
        "ApproximateNumberOfMessages": "3",
        "ApproximateNumberOfMessagesNotVisible": "1",
    }


def test_with_the_state_table_down_the_dlqs_still_show_and_each_missing_part_is_named(
    sqs: Any, aws: LocalAws, seen: tuple[FaultProxy, Seen]
) -> None:
    # Given the scene, and every call to the state table answered 503 ServiceUnavailable
    _seed(sqs)
    proxy, _ = seen
    dynamodb_down = FaultProxy(aws.endpoint, lambda action, n: Fault.UNAVAILABLE)

    # When the tab is read
    with dynamodb_down:
        data = _reader(proxy.endpoint, dynamodb_endpoint=dynamodb_down.endpoint).read("U_BOB")

    # Then every DLQ is there with its counts (no trend, no scan facts: unread, and said so)
    assert [(d.name, d.depth, d.in_flight, d.trend, d.scan) for d in data.dlqs] == [
        ("payments-dlq", 6, 0, (), None),
        ("orders-dlq", 3, 1, (), None),
        ("billing-dlq.fifo", 0, 0, (), None),
    ]
    assert data.approvals == () and data.runs == ()
    # And one line per part that could not be read, saying why
    assert [line.split(":")[0] for line in data.problems] == [
        "The daily report's record of the DLQs feeders feed could not be read "
        "(those DLQs are missing, the kinds not known)",
        "Pending approvals could not be read",
        "Runs in progress could not be read",
        "The daily trend could not be read",
        "The last daily scans could not be read",
    ]
    assert all("ServiceUnavailable" in line for line in data.problems)
    assert dynamodb_down.injected() >= 4


def test_a_configured_dlq_that_is_gone_is_a_problem_line_and_the_others_show(
    sqs: Any, seen: tuple[FaultProxy, Seen]
) -> None:
    # Given DLQ_QUEUES naming orders-dlq, payments-dlq and a DLQ deleted since
    _seed(sqs)
    proxy, observed = seen
    env = {"DLQ_QUEUES": "orders-dlq,payments-dlq,retired-dlq"}

    # When the tab is read
    data = _reader(proxy.endpoint, env=env).read("U_BOB")

    # Then the two are there with their counts, the third is a problem line
    assert [(d.name, d.depth, d.in_flight) for d in data.dlqs] == [
        ("payments-dlq", 6, 0),
        ("orders-dlq", 3, 1),
    ]
    assert len(data.problems) == 1 and data.problems[0].startswith(
        "DLQ retired-dlq could not be read: unknown DLQ 'retired-dlq'"
    )
    # And each DLQ's and each source's attributes were read once, no message touched
    assert sorted(url.rsplit("/", 1)[-1] for url in observed.attribute_reads) == [
        "orders",
        "orders-dlq",
        "payments",
        "payments-dlq",
    ]
    assert set(observed.attribute_reads.values()) == {1}
    assert sum(observed.actions[call] for call in MESSAGE_CALLS) == 0


def test_approvers_that_cannot_be_read_make_nobody_a_decider_and_say_why(
    sqs: Any, seen: tuple[FaultProxy, Seen]
) -> None:
    # Given APPROVERS naming a user group Slack will not expand
    _seed(sqs)
    proxy, _ = seen
    approvers = ApproverDirectory(("S_OPS",), UnreadableUserGroups())

    # When Bob opens his tab
    data = _reader(proxy.endpoint, approvers=approvers).read("U_BOB")

    # Then the pending requests are listed, none as his to decide (fail closed), and why
    assert [(a.request_id, a.may_decide) for a in data.approvals] == [
        ("r-1-alice", False),
        ("r-2-bob", False),
    ]
    assert data.problems == (
        "Who may approve could not be read: usergroups.users.list failed: missing_scope",
    )


def test_a_run_whose_request_is_gone_is_named_not_shown_with_invented_figures(
    sqs: Any, seen: tuple[FaultProxy, Seen]
) -> None:
    # Given, beside the scene's running run, a running run whose request item is not there
    _seed(sqs)
    proxy, _ = seen
    StateStore(StateTable(TABLE)).start_run(
        RunRecord("r-9-orphan", "payments-dlq", "U_ALICE", "U_BOB", RunStatus.CONTINUING, NOW, NOW)
    )

    # When the tab is read
    data = _reader(proxy.endpoint).read("U_BOB")

    # Then the run with its request is shown, the other named (its action and count unknown)
    assert [run.run_id for run in data.runs] == ["r-3-approved"]
    assert data.problems == ("Runs in progress without their request (not shown): r-9-orphan",)
