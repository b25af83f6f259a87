"""The daily report's records survive JSON: continuation events and the kept report."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.daily.codec import from_json, to_json
from bot.daily.events import Continuation, parse_event
from bot.daily.figures import ErrorGroup, SampleFigures
from bot.daily.report import AutoRedrive, DailyReport, DlqStatus

NOW = datetime(2026, 3, 11, 6, tzinfo=UTC)


def _figures() -> SampleFigures:
    fields = {name: 0 for name in SampleFigures.__dataclass_fields__ if name not in ("capped",)} | {
        "sampled": 1000,
        "capped": True,
        "oldest_sent": NOW - timedelta(days=2),
        "error_groups": (ErrorGroup("Timeout <!channel>", 7, True),),
    }
    return SampleFigures(**fields)  # type: ignore[arg-type]


def test_a_whole_report_round_trips_through_json() -> None:
    # Given a report with every kind of field: dates, nested records, optionals, tuples
    report = DailyReport(
        day=date(2026, 3, 10),
        timezone="Asia/Seoul",
        generated_at=NOW,
        dlqs=(
            DlqStatus(
                name="orders-dlq",
                depth=3,
                depth_before=9,
                previous_depth=2,
                figures=_figures(),
                redrive=AutoRedrive(moved=6, failed=1, continuing=True),
                trend=(None, 1, 2, None, 4, 5, 3),
                sources=("orders",),
            ),
            DlqStatus(name="gone-dlq", error="unknown DLQ 'gone-dlq'"),
        ),
        previous_day=date(2026, 3, 9),
        total_trend=(1, None, 3),
        auto_redrive_names=("orders-dlq",),
        warnings=("AUTO_REDRIVE names x, not watched DLQs: skipped",),
    )

    # When it is encoded as JSON text and decoded again
    decoded = from_json(DailyReport, json.loads(json.dumps(to_json(report))))

    # Then it is the same report
    assert decoded == report


def test_a_continuation_event_carries_every_count_of_an_auto_redrive() -> None:
    # Given an auto-redrive that left messages behind for every reason it has
    redrive = AutoRedrive(
        moved=3,
        failed=1,
        unconfirmed=2,
        held_back=5,
        not_attempted=4,
        blocked_groups=6,
        needs_human=7,
        no_source=8,
        unreadable_time=9,
        outside=10,
        continuing=True,
    )
    work = Continuation(
        scheduled=NOW,
        day=date(2026, 3, 10),
        queues=("orders-dlq.fifo",),
        invocation=2,
        channel="C1",
        thread_ts="1.2",
        results={"orders-dlq.fifo": redrive},
    )

    # When it travels to the next invocation as a JSON event
    event = json.loads(json.dumps(work.to_event()))

    # Then the next invocation reads every count back
    assert parse_event(event) == work


def test_an_older_event_without_newer_fields_takes_the_defaults() -> None:
    assert from_json(AutoRedrive, {"moved": 4, "error": None, "retired": 1}) == AutoRedrive(moved=4)


@pytest.mark.parametrize("data", [{"moved": "four"}, {"moved": True}, {"continuing": 1}, [1]])
def test_data_of_the_wrong_shape_is_refused(data: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        from_json(AutoRedrive, data)
