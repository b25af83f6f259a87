"""The APPROVERS directory: user ids as configured, user groups expanded through Slack."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

GROUP_CACHE_S = 300.0  # user-group membership is re-read at most this often per container


class UserGroups(Protocol):
    def usergroup_members(self, usergroup: str) -> list[str]: ...


class ApproverDirectory:
    """APPROVERS expanded: user ids as given, user-group ids (``S…``) through Slack."""

    def __init__(
        self,
        configured: tuple[str, ...],
        slack: UserGroups,
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
