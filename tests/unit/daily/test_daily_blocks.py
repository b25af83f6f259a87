"""Rendering the daily report: Block Kit limits, fallback text, sparkline, builder link."""

from __future__ import annotations

import json
import urllib.parse
from datetime import UTC, date, datetime, timedelta

from bot.daily.blocks import (
    blocks_as_text,
    builder_url,
    duration,
    render_continuation,
    render_report,
    sparkline,
)
from bot.daily.figures import ErrorGroup, SampleFigures
from bot.daily.report import AutoRedrive, DailyReport, DlqStatus

DAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 11, 6, tzinfo=UTC)


def _figures(**overrides: object) -> SampleFigures:
    values: dict[str, object] = {
        "sampled": 3,
        "capped": False,
        "oldest_sent": NOW - timedelta(days=2, hours=4),
        "arrived_yesterday": 2,
        "unreadable_time": 0,
        "poison": 0,
        "error_groups": (ErrorGroup("Timeout", 3, True),),
        "other_errors": 0,
    }
    values.update(overrides)
    return SampleFigures(**values)  # type: ignore[arg-type]


def _report(*dlqs: DlqStatus, **overrides: object) -> DailyReport:
    values: dict[str, object] = {
        "day": DAY,
        "timezone": "Asia/Seoul",
        "generated_at": NOW,
        "dlqs": dlqs,
        "previous_day": DAY - timedelta(days=1),
    }
    values.update(overrides)
    return DailyReport(**values)  # type: ignore[arg-type]


def test_sparkline_scales_from_zero_to_the_largest_and_marks_missing_days() -> None:
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█"
    assert sparkline([None, 0, 10, None]) == "·▁█·"
    assert sparkline([0, 0]) == "▁▁"
    assert sparkline([]) == ""


def test_durations_are_short() -> None:
    assert duration(timedelta(days=2, hours=4, minutes=5)) == "2d 4h"
    assert duration(timedelta(hours=5, minutes=3)) == "5h 3m"
    assert duration(timedelta(minutes=12)) == "12m"
    assert duration(timedelta(seconds=20)) == "under 1m"


def test_a_sampled_dlqs_oldest_under_a_minute_is_a_bound_in_seconds() -> None:
    # Given a DLQ scanned in part (3 of 5) whose oldest sampled message is 42 seconds old (found
    # by the incident drill of issue 14 right after a burst: "oldest ≥ under 1m")
    status = DlqStatus(
        name="orders-dlq",
        depth=5,
        figures=_figures(oldest_sent=NOW - timedelta(seconds=42), population=5),
    )

    # When rendered
    rendered = render_report(_report(status))

    # Then the bound says how old, not a bound of "under": older ones may be in the unread part
    section = rendered.message.blocks[4]["text"]["text"]
    assert "oldest ≥ 42s" in section
    assert "under 1m" not in section


def test_one_dlq_section_shows_every_figure() -> None:
    # Given a DLQ that grew by 3, was auto-redriven, and has a poison message
    status = DlqStatus(
        name="orders-dlq",
        depth=5,
        depth_before=9,
        previous_depth=2,
        previous_day=DAY - timedelta(days=1),
        figures=_figures(poison=1, poison_yesterday=1),
        redrive=AutoRedrive(moved=4, failed=1, needs_human=1),
        trend=(None, None, None, None, 1, 2, 5),
        sources=("orders",),
    )

    # When rendered
    rendered = render_report(_report(status, auto_redrive_names=("orders-dlq",)))

    # Then the section says it all
    section = rendered.message.blocks[4]["text"]["text"]
    assert section.splitlines() == [
        "*orders-dlq* → orders",
        # SQS's counters (approximate): the sample of 3 did not count these 9 (issue 10, item 16)
        "Depth *≈ 5* (≈ 9 before auto-redrive; ≈ +3 since 9 Mar) · oldest 2d 4h · 7d `····▂▄█`",
        "Yesterday: 2 arrived · :skull: 1 poison (need a human)",
        "Auto-redrive of 2026-03-10: moved 4 back, *1 failed* (left in the DLQ), "
        "1 poison left for a human",
        "All days: :skull: 1 poison",
        "Top errors (3 sampled before auto-redrive):",
        "• `Timeout` ×3",
    ]
    summary = rendered.message.blocks[1]["text"]["text"]
    assert summary.startswith("*≈ 5 messages* in 1 DLQ (≈ +3 since 9 Mar)\n2 arrived yesterday · ")
    assert "4 auto-redriven · 1 poison (need a human)" in summary


