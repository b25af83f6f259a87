"""The daily function's job, built once per cold start on the first invocation (no network at
import), and the metrics of each outcome. ``use_job`` swaps the job, for tests and demos."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from bot.daily.builder import build_job
from bot.daily.job import DailyJob
from bot.daily.observability import logger, metrics
from bot.errors import AwsError, DlqRedriveError

_job: DailyJob | None = None


def use_job(job: DailyJob | None) -> None:
    """Replace the cold-start job (``None``: build it again from ``os.environ`` next time)."""
    global _job
    _job = job


def _get_job() -> DailyJob:
    global _job
    if _job is None:
        _job = build_job(os.environ)
    return _job


def run(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Run the job for ``event``; what a retry cannot cure is answered, the rest raised."""
    try:
        outcome = _get_job().handle(event, context)
    except DlqRedriveError as exc:
        metrics.add_metric(name="DailyReportFailed", unit=MetricUnit.Count, value=1)
        if isinstance(exc, AwsError):
            raise  # transient: Lambda retries (the run's lease was released)
        # Configuration or a malformed event: a retry cannot help, so answer and stop.
        logger.error("daily report not run: %s", exc)
        return {"status": "error", "error": str(exc)}
    except Exception:
        metrics.add_metric(name="DailyReportFailed", unit=MetricUnit.Count, value=1)
        raise  # e.g. Slack refused the post: Lambda retries
    _record(outcome)
    return outcome


def _record(outcome: dict[str, Any]) -> None:
    if outcome.get("replayed") or outcome.get("status") == "duplicate_in_progress":
        metrics.add_metric(name="DuplicateEvents", unit=MetricUnit.Count, value=1)
        return
    if outcome.get("status") == "reported":
        metrics.add_metric(
            name="DlqReadFailures", unit=MetricUnit.Count, value=len(outcome["unreadable"])
        )
        metrics.add_metric(
            name="AutoRedriveErrors", unit=MetricUnit.Count, value=len(outcome["redrive_errors"])
        )
    moved = outcome.get("moved_now", outcome.get("moved"))
    if moved is not None:
        metrics.add_metric(name="MessagesAutoRedriven", unit=MetricUnit.Count, value=moved)
