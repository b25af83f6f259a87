"""Figures of one report never contradict each other (issue 10, item 16): found by the incident
drill on LocalStack (infra/local/incident_drill.py), where every figure was true alone but a bound
sat below an exact count of the same thing, the headline summed smaller bounds than the blocks
showed exactly, and counts of part of a FIFO DLQ read as its totals. No server: the report is
plain data, rendered."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.daily.blocks import blocks_as_text, fallback_text, render_continuation, render_report
from bot.daily.figures import SampleFigures
from bot.daily.report import AutoRedrive, DailyReport, DlqStatus
from bot.selection import Selection, day_window

DAY = date(2026, 12, 1)
NOW = datetime(2026, 12, 1, 16, 40, tzinfo=UTC)
YESTERDAY = Selection(window=day_window(DAY, ZoneInfo("UTC")), time_field="occurredAt")


def _sample(sampled: int, population: int, **counts: int) -> SampleFigures:
    values = {"arrived_yesterday": 0, "unreadable_time": 0, "poison": 0, "poison_yesterday": 0}
    values.update(counts)
    return SampleFigures(
        sampled=sampled,
        capped=True,
        oldest_sent=None,
        error_groups=(),
        other_errors=0,
        population=population,
        **values,
    )


# The drill's three DLQs: two auto-redriven whole (their scans drained the DLQ), one FIFO whose
# auto-redrive could not see past held messages of 40 groups.
ORDERS = DlqStatus(
    name="orders-dlq",
    depth=8_873,
    depth_before=14_000,
    figures=_sample(
        1000, 14_000, arrived_yesterday=380, poison=45, poison_yesterday=20, unreadable_time=36
    ),
    redrive=AutoRedrive(
        moved=5_127,
        needs_human=284,
        unreadable_time=567,
        outside=8_022,
        scanned=14_000,
        selection=YESTERDAY,
    ),
)
BILLING = DlqStatus(
    name="billing-dlq",
    depth=4_885,
    depth_before=10_000,
    figures=_sample(
        1000, 10_000, arrived_yesterday=500, poison=50, poison_yesterday=25, unreadable_time=61
    ),
    redrive=AutoRedrive(
        moved=5_115,
        needs_human=253,
        unreadable_time=437,
        outside=4_195,
        scanned=10_000,
        selection=YESTERDAY,
    ),
)
PAYMENTS = DlqStatus(
    name="payments-dlq.fifo",
    depth=4_864,
    depth_before=5_000,
    figures=_sample(
        400, 5_000, arrived_yesterday=140, poison=32, poison_yesterday=4, unreadable_time=17
    ),
    redrive=AutoRedrive(
        moved=136,
        blocked_groups=40,
        needs_human=4,
        unreadable_time=17,
        outside=243,
        scanned=400,
        selection=YESTERDAY,
    ),
)


def _report(*dlqs: DlqStatus, **overrides: object) -> DailyReport:
    values: dict[str, object] = {
        "day": DAY,
        "timezone": "UTC",
        "generated_at": NOW,
        "dlqs": dlqs,
        "time_field": "occurredAt",
        "auto_redrive_names": tuple(d.name for d in dlqs),
    }
    values.update(overrides)
    return DailyReport(**values)  # type: ignore[arg-type]


def _lines(report: DailyReport, name: str) -> list[str]:
    for block in render_report(report).message.blocks:
        text = block.get("text", {}).get("text", "")
        if isinstance(text, str) and text.startswith(f"*{name}*"):
            return text.splitlines()
    raise AssertionError(f"no section for {name}")


def test_all_days_figures_are_never_below_the_exact_counts_of_the_same_block() -> None:
    # Given orders-dlq: its auto-redrive looked at all 14,000 messages (284 of yesterday's poison,
    # 567 without a readable time), its sample of 1,000 found 45 poison and 36 unreadable
    lines = _lines(_report(ORDERS), "orders-dlq")
    assert lines[2] == "Yesterday: 5,411 arrived · :skull: 284 poison (need a human)"

    # Then all days hold at least yesterday's 284 poison, said so, and the unreadable count of
    # the scan that read every message is exact
    assert lines[4] == (
        "All days: :skull: ≥ 284 poison (counted among yesterday's messages)"
        " · 567 without a readable time"
    )


def test_an_all_days_bound_above_yesterdays_exact_count_stays_the_samples() -> None:
    # Given a sample that found more poison (of every day) than yesterday's exact 284
    status = DlqStatus(
        name="orders-dlq",
        depth=ORDERS.depth,
        depth_before=ORDERS.depth_before,
        figures=_sample(1000, 14_000, poison=300, unreadable_time=36),
        redrive=ORDERS.redrive,
    )
    assert _lines(_report(status), "orders-dlq")[4] == (
        "All days: :skull: ≥ 300 poison (in a sample of 1,000 of ≈ 14,000)"
        " · 567 without a readable time"
    )


def test_the_headline_sums_each_dlqs_best_figure_and_calls_no_full_scan_a_sample() -> None:
    # Given the drill's report: two DLQs counted exactly by their auto-redrives, one sampled
    report = _report(ORDERS, BILLING, PAYMENTS)

    # Then the headline adds the figures the blocks show, says which are exact and which are
    # bounds from what, and never calls the full scans samples
    summary = next(b for b in render_report(report).message.blocks if b.get("block_id"))
    line = summary["text"]["text"].splitlines()[1]
    assert line == (
        "≥ 10,919 arrived yesterday (10,779 exact in 2 DLQs;"
        " ≥ 140 in a sample of 400 of ≈ 5,000 in 1 DLQ)"
        " · 10,378 auto-redriven"
        " · ≥ 569 poison (need a human) (≥ 537 counted among yesterday's messages in 2 DLQs;"
        " ≥ 32 in a sample of 400 of ≈ 5,000 in 1 DLQ)"
    )
    assert "samples of" not in fallback_text(report)
    # And a headline of exact figures only is not marked
    exact = _report(ORDERS, time_field="occurredAt")
    assert "5,411 arrived yesterday · 5,127 auto-redriven" in fallback_text(exact)


def test_the_threads_depth_now_is_marked_approximate() -> None:
    # Given the final count of a continued auto-redrive, with a depth read from SQS's counters
    [reply] = render_continuation(
        DAY, {"billing-dlq": AutoRedrive(moved=5)}, 2, final=True, depths={"billing-dlq": 4_885}
    )
    # Then the depth is marked as SQS's approximate count, as in the main message
    assert reply.text.splitlines()[1] == "• billing-dlq: 5 moved back; depth now ≈ 4,885"


def test_an_updated_report_says_when_its_final_figures_were_read() -> None:
    # Given the report updated at 17:05 with the final figures of its continuation
    report = _report(ORDERS, updated_at=NOW + timedelta(minutes=25))
    header = render_report(report).message.blocks[0]["text"]["text"]
    # Then its header says when the figures were read, not only when it was first made
    assert header == (
        "DLQ report for Tue 1 Dec 2026 · as of Tue 1 Dec 16:40, final figures as of 17:05 (UTC)"
    )
    # And on another day it names that day
    later = _report(ORDERS, updated_at=NOW + timedelta(hours=8))
    assert (
        render_report(later)
        .message.blocks[0]["text"]["text"]
        .endswith("final figures as of Wed 2 Dec 00:40 (UTC)")
    )


def test_a_fifo_auto_redrive_that_could_not_see_past_held_groups_scopes_its_counts() -> None:
    # Given the FIFO auto-redrive that looked at 400 of ≈ 5,000 messages before held messages of
    # 40 groups hid the rest
    text = blocks_as_text(render_report(_report(PAYMENTS)).message.blocks)
    [reply] = render_continuation(
        DAY, {PAYMENTS.name: PAYMENTS.redrive}, 6, final=True, depths={PAYMENTS.name: 4_864}
    )

    # Then its counts say they are of the messages it looked at, and how many it did not
    assert (
        "Auto-redrive of 2026-12-01: of the 400 it looked at: moved 136 back, "
        "4 poison left for a human, 17 without a readable time left, "
        "243 outside the selection left; could not see past held messages of 40 FIFO groups: "
        "≈ 4,600 not looked at (left in the DLQ)"
    ) in text
    assert reply.text.splitlines()[1] == (
        "• payments-dlq.fifo: of the 400 it looked at: 136 moved back, "
        "4 poison left for a human, 17 without a readable time left, "
        "243 outside the selection left; could not see past held messages of 40 FIFO groups: "
        "≈ 4,600 not looked at (left in the DLQ); depth now ≈ 4,864"
    )