def test_sixty_dlqs_fit_in_the_message_and_the_thread() -> None:
    # Given 60 DLQs with long error labels
    label = "E" * 80
    dlqs = tuple(
        DlqStatus(
            name=f"queue-{i:02d}-" + "x" * 60,
            depth=i + 1,
            previous_depth=i,
            previous_day=DAY - timedelta(days=1),
            figures=_figures(error_groups=(ErrorGroup(label, 2, True),) * 3, other_errors=9),
            trend=(1, 2, 3, 4, 5, 6, i + 1),
        )
        for i in range(60)
    )

    # When rendered
    rendered = render_report(_report(*dlqs))

    # Then no message breaks a limit, and every DLQ is detailed exactly once
    messages = [rendered.message, *rendered.thread]
    named = []
    for message in messages:
        assert len(message.blocks) <= 50
        assert 0 < len(message.text) <= 3000
        for block in message.blocks:
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= 3000
            for element in block.get("elements", []):
                if element.get("type") == "button":
                    assert len(element["value"]) <= 2000
                    named.append(json.loads(element["value"])["queue"])
    assert sorted(set(named)) == sorted(d.name for d in dlqs)
    assert len(named) == 120  # a redrive and a peek button each
    # And the deepest come first in the message itself
    first = rendered.message.blocks[4]["text"]["text"]
    assert first.startswith("*queue-59-")


def test_an_unreadable_dlq_comes_first_without_buttons() -> None:
    rendered = render_report(
        _report(
            DlqStatus(name="fine-dlq", depth=1, figures=_figures()),
            DlqStatus(name="bad-dlq", error="AWS refused reading: AccessDenied: <no>"),
        )
    )
    blocks = rendered.message.blocks
    assert blocks[4]["text"]["text"] == (
        ":warning: *bad-dlq* could not be read: AWS refused reading: AccessDenied: &lt;no&gt;"
    )
    assert blocks[5]["text"]["text"].startswith("*fine-dlq*")
    assert "- bad-dlq: could not be read" in rendered.message.text


def test_mrkdwn_in_labels_is_escaped() -> None:
    status = DlqStatus(
        name="a-dlq",
        depth=1,
        figures=_figures(error_groups=(ErrorGroup("<!channel> `x` & y", 1, True),)),
    )
    section = render_report(_report(status)).message.blocks[4]["text"]["text"]
    # A backtick shows as ˋ inside code, where mrkdwn has no escape for it (bot.slack.mrkdwn)
    assert "• `&lt;!channel&gt; ˋxˋ &amp; y` ×1" in section


def test_quiet_dlqs_are_named_only() -> None:
    rendered = render_report(
        _report(
            DlqStatus(name="busy-dlq", depth=2, figures=_figures()),
            DlqStatus(name="calm-dlq", depth=0),
        )
    )
    context = rendered.message.blocks[2]["elements"][0]["text"]
    assert context == "Yesterday = 2026-03-10 in Asia/Seoul · quiet: calm-dlq"
    assert "calm-dlq" not in rendered.message.blocks[4]["text"]["text"]


