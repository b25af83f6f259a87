"""Which DLQs are watched, and where each one's messages go back to.

``DlqCatalog`` resolves the queues a user types or ``DLQ_QUEUES`` lists (a name such as
"orders-dlq", a queue URL or a queue ARN: ``bot.queue_refs``) into ``Dlq`` records, and
refuses with a clear message anything that is not a watched dead-letter queue.

A DLQ is fed by SQS queues (their RedrivePolicy) and by ``Feeder``s (an SNS subscription, an
EventBridge rule target, a Lambda function: ``bot.feeders``), which only discovery can name: a
message from them does not say where it came from the way SQS's ``DeadLetterQueueSourceArn``
does. The feeder scan is read once per catalog (it lists every subscription, rule and function).
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bot.config import EngineSettings
from bot.errors import (
    AwsError,
    DestinationError,
    DlqRedriveError,
    NotADeadLetterQueueError,
    QueueNotFoundError,
)
from bot.feeders import Feeder, FeederDirectory, FeederScan, Kind
from bot.queue_refs import queue_name
from bot.sqs_model import QueueDirectory, QueueInfo


@dataclass(frozen=True)
class Dlq:
    """A watched dead-letter queue, the queues that dead-letter into it (``sources``) and what
    else does (``feeders``: SNS subscriptions, EventBridge targets, Lambda functions)."""

    info: QueueInfo
    sources: tuple[QueueInfo, ...]
    feeders: tuple[Feeder, ...] = ()

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def source_names(self) -> tuple[str, ...]:
        return tuple(source.name for source in self.sources)

    def kinds(self) -> tuple[Kind, ...]:
        """What feeds it, in ``Kind`` order: SQS when it has source queues, then each feeder's
        kind once."""
        present = {feeder.kind for feeder in self.feeders}
        if self.sources:
            present.add(Kind.SQS)
        return tuple(kind for kind in Kind if kind in present)

    def kind_label(self) -> str:
        """The KIND column: ``sqs``, ``sns``, ``events``, ``lambda``, or ``sqs+sns`` when mixed.
        A queue with nothing known to feed it (its source deleted, or named in DLQ_QUEUES) is an
        SQS DLQ as far as anyone can tell: ``sqs``."""
        return kinds_label(self.kinds())

    def describe_sources(self) -> list[str]:
        """One plain-text line per source (every surface escapes it): the source queues' names,
        then each feeder's ``listed()`` (which says when a redrive refuses it)."""
        return [*self.source_names, *(feeder.listed() for feeder in self.feeders)]


def kinds_label(kinds: Collection[Kind]) -> str:
    """``kinds`` as the KIND column says them, in ``Kind`` order: ``sqs+sns``; none: ``sqs``."""
    return "+".join(kind for kind in Kind if kind in kinds) or Kind.SQS.value


