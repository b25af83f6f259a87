"""Lambda entry point for the worker (the Slack app's slow work), invoked asynchronously."""

import os

from bot.composition import ColdStart, build_worker
from bot.slack.observability import logger, metrics

worker = ColdStart(build_worker, os.environ)  # built on the first invocation; tests reset it


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path="body.request_id || body.run_id")
def handler(event: dict[str, object], context: object) -> dict[str, object]:
    return worker().handle(event, context)
