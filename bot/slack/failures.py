"""A worker invocation that died (timeout, out of memory, a crash Lambda saw): its run is marked
failed with the reason, and its card says so, from Lambda's on-failure destination record.

The record (``{"requestContext": {...}, "requestPayload": <the job>, "responsePayload":
{"errorType", "errorMessage"}, ...}``) is read by ``handlers/failed.py``. The job in it is opened
with the worker's key (its own expiry ignored: the record arrives after the job's deadline); an
unsigned or tampered payload is refused, so that nobody can fail someone else's run with a made-up
record. Only a run still running or continuing is marked: one that finished keeps its outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.errors import UsageError
from bot.lambda_api import FailedInvocation
from bot.slack import blocks
from bot.slack.cards import Cards
from bot.slack.edit_modal import notice_view
from bot.slack.mrkdwn import escape
from bot.slack.observability import count, logger
from bot.slack.protocol import (
    ContinueJob,
    DecisionJob,
    EditSubmitJob,
    JobRejectedError,
    JobSigner,
    RequestOpenJob,
    RequestSubmitJob,
)
from bot.slack.web_api import SlackApi
from bot.state import StateStore


def failure_reason(record: dict[str, Any]) -> str:
    """Why the invocation failed, in Lambda's words (``FailedInvocation.error``, as the daily
    report says it too)."""
    try:
        return FailedInvocation.from_record(record).error
    except UsageError:
        return "the invocation failed"


def _request_id(record: dict[str, Any]) -> str:
    """The failed invocation's Lambda request id; "" (nobody's) when the record has none."""
    try:
        return FailedInvocation.from_record(record).request_id
    except UsageError:
        return ""


def record_worker_failure(
    record: dict[str, Any],
    *,
    signer: JobSigner,
    state: StateStore,
    slack: SlackApi,
    cards: Cards,
    clock: Callable[[], datetime],
) -> dict[str, Any]:
    """Mark the run of the failed invocation in ``record`` failed and say why on its card (for a
    command, answer its requester); what was done is returned for the log."""
    try:
        job = signer.open(record.get("requestPayload"), clock(), ignore_expiry=True)
    except JobRejectedError as exc:
        logger.warning("failure record refused", extra={"reason": exc.reason, "error": str(exc)})
        count("JobsRejected")
        return {"ok": False, "refused": exc.reason}
    reason = failure_reason(record)
    count("WorkerInvocationsFailed")
    if not isinstance(job, DecisionJob | ContinueJob):
        # No run behind it: the person who asked is told, if there is anyone to tell.
        logger.error("worker invocation failed", extra={"job": job.kind.value, "error": reason})
        response_url = getattr(job, "response_url", None)
        if response_url:
            slack.respond(
                response_url,
                blocks.error(f"The worker stopped before it could answer: {reason}"),
            )
        elif isinstance(job, EditSubmitJob):  # no response_url: the person is at its modal
            slack.update_view(
                job.view_id,
                notice_view(f":x: The worker stopped before it could answer: {escape(reason)}"),
            )
        elif isinstance(job, RequestOpenJob | RequestSubmitJob):
            # The request modal says "Reading…" or "Counting…" until told: told in it, or in
            # the person's DM when it was closed (loaded here only: the failed function's cold
            # start does not need the modal's code).
            from bot.slack.request_form import RequestForm, result_view
            from bot.slack.request_modal_jobs import show

            action = (
                job.action
                if isinstance(job, RequestOpenJob)
                else RequestForm.from_json(job.form).action
            )
            message = blocks.error(f"The worker stopped before it could answer: {reason}")
            show(slack, job.view_id, job.user, result_view(message, action=action), dm=message)
        return {"ok": True, "run": None}
    now = clock()
    error = f"the worker stopped: {reason}"
    # Only the invocation that owns the run may fail it: the approving click's (invocation 1,
    # approved by whoever clicked) or the continuation numbered as the run's checkpoint. An
    # invocation that handed over and then died leaves the run to the next part once that part
    # took it over; a click that lost to another leaves it to its owner.
    if isinstance(job, DecisionJob):
        # That click's own: the same approver's second click, which lost, does not own it.
        run_id, invocation, approver, owner = job.request_id, 1, job.user, job.delivery
    else:
        # That invocation's own: a duplicate delivery of the same part does not own it.
        run_id, invocation, approver = job.run_id, job.invocation, None
        owner = _request_id(record)
    is_start = not isinstance(job, DecisionJob) or job.decision == "approve"
    run = (
        state.fail_run(
            run_id, error, now, invocation=invocation, approved_by=approver, started_by=owner
        )
        if is_start
        else None
    )
    if run is None and is_start:
        # The part died after its checkpoint and before the next part took the run over: its
        # dispatch may never have happened, and then no part would ever run it. Failed unless
        # the next part claimed it, even at the same moment (one conditional write wins); a
        # next part started later finds the run failed and runs nothing.
        error = (
            f"part {invocation + 1} was never started: part {invocation} saved its checkpoint "
            f"and then the worker stopped: {reason}"
        )
        run = state.fail_hand_over(
            run_id, error, now, invocation=invocation, approved_by=approver, started_by=owner
        )
    if run is None:  # no run of this invocation's (a refused or losing click, a part whose
        # successor took over), or it ended with an outcome of its own
        logger.info("failure of a run that is not active", extra={"correlation_id": run_id})
        return {"ok": True, "run": run_id, "marked": False}
    logger.error(
        "redrive failed: worker invocation died",
        extra={"correlation_id": run_id, "error": reason},
    )
    state.record_event(
        run_id, "outcome", "worker", now, status=run.status.value, moved=run.moved, error=error
    )
    request = state.get_request(run_id)
    if request is not None:
        head, details = blocks.outcome_lines(run, None, request)
        cards.update(request, head, *details)
    return {"ok": True, "run": run_id, "marked": True}
