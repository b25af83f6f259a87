"""The incident drill of issue 10 (item 16) on the in-memory SQS: 30,000 messages over three
days, 1,000 sampled. The report once said "664 arrived yesterday" when 12,636 had; every number
it shows now is checked against what was seeded."""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.daily.blocks import fallback_text, render_report
from bot.daily.figures import FigureCounter
from bot.daily.report import DailyReport, DlqStatus
from bot.daily.scan import sample_messages
from bot.selection import REDRIVE_COUNT_ATTRIBUTE, day_window
from bot.sqs_model import ReceivedMessage
from tests.unit.fake_sqs import FakeSqs

UTC_ZONE = ZoneInfo("UTC")
DAY = date(2026, 3, 10)  # "yesterday" for the 06:00 run of 11 March
DAYS = {DAY - timedelta(days=2): 9_210, DAY - timedelta(days=1): 8_154, DAY: 12_636}
POISON_EVERY = 20  # one message in 20 was redriven MAX_REDRIVES (3) times already


def _seed(sqs: FakeSqs, url: str) -> dict[str, tuple[date, bool]]:
    """The DLQ's 30,000 messages in a shuffled order (SQS hands them out in no given order):
    each message id with its day and whether it is poison."""
    plan = [day for day, count in DAYS.items() for _ in range(count)]
    random.Random(10).shuffle(plan)
    truth = {}
    for n, day in enumerate(plan):
        poison = n % POISON_EVERY == 0
        attributes = (
            {REDRIVE_COUNT_ATTRIBUTE: {"DataType": "Number", "StringValue": "3"}} if poison else {}
        )
        message_id = sqs.put(url, json.dumps({"order": n, "error": "late"}), **attributes)
        sent = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(seconds=n)
        sqs.queues[url].messages[message_id].attributes["SentTimestamp"] = str(
            int(sent.timestamp() * 1000)
        )
        truth[message_id] = (day, poison)
    return truth


def test_the_incident_report_shows_no_sample_count_as_exact() -> None:
    # Given the incident's DLQ: 30,000 messages over three days, 12,636 of them of yesterday
    sqs = FakeSqs()
    url = sqs.create("orders-dlq")
    truth = _seed(sqs, url)
    poison_total = sum(poison for _, poison in truth.values())
    assert len(truth) == 30_000 and poison_total == 1_500

    # When the report samples 1,000 of them (as the daily job does) and is rendered
    counter = FigureCounter(
        yesterday=day_window(DAY, UTC_ZONE), tz=UTC_ZONE, max_redrives=3, error_attribute=None
    )
    seen: list[str] = []

    def count(message: ReceivedMessage) -> None:
        seen.append(message.message_id)
        counter.add(message)

    sample = sample_messages(sqs, url, limit=1000, expected=30_000, on_message=count)
    figures = counter.figures(capped=sample.capped, population=30_000)
    status = DlqStatus(name="orders-dlq", depth=30_000, depth_before=30_000, figures=figures)
    report = DailyReport(
        day=DAY,
        timezone="UTC",
        generated_at=datetime(2026, 3, 11, 6, 1, tzinfo=UTC),
        dlqs=(status,),
    )
    rendered = render_report(report)
    text = "\n".join(
        str(b["text"]["text"])
        for b in rendered.message.blocks
        if "text" in b and "text" in b["text"]
    )
    notification = fallback_text(report)

    # Then what the sample found is what the report says, as lower bounds of the truth
    arrived = sum(truth[i][0] == DAY for i in seen)
    poison = sum(truth[i][1] for i in seen)
    poison_yesterday = sum(truth[i] == (DAY, True) for i in seen)
    assert len(seen) == 1000 and 0 < arrived < 12_636 and 0 < poison < poison_total
    basis = " — in a sample of 1,000 of ≈ 30,000"
    assert f"≥ {arrived:,} arrived yesterday · ≥ {poison:,} poison (need a human){basis}" in text
    assert f"Yesterday: ≥ {arrived:,} arrived · :skull: ≥ {poison_yesterday:,} poison" in text
    assert f"All days: :skull: ≥ {poison:,} poison{basis}" in text
    assert "*≈ 30,000 messages* in 1 DLQ" in text and "Depth *≈ 30,000*" in text
    assert "DLQ report for Tue 10 Mar 2026 · as of Wed 11 Mar 06:01 (UTC)" in text
    # And no count of the sample reads as exact, neither in the blocks nor in the notification
    for shown in (text, notification):
        marks = re.findall(r"(\S+) [\d,]+ (?:arrived|poison)", shown)
        assert marks and set(marks) == {"≥"}, marks
    assert f"≥ {arrived:,} arrived yesterday" in notification
    assert "≈ 30,000 messages in 1 DLQ" in notification
    # And the sample left the DLQ as it was
    assert sqs.visible(url) == 30_000
