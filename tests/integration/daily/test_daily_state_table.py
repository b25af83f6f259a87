"""The 06:00 report without its state table (issue 10: "the 06:00 report always arrives"): the
run goes ahead without a lease, trend or snapshot, says so in one line, answers success so that
Lambda does not post it again, and the auto-redrive holds for a human every message whose
redrive count lives in the table (it cannot be read), while the others still move."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from bot.daily.report_run import NO_STATE_TABLE
from bot.slack.web_api import SlackError
from infra.local.scene import count, create_pair, put_in_dlq
from tests.integration.daily.daily_support import Daily

RUN = "2026-03-11T06:00:00Z"
YESTERDAY = [json.dumps({"at": "2026-03-10T10:00:00Z", "n": n}) for n in range(3)]
TEN_ATTRIBUTES = {f"a{i}": {"DataType": "String", "StringValue": str(i)} for i in range(10)}


def _unavailable_dynamodb() -> Any:
    client = boto3.client("dynamodb")

    def refuse(**_: object) -> None:
        raise ClientError(
            {"Error": {"Code": "ServiceUnavailable", "Message": "injected"}}, "DynamoDB"
        )

    client.meta.events.register("provide-client-params.dynamodb", refuse)
    return client


def test_without_the_state_table_the_report_says_so_and_the_redrive_is_conservative(
    daily: Daily, sqs: Any
) -> None:
    # Given yesterday's 3 messages in an auto-redriven DLQ, and one more that has SQS's maximum
    # of 10 attributes (no room for the redrive counter: its count lives in the state table)
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, YESTERDAY)
    put_in_dlq(sqs, orders, [json.dumps({"at": "2026-03-10T11:00:00Z"})], attributes=TEN_ATTRIBUTES)
    daily.configure(AUTO_REDRIVE="*", AUTO_REDRIVE_TIME_FIELD="at", MAX_REDRIVES="3")

    # When the job runs while every call to the state table fails
    outcome = daily.run(RUN, dynamodb_client=_unavailable_dynamodb())

    # Then it answers success (Lambda does not run it again), with one report that says why it
    # has no change or trend
    assert outcome["status"] == "reported" and outcome["snapshot_error"]
    assert len(daily.reports()) == 1
    text = daily.report_text()
    assert f":warning: {NO_STATE_TABLE}" in text
    # And the 3 went back; the one whose count could not be read waits for a human
    assert outcome["moved"] == 3 and outcome["redrive_errors"] == []
    assert count(sqs, orders.source_url) == 3 and count(sqs, orders.dlq_url) == 1
    assert "1 poison left for a human" in text


def test_a_retry_without_the_state_table_finds_the_report_in_slack(daily: Daily, sqs: Any) -> None:
    # Given a run without its state table whose thread reply Slack refused (21 DLQs: a report
    # and one reply), so the run fails and Lambda retries it
    for n in range(21):
        pair = create_pair(sqs, f"svc{n:02d}")
        put_in_dlq(sqs, pair, ["{}"])
    daily.slack.state.refuse("chat.postMessage", "internal_error", lambda b: "thread_ts" in b)
    dynamodb = _unavailable_dynamodb()
    with pytest.raises(SlackError):  # the refused reply fails the attempt, as it should
        daily.run(RUN, dynamodb_client=dynamodb)

    # When Lambda's retry runs, the table still unavailable
    retry = daily.run(RUN, dynamodb_client=dynamodb)

    # Then the channel has one report (found by its metadata and updated) and its reply
    assert retry["status"] == "reported"
    assert len(daily.reports()) == 1
    replies = [p for p in daily.posts() if p.body.get("thread_ts") == retry["ts"]]
    assert len(replies) == 2  # the refused one and the retry's
