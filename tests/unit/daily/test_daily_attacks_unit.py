"""Adversarial review of the daily report's rendering (issue 10, items 14, 16, 17), no server:
each test tries to break one promise of docs/daily-report.md on a hand-built ``DailyReport``.

A test that fails documents a promise that does not hold today (see the review's report).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.daily.blocks import block_text_length, counts_text, dlq_text, render_report
from bot.daily.figures import FigureCounter, SampleFigures
from bot.daily.report import AutoRedrive, Count, DailyReport, DlqStatus, sample_count
from bot.selection import Selection, day_window
from bot.sqs_model import ReceivedMessage

DAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 11, 6, tzinfo=UTC)
UTC_ZONE = "UTC"
TZ = ZoneInfo(UTC_ZONE)


def _figures(sampled: int, population: int, arrived: int, *, capped: bool) -> SampleFigures:
    return SampleFigures(
        sampled=sampled,
        capped=capped,
        oldest_sent=None,
        arrived_yesterday=arrived,
        unreadable_time=0,
        poison=0,
        error_groups=(),
        other_errors=0,
        population=population,
    )


def _report(*dlqs: DlqStatus, auto: tuple[str, ...] = ()) -> DailyReport:
    return DailyReport(
        day=DAY, timezone=UTC_ZONE, generated_at=NOW, dlqs=dlqs, auto_redrive_names=auto
    )


def _bounds(text: str) -> list[tuple[int, int]]:
    """(value, sampled) of every bound and the sample it is said to be found in: the bound
    right before "in a sample of S", and every bound of a line that ends "— in a sample of S"
    (a headline's breakdown gives each part its own figure and basis)."""
    found = []
    number = r"([\d,]+)"
    for line in text.split("\n"):
        for value, sampled in re.findall(
            rf"≥ {number}[^≥]*?in (?:a sample|samples) of {number}", line
        ):
            found.append((int(value.replace(",", "")), int(sampled.replace(",", ""))))
        shared = re.search(rf" — in (?:a sample|samples) of {number}", line)
        if shared:
            for value in re.findall(rf"≥ {number}", line[: shared.start()]):
                found.append((int(value.replace(",", "")), int(shared.group(1).replace(",", ""))))
    return found


def test_an_exact_count_added_to_a_bound_is_not_said_to_be_found_in_the_bounds_sample() -> None:
    # Given 8 arrivals counted exactly in one DLQ and at least 10 found in a sample of 10 of 30
    exact = Count(8)
    bound = Count.at_least(10, sampled=10, of=30)

    # When the summary adds them up
    line = counts_text([("{n} arrived yesterday", exact + bound)])

    # Then it does not claim 18 were found in a sample of 10
    assert all(value <= sampled for value, sampled in _bounds(line)), line


def test_a_whole_and_a_partial_dlq_summary_keeps_every_bound_within_its_basis() -> None:
    # Given a DLQ sampled whole (8 of yesterday) and one sampled in part (10 of 10 of ≈ 30)
    small = DlqStatus(
        name="small-dlq", depth=8, depth_before=8, figures=_figures(8, 8, 8, capped=False)
    )
    big = DlqStatus(
        name="big-dlq", depth=30, depth_before=30, figures=_figures(10, 30, 10, capped=True)
    )

    # When the report is rendered
    rendered = render_report(_report(small, big))

    # Then no line, in the blocks or the fallback, says more were found than were sampled
    texts = [rendered.message.text] + [
        b["text"]["text"] for b in rendered.message.blocks if b.get("type") == "section"
    ]
    for text in texts:
        assert all(value <= sampled for value, sampled in _bounds(text)), text


def test_a_dlq_with_many_long_sources_keeps_its_figures_in_its_section() -> None:
    # Given a DLQ with 40 sources of 76-character names (SQS allows 1,000 sources per DLQ)
    sources = tuple(f"{i:02d}-" + "a-rather-long-service-name-" * 2 + "x" * 19 for i in range(40))
    status = DlqStatus(
        name="shared-dlq",
        depth=2,
        depth_before=2,
        figures=_figures(2, 2, 2, capped=False),
        sources=sources,
    )
    report = _report(status)

    # When its section is rendered
    text = dlq_text(status, report, NOW)
    rendered = render_report(report)
    section = next(
        b["text"]["text"]
        for b in rendered.message.blocks
        if b.get("block_id", "").startswith("daily.dlq.")
    )

    # Then the section is within Slack's 3,000 characters and still has its depth and yesterday
    assert len(section) <= 3000
    assert "Depth *2*" in section and "Yesterday: 2 arrived" in section, text[-200:]


def test_an_auto_redrive_stopped_by_an_error_still_says_what_it_moved() -> None:
    # Given an auto-redrive that moved 25 back before AWS refused a receive
    selection = Selection(window=day_window(DAY, TZ))
    status = DlqStatus(
        name="alpha-dlq",
        depth=0,
        depth_before=25,
        figures=_figures(25, 25, 25, capped=False),
        redrive=AutoRedrive(
            moved=25, error="AWS refused receiving: AccessDenied", selection=selection
        ),
    )
    report = _report(status, auto=("alpha-dlq",))

    # When the report is rendered
    text = dlq_text(status, report, NOW)
    summary = render_report(report).message.blocks[1]["text"]["text"]

    # Then the DLQ's line agrees with the summary: 25 went back, then the error
    assert "25 auto-redriven" in summary
    assert "AccessDenied" in text
    assert re.search(r"\b25\b[^\n]*back|back[^\n]*\b25\b", text), text


def test_hostile_time_values_are_unreadable_and_never_raise() -> None:
    # Given messages whose "at" no calendar can place, or that are not even parseable JSON
    window = day_window(DAY, TZ)
    counter = FigureCounter(
        yesterday=window,
        tz=TZ,
        max_redrives=3,
        error_attribute="error",
        time_field="at",
    )
    hostile = [
        '{"at": NaN}',
        '{"at": Infinity}',
        '{"at": -1e400}',
        '{"at": true}',
        '{"at": [1]}',
        '{"at": "2026-03-10T25:00"}',
        "[" * 100_000 + "]" * 100_000,
        '{"at": 1e308}',
        '{"at": -62135596801}',
        '{"at": "2026-03-10T12:00:00+25:00"}',
        '{"at": "' + "9" * 5000 + '"}',
    ]
    readable = ['{"at": "2026-03-10"}', '{"at": 1773144000}']
    sent = {"SentTimestamp": "1773100800000"}

    # When each is counted
    for n, body in enumerate([*hostile, *readable]):
        counter.add(ReceivedMessage(str(n), "r", body, sent, {}))

    # Then every hostile one is "without a readable time", and yesterday's two are counted
    figures = counter.figures()
    assert figures.unreadable_time == len(hostile)
    assert figures.arrived_yesterday == 2
    shown = sample_count(figures.arrived_yesterday, figures)
    assert shown.exact and shown.value == 2


def test_sixty_dlqs_with_long_hostile_labels_render_within_slacks_limits() -> None:
    # Given 60 DLQs with 80-character names and error labels that grow 5× when escaped
    hostile = "&" * 300
    statuses = []
    for i in range(60):
        counter = FigureCounter(
            yesterday=day_window(DAY, TZ),
            tz=TZ,
            max_redrives=3,
            error_attribute="error",
        )
        for kind in "ABCDE":
            value = {"DataType": "String", "StringValue": f"{kind}{hostile}{i}"}
            counter.add(ReceivedMessage(f"{i}{kind}", "r", "{}", {}, {"error": value}))
        name = f"{i:02d}-" + "a-rather-long-service-name-" * 2 + "x" * 19 + "-dlq"
        statuses.append(
            DlqStatus(
                name=name, depth=5, depth_before=5, figures=counter.figures(), sources=(name[:-4],)
            )
        )

    # When the report is rendered
    rendered = render_report(_report(*statuses))

    # Then each message is within 50 blocks and 10,000 characters of block text, and every DLQ
    # is detailed once
    messages = [rendered.message, *rendered.thread]
    for message in messages:
        assert len(message.blocks) <= 50
        assert block_text_length(message.blocks) <= 10_000
    detailed = [
        b["block_id"]
        for m in messages
        for b in m.blocks
        if b.get("block_id", "").startswith("daily.dlq.")
    ]
    assert len(detailed) == 60 and len(set(detailed)) == 60
