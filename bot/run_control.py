"""What a redrive that spans several invocations shares, whoever runs it (an approved Slack
redrive, the daily auto-redrive): the counts summed over its invocations, whether to hand over
to a new invocation or give up, the limit left under its caps, and the words that say why a run
stopped and what it left in the DLQ.

Pure: plain data in, plain data out, no I/O and no boto3, so both workflows and their unit
tests use the same rules. The wording is plain text with no markup; every caller formats the
numbers (``num``: the Slack surfaces use thousands separators) and escapes nothing of ours.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from bot.canary import CanaryOutcome, Watch
from bot.redrive_model import RedriveReport, StopReason

# Continuations in a row that looked at no message before the run gives up: each one started
# and ran out of time at once, so the worker's time budget is too small to make progress.
MAX_IDLE_INVOCATIONS = 3

Num = Callable[[int], str]


@dataclass(frozen=True)
class RunTotals:
    """A run's counts over all its invocations so far."""

    moved: int = 0
    failed: int = 0
    skipped: int = 0
    needs_human: int = 0
    scanned: int = 0
    duration_s: float = 0.0

    def fold(self, report: RedriveReport, *, partial: bool = False) -> RunTotals:
        """These totals with one more invocation's ``report`` (``partial``: a progress snapshot
        of a run still going, which has not seen every message whatever it says).

        Moved messages left the DLQ, so they add up, as do the messages looked at and the time.
        Failed, skipped and poison messages stay in the DLQ and a later invocation looks at them
        again: they are the latest pass's figures when it saw every message, otherwise the
        largest seen so far (never counted twice)."""
        if report.finished and not partial:
            failed, skipped, needs_human = report.failed, report.skipped, report.needs_human
        else:
            failed = max(self.failed, report.failed)
            skipped = max(self.skipped, report.skipped)
            needs_human = max(self.needs_human, report.needs_human)
        return RunTotals(
            moved=self.moved + report.moved,
            failed=failed,
            skipped=skipped,
            needs_human=needs_human,
            scanned=self.scanned + report.scanned,
            duration_s=self.duration_s + report.duration_s,
        )


class Step(Enum):
    FINISH = "finish"  # the run ended by itself (drained, limit, cancel, error, quota)
    CONTINUE = "continue"  # time ran out: a new invocation goes on from the checkpoint
    GIVE_UP = "give_up"  # time ran out again and again without progress


@dataclass(frozen=True)
class NextStep:
    step: Step
    idle_invocations: int  # invocations in a row that looked at nothing (kept in the checkpoint)
    reason: str | None = None  # why it gives up (plain text)


def next_step(
    stopped: StopReason,
    scanned: int,
    idle_invocations: int,
    *,
    invocation: int = 1,
    max_idle: int = MAX_IDLE_INVOCATIONS,
    max_invocations: int | None = None,
    moved: int | None = None,
) -> NextStep:
    """What a run does after invocation number ``invocation`` stopped for ``stopped`` having
    looked at ``scanned`` messages, ``idle_invocations`` earlier ones in a row having made no
    progress. ``moved``: when given, an invocation that moved nothing made no progress either,
    whatever it looked at (the daily auto-redrive: each invocation looks again at every message
    an earlier one left, so looking alone is no progress)."""
    if stopped is not StopReason.DEADLINE:
        return NextStep(Step.FINISH, idle_invocations)
    idle = idle_invocations + 1 if scanned == 0 or moved == 0 else 0
    if idle >= max_idle:
        return NextStep(
            Step.GIVE_UP,
            idle,
            f"no progress in {idle} invocations in a row: the function's time budget is too small",
        )
    if max_invocations is not None and invocation >= max_invocations:
        return NextStep(
            Step.GIVE_UP, idle, f"not finished after {invocation} invocations (the most allowed)"
        )
    return NextStep(Step.CONTINUE, idle)


def remaining_limit(done: int, *caps: int | None) -> int | None:
    """How many more messages a run may select when ``done`` count against every cap (None: no
    cap at all); never below 0."""
    left = [cap - done for cap in caps if cap is not None]
    return max(0, min(left)) if left else None


# --- wording ---------------------------------------------------------------------------------

_STOPPED: dict[StopReason, str] = {
    StopReason.DRAINED: "the DLQ had nothing more to give",
    StopReason.LIMIT: "it reached its limit",
    StopReason.DEADLINE: "its time budget ran out",
    StopReason.CANCELLED: "it was cancelled",
    StopReason.IN_FLIGHT_LIMIT: (
        "too many messages outside the selection were held at once (SQS's in-flight quota)"
    ),
    StopReason.ERROR: "of an error",
}


def why_stopped(stopped: StopReason) -> str:
    """Why a run or a count stopped, to follow "because" ("… stopped early because …")."""
    return _STOPPED[stopped]


IN_FLIGHT_STOP = (
    "stopped: too many messages outside the selection are held at once; request another redrive "
    "to continue"
)


# What a run left in the DLQ without calling it failed, in the words every surface uses (Slack's
# cards and ``left_in_dlq``, the daily report's lines and thread): each puts them in its own
# sentence shape, so one kind of message is never described two ways.
STOPPED_BEFORE_THEM = "the run stopped before it got to them"
CANNOT_SEE_PAST = "could not see past held messages of"
MAY_HAVE_BEEN_DELIVERED = "may have been delivered"
ANSWER_LOST = "SQS's answer to their send was lost"
BEHIND_THEIR_GROUP = "behind an earlier message of their FIFO group that did not move"


