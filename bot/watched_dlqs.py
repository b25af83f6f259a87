"""The watched DLQs read cheaply, for what reads them often: the alert check every few minutes and
the App Home tab on every open and Refresh. Each queue's attributes are read once (SQS's counts
come with them), no message is received, and no feeder is scanned.

A DLQ that only an SNS subscription, an EventBridge target or a Lambda function feeds names no
source in SQS; finding it, and what feeds a DLQ, takes the feeder scan (every subscription, rule
and function: many calls, and rights the alert check does not have). So the daily report records
what its scan found (``bot.alerts.store.FedDlqStore``: the fed DLQs' URLs, their feeder kinds, the
kinds it could not read, when) and these readers take that record: a feeder added today is seen
from the next report on. Kinds read from the record are "as of" that report; a DLQ the record
names without kinds (written before kinds were kept) has kinds "not known yet", never a guess.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bot.catalog import DlqCatalog, kinds_label
from bot.config import EngineSettings
from bot.errors import AwsError, QueueNotFoundError, UsageError
from bot.feeders import Kind
from bot.printable import printable_logger
from bot.sqs_model import QueueDirectory, QueueInfo

logger = printable_logger(__name__)

WORKERS = 8  # GetQueueAttributes calls at once, as the catalog's discovery
NOT_KNOWN = "kinds not known yet"


@dataclass(frozen=True)
class FedRecord:
    """The daily report's record of the feeder-fed DLQs. ``urls``: name -> queue URL.
    ``kinds``: each fed DLQ's feeder kinds (SNS, EventBridge, Lambda; SQS sources are read
    live); a name in ``urls`` but not here was recorded before kinds were kept. ``unread``: the
    feeder kinds that report could not read, and why. ``recorded_at``: None when no report has
    recorded yet."""

    urls: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, tuple[Kind, ...]] = field(default_factory=dict)
    unread: tuple[tuple[Kind, str], ...] = ()
    recorded_at: datetime | None = None

    def feeder_kinds(self, name: str) -> tuple[Kind, ...] | None:
        """What feeds ``name`` besides SQS queues, as recorded; None: not known."""
        if self.recorded_at is None:
            return None
        if name not in self.urls:
            return ()  # no feeder fed it when the report scanned
        return self.kinds.get(name)


class FedDlqs(Protocol):
    """The daily report's record (``bot.alerts.store.FedDlqStore``)."""

    def latest(self) -> FedRecord: ...


@dataclass(frozen=True)
class WatchedDlq:
    """A watched DLQ's attributes, whether SQS queues feed it (read now), and its feeder kinds
    as recorded (None: not known)."""

    info: QueueInfo
    sources: bool
    feeder_kinds: tuple[Kind, ...] | None

    @property
    def name(self) -> str:
        return self.info.name

    def kind_label(self) -> str:
        """``Dlq.kind_label``'s words, or says the kinds are not known yet."""
        if self.feeder_kinds is None:
            return f"sqs, other {NOT_KNOWN}" if self.sources else NOT_KNOWN
        return kinds_label({*self.feeder_kinds, *((Kind.SQS,) if self.sources else ())})


@dataclass(frozen=True)
class WatchedRead:
    """The DLQs read, each one not read (its name and why), and the record (None: it could
    not be read, ``record_problem`` says why)."""

    dlqs: list[WatchedDlq]
    unread: list[tuple[str, str]]
    record: FedRecord | None
    record_problem: str | None = None


class WatchedDlqs:
    """Reads the watched DLQs without a feeder scan (see the module docstring)."""

    def __init__(self, gateway: QueueDirectory, settings: EngineSettings, fed: FedDlqs) -> None:
        self.gateway = gateway
        self.settings = settings
        self.fed = fed

    def read(self) -> WatchedRead:
        """Every watched DLQ: those ``DLQ_QUEUES`` names (each looked up with its source
        queues, as the catalog does), else ``discovered``. AwsError if they cannot be listed."""
        if self.settings.dlq_queues is None:
            return self.discovered()
        dlqs, failures = DlqCatalog(self.gateway, self.settings, feeders=None).read_watched()
        record, problem = self._record()
        return WatchedRead(
            [WatchedDlq(d.info, bool(d.sources), _feeder_kinds(record, d.name)) for d in dlqs],
            [(name, str(exc)) for name, exc in failures],
            record,
            problem,
        )

    def discovered(self) -> WatchedRead:
        """The catalog's discovery without feeders (ListQueues, then every queue's attributes
        once: a queue some queue's RedrivePolicy names is a DLQ), plus the DLQs the record says
        only feeders feed, read by URL. AwsError if the queues cannot be listed."""
        found, listed = DlqCatalog(self.gateway, self.settings, feeders=None).discovered_and_read()
        record, problem = self._record()
        dlqs = [WatchedDlq(d.info, True, _feeder_kinds(record, d.name)) for d in found]
        known = {dlq.name for dlq in dlqs}
        recorded = record.urls if record is not None else {}
        extra = sorted((name, url) for name, url in recorded.items() if name not in known)
        # Discovery read every listed queue's attributes: only a recorded DLQ it did not list
        # (another account's, say) is read again.
        read = {info.url: info for info in listed}
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            results = list(pool.map(lambda ref: read.get(ref[1]) or self._info(ref[1]), extra))
        unread: list[tuple[str, str]] = []
        for (name, _), result in zip(extra, results, strict=True):
            if isinstance(result, QueueInfo):
                dlqs.append(WatchedDlq(result, False, _feeder_kinds(record, name)))
            else:
                unread.append((name, result))
        return WatchedRead(dlqs, unread, record, problem)

    def _record(self) -> tuple[FedRecord | None, str | None]:
        try:
            return self.fed.latest(), None
        except AwsError as exc:
            logger.warning("feeder-fed DLQs not read: %s", exc)
            return None, str(exc)

    def _info(self, url: str) -> QueueInfo | str:
        try:
            return self.gateway.queue_info(url)
        except (AwsError, QueueNotFoundError, UsageError) as exc:
            logger.warning("DLQ %s not read: %s", url, exc)
            return str(exc)


def _feeder_kinds(record: FedRecord | None, name: str) -> tuple[Kind, ...] | None:
    return None if record is None else record.feeder_kinds(name)
