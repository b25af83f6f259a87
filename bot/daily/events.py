"""The two events the daily function receives, parsed and validated: pure, no I/O.

- The schedule's event (EventBridge): ``{"time": "2026-11-24T21:00:00Z", ...}``. Only ``time``
  matters: "yesterday" is the calendar day before it in ``TIMEZONE``, so a late or retried
  invocation works on the same day.
- A continuation the function sends itself when the auto-redrive ran out of time:
  ``{"dlq_redrive_daily": "continue", "time": ..., "day": ..., "queues": [...], ...}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from bot.daily.codec import from_json, to_json
from bot.daily.report import AutoRedrive
from bot.errors import UsageError

CONTINUATION_MARK = "dlq_redrive_daily"


def parse_time(value: Any) -> datetime:
    """The event's ISO 8601 ``time`` as an aware UTC datetime (no offset means UTC)."""
    if not isinstance(value, str) or not value.strip():
        raise UsageError(
            "the event has no 'time' field: schedule the daily report with an EventBridge rule, "
            'or give the Scheduler target the input {"time": "<aws.scheduler.scheduled-time>"}'
        )
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise UsageError(f"the event's time {value!r} is not ISO 8601") from exc
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


@dataclass(frozen=True)
class ScheduledRun:
    """The 06:00 run scheduled at ``scheduled``."""

    scheduled: datetime

    @property
    def idempotency_key(self) -> str:
        return f"report#{self.scheduled.isoformat()}"


@dataclass(frozen=True)
class Continuation:
    """What is left of an auto-redrive after ``invocation`` invocations, and where to report."""

    scheduled: datetime
    day: date
    queues: tuple[str, ...]
    invocation: int  # the number this continuation will be (the first run is 1)
    channel: str
    thread_ts: str | None
    results: dict[str, AutoRedrive] = field(default_factory=dict)
    # Invocations in a row before this one that moved nothing (``bot.run_control.next_step``).
    idle_invocations: int = 0
    # By DLQ, the messages earlier invocations sent without an answer: they may have been
    # delivered, so this one keeps them (``RedriveRequest.not_again``). Not in ``results``:
    # those are kept with the report in the state table, these only travel in the event.
    not_again: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def idempotency_key(self) -> str:
        return f"continue#{self.scheduled.isoformat()}#{self.invocation}"

    def to_event(self) -> dict[str, Any]:
        return {
            CONTINUATION_MARK: "continue",
            "time": self.scheduled.isoformat(),
            "day": self.day.isoformat(),
            "queues": list(self.queues),
            "invocation": self.invocation,
            "channel": self.channel,
            "thread_ts": self.thread_ts,
            # Every field, the selection included: the continuation redrives the same window.
            "results": {name: to_json(r) for name, r in self.results.items()},
            "idle_invocations": self.idle_invocations,
            "not_again": {
                name: list(ids) for name, ids in carried(self.not_again, MAX_NOT_AGAIN_IN_EVENT)
            },
        }

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> Continuation:
        try:
            return cls(
                scheduled=parse_time(event.get("time")),
                day=date.fromisoformat(str(event["day"])),
                queues=tuple(str(q) for q in event["queues"]),
                invocation=int(event["invocation"]),
                channel=str(event["channel"]),
                thread_ts=str(event["thread_ts"]) if event.get("thread_ts") else None,
                results={
                    str(name): from_json(AutoRedrive, r)
                    for name, r in dict(event.get("results") or {}).items()
                },
                # An event sent before this field existed: no idle invocation known.
                idle_invocations=int(event.get("idle_invocations") or 0),
                not_again={
                    str(name): tuple(str(i) for i in ids)
                    for name, ids in dict(event.get("not_again") or {}).items()
                },
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise UsageError(f"malformed continuation event: {exc}") from exc


# Lambda takes an asynchronous invoke's payload up to 256 KB, the results included: the event
# carries at most this many ids over all its DLQs (39 bytes each in JSON: about 156 KB), each
# DLQ's first ones (``bot.redrive_model.not_again_after`` keeps the oldest first). Past it, a
# later invocation may send the others a second time (see ``bot.redrive_model.MAX_NOT_AGAIN``).
MAX_NOT_AGAIN_IN_EVENT = 4_000


def carried(
    not_again: dict[str, tuple[str, ...]], cap: int
) -> Iterator[tuple[str, tuple[str, ...]]]:
    """Each DLQ's ids, ``cap`` of them in all, shared out evenly: a DLQ with fewer than its
    share leaves the rest to the others."""
    left = cap
    items = sorted(not_again.items(), key=lambda item: len(item[1]))
    for n, (name, ids) in enumerate(items):
        share = ids[: left // (len(items) - n)]
        left -= len(share)
        if share:
            yield name, share


def parse_event(event: Any) -> ScheduledRun | Continuation:
    """The run an event asks for; UsageError (saying what is wrong) for anything else."""
    if not isinstance(event, dict):
        raise UsageError(f"the event is a {type(event).__name__}, not a JSON object")
    if event.get(CONTINUATION_MARK) == "continue":
        return Continuation.from_event(event)
    return ScheduledRun(parse_time(event.get("time")))
