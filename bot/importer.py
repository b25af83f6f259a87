"""``dlq-redrive import``: send archived records (an export, a discard's archive) to a queue.

Batched like a redrive, with the planner's entries (``bot.planner.build_outgoing`` with
``count=False``): the body byte for byte, every message attribute exactly as exported
(``dlq-redrive-count`` as it was: an import is not a redrive), the ``AWSTraceHeader``; into a FIFO
queue the record's MessageGroupId, order kept per group, and a deduplication id derived from the
record's message id, so an import run again within five minutes is deduplicated by SQS.

Nothing is deleted anywhere, so the rules are those of sending: ``Failed`` is read for every
batch, what failed on SQS's side is retried, a send whose answer was lost is counted unconfirmed
and never sent again in the same run. A record that cannot go to this queue (too large for it, no
group id for a FIFO queue) is counted with the reason, and the import goes on. Records are read
as a stream: memory holds one chunk of them, whatever the archive's size.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bot.archive_model import ArchiveRecord
from bot.errors import DlqRedriveError, SendAnswerLostError
from bot.planner import (
    MAX_BATCH_BYTES,
    Outgoing,
    batch_entries,
    batches,
    build_outgoing,
    group_waves,
)
from bot.send_answers import sort_answer
from bot.sqs_model import QueueInfo, SendFailure, SqsApi

# Records planned at once: a FIFO chunk goes wave by wave (one message per group per call), so
# a bigger chunk means fuller batches for many groups, a smaller one less memory.
CHUNK_RECORDS = 100

TOO_LARGE = "larger than the queue's MaximumMessageSize"
NO_GROUP = "no MessageGroupId, which a FIFO queue needs"


@dataclass
class ImportReport:
    """What an import did; every figure is exact. ``to_dict`` is the CLI's ``--json``."""

    source: str
    destination: str
    dry_run: bool
    # The destination is a FIFO queue: what it was sent of a record it already took within five
    # minutes is listed in Successful and dropped (SQS deduplication): "sent" is not "added".
    fifo: bool = False
    read: int = 0
    sent: int = 0  # SQS listed them in Successful (a dry run: would be sent)
    failed: int = 0  # SQS refused them (sender fault), or still failed after the retries
    failed_by_code: Counter[str] = field(default_factory=Counter)
    # Sent, but the answer was lost: SQS may have stored them. Not sent again in this run.
    unconfirmed: int = 0
    unconfirmed_reason: str | None = None
    # FIFO: an earlier record of its group was not confirmed, so it was not sent (a group's
    # order is never broken).
    held_back: int = 0
    not_sent: Counter[str] = field(default_factory=Counter)  # cannot go to this queue: why
    # The archive could not be read to its end (a bad line, a read S3 refused): the import
    # stopped there, after sending the records before it.
    error: str | None = None
    # Asked to stop (Ctrl-C, SIGTERM): the batch in hand was finished, no other was sent.
    interrupted: bool = False

    @property
    def left_out(self) -> int:
        """Records read but not confirmed sent, whatever the reason."""
        return self.read - self.sent

    @property
    def complete(self) -> bool:
        """Every record of the archive was read and confirmed sent (a dry run: would be)."""
        return not self.left_out and self.error is None and not self.interrupted

    @property
    def not_attempted(self) -> int:
        """Records read but never sent because the import was interrupted first."""
        settled = self.sent + self.failed + self.unconfirmed + self.held_back
        return self.read - settled - sum(self.not_sent.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "destination": self.destination,
            "dry_run": self.dry_run,
            "fifo": self.fifo,
            "read": self.read,
            # A dry run sent nothing: "sent" stays true (0) and the count goes to "would_send",
            # as a redrive's dry run reports moved 0 and what would move.
            "sent": 0 if self.dry_run else self.sent,
            "would_send": self.sent if self.dry_run else 0,
            "failed": self.failed,
            "failed_by_code": dict(self.failed_by_code),
            "unconfirmed": self.unconfirmed,
            "unconfirmed_reason": self.unconfirmed_reason,
            "held_back": self.held_back,
            "not_sent": dict(self.not_sent),
            "error": self.error,
            "interrupted": self.interrupted,
            "not_attempted": self.not_attempted,
        }


