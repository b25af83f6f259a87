"""Lambda entry point of the 06:00 daily DLQ report (EventBridge schedule, and its own
continuations): the job is built on the first invocation, see ``bot.daily.runtime``."""

from typing import Any

from bot.daily.builder import build_job  # noqa: F401 - demos and benchmarks build jobs
from bot.daily.observability import logger, metrics
from bot.daily.runtime import run, use_job  # noqa: F401 - tests and demos swap the job


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return run(event, context)
