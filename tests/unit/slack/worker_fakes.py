"""In-memory stand-ins for what the Slack worker needs besides the state table (which is the
real ``StateStore`` on ``tests.unit.fake_state_table.FakeStateTable``): Slack's message calls
(recorded; refusals on demand) and the dispatcher."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.slack.web_api import SlackError
from bot.state import StateStore
from tests.unit.fake_state_table import FakeStateTable


@dataclass
class FakeSlack:
    """Records posts, updates and answers; ``refuse_updates`` chat.update calls fail as Slack's
    ``{"ok": false}`` does (a SlackError from the gateway)."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    refuse_updates: int = 0
    # A shared log of calls (the fake table's ``calls``), to check what happened in which order
    log: list[str] | None = None

    def _note(self, method: str, body: dict[str, Any]) -> None:
        self.calls.append((method, body))
        if self.log is not None:
            self.log.append(f"slack:{method}")

    def post(self, channel: str, message: dict[str, Any]) -> str:
        self._note("chat.postMessage", {"channel": channel, **message})
        return f"1.{len(self.calls):06d}"

    def update(self, channel: str, ts: str, message: dict[str, Any]) -> None:
        self._note("chat.update", {"channel": channel, "ts": ts, **message})
        if self.refuse_updates:
            self.refuse_updates -= 1
            raise SlackError("Slack refused to update the approval card: internal_error")

    def respond(
        self, response_url: str, message: dict[str, Any], *, ephemeral: bool = True
    ) -> None:
        self._note("response_url", {"url": response_url, **message})

    def texts(self, method: str) -> list[str]:
        return [str(body.get("text", "")) for m, body in self.calls if m == method]


@dataclass
class FakeDispatcher:
    jobs: list[dict[str, Any]] = field(default_factory=list)

    def dispatch(self, job: dict[str, Any]) -> None:
        self.jobs.append(job)


def fake_state() -> tuple[StateStore, FakeStateTable]:
    """The real StateStore on the in-memory table (and the table, to look inside)."""
    table = FakeStateTable()
    return StateStore(table), table