class DlqCatalog:
    """The watched DLQs (configured in ``DLQ_QUEUES`` or discovered from RedrivePolicies and,
    with ``feeders``, from what else dead-letters into a queue)."""

    def __init__(
        self,
        gateway: QueueDirectory,
        settings: EngineSettings,
        feeders: FeederDirectory | None = None,
    ) -> None:
        self.gateway = gateway
        self.settings = settings
        self.feeder_directory = feeders
        self._scan: FeederScan | None = None
        self._scan_lock = threading.Lock()

    def feeder_scan(self) -> FeederScan:
        """Every feeder, read once per catalog (the first caller reads, the others wait for
        it); none without a feeder directory."""
        if self.feeder_directory is None:
            return FeederScan(())
        with self._scan_lock:
            if self._scan is None:
                self._scan = self.feeder_directory.feeders()
            return self._scan

    @property
    def unread(self) -> tuple[tuple[Kind, str], ...]:
        """The feeder kinds discovery could not read, and why: shown under a list or report, so
        that a DLQ missing from it is not taken for one that has no such feeder."""
        return self.feeder_scan().unread

    def watched_names(self) -> list[str]:
        """Names of the watched DLQs (discovery reads every queue's RedrivePolicy)."""
        if self.settings.dlq_queues is not None:
            return [queue_name(q) for q in self.settings.dlq_queues]
        return [dlq.name for dlq in self._discover()]

    def discovered_and_read(self) -> tuple[list[Dlq], list[QueueInfo]]:
        """Discovery's DLQs and every queue it read to find them (ListQueues, each queue's
        attributes once): what else is wanted of those queues needs no second read."""
        infos = [
            info for info in self._read_all(self.gateway.list_queue_urls()) if info is not None
        ]
        return self._discover(infos), infos

    def _discover(self, infos: list[QueueInfo] | None = None) -> list[Dlq]:
        """Every queue some queue's RedrivePolicy targets, with those sources, from one read of
        every queue's attributes (the sources are the queues that named it)."""
        if infos is None:
            infos = self.discovered_and_read()[1]
        by_arn = {info.arn: info for info in infos}
        sources: dict[str, list[QueueInfo]] = {}
        for info in infos:
            if info.dead_letter_target_arn in by_arn:
                sources.setdefault(info.dead_letter_target_arn, []).append(info)
        scan = self.feeder_scan()
        fed = {feeder.dlq_arn for feeder in scan.feeders}
        # A queue a feeder names that ListQueues did not list (another account's, say): looked
        # up by its ARN; one that is gone or refused is no DLQ anyone can redrive from here.
        for arn in sorted(fed - by_arn.keys()):
            looked_up = self._info_for_arn(arn)
            if looked_up is not None:
                by_arn[arn] = looked_up
        return sorted(
            (
                Dlq(
                    by_arn[arn],
                    tuple(sorted(sources.get(arn, ()), key=lambda q: q.name)),
                    scan.into(arn),
                )
                for arn in (sources.keys() | (fed & by_arn.keys()))
            ),
            key=lambda dlq: dlq.name,
        )

    def _info_for_arn(self, arn: str) -> QueueInfo | None:
        try:
            return self.gateway.queue_info(self.gateway.url_for_arn(arn))
        except (AwsError, QueueNotFoundError):
            return None

    def _read_all(self, urls: list[str]) -> list[QueueInfo | None]:
        with ThreadPoolExecutor(max_workers=8) as pool:
            return list(pool.map(self._info_or_none, urls))

    def _info_or_none(self, url: str) -> QueueInfo | None:
        try:
            return self.gateway.queue_info(url)
        except QueueNotFoundError:
            return None  # deleted between ListQueues and now

    def watched(self) -> list[Dlq]:
        """Every watched DLQ with its counts and sources (the first that cannot be read
        raises, as ``get`` does)."""
        dlqs, failures = self.read_watched()
        if failures:
            raise failures[0][1]
        return dlqs

    def read_watched(self) -> tuple[list[Dlq], list[tuple[str, DlqRedriveError]]]:
        """Every watched DLQ that could be read, and each configured one that could not (its
        name and why: deleted, refused), so that a view can show the others. Each queue's
        attributes are read once, up to 8 at once; no message is received. Discovery's
        ListQueues failing raises (nothing to show)."""
        configured = self.settings.dlq_queues
        if configured is None:
            return self._discover(), []
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(self._get_or_error, configured))
        dlqs = [result for result in results if isinstance(result, Dlq)]
        failures = [
            (queue_name(queue), result)
            for queue, result in zip(configured, results, strict=True)
            if not isinstance(result, Dlq)
        ]
        return dlqs, failures

    def _get_or_error(self, name_or_url: str) -> Dlq | DlqRedriveError:
        try:
            return self.get(name_or_url)
        except DlqRedriveError as exc:
            return exc

    def get(self, name_or_url: str, *, orphan_ok: bool = False) -> Dlq:
        """The watched DLQ named ``name_or_url``, or a UsageError that says what exists.

        ``orphan_ok`` (the user named a destination with --to) also accepts a queue that no queue
        dead-letters into any more (its source was deleted), provided it has no RedrivePolicy of
        its own: a working queue with a DLQ is never taken for one.
        """
        name = queue_name(name_or_url)
        configured = self.settings.dlq_queues
        if configured is not None:
            listed = next((q for q in configured if queue_name(q) == name), None)
            if listed is None:
                raise QueueNotFoundError(self._unknown_message(name, configured))
            # The queue DLQ_QUEUES lists, with the account and region its URL or ARN gives
            # (the one IAM grants), whichever way the user named it.
            name_or_url = listed
        try:
            url = self.gateway.queue_url(name_or_url)
        except QueueNotFoundError as exc:
            raise QueueNotFoundError(self._unknown_message(name, None)) from exc
        dlq = self._load(url)
        target = dlq.info.dead_letter_target_arn
        fed = bool(dlq.feeders)
        if not dlq.sources and not fed and configured is None and (target or not orphan_ok):
            hint = (
                f" (its own DLQ is {target.rsplit(':', 1)[-1]})"
                if target
                else " (if its source queue was deleted, name a destination with --to QUEUE)"
            )
            raise NotADeadLetterQueueError(
                f"{name!r} is not the dead-letter queue of any queue, subscription, rule "
                f"target or function{hint}; "
                f"watched DLQs: {self._names_or_none()}"
            )
        return dlq

    def _load(self, url: str) -> Dlq:
        info = self.gateway.queue_info(url)
        sources = tuple(
            source
            for source in (self._info_or_none(u) for u in self.gateway.dead_letter_sources(url))
            if source is not None
        )
        return Dlq(info=info, sources=sources, feeders=self.feeder_scan().into(info.arn))

    def _unknown_message(self, name: str, configured: tuple[str, ...] | None) -> str:
        names = (
            ", ".join(queue_name(q) for q in configured) if configured else self._names_or_none()
        )
        return f"unknown DLQ {name!r}; watched DLQs: {names}"

    def _names_or_none(self) -> str:
        names = self.watched_names()
        return ", ".join(names) if names else "(none found)"

    def resolve_to(self, dlq: Dlq, name_or_url: str) -> QueueInfo:
        """The queue named by ``--to``, checked against the DLQ (same FIFO-ness, not itself)."""
        try:
            url = self.gateway.queue_url(name_or_url)
        except QueueNotFoundError as exc:
            raise DestinationError(f"--to: no queue named {queue_name(name_or_url)!r}") from exc
        destination = self.gateway.queue_info(url)
        if destination.url == dlq.info.url:
            raise DestinationError("--to names the DLQ itself; name the queue to move into")
        check_compatible(dlq.info, destination)
        return destination


def check_compatible(dlq: QueueInfo, destination: QueueInfo) -> None:
    """Refuse FIFO → standard and standard → FIFO."""
    if dlq.fifo != destination.fifo:
        kinds = ("FIFO", "standard") if dlq.fifo else ("standard", "FIFO")
        raise DestinationError(
            f"cannot move {kinds[0]} DLQ {dlq.name!r} into {kinds[1]} queue {destination.name!r}"
        )
