"""The approval rules (``bot.slack.approvals.decide``) called directly: no I/O, no server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.slack.approvals import ApprovalRules, Click, Decision, Outcome, decide
from bot.state_model import ApprovalRequest, RequestStatus

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
RULES = ApprovalRules(approvers=frozenset({"U_REQ", "U_OK"}))


def _request(**changes: object) -> ApprovalRequest:
    request = ApprovalRequest(
        request_id="20261201-115900-abcdef",
        dlq="orders-dlq",
        selection={},
        selection_text="all messages",
        matched=3,
        requester="U_REQ",
        channel="C1",
        requested_at=NOW - timedelta(minutes=1),
        approval_expires_at=NOW + timedelta(hours=1),
        message_ts="1.000001",
    )
    for name, value in changes.items():
        setattr(request, name, value)
    return request


def _click(user: str = "U_OK", decision: Decision = Decision.APPROVE, **where: str) -> Click:
    return Click(user, decision, where.get("channel", "C1"), where.get("message_ts", "1.000001"))


def test_an_approver_decides_a_pending_request_either_way() -> None:
    assert decide(_request(), _click(), NOW, RULES).outcome is Outcome.APPROVE
    assert decide(_request(), _click(decision=Decision.REJECT), NOW, RULES).outcome is (
        Outcome.REJECT
    )


def test_a_missing_request_is_unknown() -> None:
    verdict = decide(None, _click(), NOW, RULES)
    assert verdict.outcome is Outcome.UNKNOWN_REQUEST and "does not exist" in str(verdict.reason)


@pytest.mark.parametrize("where", [{"channel": "C2"}, {"message_ts": "9.999999"}])
def test_a_button_from_another_message_changes_nothing(where: dict[str, str]) -> None:
    verdict = decide(_request(), _click(**where), NOW, RULES)
    assert verdict.outcome is Outcome.WRONG_BUTTON
    assert "does not belong to that request" in str(verdict.reason)


@pytest.mark.parametrize("decision", list(Decision))
def test_someone_outside_the_approvers_is_refused_both_ways(decision: Decision) -> None:
    verdict = decide(_request(), _click("U_NO", decision), NOW, RULES)
    assert verdict.outcome is Outcome.REFUSED and "not in APPROVERS" in str(verdict.reason)


def test_the_requester_may_not_approve_unless_self_approval_is_allowed() -> None:
    verdict = decide(_request(), _click("U_REQ"), NOW, RULES)
    assert verdict.outcome is Outcome.REFUSED and "someone else" in str(verdict.reason)
    allowed = ApprovalRules(RULES.approvers, allow_self_approval=True)
    assert decide(_request(), _click("U_REQ"), NOW, allowed).outcome is Outcome.APPROVE
    # withdrawing one's own request is fine
    reject = _click("U_REQ", Decision.REJECT)
    assert decide(_request(), reject, NOW, RULES).outcome is Outcome.REJECT


@pytest.mark.parametrize(
    "status", [RequestStatus.APPROVED, RequestStatus.REJECTED, RequestStatus.EXPIRED]
)
def test_a_decided_request_stays_decided(status: RequestStatus) -> None:
    request = _request(status=status, decided_by="U_OK", decided_at=NOW)
    assert decide(request, _click(), NOW, RULES).outcome is Outcome.ALREADY_DECIDED


def test_a_pending_request_past_its_window_expires_at_the_first_click() -> None:
    request = _request(approval_expires_at=NOW)
    assert decide(request, _click(), NOW, RULES).outcome is Outcome.EXPIRE
    assert decide(request, _click(), NOW - timedelta(seconds=1), RULES).outcome is (Outcome.APPROVE)


def test_who_may_decide_is_checked_before_whether_it_is_decided() -> None:
    # An outsider learns nothing about the request's state
    request = _request(status=RequestStatus.APPROVED, decided_by="U_OK")
    assert decide(request, _click("U_NO"), NOW, RULES).outcome is Outcome.REFUSED
