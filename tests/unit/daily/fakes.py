"""In-memory stand-ins for the daily job's unit tests: Slack's Web API methods answered by the
local Slack stand-in's state (infra/local/slack_api.py: the same payload checks, the same
answers and history, without HTTP), and the job's stores on the in-memory state table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.config import DailySettings
from bot.daily.lease import LeaseStore
from bot.daily.posting import ReportPoster
from bot.daily.report_updates import ReportUpdates
from bot.daily.snapshots import RunState, SnapshotStore
from infra.local.slack_api import FakeSlack, SlackCall
from tests.unit.fake_state_table import FakeStateTable

CHANNEL = "C0REPORT"


class InProcessSlack:
    """The WebClient methods the daily report calls. As slack_sdk does, an answer with
    ``"ok": false`` raises ``SlackApiError`` carrying Slack's answer (its ``error`` code)."""

    def __init__(self, state: FakeSlack | None = None) -> None:
        self.state = state if state is not None else FakeSlack()

    def _call(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        body = {k: v for k, v in body.items() if v is not None}
        call = SlackCall(method, body, {}, f"/api/{method}")
        refusal = self.state.refusal(method, body)
        if refusal is not None:
            call.refused, call.problem = refusal
            answer: dict[str, Any] = {"ok": False, "error": refusal[0]}
        else:
            answer = self.state.answer(method, body)
        self.state.record(call)
        if not answer.get("ok"):
            # slack_sdk does not type SlackApiError.__init__
            raise SlackApiError(  # type: ignore[no-untyped-call]
                f"The request to the Slack API failed. (url: {method})", answer
            )
        return answer

    def chat_postMessage(self, **body: Any) -> dict[str, Any]:
        return self._call("chat.postMessage", body)

    def chat_update(self, **body: Any) -> dict[str, Any]:
        return self._call("chat.update", body)

    def conversations_history(self, **body: Any) -> dict[str, Any]:
        return self._call("conversations.history", body)

    def conversations_replies(self, **body: Any) -> dict[str, Any]:
        return self._call("conversations.replies", body)

    def texts(self, method: str = "chat.postMessage") -> list[str]:
        """The mrkdwn of every section of each ``method`` call, one string per call."""
        return [
            "\n".join(
                b["text"]["text"] for b in c.body.get("blocks", []) if b.get("type") == "section"
            )
            for c in self.state.calls_to(method)
        ]


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Stores:
    """The daily job's stores on one in-memory state table, with a poster and report updates
    around an in-process Slack."""

    table: FakeStateTable
    slack: InProcessSlack
    snapshots: SnapshotStore
    runs: RunState
    leases: LeaseStore
    poster: ReportPoster
    updates: ReportUpdates
    clock: Clock

    @classmethod
    def make(cls, now: datetime = datetime(2026, 3, 11, 6, 30, tzinfo=UTC)) -> Stores:
        table = FakeStateTable()
        slack = InProcessSlack()
        clock = Clock(now)
        runs = RunState(table)
        snapshots = SnapshotStore(table)
        daily = DailySettings.from_env({"REPORT_CHANNEL": CHANNEL})
        poster = ReportPoster(slack, runs, CHANNEL, clock)
        updates = ReportUpdates(
            poster=poster, runs=runs, snapshots=snapshots, daily=daily, clock=clock
        )
        return cls(table, slack, snapshots, runs, LeaseStore(table), poster, updates, clock)
