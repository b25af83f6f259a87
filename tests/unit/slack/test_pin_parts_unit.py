"""An approval whose stored pin is missing a part (bot.state_model: a pin past what one item
holds is stored in parts): Approve is refused with the reason on the card, no run starts and
nothing moves; the runner, handed such a request, has no selection to run (no server)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.errors import UsageError
from bot.selection import pin_digest
from bot.slack.approvals import ApprovalRules, Click, Decision, Outcome, decide
from bot.slack.cards import Cards
from bot.slack.decisions import Decisions
from bot.slack.protocol import DecisionJob
from bot.slack.runner import approved_selection
from bot.state import StateStore
from bot.state_model import (
    ApprovalRequest,
    PinUnreadableError,
    RequestStatus,
    RunRecord,
    RunStatus,
)
from tests.unit.fake_slack import FakeSlackGateway as FakeSlack
from tests.unit.fake_state_table import FakeStateTable

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
REQUEST_ID = "20261201-115900-abcdef"


class _Approvers:
    def members(self) -> frozenset[str]:
        return frozenset({"U_BOB"})


class _Runner:
    """Records the runs it was asked to start: none may be."""

    def __init__(self) -> None:
        self.started: list[str] = []

    def run(self, run: RunRecord, request: ApprovalRequest, context: Any) -> None:
        self.started.append(run.run_id)


def _broken_request() -> tuple[StateStore, FakeStateTable]:
    """A pending request pinned to 7 counted ids, stored 2 an item, its second part gone."""
    table = FakeStateTable()
    state = StateStore(table, pin_part_digests=2)
    state.put_request(
        ApprovalRequest(
            request_id=REQUEST_ID,
            dlq="orders-dlq",
            selection={},
            selection_text="all messages",
            matched=7,
            requester="U_ALICE",
            channel="C_OPS",
            requested_at=NOW - timedelta(minutes=1),
            approval_expires_at=NOW + timedelta(hours=1),
            message_ts="1.000001",
            pin_sent_before=NOW - timedelta(minutes=1),
            pin_digests=frozenset(pin_digest(f"m-{i}") for i in range(7)),
        )
    )
    del table.items[(f"REQUEST#{REQUEST_ID}", "PIN#0002")]
    return state, table


def test_an_approval_of_a_request_missing_a_pin_part_is_refused_and_runs_nothing() -> None:
    # Given a pending request whose stored pin lost a part
    state, _ = _broken_request()
    slack, runner = FakeSlack(), _Runner()
    decisions = Decisions(
        state=state,
        slack=slack,
        cards=Cards(slack, UTC, sleep=lambda _: None),
        runner=runner,
        approvers=_Approvers(),
        allow_self_approval=False,
        clock=lambda: NOW,
    )
    click = DecisionJob(
        "approve", REQUEST_ID, "U_BOB", "C_OPS", "1.000001", "T_LOCAL", "https://r", "d1"
    )

    # When Bob approves, he is told it cannot be approved and why
    with pytest.raises(UsageError, match=r"cannot be approved: .*3 of them were found"):
        decisions.handle(click, None)

    # Then no run was started or recorded, the request is still pending (it can be rejected)
    assert runner.started == []
    assert state.get_run(REQUEST_ID) is None
    request = state.get_request(REQUEST_ID)
    assert request is not None and request.status is RequestStatus.PENDING
    # and the card says why, for everyone
    [card] = [body for method, body in slack.calls if method == "chat.update"]
    shown = json.dumps(card["blocks"])
    assert "cannot be approved" in shown and "nothing was moved" in shown
    assert "Ask for a new count" in shown


def test_the_runner_has_no_selection_for_a_request_missing_a_pin_part() -> None:
    # Given a request whose pin lost a part (as a later part of a run would read it)
    state, _ = _broken_request()
    request = state.get_request(REQUEST_ID)
    assert request is not None
    run = RunRecord(REQUEST_ID, "orders-dlq", "U_ALICE", "U_BOB", RunStatus.RUNNING, NOW, NOW)

    # Then what the run may take cannot be built: it fails before the engine moves anything
    with pytest.raises(PinUnreadableError, match="nothing was moved"):
        approved_selection(request, run, UTC)


def test_the_rules_refuse_an_approval_but_not_a_rejection_of_an_unrunnable_request() -> None:
    state, _ = _broken_request()
    request = state.get_request(REQUEST_ID)
    rules = ApprovalRules(frozenset({"U_BOB"}))
    approve = Click("U_BOB", Decision.APPROVE, "C_OPS", "1.000001")
    reject = Click("U_BOB", Decision.REJECT, "C_OPS", "1.000001")
    assert decide(request, approve, NOW, rules).outcome is Outcome.UNRUNNABLE
    assert decide(request, reject, NOW, rules).outcome is Outcome.REJECT
