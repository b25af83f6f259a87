"""Who may read message bodies (peek, and the daily report's Peek button).

Bodies often hold personal data, so being in an allowed channel is not enough. A person may read
them when all of these hold:

- they are an approver or a viewer: ``APPROVERS`` ∪ ``VIEWERS``, user ids and user groups
  (``S…``, expanded through Slack by the approvers' directory, ``bot.slack.approvers``);
- Slack's users.info says they are a full member of the installed workspace: not a guest
  (``is_restricted`` / ``is_ultra_restricted``), not of another workspace (``team_id`` not ours,
  or ``is_stranger``, as for a Slack Connect user), not deactivated (``deleted``), not a bot.

Every lookup fails closed: when Slack cannot be asked, nobody is shown a body. users.info answers
are kept for a few minutes per container, so a burst of peeks asks Slack once per person.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from bot.config import SlackSettings
from bot.errors import ConfigError
from bot.slack.approvers import ApproverDirectory, UserGroups
from bot.slack.observability import logger
from bot.slack.web_api import SlackError

USER_CACHE_S = 300.0  # a users.info answer is reused this long (a guest made a member, ...)

NOT_A_VIEWER = (
    "Message bodies can hold personal data: only approvers and the people in VIEWERS may "
    "read them. Ask one of them to look, or ask an admin to add you to VIEWERS."
)
GUEST = "Guests of this workspace may not read message bodies."
OTHER_WORKSPACE = (
    "Only members of the workspace this app is installed in may read message bodies; your "
    "account belongs to another workspace (for example through Slack Connect)."
)
INACTIVE = "This account may not read message bodies (it is deactivated or a bot)."
UNCHECKED = (
    "Could not check with Slack who may read message bodies, so none are shown. "
    "Try again in a moment."
)


class SlackUsers(UserGroups, Protocol):
    """users.info (the user object as Slack documents it) and user-group members."""

    def user_info(self, user: str) -> Mapping[str, Any]: ...


def _flag(user: Mapping[str, Any], name: str) -> bool:
    return user.get(name) is True


def account_refusal(user: Mapping[str, Any], team_id: str) -> str | None:
    """Why the account users.info describes may not read bodies, or None (pure).

    In an Enterprise Grid org a member's ``team_id`` may be another workspace of the org; they
    count as ours when ``enterprise_user.teams`` lists the installed workspace."""
    if _flag(user, "deleted") or _flag(user, "is_bot") or _flag(user, "is_app_user"):
        return INACTIVE
    if _flag(user, "is_stranger"):
        return OTHER_WORKSPACE
    enterprise_user = user.get("enterprise_user")
    teams = enterprise_user.get("teams") if isinstance(enterprise_user, Mapping) else None
    in_org_workspace = isinstance(teams, list) and team_id in teams
    if user.get("team_id") != team_id and not in_org_workspace:
        return OTHER_WORKSPACE
    if _flag(user, "is_restricted") or _flag(user, "is_ultra_restricted"):
        return GUEST
    return None


class ViewerPolicy:
    """``refusal(user_id)``: why that person may not read message bodies, or None."""

    def __init__(
        self,
        allowed: ApproverDirectory,
        slack: SlackUsers,
        team_id: str,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.allowed = allowed
        self.slack = slack
        self.team_id = team_id
        self.clock = clock
        self._users: dict[str, tuple[float, Mapping[str, Any]]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: SlackSettings, slack: SlackUsers) -> ViewerPolicy:
        """APPROVERS ∪ VIEWERS of the installed workspace (SLACK_TEAM_ID, required)."""
        if not settings.team_id:
            raise ConfigError(
                "SLACK_TEAM_ID is not set (the id, T…, of the Slack workspace the app is "
                "installed in): only its members may read message bodies"
            )
        everyone = tuple(dict.fromkeys(settings.approvers + settings.viewers))
        return cls(ApproverDirectory(everyone, slack), slack, settings.team_id)

    def refusal(self, user_id: str) -> str | None:
        """Why ``user_id`` may not read message bodies, or None if they may (fail closed)."""
        try:
            if user_id not in self.allowed.members():
                return NOT_A_VIEWER
            user = self._user(user_id)
        except SlackError as exc:  # Slack could not be asked: show nothing
            logger.warning("viewer check failed", extra={"user": user_id, "error": str(exc)})
            return UNCHECKED
        return account_refusal(user, self.team_id)

    def _user(self, user_id: str) -> Mapping[str, Any]:
        with self._lock:
            cached = self._users.get(user_id)
            if cached is not None and self.clock() - cached[0] < USER_CACHE_S:
                return cached[1]
        user = self.slack.user_info(user_id)  # outside the lock: one slow lookup blocks no one
        with self._lock:
            self._users[user_id] = (self.clock(), user)
        return user
