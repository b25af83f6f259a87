"""The daily function's structured logs and metrics (powertools); its handler flushes the
metrics with ``metrics.log_metrics``."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

from bot.printable import visible_json

# Log lines can quote message text: control characters in them are written as JSON escapes.
logger = Logger(service="dlq-redrive-daily", json_serializer=visible_json)
metrics = Metrics(namespace="DlqRedrive", service="daily-report")
