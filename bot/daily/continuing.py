"""The auto-redrive across invocations: when time runs out, the daily function invokes itself
(``InvocationType="Event"``) with the DLQs left; the last invocation posts the final count in
the report's thread and updates the report. Whether to go on is ``bot.run_control``'s rule, the
one an approved Slack redrive follows too."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.catalog import DlqCatalog
from bot.daily.auto_redrive import AutoRedriver
from bot.daily.blocks import render_continuation, text_messages
from bot.daily.events import Continuation
from bot.daily.once import Attempt
from bot.daily.posting import ReportPoster
from bot.daily.report import AutoRedrive
from bot.daily.report_updates import ReportUpdates
from bot.errors import AwsError, DlqRedriveError
from bot.lambda_api import AsyncInvoker
from bot.pacing import Deadline
from bot.printable import printable_logger
from bot.redrive_model import StopReason
from bot.run_control import NextStep, Step, next_step
from bot.slack.web_api import SlackError
from bot.sqs_model import SqsApi

logger = printable_logger(__name__)

# Kept back from the Lambda's remaining time for releasing held messages and posting the report.
REPORT_RESERVE_S = 30.0
# A continuation chain gives up at this invocation, or after MAX_IDLE invocations in a row that
# moved nothing. Two, not one: the 06:00 run spends its time reading every DLQ first, so one
# idle invocation is no sign of a time budget too small to make progress.
MAX_INVOCATIONS = 20
MAX_IDLE = 2


def chain_step(
    invocation: int, continuing: bool, *, moved: int, scanned: int, idle: int
) -> NextStep:
    """Whether the auto-redrive goes on after invocation ``invocation``, which moved ``moved``
    and looked at ``scanned`` messages (``continuing``: some DLQ's time ran out)."""
    return next_step(
        StopReason.DEADLINE if continuing else StopReason.DRAINED,
        scanned,
        idle,
        invocation=invocation,
        max_idle=MAX_IDLE,
        max_invocations=MAX_INVOCATIONS,
        moved=moved,
    )


class ContinuationRun:
    """Hands the auto-redrive over to the next invocation, and carries it on there."""

    def __init__(
        self,
        *,
        catalog: DlqCatalog,
        gateway: SqsApi,
        redriver: AutoRedriver,
        updates: ReportUpdates,
        poster: ReportPoster,
        invoker: AsyncInvoker,
        clock: Callable[[], datetime],
    ) -> None:
        self.catalog = catalog
        self.gateway = gateway
        self.redriver = redriver
        self.updates = updates
        self.poster = poster
        self.invoker = invoker
        self.clock = clock

    def hand_over(self, continuation: Continuation, context: Any, attempt: Attempt) -> str | None:
        """Invoke the next continuation; on failure say so in the thread and return the error."""
        try:
            self.invoker.invoke_async(context.function_name, continuation.to_event())
        except AwsError as exc:
            logger.error("cannot continue the auto-redrive: %s", exc)
            done = continuation.invocation - 1
            messages = render_continuation(
                continuation.day,
                continuation.results,
                done,
                final=False,
                note=f"Could not continue: {exc}",
            )
            self.poster.reply(
                continuation.scheduled.isoformat(),
                f"stopped.{done}",
                continuation.thread_ts,
                messages,
                first_attempt=attempt.first,
            )
            return str(exc)
        return None

    def run(self, work: Continuation, context: Any, attempt: Attempt) -> dict[str, Any]:
        """Carry on the auto-redrive of ``work.queues``; the last one posts the final count in
        the thread and updates the report with the final figures."""
        deadline = Deadline.from_lambda_context(context, reserve_s=REPORT_RESERVE_S)
        results = dict(work.results)
        still: list[str] = []
        not_again: dict[str, tuple[str, ...]] = {}  # sent unanswered: the next part keeps them
        progress = scanned = 0
        for name in work.queues:
            before = results.get(name, AutoRedrive())
            try:
                dlq = self.catalog.get(name)
            except DlqRedriveError as exc:
                results[name] = replace(before, continuing=False, error=str(exc))
                continue
            # The same selection as the report run's (its window is in the event).
            selection = before.selection or self.redriver.selection(work, dlq, work.day)
            done = self.redriver.redrive(
                work.scheduled,
                dlq,
                selection,
                deadline,
                attempt,
                before=before,
                not_again=work.not_again.get(name, ()),
            )
            progress += done.moved_now
            scanned += done.scanned_now
            results[name] = done.result
            if done.result.continuing:
                still.append(name)
            if done.not_again:
                not_again[name] = done.not_again
        step = chain_step(
            work.invocation,
            bool(still),
            moved=progress,
            scanned=scanned,
            idle=work.idle_invocations,
        )
        if step.step is Step.CONTINUE:
            following = replace(
                work,
                queues=tuple(still),
                invocation=work.invocation + 1,
                results=results,
                idle_invocations=step.idle_invocations,
                not_again=not_again,
            )
            if self.hand_over(following, context, attempt) is None:
                return {
                    "status": "continuing",
                    "invocation": work.invocation,
                    "moved": progress,
                    "queues": still,
                }
        return self._finish(work, results, still, step, attempt) | {"moved": progress}

    def _finish(
        self,
        work: Continuation,
        results: dict[str, AutoRedrive],
        still: list[str],
        step: NextStep,
        attempt: Attempt,
    ) -> dict[str, Any]:
        """The final count in the thread, and the report updated with it."""
        depths = self._depths_now(list(results))
        messages = render_continuation(
            work.day, results, work.invocation, final=not still, depths=depths, note=step.reason
        )
        key = work.scheduled.isoformat()
        self.poster.reply(
            key, f"final.{work.invocation}", work.thread_ts, messages, first_attempt=attempt.first
        )
        if still:  # the report says it stopped (it said "still running")
            stopped = f"stopped after {work.invocation} invocations without finishing"
            results = {
                name: replace(r, continuing=False, error=r.error or f"{stopped}; see the thread")
                if name in still
                else r
                for name, r in results.items()
            }
        try:
            update_error = self.updates.update(key, results, depths, work.day, attempt)
        except SlackError as exc:
            if not attempt.last:
                raise  # Lambda runs this continuation again: each part is posted once
            update_error = f"Slack refused to update the report ({exc.code})"
            logger.error("%s on the last attempt", update_error)
            note = (
                f"The report above still shows its first figures: Slack refused to update it "
                f"({exc.code}) on each of {attempt.number} attempts. The final "
                "figures are the ones in this thread."
            )
            self.poster.reply(
                key, f"not-updated.{work.invocation}", work.thread_ts, text_messages(note, [])
            )
        return {
            "status": "finished" if not still else "stopped",
            "invocation": work.invocation,
            "total_moved": sum(r.moved for r in results.values()),
            "queues": list(work.queues),
            "update_error": update_error,
        }

    def _depths_now(self, names: list[str]) -> dict[str, int | None]:
        depths: dict[str, int | None] = {}
        for name in names:
            try:
                info = self.gateway.queue_info(self.catalog.get(name).info.url)
            except DlqRedriveError as exc:
                logger.warning("depth of %s not read: %s", name, exc)
                depths[name] = None
                continue
            depths[name] = info.visible + info.in_flight + info.delayed
        return depths
