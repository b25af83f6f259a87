"""The one Slack workspace (and Enterprise Grid org) the app serves, and the check that every
request comes from it (pure, no I/O).

Bolt's signature check proves a request came from Slack, not from whom: in a Slack Connect
channel, people of other organisations can run the slash command and click the buttons too. So
every team and enterprise id a request carries must be the installed one: for a slash command
``team_id`` and ``enterprise_id``; for a button ``team.id``, ``user.team_id`` and
``enterprise.id``. A request that names no team at all is refused as well (fail closed).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from bot.config import SlackSettings
from bot.errors import ConfigError

REFUSAL = (
    "This app serves only the workspace it is installed in; requests from other workspaces "
    "or organisations (for example through Slack Connect) are refused. Nothing was done."
)


def _id(value: Any) -> str | None:
    """An id as a request carries it: a string, or an object with ``id`` (``team``,
    ``enterprise``); ``None`` when absent or null."""
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def request_teams(body: Mapping[str, Any]) -> list[str | None]:
    """Every team id field the request has (``None`` for one present but empty or malformed)."""
    found: list[str | None] = []
    if "team_id" in body:
        found.append(_id(body["team_id"]))
    if "team" in body:
        found.append(_id(body["team"]))
    user = body.get("user")
    if isinstance(user, Mapping) and "team_id" in user:
        found.append(_id(user["team_id"]))
    return found


def request_enterprises(body: Mapping[str, Any]) -> list[str]:
    """Every enterprise id the request names (absent and null ones left out: a workspace outside
    Enterprise Grid sends ``"enterprise": null``)."""
    found = [_id(body.get("enterprise_id")), _id(body.get("enterprise"))]
    team = body.get("team")
    if isinstance(team, Mapping):
        found.append(_id(team.get("enterprise_id")))
    return [value for value in found if value is not None]


class InstalledWorkspace(NamedTuple):
    """``SLACK_TEAM_ID`` (required) and ``SLACK_ENTERPRISE_ID`` (optional). A NamedTuple, not a
    frozen dataclass: the endpoint defines it at cold start, where that costs a few times more."""

    team_id: str
    enterprise_id: str | None = None

    @classmethod
    def from_settings(cls, settings: SlackSettings) -> InstalledWorkspace:
        """The installed workspace, or a ConfigError: the endpoint never runs with the check off."""
        if not settings.team_id:
            raise ConfigError(
                "SLACK_TEAM_ID is not set (the id, T…, of the Slack workspace the app is "
                "installed in: the team_id that auth.test answers); requests from any other "
                "workspace are refused"
            )
        return cls(team_id=settings.team_id, enterprise_id=settings.enterprise_id)

    def refusal(self, body: Mapping[str, Any]) -> str | None:
        """Why this request is refused, or None when it comes from the installed workspace.

        Each team id it carries must be ours, and it must carry one. With SLACK_ENTERPRISE_ID
        set, it must name that enterprise and no other; without it, enterprise ids are not
        compared (team ids are unique across Slack, so the team check already decides)."""
        teams = request_teams(body)
        if not teams or any(team != self.team_id for team in teams):
            return REFUSAL
        if self.enterprise_id is not None:
            enterprises = request_enterprises(body)
            if not enterprises or any(e != self.enterprise_id for e in enterprises):
                return REFUSAL
        return None
