"""What the Slack worker's unit tests run on: the real ``StateStore`` on the in-memory state
table (``tests.unit.fake_state_table``), and a dispatcher that keeps what it was handed (Slack is
``tests.unit.fake_slack.FakeSlackGateway``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.state import StateStore
from tests.unit.fake_state_table import FakeStateTable


@dataclass
class FakeDispatcher:
    jobs: list[dict[str, Any]] = field(default_factory=list)

    def dispatch(self, job: dict[str, Any]) -> None:
        self.jobs.append(job)


def fake_state() -> tuple[StateStore, FakeStateTable]:
    """The real StateStore on the in-memory table (and the table, to look inside)."""
    table = FakeStateTable()
    return StateStore(table), table
