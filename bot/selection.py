"""Which messages a redrive takes: pure functions over plain data, no I/O.

A ``Selection`` is a time window (half-open, ``[start, end)``, aware datetimes), the place the time
comes from (the message's SentTimestamp, or a field of its JSON body), an optional error group
(``--error``: the label the report shows, or its digest), conditions on the body's fields and the
message attributes (``--where PATH=VALUE``, all must hold), an optional limit, and an optional
``Pin``: what an approval approved (the messages a dry run counted), so that the approved run moves
those and no others. ``judge`` gives each received message a ``Verdict``; the engine acts on it.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.error_groups import in_error_group, is_label_digest
from bot.errors import UsageError
from bot.sqs_model import queue_name_from_arn

if TYPE_CHECKING:
    from bot.sqs_model import ReceivedMessage

REDRIVE_COUNT_ATTRIBUTE = "dlq-redrive-count"
# On the copies a run with a lineage sends (a canary): what tells its copies that came back.
LINEAGE_ATTRIBUTE = "dlq-redrive-lineage"
# A pin names at most this many counted messages (12 bytes each: 1.2 MB, stored in a few items
# of the approval's partition, bot/state_model.py); past it, only the pin's time bound holds.
PIN_MAX_IDS = 100_000
# 96 bits: a message not counted passes for one of 100,000 counted with odds below 1 in 10^23.
PIN_DIGEST_BYTES = 12


class Verdict(Enum):
    """What happens to one scanned message."""

    SELECT = "select"
    OUT_OF_WINDOW = "out_of_window"
    UNREADABLE_TIME = "unreadable_time"
    NEEDS_HUMAN = "needs_human"


@dataclass(frozen=True)
class TimeWindow:
    """A half-open interval of instants; ``None`` on a side means unbounded."""

    start: datetime | None = None
    end: datetime | None = None

    def contains(self, instant: datetime) -> bool:
        if self.start is not None and instant < self.start:
            return False
        return not (self.end is not None and instant >= self.end)

    def describe(self, tz: ZoneInfo) -> str:
        def fmt(value: datetime) -> str:
            return value.astimezone(tz).isoformat(timespec="seconds")

        if self.start and self.end:
            start_local, end_local = self.start.astimezone(tz), self.end.astimezone(tz)
            one_day = start_local.time() == time(0) and end_local - start_local <= timedelta(
                hours=25
            )
            if one_day and end_local.date() - start_local.date() == timedelta(days=1):
                return f"{start_local.date().isoformat()} ({tz.key})"
            return f"{fmt(self.start)} to {fmt(self.end)}"
        if self.start:
            return f"since {fmt(self.start)}"
        if self.end:
            return f"until {fmt(self.end)}"
        return "all messages"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def pin_digest(message_id: str) -> bytes:
    """A message id as a pin stores it: short and of fixed size, whatever SQS's ids look like."""
    return hashlib.sha256(message_id.encode("utf-8", "surrogatepass")).digest()[:PIN_DIGEST_BYTES]


@dataclass(frozen=True)
class Pin:
    """What an approval approved: the messages its dry run counted, so that later arrivals wait
    for a request of their own (a count's cap alone would take them instead of counted ones that
    someone else moved meanwhile).

    ``sent_before`` is the count's time: every counted message was sent before it.
    ``digests`` are the counted ids (``pin_digest``), or None when the count matched more than
    PIN_MAX_IDS; then only ``sent_before`` holds, which on a standard DLQ does not keep out a
    message dead-lettered after the count (it keeps its original SentTimestamp).
    """

    sent_before: datetime
    digests: frozenset[bytes] | None = None

    def __post_init__(self) -> None:
        if self.sent_before.tzinfo is None:  # compared with aware instants: fail here, not mid-run
            raise ValueError("Pin.sent_before must be an aware datetime")

    def admits(self, message: ReceivedMessage) -> bool:
        """Whether ``message`` is one of the pinned (one without a SentTimestamp cannot be
        shown to be: it is not)."""
        millis = message.sent_timestamp_ms
        # In whole microseconds, exact and total: no float rounding at the bound, and no
        # datetime to build from a SentTimestamp too large for one.
        since_epoch = self.sent_before - _EPOCH
        bound_us = (since_epoch.days * 86_400 + since_epoch.seconds) * 10**6
        if millis is None or millis * 1000 >= bound_us + since_epoch.microseconds:
            return False
        return self.digests is None or pin_digest(message.message_id) in self.digests

    def describe(self, tz: ZoneInfo) -> str:
        if self.digests is not None:
            counted = len(self.digests)
            return f"pinned to the {counted} counted message{'' if counted == 1 else 's'}"
        sent_before = self.sent_before.astimezone(tz).isoformat(timespec="seconds")
        return f"pinned to messages sent before {sent_before}"


