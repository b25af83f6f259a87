"""One alert check (the alerts function's schedule: ``{"time": "<scheduled time>"}``), at most
once per scheduled time, with the daily report's mechanisms:

- ``bot.daily.once.run_once``: a lease keyed by the scheduled time (``alert#<time>``), so a
  duplicate scheduled event does nothing (or gets the first check's answer back), and Lambda's
  retry of a check that died takes over;
- ``bot.daily.posting.ReportPoster``: every message is a named part of the check, recorded with
  its ``ts`` and carrying message metadata (event type ``dlq_redrive_alert``), so an attempt
  that follows another finds a part whose answer was lost in the channel instead of posting it
  twice (needs ``channels:history``, as the daily report does; without it the part is posted).

The order that makes a lost answer or a crash neither double an alert nor drop one: each NEW
alert is first *claimed* in the DLQ's state (conditional write: alerting, posted as part
``alert.<attempt>`` of this check), then posted, then its ``ts`` recorded. A check that finds a
claim without a ``ts`` (this check's earlier attempt, or an earlier check) looks that part up
(records, then Slack's history): found, the alert is there and the state gets its ``ts``; not
found, it never reached the channel and this check posts it (``bot.alerts.rules``). A claimed
DLQ is never alerted at the top level again within its quiet period. Thread replies are posted,
then recorded: a lost answer fails the attempt, and Lambda's retry finds the reply by its
metadata and updates it in place.

Without the state table nothing can be claimed: the check fails (Lambda retries it, the next
scheduled check tries again) rather than alert every DLQ at every check.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.alerts.blocks import MAX_SHOWN, alert_message, update_messages, update_order
from bot.alerts.rules import (
    AlertAction,
    AlertState,
    Change,
    Reading,
    decide,
    resolved,
    telling,
    told,
)
from bot.alerts.store import AlertStore
from bot.alerts.watch import AlertWatch
from bot.config import AlertSettings
from bot.daily.events import parse_time
from bot.daily.once import Attempt, LeaseTiming, lease_owner, run_once
from bot.daily.ports import Leases, PostRecords
from bot.daily.posting import ReportPoster
from bot.errors import UsageError
from bot.printable import printable_logger

logger = printable_logger(__name__)

EVENT_TYPE = "dlq_redrive_alert"
LEASE_PREFIX = "alert#"  # the lease of the check at <time>: beside the daily's report#/continue#
RUN_PREFIX = "alert#"  # the post records of the check at <time>, beside the daily run's


class AlertPosts:
    """The daily report's post records (``RunState``), kept under keys of the alert checks:
    a check and a report scheduled at the same minute never see each other's parts."""

    def __init__(self, runs: PostRecords) -> None:
        self.runs = runs

    def posted(self, run: str) -> dict[str, str]:
        return self.runs.posted(RUN_PREFIX + run)

    def record_post(self, run: str, part: str, ts: str, *, now: datetime) -> None:
        self.runs.record_post(RUN_PREFIX + run, part, ts, now=now)


@dataclass(frozen=True)
class AlertParts:
    """What the alert job is made of (``bot.composition.build_alert_job`` wires the real ones)."""

    watch: AlertWatch
    store: AlertStore
    poster: ReportPoster
    leases: Leases
    settings: AlertSettings
    timezone: ZoneInfo
    clock: Callable[[], datetime]
    lease_timing: LeaseTiming = field(default_factory=LeaseTiming)


class AlertJob:
    """The alerts function's job, built once per cold start."""

    def __init__(self, parts: AlertParts) -> None:
        self.parts = parts

    def handle(self, event: Any, context: Any) -> dict[str, Any]:
        """Run the check ``event`` asks for, at most once per scheduled time."""
        if not isinstance(event, dict) or not event.get("time"):
            raise UsageError(
                "the alert check's event has no 'time': give its EventBridge Scheduler target "
                'the input {"time": "<aws.scheduler.scheduled-time>"}'
            )
        run = parse_time(event["time"]).isoformat()
        return run_once(
            self.parts.leases,
            LEASE_PREFIX + run,
            lease_owner(context),
            lambda attempt: Check(self.parts, run, attempt).run(),
            timing=self.parts.lease_timing,
        )


