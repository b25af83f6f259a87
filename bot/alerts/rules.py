"""What one alert check says about each DLQ: pure, from the DLQ's counts and its alert state.

A DLQ is *quiet* or *alerting*. A quiet DLQ fires when it holds at least ``threshold`` messages,
or grew by at least ``growth`` since the last check (a DLQ seen for the first time has no last
check: only the threshold applies). Firing gives:

- NEW: a top-level alert (one message per check for every such DLQ), and a quiet period of
  ``quiet_minutes`` from it: within it the DLQ gets no other top-level alert;
- REOPENED instead, when the DLQ fires within the quiet period of its last alert (it was drained
  and fills again): a reply in that alert's thread.

An alerting DLQ gets GROWING (a thread reply) each time it grew by ``growth`` since what the
channel was last told, and RESOLVED (a thread reply; it is quiet again) once drained: no message
visible, in flight or delayed. It stays alerting while anything is left, also past its quiet
period: one alert per DLQ per quiet period, however long the DLQ takes to drain.

An alert is written as *claimed* (alerting, ``alert_run``/``alert_part`` naming the post that
carries it, no ``thread_ts``) before it is posted, so no later check alerts that DLQ again at the
top level whatever happens to the post. A check that finds a claimed alert of an earlier attempt
first looks the post up in Slack (``bot.alerts.job``): found, the state gets its ``thread_ts``;
not found, the alert never reached the channel and is *owed* (``alert_part`` None): this check
posts it (NEW) if the DLQ still holds messages. Every count is SQS's approximate count.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from bot.config import AlertSettings

QUIET = "quiet"
ALERTING = "alerting"
# A state whose counts do not change is written again after this long, so that its item outlives
# the store's TTL (``bot.alerts.store.RETENTION``) while its DLQ is watched.
REWRITE_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class Reading:
    """One DLQ's counts as GetQueueAttributes gave them (ApproximateNumberOfMessages,
    ...NotVisible, ...Delayed: approximate, as AWS documents them)."""

    dlq: str
    visible: int
    in_flight: int
    delayed: int

    @property
    def total(self) -> int:
        """Every message the DLQ holds: a reader peeking at it (in flight) does not make it
        look drained, and a delayed message is still there."""
        return self.visible + self.in_flight + self.delayed


@dataclass(frozen=True)
class AlertState:
    """One DLQ's alert state, as stored between checks (``bot.alerts.store``)."""

    dlq: str
    status: str = QUIET
    last_depth: int | None = None  # the total at the last check (None: never checked)
    last_checked: datetime | None = None  # when the state last changed
    alerted_at: datetime | None = None  # the last top-level alert
    notified_depth: int | None = None  # the total the channel was last told
    thread_ts: str | None = None  # the last alert's message (its thread)
    quiet_until: datetime | None = None  # no top-level alert before this
    alert_run: str | None = None  # the check that posts (or posted) the alert
    alert_part: str | None = None  # its part (``bot.daily.posting``); None with no ts: owed
    # A thread update recorded before it is posted: the check (run) and reply (part) that tell
    # it, and what the state was before (status, notified_depth), back to which it goes if that
    # reply never reached the channel (``told``).
    told_run: str | None = None
    told_part: str | None = None
    told_status: str | None = None
    told_depth: int | None = None
    version: int = 0  # the stored item's version (0: not stored); writes are conditional on it

    @property
    def claimed(self) -> bool:
        """Alerting, but its alert's post is not known to be in Slack."""
        return self.status == ALERTING and self.thread_ts is None


class Change(StrEnum):
    NEW = "new"
    GROWING = "growing"
    REOPENED = "reopened"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class AlertAction:
    """What a check says about one DLQ: ``before`` and ``after`` its message."""

    change: Change
    reading: Reading
    before: AlertState
    after: AlertState
    # Why a NEW or REOPENED fired: the threshold (None) or the growth since the last check.
    grew_by: int | None = None


@dataclass(frozen=True)
class Decision:
    """The actions of one check, and every state that changes (the actions' included)."""

    actions: tuple[AlertAction, ...]
    states: tuple[AlertState, ...]


