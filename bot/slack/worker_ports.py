"""What the Slack worker needs of the approvers' directory and the viewers policy, as Protocols
(Slack is ``bot.slack.web_api.SlackApi``; the state is ``bot.state.StateStore`` over the state
table's gateway), so the worker's unit tests plug in small stand-ins."""

from __future__ import annotations

from typing import Protocol


class Approvers(Protocol):
    def members(self) -> frozenset[str]: ...


class Viewers(Protocol):
    """Who may read message bodies (``bot.slack.viewers`` is the policy)."""

    def refusal(self, user: str) -> str | None:
        """Why ``user`` may not see message bodies, or None if they may."""
        ...
