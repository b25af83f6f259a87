"""The installed-workspace check on request bodies as Bolt parses them (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.config import SlackSettings
from bot.errors import ConfigError
from bot.slack.workspace import REFUSAL, InstalledWorkspace

OURS = InstalledWorkspace(team_id="T_LOCAL")
GRID = InstalledWorkspace(team_id="T_LOCAL", enterprise_id="E_LOCAL")


def command(**fields: str) -> dict[str, Any]:
    return {"command": "/dlq-redrive", "team_id": "T_LOCAL", "user_id": "U1", **fields}


def button(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": "T_LOCAL", "domain": "example"},
        "enterprise": None,
        "user": {"id": "U1", "team_id": "T_LOCAL"},
    }
    body.update(fields)
    return body


@pytest.mark.parametrize(
    "body",
    [
        command(),
        command(enterprise_id=""),  # Slack sends it empty outside Enterprise Grid
        button(),
        button(enterprise={"id": "E_ANY", "name": "x"}),  # not compared without the setting
    ],
)
def test_requests_of_the_installed_workspace_pass(body: dict[str, Any]) -> None:
    assert OURS.refusal(body) is None


@pytest.mark.parametrize(
    "body",
    [
        command(team_id="T_OTHER"),
        command(team_id=""),
        {"command": "/dlq-redrive", "user_id": "U1"},  # no team at all
        button(team={"id": "T_OTHER"}),
        button(user={"id": "U1", "team_id": "T_PARTNER"}),  # a Slack Connect user
        button(team=None),  # an org-wide install's payload: no team to check, so refused
        button(team={"id": ["T_LOCAL"]}),  # not a string
        {"type": "block_actions", "user": {"id": "U1"}},
    ],
)
def test_requests_naming_another_or_no_workspace_are_refused(body: dict[str, Any]) -> None:
    assert OURS.refusal(body) == REFUSAL


def test_with_an_enterprise_set_every_enterprise_named_must_be_it() -> None:
    assert GRID.refusal(command(enterprise_id="E_LOCAL")) is None
    assert GRID.refusal(button(enterprise={"id": "E_LOCAL"})) is None
    assert GRID.refusal(command()) == REFUSAL  # names none
    assert GRID.refusal(command(enterprise_id="E_OTHER")) == REFUSAL
    other_in_team = button(
        enterprise={"id": "E_LOCAL"}, team={"id": "T_LOCAL", "enterprise_id": "E_OTHER"}
    )
    assert GRID.refusal(other_in_team) == REFUSAL


def test_the_installed_workspace_is_required() -> None:
    env = {"SLACK_BOT_TOKEN": "x"}
    with pytest.raises(ConfigError, match="SLACK_TEAM_ID is not set"):
        InstalledWorkspace.from_settings(SlackSettings.from_env(env))
    settings = SlackSettings.from_env(
        {**env, "SLACK_TEAM_ID": " T_LOCAL ", "SLACK_ENTERPRISE_ID": "E_LOCAL"}
    )
    assert InstalledWorkspace.from_settings(settings) == GRID
