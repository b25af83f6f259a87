"""A redrive or discard request: the dry-run count, the approval request that pins what it
counted, and the card with the Approve and Reject buttons."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from bot.catalog import Dlq
from bot.errors import UsageError
from bot.kind_words import delivery_lines, not_resent_lines, undeliverable
from bot.redrive_model import Action, RedriveReport, RedriveRequest
from bot.selection import Pin, pin_digest
from bot.selection_options import SelectionArgs
from bot.slack import blocks
from bot.slack.observability import count, logger
from bot.slack.queues import Queues, WorkerOptions, deadline_of
from bot.slack.web_api import Message, SlackApi, SlackError
from bot.state import StateStore
from bot.state_model import ApprovalRequest, RequestAction, new_request_id


def discard_archive(bucket: str, request_id: str) -> str:
    """Where the discard of request ``request_id`` writes its records: its own prefix of the
    archive bucket. The card names it, and the approved run writes nowhere else."""
    return f"s3://{bucket}/discards/{request_id}/"


@dataclass(frozen=True)
class Counted:
    """A request's dry run: the DLQ, the engine's report, and what it names when it is not the
    selection (``what``: "message <id>", a peeked message's button)."""

    dlq: Dlq
    report: RedriveReport
    what: str | None = None

    def nothing_to_ask(self, action: RequestAction) -> bool:
        """Nothing to approve: none matched, or (a redrive) the count saw every message and
        none could go (each stays for a human or would fail): an Approve would move nothing."""
        dry = self.report
        complete = dry.finished and not dry.unseen and not dry.blocked_groups
        return dry.matched == 0 or (
            action is RequestAction.REDRIVE and dry.destined == 0 and complete
        )


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

    def count(
        self,
        *,
        queue: str,
        args: SelectionArgs,
        received_at: datetime,
        context: Any,
        action: RequestAction = RequestAction.REDRIVE,
        message_id: str | None = None,
    ) -> Counted:
        """The dry run of a request: what ``args`` select in ``queue`` now, counted as the
        approval would take it (a request's count, and the request modal's live count).
        UsageError when no message of the DLQ can go back where it came from (a redrive)."""
        selection = args.build(
            tz=self.queues.tz,
            now=received_at,
            error_attribute=self.queues.settings.error_attribute,
        )
        what = None
        if message_id is not None:
            # That message only: its id's digest, sent before the click, one at most.
            pin = Pin(received_at, frozenset({pin_digest(message_id)}))
            selection = replace(selection, pin=pin, limit=1)
            what = f"message {message_id}"
        dlq = self.queues.catalog().get(queue)
        refused = undeliverable(dlq.feeders, has_sources=bool(dlq.sources))
        if refused and action is RequestAction.REDRIVE:  # as the CLI refuses it: nothing read
            raise UsageError(
                f"No message of {dlq.name} can go back where it came from: {refused}. Nothing "
                "was counted or moved (the CLI's `dlq-redrive redrive --to QUEUE` moves them to "
                "a queue you name)."
            )
        dry = self.queues.engine().run(
            dlq,
            RedriveRequest(
                selection=selection,
                dry_run=True,
                max_held=self.options.max_held,
                action=Action.DISCARD if action is RequestAction.DISCARD else Action.REDRIVE,
            ),
            deadline=deadline_of(context),
        )
        return Counted(dlq, dry, what)

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
        action: RequestAction = RequestAction.REDRIVE,
        message_id: str | None = None,
        reply: Callable[[Message], None] | None = None,
        note: str | None = None,
    ) -> ApprovalRequest | None:
        """Count, store the request with its pin, post the card (or say there is nothing);
        the request whose card was posted, or None when there was nothing to ask for.

        ``action``: what approving does (a redrive, or a discard: archived, then deleted);
        ``message_id``: only that message (a peeked message's button), at most one;
        ``reply``: how to answer the requester (default: through ``response_url``; the request
        modal has none and answers in the modal); ``note``: the requester's, on the card."""
        request_id = new_request_id(self.clock())
        # Checked before anything is received: a discard without its archive never starts.
        archive_location = self._archive_location(action, request_id)
        counted = self.count(
            queue=queue,
            args=args,
            received_at=received_at,
            context=context,
            action=action,
            message_id=message_id,
        )
        dlq, dry, what = counted.dlq, counted.report, counted.what
        # Every message the count saw was sent before now: the pin's upper time bound.
        counted_at = self.clock()
        if counted.nothing_to_ask(action):
            message = blocks.nothing_to_redrive(dlq.name, dry, action.value, what)
            if reply is not None:
                reply(message)
            else:
                self.slack.respond(response_url, message)
            return None
        request = ApprovalRequest(
            request_id=request_id,
            dlq=dlq.name,
            selection=args.to_dict(),
            selection_text=what or dry.selection,
            matched=dry.matched,  # the approved run moves at most this many, always
            # the count saw every message (failed or not), and SQS counts no more than it saw
            count_complete=dry.finished and not dry.unseen,
            count_stopped=None if dry.finished else dry.stopped.value,
            # what the card shows: those the destinations can take (a discard: all it matched)
            would_move=dry.matched if action is RequestAction.DISCARD else dry.destined,
            blocked_groups=dry.blocked_groups,  # FIFO: the count could not see every message
            requester=user,
            channel=channel,
            requested_at=received_at,
            approval_expires_at=counted_at + self.approval_ttl,
            pin_sent_before=counted_at,
            pin_digests=dry.matched_digests,
            action=action.value,
            archive_location=archive_location,
            deliveries=_deliveries(dlq, dry) if action is RequestAction.REDRIVE else None,
            # A DLQ with feeders: its copies go only where the card says they go.
            approved_to="\n".join(sorted(dry.by_destination))
            if dlq.feeders and action is RequestAction.REDRIVE
            else None,
            note=note or None,
        )
        self.state.put_request(request)
        self.state.record_event(
            request.request_id,
            "requested",
            user,
            counted_at,
            **request.audit_detail(),
            selection=dry.selection,
            matched=dry.matched,
            would_move=request.would_move,
            blocked_groups=dry.blocked_groups,
            needs_human=dry.needs_human,
            count_stopped=request.count_stopped,
            pinned_ids=None if dry.matched_digests is None else len(dry.matched_digests),
        )
        logger.info(
            f"{action.value} requested",
            extra={"correlation_id": request.request_id, "dlq": dlq.name, "matched": dry.matched},
        )
        count("RedrivesRequested" if action is RequestAction.REDRIVE else "DiscardsRequested")
        note = blocks.dry_run_note(dry, action.value)
        card = blocks.approval_card(request, self.queues.tz, dry_run_note=note)
        ts = self._post_card(channel, request.request_id, card, counted_at)
        self.state.set_card(request.request_id, ts)
        return request

    def _post_card(self, channel: str, request_id: str, card: Message, since: datetime) -> str:
        """Post ``card``; its ts. When Slack's answer was lost (it may have posted it), the card
        is looked up in the channel by its buttons' block (``decision:<request id>``, one
        request's) before anything is said: a card posted but not recorded has buttons that do
        nothing, and a requester told "refused" would ask again (a second card)."""
        try:
            return self.slack.post(channel, card)
        except SlackError as exc:
            if exc.code is not None and exc.code.isidentifier() and exc.code not in _UNSURE:
                raise  # Slack answered with its refusal: nothing was posted
            try:
                found = _find_card(self.slack, channel, request_id, since)
            except SlackError as lookup:
                logger.warning("card not looked up", extra={"error": str(lookup)})
                found = None
            if found is None:
                raise SlackError(
                    f"Slack did not answer whether the card of request {request_id} was posted "
                    f"in <#{channel}> ({exc}), and it could not be found there. If it shows up, "
                    "its buttons do nothing: nothing will be moved. Ask again."
                ) from exc
            logger.info("card found after a lost answer", extra={"correlation_id": request_id})
            return found

    def _archive_location(self, action: RequestAction, request_id: str) -> str | None:
        """Where a discard's records go (``s3://ARCHIVE_BUCKET/discards/<request id>/``); None
        for other actions. UsageError when no archive bucket is configured."""
        if action is not RequestAction.DISCARD:
            return None
        if not self.queues.settings.archive_bucket:
            raise UsageError(
                "Discarding from Slack archives every message to S3 first, and no archive "
                "bucket is configured (ARCHIVE_BUCKET), so nothing was discarded. Ask an admin "
                "to set it, or use the CLI's `dlq-redrive discard --archive PATH`."
            )
        return discard_archive(self.queues.settings.archive_bucket, request_id)


