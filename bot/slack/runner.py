"""An approved redrive, run by the worker across as many invocations as it needs.

Each invocation runs the engine with the request's ``Pin`` (only what the count counted) and a
cap of the counted ``matched``, checkpoints, and when its time budget runs out hands over to a
continuation it seals with the job signer. ``bot.run_control`` decides whether to go on and sums
the counts; the card says where things stand (best effort, ``bot.slack.cards``).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.errors import DlqRedriveError, UsageError
from bot.redrive_model import (
    Action,
    EditSpec,
    RedriveReport,
    RedriveRequest,
    StopReason,
    not_again_after,
)
from bot.run_control import IN_FLIGHT_STOP, RunTotals, Step, next_step, remaining_limit
from bot.selection import Selection
from bot.selection_options import SelectionArgs
from bot.slack import blocks
from bot.slack.cards import Cards
from bot.slack.mrkdwn import number
from bot.slack.observability import count, logger
from bot.slack.protocol import ContinueJob
from bot.slack.queues import Queues, WorkerOptions, deadline_of
from bot.slack.redrive_requests import discard_archive
from bot.state import StateStore
from bot.state_model import ApprovalRequest, RequestAction, RunRecord, RunStatus

if TYPE_CHECKING:  # Protocols only: the runner loads no Lambda or S3 client (test_layering)
    from bot.archive_model import ArchiveSink
    from bot.slack.dispatch import JobDispatcher


class _Progress:
    """Refreshes the card and the checkpoint, and reads the cancel flag, on its own thread so the
    engine's workers never wait on Slack or DynamoDB."""

    def __init__(self, interval_s: float, tick: Callable[[], bool]) -> None:
        self.interval_s = interval_s
        self.tick = tick  # returns True when a cancel was requested
        self.cancelled = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="redrive-progress", daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                if self.tick():
                    self.cancelled.set()
            except DlqRedriveError as exc:  # a progress refresh is never worth stopping a run
                logger.warning("progress refresh failed", extra={"error": str(exc)})

    def __enter__(self) -> _Progress:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def approved_selection(
    request: ApprovalRequest, run: RunRecord, tz: Any, error_attribute: str | None = None
) -> Selection | None:
    """What the next invocation of ``run`` may take: the request's selection, pinned to what its
    count counted, capped at the counted ``matched`` less what moved; None when nothing is left.
    ``error_attribute``: ERROR_ATTRIBUTE, as the count read error groups (``--error``)."""
    args = SelectionArgs.from_dict(request.selection)
    # Always capped: the card promised at most what the count counted, even when the count
    # stopped early (the others wait for a request of their own).
    limit = remaining_limit(run.moved, args.limit, request.matched)
    if limit is not None and limit <= 0:
        return None
    selection = args.build(
        tz=tz, now=request.requested_at, limit=limit, error_attribute=error_attribute
    )
    return replace(selection, pin=request.approved_pin)  # always pinned, old requests too


@contextmanager
def engine_request(
    request: ApprovalRequest,
    selection: Selection,
    max_held: int | None,
    archives: Callable[[str], ArchiveSink] | None,
    archive_bucket: str | None = None,
    not_again: frozenset[str] = frozenset(),
) -> Iterator[RedriveRequest]:
    """What the engine is asked to do for an approved ``request``: a redrive, a discard into
    the archive at its location (made with ``archives``, closed after the run), or an edit (a
    redrive of its one message with the new body). UsageError, before anything is received,
    for a discard with no archive, or whose stored location is not its own prefix of
    ``archive_bucket`` (ARCHIVE_BUCKET) that its card named: from Slack, nothing is deleted
    without its record where the approvers were told it would be. ``not_again``: what earlier
    parts of the run sent without an answer (kept, never sent again: ``NOT_AGAIN``)."""
    if request.action == RequestAction.DISCARD:
        if request.archive_location is None or archives is None or not archive_bucket:
            raise UsageError("this discard has no archive to write to; nothing was discarded")
        if request.archive_location != discard_archive(archive_bucket, request.request_id):
            raise UsageError(
                "this discard's stored archive location is not the one its card named (its "
                f"own prefix of ARCHIVE_BUCKET {archive_bucket}); nothing was discarded"
            )
        archive = archives(request.archive_location)
        try:
            yield RedriveRequest(
                selection=selection, max_held=max_held, action=Action.DISCARD, archive=archive
            )
        finally:
            archive.close()
        return
    edit = None
    if request.action == RequestAction.EDIT:
        if request.edit_message_id is None or request.edit_body is None:
            raise UsageError("this edit names no message or body; nothing was sent")
        edit = EditSpec(request.edit_message_id, request.edit_body)
    only_to = None if request.approved_to is None else frozenset(request.approved_to.splitlines())
    yield RedriveRequest(
        selection=selection, max_held=max_held, edit=edit, only_to=only_to, not_again=not_again
    )


