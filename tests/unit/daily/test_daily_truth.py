"""Every figure of the daily report is true (issue 10, item 16): exact, or marked as a bound or
an approximation and saying from what. No server: the report is plain data, rendered."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.daily.blocks import fallback_text, render_report
from bot.daily.figures import ErrorGroup, SampleFigures
from bot.daily.report import AutoRedrive, Count, DailyReport, DlqStatus
from bot.selection import Selection, day_window

DAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 11, 6, tzinfo=UTC)  # 15:00 in Seoul
SEOUL = ZoneInfo("Asia/Seoul")
YESTERDAY = day_window(DAY, SEOUL)

# The incident: 30,000 messages over three days, 1,000 of them sampled; 664 of the sample arrived
# yesterday (12,636 really did), 65 of the sample are poison, 20 of those arrived yesterday.
SAMPLE_OF_30000 = SampleFigures(
    sampled=1000,
    capped=True,
    oldest_sent=NOW - timedelta(days=2, hours=4),
    arrived_yesterday=664,
    unreadable_time=3,
    poison=65,
    error_groups=(ErrorGroup("Timeout", 700, True),),
    other_errors=300,
    poison_yesterday=20,
    population=30_000,
)
WHOLE_SAMPLE = SampleFigures(
    sampled=3,
    capped=False,
    oldest_sent=NOW - timedelta(days=2, hours=4),
    arrived_yesterday=2,
    unreadable_time=0,
    poison=1,
    error_groups=(ErrorGroup("Timeout", 3, True),),
    other_errors=0,
    poison_yesterday=1,
    population=3,
)


def _report(*dlqs: DlqStatus, **overrides: object) -> DailyReport:
    values: dict[str, object] = {
        "day": DAY,
        "timezone": "Asia/Seoul",
        "generated_at": NOW,
        "dlqs": dlqs,
        "previous_day": None,
    }
    values.update(overrides)
    return DailyReport(**values)  # type: ignore[arg-type]


def _section(report: DailyReport, name: str) -> list[str]:
    for block in render_report(report).message.blocks:
        text = block.get("text", {}).get("text", "")
        if isinstance(text, str) and text.startswith(f"*{name}*"):
            return text.splitlines()
    raise AssertionError(f"no section for {name}")


def _summary(report: DailyReport) -> list[str]:
    [summary] = [
        b for b in render_report(report).message.blocks if b.get("block_id") == "daily.summary"
    ]
    return str(summary["text"]["text"]).splitlines()


def test_counts_add_up_and_stay_bounds_once_one_part_is() -> None:
    exact, bound = Count(5), Count.at_least(664, sampled=1000, of=30_000)
    assert (exact + Count(7)).value == 12 and (exact + Count(7)).exact
    assert (bound + bound).samples == 2 and (bound + bound).of == 60_000
    assert sum((exact, bound), Count(0)).value == 669
    # An exact part adds what it read to the basis: never "669 found in a sample of 1,000"
    assert exact + bound == Count(669, exact=False, sampled=1005, of=30_005, samples=2)
    whole = Count.counted(8, read=8)
    assert whole + Count.at_least(10, sampled=10, of=30) == Count(18, False, 18, 38, 2)


def test_a_sample_of_part_of_a_dlq_shows_bounds_that_say_from_what() -> None:
    # Given a DLQ of about 30,000 messages of which the report sampled 1,000
    status = DlqStatus(
        name="orders-dlq",
        depth=30_000,
        depth_before=30_000,
        figures=SAMPLE_OF_30000,
        sources=("orders",),
    )
    report = _report(status)

    # When it is rendered, then no count of the sample reads as a count of the DLQ
    assert _section(report, "orders-dlq") == [
        "*orders-dlq* → orders",
        "Depth *≈ 30,000* · oldest ≥ 2d 4h",
        "Yesterday: ≥ 664 arrived · :skull: ≥ 20 poison (need a human)"
        " — in a sample of 1,000 of ≈ 30,000",
        "All days: :skull: ≥ 65 poison · ≥ 3 without a readable time"
        " — in a sample of 1,000 of ≈ 30,000",
        "Top errors (sample of 1,000 of ≈ 30,000):",
        "• `Timeout` ×700",
        "• 300 other",
    ]
    assert _summary(report) == [
        "*≈ 30,000 messages* in 1 DLQ",
        "≥ 664 arrived yesterday · ≥ 65 poison (need a human) — in a sample of 1,000 of ≈ 30,000",
        "≈ SQS's approximate count · ≥ at least that many (found in a sample)",
    ]


def test_a_sample_of_the_whole_dlq_is_exact() -> None:
    # Given a DLQ whose 3 messages were all sampled
    status = DlqStatus(name="a-dlq", depth=3, depth_before=3, figures=WHOLE_SAMPLE)
    report = _report(status)

    # Then its counts are shown as exact, and no legend is needed
    assert _section(report, "a-dlq") == [
        "*a-dlq*",
        "Depth *3* · oldest 2d 4h",
        "Yesterday: 2 arrived · :skull: 1 poison (need a human)",
        "All days: :skull: 1 poison",
        "Top errors (3 messages):",
        "• `Timeout` ×3",
    ]
    assert _summary(report) == [
        "*3 messages* in 1 DLQ",
        "2 arrived yesterday · 1 poison (need a human)",
    ]


def test_an_auto_redrive_that_looked_at_every_message_counts_yesterday_exactly() -> None:
    # Given the incident's DLQ, auto-redriven for yesterday: it looked at all 30,000 messages,
    # 12,636 of them of yesterday (12,000 moved, 24 failed, 612 poison left for a human)
    redrive = AutoRedrive(
        moved=12_000,
        failed=24,
        needs_human=612,
        unreadable_time=3,
        outside=17_361,
        scanned=30_000,
        selection=Selection(window=YESTERDAY),
    )
    status = DlqStatus(
        name="orders-dlq",
        depth=18_000,
        depth_before=30_000,
        figures=SAMPLE_OF_30000,
        redrive=redrive,
    )
    report = _report(status, auto_redrive_names=("orders-dlq",))

    # Then yesterday's figures are the auto-redrive's exact ones, and the all-days figures stay
    # on their own line: never two poison counts for yesterday, and never below yesterday's
    # (its scan's count of messages without a readable time is exact)
    lines = _section(report, "orders-dlq")
    assert lines[1] == "Depth *≈ 18,000* (≈ 30,000 before auto-redrive) · oldest ≥ 2d 4h"
    assert lines[2] == "Yesterday: 12,636 arrived · :skull: 612 poison (need a human)"
    assert lines[4] == (
        "All days: :skull: ≥ 612 poison (counted among yesterday's messages)"
        " · 3 without a readable time"
    )
    assert _summary(report)[1] == (
        "12,636 arrived yesterday · 12,000 auto-redriven · ≥ 612 poison (need a human)"
        " (counted among yesterday's messages)"
    )


def test_an_auto_redrive_that_did_not_finish_or_took_another_window_counts_nothing_exact() -> None:
    # Given auto-redrives that ran out of time, or selected something other than yesterday
    unfinished = AutoRedrive(moved=500, continuing=True, selection=Selection(window=YESTERDAY))
    no_scan = AutoRedrive(moved=500, selection=Selection(window=YESTERDAY))
    wider = AutoRedrive(
        moved=500,
        scanned=30_000,
        selection=Selection(window=day_window(DAY - timedelta(days=1), SEOUL)),
    )
    for redrive in (unfinished, no_scan, wider):
        status = DlqStatus(
            name="a-dlq",
            depth=29_500,
            depth_before=30_000,
            figures=SAMPLE_OF_30000,
            redrive=redrive,
        )

        # Then yesterday's figures are the sample's bounds
        yesterday = _section(_report(status), "a-dlq")[2]
        assert yesterday.startswith("Yesterday: ≥ 664 arrived · :skull: ≥ 20 poison")


def test_a_fifo_auto_redrive_that_could_not_see_past_held_groups_counts_nothing_exact() -> None:
    # Given a FIFO auto-redrive that drained its scan, but held messages of 11 groups, so SQS
    # handed out none of their later messages (some of which may be yesterday's)
    redrive = AutoRedrive(
        moved=500,
        outside=29_000,
        scanned=30_000,
        blocked_groups=11,
        selection=Selection(window=YESTERDAY),
    )
    status = DlqStatus(
        name="a-dlq.fifo",
        depth=29_500,
        depth_before=30_000,
        figures=SAMPLE_OF_30000,
        redrive=redrive,
    )

    # Then its counts are not taken as yesterday's exact figures: the sample's bounds are shown
    yesterday = _section(_report(status), "a-dlq.fifo")[2]
    assert yesterday.startswith("Yesterday: ≥ 664 arrived · :skull: ≥ 20 poison")


def test_the_notification_text_repeats_only_true_figures() -> None:
    # Given the incident's report and one small DLQ counted whole
    big = DlqStatus(name="orders-dlq", depth=30_000, depth_before=30_000, figures=SAMPLE_OF_30000)
    small = DlqStatus(name="a-dlq", depth=3, depth_before=3, figures=WHOLE_SAMPLE)
    text = fallback_text(_report(big, small))

    # Then every count in it is exact or marked (≈ approximate, ≥ at least) with its basis
    assert "≥ 666 arrived yesterday (2 exact in 1 DLQ; ≥ 664 in a sample of 1,000" in text
    assert "≥ 66 poison (need a human) (1 exact in 1 DLQ; ≥ 65 in a sample of 1,000" in text
    assert "samples of 1,003" not in text  # a whole DLQ counted is no sample
    assert "- orders-dlq: ≈ 30,000" in text and "- a-dlq: 3" in text
    assert "≈ 30,003 messages in 2 DLQs" in text
    counts = re.findall(r"(\S+) \d[\d,]* (?:arrived|poison)", text)
    assert counts and all(mark == "≥" for mark in counts), counts


def test_the_header_names_the_day_and_when_the_report_was_made() -> None:
    blocks = render_report(_report(DlqStatus(name="a-dlq", depth=3, figures=WHOLE_SAMPLE))).message
    header = blocks.blocks[0]["text"]["text"]
    assert header == "DLQ report for Tue 10 Mar 2026 · as of Wed 11 Mar 15:00 (Asia/Seoul)"


def test_depths_after_an_auto_redrive_are_approximate_even_from_a_whole_sample() -> None:
    # Given a DLQ counted whole (3) before its auto-redrive moved 2; the depth after is re-read
    redrive = AutoRedrive(moved=2, scanned=3, selection=Selection(window=YESTERDAY))
    status = DlqStatus(name="a-dlq", depth=1, depth_before=3, figures=WHOLE_SAMPLE, redrive=redrive)
    assert (
        _section(_report(status), "a-dlq")[1]
        == "Depth *≈ 1* (3 before auto-redrive) · oldest 2d 4h"
    )
    assert replace(status, redrive=None, depth=3).depth_exact


def test_a_change_is_against_the_dlqs_own_last_snapshot_and_as_exact_as_both_depths() -> None:
    # Given a DLQ counted whole today (5), last reported on 8 March (2, counted), in a report
    # whose previous one (9 March) did not have it; and one whose 9 March depth was approximate
    back = DlqStatus(
        name="back-dlq",
        depth=5,
        depth_before=5,
        previous_depth=2,
        previous_day=DAY - timedelta(days=2),
        previous_exact=True,
        figures=replace(WHOLE_SAMPLE, sampled=5, population=5),
    )
    rough = DlqStatus(
        name="rough-dlq",
        depth=3,
        depth_before=3,
        previous_depth=3,
        previous_day=DAY - timedelta(days=1),
        figures=WHOLE_SAMPLE,
    )
    report = _report(back, rough, previous_day=DAY - timedelta(days=1))

    # Then each change names its own day, and is marked when either depth was approximate
    assert _section(report, "back-dlq")[1] == "Depth *5* (+3 since 8 Mar) · oldest 2d 4h"
    assert _section(report, "rough-dlq")[1] == "Depth *3* (≈ ±0 since 9 Mar) · oldest 2d 4h"
    # And the total's change is the total minus the previous report's total (3 on 9 March;
    # back-dlq was not in it, so its 5 are new there)
    assert _summary(report)[0] == "*8 messages* in 2 DLQs (≈ +5 since 9 Mar)"
    assert "- back-dlq: 5 (+3)" in fallback_text(report)


def test_the_total_change_is_unknown_when_a_dlq_of_the_previous_report_cannot_be_read() -> None:
    ok = DlqStatus(
        name="a-dlq",
        depth=3,
        depth_before=3,
        previous_depth=1,
        previous_day=DAY - timedelta(days=1),
        previous_exact=True,
        figures=WHOLE_SAMPLE,
    )
    gone = DlqStatus(name="b-dlq", error="AccessDenied", previous_day=DAY - timedelta(days=1))
    report = _report(ok, gone, previous_day=DAY - timedelta(days=1))
    assert report.total_change is None
    assert _summary(report)[0] == "*3 messages* in 1 DLQ"


def test_a_dlq_with_a_thousand_sources_keeps_its_figures() -> None:
    # Given a DLQ with 1,000 sources of 80-character names (SQS allows 1,000 per DLQ)
    sources = tuple(f"{n:04d}-" + "s" * 75 for n in range(1000))
    status = DlqStatus(
        name="shared-dlq", depth=3, depth_before=3, figures=WHOLE_SAMPLE, sources=sources
    )

    # Then its first line names as many as fit and how many more, and its figures follow
    lines = _section(_report(status), "shared-dlq")
    assert lines[0].startswith("*shared-dlq* → 0000-") and lines[0].endswith(" more")
    assert len(lines[0]) < 400 and "and 997 more" in lines[0]
    assert lines[1] == "Depth *3* · oldest 2d 4h"


def test_an_auto_redrive_stopped_by_an_error_still_says_what_it_did() -> None:
    # Given an auto-redrive that moved 25 back (2 poison left) before AWS refused a receive
    redrive = AutoRedrive(
        moved=25,
        needs_human=2,
        error="AWS refused receiving: AccessDenied",
        selection=Selection(window=YESTERDAY),
    )
    status = DlqStatus(name="a-dlq", depth=2, depth_before=27, figures=None, redrive=redrive)
    report = _report(status, auto_redrive_names=("a-dlq",))

    # Then its line says what moved, then the error; and the summary counts the same 25
    assert _section(report, "a-dlq")[2] == (
        "Auto-redrive of 2026-03-10: moved 25 back, 2 poison left for a human; "
        "then it stopped: AWS refused receiving: AccessDenied"
    )
    assert "25 auto-redriven" in _summary(report)[1]
    # And one that moved nothing is a plain failure line
    failed = replace(status, redrive=replace(redrive, moved=0, needs_human=0))
    assert _section(_report(failed), "a-dlq")[2] == (
        "Auto-redrive failed: AWS refused receiving: AccessDenied"
    )
