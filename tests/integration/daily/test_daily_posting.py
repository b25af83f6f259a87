"""How the report reaches Slack: each part once, however often the run is retried (issue 10, item
13), within Slack's limits (item 14), and updated with the final figures after a continuation
(item 17)."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from slack_sdk import WebClient

import handlers.daily
from bot.daily.blocks import RenderedReport, text_messages
from bot.daily.once import LAMBDA_ATTEMPTS
from bot.daily.posting import SUPERSEDED, ReportPoster
from bot.daily.run_state import RunState
from bot.slack.web import SlackGateway
from bot.slack.web_api import SlackError
from bot.state_table import StateTable
from infra.local.lambda_server import LambdaServer, LocalLambdaContext
from infra.local.scene import count, create_pair
from infra.local.slack_api import SlackCall
from tests.integration.daily.daily_support import (
    FUNCTION_NAME,
    REPORT_CHANNEL,
    STATE_TABLE,
    Daily,
    blocks_text,
    button_values,
)

RUN = "2026-03-11T06:00:00Z"  # 06:00 UTC on 11 March: yesterday is 10 March
PEEK = "dlq_redrive.report_peek"


def _long_names(count: int) -> list[str]:
    """Source queue names of 76 characters (their DLQs' names are 80, SQS's longest)."""
    return [f"{i:02d}-" + "a-rather-long-service-name-" * 2 + "x" * 19 for i in range(count)]


def _seed_long_named_dlqs(sqs: Any, count: int) -> list[str]:
    """``count`` DLQs of the longest names, two sources each, and three messages with long
    ``error`` attributes each (three error groups): the largest sections a DLQ gets."""
    names = _long_names(count)
    for name in names:
        pair = create_pair(sqs, name)
        create_pair(sqs, name[:-2] + "-b", dlq_name=pair.dlq_name)
        for kind in "ABC":
            error = {"DataType": "String", "StringValue": f"{kind}-{name}"}
            sqs.send_message(
                QueueUrl=pair.dlq_url, MessageBody="{}", MessageAttributes={"error": error}
            )
    return names


def _send(sqs: Any, url: str, body: dict[str, Any], *, redriven: int = 0) -> None:
    counter = {"dlq-redrive-count": {"DataType": "Number", "StringValue": str(redriven)}}
    sqs.send_message(
        QueueUrl=url, MessageBody=json.dumps(body), MessageAttributes=counter if redriven else {}
    )


def _detailed(posts: list[SlackCall]) -> list[str]:
    """The DLQs that have their own section (and buttons) in ``posts``."""
    return [
        value["queue"]
        for post in posts
        for action, value in button_values(post.body["blocks"])
        if action == PEEK
    ]


def test_a_refused_thread_reply_is_posted_once_by_the_retry(daily: Daily, sqs: Any) -> None:
    # Given 40 DLQs with long names, sources and error labels: the report needs several replies
    names = _seed_long_named_dlqs(sqs, 40)
    daily.configure(ERROR_ATTRIBUTE="error")
    # And Slack refusing the second thread reply, once
    replies = itertools.count(1)
    refused: list[dict[str, Any]] = []

    def second_reply(body: dict[str, Any]) -> bool:
        if body.get("thread_ts") and next(replies) == 2:
            refused.append(body)
            return True
        return False

    daily.slack.state.refuse("chat.postMessage", "internal_error", second_reply)

    # When the run fails on it, and Lambda retries the run
    with pytest.raises(SlackError, match="internal_error"):
        daily.run(RUN)
    retry = daily.run(RUN)

    # Then there is exactly one report message, and the thread holds each reply exactly once
    accepted = [post for post in daily.posts() if post.body is not refused[0]]
    reports = [post for post in accepted if not post.body.get("thread_ts")]
    thread = [post for post in accepted if post.body.get("thread_ts")]
    assert len(reports) == 1 and retry["status"] == "reported"
    assert len(thread) >= 2
    assert {post.body["thread_ts"] for post in thread} == {retry["ts"]}
    assert sorted(_detailed(accepted)) == sorted(f"{name}-dlq" for name in names)


def test_the_last_continuation_updates_the_report_with_the_final_figures(
    daily: Daily, sqs: Any
) -> None:
    # Given yesterday's messages: 4 to move back, 1 poison, 1 with an unreadable time, and 1 of
    # the day before (outside the selection)
    orders = create_pair(sqs, "orders")
    for n in range(4):
        _send(sqs, orders.dlq_url, {"at": "2026-03-10T10:00:00Z", "n": n})
    _send(sqs, orders.dlq_url, {"at": "2026-03-10T11:00:00Z"}, redriven=3)
    _send(sqs, orders.dlq_url, {"at": "half past ten"})
    _send(sqs, orders.dlq_url, {"at": "2026-03-09T10:00:00Z"})
    daily.configure(AUTO_REDRIVE="*", AUTO_REDRIVE_TIME_FIELD="at", MAX_REDRIVES="3")
    with LambdaServer({FUNCTION_NAME: handlers.daily.handler}) as server:
        lambda_client = boto3.client("lambda", endpoint_url=server.endpoint_url)

        # When the 06:00 run has no time left to redrive, and its continuation finishes
        first = daily.run(RUN, timeout_s=20, lambda_client=lambda_client)
        server.wait_idle(60)
        server.raise_errors()

    # Then the report first said the redrive goes on
    assert "still running" in daily.report_text()
    # And the thread's final reply gives every category and the depth now
    [final] = [post for post in daily.posts() if post.body.get("thread_ts") == first["ts"]]
    assert (
        "orders-dlq: 4 moved back, 1 poison left for a human, 1 without a readable time left, "
        "1 outside the selection left; depth now ≈ 3"
    ) in final.body["text"]
    # And the report itself was updated in place with the final count and depth
    [update] = daily.slack.state.calls_to("chat.update")
    assert update.body["ts"] == first["ts"]
    text = blocks_text(update.body["blocks"])
    assert "still running" not in text
    # And its header says when the final figures were read (the continuation's depths)
    header = update.body["blocks"][0]["text"]["text"]
    assert header.startswith("DLQ report for ") and ", final figures as of " in header
    assert "3* (7 before auto-redrive)" in text  # the depth, maybe marked as SQS's approximate
    assert "Auto-redrive of 2026-03-10: moved 4 back, 1 poison left for a human" in text
    assert "3 messages* in 1 DLQ" in text and "4 auto-redriven" in text
    assert count(sqs, orders.source_url) == 4 and count(sqs, orders.dlq_url) == 3


def test_twenty_long_named_dlqs_are_accepted_by_slack(daily: Daily, sqs: Any) -> None:
    # Given 20 DLQs with the longest names, two sources each, and three long error labels
    names = _seed_long_named_dlqs(sqs, 20)
    daily.configure(ERROR_ATTRIBUTE="error")

    # When the report is posted to the local Slack server, which refuses what Slack would
    daily.run(RUN)

    # Then Slack accepted every message (none refused as too long), and every DLQ is detailed once
    posts = daily.posts()
    assert [post.refused for post in posts] == [None] * len(posts)
    assert len(posts) >= 2
    assert sorted(_detailed(posts)) == sorted(f"{name}-dlq" for name in names)


def test_a_retry_that_needs_fewer_replies_marks_the_extra_ones(daily: Daily) -> None:
    # Given a run that posted a report with three thread replies (in the state table and Slack)
    slack = SlackGateway(WebClient(token="xoxb-test", base_url=daily.slack.api_url))
    runs = RunState(StateTable(STATE_TABLE))
    poster = ReportPoster(slack, runs, REPORT_CHANNEL, lambda: datetime.now(UTC))
    [main, *replies] = [text_messages(f"part {n}", [])[0] for n in range(4)]
    ts = poster.publish(RUN, RenderedReport(main, replies))

    # When a retry of the same run renders the report with one reply only
    again = poster.publish(RUN, RenderedReport(main, replies[:1]))

    # Then nothing was posted again: the report and the first reply were updated in place, and
    # the two replies no longer needed say so
    assert again == ts
    assert len(daily.posts()) == 4
    updates = [call.body for call in daily.slack.state.calls_to("chat.update")]
    assert [u["text"] for u in updates[:2]] == ["part 0", "part 1"]
    assert [u["text"] for u in updates[2:]] == [SUPERSEDED, SUPERSEDED]
    assert len({u["ts"] for u in updates}) == 4


def test_a_report_slack_never_lets_update_is_said_in_the_thread_on_the_last_attempt(
    daily: Daily, sqs: Any
) -> None:
    # Given a run without time to redrive 2 of yesterday's messages (a continuation finishes),
    # and Slack refusing every update of the report itself
    orders = create_pair(sqs, "orders")
    for n in range(2):
        _send(sqs, orders.dlq_url, {"at": "2026-03-10T10:00:00Z", "n": n})
    daily.configure(AUTO_REDRIVE="*", AUTO_REDRIVE_TIME_FIELD="at")

    def the_report(body: dict[str, Any]) -> bool:
        return bool(body.get("metadata", {}).get("event_payload", {}).get("part") == "report")

    for _attempt in range(LAMBDA_ATTEMPTS):
        daily.slack.state.refuse("chat.update", "internal_error", the_report)
    with LambdaServer({FUNCTION_NAME: handlers.daily.handler}) as server:
        lambda_client = boto3.client("lambda", endpoint_url=server.endpoint_url)
        first = daily.run(RUN, timeout_s=20, lambda_client=lambda_client)
        server.wait_idle(60)
        [continuation] = server.calls_to(FUNCTION_NAME)

    # When the continuation fails on it and Lambda runs it again, twice (its request id kept)
    assert isinstance(continuation.error, SlackError)
    outcomes: list[Any] = []
    for _retry in range(LAMBDA_ATTEMPTS - 1):
        again = LocalLambdaContext(FUNCTION_NAME, 900.0, continuation.request_id)
        try:
            outcomes.append(handlers.daily.handler(continuation.payload, again))
        except SlackError as exc:
            outcomes.append(exc)

    # Then the second attempt failed the same way; the last one said so in the thread, once,
    # next to the final count, and finished
    assert isinstance(outcomes[0], SlackError)
    assert outcomes[1]["status"] == "finished" and "internal_error" in outcomes[1]["update_error"]
    thread = [p.body["text"] for p in daily.posts() if p.body.get("thread_ts") == first["ts"]]
    assert sum("still shows its first figures" in text for text in thread) == 1
    assert sum("finished after 2 invocations" in text for text in thread) == 1
    assert count(sqs, orders.source_url) == 2