class PinTally:
    """The digests of the message ids a dry run matched, for its ``Pin``: memory stays bounded,
    since past ``bound`` ids it keeps none (the pin then has no digests). Not thread-safe: the
    run calls it under its lock."""

    def __init__(self, bound: int = PIN_MAX_IDS) -> None:
        self._bound = bound
        self._digests: set[bytes] | None = set()

    def add(self, message_id: str) -> None:
        if self._digests is None:
            return
        self._digests.add(pin_digest(message_id))
        if len(self._digests) > self._bound:
            self._digests = None  # frees them: past the bound only the time bound is kept

    @property
    def digests(self) -> frozenset[bytes] | None:
        return None if self._digests is None else frozenset(self._digests)


@dataclass(frozen=True)
class Selection:
    """What a redrive (or a dry run) takes from a DLQ."""

    window: TimeWindow = TimeWindow()
    time_field: str | None = None
    limit: int | None = None
    pin: Pin | None = None  # set on an approved run: only what its count matched
    error: str | None = None  # --error: an error group's label, or its label_digest
    error_attribute: str | None = None  # ERROR_ATTRIBUTE: what names a message's error group
    where: tuple[tuple[str, str], ...] = ()  # --where: (PATH, VALUE) pairs, all must match
    # Only messages dead-lettered from these source queues (names; a message that names no
    # source is not judged by it): a canary's rest, to the consumers the canary tried.
    sources: frozenset[str] | None = None

    @property
    def filters_by_time(self) -> bool:
        return self.window.start is not None or self.window.end is not None

    def describe(self, tz: ZoneInfo) -> str:
        parts = [self.window.describe(tz)]
        if self.filters_by_time:
            parts.append(
                f"by body field {self.time_field!r}" if self.time_field else "by sent time"
            )
        if self.error is not None:
            parts.append(f"error group {self.error!r}")
        parts.extend(f"where {path}={value!r}" for path, value in self.where)
        if self.sources is not None:
            parts.append(f"from {', '.join(sorted(self.sources)) or 'no source'} only")
        if self.limit is not None:
            parts.append(f"at most {self.limit}")
        if self.pin is not None:
            parts.append(self.pin.describe(tz))
        return ", ".join(parts)


