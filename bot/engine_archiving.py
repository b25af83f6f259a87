"""Discard and export: the selected messages' records go to the archive instead of a queue.

The engine's rule holds as for a redrive: a discarded message is deleted from the DLQ only after
the archive's write of its record returned, which is when the archive says it is durable (the file
write and fsync, or S3's answer to the put); a discard without an archive (``--no-archive``, asked
for explicitly) deletes at once. An export writes the records and deletes nothing: its messages
are held, and released with the others at the end of the scan.
"""

from __future__ import annotations

from bot.archive_model import ArchiveRecord, ArchiveWriteError
from bot.engine_holding import Holding
from bot.engine_sending import Sender
from bot.engine_state import RunState, StopRun
from bot.redrive_model import Action, StopReason
from bot.sqs_model import ReceivedMessage


class Archiver:
    """Writes the selected messages of a discard or an export to the run's archive."""

    def __init__(self, state: RunState, holding: Holding, sender: Sender) -> None:
        self.state = state
        self.holding = holding
        self.sender = sender

    def archive_all(self, messages: list[ReceivedMessage]) -> None:
        """Write the records of ``messages`` in one write, then delete them (discard) or hold
        them to be released at the end (export).

        A write that raises was not confirmed durable: nothing of it is deleted, each message
        is counted failed with the archive's reason, and the run stops (every later write
        would go to the same archive)."""
        state = self.state
        request, report = state.request, state.report
        archive = request.archive
        if archive is not None:
            records = [
                ArchiveRecord.from_message(m, dlq=state.dlq.name, source=self._source(m))
                for m in messages
            ]
            try:
                archive.write(records)
            except ArchiveWriteError as exc:
                for message in messages:
                    self.holding.fail(message, "ArchiveWriteError", str(exc), archive.location)
                raise StopRun(
                    StopReason.ERROR, f"the archive {archive.location} refused a write: {exc}"
                ) from exc
            with state.lock:
                report.archived += len(messages)
        if request.action is Action.EXPORT:
            with state.lock:
                for message in messages:
                    self.holding.hold(message)
            return
        self.sender.delete_confirmed(messages, None)

    def _source(self, message: ReceivedMessage) -> str | None:
        """The ARN of the queue ``message`` came from, as far as anything says: its
        DeadLetterQueueSourceArn, else the DLQ's one source (None with several)."""
        sources = self.state.dlq.sources
        return message.source_arn or (sources[0].arn if len(sources) == 1 else None)
