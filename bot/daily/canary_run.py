"""The daily auto-redrive's canary: which runs use one, and what one did, as the report keeps it.

A morning auto-redrive into a consumer that is still broken should move ten messages, not a day's
worth: by default (``DAILY_CANARY_SIZE`` 10) the first part of each DLQ's run is
``bot.canary.run_with_canary``, which moves the canary, watches the DLQ for its copies
(``DAILY_CANARY_WAIT_S``) and moves the rest only if at most ``DAILY_CANARY_MAX_RETURNED`` of
them came back. A continuation (the rest after the time ran out) goes on without a new canary
once one passed, with the canary's lineage, so a copy that came back is never sent again; a
canary not judged yet (time ran out while watching) is tried again by the continuation, with the
same lineage, so copies of both count against the threshold (the safe side).

Pure: it maps ``bot.canary``'s outcome onto the report's records.
"""

from __future__ import annotations

from dataclasses import replace

from bot.canary import CanaryOutcome, CanaryPlan, Watch
from bot.config import MAX_CANARY_WAIT_S, DailySettings
from bot.daily.report import AutoRedrive, CanaryResult
from bot.redrive_model import RedriveReport, StopReason
from bot.run_control import canary_words
from bot.slack.mrkdwn import number

TOP_RETURNED_ERRORS = 3


def canary_plan(daily: DailySettings, before: AutoRedrive | None) -> CanaryPlan | None:
    """The canary this invocation's auto-redrive of a DLQ starts with; None: none (disabled,
    or an earlier invocation's canary passed)."""
    if daily.canary_size <= 0:
        return None
    if before is not None and before.canary is not None and before.canary.passed:
        return None
    return CanaryPlan(
        size=daily.canary_size,
        wait_s=float(daily.canary_wait_s),
        max_returned_share=daily.canary_max_returned,
        # The configured wait is the least: a source whose consumer takes longer to fail a copy
        # back into the DLQ (maxReceiveCount x VisibilityTimeout) gets that long, within the
        # function's own bound on the wait.
        stretch=True,
        max_wait_s=float(MAX_CANARY_WAIT_S),
    )


def canary_result(outcome: CanaryOutcome) -> CanaryResult:
    """What the report keeps of ``outcome``, its words included (written now: the outcome
    itself does not travel to a continuation)."""
    judged_ok = outcome.watch in (Watch.WAITED, Watch.NOTHING_LEFT, Watch.NOTHING_MOVED)
    return CanaryResult(
        moved=outcome.canary.moved,
        returned=outcome.returned,
        untraceable=outcome.untraceable,
        allowed=outcome.allowed,
        errors=tuple(outcome.returned_errors.most_common(TOP_RETURNED_ERRORS)),
        stopped=outcome.stopped,
        # Not passed while a source was not tried: a continuation starts with a canary again
        # (on what is left, which is the untried sources' messages), never without one.
        passed=judged_ok and not outcome.stopped and not outcome.untried,
        lineage=outcome.lineage,
        watch=outcome.watch.value,
        waited_s=round(outcome.waited_s, 1),
        words=canary_words(outcome, number),
    )


def outcome_report(outcome: CanaryOutcome) -> RedriveReport:
    """One engine report for the canary and the rest together, as ``auto_redrive_of`` takes it:
    the rest's figures (it went on from where the canary left off) with the canary's moves added
    to what moved and to what was looked at; the canary's alone when no rest ran. A watch cut
    short by the time budget ends as a deadline, so the chain carries on."""
    canary, rest = outcome.canary, outcome.rest
    if rest is not None:
        return replace(
            rest,
            moved=rest.moved + canary.moved,
            scanned=rest.scanned + canary.moved,
            unconfirmed=rest.unconfirmed + canary.unconfirmed,
            unconfirmed_ids=rest.unconfirmed_ids | canary.unconfirmed_ids,
        )
    if outcome.watch is Watch.DEADLINE:
        return replace(canary, stopped=StopReason.DEADLINE)
    return canary


def with_canary(result: AutoRedrive, canary: CanaryResult | None) -> AutoRedrive:
    """``result`` keeping ``canary``; a stopped canary ends the DLQ's run (no continuation)."""
    if canary is None:
        return result
    if canary.stopped:
        return replace(result, canary=canary, continuing=False)
    return replace(result, canary=canary)
