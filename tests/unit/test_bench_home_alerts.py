"""bench/home_alerts.py's verdicts: the table says "yes" only when every queue's attributes were
read once and no message was received, and judges each target at its own size."""

from __future__ import annotations

from typing import Any

from bench.home_alerts import rows

READ_ONCE = {"ListQueues": 1, "GetQueueAttributes": 200}


def home(dlqs: int, sqs: dict[str, int], median_s: float) -> dict[str, Any]:
    return {
        "dlqs": dlqs,
        "queues": 2 * dlqs,
        "first_s": median_s,
        "next_median_s": median_s,
        "next_max_s": median_s,
        "calls": {"sqs": sqs, "dynamodb": {"Query": dlqs + 2}},
        "blocks": 100,
        "view_kb": 50.0,
        "sqs_read_s": 0.1,
        "trend_queries_s": 0.1,
        "trend_query_ms": 1.0,
        "other_table_reads_s": 0.1,
    }


def check(sqs: dict[str, int], seconds: float) -> dict[str, Any]:
    return {"seconds": seconds, "posts": 1, "calls": {"sqs": sqs, "dynamodb": {}}}


def verdicts(section: dict[str, Any]) -> dict[str, bool | None]:
    return {figure.strip(): met for figure, _, _, met in rows(section)}


def test_a_receive_or_a_second_read_of_a_queue_fails_the_call_check() -> None:
    # Given opens and checks at 100 DLQs: one read each queue once, one that also received,
    # one that read some queue twice
    received = {**READ_ONCE, "ReceiveMessage": 1}
    twice = {"ListQueues": 1, "GetQueueAttributes": 201}
    for sqs, expected in ((READ_ONCE, True), (received, False), (twice, False)):
        section = {
            "home": [home(100, sqs, 1.0)],
            "alerts": [
                {"dlqs": 100, "queues": 200, "all_new": check(sqs, 1.0), "steady": check(sqs, 1.0)}
            ],
        }
        met = verdicts(section)
        # Then the table says so for the tab and for both checks
        calls = {figure: ok for figure, ok in met.items() if "SQS calls" in figure}
        assert len(calls) == 3
        assert set(calls.values()) == {expected}


def test_each_time_target_is_judged_at_its_own_size_only() -> None:
    # Given a slow tab at 100 DLQs and a slower one at 500, and checks under and over 30 s
    section = {
        "home": [home(100, READ_ONCE, 2.5), home(500, READ_ONCE, 9.0)],
        "alerts": [
            {
                "dlqs": 100,
                "queues": 200,
                "all_new": check(READ_ONCE, 45.0),
                "steady": check(READ_ONCE, 1.0),
            },
            {
                "dlqs": 500,
                "queues": 1000,
                "all_new": check(READ_ONCE, 31.0),
                "steady": check(READ_ONCE, 4.0),
            },
        ],
    }
    met = verdicts(section)
    # Then the tab's 2 s is judged at 100 DLQs (missed) and only read at 500
    assert met["home tab publish, 100 DLQs: first / next (median, max)"] is False
    assert met["home tab publish, 500 DLQs: first / next (median, max)"] is None
    # And the check's 30 s at 500 DLQs (the first missed, the steady one met), read at 100
    assert met["alert check, 500 DLQs, every DLQ new (1 Slack posts)"] is False
    assert met["alert check, 500 DLQs, nothing new (1 Slack posts)"] is True
    assert met["alert check, 100 DLQs, every DLQ new (1 Slack posts)"] is None