# Slack's answers that do not say whether a message was posted (chat.postMessage): its own
# failures. Any other error code is a refusal (nothing posted); no code, or one that is no
# Slack code (a proxy's page, "Received a response in a non-JSON format"), is an answer lost.
_UNSURE = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout"})
# The card is looked up among the channel's messages since the count, at most this many pages.
_CARD_LOOKUP_PAGES = 5


def _find_card(slack: SlackApi, channel: str, request_id: str, since: datetime) -> str | None:
    """The ts of request ``request_id``'s card in ``channel`` (posted after ``since``), or
    None."""
    block_id = f"decision:{request_id}"
    cursor = None
    for _ in range(_CARD_LOOKUP_PAGES):
        page = slack.history(channel, oldest=f"{since.timestamp() - 1:.6f}", cursor=cursor)
        for message in page.messages:
            if any(
                isinstance(b, dict) and b.get("block_id") == block_id
                for b in message.get("blocks") or []
            ):
                return str(message["ts"])
        cursor = page.next_cursor
        if cursor is None:
            break
    return None


def _deliveries(dlq: Dlq, dry: RedriveReport) -> str | None:
    """Where the counted copies go, one plain line per destination ("lambda orders-handler
    (async invoke): 12", "queue orders (the subscription's endpoint, not the topic): 5") and
    what never happens (a publish to the topic, an event on the bus): every card shows it. None
    for a DLQ fed by SQS queues only, whose messages go back to their source queues."""
    if not dlq.feeders:
        return None
    lines = [*delivery_lines(dry.by_destination, dlq.feeders), *not_resent_lines(dlq.feeders)]
    return "\n".join(lines) or None