def left_in_dlq(report: RedriveReport, num: Num = str, *, part: str = "") -> list[str]:
    """One sentence for each kind of selected message a run left in the DLQ without calling it
    failed (not sent, groups not seen past, poison, may have been delivered, held back, sent but
    not deleted). ``part``: " in the last part" when earlier invocations are not counted."""
    lines: list[str] = []
    if report.not_attempted:
        lines.append(
            f"{num(report.not_attempted)} selected were not sent{part}: {STOPPED_BEFORE_THEM} "
            "(they stay in the DLQ)."
        )
    if report.blocked_groups:
        lines.append(
            f"The run {CANNOT_SEE_PAST} {num(report.blocked_groups)} FIFO "
            f"group(s){part}: SQS hands out none of a group's later messages while one is held, "
            "so any it did not see stay in the DLQ."
        )
    # needs_human also counts messages whose target cannot take them as configured (an
    # EventBridge ERROR_CODE such as NO_PERMISSIONS): the caller words those with their reasons
    # (``RedriveReport.needs_human_reasons``, text it escapes for its surface).
    poison = report.needs_human - sum(report.needs_human_reasons.values())
    if poison:
        lines.append(
            f"{num(poison)} message(s) were redriven too often already and stay in "
            "the DLQ for a human to look at."
        )
    if report.unconfirmed:
        lines.append(
            f"{num(report.unconfirmed)} {MAY_HAVE_BEEN_DELIVERED}{part}: {ANSWER_LOST}, so they "
            "were not sent again and stay in the DLQ; a later redrive sends each once more (at "
            "most one extra copy)."
        )
    if report.held_back:
        lines.append(
            f"{num(report.held_back)} held back in the DLQ {BEHIND_THEIR_GROUP} (the group's "
            "order is kept)."
        )
    if report.returned:
        lines.append(
            f"{num(report.returned)} copies this run sent came back to the DLQ during it (the "
            "consumer failed them again): not sent again, they stay for a human to look at."
        )
    if report.delete_failed:
        lines.append(
            f"{num(report.delete_failed)} were sent but could not be deleted from the DLQ; a "
            "later redrive would send them again."
        )
    return lines


def _share(value: float) -> str:
    return f"{value * 100:g}%"


def canary_words(outcome: CanaryOutcome, num: Num = str) -> str:
    """What a redrive with a canary did, in one paragraph of plain text (the error labels of
    what came back are not in it: they are the messages' text, which each surface lists and
    escapes itself)."""
    canary, watch = outcome.canary, outcome.watch
    moved = f"The canary moved {num(canary.moved)}"
    if outcome.untraceable:
        moved += (
            f" ({num(outcome.untraceable)} without the lineage attribute, for want of room: "
            "those are not recognised if they come back, so what came back is a lower bound)"
        )
    waited = f"{outcome.waited_s:.0f} s"
    if watch is Watch.NOTHING_MOVED:
        return (
            "The canary moved nothing (nothing selected could be moved), so there was nothing "
            "to watch and the rest was not run."
        )
    if watch is Watch.CANARY_STOPPED:
        return (
            f"{moved}, but its run did not finish (it stopped because "
            f"{why_stopped(canary.stopped)}): the rest was not moved."
        )
    if watch is Watch.NOTHING_LEFT:
        return f"{moved}: everything selected, so nothing was left to hold back or wait for."
    if watch is Watch.UNTRACEABLE:
        return (
            f"{moved}, none of them with room for the lineage attribute, so whether they come "
            "back cannot be told: the rest was not moved."
        )
    back = f"{num(outcome.returned)} came back to the DLQ"
    if watch is Watch.HIDDEN:
        return (
            f"{moved}; {back} within {waited} as far as could be seen, but "
            f"{num(outcome.hidden_groups)} FIFO group(s) it moved from still had a message in the "
            "DLQ, and copies that come back wait behind it, where SQS shows none: whether they "
            "came back cannot be told, so the rest was not moved."
        )
    if outcome.stopped:
        return (
            f"{moved}; {back} within {waited}, more than the {num(outcome.allowed)} allowed "
            f"({_share(outcome.max_share)} of the canary): the consumer is still failing, so "
            "the rest was not moved."
        )
    if watch is Watch.DEADLINE:
        return (
            f"{moved}; {back} in the {waited} watched before the time budget ran out: the rest "
            "was not moved."
        )
    if watch is Watch.CANCELLED:
        return (
            f"{moved}; {back} in the {waited} watched before it was cancelled: the rest was "
            "not moved."
        )
    verdict = f"{moved}; {back} within {waited} (at most {num(outcome.allowed)} allowed)"
    if outcome.rest is None:
        return f"{verdict}; the limit was used up by the canary, so nothing else was moved." + (
            _too_brief(outcome)
        )
    return f"{verdict}, so the rest was run: it moved {num(outcome.rest.moved)}." + (
        _untried(outcome) + _too_brief(outcome)
    )


def _untried(outcome: CanaryOutcome) -> str:
    """What the rest left for the sources the canary did not reach ("" if none)."""
    if not outcome.untried:
        return ""
    return (
        f" None of the canary went to {', '.join(outcome.untried)}, so the rest moved nothing "
        "dead-lettered from there (their consumers were not tried): a later run's canary "
        "tries them."
    )


def _too_brief(outcome: CanaryOutcome) -> str:
    """A warning when the watch was shorter than the sources' settings let a failed copy take
    to come back ("" otherwise): what it saw is then no sign that the consumer works."""
    if not outcome.watched_too_briefly:
        return ""
    return (
        f" Warning: by the source queue's settings (maxReceiveCount x VisibilityTimeout, plus "
        f"DelaySeconds) a copy its consumer fails comes back about {outcome.settle_s:.0f} s "
        f"after it is sent, later than the {outcome.waited_s:.0f} s watched (unless the "
        "consumer sets a shorter visibility timeout itself): such copies were not seen, and "
        "the rest moved without knowing of them."
    )
