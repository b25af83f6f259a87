"""The daily job's parts on in-memory stand-ins for its unit tests: its stores on the in-memory
state table, its posts through the in-memory Slack gateway, and a clock the test moves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slack_sdk.models.blocks import Block

from bot.config import DailySettings, EngineSettings
from bot.daily.auto_redrive import AutoRedriver
from bot.daily.blocks import MAX_BLOCKS, render_report
from bot.daily.lease import LeaseStore
from bot.daily.posting import ReportPoster
from bot.daily.report import DailyReport
from bot.daily.report_updates import ReportUpdates
from bot.daily.run_state import RunState
from bot.daily.snapshots import SnapshotStore
from bot.engine import RedriveEngine
from tests.unit.fake_slack import FakeSlackGateway
from tests.unit.fake_state_table import FakeStateTable

CHANNEL = "C0REPORT"


def calls_to(slack: FakeSlackGateway, method: str) -> list[dict[str, Any]]:
    """The bodies of every ``method`` call ("chat.postMessage", ...), refused ones too."""
    return [body for called, body in slack.calls if called == method]


def section_texts(slack: FakeSlackGateway, method: str = "chat.postMessage") -> list[str]:
    """The mrkdwn of every section of each ``method`` call, one string per call."""
    return [
        "\n".join(b["text"]["text"] for b in body.get("blocks", []) if b.get("type") == "section")
        for body in calls_to(slack, method)
    ]


def report_blocks(report: DailyReport) -> list[dict[str, Any]]:
    """The report's message blocks, each checked by slack_sdk's models, within Slack's limit."""
    blocks = render_report(report).message.blocks
    for block in blocks:
        Block.parse(block).validate_json()  # type: ignore[union-attr]
    assert len(blocks) <= MAX_BLOCKS
    return blocks


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Stores:
    """The daily job's stores on one in-memory state table, with a poster and report updates
    around the in-memory Slack gateway."""

    table: FakeStateTable
    slack: FakeSlackGateway
    snapshots: SnapshotStore
    runs: RunState
    leases: LeaseStore
    poster: ReportPoster
    updates: ReportUpdates
    clock: Clock

    @classmethod
    def make(cls, now: datetime = datetime(2026, 3, 11, 6, 30, tzinfo=UTC)) -> Stores:
        table = FakeStateTable()
        slack = FakeSlackGateway()
        clock = Clock(now)
        runs = RunState(table)
        snapshots = SnapshotStore(table)
        daily = DailySettings.from_env({"REPORT_CHANNEL": CHANNEL})
        poster = ReportPoster(slack, runs, CHANNEL, clock)
        updates = ReportUpdates(
            poster=poster, runs=runs, snapshots=snapshots, daily=daily, clock=clock
        )
        return cls(table, slack, snapshots, runs, LeaseStore(table), poster, updates, clock)

    def auto_redriver(self, sqs: Any, **daily_env: str) -> AutoRedriver:
        """The daily job's auto-redriver on ``sqs`` (the in-memory SQS) and these stores, its
        daily settings read from ``daily_env`` (REPORT_CHANNEL is this module's)."""
        settings = EngineSettings.from_env({})
        return AutoRedriver(
            engine=RedriveEngine(sqs, max_redrives=3, timezone=settings.timezone),
            snapshots=self.snapshots,
            runs=self.runs,
            daily=DailySettings.from_env({"REPORT_CHANNEL": CHANNEL, **daily_env}),
            engine_settings=settings,
            clock=self.clock,
        )
