"""Runs the daily function's job for one event (the job is built once per cold start by the
handler, ``bot.composition.build_daily_job``) and counts each outcome in the metrics."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from bot.daily.job import DailyJob
from bot.daily.observability import logger, metrics
from bot.errors import AwsError, DlqRedriveError
from bot.slack.web_api import SlackError


def run(job: DailyJob, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Run ``job`` for ``event``; what a retry cannot cure is answered, the rest raised."""
    try:
        outcome = job.handle(event, context)
    except DlqRedriveError as exc:
        metrics.add_metric(name="DailyReportFailed", unit=MetricUnit.Count, value=1)
        if isinstance(exc, AwsError | SlackError):
            raise  # transient, or Slack refused a post: Lambda retries (the lease was released)
        # Configuration or a malformed event: a retry cannot help, so answer and stop.
        logger.error("daily report not run: %s", exc)
        return {"status": "error", "error": str(exc)}
    except Exception:
        metrics.add_metric(name="DailyReportFailed", unit=MetricUnit.Count, value=1)
        raise  # a bug or an error nobody foresaw: Lambda retries
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
