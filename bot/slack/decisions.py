"""Applies a click on an approval card: the rules (``bot.slack.approvals.decide``) say what it
does; this shell writes it and tells people.

An approval and its ``running`` run record are written in one transaction before any Slack
call, so a won approval always runs: card updates come after, best effort (``bot.slack.cards``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from bot.errors import UsageError
from bot.slack import blocks
from bot.slack.approvals import (
    ApprovalRules,
    Click,
    Decision,
    Outcome,
    already_decided,
    decide,
)
from bot.slack.cards import Cards
from bot.slack.observability import count, logger
from bot.slack.protocol import DecisionJob
from bot.slack.web_api import SlackApi
from bot.slack.worker_ports import Approvers
from bot.state import StateStore
from bot.state_model import ApprovalRequest, RequestStatus, RunRecord, RunStatus


class Runner(Protocol):
    def run(self, run: RunRecord, request: ApprovalRequest, context: Any) -> None: ...


class Decisions:
    """Approve and Reject clicks."""

    def __init__(
        self,
        *,
        state: StateStore,
        slack: SlackApi,
        cards: Cards,
        runner: Runner,
        approvers: Approvers,
        allow_self_approval: bool,
        clock: Callable[[], datetime],
    ) -> None:
        self.state = state
        self.slack = slack
        self.cards = cards
        self.runner = runner
        self.approvers = approvers
        self.allow_self_approval = allow_self_approval
        self.clock = clock

    def handle(self, job: DecisionJob, context: Any) -> None:
        click = Click(job.user, Decision(job.decision), job.channel, job.message_ts)
        rules = ApprovalRules(self.approvers.members(), self.allow_self_approval)
        request = self.state.get_request(job.request_id)
        now = self.clock()
        verdict = decide(request, click, now, rules)
        if verdict.outcome is Outcome.APPROVE and request is not None:
            run = RunRecord(
                run_id=request.request_id,
                dlq=request.dlq,
                requester=request.requester,
                approved_by=click.user,
                status=RunStatus.RUNNING,
                started_at=now,
                updated_at=now,
                started_by=job.delivery,  # this invocation owns part 1 (bot.slack.failures)
            )
            outcome = self.state.approve_and_start(
                request.request_id, run, detail=request.audit_detail()
            )
            if outcome.won and outcome.request is not None:
                self._approved(outcome.request, run, context)
                return
            # Someone else decided first, or it expired meanwhile: the rules say what now.
            request = outcome.request
            verdict = decide(request, click, now, rules)
        elif verdict.outcome is Outcome.REJECT and request is not None:
            outcome = self.state.decide(request.request_id, RequestStatus.REJECTED, click.user, now)
            if outcome.won and outcome.request is not None:
                self._rejected(outcome.request, click.user, now)
                return
            request = outcome.request
            verdict = decide(request, click, now, rules)
        self._answer(job, verdict.outcome, verdict.reason, request, now)

    def _answer(
        self,
        job: DecisionJob,
        outcome: Outcome,
        reason: str | None,
        request: ApprovalRequest | None,
        now: datetime,
    ) -> None:
        """Everything but a won decision: refusals, late clicks, expiry."""
        if outcome is Outcome.UNRUNNABLE and request is not None:
            # Everyone sees why on the card; the request stays pending (it can be rejected).
            count("DecisionsRefused")
            self.cards.update(request, f":warning: {reason}")
            raise UsageError(str(reason))
        if outcome in (Outcome.WRONG_BUTTON, Outcome.REFUSED, Outcome.UNKNOWN_REQUEST):
            count("DecisionsRefused")
            if outcome is Outcome.REFUSED and request is not None:
                self.state.record_event(
                    request.request_id, "refused", job.user, now, decision=job.decision
                )
            raise UsageError(str(reason))
        if request is None:  # cannot happen past UNKNOWN_REQUEST; never run on a missing one
            raise UsageError("this approval request does not exist (or is too old)")
        if outcome in (Outcome.APPROVE, Outcome.REJECT):
            # The write lost, yet the stored request still reads as decidable (it changed and
            # changed back): say nothing was done rather than guess.
            raise UsageError("the decision could not be recorded; nothing was changed, try again")
        if outcome is Outcome.EXPIRE:
            expired = self.state.decide(request.request_id, RequestStatus.EXPIRED, job.user, now)
            if expired.won and expired.request is not None:
                self.state.record_event(request.request_id, "expired", job.user, now)
                self.cards.update(
                    expired.request,
                    f":hourglass: Expired at {self.cards.when(request.approval_expires_at)} "
                    "without a decision; nothing was moved.",
                )
            request = expired.request or request
        self.slack.respond(
            job.response_url, blocks.notice(already_decided(request, self.cards.when))
        )

    def _approved(self, request: ApprovalRequest, run: RunRecord, context: Any) -> None:
        # The "approved" audit event was written with the decision and the run (one transaction).
        logger.info(
            f"{request.action} decided",
            extra={
                "correlation_id": request.request_id,
                "decision": "approve",
                "by": run.approved_by,
            },
        )
        count("RedrivesApproved")
        doing = blocks.action_words(request.action).doing.lower()
        self.cards.update(request, f":white_check_mark: Approved by <@{run.approved_by}>, {doing}…")
        self.runner.run(run, request, context)

    def _rejected(self, request: ApprovalRequest, user: str, now: datetime) -> None:
        self.state.record_event(request.request_id, RequestStatus.REJECTED.value, user, now)
        logger.info(
            f"{request.action} decided",
            extra={"correlation_id": request.request_id, "decision": "reject", "by": user},
        )
        self.cards.update(request, f":no_entry: Rejected by <@{user}>; nothing was moved.")
