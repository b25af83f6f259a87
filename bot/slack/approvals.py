"""Who may decide an approval request (pure rules) and the APPROVERS directory.

The rules run on the server against the stored request; the button only carries the request id.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

from bot.slack.web import SlackGateway
from bot.state import ApprovalRequest, RequestStatus

GROUP_CACHE_S = 300.0  # user-group membership is re-read at most this often per container


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"

    @property
    def status(self) -> RequestStatus:
        return RequestStatus.APPROVED if self is Decision.APPROVE else RequestStatus.REJECTED


def refusal(
    request: ApprovalRequest,
    user: str,
    decision: Decision,
    *,
    approvers: frozenset[str],
    allow_self_approval: bool,
) -> str | None:
    """Why ``user`` may not make ``decision`` on ``request``, or None if they may.

    Already-decided and expired requests are settled by the conditional write, not here, so that
    exactly one answer wins under concurrency.
    """
    if user not in approvers:
        return (
            "Only approvers can approve or reject redrives, and you are not in APPROVERS. "
            "Ask one of them to review it."
        )
    if decision is Decision.APPROVE and user == request.requester and not allow_self_approval:
        return "You asked for this redrive, so someone else has to approve it."
    return None


def already_decided(request: ApprovalRequest, tz_format: Callable[[datetime], str]) -> str:
    """What a late clicker is told."""
    when = f" at {tz_format(request.decided_at)}" if request.decided_at else ""
    if request.status is RequestStatus.EXPIRED:
        return f"This request expired{when}; ask for a new one with `/dlq-redrive redrive`."
    who = f"<@{request.decided_by}>" if request.decided_by else "someone"
    return f"Already {request.status.value} by {who}{when}; nothing more to do."


class ApproverDirectory:
    """APPROVERS expanded: user ids as given, user-group ids (``S…``) through Slack."""

    def __init__(
        self,
        configured: tuple[str, ...],
        slack: SlackGateway,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.users = frozenset(a for a in configured if not a.startswith("S"))
        self.groups = tuple(a for a in configured if a.startswith("S"))
        self.slack = slack
        self.clock = clock
        self._cache: tuple[float, frozenset[str]] | None = None
        self._lock = threading.Lock()

    def members(self) -> frozenset[str]:
        """Everyone who may decide; SlackError if a user group cannot be read (fail closed)."""
        if not self.groups:
            return self.users
        with self._lock:
            now = self.clock()
            if self._cache is not None and now - self._cache[0] < GROUP_CACHE_S:
                return self._cache[1]
            members = set(self.users)
            for group in self.groups:
                members.update(self.slack.usergroup_members(group))
            self._cache = (now, frozenset(members))
            return self._cache[1]
