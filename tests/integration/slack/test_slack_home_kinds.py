"""The App Home tab of DLQs that SNS subscriptions, EventBridge targets and Lambda functions feed
(issue 14: "fast: one batch of GetQueueAttributes calls, no message receives on open"): an open
reads the queues (ListQueues, each queue's attributes once) and the daily report's record of the
feeder-fed DLQs and their kinds (``bot.alerts.store.FedDlqStore``), never the feeder scan (every
subscription, rule and function). Signed ``app_home_opened`` through the real endpoint and worker;
every AWS call the worker makes counted by a proxy in front of moto and one in front of the local
Lambda server."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import boto3
import pytest

from bot.alerts.store import FED, WATCH, FedDlqStore, record_fed_dlqs
from bot.catalog import DlqCatalog
from bot.composition import feeder_directory
from bot.config import EngineSettings
from bot.feeders import Kind
from bot.sqs_gateway import SqsGateway
from bot.state_schema import PARTITION_KEY, SORT_KEY
from bot.state_table import StateTable
from infra.local.moto_server import LocalAws
from tests.faults.fault_proxy import Fault, FaultProxy, ProxyRequest
from tests.integration.kinds_world import World
from tests.integration.slack.home_world import open_home, published
from tests.integration.slack.slack_harness import (
    APPROVER,
    APPROVER_2,
    JOB_KEY,
    LOCAL_TEAM,
    REQUESTER,
    SECRET,
    TABLE,
    SlackHarness,
    harness,
)

__all__ = ["harness"]  # fixture

RECORDED_AT = datetime(2026, 12, 1, 6, 0, 12, tzinfo=UTC)
# What feeds each DLQ of the world (tests/integration/kinds_world.World)
KINDS = {
    "orders-sub-dlq": "sns",
    "notifier-dlq": "sns",
    "billing-dlq": "events",
    "thumbnailer-dlq": "lambda",
    "invoice-pdf-failures": "lambda",
    "payments-dlq": "sqs",
}


@dataclass
class Calls:
    """Every AWS call the proxies passed on, by service, and GetQueueAttributes by queue URL."""

    by_service: Counter[str]
    actions: Counter[str]
    attribute_reads: Counter[str]

    def clear(self) -> None:
        self.by_service.clear()
        self.actions.clear()
        self.attribute_reads.clear()


def _operations(service: str) -> frozenset[str]:
    return frozenset(boto3.client(service).meta.service_model.operation_names)


@pytest.fixture
def calls() -> Calls:
    return Calls(Counter(), Counter(), Counter())


@pytest.fixture
def slack_env(
    aws: LocalAws, calls: Calls, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[dict[str, str]]:
    """The harness's environment with every AWS call (SQS, SNS, EventBridge, DynamoDB) through a
    proxy in front of moto that counts them (a test's ``slack_env`` parameter: more settings)."""
    services = {name: _operations(name) for name in ("sqs", "sns", "events", "dynamodb")}

    def inspect(request: ProxyRequest) -> Fault | None:
        service = next((s for s, ops in services.items() if request.action in ops), "other")
        calls.by_service[service] += 1
        calls.actions[request.action] += 1
        if request.action == "GetQueueAttributes":
            calls.attribute_reads[json.loads(request.body)["QueueUrl"]] += 1
        return None

    with FaultProxy(aws.endpoint, lambda action, n: Fault.PASS, inspect=inspect) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.endpoint)
        yield {
            **aws.env,
            "AWS_ENDPOINT_URL": proxy.endpoint,
            "TIMEZONE": "UTC",
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_TEAM_ID": LOCAL_TEAM,
            "JOB_SIGNING_KEY": JOB_KEY,
            "APPROVERS": f"{APPROVER},{APPROVER_2},{REQUESTER}",
            "STATE_TABLE": TABLE,
            "WORKER_FUNCTION_NAME": "worker",
            **getattr(request, "param", {}),
        }


