"""Lambda entry point for Slack (HTTP API payload 2.0 or a Function URL, POST /slack/events).

The app is built once per cold start, on the first request (nothing touches the network at
import); ``reset`` lets tests build it again from another environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from bot.slack.runtime import SlackEndpoint, build_endpoint

_endpoint: SlackEndpoint | None = None


def endpoint() -> SlackEndpoint:
    global _endpoint
    if _endpoint is None:
        _endpoint = build_endpoint(os.environ)
    return _endpoint


def reset(env: Mapping[str, str] | None = None) -> None:
    """Forget the built app; with ``env``, build it from that mapping now (tests)."""
    global _endpoint
    _endpoint = None if env is None else build_endpoint(env)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return endpoint().handle(event, context)
