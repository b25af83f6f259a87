"""The Slack endpoint as Lambda runs it: the Bolt app behind the HTTP API route (payload 2.0, or
a Function URL). ``bot.composition.build_endpoint`` builds it once per cold start.

It does what Bolt's Lambda adapter does for a POST (``to_bolt_request``, ``App.dispatch``,
``to_aws_response``) except parse the body: Bolt's parser turns any form body containing the word
"payload" into ``{}`` (see ``bot.slack.request_body``), so the request is built with our parser.
Bolt still checks the signature against the raw body, byte for byte as Slack signed it.

No lazy listeners: Bolt copies a request for one by parsing its raw body again with its parser.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from slack_bolt import App, BoltRequest
from slack_bolt.request.internals import build_context

from bot.slack.observability import logger
from bot.slack.request_body import MalformedRequestError, parse_request_body

EVENTS_PATH = "/slack/events"


def slack_request(event: Mapping[str, Any]) -> BoltRequest:
    """Bolt's request for an HTTP API event: headers and query as Bolt normalises them, the raw
    body (what the signature covers) and its fields by ``parse_request_body``.
    MalformedRequestError for a body Slack never sends."""
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):  # Function URLs send form bodies base64-encoded
        try:
            raw = base64.b64decode(raw, validate=True).decode("utf-8")
        except ValueError as exc:
            raise MalformedRequestError("the body is not base64-encoded UTF-8 text") from exc
    # Built empty, so Bolt's parser never sees the body; then given the body and its fields.
    request = BoltRequest(
        body="", query=event.get("queryStringParameters") or {}, headers=event.get("headers") or {}
    )
    request.raw_body = raw
    request.body = parse_request_body(raw, request.content_type)
    request.context = build_context(request.context, request.body)
    return request


class SlackEndpoint:
    """The Bolt app behind the HTTP API route (a plain class: nothing compares or prints it, and
    @dataclass would compile its methods at the endpoint's cold start)."""

    def __init__(self, app: App) -> None:
        self.app = app

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        path = event.get("rawPath") or event.get("path") or EVENTS_PATH
        http = event.get("requestContext", {})
        method = http.get("http", {}).get("method") or http.get("httpMethod")
        if path.rstrip("/") != EVENTS_PATH or method != "POST":
            return {"statusCode": 404, "body": "Not Found", "headers": {}}
        try:
            request = slack_request(event)
        except MalformedRequestError as exc:
            # Before the signature check, and harmless: nothing was done, and the answer says
            # only what is wrong with the body the sender sent.
            logger.warning("malformed Slack request refused", extra={"reason": str(exc)})
            return {
                "statusCode": 400,
                "body": f"Bad request: {exc}; nothing was done.",
                "headers": {"content-type": "text/plain; charset=utf-8"},
            }
        response = self.app.dispatch(request)
        return {
            "statusCode": response.status,
            "body": response.body,
            "headers": response.first_headers(),
        }
