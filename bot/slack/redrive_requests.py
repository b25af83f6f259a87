"""A redrive request: the dry-run count, the approval request that pins what it counted, and
the card with the Approve and Reject buttons."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.redrive_model import RedriveRequest
from bot.selection_options import SelectionArgs
from bot.slack import blocks
from bot.slack.observability import count, logger
from bot.slack.queues import Queues, WorkerOptions, deadline_of
from bot.slack.web_api import SlackApi
from bot.state import StateStore
from bot.state_model import ApprovalRequest, new_request_id


class RedriveRequests:
    """Counts what a redrive would take and asks the approvers (the card)."""

    def __init__(
        self,
        *,
        queues: Queues,
        state: StateStore,
        slack: SlackApi,
        approval_ttl: timedelta,
        clock: Callable[[], datetime],
        options: WorkerOptions,
    ) -> None:
        self.queues = queues
        self.state = state
        self.slack = slack
        self.approval_ttl = approval_ttl
        self.clock = clock
        self.options = options

    def request(
        self,
        *,
        queue: str,
        args: SelectionArgs,
        user: str,
        channel: str,
        response_url: str,
        received_at: datetime,
        context: Any,
    ) -> None:
        """Count, store the request with its pin, post the card (or say there is nothing)."""
        selection = args.build(tz=self.queues.tz, now=received_at)
        dlq = self.queues.catalog().get(queue)
        dry = self.queues.engine().run(
            dlq,
            RedriveRequest(selection=selection, dry_run=True, max_held=self.options.max_held),
            deadline=deadline_of(context),
        )
        # Every message the count saw was sent before now: the pin's upper time bound.
        counted_at = self.clock()
        if dry.matched == 0:
            self.slack.respond(response_url, blocks.nothing_to_redrive(dlq.name, dry))
            return
        request = ApprovalRequest(
            request_id=new_request_id(counted_at),
            dlq=dlq.name,
            selection=args.to_dict(),
            selection_text=dry.selection,
            matched=dry.matched,  # the approved run moves at most this many, always
            # the count saw every message (failed or not), and SQS counts no more than it saw
            count_complete=dry.finished and not dry.unseen,
            count_stopped=None if dry.finished else dry.stopped.value,
            would_move=dry.destined,  # what the card shows: those the destinations can take
            blocked_groups=dry.blocked_groups,  # FIFO: the count could not see every message
            requester=user,
            channel=channel,
            requested_at=received_at,
            approval_expires_at=counted_at + self.approval_ttl,
            pin_sent_before=counted_at,
            pin_digests=dry.matched_digests,
        )
        self.state.put_request(request)
        self.state.record_event(
            request.request_id,
            "requested",
            user,
            counted_at,
            dlq=dlq.name,
            selection=dry.selection,
            matched=dry.matched,
            would_move=dry.destined,
            blocked_groups=dry.blocked_groups,
            needs_human=dry.needs_human,
            count_stopped=request.count_stopped,
            pinned_ids=None if dry.matched_digests is None else len(dry.matched_digests),
        )
        logger.info(
            "redrive requested",
            extra={"correlation_id": request.request_id, "dlq": dlq.name, "matched": dry.matched},
        )
        count("RedrivesRequested")
        card = blocks.approval_card(request, self.queues.tz, dry_run_note=blocks.dry_run_note(dry))
        ts = self.slack.post(channel, card)
        self.state.set_card(request.request_id, ts)
