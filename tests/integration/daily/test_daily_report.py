"""The 06:00 report as Slack receives it: figures, limits, broken DLQs, the trend, bad input."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

import handlers.daily
from bot.composition import build_daily_job
from bot.error_groups import label_digest
from bot.errors import ConfigError
from bot.slack.web_api import SlackError
from infra.local.scene import count, create_pair, put_in_dlq
from tests.integration.daily.daily_support import (
    REPORT_CHANNEL,
    Daily,
    blocks_text,
    button_values,
    context,
)

RUN = "2026-03-11T06:00:00Z"  # 06:00 UTC on 11 March: yesterday is 10 March


def _error(value: str) -> dict[str, Any]:
    return {"error": {"DataType": "String", "StringValue": value}}


def _send(sqs: Any, url: str, body: str, **attributes: Any) -> None:
    sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attributes or {})


def _emf(stdout: str) -> dict[str, float]:
    """The metric values powertools printed (Embedded Metric Format), summed by name."""
    values: dict[str, float] = {}
    for line in stdout.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            record = json.loads(line)
            for metric in record["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                name = metric["Name"]
                raw = record[name]
                values[name] = values.get(name, 0) + sum(raw if isinstance(raw, list) else [raw])
    return values


def test_report_counts_depth_arrivals_errors_and_poison(daily: Daily, sqs: Any) -> None:
    # Given orders-dlq: 2 timeouts and 1 declined (by ERROR_ATTRIBUTE), one of them redriven
    # three times already (poison), 2 of them from yesterday; and payments-dlq: 2 JSON bodies of
    # one shape with different values, no error attribute
    orders = create_pair(sqs, "orders")
    payments = create_pair(sqs, "payments")
    poison = {**_error("Timeout"), "dlq-redrive-count": {"DataType": "Number", "StringValue": "3"}}
    _send(sqs, orders.dlq_url, json.dumps({"at": "2026-03-10T08:00:00Z"}), **_error("Timeout"))
    _send(sqs, orders.dlq_url, json.dumps({"at": "2026-03-10T09:00:00Z"}), **poison)
    _send(sqs, orders.dlq_url, json.dumps({"at": "2026-03-09T09:00:00Z"}), **_error("Declined"))
    _send(sqs, payments.dlq_url, json.dumps({"at": "2026-03-08T01:00:00Z", "amount": 5}))
    _send(sqs, payments.dlq_url, json.dumps({"at": "2026-03-08T02:00:00Z", "amount": 7}))
    daily.configure(ERROR_ATTRIBUTE="error", AUTO_REDRIVE_TIME_FIELD="at", MAX_REDRIVES="3")

    # When the 06:00 job runs (no auto-redrive configured)
    outcome = daily.run(RUN)

    # Then one message went to the report channel, within Block Kit's limits, with a fallback
    [post] = daily.posts()
    assert post.body["channel"] == REPORT_CHANNEL
    assert post.headers["Authorization"] == "Bearer xoxb-test"
    blocks = post.body["blocks"]
    assert len(blocks) <= 50
    assert post.body["text"].startswith("DLQ report for 2026-03-10: 5 messages in 2 DLQs")
    # And the figures are right
    text = blocks_text(blocks)
    assert text.startswith("DLQ report for Tue 10 Mar 2026 · as of ")  # the day, and when
    assert "*5 messages* in 2 DLQs" in text
    assert "2 arrived yesterday · 1 poison (need a human)" in text
    assert "*orders-dlq* (sqs) → orders\nDepth *3*" in text
    assert "Yesterday: 2 arrived · :skull: 1 poison (need a human)" in text
    # Each group with the digest of its label: what --error and its buttons select it by
    timeout, declined = label_digest("Timeout"), label_digest("Declined")
    assert f"• `Timeout` ×2 · {timeout}\n• `Declined` ×1 · {declined}" in text
    assert "*payments-dlq* (sqs) → payments\nDepth *2*" in text
    shape = label_digest("json {amount:num, at:str}")
    assert f"• `json {{amount:num, at:str}}` ×2 · {shape}" in text
    # And each DLQ has its redrive and peek buttons for yesterday, by the time the report counted
    # (AUTO_REDRIVE_TIME_FIELD, not the sent time)
    orders_value = {"queue": "orders-dlq", "date": "2026-03-10", "time_field": "at"}
    payments_value = {"queue": "payments-dlq", "date": "2026-03-10", "time_field": "at"}

    # and Redrive / Discard buttons for each error group, by its digest
    def group(queue: str, digest: str) -> list[tuple[str, dict[str, str]]]:
        value = {"queue": queue, "error": digest}
        return [
            ("dlq_redrive.report_error_redrive", value),
            ("dlq_redrive.report_error_discard", value),
        ]

    assert button_values(blocks) == [
        ("dlq_redrive.report_redrive", orders_value),
        ("dlq_redrive.report_peek", orders_value),
        *group("orders-dlq", timeout),
        *group("orders-dlq", declined),
        ("dlq_redrive.report_redrive", payments_value),
        ("dlq_redrive.report_peek", payments_value),
        *group("payments-dlq", shape),
    ]
    # And nothing was moved or lost by the scan: every message is still there, visible
    assert outcome["moved"] == 0
    assert count(sqs, orders.dlq_url) == 3 and count(sqs, payments.dlq_url) == 2
    assert (
        len(sqs.receive_message(QueueUrl=orders.dlq_url, MaxNumberOfMessages=10)["Messages"]) == 3
    )


def test_sixty_dlqs_stay_within_block_kit_limits(daily: Daily, sqs: Any) -> None:
    # Given 60 DLQs, each holding messages (i + 1 of them, up to 3)
    names = [f"svc{i:02d}" for i in range(60)]
    for i, name in enumerate(names):
        pair = create_pair(sqs, name)
        for n in range(i % 3 + 1):
            _send(sqs, pair.dlq_url, json.dumps({"n": n, "detail": "x" * 200}))

    # When the report is posted
    outcome = daily.run(RUN)

    # Then the message and its thread replies each respect Slack's limits
    posts = daily.posts()
    report, replies = posts[0], posts[1:]
    assert all(reply.body["thread_ts"] == outcome["ts"] for reply in replies)
    for post in posts:
        blocks = post.body["blocks"]
        assert len(blocks) <= 50
        assert post.body["text"] and len(post.body["text"]) <= 3000
        for block in blocks:
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= 3000
            if block["type"] == "header":
                assert len(block["text"]["text"]) <= 150
        ids = [b["block_id"] for b in blocks if "block_id" in b]
        assert len(ids) == len(set(ids))
    # And every DLQ is detailed exactly once, in the message or in the thread
    detailed = [
        value["queue"]
        for post in posts
        for action, value in button_values(post.body["blocks"])
        if action == "dlq_redrive.report_peek"
    ]
    assert sorted(detailed) == [f"{name}-dlq" for name in names]
    # And the summary counts all of them
    total = sum(i % 3 + 1 for i in range(60))
    assert f"*{total} messages* in 60 DLQs" in blocks_text(report.body["blocks"])
    assert "more DLQs (details in the thread)" in blocks_text(report.body["blocks"])


def test_a_broken_dlq_is_reported_while_the_others_are_redriven(
    daily: Daily, sqs: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given three good DLQs in DLQ_QUEUES, one that was deleted, one whose reads are refused
    good = [create_pair(sqs, name) for name in ("alpha", "bravo", "charlie")]
    denied = create_pair(sqs, "denied")
    for pair in good:
        _send(sqs, pair.dlq_url, json.dumps({"at": "2026-03-10T12:00:00Z"}))
    _send(sqs, denied.dlq_url, json.dumps({"at": "2026-03-10T12:00:00Z"}))
    daily.configure(
        DLQ_QUEUES="alpha-dlq,gone-dlq,denied-dlq,bravo-dlq,charlie-dlq",
        AUTO_REDRIVE="*",
        AUTO_REDRIVE_TIME_FIELD="at",
    )
    client = boto3.client("sqs")

    def refuse(params: dict[str, Any], **_: Any) -> None:
        if str(params.get("QueueUrl", "")).endswith("/denied-dlq"):
            raise ClientError(
                {"Error": {"Code": "AccessDenied", "Message": "not authorized"}},
                "GetQueueAttributes",
            )

    client.meta.events.register("before-parameter-build.sqs.*", refuse)

    # When the job runs
    outcome = daily.run(RUN, sqs_client=client)

    # Then the good DLQs were reported and redriven
    assert outcome["moved"] == 3
    for pair in good:
        assert count(sqs, pair.source_url) == 1
    # And the broken ones appear as errors, in the summary and in their own sections
    assert sorted(outcome["unreadable"]) == ["denied-dlq", "gone-dlq"]
    text = daily.report_text()
    assert ":warning: 2 DLQs could not be read: gone-dlq, denied-dlq" in text
    assert ":warning: *gone-dlq* could not be read: unknown DLQ 'gone-dlq'" in text
    assert ":warning: *denied-dlq* could not be read: AWS refused" in text
    assert "AccessDenied" in text
    # And the denied DLQ's message was not touched
    assert count(sqs, denied.dlq_url) == 1
    # And the run recorded a failure metric for the two DLQs
    assert _emf(capsys.readouterr().out)["DlqReadFailures"] == 2


def test_trend_and_change_after_several_days_of_snapshots(daily: Daily, sqs: Any) -> None:
    # Given seven mornings in a row, the DLQ one message deeper each day
    orders = create_pair(sqs, "orders")
    first_run = date(2026, 3, 5)
    for n in range(7):
        _send(sqs, orders.dlq_url, json.dumps({"n": n}))
        # When each morning's job runs
        daily.run(f"{(first_run + timedelta(days=n)).isoformat()}T06:00:00Z")

    # Then the last report shows the week's depths as a sparkline, and the change since the day
    # before; the snapshots 1..7 scale to the levels ▂▃▄▅▆▇█
    reports = daily.reports()
    assert len(reports) == 7
    text = daily.report_text()
    assert "Depth *7* (+1 since 9 Mar)" in text
    assert "7d `▂▃▄▅▆▇█`" in text
    assert "7-day total `▂▃▄▅▆▇█`" in text
    assert "*7 messages* in 1 DLQ (+1 since 9 Mar)" in text
    # And the first report had no history yet: no change, one point of trend
    first = blocks_text(reports[0].body["blocks"])
    assert "since" not in first
    assert "7d `······█`" in first


def test_all_clear_posts_one_short_line_or_nothing(daily: Daily, sqs: Any) -> None:
    # Given a watched DLQ that is empty
    create_pair(sqs, "orders")

    # When the job runs with the default REPORT_WHEN_EMPTY, then with it off for the next day
    daily.run(RUN)
    daily.configure(REPORT_WHEN_EMPTY="false")
    outcome = daily.run("2026-03-12T06:00:00Z")

    # Then the first posted a short all-clear, the second nothing (but kept its snapshot)
    [post] = daily.posts()
    assert post.body["text"] == "DLQ report for 2026-03-10: all clear, 1 DLQ empty."
    assert len(post.body["blocks"]) == 2
    assert ":white_check_mark: All clear" in blocks_text(post.body["blocks"])
    assert outcome["ts"] is None
    items = boto3.client("dynamodb").get_item(
        TableName="dlq-redrive-state",
        Key={"pk": {"S": "SNAPSHOT#orders-dlq"}, "sk": {"S": "2026-03-11"}},
    )
    assert items["Item"]["depth"] == {"N": "0"}


def test_auto_redrive_naming_an_unwatched_queue_is_a_warning(daily: Daily, sqs: Any) -> None:
    # Given AUTO_REDRIVE naming a DLQ that does not exist next to one that does
    orders = create_pair(sqs, "orders")
    _send(sqs, orders.dlq_url, json.dumps({"at": "2026-03-10T12:00:00Z"}))
    daily.configure(AUTO_REDRIVE="orders-dlq,ordres-dlq", AUTO_REDRIVE_TIME_FIELD="at")

    # When the job runs
    outcome = daily.run(RUN)

    # Then the known one was redriven and the report says the other was skipped
    assert outcome["moved"] == 1
    assert "AUTO_REDRIVE names ordres-dlq, not watched DLQs: skipped" in daily.report_text()


def test_a_capped_sample_says_so(daily: Daily, sqs: Any) -> None:
    # Given a DLQ with more messages than the sample size
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [json.dumps({"k": n}) for n in range(15)])
    daily.configure(REPORT_SAMPLE_SIZE="10")

    # When the job runs
    daily.run(RUN)

    # Then the error groups say they come from a sample, and counts are lower bounds that say
    # from what (the DLQ's size is SQS's approximate count)
    text = daily.report_text()
    assert "Top errors (sample of 10 of ≈ 15):" in text
    assert "Yesterday: ≥ 0 arrived — in a sample of 10 of ≈ 15" in text
    assert count(sqs, orders.dlq_url) == 15


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"detail-type": "Scheduled Event"}, "the event has no 'time' field"),
        ({"time": "yesterday morning"}, "the event's time 'yesterday morning' is not ISO 8601"),
        ([1, 2], "the event is a list, not a JSON object"),
    ],
)
def test_a_malformed_event_gets_a_clear_answer_and_touches_nothing(
    daily: Daily, sqs: Any, event: Any, message: str
) -> None:
    # Given a DLQ with a message
    orders = create_pair(sqs, "orders")
    _send(sqs, orders.dlq_url, "x")
    daily.configure(AUTO_REDRIVE="*")
    daily.build()

    # When an event without a usable time arrives
    outcome = handlers.daily.handler(event, context())

    # Then it says what is wrong, posts nothing and moves nothing
    assert outcome["status"] == "error"
    assert message in outcome["error"]
    assert daily.posts() == []
    assert count(sqs, orders.dlq_url) == 1


def test_missing_configuration_is_named(daily: Daily) -> None:
    # Given no REPORT_CHANNEL
    env = {k: v for k, v in daily.env.items() if k != "REPORT_CHANNEL"}

    # When the job is built at cold start, then the error names the variable
    with pytest.raises(ConfigError, match="REPORT_CHANNEL is not set"):
        build_daily_job(env)


def test_a_refused_post_fails_the_run_so_that_the_retry_reports(
    daily: Daily, sqs: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given Slack refusing the first post (e.g. the bot is not in the channel yet)
    orders = create_pair(sqs, "orders")
    _send(sqs, orders.dlq_url, json.dumps({"at": "2026-03-10T12:00:00Z"}))
    daily.configure(AUTO_REDRIVE="*", AUTO_REDRIVE_TIME_FIELD="at")
    daily.slack.state.overrides["chat.postMessage"] = lambda body: {
        "ok": False,
        "error": "not_in_channel",
    }

    # When the scheduled event arrives, fails, and Lambda retries it once Slack accepts posts
    with pytest.raises(SlackError, match="not_in_channel"):
        daily.run(RUN)
    failed_metrics = _emf(capsys.readouterr().out)
    refused = len(daily.reports())
    del daily.slack.state.overrides["chat.postMessage"]
    retry = daily.run(RUN)

    # Then the failure was counted, and the retry (not a "duplicate") posted the report once
    assert failed_metrics["DailyReportFailed"] == 1
    assert retry["status"] == "reported" and "replayed" not in retry
    assert refused == 1 and len(daily.reports()) == 2
    # And the message was moved once, and the retry's report still counts it
    assert count(sqs, orders.source_url) == 1 and count(sqs, orders.dlq_url) == 0
    assert retry["moved"] == 1
    assert "Auto-redrive of 2026-03-10: moved 1 back" in daily.report_text()