@pytest.fixture
def lambda_calls(harness: SlackHarness, monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Lambda's configuration API (ListFunctions, GetFunctionConfiguration, ...: GETs) as the
    worker calls it, counted by a proxy in front of the local Lambda server."""
    seen: Counter[str] = Counter()

    def inspect(request: ProxyRequest) -> Fault | None:
        if request.action == "GET":
            seen[request.path.partition("?")[0]] += 1
        return None

    with FaultProxy(
        harness.lambdas.endpoint_url, lambda action, n: Fault.PASS, inspect=inspect
    ) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", proxy.endpoint)
        yield seen


def _record_as_the_daily_report_does(harness: SlackHarness) -> dict[str, str]:
    """The daily report's feeder scan of the world and its record; each DLQ's kinds as found."""
    settings = EngineSettings.from_env({"TIMEZONE": "UTC"})
    catalog = DlqCatalog(SqsGateway(), settings, feeder_directory(settings))
    found = catalog.watched()
    store = FedDlqStore(StateTable(TABLE, boto3.client("dynamodb")))
    record_fed_dlqs(store, found, partial=False, now=RECORDED_AT, unread=catalog.unread)
    return {dlq.name: dlq.kind_label() for dlq in found}


def _kind_shown(text: str, name: str) -> str | None:
    marker = f"*`{name}`* ("
    if marker not in text:
        return None
    return text.split(marker, 1)[1].split(")", 1)[0]


def test_opening_the_home_tab_reads_no_feeder_and_shows_the_recorded_kinds(
    harness: SlackHarness, calls: Calls, lambda_calls: Counter[str]
) -> None:
    # Given DLQs of every kind (SNS subscriptions, an EventBridge target, Lambda functions, an
    # SQS queue) and the daily report's record of what feeds them
    World(harness.sqs, harness.lambdas)
    recorded = _record_as_the_daily_report_does(harness)
    assert recorded == KINDS
    urls = harness.sqs.list_queues()["QueueUrls"]
    calls.clear()
    lambda_calls.clear()

    # When Alice opens her Home tab
    open_home(harness)
    harness.settle()
    text = json.dumps(published(harness)["blocks"], ensure_ascii=False)

    # Then no subscription, rule or function was read, and no message received: SQS was asked
    # for the queue list and each queue's attributes once
    assert calls.by_service["sns"] == 0 and calls.by_service["events"] == 0
    assert sum(lambda_calls.values()) == 0, lambda_calls
    assert calls.actions["ReceiveMessage"] == 0
    assert calls.actions["ListQueues"] == 1
    assert calls.attribute_reads == Counter(dict.fromkeys(urls, 1))
    # And every DLQ is shown with the kinds the report recorded, said to be as of that report
    assert {name: _kind_shown(text, name) for name in KINDS} == KINDS
    assert "Kinds as of the 2026-12-01 06:00 +00:00 daily report" in text


def test_a_record_of_urls_only_says_the_kinds_are_not_known_yet(
    harness: SlackHarness, calls: Calls
) -> None:
    # Given the record an earlier version of the daily report wrote: the fed DLQs' URLs only
    world = World(harness.sqs, harness.lambdas)
    fed = ("orders-sub-dlq", "notifier-dlq", "billing-dlq", "thumbnailer-dlq")
    StateTable(TABLE, boto3.client("dynamodb")).put(
        {
            PARTITION_KEY: {"S": WATCH},
            SORT_KEY: {"S": FED},
            "dlqs": {"M": {name: {"S": world.urls[name]} for name in fed}},
            "recorded_at": {"S": RECORDED_AT.isoformat(timespec="seconds")},
        },
        doing="write a record of an earlier version",
    )
    calls.clear()

    # When the Home tab is opened
    open_home(harness)
    harness.settle()
    text = json.dumps(published(harness)["blocks"], ensure_ascii=False)

    # Then the recorded DLQs are shown, their kinds said not to be known yet (not guessed), and
    # the SQS-fed one as discovered
    assert {name: _kind_shown(text, name) for name in fed} == dict.fromkeys(
        fed, "kinds not known yet"
    )
    assert _kind_shown(text, "payments-dlq") == "sqs"
    assert calls.by_service["sns"] == 0 and calls.by_service["events"] == 0


def test_kinds_the_report_could_not_read_are_said_with_when(harness: SlackHarness) -> None:
    # Given a report whose scan could not read SNS subscriptions
    world = World(harness.sqs, harness.lambdas)
    store = FedDlqStore(StateTable(TABLE, boto3.client("dynamodb")))
    store.record(
        {"thumbnailer-dlq": world.urls["thumbnailer-dlq"]},
        kinds={"thumbnailer-dlq": (Kind.LAMBDA,)},
        unread=((Kind.SNS, "AccessDenied: not allowed"),),
        now=RECORDED_AT,
        partial=True,
    )
    # When the Home tab is opened
    open_home(harness)
    harness.settle()
    text = json.dumps(published(harness)["blocks"], ensure_ascii=False)
    # Then it says the kind was not read by that report, and the kinds it did read
    assert "sns subscriptions not read: AccessDenied: not allowed" in text
    assert "Kinds as of the 2026-12-01 06:00 +00:00 daily report" in text
    assert _kind_shown(text, "thumbnailer-dlq") == "lambda"


@pytest.mark.parametrize("slack_env", [{"DLQ_QUEUES": ",".join(KINDS)}], indirect=True)
def test_with_dlq_queues_the_dlqs_are_read_as_before_without_a_feeder_scan(
    harness: SlackHarness, calls: Calls, lambda_calls: Counter[str]
) -> None:
    # Given DLQ_QUEUES naming every DLQ of the world, and the daily report's record
    world = World(harness.sqs, harness.lambdas)
    _record_as_the_daily_report_does(harness)
    calls.clear()
    lambda_calls.clear()

    # When the Home tab is opened
    open_home(harness)
    harness.settle()
    text = json.dumps(published(harness)["blocks"], ensure_ascii=False)

    # Then each DLQ was looked up as before (its URL, its attributes, its source queues: only
    # payments-dlq has one), no feeder read, no message received
    assert calls.by_service["sns"] == 0 and calls.by_service["events"] == 0
    assert sum(lambda_calls.values()) == 0, lambda_calls
    assert calls.actions["ReceiveMessage"] == 0
    assert calls.actions["GetQueueUrl"] == len(KINDS)
    read = [world.urls[name] for name in KINDS if name != "payments-dlq"]
    payments = harness.sqs.get_queue_url(QueueName="payments-dlq")["QueueUrl"]
    source = harness.sqs.get_queue_url(QueueName="payments")["QueueUrl"]
    assert calls.attribute_reads == Counter(dict.fromkeys([*read, payments, source], 1))
    # And the kinds are the recorded ones
    assert {name: _kind_shown(text, name) for name in KINDS} == KINDS
