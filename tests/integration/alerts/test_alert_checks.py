"""The alert checks between the daily reports (issue 14) through ``handlers.alerts.handler``, on
moto (SQS, the state table) and the local Slack server: first alert, quiet period, growth in the
thread, the drained note, a refill, many DLQs at once, a duplicate scheduled event, a lost answer.
Every test also checks the job never received a message (the ``alerts`` fixture)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

import handlers.alerts
from bot.alerts.job import EVENT_TYPE
from bot.slack.mrkdwn import block_text_length
from bot.slack.web_api import SlackError
from infra.local.lambda_server import LocalLambdaContext
from infra.local.scene import QueuePair, create_pair, drain
from tests.integration.alerts.conftest import ALERT_CHANNEL, Alerts


def fill(sqs: Any, pair: QueuePair, n: int) -> None:
    """``n`` more messages in the DLQ (sent straight in: only its counts matter here)."""
    for start in range(0, n, 10):
        entries = [{"Id": str(i), "MessageBody": f"m{i}"} for i in range(start, min(n, start + 10))]
        sqs.send_message_batch(QueueUrl=pair.dlq_url, Entries=entries)


def empty(sqs: Any, pair: QueuePair) -> None:
    """The DLQ drained by someone (the test's own client: the job never receives)."""
    drain(sqs, pair.dlq_url)


def text(message: dict[str, Any]) -> str:
    """A message's blocks as JSON text (for what people read in them)."""
    return json.dumps(message["blocks"], ensure_ascii=False)


def validated(alerts: Alerts) -> None:
    for call in alerts.posts():
        for block in call.body["blocks"]:
            Block.parse(block).validate_json()  # type: ignore[union-attr]


def test_a_first_alert_names_the_dlq_with_its_approximate_count(alerts: Alerts, sqs: Any) -> None:
    # Given a DLQ that received 3 messages and one still empty
    orders = create_pair(sqs, "orders")
    create_pair(sqs, "billing")
    fill(sqs, orders, 3)

    # When the check runs
    outcome = alerts.check(0)

    # Then one alert in the alert channel names orders-dlq, "about 3 messages", with metadata
    # naming the check and its part (so a lost answer can be found)
    [alert] = alerts.alerts()
    assert [c.body["channel"] for c in alerts.posts()] == [ALERT_CHANNEL]
    assert "`orders-dlq`: about 3 messages" in text(alert)
    assert "billing" not in text(alert)
    assert "SQS's approximate counts" in text(alert)
    assert alert["metadata"] == {
        "event_type": EVENT_TYPE,
        "event_payload": {"run": "2026-03-11T03:00:00+00:00", "part": "alert.1"},
    }
    assert outcome["alerted"] == ["orders-dlq"] and outcome["watched"] == 2
    validated(alerts)


def test_within_the_quiet_period_growth_goes_in_the_thread_and_nothing_else_is_posted(
    alerts: Alerts, sqs: Any
) -> None:
    # Given orders-dlq alerted at 03:00 with 3 messages (growth setting: 10)
    orders = create_pair(sqs, "orders")
    fill(sqs, orders, 3)
    alerts.check(0)
    [alert] = alerts.alerts()

    # When it grows by less than 10, then by 10 more than the channel was told
    fill(sqs, orders, 9)
    quiet = alerts.check(5)
    fill(sqs, orders, 1)
    grown = alerts.check(10)

    # Then the first check posted nothing, the second one reply in the alert's thread
    assert quiet["growing"] == [] and grown["growing"] == ["orders-dlq"]
    assert len(alerts.alerts()) == 1
    [reply] = alerts.replies(alert["ts"])
    assert "`orders-dlq`: about 13 messages now, up from about 3 when last told" in text(reply)
    validated(alerts)


def test_drained_gets_a_resolved_note_and_a_refill_within_the_quiet_period_replies_there(
    alerts: Alerts, sqs: Any
) -> None:
    # Given orders-dlq alerted at 03:00
    orders = create_pair(sqs, "orders")
    fill(sqs, orders, 2)
    alerts.check(0)
    [alert] = alerts.alerts()
    thread = alert["ts"]

    # When it is drained, then refills within the quiet period (60 minutes), then drains again
    # and refills after it
    empty(sqs, orders)
    drained = alerts.check(5)
    fill(sqs, orders, 4)
    refilled = alerts.check(10)
    empty(sqs, orders)
    alerts.check(15)
    fill(sqs, orders, 1)
    later = alerts.check(65)

    # Then the drained note and the refill went into the thread, no second top-level alert
    # within the quiet period, and a new one after it
    assert drained["resolved"] == ["orders-dlq"] and refilled["reopened"] == ["orders-dlq"]
    replies = [text(r) for r in alerts.replies(thread)]
    assert "`orders-dlq`: drained" in replies[0]
    assert "`orders-dlq`: filling again, about 4 messages" in replies[1]
    assert "until 04:00" in replies[1]
    assert "`orders-dlq`: drained" in replies[2]
    assert later["alerted"] == ["orders-dlq"]
    assert len(alerts.alerts()) == 2
    validated(alerts)


def test_sixty_dlqs_filling_at_once_are_one_grouped_message_within_slacks_limits(
    alerts: Alerts, sqs: Any
) -> None:
    # Given 60 DLQs (long names) that each received messages since the last check
    pairs = [create_pair(sqs, f"service-{n:02d}-{'x' * 60}") for n in range(60)]
    for n, pair in enumerate(pairs):
        fill(sqs, pair, 1 + n % 7)

    # When the check runs
    outcome = alerts.check(0)

    # Then one top-level message, within 50 blocks and the text budget, names the deepest 20
    # and summarises the others with their true total; its thread lists those 40
    [alert] = alerts.alerts()
    assert len(outcome["alerted"]) == 60
    assert len(alert["blocks"]) <= 50
    assert block_text_length(alert["blocks"]) <= 10_000
    shown = [p.dlq_name for p in pairs if f"`{p.dlq_name}`" in text(alert)]
    assert len(shown) == 20
    rest = 60 - 20
    rest_total = sum(1 + n % 7 for n in range(60)) - sum(
        1 + int(name.split("-")[1]) % 7 for name in shown
    )
    assert f"… and {rest} more DLQs (about {rest_total} messages in all)" in text(alert)
    thread = alerts.replies(alert["ts"])
    listed = {p.dlq_name for p in pairs if any(f"`{p.dlq_name}`" in text(r) for r in thread)}
    assert listed == {p.dlq_name for p in pairs} - set(shown)
    validated(alerts)


def test_a_duplicate_scheduled_event_posts_nothing_twice(alerts: Alerts, sqs: Any) -> None:
    # Given a check that alerted orders-dlq
    orders = create_pair(sqs, "orders")
    fill(sqs, orders, 3)
    first = alerts.check(0)

    # When the scheduler delivers the same scheduled time again (another request id)
    again = alerts.check(0)

    # Then the second delivery got the first's answer back and posted nothing
    assert again["replayed"] is True and again["alerted"] == first["alerted"]
    assert len(alerts.posts()) == 1


def test_a_lost_answer_is_found_by_the_retry_no_second_alert_and_none_dropped(
    alerts: Alerts, sqs: Any
) -> None:
    # Given Slack that takes the alert but whose answer never comes back (a 502 after it acted)
    orders = create_pair(sqs, "orders")
    fill(sqs, orders, 3)
    state = alerts.slack.state

    def acted_then_lost(body: dict[str, Any]) -> dict[str, Any]:
        del state.overrides["chat.postMessage"]
        state.answer("chat.postMessage", body)
        return {"_status": 502, "_text": "Bad Gateway"}

    state.overrides["chat.postMessage"] = acted_then_lost

    # When the check fails on it and Lambda retries the invocation (same request id)
    with pytest.raises(SlackError):
        alerts.check(0, request_id="req-1")
    retry = alerts.check(0, request_id="req-1")

    # Then the alert is in the channel once; the retry found it by its metadata, posted nothing
    # and recorded its ts: the next growth goes into that thread
    assert retry["status"] == "checked" and retry["alerted"] == []
    assert len(alerts.alerts()) == 1
    [alert] = alerts.alerts()
    thread = alert["ts"]
    fill(sqs, orders, 10)
    assert alerts.check(5)["growing"] == ["orders-dlq"]
    assert len(alerts.replies(thread)) == 1
    assert len(alerts.alerts()) == 1


def test_a_lost_answer_without_a_retry_is_found_by_the_next_check(alerts: Alerts, sqs: Any) -> None:
    # Given a check whose alert Slack took but whose answer was lost, and no Lambda retry
    orders = create_pair(sqs, "orders")
    fill(sqs, orders, 3)
    state = alerts.slack.state

    def acted_then_lost(body: dict[str, Any]) -> dict[str, Any]:
        del state.overrides["chat.postMessage"]
        state.answer("chat.postMessage", body)
        return {"_status": 502, "_text": "Bad Gateway"}

    state.overrides["chat.postMessage"] = acted_then_lost
    with pytest.raises(SlackError):
        alerts.check(0)

    # When the next scheduled check runs (the DLQ still holds its messages)
    following = alerts.check(5)

    # Then it alerted nobody again: the alert of 03:00 is there, found by its metadata
    assert following["alerted"] == []
    assert len(alerts.alerts()) == 1


def test_an_alert_slack_never_took_is_posted_by_the_next_check(alerts: Alerts, sqs: Any) -> None:
    # Given a check whose alert Slack refused (nothing in the channel), and no Lambda retry
    orders = create_pair(sqs, "orders")
    fill(sqs, orders, 3)
    alerts.slack.state.refuse("chat.postMessage", "internal_error")
    with pytest.raises(SlackError):
        alerts.check(0)

    # When the next scheduled check runs
    following = alerts.check(5)

    # Then it posts the alert that was owed: not dropped, and once
    assert following["alerted"] == ["orders-dlq"]
    [alert] = alerts.alerts()
    assert "`orders-dlq`: about 3 messages" in text(alert)


@pytest.mark.parametrize("event", [{}, {"time": "yesterday"}, ["not", "an", "object"]])
def test_a_malformed_event_is_answered_not_retried_and_posts_nothing(
    alerts: Alerts, sqs: Any, event: Any
) -> None:
    # Given a filling DLQ
    fill(sqs, create_pair(sqs, "orders"), 3)

    # When the function gets an event it cannot take a scheduled time from
    outcome = handlers.alerts.handler(event, LocalLambdaContext("dlq-redrive-alerts", 60.0, "r"))

    # Then it answers what is wrong (Lambda does not retry an answer) and posts nothing
    assert outcome["status"] == "error" and "time" in outcome["error"]
    assert alerts.posts() == []


def test_dlqs_listed_in_an_alert_reply_that_never_reached_slack_are_alerted_next_check(
    alerts: Alerts, sqs: Any
) -> None:
    # Given 60 filling DLQs (the alert names 20, its two thread replies 20 each) and Slack
    # refusing the second reply, with no Lambda retry after
    pairs = [create_pair(sqs, f"svc-{n:02d}") for n in range(60)]
    for n, pair in enumerate(pairs):
        fill(sqs, pair, 1 + n)

    def second_reply(body: dict[str, Any]) -> bool:
        return bool(body.get("metadata", {}).get("event_payload", {}).get("part") == "alert.1.2")

    alerts.slack.state.refuse("chat.postMessage", "internal_error", second_reply)
    with pytest.raises(SlackError):
        alerts.check(0)
    [first] = alerts.alerts()
    listed = {p.dlq_name for p in pairs if f"`{p.dlq_name}`" in text(first)} | {
        p.dlq_name
        for p in pairs
        for r in alerts.replies(first["ts"])
        if f"`{p.dlq_name}`" in text(r)
    }
    assert len(listed) == 40

    # When the next scheduled check runs
    following = alerts.check(5)

    # Then exactly the 20 DLQs nobody was told about are alerted, in a new message; the 40
    # named in the channel are not alerted again
    assert set(following["alerted"]) == {p.dlq_name for p in pairs} - listed
    assert len(alerts.alerts()) == 2
