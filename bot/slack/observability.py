"""Structured logs and metrics (powertools), shared by the Slack endpoint and the worker.

Each log line carries the request's correlation id (the approval request or run id) through
``extra``; the handlers flush metrics with ``metrics.log_metrics``.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from bot.printable import visible_json

SERVICE = "dlq-redrive"
NAMESPACE = "DlqRedrive"

# Log lines can quote message text: control characters in them are written as JSON escapes.
logger = Logger(service=SERVICE, json_serializer=visible_json)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def count(name: str, value: int = 1) -> None:
    """Add ``value`` to the counter metric ``name`` (RedrivesRequested, MessagesMoved, ...)."""
    if value:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