def day_window(day: date, tz: ZoneInfo) -> TimeWindow:
    """The calendar day ``day`` in ``tz`` (23 or 25 hours long on DST changes)."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return TimeWindow(start.astimezone(UTC), end.astimezone(UTC))


def yesterday(now: datetime, tz: ZoneInfo) -> date:
    """The calendar day before ``now`` in ``tz``."""
    return now.astimezone(tz).date() - timedelta(days=1)


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise UsageError(f"invalid date {text!r}: use YYYY-MM-DD, e.g. 2026-11-24") from exc


def parse_instant(text: str, tz: ZoneInfo) -> datetime:
    """An ISO 8601 instant; without an offset it is read in ``tz``."""
    raw = text.strip()
    try:
        value = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise UsageError(
            f"invalid time {text!r}: use ISO 8601, e.g. 2026-11-24T08:00:00+09:00"
        ) from exc
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


def build_selection(
    *,
    tz: ZoneInfo,
    now: datetime,
    yesterday_only: bool = False,
    day: str | None = None,
    since: str | None = None,
    until: str | None = None,
    time_field: str | None = None,
    limit: int | None = None,
    error: str | None = None,
    error_attribute: str | None = None,
    where: tuple[str, ...] = (),
) -> Selection:
    """Validate selection options as a user gave them; raise UsageError on any conflict."""
    ranges = [
        name
        for name, given in (
            ("--yesterday", yesterday_only),
            ("--date", day is not None),
            ("--since/--until", since is not None or until is not None),
        )
        if given
    ]
    if len(ranges) > 1:
        raise UsageError(f"{' and '.join(ranges)} cannot be combined; choose one time selection")
    if limit is not None and limit < 1:
        raise UsageError(f"--limit must be at least 1, got {limit}")
    if time_field is not None and not _valid_path(time_field):
        raise UsageError(f"--time-field {time_field!r} is not a dotted field path like meta.date")
    window = TimeWindow()
    try:
        if yesterday_only:
            window = day_window(yesterday(now, tz), tz)
        elif day is not None:
            window = day_window(parse_day(day), tz)
        elif since is not None or until is not None:
            start = parse_instant(since, tz) if since is not None else None
            end = parse_instant(until, tz) if until is not None else None
            if start is not None and end is not None and start >= end:
                raise UsageError(f"--since {since} is not before --until {until}")
            window = TimeWindow(start, end)
        window.describe(tz)  # the window is shown in TIMEZONE, so it must exist there too
    except OverflowError as exc:
        # e.g. --date 9999-12-31 (its end is in year 10000) or an instant near year 1 in TIMEZONE
        raise UsageError("that time selection reaches outside the years 1 to 9999") from exc
    if time_field is not None and window == TimeWindow():
        raise UsageError("--time-field needs a time selection (--yesterday, --date or --since)")
    return Selection(
        window=window,
        time_field=time_field,
        limit=limit,
        error=parse_error(error) if error is not None else None,
        error_attribute=error_attribute or None,
        where=tuple(parse_where(text) for text in where),
    )


def parse_error(text: str) -> str:
    """An ``--error`` as a label compares it: whitespace runs made one space, as the labels
    have them (a digest is kept as it is, in lower case)."""
    label = " ".join(text.split())
    if not label:
        raise UsageError("--error needs an error group's label (or its #digest) from the report")
    return label.lower() if is_label_digest(label.lower()) else label


def parse_where(text: str) -> tuple[str, str]:
    """``PATH=VALUE`` as (PATH, VALUE), split at the first ``=``; PATH is ``attr.NAME`` (a
    message attribute) or a dotted JSON body path like meta.status."""
    path, sep, value = text.partition("=")
    path = path.strip()
    if not sep or not path:
        raise UsageError(
            f"--where {text!r} is not PATH=VALUE (a body field like meta.status=500, "
            "or attr.NAME=VALUE for a message attribute)"
        )
    if path.startswith(ATTRIBUTE_PREFIX):
        if not path[len(ATTRIBUTE_PREFIX) :]:
            raise UsageError(f"--where {text!r} names no attribute after {ATTRIBUTE_PREFIX!r}")
    elif not _valid_path(path):
        raise UsageError(f"--where {text!r}: {path!r} is not a dotted field path like meta.status")
    return path, value


def _valid_path(path: str) -> bool:
    return bool(path) and all(part.strip() == part and part for part in path.split("."))


class UnreadableTimeError(ValueError):
    """The message's time cannot be read (not JSON, field missing, not a time)."""


# Epoch numbers at least this large are milliseconds (1e11 s is the year 5138; 1e11 ms is 1973).
_MILLIS_FROM = 10**11


