"""Lambda entry point for the worker: the Slack app's slow work (SQS, DynamoDB, Slack messages),
invoked asynchronously by the Slack endpoint and by itself to continue long redrives.

Built once per cold start, on the first invocation; ``reset`` lets tests rebuild it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from bot.slack.jobs import SlackWorker
from bot.slack.observability import logger, metrics
from bot.slack.worker_runtime import build_worker

_worker: SlackWorker | None = None


def worker() -> SlackWorker:
    global _worker
    if _worker is None:
        _worker = build_worker(os.environ)
    return _worker


def reset(env: Mapping[str, str] | None = None, **options: Any) -> None:
    """Forget the built worker; with ``env``, build it from that mapping now (tests)."""
    global _worker
    _worker = None if env is None else build_worker(env, **options)


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path="body.request_id || body.run_id")
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return worker().handle(event, context)
