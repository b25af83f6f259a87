"""Jobs the Slack endpoint hands to the worker Lambda (plain JSON), and the worker that runs them.

The endpoint only parses, verifies, validates, acks and dispatches one of these:

- ``command``: a ``/dlq-redrive`` subcommand that needs AWS (list, peek, redrive, status, cancel).
- ``report_button``: a daily-report button (redrive or peek one DLQ).
- ``decision``: an Approve or Reject click (the button carries only the request id).
- ``continue``: a redrive that ran out of one invocation's time goes on from its checkpoint.
- ``reply``: just answer through ``response_url`` (an input problem found before the ack).

Every job that fails tells the person in Slack (ephemeral answer, and the card when there is
one) and is logged; none fails silently.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.catalog import DlqCatalog
from bot.config import EngineSettings, SlackSettings
from bot.engine import RedriveEngine
from bot.errors import DlqRedriveError, UsageError
from bot.inspection import peek, summarize
from bot.pacing import Deadline
from bot.redrive_model import RedriveReport, RedriveRequest, StopReason
from bot.selection_options import SelectionArgs
from bot.slack import blocks
from bot.slack.approvals import ApproverDirectory, Decision, already_decided, refusal
from bot.slack.commands import (
    CancelCommand,
    ListCommand,
    PeekCommand,
    RedriveCommand,
    StatusCommand,
    parse_command,
)
from bot.slack.dispatch import Dispatcher
from bot.slack.mrkdwn import code, number
from bot.slack.observability import count, logger
from bot.slack.protocol import JobKind
from bot.slack.web import SlackGateway
from bot.sqs_gateway import SqsGateway
from bot.state import (
    ApprovalRequest,
    RequestStatus,
    RunRecord,
    RunStatus,
    StateStore,
    new_request_id,
)

MAX_IDLE_INVOCATIONS = 3  # continuations that scanned nothing in a row before giving up
DEADLINE_RESERVE_S = 20.0  # kept back from the time budget to release messages and report


@dataclass(frozen=True)
class WorkerOptions:
    progress_interval_s: float = 3.0  # how often the card and the checkpoint are refreshed
    peek_default: int = 3
    max_held: int | None = None  # unselected messages held at once (default: under SQS's quota)


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


class SlackWorker:
    """Runs the jobs; everything is injected (built once per cold start by handlers/worker.py)."""

    def __init__(
        self,
        *,
        engine_settings: EngineSettings,
        slack_settings: SlackSettings,
        slack: SlackGateway,
        state: StateStore,
        gateway: SqsGateway,
        dispatcher: Dispatcher,
        approvers: ApproverDirectory,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        options: WorkerOptions | None = None,
    ) -> None:
        self.settings = engine_settings
        self.slack_settings = slack_settings
        self.tz = engine_settings.timezone
        self.slack = slack
        self.state = state
        self.gateway = gateway
        self.dispatcher = dispatcher
        self.approvers = approvers
        self.clock = clock
        self.options = options or WorkerOptions()

    # --- entry point ------------------------------------------------------------------------

    def handle(self, job: dict[str, Any], context: Any) -> dict[str, Any]:
        """Run one job; failures are reported to Slack here, in one place."""
        kind = str(job.get("job", ""))
        response_url = job.get("response_url")
        count("WorkerJobs")
        try:
            if kind == JobKind.REPLY:
                self._respond(job, blocks.error(str(job.get("text", ""))))
                return {"ok": True}
            if kind in (JobKind.COMMAND, JobKind.REPORT_BUTTON, JobKind.DECISION):
                key = str(job.get("delivery") or "")
                if key and not self.state.claim_delivery(key, self.clock()):
                    logger.warning("replayed Slack request dropped", extra={"job": kind})
                    count("ReplaysDropped")
                    return {"ok": True, "replay": True}
            if kind == JobKind.COMMAND:
                self._command(job, context)
            elif kind == JobKind.REPORT_BUTTON:
                self._report_button(job, context)
            elif kind == JobKind.DECISION:
                self._decision(job, context)
            elif kind == JobKind.CONTINUE:
                self._continue(job, context)
            else:
                raise UsageError(f"unknown job {kind!r}")
        except DlqRedriveError as exc:
            logger.warning("job refused", extra={"job": kind, "error": str(exc)})
            if response_url:
                self.slack.respond(str(response_url), blocks.error(str(exc)))
            return {"ok": False, "error": str(exc)}
        except Exception as exc:  # noqa: BLE001 - reported to the person and logged, not hidden
            # A bug or an unexpected failure: tell the person, keep the details in the logs.
            logger.exception("job failed", extra={"job": kind})
            count("AsyncStepFailed")
            if response_url:
                self.slack.respond(
                    str(response_url),
                    blocks.error(
                        f"Something went wrong while handling that ({type(exc).__name__}). "
                        "Nothing was deleted from a DLQ without being sent first; the logs "
                        "have the details."
                    ),
                )
            return {"ok": False, "error": type(exc).__name__}
        return {"ok": True}

    def _respond(self, job: dict[str, Any], message: blocks.Message) -> None:
        url = job.get("response_url")
        if url:
            self.slack.respond(str(url), message)

    def _received_at(self, job: dict[str, Any]) -> datetime:
        raw = job.get("received_at")
        return datetime.fromisoformat(str(raw)) if raw else self.clock()

    # --- commands -------------------------------------------------------------------------------

    def _catalog(self) -> DlqCatalog:
        return DlqCatalog(self.gateway, self.settings)

    def _engine(self) -> RedriveEngine:
        return RedriveEngine(
            self.gateway, max_redrives=self.settings.max_redrives, timezone=self.tz
        )

    def _command(self, job: dict[str, Any], context: Any) -> None:
        command = parse_command(str(job.get("text", "")))
        user = str(job["user"])
        if isinstance(command, ListCommand):
            self._respond(job, blocks.dlq_list(summarize(self._catalog().watched())))
        elif isinstance(command, PeekCommand):
            self._peek(job, command.queue, command.count)
        elif isinstance(command, RedriveCommand):
            self._request_redrive(job, command.queue, command.selection, context)
        elif isinstance(command, StatusCommand):
            self._respond(job, blocks.status(self.state.recent_runs(), self.tz))
        elif isinstance(command, CancelCommand):
            self._cancel(job, command.run_id, user)
        else:  # help is answered in the ack and never reaches the worker
            raise UsageError("nothing to do for that command")

    def _peek(self, job: dict[str, Any], queue: str, n: int) -> None:
        dlq = self._catalog().get(queue)
        messages = peek(self.gateway, dlq, n, max_redrives=self.settings.max_redrives)
        self._respond(job, blocks.peek(dlq.name, dlq.info.visible, messages, self.tz))

    def _report_button(self, job: dict[str, Any], context: Any) -> None:
        queue = str(job["queue"])
        if job.get("action") == "peek":
            self._peek(job, queue, self.options.peek_default)
            return
        date, time_field = job.get("date"), job.get("time_field")
        # The report's selection: its day, by the time its figures used (sent time or a field).
        selection = SelectionArgs(
            date=str(date) if date else None, time_field=str(time_field) if time_field else None
        )
        self._request_redrive(job, queue, selection, context)

    def _cancel(self, job: dict[str, Any], run_id: str, user: str) -> None:
        run = self.state.get_run(run_id)
        if run is None:
            raise UsageError(f"no redrive with id {run_id!r}; `/dlq-redrive status` lists them")
        if user != run.requester and user not in self.approvers.members():
            raise UsageError("only the requester or an approver can cancel a redrive")
        self.state.request_cancel(run_id, user)
        self.state.record_event(run_id, "cancel_requested", user, self.clock())
        self._respond(
            job,
            blocks.notice(
                f":stop_sign: Cancel requested for {code(run_id)}; it stops after the batch in "
                "flight and the card shows what moved."
            ),
        )

    # --- request → approval card ---------------------------------------------------------------

    def _deadline(self, context: Any) -> Deadline:
        if context is None:  # called outside Lambda (a direct call in a test or a script)
            return Deadline(None)
        remaining = context.get_remaining_time_in_millis() / 1000
        # Small budgets (tests, short timeouts) keep a proportional reserve instead.
        return Deadline.from_lambda_context(
            context, reserve_s=min(DEADLINE_RESERVE_S, remaining * 0.25)
        )

    def _request_redrive(
        self, job: dict[str, Any], queue: str, args: SelectionArgs, context: Any
    ) -> None:
        user = str(job["user"])
        channel = str(job["channel"])
        received_at = self._received_at(job)
        selection = args.build(tz=self.tz, now=received_at)
        dlq = self._catalog().get(queue)
        dry = self._engine().run(
            dlq,
            RedriveRequest(selection=selection, dry_run=True, max_held=self.options.max_held),
            deadline=self._deadline(context),
        )
        if dry.matched == 0:
            self._respond(job, blocks.nothing_to_redrive(dlq.name, dry))
            return
        note = blocks.dry_run_note(dry)
        now = self.clock()
        request = ApprovalRequest(
            request_id=new_request_id(now),
            dlq=dlq.name,
            selection=args.to_dict(),
            selection_text=dry.selection,
            matched=dry.matched,  # the approved run selects at most this many (count_complete)
            count_complete=dry.finished,  # the count saw every message (failed or not)
            would_move=dry.destined,  # what the card shows: those the destinations can take
            blocked_groups=dry.blocked_groups,  # FIFO: the counts are lower bounds
            requester=user,
            channel=channel,
            requested_at=received_at,
            approval_expires_at=now + timedelta(minutes=self.slack_settings.approval_ttl_minutes),
        )
        self.state.put_request(request)
        self.state.record_event(
            request.request_id,
            "requested",
            user,
            now,
            dlq=dlq.name,
            selection=dry.selection,
            matched=dry.matched,
            would_move=dry.destined,
            blocked_groups=dry.blocked_groups,
            needs_human=dry.needs_human,
        )
        logger.info(
            "redrive requested",
            extra={"correlation_id": request.request_id, "dlq": dlq.name, "matched": dry.matched},
        )
        count("RedrivesRequested")
        ts = self.slack.post(channel, blocks.approval_card(request, self.tz, dry_run_note=note))
        self.state.set_card(request.request_id, ts)

    # --- decisions --------------------------------------------------------------------------------

    def _decision(self, job: dict[str, Any], context: Any) -> None:
        decision = Decision(str(job["decision"]))
        user = str(job["user"])
        request_id = str(job["request_id"])
        request = self.state.get_request(request_id)
        if request is None:
            raise UsageError("this approval request does not exist (or is too old)")
        clicked_on = (job.get("channel"), job.get("message_ts"))
        if clicked_on != (request.channel, request.message_ts):
            # The value was edited to point at another request: refuse, change nothing.
            count("DecisionsRefused")
            raise UsageError("this button does not belong to that request; nothing was changed")
        why = refusal(
            request,
            user,
            decision,
            approvers=self.approvers.members(),
            allow_self_approval=self.slack_settings.allow_self_approval,
        )
        now = self.clock()
        if why is not None:
            self.state.record_event(request_id, "refused", user, now, decision=decision.value)
            count("DecisionsRefused")
            raise UsageError(why)
        if request.status is not RequestStatus.PENDING:
            self._respond(job, blocks.notice(already_decided(request, self._fmt)))
            return
        if now >= request.approval_expires_at:
            self._expire(job, request, user, now)
            return
        outcome = self.state.decide(request_id, decision.status, user, now)
        if not outcome.won or outcome.request is None:
            latest = outcome.request or request
            if latest.status is RequestStatus.PENDING:  # it expired in between
                self._expire(job, latest, user, now)
                return
            self._respond(job, blocks.notice(already_decided(latest, self._fmt)))
            return
        request = outcome.request
        self.state.record_event(request_id, decision.status.value, user, now)
        logger.info(
            "redrive decided",
            extra={"correlation_id": request_id, "decision": decision.value, "by": user},
        )
        if decision is Decision.REJECT:
            self._update_card(request, f":no_entry: Rejected by <@{user}>; nothing was moved.")
            return
        count("RedrivesApproved")
        self._update_card(request, f":white_check_mark: Approved by <@{user}>, redriving…")
        run = RunRecord(
            run_id=request_id,
            dlq=request.dlq,
            requester=request.requester,
            approved_by=user,
            status=RunStatus.RUNNING,
            started_at=now,
            updated_at=now,
        )
        if not self.state.start_run(run):  # cannot happen after a won decision, but never twice
            return
        self._run(run, request, context)

    def _expire(
        self, job: dict[str, Any], request: ApprovalRequest, user: str, now: datetime
    ) -> None:
        outcome = self.state.decide(request.request_id, RequestStatus.EXPIRED, user, now)
        if outcome.won and outcome.request is not None:
            self.state.record_event(request.request_id, "expired", user, now)
            self._update_card(
                outcome.request,
                f":hourglass: Expired at {self._fmt(request.approval_expires_at)} without a "
                "decision; nothing was moved.",
            )
        latest = outcome.request or request
        self._respond(job, blocks.notice(already_decided(latest, self._fmt)))

    def _fmt(self, value: datetime) -> str:
        return value.astimezone(self.tz).strftime("%Y-%m-%d %H:%M %Z")

    def _update_card(self, request: ApprovalRequest, status_line: str, *extra: str) -> None:
        if request.message_ts:
            self.slack.update(
                request.channel,
                request.message_ts,
                blocks.card_update(request, self.tz, status_line, *extra),
            )

    # --- the redrive, across invocations ------------------------------------------------------

    def _continue(self, job: dict[str, Any], context: Any) -> None:
        run_id = str(job["run_id"])
        invocation = int(job["invocation"])
        run = self.state.claim_continuation(run_id, invocation, self.clock())
        if run is None:
            logger.warning("continuation already taken", extra={"correlation_id": run_id})
            return
        request = self.state.get_request(run_id)
        if request is None:
            raise UsageError(f"the approval request of run {run_id} is gone")
        self._run(run, request, context)

    def _run(self, run: RunRecord, request: ApprovalRequest, context: Any) -> None:
        """One invocation's share of the redrive; checkpoint and hand over if time runs out."""
        invocation = run.invocation
        try:
            report = self._run_once(run, request, context)
        except Exception as exc:  # noqa: BLE001 - the run is marked failed and the card says why
            run.status = RunStatus.FAILED
            run.error = (
                str(exc) if isinstance(exc, DlqRedriveError) else f"{type(exc).__name__}: {exc}"
            )
            logger.exception("redrive failed", extra={"correlation_id": run.run_id})
            self._finish(run, request, None, invocation)
            return
        if report is not None and report.stopped is StopReason.DEADLINE:
            run.idle_invocations = run.idle_invocations + 1 if report.scanned == 0 else 0
            if run.idle_invocations < MAX_IDLE_INVOCATIONS:
                self._hand_over(run, request, invocation)
                return
            run.status = RunStatus.FAILED
            run.error = (
                f"no progress in {run.idle_invocations} invocations in a row: the worker's "
                "time budget is too small"
            )
        self._finish(run, request, report, invocation)

    def _run_once(
        self, run: RunRecord, request: ApprovalRequest, context: Any
    ) -> RedriveReport | None:
        stored = self.state.get_run(run.run_id)
        if stored is not None and stored.cancel_requested_by:
            run.status = RunStatus.CANCELLED
            run.cancel_requested_by = stored.cancel_requested_by
            return None
        args = SelectionArgs.from_dict(request.selection)
        limit = None if args.limit is None else args.limit - run.moved
        if request.count_complete:
            # Never move more than the approvers saw on the card: messages that arrived in the
            # DLQ after the count wait for another request.
            limit = (
                min(limit, request.matched - run.moved)
                if limit is not None
                else (request.matched - run.moved)
            )
        if limit is not None and limit <= 0:
            run.status = RunStatus.DONE
            return None
        selection = args.build(tz=self.tz, now=request.requested_at, limit=limit)
        dlq = self._catalog().get(request.dlq)
        base = (run.moved, run.failed, run.skipped, run.needs_human, run.scanned)
        latest: dict[str, int] = {}
        lock = threading.Lock()

        def on_progress(report: RedriveReport) -> None:
            with lock:  # a cheap copy; the progress thread does the slow work
                latest.update(
                    moved=report.moved,
                    failed=report.failed,
                    skipped=report.skipped,
                    needs_human=report.needs_human,
                    scanned=report.scanned,
                )

        def tick() -> bool:
            with lock:
                snapshot = dict(latest)
            if snapshot:
                run.moved = base[0] + snapshot["moved"]
                run.failed = max(base[1], snapshot["failed"])
                run.skipped = max(base[2], snapshot["skipped"])
                run.updated_at = self.clock()
                stored = self.state.save_run(run, expected_invocation=run.invocation)
                self._update_card(request, blocks.progress_line(run))
                return stored is None or stored.cancel_requested_by is not None
            return self.state.cancel_requested(run.run_id)

        with _Progress(self.options.progress_interval_s, tick) as progress:
            report = self._engine().run(
                dlq,
                RedriveRequest(selection=selection, max_held=self.options.max_held),
                deadline=self._deadline(context),
                cancelled=progress.cancelled.is_set,
                on_progress=on_progress,
            )
        run.moved = base[0] + report.moved
        # Unmoved messages are scanned again by a continuation, so these are the latest pass's
        # figures when it saw everything, else the largest seen (never double counted).
        if report.finished:
            run.failed, run.skipped, run.needs_human = (
                report.failed,
                report.skipped,
                report.needs_human,
            )
        else:
            run.failed = max(base[1], report.failed)
            run.skipped = max(base[2], report.skipped)
            run.needs_human = max(base[3], report.needs_human)
        run.scanned = base[4] + report.scanned
        run.duration_s += report.duration_s
        count("MessagesMoved", report.moved)
        if report.stopped is StopReason.CANCELLED:
            run.status = RunStatus.CANCELLED
            latest_run = self.state.get_run(run.run_id)
            run.cancel_requested_by = latest_run.cancel_requested_by if latest_run else None
        elif report.stopped is StopReason.ERROR:
            run.status = RunStatus.FAILED
            run.error = report.error
        elif report.stopped is StopReason.IN_FLIGHT_LIMIT:
            run.status = RunStatus.DONE
            run.error = (
                "stopped: too many messages outside the selection are held at once; request "
                "another redrive to continue"
            )
        elif report.stopped is not StopReason.DEADLINE:
            run.status = RunStatus.DONE
        return report

    def _hand_over(self, run: RunRecord, request: ApprovalRequest, invocation: int) -> None:
        run.status = RunStatus.CONTINUING
        run.invocation = invocation + 1
        run.updated_at = self.clock()
        if self.state.save_run(run, expected_invocation=invocation) is None:
            return  # another invocation owns the run now
        self.state.record_event(
            run.run_id,
            "checkpoint",
            "worker",
            run.updated_at,
            invocation=invocation,
            moved=run.moved,
        )
        self._update_card(
            request,
            blocks.progress_line(run),
            f"Part {invocation} used its time budget after moving {number(run.moved)} in total; "
            f"continuing in a new invocation (part {run.invocation}).",
        )
        self.dispatcher.dispatch(
            {"job": JobKind.CONTINUE.value, "run_id": run.run_id, "invocation": run.invocation}
        )

    def _finish(
        self,
        run: RunRecord,
        request: ApprovalRequest,
        report: RedriveReport | None,
        invocation: int,
    ) -> None:
        run.updated_at = self.clock()
        self.state.save_run(run, expected_invocation=invocation)
        count("MessagesFailed", run.failed)
        self.state.record_event(
            run.run_id,
            "outcome",
            "worker",
            run.updated_at,
            status=run.status.value,
            moved=run.moved,
            failed=run.failed,
            skipped=run.skipped,
            needs_human=run.needs_human,
            invocations=run.invocation,
            duration_s=round(run.duration_s, 3),
            error=run.error,
        )
        logger.info(
            "redrive finished",
            extra={
                "correlation_id": run.run_id,
                "status": run.status.value,
                "moved": run.moved,
                "failed": run.failed,
            },
        )
        head, details = blocks.outcome_lines(run, report)
        self._update_card(request, head, *details)
