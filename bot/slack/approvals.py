"""The approval rules: who may decide a redrive request, and what a click on its card does.

Pure functions over the stored request, the click and the time (no I/O), so that the rules can
be read and tested on their own. The worker applies the outcome (``bot.slack.decisions``): the
state table's conditional write settles races, so that exactly one decision wins even when the
rules were read from a request that changed meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum, StrEnum

from bot.state_model import ApprovalRequest, RequestStatus


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"

    @property
    def status(self) -> RequestStatus:
        return RequestStatus.APPROVED if self is Decision.APPROVE else RequestStatus.REJECTED


@dataclass(frozen=True)
class Click:
    """An Approve or Reject click, as the (signed) decision job says it happened."""

    user: str
    decision: Decision
    channel: str
    message_ts: str


@dataclass(frozen=True)
class ApprovalRules:
    """Who may decide: the approvers (user groups expanded) and whether requesters may approve
    their own requests."""

    approvers: frozenset[str]
    allow_self_approval: bool = False


class Outcome(Enum):
    UNKNOWN_REQUEST = "unknown_request"  # no such request (or too old): nothing to do
    WRONG_BUTTON = "wrong_button"  # the click came from another message than the request's card
    REFUSED = "refused"  # the clicker may not make this decision
    ALREADY_DECIDED = "already_decided"  # approved, rejected or expired before this click
    EXPIRE = "expire"  # still pending, but past its approval window: mark it expired
    # Still pending, but its stored pin is incomplete: approving it would run without knowing
    # which messages were approved, so it cannot be approved (a Reject still can).
    UNRUNNABLE = "unrunnable"
    APPROVE = "approve"
    REJECT = "reject"


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reason: str | None = None  # what the clicker is told, for REFUSED and WRONG_BUTTON


def decide(
    request: ApprovalRequest | None, click: Click, now: datetime, rules: ApprovalRules
) -> Verdict:
    """What ``click`` at ``now`` does to ``request`` (as stored), by these rules, in order: the
    button must belong to the request's card; only approvers decide, and not on their own
    request unless allowed; a decided request stays decided; a pending one past its window
    expires; one whose stored pin is incomplete cannot be approved; otherwise the click
    decides."""
    if request is None:
        return Verdict(
            Outcome.UNKNOWN_REQUEST, "this approval request does not exist (or is too old)"
        )
    if (click.channel, click.message_ts) != (request.channel, request.message_ts):
        # The button's value was edited to point at another request: change nothing.
        return Verdict(
            Outcome.WRONG_BUTTON, "this button does not belong to that request; nothing was changed"
        )
    why = refusal(request, click.user, click.decision, rules)
    if why is not None:
        return Verdict(Outcome.REFUSED, why)
    if request.status is not RequestStatus.PENDING:
        return Verdict(Outcome.ALREADY_DECIDED)
    if now >= request.approval_expires_at:
        return Verdict(Outcome.EXPIRE)
    if click.decision is Decision.APPROVE and request.pin_unreadable is not None:
        return Verdict(
            Outcome.UNRUNNABLE, f"This request cannot be approved: {request.pin_unreadable}"
        )
    return Verdict(Outcome.APPROVE if click.decision is Decision.APPROVE else Outcome.REJECT)


def refusal(
    request: ApprovalRequest, user: str, decision: Decision, rules: ApprovalRules
) -> str | None:
    """Why ``user`` may not make ``decision`` on ``request``, or None if they may."""
    if user not in rules.approvers:
        return (
            "Only approvers can approve or reject requests, and you are not in APPROVERS. "
            "Ask one of them to review it."
        )
    if decision is Decision.APPROVE and user == request.requester and not rules.allow_self_approval:
        return f"You asked for this {request.action}, so someone else has to approve it."
    return None


def already_decided(request: ApprovalRequest, tz_format: Callable[[datetime], str]) -> str:
    """What a late clicker is told."""
    when = f" at {tz_format(request.decided_at)}" if request.decided_at else ""
    if request.status is RequestStatus.EXPIRED:
        return f"This request expired{when}; ask for a new one with `/dlq-redrive redrive`."
    who = f"<@{request.decided_by}>" if request.decided_by else "someone"
    return f"Already {request.status.value} by {who}{when}; nothing more to do."
