"""Where a selected message goes and what travels: its destination queue, and the entry built for
that queue's MaximumMessageSize (or why it cannot go).

The look-ups this needs (a source queue's URL by ARN, a destination's size) are asked once per run
however many workers need them; what AWS refused fails only the messages that need the answer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from bot.engine_state import RunState
from bot.errors import AwsError, QueueNotFoundError
from bot.planner import Outgoing, build_outgoing
from bot.sqs_model import ReceivedMessage

_T = TypeVar("_T")


@dataclass(slots=True)
class Candidate:
    """A selected message on its way: where it goes, and what travels (or why it cannot)."""

    message: ReceivedMessage
    destination: str  # the queue's name
    url: str = ""
    item: Outgoing | None = None  # built for the destination's MaximumMessageSize
    failure: tuple[str, str] | None = None  # (code, reason): it stays in the DLQ, failed


@dataclass(frozen=True, slots=True)
class Refused:
    """AWS's answer to a lookup that failed (a source queue's URL, a destination's size): the
    messages that need it stay in the DLQ, failed with it, and the others move."""

    code: str
    reason: str


class Router:
    """Routes the selected messages of one run; see the module docstring."""

    def __init__(self, state: RunState) -> None:
        self.state = state
        request, dlq = state.request, state.dlq
        # Each destination's MaximumMessageSize, read once per run (those the catalog read are
        # known already): messages are built, refused and batched to fit it.
        known = (*dlq.sources, *([request.to] if request.to is not None else []))
        self.size_limits: dict[str, int] = {q.url: q.max_message_bytes for q in known}
        self.source_urls: dict[str, str] = {}  # a message's DeadLetterQueueSourceArn -> URL
        # What AWS refused to look up (by ARN or URL), so that it is asked once per run.
        self.refused: dict[str, Refused] = {}
        self.lookup_lock = threading.Lock()

    def prepare(self, message: ReceivedMessage) -> Candidate:
        """Where ``message`` goes and the entry that takes it there (built for that queue's
        MaximumMessageSize), or why it cannot go: its source queue is gone, or the destination
        cannot take it (then it stays in the DLQ, failed with the reason, and is never sent).

        The destination is --to, else the message's own source queue (the
        DeadLetterQueueSourceArn SQS gives), else the DLQ's single source (the intake held the
        others back as having no source).
        """
        request, dlq = self.state.request, self.state.dlq
        if request.to is not None:
            url, name = request.to.url, request.to.name
        elif message.source_arn:
            name = message.source_arn.rsplit(":", 1)[-1]
            found = self._ask_once(
                message.source_arn, self.source_urls, self.state.sqs.url_for_arn, counted_as=None
            )
            if isinstance(found, Refused):
                return Candidate(message, name, failure=(found.code, found.reason))
            url = found
        else:
            (source,) = dlq.sources
            url, name = source.url, source.name
        limit = self.size_limit(url)
        if isinstance(limit, Refused):
            return Candidate(message, name, url, failure=(limit.code, limit.reason))
        item = build_outgoing(
            message,
            fifo=dlq.info.fifo,
            max_message_bytes=limit,
            body=request.edit.body if request.edit is not None else None,
            lineage=request.lineage,
        )
        if item.size <= limit:
            return Candidate(message, name, url, item)
        reason = (
            f"{item.size:,} bytes with its attributes; {name} takes messages of at most "
            f"{limit:,} bytes (its MaximumMessageSize)"
        )
        return Candidate(message, name, url, item, ("MessageTooLarge", reason))

    def size_limit(self, url: str) -> int | Refused:
        """The destination's MaximumMessageSize (one GetQueueAttributes per destination per run,
        none for those the catalog read), or why AWS would not say."""
        sqs = self.state.sqs

        def read(queue_url: str) -> int:
            return sqs.queue_info(queue_url).max_message_bytes

        return self._ask_once(url, self.size_limits, read, counted_as="GetQueueAttributes")

    def _ask_once(
        self,
        key: str,
        answers: dict[str, _T],
        ask: Callable[[str], _T],
        *,
        counted_as: str | None,
    ) -> _T | Refused:
        """``ask(key)``, asked once per run however many workers need it at the same time:
        the answer is kept in ``answers``, a refusal (the queue is gone, AWS denied it) in
        ``refused``. A refusal fails only the messages that need the answer, with AWS's code:
        one queue nobody may look up does not stop the redrive of the others."""
        known = answers.get(key)  # every message asks: no lock once it is known
        if known is not None:
            return known
        with self.lookup_lock:
            if key not in answers and key not in self.refused:
                try:
                    answers[key] = ask(key)
                except QueueNotFoundError as exc:
                    self.refused[key] = Refused("QueueDoesNotExist", str(exc))
                except AwsError as exc:
                    self.refused[key] = Refused(exc.code, str(exc))
                finally:
                    if counted_as is not None:
                        self.state.count_call(counted_as)
            return answers[key] if key in answers else self.refused[key]
