"""Lambda entry point of the on-failure destination of the worker and the daily report."""

import os

from bot.composition import ColdStart, build_failure_router
from bot.slack.observability import logger

router = ColdStart(build_failure_router, os.environ)  # built on the first record


@logger.inject_lambda_context
def handler(event: dict[str, object], context: object) -> dict[str, object]:
    return router().handle(event)