class Check:
    """One attempt of one scheduled check."""

    def __init__(self, parts: AlertParts, run: str, attempt: Attempt) -> None:
        self.parts = parts
        self.run_key = run
        self.attempt = attempt
        self.now = parts.clock()
        self.part = f"alert.{attempt.number}"
        self._found: dict[tuple[str, str], str | None] = {}  # parts looked up, by (run, part)

    def run(self) -> dict[str, Any]:
        watched = self.parts.watch.read()
        states = self.parts.store.states(now=self.now)
        states, readings = self._resolve(states, watched.readings)
        decision = decide(
            states,
            readings,
            now=self.now,
            settings=self.parts.settings,
            run=self.run_key,
            part=self.part,
        )
        acted = {a.reading.dlq for a in decision.actions}
        alerted = self._alert([a for a in decision.actions if a.change == Change.NEW])
        updated = self._update([a for a in decision.actions if a.change != Change.NEW])
        for state in decision.states:
            if state.dlq not in acted:
                self._save(state)
        return {
            "status": "checked",
            "time": self.run_key,
            "watched": len(readings),
            "alerted": alerted,
            **{c.value: sorted(n for n, k in updated if k == c) for c in Change if c != Change.NEW},
            "unread": [name for name, _why in watched.unread],
        }

    def _resolve(
        self, states: dict[str, AlertState], readings: list[Reading]
    ) -> tuple[dict[str, AlertState], list[Reading]]:
        """Claims whose post is not known looked up: found (the state gets its alert's ts) or
        owed; and recorded updates whose reply is not known looked up: found (the state stands)
        or never posted (back to what the channel last heard: decided again). A DLQ whose state
        another check changed meanwhile is left to that check."""
        kept = dict(states)
        skipped: set[str] = set()
        for name, state in sorted(states.items()):
            if state.told_run is not None and state.told_part is not None:
                key = (state.told_run, state.told_part)
                if key not in self._found:
                    self._found[key] = self.parts.poster.find(
                        state.told_run, state.told_part, thread_ts=state.thread_ts
                    )
                if self._found[key] is None:
                    logger.warning("update of %s (%s) is not in Slack", name, state.told_run)
                state = told(state, self._found[key] is not None)
                saved = self._save(state)
                if saved is None:
                    skipped.add(name)
                    continue
                kept[name] = state = saved
            if not state.claimed or state.alert_part is None or state.alert_run is None:
                continue
            ts = self._posted(state.alert_run, state.alert_part)
            if ts is None:
                logger.warning(
                    "alert of %s (%s) is not in Slack: posting it", name, state.alert_run
                )
                kept[name] = resolved(state, None)  # the claim stays; the post is owed
                continue
            saved = self._save(resolved(state, ts))
            if saved is None:
                skipped.add(name)
            else:
                kept[name] = saved
        return kept, [r for r in readings if r.dlq not in skipped]

    def _posted(self, run: str, part: str) -> str | None:
        """The ts of the alert that names a DLQ in ``part`` of ``run`` (the alert itself,
        ``alert.<n>``, or its k-th thread reply, ``alert.<n>.<k>``) if that part is in Slack."""
        top = ".".join(part.split(".")[:2])
        if (run, top) not in self._found:
            self._found[(run, top)] = self.parts.poster.find(run, top)
        ts = self._found[(run, top)]
        if ts is None or part == top:
            return ts
        if (run, part) not in self._found:
            self._found[(run, part)] = self.parts.poster.find(run, part, thread_ts=ts)
        return ts if self._found[(run, part)] else None

    def _alert(self, actions: list[AlertAction]) -> list[str]:
        """Claim each NEW alert with the part that names it, post them, then record the ts.

        Rendered before the claims (a claim names its part). A claim refused means another
        check changed that state meanwhile (a race reserved concurrency rules out, or a check
        run by hand): posting this alert would name that DLQ beside the other check's alert, so
        nothing is posted; the DLQs this check claimed are owed, and the next check, finding
        their part nowhere in Slack, alerts them."""
        if not actions:
            return []
        alert = alert_message(
            actions, at=self.now, tz=self.parts.timezone, settings=self.parts.settings
        )
        claimed: list[AlertState] = []
        for action in actions:
            where = alert.where[action.reading.dlq]
            part = self.part if where == 0 else f"{self.part}.{where}"
            saved = self._save(replace(action.after, alert_part=part))
            if saved is not None:
                claimed.append(saved)
        if len(claimed) < len(actions):
            logger.warning(
                "%d of %d alerts claimed by another check meanwhile: the next check posts ours",
                len(actions) - len(claimed),
                len(actions),
            )
            return []
        ts = self.parts.poster.publish(
            self.run_key, alert.rendered, first_attempt=self.attempt.first, part=self.part
        )
        for state in claimed:
            self._save(resolved(state, ts))
        return sorted(state.dlq for state in claimed)

    def _update(self, actions: list[AlertAction]) -> list[tuple[str, Change]]:
        """Each thread's replies of this check: the states recorded, then the reply posted.

        A thread's updates go in replies of at most ``MAX_SHOWN`` DLQs (one message each), each
        named by the first DLQ it speaks of. The states of one reply are recorded first, all or
        none (one transaction), each marked with the reply that tells it and what the channel
        heard before (``rules.telling``); then the reply is posted. A check that finds such a
        mark looks the reply up (``_resolve``): a lost answer never leaves the state saying less
        than the channel heard (a "drained" note in Slack with the DLQ still alerting: its
        refill never said), and a reply that never reached Slack is decided again. A retry
        after some replies were recorded regroups the rest under new names: posted anew, never
        put in place of a reply that spoke of DLQs recorded since."""
        threads: dict[str, list[AlertAction]] = defaultdict(list)
        for action in actions:
            if action.before.thread_ts is not None:
                threads[action.before.thread_ts].append(action)
        done: list[tuple[str, Change]] = []
        for thread_ts, updates in sorted(threads.items()):
            ordered = sorted(updates, key=update_order)
            for start in range(0, len(ordered), MAX_SHOWN):
                group = ordered[start : start + MAX_SHOWN]
                prefix = f"update.{thread_ts}.{group[0].reading.dlq}"
                # ``MAX_SHOWN`` lines are one message (``bot.alerts.blocks``): its part is known.
                [message] = update_messages(group, at=self.now, tz=self.parts.timezone)
                marked = [telling(a, self.run_key, f"{prefix}.1") for a in group]
                if not self.parts.store.save_all(marked, now=self.now):
                    continue  # another check changed one of them: left to it
                self.parts.poster.reply(
                    self.run_key, prefix, thread_ts, [message], first_attempt=self.attempt.first
                )
                done.extend((a.reading.dlq, a.change) for a in group)
        return done

    def _save(self, state: AlertState) -> AlertState | None:
        return self.parts.store.save(state, now=self.now)
