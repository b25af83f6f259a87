"""Lambda entry point of the 06:00 daily DLQ report (its schedule, and its own continuations)."""

import os

from bot.composition import ColdStart, build_daily_job
from bot.daily.observability import logger, metrics
from bot.daily.runtime import run

job = ColdStart(build_daily_job, os.environ)  # built on the first invocation; tests swap it


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, object], context: object) -> dict[str, object]:
    return run(job(), event, context)