def time_from_value(value: Any, tz: ZoneInfo) -> datetime:
    """Read a time from a JSON value: ISO 8601 text (a date alone is its midnight in ``tz``),
    or epoch seconds / milliseconds as a number.

    Total over whatever a message may hold: the answer is an aware instant that exists in UTC
    (so it can be compared, shifted and shown), or ``UnreadableTimeError``. One message with a
    400-digit number must cost one "time unreadable", never the whole run.
    """
    try:
        return _read_time(value, tz).astimezone(UTC)
    except UnreadableTimeError:
        raise
    except (OverflowError, OSError, ValueError) as exc:
        # Out of the years 1 to 9999 (before or after shifting to UTC), or beyond the platform's
        # clock: a value no calendar can place.
        raise UnreadableTimeError(f"{_preview(value)} is outside the years 1 to 9999") from exc


def _read_time(value: Any, tz: ZoneInfo) -> datetime:
    if isinstance(value, bool):
        raise UnreadableTimeError("a boolean is not a time")
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise UnreadableTimeError("not a finite number")
        # ``value / 1000`` on an int too large for a float raises OverflowError: caught above.
        return _from_epoch(value / 1000 if abs(value) >= _MILLIS_FROM else value)
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return datetime.combine(date.fromisoformat(text), time(0), tzinfo=tz)
            parsed = datetime.fromisoformat(text)
        except ValueError as exc:
            raise UnreadableTimeError(f"{_preview(value)} is not ISO 8601") from exc
        return parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed
    raise UnreadableTimeError(f"a {type(value).__name__} is not a time")


def _from_epoch(seconds: float) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise UnreadableTimeError(f"{_preview(seconds)} seconds is out of range") from exc


