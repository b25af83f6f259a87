"""Lambda entry point for Slack (HTTP API payload 2.0 or a Function URL, POST /slack/events)."""

import os

import bot.slack.app  # noqa: F401 - Bolt and the listeners load at init, not on the first request
from bot.composition import ColdStart, build_endpoint
from bot.slack.runtime import SlackEndpoint

endpoint: ColdStart[SlackEndpoint] = ColdStart(build_endpoint, os.environ)  # tests reset it


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    return endpoint().handle(event, context)
