"""The incident drill of issue 10 (item 16), scaled for moto: a DLQ of 240 messages over three
days, a sample of 60, and every number of the posted report checked against what was seeded.

moto's cost grows with a queue's depth (FACTS.md), so the 30,000-message scene runs on the
in-memory SQS (tests/unit/daily/test_daily_drill_fake_sqs.py); this one runs the real handler.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any

from infra.local.scene import count, create_pair
from tests.integration.daily.daily_support import Daily, blocks_text

RUN = "2026-03-11T06:00:00Z"  # yesterday is 10 March (UTC)
DAY = date(2026, 3, 10)
PER_DAY = {DAY - timedelta(days=2): 60, DAY - timedelta(days=1): 80, DAY: 100}
POISON_EVERY = 20
SAMPLE = 60
BASIS = f" — in a sample of {SAMPLE} of ≈ 240"


def _seed(sqs: Any, dlq_url: str) -> list[tuple[date, bool]]:
    """240 messages straight into the DLQ (its one source is where they go back), their day in
    the body's "at" field, interleaved; one in 20 already redriven 3 times (poison)."""
    plan = [day for n in range(100) for day in PER_DAY if n < PER_DAY[day]]
    seeded = []
    for start in range(0, len(plan), 10):
        entries = []
        for n, day in enumerate(plan[start : start + 10], start):
            poison = n % POISON_EVERY == 0
            entry: dict[str, Any] = {
                "Id": str(n),
                "MessageBody": json.dumps({"at": f"{day.isoformat()}T12:00:00Z", "n": n}),
            }
            if poison:
                entry["MessageAttributes"] = {
                    "dlq-redrive-count": {"DataType": "Number", "StringValue": "3"}
                }
            entries.append(entry)
            seeded.append((day, poison))
        sqs.send_message_batch(QueueUrl=dlq_url, Entries=entries)
    return seeded


def _marks(text: str) -> list[str]:
    """What precedes each "<n> arrived" / "<n> poison" in ``text``: "≥" for a bound."""
    return re.findall(r"(\S+) [\d,]+ (?:arrived|poison)", text)


def test_a_sampled_report_shows_bounds_of_what_was_seeded(daily: Daily, sqs: Any) -> None:
    # Given a DLQ of 240 messages (100 of yesterday, 12 poison) and a report sample of 60
    orders = create_pair(sqs, "orders")
    seeded = _seed(sqs, orders.dlq_url)
    assert len(seeded) == 240 and sum(p for _, p in seeded) == 12
    daily.configure(AUTO_REDRIVE_TIME_FIELD="at", REPORT_SAMPLE_SIZE=str(SAMPLE))

    # When the 06:00 job runs (no auto-redrive)
    daily.run(RUN)

    # Then each count of the sample is a bound, says from what, and is at most the truth
    [post] = daily.reports()
    text = blocks_text(post.body["blocks"])
    summary = re.search(r"≥ (\d+) arrived yesterday(?: · ≥ (\d+) poison \(need a human\))?", text)
    assert summary is not None, text
    assert int(summary.group(1)) <= 100 and int(summary.group(2) or 0) <= 12
    assert BASIS in text
    yesterday = re.search(r"Yesterday: ≥ (\d+) arrived", text)
    assert yesterday is not None and yesterday.group(1) == summary.group(1)
    assert "*≈ 240 messages* in 1 DLQ" in text and "Depth *≈ 240*" in text
    assert f"Top errors (sample of {SAMPLE} of ≈ 240):" in text
    top = [int(n) for n in re.findall(r"` ×(\d+)", text)]
    other = re.search(r"• (\d+) other", text)
    assert sum(top) + (int(other.group(1)) if other else 0) == SAMPLE
    assert text.startswith("DLQ report for Tue 10 Mar 2026 · as of ")
    for shown in (text, post.body["text"]):
        assert set(_marks(shown)) == {"≥"}, _marks(shown)
    # And nothing moved
    assert count(sqs, orders.dlq_url) == 240


def test_an_auto_redrive_of_yesterday_makes_its_figures_exact(daily: Daily, sqs: Any) -> None:
    # Given the same DLQ, auto-redriven, with a report sample of 60
    orders = create_pair(sqs, "orders")
    seeded = _seed(sqs, orders.dlq_url)
    poison_yesterday = sum(poison for day, poison in seeded if day == DAY)
    movable = PER_DAY[DAY] - poison_yesterday
    assert poison_yesterday == 4
    daily.configure(AUTO_REDRIVE="*", AUTO_REDRIVE_TIME_FIELD="at", REPORT_SAMPLE_SIZE=str(SAMPLE))

    # When the 06:00 job runs
    outcome = daily.run(RUN)

    # Then yesterday's 96 movable messages went back; its 4 poison ones stayed
    assert outcome["moved"] == movable and count(sqs, orders.source_url) == movable
    assert count(sqs, orders.dlq_url) == 240 - movable
    # And yesterday's figures are the auto-redrive's exact ones, the sample's only bounds
    [post] = daily.reports()
    text = blocks_text(post.body["blocks"])
    assert "Yesterday: 100 arrived · :skull: 4 poison (need a human)" in text
    assert "Auto-redrive of 2026-03-10: moved 96 back, 4 poison left for a human" in text
    # And the depths are SQS's counters, marked approximate (the sample did not count them)
    assert "Depth *≈ 144* (≈ 240 before auto-redrive)" in text
    assert "*≈ 144 messages* in 1 DLQ" in text
    # And the summary's yesterday is exact; its poison of every day a bound, never below
    # yesterday's exact 4 (from the sample when it found more), as the DLQ's line says
    summary = re.search(
        r"\n100 arrived yesterday · 96 auto-redriven · ≥ (\d+) poison \(need a human\) \((.+)\)",
        text,
    )
    assert summary is not None, text
    assert poison_yesterday <= int(summary.group(1)) <= 12
    basis = "counted among yesterday's messages" if summary.group(1) == "4" else BASIS[3:]
    assert summary.group(2) == basis
    line = rf"All days: :skull: ≥ {summary.group(1)} poison(?: \(| — ){re.escape(basis)}"
    assert re.search(line, text), text
    assert "100 arrived yesterday · 96 auto-redriven" in post.body["text"]


def test_a_change_from_a_depth_read_from_sqs_counters_stays_approximate(
    daily: Daily, sqs: Any
) -> None:
    # Given a DLQ whose report of 9 March auto-redrove 3 messages: its depth then was re-read
    # from SQS's counters (≈ 1), and is stored as approximate
    orders = create_pair(sqs, "orders")
    bodies = [json.dumps({"at": "2026-03-09T08:00:00Z", "n": n}) for n in range(3)]
    bodies.append(json.dumps({"at": "2026-03-01T08:00:00Z"}))
    sqs.send_message_batch(
        QueueUrl=orders.dlq_url,
        Entries=[{"Id": str(n), "MessageBody": body} for n, body in enumerate(bodies)],
    )
    daily.configure(AUTO_REDRIVE="*", AUTO_REDRIVE_TIME_FIELD="at")
    daily.run("2026-03-10T06:00:00Z")
    assert "Depth *≈ 1* (4 before auto-redrive)" in daily.report_text()

    # When the next report counts the DLQ whole (1 message, nothing to move)
    daily.run(RUN)

    # Then its depth is exact, and its change against the approximate one is marked
    text = daily.report_text()
    assert "Depth *1* (≈ ±0 since 9 Mar)" in text
    assert "*1 message* in 1 DLQ (≈ ±0 since 9 Mar)" in text
