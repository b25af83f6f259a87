"""The Slack endpoint as Lambda runs it: the Bolt app behind the HTTP API route, through Bolt's
Lambda adapter. ``bot.composition.build_endpoint`` builds it once per cold start."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt.adapter.aws_lambda import SlackRequestHandler

EVENTS_PATH = "/slack/events"


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