def import_words(report: ImportReport, *, interrupted_by: str | None = None) -> list[str]:
    """The lines that say what an import did (CLI; every number exact). The reasons come from
    this module and AWS's error codes; the caller escapes the locations for its surface.
    ``interrupted_by``: the signal that stopped it, if one did."""
    verb = "would send" if report.dry_run else "sent"
    lines = [
        f"{report.read:,} record(s) read from {report.source}; {verb} {report.sent:,} "
        f"to {report.destination}" + (" (dry run: nothing was sent)" if report.dry_run else "")
    ]
    if report.fifo and report.sent and not report.dry_run:
        lines.append(
            f"  note: {report.destination} is a FIFO queue: SQS deduplicates each record by its "
            "message id for 5 minutes, so any of these it took in an import of the last 5 minutes "
            "were accepted without a second copy"
        )
    for reason, count in sorted(report.not_sent.items()):
        lines.append(f"  not sent, {reason}: {count:,}")
    if report.failed:
        codes = ", ".join(f"{code}: {n:,}" for code, n in sorted(report.failed_by_code.items()))
        lines.append(f"  failed (SQS refused them): {report.failed:,} ({codes})")
    if report.unconfirmed:
        lines.append(
            f"  unconfirmed (sent, the answer was lost; SQS may have stored them): "
            f"{report.unconfirmed:,} ({report.unconfirmed_reason})"
        )
    if report.held_back:
        lines.append(
            f"  held back (FIFO: an earlier record of their group was not sent): "
            f"{report.held_back:,}"
        )
    if report.error:
        lines.append(
            f"  stopped: {report.error}; the records before it were handled as above, "
            "none after it was read"
        )
    if report.interrupted:
        lines.append(
            f"  interrupted{f' by {interrupted_by}' if interrupted_by else ''}: "
            f"{report.not_attempted:,} record(s) read were not sent and none after them was "
            "read; the same import again sends every record from the first (a standard queue "
            "would get a second copy of those sent)"
        )
    return lines


def import_records(
    sqs: SqsApi,
    source: Iterable[ArchiveRecord],
    to: QueueInfo,
    *,
    dry_run: bool = False,
    location: str = "the archive",
    send_attempts: int = 3,
    max_batch_bytes: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
    chunk_records: int = CHUNK_RECORDS,
    cancelled: Callable[[], bool] = lambda: False,
) -> ImportReport:
    """Send every record of ``source`` to the queue ``to`` (``sqs``: an ``SqsApi``), or with
    ``dry_run`` only count what would be sent; ``location`` names the archive in the report.

    An archive that cannot be read to its end (a bad line, S3 refusing a read) raises its error
    when nothing was sent yet (the first ``chunk_records`` records are read before the first
    send, and a dry run sends nothing): nothing was touched. Found later, it stops the import
    there, the records before it sent, and the report says so in ``error``.

    ``cancelled`` is asked before each batch: once it says so, no other batch is sent and no
    other record read (the report says ``interrupted``)."""
    run = _Import(sqs, to, dry_run=dry_run, location=location, send_attempts=send_attempts)
    limit = min(to.max_message_bytes, max_batch_bytes or MAX_BATCH_BYTES)

    def planned() -> Iterator[list[Outgoing]]:
        for chunk in _chunks(source, chunk_records, run.stopped):
            ready = [item for item in map(run.prepare, chunk) if item is not None]
            for wave in group_waves(ready) if to.fifo else [ready]:
                # Lazily, wave by wave: a group stalled by the wave before is held back.
                yield from batches(run.not_held_back(wave), max_bytes=limit)

    for batch in planned():
        if cancelled():
            run.report.interrupted = True
            break
        run.send(batch, sleep)
    return run.report