def test_builder_link_carries_the_blocks() -> None:
    blocks = render_report(_report(DlqStatus(name="a-dlq", depth=1))).message.blocks
    url = builder_url(blocks)
    assert url.startswith("https://app.slack.com/block-kit-builder#")
    payload = urllib.parse.unquote(url.split("#", 1)[1])
    assert json.loads(payload) == {"blocks": blocks}


def test_blocks_as_text_is_readable() -> None:
    blocks = render_report(_report(DlqStatus(name="a-dlq", depth=1))).message.blocks
    text = blocks_as_text(blocks)
    # The header names the day reported on and when the report was made (issue 10, item 16)
    assert text.startswith(
        "DLQ report for Tue 10 Mar 2026 · as of Wed 11 Mar 15:00 (Asia/Seoul)\n=========="
    )
    assert "[ Redrive 2026-03-10… ] [ Peek ]" in text


def test_continuation_reply_counts_the_final_result() -> None:
    [message] = render_continuation(
        DAY,
        {"b-dlq": AutoRedrive(moved=10, failed=2), "a-dlq": AutoRedrive(error="gone")},
        3,
        final=True,
    )
    assert message.text.splitlines() == [
        "Auto-redrive of 2026-03-10 finished after 3 invocations:",
        "• a-dlq: failed: gone",
        "• b-dlq: 10 moved back, 2 failed (left in the DLQ)",
    ]


def test_an_unconfirmed_auto_redrive_reads_as_may_have_been_delivered_never_failed() -> None:
    # Given an auto-redrive whose send answers were lost for 10 messages, 2 held back behind them
    redrive = AutoRedrive(moved=4, unconfirmed=10, held_back=2)
    status = DlqStatus(name="orders-dlq", depth=12, redrive=redrive, sources=("orders",))
    # When the report and the thread's final count are rendered
    report = json.dumps(render_report(_report(status)).message.blocks)
    [reply] = render_continuation(DAY, {"orders-dlq": redrive}, 2, final=True)
    # Then both say they may have been delivered and were left in the DLQ, and neither says failed
    for text in (report, reply.text):
        assert (
            "10 may have been delivered (the answer to their delivery was lost; left in the DLQ)"
            in text
        )
        assert "2 held back behind an earlier message of their FIFO group" in text
        assert "failed" not in text


def test_an_auto_redrive_says_what_it_held_back_did_not_attempt_and_could_not_see() -> None:
    # Given a FIFO auto-redrive that moved 3, held 5 back behind a message of their group that did
    # not move, stopped before sending 4 it had selected, and held messages of 2 groups (SQS then
    # hands out none of their later messages)
    redrive = AutoRedrive(moved=3, failed=1, held_back=5, not_attempted=4, blocked_groups=2)
    status = DlqStatus(name="orders-dlq.fifo", depth=12, redrive=redrive, sources=("orders.fifo",))

    # When the report and the thread's final count are rendered
    report = blocks_as_text(render_report(_report(status)).message.blocks)
    [reply] = render_continuation(DAY, {"orders-dlq.fifo": redrive}, 2, final=True)

    # Then both say each of them, in words that are true of what happened
    for text in (report, reply.text):
        assert (
            "5 held back behind an earlier message of their FIFO group that did not move "
            "(left in the DLQ)"
        ) in text
        assert (
            "4 selected but not sent: the run stopped before it got to them (left in the DLQ)"
        ) in text
        assert (
            "could not see past held messages of 2 FIFO groups (any later messages of those "
            "groups were not looked at and stay in the DLQ)"
        ) in text


def test_an_auto_redrive_that_left_nothing_behind_says_nothing_of_it() -> None:
    redrive = AutoRedrive(moved=3)
    status = DlqStatus(name="orders-dlq", depth=0, redrive=redrive, sources=("orders",))
    report = blocks_as_text(render_report(_report(status)).message.blocks)
    [reply] = render_continuation(DAY, {"orders-dlq": redrive}, 2, final=True)
    for text in (report, reply.text):
        assert "held back" not in text and "not sent" not in text and "FIFO" not in text
