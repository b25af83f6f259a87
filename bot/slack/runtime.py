"""Build the Slack endpoint and the worker from an environment mapping, once per cold start.

The handlers pass ``os.environ``; tests pass a plain dict. Nothing here makes a network call:
boto3 and Slack clients connect on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slack_bolt.adapter.aws_lambda import SlackRequestHandler

from bot.config import EngineSettings, SlackSettings
from bot.slack.app import build_app
from bot.slack.credentials import resolve_bot_token, resolve_job_signer, resolve_signing_secret
from bot.slack.dispatch import LambdaDispatcher, SealingDispatcher, worker_function_name
from bot.slack.web import build_web_client

EVENTS_PATH = "/slack/events"
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class SlackEndpoint:
    """The Bolt app behind the HTTP API route, with the Lambda adapter."""

    handler: SlackRequestHandler

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        path = event.get("rawPath") or event.get("path") or EVENTS_PATH
        if path.rstrip("/") != EVENTS_PATH:
            return {"statusCode": 404, "body": "Not Found", "headers": {}}
        event.setdefault("isBase64Encoded", False)
        event.setdefault("headers", {})
        result: dict[str, Any] = self.handler.handle(event, context)  # type: ignore[no-untyped-call]
        return result


def build_endpoint(env: Mapping[str, str], *, clock: Clock = _utcnow) -> SlackEndpoint:
    """The endpoint for ``env`` (SlackSettings + EngineSettings variables)."""
    slack_settings = SlackSettings.from_env(env)
    engine_settings = EngineSettings.from_env(env)
    signing_secret = resolve_signing_secret(slack_settings)
    bot_token = resolve_bot_token(slack_settings)
    app = build_app(
        slack_settings=slack_settings,
        engine_settings=engine_settings,
        signing_secret=signing_secret,
        bot_token=bot_token,
        client=build_web_client(bot_token, slack_settings.api_url),
        dispatcher=SealingDispatcher(
            resolve_job_signer(slack_settings),
            LambdaDispatcher(worker_function_name(slack_settings)),
            clock=clock,
        ),
        clock=clock,
    )
    return SlackEndpoint(SlackRequestHandler(app))
