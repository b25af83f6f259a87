"""The counts of every watched DLQ for one alert check: GetQueueAttributes (and ListQueues to
discover), never a receive, never a feeder scan.

Which DLQs: those ``DLQ_QUEUES`` names (GetQueueUrl for a name, then their attributes), else
``bot.watched_dlqs.WatchedDlqs.discovered`` (the Home tab's reader too): the catalog's discovery
without feeders plus the DLQs only feeders feed (SNS subscriptions, EventBridge targets, Lambda
functions), as the daily report last recorded them (``bot.alerts.store.FedDlqStore``): finding
those anew every few minutes would list every subscription, rule and function.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bot.alerts.rules import Reading
from bot.config import EngineSettings
from bot.errors import AwsError, QueueNotFoundError, UsageError
from bot.printable import printable_logger
from bot.queue_refs import queue_name
from bot.sqs_model import QueueDirectory, QueueInfo
from bot.watched_dlqs import FedDlqs, WatchedDlqs

logger = printable_logger(__name__)

WORKERS = 8  # GetQueueAttributes calls at once, as the catalog's discovery


@dataclass(frozen=True)
class Watched:
    """One check's readings, and the DLQs it could not read (name, why)."""

    readings: list[Reading]
    unread: list[tuple[str, str]]


class AlertWatch:
    """Reads the watched DLQs' counts."""

    def __init__(self, gateway: QueueDirectory, settings: EngineSettings, fed: FedDlqs) -> None:
        self.gateway = gateway
        self.settings = settings
        self.fed = fed

    def read(self) -> Watched:
        """Every watched DLQ's counts; one that cannot be read is named in ``unread`` (its
        alert state is left as it is). AwsError if the DLQs cannot be listed at all."""
        if self.settings.dlq_queues is not None:
            refs = [(queue_name(ref), ref) for ref in self.settings.dlq_queues]
            return self._read_refs(refs, by_url=False)
        # Discovery reads every queue's attributes, counts included: nothing to read again.
        found = WatchedDlqs(self.gateway, self.settings, self.fed).discovered()
        unread = found.unread
        if found.record_problem is not None:
            unread = [("the DLQs only feeders feed", found.record_problem), *unread]
        return Watched([_reading(dlq.info) for dlq in found.dlqs], unread)

    def _read_refs(self, refs: list[tuple[str, str]], *, by_url: bool) -> Watched:
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            results = list(pool.map(lambda ref: self._read_one(ref[1], by_url), refs))
        readings = [r for r in results if isinstance(r, Reading)]
        unread = [
            (name, r) for (name, _), r in zip(refs, results, strict=True) if isinstance(r, str)
        ]
        return Watched(readings, unread)

    def _read_one(self, ref: str, by_url: bool) -> Reading | str:
        try:
            url = ref if by_url else self.gateway.queue_url(ref)
            return _reading(self.gateway.queue_info(url))
        except (AwsError, QueueNotFoundError, UsageError) as exc:
            logger.warning("DLQ %s not read: %s", ref, exc)
            return str(exc)


def _reading(info: QueueInfo) -> Reading:
    return Reading(info.name, info.visible, info.in_flight, info.delayed)
