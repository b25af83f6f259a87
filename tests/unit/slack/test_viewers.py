"""Who may read message bodies (bot.slack.viewers), against the in-memory Slack
(tests/unit/fake_slack.py)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.config import SlackSettings
from bot.errors import ConfigError
from bot.slack import viewers
from bot.slack.approvers import ApproverDirectory
from bot.slack.viewers import USER_CACHE_S, ViewerPolicy, account_refusal
from tests.unit.fake_slack import FakeSlackGateway

TEAM = "T_LOCAL"


def member(user_id: str, **fields: Any) -> dict[str, Any]:
    """A user object as users.info returns it for a full member of TEAM."""
    return {
        "id": user_id,
        "team_id": TEAM,
        "deleted": False,
        "is_bot": False,
        "is_app_user": False,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_stranger": False,
        **fields,
    }


def directory_of(users: list[dict[str, Any]], groups: dict[str, list[str]]) -> FakeSlackGateway:
    """The shared Slack fake, knowing ``users`` and the members of ``groups``."""
    return FakeSlackGateway(users={u["id"]: u for u in users}, usergroups=groups)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def policy(
    directory: FakeSlackGateway, configured: tuple[str, ...], clock: Clock | None = None
) -> ViewerPolicy:
    clock = clock or Clock()
    return ViewerPolicy(ApproverDirectory(configured, directory), directory, TEAM, clock=clock)


def test_an_approver_or_viewer_who_is_a_full_member_may_read_bodies() -> None:
    directory = directory_of(
        [member("U_BOB"), member("U_VERA"), member("U_GRACE")], {"S_OPS": ["U_GRACE"]}
    )
    rules = policy(directory, ("U_BOB", "U_VERA", "S_OPS"))

    assert rules.refusal("U_BOB") is None
    assert rules.refusal("U_VERA") is None
    assert rules.refusal("U_GRACE") is None  # through the user group


def test_a_member_who_is_neither_approver_nor_viewer_is_refused() -> None:
    directory = directory_of([member("U_MALLORY")], {})

    assert policy(directory, ("U_BOB",)).refusal("U_MALLORY") == viewers.NOT_A_VIEWER
    assert directory.asked("users.info", "user") == []  # not configured: Slack need not be asked


@pytest.mark.parametrize(
    ("fields", "refusal"),
    [
        ({"is_restricted": True}, viewers.GUEST),  # multi-channel guest
        ({"is_restricted": True, "is_ultra_restricted": True}, viewers.GUEST),  # single-channel
        ({"team_id": "T_OTHER"}, viewers.OTHER_WORKSPACE),  # Slack Connect user
        ({"is_stranger": True}, viewers.OTHER_WORKSPACE),
        ({"deleted": True}, viewers.INACTIVE),
        ({"is_bot": True}, viewers.INACTIVE),
        ({"is_app_user": True}, viewers.INACTIVE),
    ],
)
def test_a_configured_viewer_who_is_not_a_full_member_is_refused(
    fields: dict[str, Any], refusal: str
) -> None:
    # Given U_VERA in VIEWERS, but Slack says she is a guest, of another workspace, ...
    directory = directory_of([member("U_VERA", **fields)], {})

    assert policy(directory, ("U_VERA",)).refusal("U_VERA") == refusal


def test_a_member_of_another_workspace_of_the_same_grid_org_counts_as_ours() -> None:
    user = member("W_ANA", team_id="T_HOME", enterprise_user={"teams": ["T_HOME", TEAM]})
    assert account_refusal(user, TEAM) is None
    stranger = member("W_ZED", team_id="T_HOME", enterprise_user={"teams": ["T_HOME"]})
    assert account_refusal(stranger, TEAM) == viewers.OTHER_WORKSPACE


def test_an_answer_without_a_team_is_not_ours() -> None:
    user = member("U_X")
    del user["team_id"]
    assert account_refusal(user, TEAM) == viewers.OTHER_WORKSPACE


def test_when_slack_cannot_be_asked_nobody_reads_bodies() -> None:
    # Given a viewer group whose members cannot be read, and a user Slack does not know
    directory = directory_of([member("U_BOB")], {})
    assert policy(directory, ("U_BOB", "S_GONE")).refusal("U_BOB") == viewers.UNCHECKED
    assert policy(directory, ("U_GHOST",)).refusal("U_GHOST") == viewers.UNCHECKED

    # And with Slack unreachable, not even a configured member is shown bodies
    directory.unreachable = True
    assert policy(directory, ("U_BOB",)).refusal("U_BOB") == viewers.UNCHECKED


def test_users_info_is_asked_once_per_person_for_a_few_minutes() -> None:
    clock = Clock()
    directory = directory_of([member("U_BOB"), member("U_VERA")], {})
    rules = policy(directory, ("U_BOB", "U_VERA"), clock)

    for _ in range(5):
        assert rules.refusal("U_BOB") is None
    rules.refusal("U_VERA")
    assert directory.asked("users.info", "user") == ["U_BOB", "U_VERA"]

    # When Bob becomes a guest, the policy learns it once the cached answer is old
    directory.users["U_BOB"] = member("U_BOB", is_restricted=True)
    clock.now += USER_CACHE_S - 1
    assert rules.refusal("U_BOB") is None
    clock.now += 2
    assert rules.refusal("U_BOB") == viewers.GUEST
    assert directory.asked("users.info", "user") == ["U_BOB", "U_VERA", "U_BOB"]


def test_a_failed_lookup_is_not_cached() -> None:
    directory = directory_of([member("U_BOB")], {})
    rules = policy(directory, ("U_BOB",))
    directory.unreachable = True
    assert rules.refusal("U_BOB") == viewers.UNCHECKED
    directory.unreachable = False
    assert rules.refusal("U_BOB") is None


def test_the_policy_is_built_from_approvers_and_viewers_of_the_installed_team() -> None:
    env = {"SLACK_BOT_TOKEN": "x", "APPROVERS": "U_BOB,S_OPS", "VIEWERS": "U_VERA,S_OPS"}
    directory = directory_of([member("U_BOB"), member("U_VERA"), member("U_G")], {"S_OPS": ["U_G"]})

    with pytest.raises(ConfigError, match="SLACK_TEAM_ID"):
        ViewerPolicy.from_settings(SlackSettings.from_env(env), directory)
    rules = ViewerPolicy.from_settings(
        SlackSettings.from_env({**env, "SLACK_TEAM_ID": TEAM}), directory
    )

    assert [rules.refusal(u) for u in ("U_BOB", "U_VERA", "U_G")] == [None, None, None]
    assert rules.refusal("U_OTHER") == viewers.NOT_A_VIEWER
    assert directory.asked("usergroups.users.list", "usergroup") == [
        "S_OPS"
    ]  # listed once, though configured twice
