"""Where a record of Lambda's on-failure destination goes (``handlers/failed.py``).

The worker's and the daily report's functions share one destination, and the record names the
function that failed: ``requestContext.functionArn``,
"arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]" (the AWS Lambda Developer
Guide's example: "arn:aws:lambda:us-east-2:123456789012:function:my-function:$LATEST"). A record
of the worker's goes to its failure rules (``bot.slack.failures`` through
``SlackWorker.record_failure``), any other to the daily job's (``bot.daily.failures``), which
refuses what is not a record of its own."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from bot.daily.failures import DailyFailures, record_daily_failure
from bot.errors import UsageError
from bot.printable import printable_logger

logger = printable_logger(__name__)


class WorkerFailures(Protocol):
    def record_failure(self, record: dict[str, Any]) -> dict[str, Any]: ...


class DailyJobFailures(Protocol):
    @property
    def failures(self) -> DailyFailures: ...


def failed_function(record: object) -> str | None:
    """The name of the function whose invocation failed, or None if the record does not say
    (or is not even an object: whoever may invoke the on-failure function may send any JSON)."""
    context = record.get("requestContext") if isinstance(record, Mapping) else None
    arn = context.get("functionArn") if isinstance(context, Mapping) else None
    parts = arn.split(":") if isinstance(arn, str) else []
    if len(parts) < 7 or parts[:3] != ["arn", "aws", "lambda"] or parts[5] != "function":
        return None
    return parts[6]


class FailureRouter:
    """Hands each record to the side whose function failed, building that side on first need."""

    def __init__(
        self,
        *,
        worker_function: str | None,
        worker: Callable[[], WorkerFailures],
        daily: Callable[[], DailyJobFailures],
    ) -> None:
        self.worker_function = worker_function
        self._make_worker, self._make_daily = worker, daily
        self._worker: WorkerFailures | None = None
        self._daily: DailyJobFailures | None = None

    def handle(self, record: dict[str, Any]) -> dict[str, Any]:
        """What became of ``record``. A record that is not one (nothing to retry) is refused
        with a log line; a failure to reach AWS or Slack is raised, so that Lambda retries."""
        name = failed_function(record)
        if name is None:
            logger.error("not an on-failure record: no requestContext.functionArn")
            return {"ok": False, "refused": "not an on-failure record"}
        if self.worker_function and name == self.worker_function:
            if self._worker is None:
                self._worker = self._make_worker()
            return self._worker.record_failure(record)
        if self._daily is None:
            self._daily = self._make_daily()
        try:
            return record_daily_failure(record, self._daily.failures)
        except UsageError as exc:
            logger.error("failure record of %s refused: %s", name, exc)
            return {"ok": False, "refused": str(exc)}
