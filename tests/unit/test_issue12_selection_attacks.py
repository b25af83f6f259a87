"""Attacks on "--error and --where select exactly their messages" (issue 12), and on the expiry
figures. Pure: the report's own grouping (``bot.daily.figures``) against ``judge``.

- An ERROR_ATTRIBUTE value can read exactly like a body-shape label ("text order <n> failed"):
  the report counts two groups, so their digests (what its buttons carry) must differ, and each
  must select its own messages only.
- Labels with odd whitespace and unicode select what the report counted.
- ``--where`` on JSON types (500 vs "500", true vs 1, null, missing), nested arrays, Binary
  attributes, values holding ``=``.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.daily.figures import group_errors
from bot.error_groups import error_label, label_digest
from bot.errors import UsageError
from bot.expiry import (
    ExpiryCounter,
    describe_next_expiry,
    expiring,
    expiring_before,
    next_expiry,
    next_report_at,
    until_value,
)
from bot.selection import Verdict, build_selection, judge, parse_instant
from bot.sqs_model import ReceivedMessage

UTC_ZONE = ZoneInfo("UTC")
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
ERROR = "error"


def msg(
    body: str = "{}", mid: str = "m1", sent_ms: int | None = 1764000000000, **attrs: object
) -> ReceivedMessage:
    """A message; ``name=value`` String attributes, or ``name=("Binary", bytes)``."""
    message_attributes: dict[str, dict[str, object]] = {}
    for name, value in attrs.items():
        if isinstance(value, tuple):
            message_attributes[name] = {"DataType": value[0], "BinaryValue": value[1]}
        else:
            message_attributes[name] = {"DataType": "String", "StringValue": value}
    system = {} if sent_ms is None else {"SentTimestamp": str(sent_ms)}
    return ReceivedMessage(mid, f"h-{mid}", body, system, message_attributes)


def selects(message: ReceivedMessage, **options: object) -> bool:
    selection = build_selection(tz=UTC_ZONE, now=NOW, error_attribute=ERROR, **options)  # type: ignore[arg-type]
    return judge(message, selection, UTC_ZONE, max_redrives=5) is Verdict.SELECT


def chosen(messages: list[ReceivedMessage], **options: object) -> set[str]:
    return {m.message_id for m in messages if selects(m, **options)}


# --- --error: the report's groups, exactly ------------------------------------------------------


def report_groups(messages: list[ReceivedMessage]):  # type: ignore[no-untyped-def]
    groups, _ = group_errors((error_label(m, ERROR) for m in messages), top=10)
    return groups


def test_an_attribute_value_reading_like_a_body_shape_is_a_group_of_its_own() -> None:
    # Given text bodies "order N failed" without the error attribute (body group
    # "text order <n> failed"), and messages whose ERROR_ATTRIBUTE is that very text
    body_label = error_label(msg("order 1 failed"), ERROR)[0]
    assert body_label == "text order <n> failed"
    bodies = [msg(f"order {i} failed", mid=f"b{i}") for i in range(3)]
    forged = [msg("{}", mid=f"a{i}", error=body_label) for i in range(2)]
    everything = bodies + forged
    # When the report groups them: two groups of one label
    groups = report_groups(everything)
    assert sorted(g.count for g in groups) == [2, 3]
    by_kind = {g.by_attribute: g for g in groups}
    # Then their digests differ, and each digest (a button's value) selects its group only
    assert by_kind[True].digest != by_kind[False].digest
    assert chosen(everything, error=by_kind[False].digest) == {"b0", "b1", "b2"}
    assert chosen(everything, error=by_kind[True].digest) == {"a0", "a1"}
    # and the label as typed is the body's group (its form says so), never both
    assert chosen(everything, error=body_label) == {"b0", "b1", "b2"}
    # and the report never shows the attribute group as that bare label
    assert by_kind[True].label != body_label


def test_an_attribute_group_reading_like_a_body_shape_alone_is_shown_with_its_digest() -> None:
    # Given only the attribute group (no body of that shape): the report still tags it, so
    # what it shows is never a label that --error would read as the body's group
    forged = [msg("{}", mid=f"a{i}", error="json {id:num}") for i in range(2)]
    (group,) = report_groups(forged)
    assert group.label == "json {id:num} " + group.digest[:7]
    assert chosen(forged, error=group.digest) == {"a0", "a1"}


def test_a_plain_attribute_labels_digest_is_unchanged() -> None:
    # Labels that cannot be mistaken for a body shape keep the digest of their text alone
    # (what buttons already posted carry)
    assert label_digest("Timeout") == label_digest("Timeout", by_attribute=True)
    (group,) = report_groups([msg("{}", error="Timeout")])
    assert group.digest == label_digest("Timeout") and group.label == "Timeout"


@pytest.mark.parametrize(
    ("value", "typed"),
    [
        ("Time\u00a0\u00a0out\n", "Time out"),  # no-break spaces and a newline
        ("  Zeitüberschreitung ", "Zeitüberschreitung"),
        ("タイムアウト\u3000発生", "タイムアウト 発生"),  # ideographic space
        ("e\u0301rror", "e\u0301rror"),  # a combining accent is kept as written
    ],
)
def test_labels_with_odd_whitespace_and_unicode_select_what_the_report_counted(
    value: str, typed: str
) -> None:
    messages = [msg("{}", mid="x", error=value), msg("{}", mid="y", error="other")]
    (group,) = [g for g in report_groups(messages) if g.count == 1 and g.label != "other"]
    assert chosen(messages, error=typed) == {"x"}
    assert chosen(messages, error=group.digest) == {"x"}
    assert chosen(messages, error=group.label) == {"x"}


def test_a_label_that_looks_like_a_digest_is_read_as_a_digest() -> None:
    # An attribute value "#" + 12 hex is read as a digest by --error: it selects the group
    # whose digest that is, and the report shows that group's own digest beside it to use
    victim = msg("{}", mid="v", error="Timeout")
    lookalike = msg("{}", mid="l", error=label_digest("Timeout"))
    both = [victim, lookalike]
    assert chosen(both, error=label_digest("Timeout")) == {"v"}
    assert chosen(both, error=label_digest(label_digest("Timeout"))) == {"l"}
    # and the report never shows the look-alike as a bare label a reader could type to select
    # the victim's group: it is tagged with the start of its own digest
    shown = {g.digest: g.label for g in report_groups(both)}
    lookalike_label = shown[label_digest(label_digest("Timeout"))]
    assert lookalike_label != label_digest("Timeout")
    assert chosen(both, error=lookalike_label) == set()


# --- --where ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "where", "hit"),
    [
        ('{"status": 500}', "status=500", True),
        ('{"status": "500"}', "status=500", True),  # a text field matches VALUE as written
        ('{"status": 500}', 'status="500"', False),  # a quoted VALUE is text only
        ('{"status": 500.0}', "status=500", True),
        ('{"ok": true}', "ok=1", False),
        ('{"ok": 1}', "ok=true", False),
        ('{"ok": true}', "ok=true", True),
        ('{"v": null}', "v=null", True),
        ("{}", "v=null", False),  # missing is not null
        ('{"v": "null"}', "v=null", True),
        ('{"a": {"b": [1, {"c": "x"}]}}', "a.b.1.c=x", True),
        ('{"a": {"b": [1, {"c": "x"}]}}', "a.b.2.c=x", False),
        ('{"a": [1, 2]}', "a=[1,2]", True),
        ('{"a": [1, 2]}', "a=[2,1]", False),
        ('{"a": [true]}', "a=[1]", False),
        ('{"q": "a=b=c"}', "q=a=b=c", True),  # split at the first =
        ('{"my key": "v"}', "my key=v", True),
        ('{"k": "  v "}', "k=  v ", True),  # VALUE is taken as written
        ('{"k": "v"}', "k= v", False),
        ("not json", "k=v", False),
        ('{"n": 12345678901234567890}', "n=12345678901234567890", True),
    ],
)
def test_where_compares_json_types_exactly(body: str, where: str, hit: bool) -> None:
    assert selects(msg(body), where=(where,)) is hit


def test_where_on_attributes_compares_string_values_only() -> None:
    binary = msg("{}", blob=("Binary", b"500"))
    text = msg("{}", blob="500")
    number = msg("{}")
    number.message_attributes["n"] = {"DataType": "Number", "StringValue": "500.0"}
    assert not selects(binary, where=("attr.blob=500",))
    assert not selects(binary, where=(f"attr.blob={base64.b64encode(b'500').decode()}",))
    assert selects(text, where=("attr.blob=500",))
    assert selects(number, where=("attr.n=500.0",)) and not selects(number, where=("attr.n=500",))
    assert not selects(text, where=("attr.missing=",))  # absent is not empty
    assert selects(msg("{}", e=""), where=("attr.e=",))


@pytest.mark.parametrize("text", ["=v", "a..b=1", "a. b=1", "attr.=x", "novalue", "a.=1"])
def test_a_where_path_that_cannot_name_a_field_is_refused(text: str) -> None:
    with pytest.raises(UsageError):
        build_selection(tz=UTC_ZONE, now=NOW, where=(text,))


def test_every_where_must_hold() -> None:
    m = msg(json.dumps({"a": 1, "b": "x"}), kind="k")
    assert selects(m, where=("a=1", "b=x", "attr.kind=k"))
    assert not selects(m, where=("a=1", "b=y"))


# --- expiry: every number true against seeded messages -----------------------------------------

DAY = 86_400


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


@pytest.mark.parametrize(
    ("zone", "scheduled", "following"),
    [
        # Europe/Berlin leaves summer time on 2026-10-25: 06:00 +02:00 -> 06:00 +01:00 (25 h)
        ("Europe/Berlin", "2026-10-24T06:00:00+02:00", "2026-10-25T06:00:00+01:00"),
        # New York enters summer time on 2026-03-08: 23 hours
        ("America/New_York", "2026-03-07T06:00:00-05:00", "2026-03-08T06:00:00-04:00"),
        ("Asia/Tokyo", "2026-11-24T06:00:00+09:00", "2026-11-25T06:00:00+09:00"),
        ("Australia/Lord_Howe", "2026-10-03T06:00:00+10:30", "2026-10-04T06:00:00+11:00"),
    ],
)
def test_what_expires_before_the_next_report_is_counted_exactly_across_dst(
    zone: str, scheduled: str, following: str
) -> None:
    tz = ZoneInfo(zone)
    retention = 4 * DAY
    next_report = next_report_at(at(scheduled), tz)
    assert next_report == at(following)
    until = expiring_before(next_report, retention)
    # Messages sent one millisecond either side of the bound, and one long before
    just_in = until - timedelta(milliseconds=1)
    counter = ExpiryCounter(retention, until)
    for mid, sent in (("in", just_in), ("out", until), ("old", until - timedelta(days=2))):
        counter.add(msg(mid=mid, sent_ms=ms(sent)))
    figures = expiring(counter.scan())
    assert figures is not None and figures.count == 2 and figures.exact
    # SQS deletes each at sent + retention: those two before the next report, not the third
    assert just_in + timedelta(seconds=retention) < next_report
    assert until + timedelta(seconds=retention) == next_report
    # The button's --until, read back in the zone, selects exactly the two counted
    text = until_value(until, tz)
    bound = parse_instant(text, tz)
    selection = build_selection(tz=tz, now=NOW, until=text)
    seeded = [msg(mid=m, sent_ms=ms(s)) for m, s in (("in", just_in), ("out", until))]
    assert bound >= until
    assert [judge(m, selection, tz, max_redrives=5) for m in seeded] == [
        Verdict.SELECT,
        Verdict.OUT_OF_WINDOW,
    ]


def test_a_sub_millisecond_bound_is_rounded_so_the_button_selects_what_was_counted() -> None:
    tz = ZoneInfo("Asia/Kolkata")
    until = datetime(2026, 11, 20, 0, 0, 0, 400, tzinfo=UTC)  # 0.4 ms past a whole ms
    sent = datetime(2026, 11, 20, tzinfo=UTC)  # whole ms: sent < until, so counted
    counter = ExpiryCounter(DAY, until)
    counter.add(msg(sent_ms=ms(sent)))
    assert counter.expiring == 1
    selection = build_selection(tz=tz, now=NOW, until=until_value(until, tz))
    assert judge(msg(sent_ms=ms(sent)), selection, tz, max_redrives=5) is Verdict.SELECT


def test_retention_shortened_after_messages_arrived_applies_to_them() -> None:
    # AWS (SetQueueAttributes): changes to MessageRetentionPeriod "will impact existing
    # messages in the queue potentially causing them to be expired and deleted if the
    # MessageRetentionPeriod is reduced below the age of existing messages". The figures use
    # the DLQ's retention as read now, for every message, whenever it arrived.
    now = at("2026-11-25T06:00:00+00:00")
    sent = now - timedelta(days=3)
    long_kept, shortened = ExpiryCounter(14 * DAY, now), ExpiryCounter(2 * DAY, now)
    for counter in (long_kept, shortened):
        counter.add(msg(sent_ms=ms(sent)))
    assert next_expiry(long_kept.scan()).at == sent + timedelta(days=14)  # type: ignore[union-attr]
    # Retention cut to 2 days: a 3-day-old message is already past it (SQS deletes it now)
    assert next_expiry(shortened.scan()).at == sent + timedelta(days=2)  # type: ignore[union-attr]
    assert next_expiry(shortened.scan()).at < now  # type: ignore[union-attr]


def test_a_message_without_sent_timestamp_makes_the_figures_a_bound_and_says_why() -> None:
    counter = ExpiryCounter(4 * DAY, at("2026-11-25T06:00:00+00:00"))
    counter.add(msg(mid="dated", sent_ms=ms(at("2026-11-20T00:00:00+00:00"))))
    counter.add(msg(mid="undated", sent_ms=None))
    scan = counter.scan()
    assert scan.undated == 1 and not scan.exact
    figures = expiring(scan)
    assert figures is not None and not figures.exact and figures.count == 1
    text = describe_next_expiry(next_expiry(scan), ZoneInfo("UTC"))
    assert text.startswith("at the latest ")
    assert "1 without a SentTimestamp" in text


def test_next_expiry_of_a_partial_scan_is_a_bound_and_of_a_whole_one_exact() -> None:
    tz = ZoneInfo("Europe/Berlin")
    counter = ExpiryCounter(4 * DAY)
    counter.add(msg(sent_ms=ms(at("2026-10-24T23:30:00+00:00"))))
    whole = describe_next_expiry(next_expiry(counter.scan(population=1)), tz)
    partial = describe_next_expiry(next_expiry(counter.scan(capped=True, population=500)), tz)
    # 2026-10-28T23:30Z is 00:30 on the 29th in Berlin (+01:00 after the DST change)
    assert whole == "2026-10-29 00:30 +01:00"
    assert partial == "at the latest 2026-10-29 00:30 +01:00 (from 1 scanned of ~500)"
