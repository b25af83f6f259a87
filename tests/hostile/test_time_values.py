"""Whatever a message's time field holds, reading it gives an instant or "time unreadable":
never an exception that stops a redrive or the daily report (issue 10, item 4)."""

from __future__ import annotations

import io
import json
from datetime import UTC, date
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.cli import main
from bot.selection import (
    Selection,
    UnreadableTimeError,
    Verdict,
    day_window,
    judge,
    time_from_value,
)
from bot.sqs_model import ReceivedMessage
from infra.local.moto_server import LocalAws
from infra.local.scene import create_pair, drain, put_in_dlq

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

ZONES = st.sampled_from(["UTC", "Asia/Seoul", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
# Integers up to 1,000 digits (Python refuses to print more than 4,300 by default, and so does
# json.dumps), floats including inf and nan, and text that looks like a time at the edges.
NUMBERS = st.integers() | st.integers(min_value=-(10**1000), max_value=10**1000) | st.floats()
TIME_TEXT = (
    st.datetimes().map(lambda d: d.isoformat())
    | st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat())
    | st.dates().map(lambda d: d.isoformat())
    | st.text(max_size=40)
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | NUMBERS | TIME_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


@settings(max_examples=500, deadline=None)
@given(value=JSON_VALUES, zone=ZONES)
@example(value=10**399, zone="UTC")
@example(value=-(10**399), zone="UTC")
@example(value=10**5000, zone="UTC")  # past the 4,300 digits str() accepts
@example(value=float("inf"), zone="UTC")
@example(value="0001-01-01T00:00:00", zone="Asia/Seoul")
@example(value="0001-01-01", zone="Pacific/Kiritimati")
@example(value="9999-12-31T23:59:59-12:00", zone="UTC")
@example(value=253402300800, zone="UTC")  # 10000-01-01 in epoch seconds
def test_any_json_value_is_an_instant_or_unreadable(value: Any, zone: str) -> None:
    # Given any JSON value in a message's time field, read in any time zone
    tz = ZoneInfo(zone)

    # When it is read as a time
    try:
        instant = time_from_value(value, tz)
    except UnreadableTimeError:
        return  # a clear "time unreadable": the only refusal allowed

    # Then it is an aware instant that every later step can use: compare, shift, show
    assert instant.utcoffset() is not None
    assert instant.astimezone(UTC).tzinfo is UTC
    day_window(date(2026, 11, 24), tz).contains(instant)


@settings(max_examples=300, deadline=None)
@given(value=JSON_VALUES, zone=ZONES)
@example(value=10**399, zone="UTC")
def test_judging_any_time_field_gives_a_verdict(value: Any, zone: str) -> None:
    # Given a message whose JSON body carries any value in its time field
    tz = ZoneInfo(zone)
    message = ReceivedMessage("m1", "h1", json.dumps({"at": value}), {}, {})
    selection = Selection(window=day_window(date(2026, 11, 24), tz), time_field="at")

    # When a redrive judges it, then it gets a verdict (never an exception)
    verdict = judge(message, selection, tz, max_redrives=3)
    assert verdict in set(Verdict)


def test_redrive_by_time_field_counts_a_400_digit_time_as_unreadable_and_moves_the_rest(
    aws: LocalAws, sqs: SQSClient
) -> None:
    # Given a DLQ with two events of 24 November, one of the 23rd, and one whose time field is
    # a 400-digit integer
    good = [json.dumps({"at": "2026-11-24T09:00:00Z", "n": n}) for n in range(2)]
    other_day = json.dumps({"at": "2026-11-23T09:00:00Z"})
    huge = '{"at": ' + "9" * 400 + "}"
    pair = create_pair(sqs, "events")
    put_in_dlq(sqs, pair, [*good, other_day, huge])

    # When the CLI redrives 24 November by that field
    out, err = io.StringIO(), io.StringIO()
    status = main(
        ["--json", "redrive", pair.dlq_name, "--time-field", "at", "--date", "2026-11-24"],
        env={**aws.env, "TIMEZONE": "UTC"},
        out=out,
        err=err,
    )

    # Then it finished normally: the huge one counted as unreadable and left, the others moved
    assert "Traceback" not in err.getvalue() and "OverflowError" not in err.getvalue()
    assert status == 0, err.getvalue()
    report = json.loads(out.getvalue())
    assert report["moved"] == 2 and report["complete"] is True
    assert report["skipped_detail"]["unreadable_time"] == 1
    assert report["skipped_detail"]["out_of_window"] == 1
    assert sorted(m["Body"] for m in drain(sqs, pair.source_url)) == sorted(good)
    assert sorted(m["Body"] for m in drain(sqs, pair.dlq_url)) == sorted([other_day, huge])


def test_the_sent_time_of_any_message_is_read_or_unreadable() -> None:
    # Given SentTimestamps a broken producer or stand-in could hand back, past year 9999
    utc = ZoneInfo("UTC")
    far = ReceivedMessage("m1", "h1", "{}", {"SentTimestamp": "9" * 30}, {})
    selection = Selection(window=day_window(date(2026, 11, 24), utc))

    # When it is judged by sent time, then its time is unreadable, not a crash
    assert judge(far, selection, utc, max_redrives=3) is Verdict.UNREADABLE_TIME
