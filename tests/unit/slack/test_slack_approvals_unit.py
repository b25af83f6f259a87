"""Who may decide (pure rules) and the APPROVERS directory with user groups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.slack.approvals import ApprovalRules, Decision, refusal
from bot.slack.approvers import ApproverDirectory
from bot.state_model import ApprovalRequest
from tests.unit.fake_slack import FakeSlackGateway


def _request(requester: str = "U_REQ") -> ApprovalRequest:
    now = datetime.now(UTC)
    return ApprovalRequest(
        "20261125-030000-abcdef",
        "orders-dlq",
        {},
        "all",
        3,
        requester,
        "C1",
        now,
        now + timedelta(hours=1),
    )


APPROVERS = frozenset({"U_REQ", "U_OK"})
STRICT = ApprovalRules(APPROVERS)
SELF = ApprovalRules(APPROVERS, allow_self_approval=True)


def test_approver_may_approve_and_reject() -> None:
    for decision in Decision:
        assert refusal(_request(), "U_OK", decision, STRICT) is None


def test_non_approver_is_refused_both_ways() -> None:
    for decision in Decision:
        why = refusal(_request(), "U_NO", decision, STRICT)
        assert why is not None and "not in APPROVERS" in why


def test_self_approval_only_when_allowed() -> None:
    assert "someone else" in str(refusal(_request(), "U_REQ", Decision.APPROVE, STRICT))
    assert refusal(_request(), "U_REQ", Decision.APPROVE, SELF) is None
    # withdrawing one's own request is fine
    assert refusal(_request(), "U_REQ", Decision.REJECT, STRICT) is None


def test_user_groups_are_expanded_and_cached() -> None:
    slack = FakeSlackGateway(usergroups={"S_ONCALL": ["U_A", "U_B"]})
    now = [0.0]
    directory = ApproverDirectory(("U_X", "S_ONCALL"), slack, clock=lambda: now[0])

    assert directory.members() == {"U_X", "U_A", "U_B"}
    slack.usergroups["S_ONCALL"] = ["U_C"]
    assert directory.members() == {"U_X", "U_A", "U_B"}  # cached
    now[0] = 301.0
    assert directory.members() == {"U_X", "U_C"}  # re-read after 5 minutes
    assert slack.asked("usergroups.users.list", "usergroup") == ["S_ONCALL", "S_ONCALL"]
