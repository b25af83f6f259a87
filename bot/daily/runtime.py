"""Runs the daily function's job for one event (the job is built once per cold start by the
handler, ``bot.composition.build_daily_job``) and counts each outcome in the metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from bot.daily.observability import logger, metrics
from bot.errors import AwsError, DlqRedriveError
from bot.slack.web_api import SlackError

if TYPE_CHECKING:  # the alert checks share ``answered``: they need not load the daily job
    from bot.daily.job import DailyJob


def run(job: DailyJob, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Run ``job`` for ``event``; what a retry cannot cure is answered, the rest raised."""
    outcome = answered(
        job.handle,
        event,
        context,
        logger=logger,
        metrics=metrics,
        failed="DailyReportFailed",
        what="daily report",
    )
    _record(outcome)
    return outcome


def answered(
    handle: Callable[[dict[str, Any], Any], dict[str, Any]],
    event: dict[str, Any],
    context: Any,
    *,
    logger: Logger,
    metrics: Metrics,
    failed: str,
    what: str,
) -> dict[str, Any]:
    """``handle(event, context)`` of a scheduled function (the daily report, the alert checks):
    an AWS or Slack error is raised, so Lambda retries (the run's lease was released); a
    configuration error or a malformed event is answered, since a retry cannot cure it. Either
    failure counts in the metric ``failed``."""
    try:
        return handle(event, context)
    except DlqRedriveError as exc:
        metrics.add_metric(name=failed, unit=MetricUnit.Count, value=1)
        if isinstance(exc, AwsError | SlackError):
            raise  # transient, or Slack refused a post: Lambda retries (the lease was released)
        logger.error("%s not run: %s", what, exc)
        return {"status": "error", "error": str(exc)}
    except Exception:
        metrics.add_metric(name=failed, unit=MetricUnit.Count, value=1)
        raise  # a bug or an error nobody foresaw: Lambda retries


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
