"""The 06:00 job's automatic redrive: which day it takes, and that it never runs twice.

The machine's clock is months away from the March dates used here: "yesterday" comes from the
event's scheduled time alone, so a late or retried invocation works on the same day.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest

import handlers.daily
from infra.local.lambda_server import LambdaServer
from infra.local.scene import count, create_pair, drain, put_in_dlq
from tests.integration.daily.daily_support import FUNCTION_NAME, Daily, context, scheduled_event

SEOUL = ZoneInfo("Asia/Seoul")


def _bodies(messages: list[dict[str, Any]]) -> list[str]:
    return sorted(json.loads(m["Body"])["at"] for m in messages)


AROUND_MIDNIGHT = [
    "2026-03-09T23:59:59+09:00",  # the day before yesterday (for a 06:00 run on 11 March)
    "2026-03-10T00:00:00+09:00",  # the first instant of 10 March in Seoul (15:00 UTC on the 9th)
    "2026-03-10T23:59:59+09:00",  # the last second of 10 March in Seoul
    "2026-03-11T00:00:00+09:00",  # already 11 March
]


@pytest.mark.parametrize(
    ("event_time", "expected_moved"),
    [
        # 06:00 in Seoul on 11 March is 21:00 UTC on the 10th: yesterday is 10 March (KST).
        ("2026-03-10T21:00:00Z", AROUND_MIDNIGHT[1:3]),
        # One second before midnight in Seoul (14:59:59 UTC): yesterday is 9 March.
        ("2026-03-10T14:59:59Z", AROUND_MIDNIGHT[0:1]),
        # Midnight in Seoul exactly (15:00 UTC): now yesterday is 10 March.
        ("2026-03-10T15:00:00Z", AROUND_MIDNIGHT[1:3]),
    ],
)
def test_yesterday_is_the_day_before_the_scheduled_time_in_seoul(
    daily: Daily, sqs: Any, event_time: str, expected_moved: list[str]
) -> None:
    # Given messages stamped around midnight in Seoul, judged by their body's "at" field
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [json.dumps({"at": at}) for at in AROUND_MIDNIGHT])
    daily.configure(TIMEZONE="Asia/Seoul", AUTO_REDRIVE="orders-dlq", AUTO_REDRIVE_TIME_FIELD="at")

    # When the schedule's event arrives with that time
    outcome = daily.run(event_time)

    # Then exactly yesterday's messages (in Seoul) went back to the source queue
    assert outcome["moved"] == len(expected_moved)
    assert _bodies(drain(sqs, orders.source_url)) == sorted(expected_moved)
    left = _bodies(drain(sqs, orders.dlq_url))
    assert left == sorted(set(AROUND_MIDNIGHT) - set(expected_moved))
    # And the report names that day and counts its arrivals
    day = datetime.fromisoformat(event_time).astimezone(SEOUL).date() - timedelta(days=1)
    text = daily.report_text()
    assert f"Yesterday = {day.isoformat()} in Asia/Seoul" in text
    assert f"Yesterday: {len(expected_moved)} arrived" in text
    assert f"Auto-redrive of {day.isoformat()}: moved {len(expected_moved)} back" in text


def _tomorrow_six_am(tz: ZoneInfo) -> str:
    """06:00 tomorrow in ``tz``: its "yesterday" is today, when moto stamps messages."""
    today = datetime.now(tz).date()
    run = datetime(today.year, today.month, today.day, 6, tzinfo=tz) + timedelta(days=1)
    return run.astimezone(UTC).isoformat()


def test_auto_redrive_uses_sent_time_and_only_the_listed_dlqs(daily: Daily, sqs: Any) -> None:
    # Given two DLQs with messages sent today (SentTimestamp), only one of them auto-redriven
    orders = create_pair(sqs, "orders")
    billing = create_pair(sqs, "billing")
    put_in_dlq(sqs, orders, ["o1", "o2", "o3"])
    put_in_dlq(sqs, billing, ["b1", "b2"])
    daily.configure(AUTO_REDRIVE="orders-dlq")

    # When tomorrow's 06:00 run happens (its yesterday is today, when the messages were sent)
    today_run = daily.run(_tomorrow_six_am(ZoneInfo("UTC")))

    # Then all of orders-dlq's messages moved back, billing-dlq's stayed where they were
    assert today_run["moved"] == 3
    assert sorted(m["Body"] for m in drain(sqs, orders.source_url)) == ["o1", "o2", "o3"]
    assert count(sqs, orders.dlq_url) == 0
    assert count(sqs, billing.dlq_url) == 2
    assert count(sqs, billing.source_url) == 0


def test_messages_of_today_are_not_yesterdays(daily: Daily, sqs: Any) -> None:
    # Given messages sent now, and a run whose "yesterday" ended before now
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, ["o1", "o2"])
    daily.configure(AUTO_REDRIVE="*")
    now = datetime.now(UTC)
    run_time = datetime(now.year, now.month, now.day, tzinfo=UTC).isoformat()  # today 00:00 UTC

    # When the job runs for that schedule
    outcome = daily.run(run_time)

    # Then nothing was moved: today's messages are not yesterday's
    assert outcome["moved"] == 0
    assert count(sqs, orders.dlq_url) == 2
    assert count(sqs, orders.source_url) == 0
    assert "Yesterday: 0 arrived" in daily.report_text()


def test_duplicate_event_posts_once_and_redrives_once(daily: Daily, sqs: Any) -> None:
    # Given yesterday's messages in an auto-redriven DLQ
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [json.dumps({"at": "2026-03-10T10:00:00Z", "n": n}) for n in range(3)])
    daily.configure(AUTO_REDRIVE="*", AUTO_REDRIVE_TIME_FIELD="at")

    # When EventBridge delivers the same scheduled event twice, with a new one of yesterday's
    # messages arriving in between
    first = daily.run("2026-03-11T06:00:00Z")
    sqs.send_message(
        QueueUrl=orders.dlq_url, MessageBody=json.dumps({"at": "2026-03-10T11:00:00Z", "n": 99})
    )
    second = daily.run("2026-03-11T06:00:00Z")

    # Then one report was posted and the second delivery redrove nothing
    assert len(daily.reports()) == 1
    assert first["moved"] == 3
    assert second["replayed"] is True and second["ts"] == first["ts"]
    assert count(sqs, orders.source_url) == 3
    assert count(sqs, orders.dlq_url) == 1


def test_duplicate_arriving_while_the_first_runs_is_dropped(daily: Daily, sqs: Any) -> None:
    # Given a first run that is held inside its Slack post (still in progress)
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [json.dumps({"at": "2026-03-10T10:00:00Z", "n": n}) for n in range(2)])
    daily.configure(AUTO_REDRIVE="*", AUTO_REDRIVE_TIME_FIELD="at")
    posting, release = threading.Event(), threading.Event()
    state = daily.slack.state

    def slow_post(body: dict[str, Any]) -> dict[str, Any]:
        posting.set()
        release.wait(30)
        return {"ok": True, "channel": body.get("channel"), "ts": "1700000000.000100"}

    state.overrides["chat.postMessage"] = slow_post
    results: dict[str, Any] = {}
    daily.build()
    first = threading.Thread(
        target=lambda: results.update(
            first=handlers.daily.handler(scheduled_event("2026-03-11T06:00:00Z"), context())
        )
    )
    first.start()
    assert posting.wait(30)

    # When the duplicate arrives meanwhile
    duplicate = handlers.daily.handler(scheduled_event("2026-03-11T06:00:00Z"), context())
    release.set()
    first.join(30)

    # Then the duplicate did nothing, and the first finished alone
    assert duplicate["status"] == "duplicate_in_progress"
    assert results["first"]["moved"] == 2
    assert len(state.calls_to("chat.postMessage")) == 1
    assert count(sqs, orders.source_url) == 2


def test_auto_redrive_out_of_time_continues_in_a_new_invocation(daily: Daily, sqs: Any) -> None:
    # Given yesterday's messages and a local Lambda endpoint serving this same function
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [json.dumps({"at": "2026-03-10T10:00:00Z", "n": n}) for n in range(4)])
    daily.configure(AUTO_REDRIVE="*", AUTO_REDRIVE_TIME_FIELD="at")
    with LambdaServer({FUNCTION_NAME: handlers.daily.handler}) as server:
        lambda_client = boto3.client("lambda", endpoint_url=server.endpoint_url)

        # When the first invocation has no time left for redriving (its budget is the reserve)
        first = daily.run("2026-03-11T06:00:00Z", timeout_s=20, lambda_client=lambda_client)
        server.wait_idle(60)
        server.raise_errors()

    # Then the report said the redrive goes on, and the continuation finished it in the thread
    assert first["continuing"] == ["orders-dlq"] and first["moved"] == 0
    assert "still running" in daily.report_text()
    continuation = server.calls_to(FUNCTION_NAME)
    assert [c.invocation_type for c in continuation] == ["Event"]
    assert continuation[0].result["status"] == "finished"
    replies = [c for c in daily.posts() if c.body.get("thread_ts") == first["ts"]]
    assert len(replies) == 1
    assert "finished after 2 invocations" in replies[0].body["text"]
    assert "orders-dlq: 4 moved back" in replies[0].body["text"]
    assert count(sqs, orders.source_url) == 4
    assert count(sqs, orders.dlq_url) == 0


def test_a_continuation_that_makes_no_progress_stops_and_says_so(daily: Daily, sqs: Any) -> None:
    # Given yesterday's messages and a function whose every invocation has no time to redrive
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [json.dumps({"at": "2026-03-10T10:00:00Z", "n": n}) for n in range(2)])
    daily.configure(AUTO_REDRIVE="*", AUTO_REDRIVE_TIME_FIELD="at")
    with LambdaServer(
        {FUNCTION_NAME: handlers.daily.handler}, timeouts={FUNCTION_NAME: 20}
    ) as server:
        lambda_client = boto3.client("lambda", endpoint_url=server.endpoint_url)

        # When the 06:00 run hands over to a continuation that cannot move anything either
        first = daily.run("2026-03-11T06:00:00Z", timeout_s=20, lambda_client=lambda_client)
        server.wait_idle(60)
        server.raise_errors()

    # Then the chain stopped after one continuation (no endless self-invocation) and said so
    assert len(server.calls_to(FUNCTION_NAME)) == 1
    replies = [c for c in daily.posts() if c.body.get("thread_ts") == first["ts"]]
    assert len(replies) == 1
    assert "stopped after 2 invocations without finishing" in replies[0].body["text"]
    assert "orders-dlq: 0 moved back, not finished" in replies[0].body["text"]
    assert count(sqs, orders.dlq_url) == 2


def test_a_continuation_that_cannot_be_invoked_is_reported_in_the_thread(
    daily: Daily, sqs: Any
) -> None:
    # Given a Lambda endpoint that does not know this function (as if the IAM role lacked
    # lambda:InvokeFunction on itself)
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [json.dumps({"at": "2026-03-10T10:00:00Z"})])
    daily.configure(AUTO_REDRIVE="*", AUTO_REDRIVE_TIME_FIELD="at")
    with LambdaServer({}) as server:
        lambda_client = boto3.client("lambda", endpoint_url=server.endpoint_url)

        # When the run runs out of time for the redrive
        first = daily.run("2026-03-11T06:00:00Z", timeout_s=20, lambda_client=lambda_client)

    # Then the report was posted, and the thread says the redrive could not continue
    assert "ResourceNotFoundException" in first["continue_error"]
    replies = [c for c in daily.posts() if c.body.get("thread_ts") == first["ts"]]
    assert len(replies) == 1
    assert "Could not continue: AWS refused invoking 'dlq-redrive-daily'" in replies[0].body["text"]
    assert count(sqs, orders.dlq_url) == 1