def _chunks(
    records: Iterable[ArchiveRecord], size: int, stopped: Callable[[DlqRedriveError], None]
) -> Iterator[list[ArchiveRecord]]:
    """``records`` in lists of ``size``; an error reading them goes to ``stopped`` (which raises
    it or notes it) and ends the last list early."""
    iterator = iter(records)
    chunk: list[ArchiveRecord] = []
    while True:
        try:
            chunk.append(next(iterator))
        except StopIteration:
            break
        except DlqRedriveError as exc:  # said to the user as it is (bot.errors)
            stopped(exc)
            break
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _Import:
    """One import's state: its report and the FIFO groups that must not move on."""

    def __init__(
        self, sqs: SqsApi, to: QueueInfo, *, dry_run: bool, location: str, send_attempts: int
    ) -> None:
        self.sqs = sqs
        self.to = to
        self.dry_run = dry_run
        self.attempts = max(1, send_attempts)
        self.report = ImportReport(
            source=location, destination=to.name, dry_run=dry_run, fifo=to.fifo
        )
        self.stalled: set[str | None] = set()
        self.touched = False  # a send went out: an error from now on cannot undo it

    def stopped(self, error: DlqRedriveError) -> None:
        """The archive could not be read further: a usage error while nothing was sent, else
        the end of the import, said in the report."""
        if not self.touched:
            raise error
        self.report.error = str(error)

    def prepare(self, record: ArchiveRecord) -> Outgoing | None:
        """The record's entry, or None (counted with the reason) when this queue cannot take
        it."""
        self.report.read += 1
        if self.to.fifo and not record.attributes.get("MessageGroupId"):
            self.report.not_sent[NO_GROUP] += 1
            return None
        item = build_outgoing(
            record.to_received(),
            fifo=self.to.fifo,
            max_message_bytes=self.to.max_message_bytes,
            count=False,
        )
        if item.size > self.to.max_message_bytes:
            self.report.not_sent[f"{TOO_LARGE} ({self.to.max_message_bytes:,} bytes)"] += 1
            return None
        return item

    def not_held_back(self, wave: list[Outgoing]) -> list[Outgoing]:
        ready = [item for item in wave if item.group not in self.stalled]
        self.report.held_back += len(wave) - len(ready)
        return ready

    def send(self, batch: list[Outgoing], sleep: Callable[[float], None]) -> None:
        """Send a batch, retrying what failed on SQS's side, never what may have been stored."""
        if self.dry_run:
            self.report.sent += len(batch)
            return
        items = batch
        retry: list[tuple[Outgoing, SendFailure]] = []
        for attempt in range(self.attempts):
            if attempt:
                sleep(0.2 * 2 ** (attempt - 1))
            self.touched = True
            try:
                ok, failed = self.sqs.send_batch(self.to.url, batch_entries(items))
            except SendAnswerLostError as exc:
                self._unconfirmed(items, str(exc))
                return
            answer = sort_answer(items, ok, failed)
            self.report.sent += len(answer.stored)
            for item, failure in answer.refused:
                self._failed(item, failure)
            if answer.unsettled:
                self._unconfirmed(answer.unsettled, "SQS's answer said neither stored nor failed")
            retry = answer.retry
            if not retry:
                return
            items = [item for item, _ in retry]
        for item, failure in retry:  # still failing after the last attempt
            self._failed(item, failure)

    def _failed(self, item: Outgoing, failure: SendFailure) -> None:
        self.report.failed += 1
        self.report.failed_by_code[failure.code or "Error"] += 1
        self._stall(item)

    def _unconfirmed(self, items: list[Outgoing], reason: str) -> None:
        self.report.unconfirmed += len(items)
        self.report.unconfirmed_reason = reason
        for item in items:
            self._stall(item)

    def _stall(self, item: Outgoing) -> None:
        if self.to.fifo:
            self.stalled.add(item.group)
