"""The real Slack endpoint (Bolt, every listener and check) whose dispatcher records the jobs it
would hand to the worker, and whose Slack client and every response_url lead nowhere: a test
sees what is answered in the ack and what is dispatched, and any network call on the ack path
fails."""

from __future__ import annotations

from datetime import UTC, datetime

from slack_sdk import WebClient

from bot.config import EngineSettings, SlackSettings
from bot.slack.app import build_app
from bot.slack.protocol import Job
from bot.slack.runtime import SlackEndpoint
from infra.local.slack_events import LOCAL_TEAM

SECRET = "recording-endpoint-secret"
NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing listens there


class RecordingDispatcher:
    def __init__(self) -> None:
        self.jobs: list[Job] = []

    def dispatch(self, job: Job) -> None:
        self.jobs.append(job)


def recording_endpoint(dispatcher: RecordingDispatcher) -> SlackEndpoint:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-x",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_TEAM_ID": LOCAL_TEAM,
        "TIMEZONE": "UTC",
    }
    app = build_app(
        slack_settings=SlackSettings.from_env(env),
        engine_settings=EngineSettings.from_env(env),
        signing_secret=SECRET,
        bot_token="xoxb-x",
        client=WebClient(token="xoxb-x", base_url=f"{NOWHERE}/api/"),
        dispatcher=dispatcher,
        clock=lambda: datetime(2026, 11, 25, tzinfo=UTC),
    )
    return SlackEndpoint(app)
