"""Figures of one DLQ from a sample of its messages: pure functions, no server."""

from __future__ import annotations

import json
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.daily.events import Continuation, ScheduledRun, parse_event
from bot.daily.figures import (
    MAX_LABEL,
    FigureCounter,
    body_fingerprint,
    error_label,
    group_errors,
    sample_figures,
)
from bot.selection import day_window, yesterday
from bot.sqs_model import ReceivedMessage

SEOUL = ZoneInfo("Asia/Seoul")
MARCH_10_SEOUL = day_window(datetime(2026, 3, 10).date(), SEOUL)


def _message(
    body: str = "{}",
    *,
    sent: datetime | None = None,
    attributes: dict[str, Any] | None = None,
    n: int = 0,
) -> ReceivedMessage:
    system = {"SentTimestamp": str(int(sent.timestamp() * 1000))} if sent else {}
    return ReceivedMessage(f"m{n}", f"h{n}", body, system, attributes or {})


def test_json_bodies_of_one_shape_share_a_fingerprint_whatever_their_values() -> None:
    # Given bodies with the same keys and types but different values, and one of another shape
    a = body_fingerprint(json.dumps({"order": {"id": 1, "lines": [1, 2]}, "error": "late"}))
    b = body_fingerprint(json.dumps({"error": "other", "order": {"id": 99, "lines": [3]}}))
    c = body_fingerprint(json.dumps({"order": {"id": "A1"}, "error": "late"}))

    # Then the first two are one group and the third another
    assert a == b == "json {error:str, order:{id:num, lines:[num]}}"
    assert c != a


def test_text_bodies_group_with_numbers_and_ids_masked() -> None:
    # Given two texts that differ only in numbers and ids
    a = body_fingerprint("order 123 failed at 2026-03-10 (id 0b7f4f0e-5f2b-4d6c-9a59-1c2e3f4a5b6c)")
    b = body_fingerprint("order 9 failed at 2026-03-11 (id 11111111-2222-3333-4444-555555555555)")

    # Then they are one group
    assert a == b == "text order <n> failed at <n> (id <id>)"
    assert body_fingerprint("   ") == "text (empty)"
    assert body_fingerprint("{not json").startswith("text {not json")


def test_the_error_attribute_wins_over_the_body_when_present() -> None:
    # Given one message with the error attribute and one without
    with_attr = _message(
        '{"a": 1}', attributes={"error": {"DataType": "String", "StringValue": " Time\nout "}}
    )
    without = _message('{"a": 1}')

    # Then the attribute's value (whitespace tidied) labels the first, the shape the second
    assert error_label(with_attr, "error") == ("Time out", True)
    assert error_label(without, "error") == ("json {a:num}", False)
    assert error_label(with_attr, None) == ("json {a:num}", False)


def test_top_groups_are_ranked_and_the_rest_counted() -> None:
    labels = [("a", True)] * 3 + [("b", True)] * 5 + [("c", True)] * 1 + [("d", True)] * 1
    groups, other = group_errors(labels, top=3)
    assert [(g.label, g.count) for g in groups] == [("b", 5), ("a", 3), ("c", 1)]
    assert other == 1


def test_groups_cut_at_the_label_length_never_look_the_same() -> None:
    # Given two JSON shapes that differ only after the 80th character, and two error attribute
    # values that do the same
    keys = {f"field_{n:02d}": "x" for n in range(12)}
    shape_a = body_fingerprint(json.dumps({**keys, "zz": 1}))
    shape_b = body_fingerprint(json.dumps({**keys, "zz": "one"}))
    long_error = "PaymentGatewayTimeout: upstream did not answer within the configured budget of "
    labels = [
        (shape_a, False),
        (shape_b, False),
        (long_error + "30 s", True),
        (long_error + "60 s", True),
    ]
    assert shape_a[:MAX_LABEL] == shape_b[:MAX_LABEL] and shape_a != shape_b

    # When they are grouped
    groups, other = group_errors(labels, top=4)

    # Then four groups show four different labels, each within the label length
    shown = [g.label for g in groups]
    assert len(set(shown)) == 4 and other == 0
    assert all(len(label) <= MAX_LABEL for label in shown)
    # And the same group always gets the same label (a stable hash, not a counter)
    again, _ = group_errors(list(reversed(labels)), top=4)
    assert sorted(g.label for g in again) == sorted(shown)


def test_an_attribute_value_that_reads_like_a_body_shape_is_a_different_label() -> None:
    # Given an ERROR_ATTRIBUTE value that is exactly the text of a body-shape label
    groups, _ = group_errors([("json {a:num}", False), ("json {a:num}", True)])

    # Then the two groups still read differently
    assert len({g.label for g in groups}) == 2


@settings(max_examples=300, deadline=None)
@given(
    labels=st.lists(
        st.tuples(
            # long shared prefixes, a few letters after them, and the texts a tag looks like
            st.sampled_from(["", "x" * 79, "x" * 72 + "… #", "json {a:num}"]).flatmap(
                lambda head: st.text("ab#… 0123456789", max_size=12).map(head.__add__)
            ),
            st.booleans(),
        ),
        unique=True,
        max_size=6,
    )
)
def test_different_groups_always_show_different_labels(labels: list[tuple[str, bool]]) -> None:
    groups, _ = group_errors(labels, top=len(labels))
    shown = [g.label for g in groups]
    assert len(set(shown)) == len(shown) == len(labels)
    assert all(len(text) <= MAX_LABEL for text in shown)


