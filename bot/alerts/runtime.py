"""Runs one alert check for the alerts function's handler (the job is built once per cold start
by ``bot.composition.build_alert_job``), with its structured logs and metrics (powertools)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from bot.alerts.job import AlertJob
from bot.daily.runtime import answered
from bot.printable import visible_json

# Log lines can quote queue names: control characters in them are written as JSON escapes.
logger = Logger(service="dlq-redrive-alerts", json_serializer=visible_json)
metrics = Metrics(namespace="DlqRedrive", service="alerts")


def run(job: AlertJob, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Run ``job`` for ``event`` (see ``bot.daily.runtime.answered``) and count what it did."""
    outcome = answered(
        job.handle,
        event,
        context,
        logger=logger,
        metrics=metrics,
        failed="AlertCheckFailed",
        what="alert check",
    )
    if outcome.get("replayed") or outcome.get("status") == "duplicate_in_progress":
        metrics.add_metric(name="DuplicateEvents", unit=MetricUnit.Count, value=1)
    elif outcome.get("status") == "checked":
        metrics.add_metric(name="DlqAlerts", unit=MetricUnit.Count, value=len(outcome["alerted"]))
        metrics.add_metric(
            name="DlqReadFailures", unit=MetricUnit.Count, value=len(outcome["unread"])
        )
    return outcome