def _preview(value: Any, limit: int = 40) -> str:
    """``repr(value)`` short enough for an error line, whatever the value's size."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**limit:
        return f"a number of more than {limit} digits"  # str() refuses past 4,300 digits
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def field_value(body: str, path: str) -> Any:
    try:
        node: Any = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise UnreadableTimeError("body is not JSON") from exc
    return _walk(node, path)


def _walk(node: Any, path: str) -> Any:
    """The value at the dotted ``path`` in a decoded JSON document (a number is a list index)."""
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise UnreadableTimeError(f"field {path!r} is missing")
    return node


def message_time(message: ReceivedMessage, time_field: str | None, tz: ZoneInfo) -> datetime:
    """The instant a message is judged by: its SentTimestamp, or a field of its JSON body."""
    if time_field is None:
        millis = message.sent_timestamp_ms
        if millis is None:
            raise UnreadableTimeError("message has no SentTimestamp")
        return _from_epoch(millis / 1000)
    return time_from_value(field_value(message.body, time_field), tz)


ATTRIBUTE_PREFIX = "attr."
_NOT_JSON = object()
_UNREAD = object()


def _same(found: Any, wanted: Any) -> bool:
    """JSON equality: ``true`` is not ``1`` (Python's ``True == 1`` is), ``500`` is ``500.0``."""
    if isinstance(found, bool) or isinstance(wanted, bool):
        return isinstance(found, bool) and isinstance(wanted, bool) and found == wanted
    if isinstance(found, dict) and isinstance(wanted, dict):
        return found.keys() == wanted.keys() and all(_same(found[k], wanted[k]) for k in found)
    if isinstance(found, list) and isinstance(wanted, list):
        return len(found) == len(wanted) and all(map(_same, found, wanted))
    return bool(found == wanted)


def _decoded(value: str) -> Any:
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        return value  # not JSON: the text itself


def _field_matches(document: Any, path: str, value: str) -> bool:
    try:
        found = _walk(document, path)
    except UnreadableTimeError:
        return False  # no such field: not matched
    # VALUE is JSON when it parses (status=500 is the number, ok=true the boolean), else text;
    # a text field also matches VALUE as written (status=500 matches "500").
    return _same(found, _decoded(value)) or (isinstance(found, str) and found == value)


def matches_where(message: ReceivedMessage, where: tuple[tuple[str, str], ...]) -> bool:
    """Whether ``message`` meets every ``--where`` (PATH, VALUE). ``attr.NAME`` compares the
    attribute's StringValue as SQS stores it (a Number attribute as its text); a body path
    needs a JSON body: a body that is not JSON matches none (it is not selected, no error)."""
    document: Any = _UNREAD  # the body, decoded once when a condition needs it
    for path, value in where:
        if path.startswith(ATTRIBUTE_PREFIX):
            attribute = message.message_attributes.get(path[len(ATTRIBUTE_PREFIX) :]) or {}
            if attribute.get("StringValue") != value:
                return False
            continue
        if document is _UNREAD:
            try:
                document = json.loads(message.body)
            except (ValueError, RecursionError):
                document = _NOT_JSON
        if document is _NOT_JSON or not _field_matches(document, path, value):
            return False
    return True


def lineage_of(message: ReceivedMessage) -> str | None:
    """The lineage a copy carries (``LINEAGE_ATTRIBUTE``), None if it carries none."""
    value = (message.message_attributes.get(LINEAGE_ATTRIBUTE) or {}).get("StringValue")
    return value if isinstance(value, str) else None


def redrive_count(message: ReceivedMessage) -> int:
    """How many times dlq-redrive has already sent this message back (0 if never, or unreadable)."""
    attribute = message.message_attributes.get(REDRIVE_COUNT_ATTRIBUTE, {})
    raw = str(attribute.get("StringValue", "0")).strip()
    try:
        return max(0, int(float(raw)))
    except (ValueError, OverflowError):
        return 0


def needs_human(message: ReceivedMessage, *, max_redrives: int, recorded_redrives: int = 0) -> bool:
    """Whether ``message`` was redriven ``max_redrives`` times already (poison).

    ``recorded_redrives`` is what a ledger counted for a message that cannot carry the
    ``dlq-redrive-count`` attribute; the higher of the two counts is the one judged.
    """
    return max(redrive_count(message), recorded_redrives) >= max_redrives


def judge(
    message: ReceivedMessage,
    selection: Selection,
    tz: ZoneInfo,
    *,
    max_redrives: int,
    force: bool = False,
    apply_pin: bool = True,
) -> Verdict:
    """Decide what to do with one message by what it carries (the limit is applied by the
    caller, who counts; a ledger's count by the caller that knows how the message travels).
    ``apply_pin=False``: the caller applies ``selection.pin`` itself, after the ledger's count
    (poison before the pin, as below, also for poison only the ledger knows)."""
    if selection.filters_by_time:
        try:
            instant = message_time(message, selection.time_field, tz)
        except UnreadableTimeError:
            return Verdict.UNREADABLE_TIME
        if not selection.window.contains(instant):
            return Verdict.OUT_OF_WINDOW
    # Not of the error group, or a --where that does not hold: not selected, like a time
    # outside the window (counted with those).
    if selection.error is not None and not in_error_group(
        message, selection.error, selection.error_attribute
    ):
        return Verdict.OUT_OF_WINDOW
    if selection.where and not matches_where(message, selection.where):
        return Verdict.OUT_OF_WINDOW
    source = message.source_arn
    if (
        selection.sources is not None
        and source
        and queue_name_from_arn(source) not in selection.sources
    ):
        return Verdict.OUT_OF_WINDOW
    # Poison before the pin: the count judged it poison (not counted, so not pinned) and said
    # it stays for a human; the approved run must say the same of it, not "out of window".
    if not force and needs_human(message, max_redrives=max_redrives):
        return Verdict.NEEDS_HUMAN
    # Not pinned is outside the selection like a time outside its window: left in the DLQ,
    # counted out of window (the pin narrows the window to what the approval counted).
    if apply_pin and selection.pin is not None and not selection.pin.admits(message):
        return Verdict.OUT_OF_WINDOW
    return Verdict.SELECT
