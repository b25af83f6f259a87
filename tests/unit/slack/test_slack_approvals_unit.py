"""The APPROVERS directory with user groups (who may decide is ``bot.slack.approvals.decide``'s
rule: tests/unit/slack/test_approval_rules.py)."""

from __future__ import annotations

from bot.slack.approvers import ApproverDirectory
from tests.unit.fake_slack import FakeSlackGateway


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