def decide(
    states: dict[str, AlertState],
    readings: list[Reading],
    *,
    now: datetime,
    settings: AlertSettings,
    run: str,
    part: str,
) -> Decision:
    """The actions of check ``run`` at ``now``, its top-level alerts posted as ``part``. A DLQ
    without a reading keeps its state (it could not be read, or is not watched any more); one
    without a state is seen for the first time. ``states`` hold no claim whose post was not
    looked up (the job resolves those first: ``resolved``)."""
    actions: list[AlertAction] = []
    changed: list[AlertState] = []
    for reading in sorted(readings, key=lambda r: r.dlq):
        before = states.get(reading.dlq) or AlertState(reading.dlq)
        action, after = _step(before, reading, now, settings, (run, part))
        if action:
            actions.append(action)
        if after != before:
            changed.append(after)
    return Decision(tuple(actions), tuple(changed))


def telling(action: AlertAction, run: str, part: str) -> AlertState:
    """The state after ``action``, as recorded before the reply ``part`` of ``run`` tells it."""
    return replace(
        action.after,
        told_run=run,
        told_part=part,
        told_status=action.before.status,
        told_depth=action.before.notified_depth,
    )


def told(state: AlertState, posted: bool) -> AlertState:
    """A recorded update once its reply was looked up: in the channel (the state stands), or
    never posted (the state the channel last heard of: this check decides again from it)."""
    cleared = replace(state, told_run=None, told_part=None, told_status=None, told_depth=None)
    if posted:
        return cleared
    return replace(cleared, status=state.told_status or QUIET, notified_depth=state.told_depth)


def resolved(state: AlertState, ts: str | None) -> AlertState:
    """A claimed alert once its post was looked up: in Slack as ``ts``, or owed (None)."""
    if ts is None:
        return replace(state, alert_part=None)
    return replace(state, thread_ts=ts)


def _step(
    state: AlertState,
    reading: Reading,
    now: datetime,
    settings: AlertSettings,
    post: tuple[str, str],
) -> tuple[AlertAction | None, AlertState]:
    total = reading.total
    seen = state
    stale = state.last_checked is None or now - state.last_checked >= REWRITE_AFTER
    if state.last_depth != total or not state.version or stale:
        seen = replace(state, last_depth=total, last_checked=now)
    if state.claimed:
        if state.alert_part is not None:
            raise ValueError(f"the alert of {state.dlq!r} ({state.alert_run}) was not looked up")
        if total == 0:
            # Owed, but drained before it reached the channel: nothing is left to look at.
            return None, replace(seen, status=QUIET, alert_run=None, quiet_until=None)
        action = _alert(seen, state, reading, now, settings, post)
        return action, action.after
    if state.status == ALERTING:
        if total == 0:
            after = replace(seen, status=QUIET, notified_depth=0)
            return AlertAction(Change.RESOLVED, reading, state, after), after
        if total - (state.notified_depth or 0) >= settings.growth:
            after = replace(seen, notified_depth=total)
            return AlertAction(Change.GROWING, reading, state, after), after
        return None, seen
    grew_by = None if state.last_depth is None else total - state.last_depth
    growing = grew_by is not None and grew_by >= settings.growth
    if total < settings.threshold and not growing:
        return None, seen
    why = grew_by if growing and total < settings.threshold else None
    if state.quiet_until is not None and now < state.quiet_until and state.thread_ts:
        after = replace(seen, status=ALERTING, notified_depth=total)
        return AlertAction(Change.REOPENED, reading, state, after, grew_by=why), after
    action = _alert(seen, state, reading, now, settings, post)
    return replace(action, grew_by=why), action.after


def _alert(
    seen: AlertState,
    before: AlertState,
    reading: Reading,
    now: datetime,
    settings: AlertSettings,
    post: tuple[str, str],
) -> AlertAction:
    """A top-level alert, claimed for the check's ``post`` (run, part) before it is posted."""
    run, part = post
    after = replace(
        seen,
        status=ALERTING,
        alerted_at=now,
        notified_depth=reading.total,
        thread_ts=None,
        quiet_until=now + timedelta(minutes=settings.quiet_minutes),
        alert_run=run,
        alert_part=part,
    )
    return AlertAction(Change.NEW, reading, before, after)