def test_the_counter_keeps_a_short_label_per_group_never_a_whole_value() -> None:
    # Given 100 messages whose error attribute values are all different and 64 KiB long
    counter = FigureCounter(
        yesterday=MARCH_10_SEOUL, tz=SEOUL, max_redrives=3, error_attribute="error"
    )
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(100):
            value = f"{n:03d} " + "e" * 64 * 1024
            counter.add(
                _message(attributes={"error": {"DataType": "String", "StringValue": value}}, n=n)
            )
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()

    # Then the counter holds about a label's length per group (6.4 MB if it kept the values)
    assert kept < 100 * 1024
    figures = counter.figures()
    assert figures.sampled == 100 and len(figures.error_groups) == 3
    assert figures.other_errors == 97
    assert all(len(group.label) <= MAX_LABEL for group in figures.error_groups)


def test_sample_figures_count_yesterday_in_the_time_zone_poison_and_oldest() -> None:
    # Given messages sent just before, at, and after the edges of 10 March in Seoul
    tz = SEOUL
    start = datetime(2026, 3, 10, tzinfo=tz)
    messages = [
        _message(sent=start - timedelta(seconds=1), n=1),
        _message(sent=start, n=2),
        _message(sent=start + timedelta(hours=23, minutes=59, seconds=59), n=3),
        _message(sent=start + timedelta(days=1), n=4),
        _message(
            sent=start + timedelta(hours=5),
            attributes={"dlq-redrive-count": {"DataType": "Number", "StringValue": "3"}},
            n=5,
        ),
    ]

    # When figures are computed with MAX_REDRIVES 3
    figures = sample_figures(
        messages, yesterday=MARCH_10_SEOUL, tz=tz, max_redrives=3, error_attribute=None
    )

    # Then three arrived on 10 March (Seoul), one is poison, and the oldest is the first
    assert figures.arrived_yesterday == 3
    assert figures.poison == 1
    assert figures.oldest_sent == start - timedelta(seconds=1)
    assert figures.oldest_age(start + timedelta(days=2)) == timedelta(days=2, seconds=1)
    assert figures.sampled == 5 and not figures.capped


def test_a_sample_knows_whether_it_saw_the_whole_dlq_and_yesterdays_poison() -> None:
    # Given a poison message of yesterday, a poison one of the day before, and a plain one
    start = datetime(2026, 3, 10, tzinfo=SEOUL)
    poison = {"dlq-redrive-count": {"DataType": "Number", "StringValue": "3"}}
    messages = [
        _message(sent=start + timedelta(hours=1), attributes=poison, n=1),
        _message(sent=start - timedelta(hours=1), attributes=poison, n=2),
        _message(sent=start + timedelta(hours=2), n=3),
    ]
    options: dict[str, Any] = {
        "yesterday": MARCH_10_SEOUL,
        "tz": SEOUL,
        "max_redrives": 3,
        "error_attribute": None,
    }

    # When they are the whole DLQ, or 3 of its 5 (two were in flight), or a capped sample
    whole = sample_figures(messages, **options, population=3)
    partial = sample_figures(messages, **options, population=5)
    capped = sample_figures(messages, **options, capped=True, population=3)

    # Then poison is counted for every day and for yesterday apart, and only the first is whole
    assert (whole.poison, whole.poison_yesterday, whole.arrived_yesterday) == (2, 1, 2)
    assert whole.whole and not partial.whole and not capped.whole


def test_sample_figures_by_body_time_field_count_unreadable_times() -> None:
    messages = [
        _message(json.dumps({"at": "2026-03-10T12:00:00+09:00"}), n=1),
        _message(json.dumps({"at": "2026-03-11T00:00:00+09:00"}), n=2),
        _message(json.dumps({"other": 1}), n=3),
        _message("not json", n=4),
    ]
    figures = sample_figures(
        messages,
        yesterday=MARCH_10_SEOUL,
        tz=SEOUL,
        max_redrives=3,
        error_attribute=None,
        time_field="at",
    )
    assert figures.arrived_yesterday == 1
    assert figures.unreadable_time == 2
    assert figures.oldest_sent is None


def test_yesterday_follows_the_scheduled_time_not_the_utc_date() -> None:
    # 06:00 in Seoul on 11 March is still 10 March in UTC
    scheduled = parse_event({"time": "2026-03-10T21:00:00Z"})
    assert isinstance(scheduled, ScheduledRun)
    assert scheduled.scheduled == datetime(2026, 3, 10, 21, tzinfo=UTC)
    assert yesterday(scheduled.scheduled, SEOUL).isoformat() == "2026-03-10"
    assert yesterday(scheduled.scheduled, ZoneInfo("UTC")).isoformat() == "2026-03-09"


def test_a_continuation_survives_its_round_trip_through_json() -> None:
    first = parse_event({"time": "2026-03-10T21:00:00Z"})
    assert isinstance(first, ScheduledRun)
    event = {
        "dlq_redrive_daily": "continue",
        "time": "2026-03-10T21:00:00+00:00",
        "day": "2026-03-10",
        "queues": ["a-dlq"],
        "invocation": 2,
        "channel": "C1",
        "thread_ts": "1.2",
        "results": {"a-dlq": {"moved": 5, "failed": 1}},
    }
    parsed = parse_event(json.loads(json.dumps(event)))
    assert isinstance(parsed, Continuation)
    assert parsed.to_event()["results"]["a-dlq"]["moved"] == 5
    assert parse_event(parsed.to_event()) == parsed
    assert parsed.idempotency_key != first.idempotency_key
