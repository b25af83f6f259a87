"""Lambda entry point of the alert checks between the daily reports (their schedule)."""

import os

from bot.alerts.runtime import logger, metrics, run
from bot.composition import ColdStart, build_alert_job

job = ColdStart(build_alert_job, os.environ)  # built on the first invocation; tests swap it


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, object], context: object) -> dict[str, object]:
    return run(job(), event, context)