# The run record's detail key of the messages an earlier part sent without an answer: the next
# parts keep them (``RedriveRequest.not_again``), at most ``bot.redrive_model.MAX_NOT_AGAIN``
# (far below DynamoDB's 400 KB item; past it, see there).
NOT_AGAIN = "unconfirmed_ids"

# The run record keeps the run's totals under the same names (``bot.state_model.RunRecord``).
_TOTALS = tuple(f.name for f in fields(RunTotals))


def _not_again(run: RunRecord) -> frozenset[str]:
    return frozenset(run.detail.get(NOT_AGAIN) or ())


def _remember_unconfirmed(run: RunRecord, report: RedriveReport) -> None:
    """Keep in the run's checkpoint the messages this part sent without an answer."""
    before = list(run.detail.get(NOT_AGAIN) or ())
    after = not_again_after(before, report.unconfirmed_ids)
    if len(after) > len(before):
        run.detail[NOT_AGAIN] = list(after)


def _totals(run: RunRecord) -> RunTotals:
    return RunTotals(**{name: getattr(run, name) for name in _TOTALS})


def _apply(run: RunRecord, totals: RunTotals) -> None:
    for name in _TOTALS:
        setattr(run, name, getattr(totals, name))


def _outcome(run: RunRecord, request: ApprovalRequest) -> dict[str, Any]:
    """The "outcome" audit event's detail: what was approved, and what the run did."""
    return {
        **request.audit_detail(),
        "status": run.status.value,
        "moved": run.moved,
        "failed": run.failed,
        "skipped": run.skipped,
        "needs_human": run.needs_human,
        "invocations": run.invocation,
        "duration_s": round(run.duration_s, 3),
        "error": run.error,
    }


