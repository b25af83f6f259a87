"""Lambda entry point of the worker's and the daily report's on-failure destination.

PLACEHOLDER (infra, issue 11): the stack routes failed invocations here; the composition root
wires ``bot.slack.failures`` / ``bot.daily.failures`` in its place. Until then it only logs.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

logger = Logger(service="dlq-redrive-failed")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    logger.error("invocation failed", extra={"request": event.get("requestContext", {})})
    return {"status": "logged"}
