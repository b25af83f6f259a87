"""Which DLQs the alert checks watch, without a feeder scan every few minutes: those SQS queues
feed (ListQueues + GetQueueAttributes), those DLQ_QUEUES names, and those only feeders feed
(an SNS subscription's DLQ here) as the daily report recorded them (bot.alerts.store)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from bot.alerts.store import FedDlqStore
from bot.composition import build_daily_job
from bot.state_table import StateTable
from infra.local.lambda_server import LocalLambdaContext
from infra.local.scene import create_pair, queue_arn
from tests.integration.alerts.conftest import STATE_TABLE, Alerts


def sns_fed_dlq(sqs: Any, name: str) -> str:
    """A queue only an SNS subscription dead-letters into (no queue's RedrivePolicy names it),
    holding 2 messages; its URL."""
    sns = boto3.client("sns")
    dlq_url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
    worker_url = sqs.create_queue(QueueName=f"{name}-worker")["QueueUrl"]
    topic = sns.create_topic(Name=f"{name}-topic")["TopicArn"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn(sqs, worker_url),
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": queue_arn(sqs, dlq_url)})},
    )
    for n in range(2):
        sqs.send_message(QueueUrl=dlq_url, MessageBody=f"envelope {n}")
    return dlq_url


def fed_store() -> FedDlqStore:
    return FedDlqStore(StateTable(STATE_TABLE))


def test_a_dlq_only_a_feeder_feeds_is_watched_once_the_daily_report_recorded_it(
    alerts: Alerts, sqs: Any
) -> None:
    # Given a DLQ only an SNS subscription feeds, not yet in the daily report's record
    url = sns_fed_dlq(sqs, "notices-dlq")
    before = alerts.check(0)

    # When the daily report recorded it (as its feeder scan found it)
    fed_store().record({"notices-dlq": url}, now=datetime.now(UTC))
    after = alerts.check(5)

    # Then the checks that read only queue attributes watched it from then on
    assert before["alerted"] == [] and before["watched"] == 0
    assert after["alerted"] == ["notices-dlq"] and after["watched"] == 1
    [alert] = alerts.alerts()
    assert "`notices-dlq`: about 2 messages" in json.dumps(alert["blocks"])


def test_the_daily_report_records_the_dlqs_its_feeder_scan_found(alerts: Alerts, sqs: Any) -> None:
    # Given an SNS-fed DLQ and a DLQ an SQS queue feeds
    url = sns_fed_dlq(sqs, "notices-dlq")
    create_pair(sqs, "orders")

    # When the daily report runs (its feeder scan reads the SNS subscriptions)
    env = {**alerts.env, "DLQ_KINDS": "sns", "DAILY_CANARY_WAIT_S": "0"}
    job = build_daily_job(env)
    tomorrow = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0)
    event = {"time": (tomorrow + timedelta(days=1)).isoformat()}
    job.handle(event, LocalLambdaContext("dlq-redrive-daily", 900.0, str(uuid.uuid4())))

    # Then the record holds the DLQ only a feeder feeds (the other one discovery finds anyway)
    assert fed_store().read() == {"notices-dlq": url}


def test_a_partial_feeder_scan_keeps_what_the_record_held() -> None:
    # Given a record naming two feeder-fed DLQs (the store on the in-memory table)
    from tests.unit.fake_state_table import FakeStateTable

    store = FedDlqStore(FakeStateTable())
    now = datetime.now(UTC)
    store.record({"a-dlq": "https://q/a-dlq", "b-dlq": "https://q/b-dlq"}, now=now)

    # When a scan that could not read some kind of feeder finds only a new one, then a full
    # scan finds only that one
    store.record({"c-dlq": "https://q/c-dlq"}, now=now, partial=True)
    kept = store.read()
    store.record({"c-dlq": "https://q/c-dlq"}, now=now)

    # Then the partial scan dropped nothing; the full one replaced the list
    assert sorted(kept) == ["a-dlq", "b-dlq", "c-dlq"]
    assert store.read() == {"c-dlq": "https://q/c-dlq"}


def test_dlq_queues_names_what_is_watched_without_listing_queues(alerts: Alerts, sqs: Any) -> None:
    # Given DLQ_QUEUES naming one of two filling DLQs
    for name in ("orders", "billing"):
        pair = create_pair(sqs, name)
        sqs.send_message(QueueUrl=pair.dlq_url, MessageBody="m")
    alerts.configure(DLQ_QUEUES="orders-dlq")
    alerts.build()

    # When the check runs
    outcome = alerts.check(0)

    # Then only that DLQ was read (GetQueueUrl + GetQueueAttributes, no ListQueues) and alerted
    assert outcome["alerted"] == ["orders-dlq"] and outcome["watched"] == 1
    assert "ListQueues" not in alerts.sqs_calls