class RedriveRunner:
    """Runs approved redrives: one invocation's share at a time."""

    def __init__(
        self,
        *,
        queues: Queues,
        state: StateStore,
        cards: Cards,
        dispatcher: JobDispatcher,
        clock: Callable[[], datetime],
        options: WorkerOptions,
        archives: Callable[[str], ArchiveSink] | None = None,
    ) -> None:
        self.archives = archives  # an archive at a location (bot.composition.archive_sink)
        self.queues = queues
        self.state = state
        self.cards = cards
        self.dispatcher = dispatcher
        self.clock = clock
        self.options = options

    def resume(self, job: ContinueJob, context: Any) -> None:
        """Take over a run that a previous invocation handed over (once per continuation)."""
        owner = getattr(context, "aws_request_id", None)
        run = self.state.claim_continuation(
            job.run_id,
            job.invocation,
            self.clock(),
            owner=owner if isinstance(owner, str) and owner else None,
        )
        if run is None:
            logger.warning("continuation already taken", extra={"correlation_id": job.run_id})
            return
        request = self.state.get_request(job.run_id)
        if request is None:
            raise UsageError(f"the approval request of run {job.run_id} is gone")
        # Said by the part that took over (see _hand_over), so no late update of the part
        # before can overwrite what this one says.
        self.cards.update(
            request,
            blocks.progress_line(run, request.action),
            f"Part {run.invocation - 1} used its time budget after moving {number(run.moved)} "
            f"in total; continuing in a new invocation (part {run.invocation}).",
        )
        self.run(run, request, context)

    def run(self, run: RunRecord, request: ApprovalRequest, context: Any) -> None:
        """One invocation's share of the redrive; checkpoint and hand over if time runs out."""
        invocation = run.invocation
        try:
            report = self._run_once(run, request, context)
        except Exception as exc:  # noqa: BLE001 - the run is marked failed and the card says why
            run.status = RunStatus.FAILED
            run.error = (
                str(exc) if isinstance(exc, DlqRedriveError) else f"{type(exc).__name__}: {exc}"
            )
            logger.exception(f"{request.action} failed", extra={"correlation_id": run.run_id})
            self._finish(run, request, None, invocation)
            return
        if report is not None:
            step = next_step(report.stopped, report.scanned, run.idle_invocations)
            run.idle_invocations = step.idle_invocations
            if step.step is Step.CONTINUE:
                self._hand_over(run, request, invocation)
                return
            if step.step is Step.GIVE_UP:
                run.status = RunStatus.FAILED
                run.error = step.reason
        self._finish(run, request, report, invocation)

    def _run_once(
        self, run: RunRecord, request: ApprovalRequest, context: Any
    ) -> RedriveReport | None:
        stored = self.state.get_run(run.run_id)
        if stored is not None and stored.cancel_requested_by:
            run.status = RunStatus.CANCELLED
            run.cancel_requested_by = stored.cancel_requested_by
            return None
        selection = approved_selection(
            request, run, self.queues.tz, self.queues.settings.error_attribute
        )
        if selection is None:
            run.status = RunStatus.DONE
            return None
        dlq = self.queues.catalog().get(request.dlq)
        base = _totals(run)
        latest: list[RedriveReport] = []
        lock = threading.Lock()

        def on_progress(report: RedriveReport) -> None:
            with lock:  # a cheap copy; the progress thread does the slow work
                latest[:] = [copy.copy(report)]

        def tick() -> bool:
            with lock:
                snapshot = latest[0] if latest else None
            if snapshot is None:
                return self.state.cancel_requested(run.run_id)
            _apply(run, base.fold(snapshot, partial=True))
            run.updated_at = self.clock()
            stored = self.state.save_run(run, expected_invocation=run.invocation)
            if stored is None:  # no longer this invocation's run: stop, say nothing
                return True
            self.cards.update(request, blocks.progress_line(run, request.action))
            return stored.cancel_requested_by is not None

        run.unreported = True  # lower bounds until the engine reports (it may raise instead)
        extra = (self.queues.settings.archive_bucket, _not_again(run))  # see engine_request
        with (
            engine_request(request, selection, self.options.max_held, self.archives, *extra) as ask,
            _Progress(self.options.progress_interval_s, tick) as progress,
        ):
            report = self.queues.engine().run(
                dlq,
                ask,
                deadline=deadline_of(context),
                cancelled=progress.cancelled.is_set,
                on_progress=on_progress,
            )
        run.unreported = False
        _apply(run, base.fold(report))
        _remember_unconfirmed(run, report)
        # a discard's "moved" are the messages deleted after their archive record was written
        count(
            "MessagesDiscarded" if ask.action is Action.DISCARD else "MessagesMoved", report.moved
        )
        if report.stopped is StopReason.CANCELLED:
            run.status = RunStatus.CANCELLED
            latest_run = self.state.get_run(run.run_id)
            run.cancel_requested_by = latest_run.cancel_requested_by if latest_run else None
        elif report.stopped is StopReason.ERROR:
            run.status = RunStatus.FAILED
            run.error = report.error
        elif report.stopped is StopReason.IN_FLIGHT_LIMIT:
            run.status = RunStatus.DONE
            run.error = IN_FLIGHT_STOP
        elif report.stopped is not StopReason.DEADLINE:
            run.status = RunStatus.DONE
        return report

    def _hand_over(self, run: RunRecord, request: ApprovalRequest, invocation: int) -> None:
        run.status = RunStatus.CONTINUING
        run.invocation = invocation + 1
        run.updated_at = self.clock()
        if self.state.save_run(run, expected_invocation=invocation) is None:
            return  # another invocation owns the run now
        # The next part is started right after the checkpoint, and this part says nothing in
        # Slack (the next one updates the card when it takes over): this invocation's time is
        # all but used, and one killed in a slow card update would leave the run "continuing"
        # with no part to run it (Lambda's record of this invocation cannot fail a run that is
        # no longer its own), or its late update would overwrite the next part's. Sealed by the
        # dispatcher like the endpoint's jobs: the worker runs nothing it cannot verify.
        try:
            self.dispatcher.dispatch(ContinueJob(run_id=run.run_id, invocation=run.invocation))
        except DlqRedriveError as exc:
            # No part will ever take the run over: left "continuing", it (and its card) would
            # say so forever. It fails here, saying why; the engine released what it held.
            logger.warning("hand-over failed", extra={"correlation_id": run.run_id})
            run.status = RunStatus.FAILED
            run.error = f"part {run.invocation} could not be started: {exc}"
            self._finish(run, request, None, run.invocation)
            return
        self.state.record_event(
            run.run_id,
            "checkpoint",
            "worker",
            run.updated_at,
            invocation=invocation,
            moved=run.moved,
        )

    def _finish(
        self,
        run: RunRecord,
        request: ApprovalRequest,
        report: RedriveReport | None,
        invocation: int,
    ) -> None:
        run.updated_at = self.clock()
        if self.state.save_run(run, expected_invocation=invocation) is None:
            # Another invocation owns the run, or it was marked failed from outside: that
            # outcome stands, and this one says nothing over it.
            logger.warning("run outcome not written", extra={"correlation_id": run.run_id})
            return
        count("MessagesFailed", run.failed)
        self.state.record_event(
            run.run_id, "outcome", "worker", run.updated_at, **_outcome(run, request)
        )
        logger.info(
            f"{request.action} finished",
            extra={
                "correlation_id": run.run_id,
                "status": run.status.value,
                "moved": run.moved,
                "failed": run.failed,
            },
        )
        head, details = blocks.outcome_lines(run, report, request)
        self.cards.update(request, head, *details)
