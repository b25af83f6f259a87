"""Sample a DLQ's messages for the report without changing the DLQ.

SQS has no peek: the scan receives with a visibility timeout (so a message is not counted twice)
and, however it ends, makes everything it received visible again (ChangeMessageVisibility 0). It
never deletes. It takes at most ``limit`` messages, and stops early once it has seen as many as the
queue's attributes said were visible, so a small DLQ costs a few calls and an empty one none.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.sqs_gateway import ReceivedMessage, SqsApi

# Long enough for a scan of a few thousand messages; if the function dies mid-scan the messages
# reappear on their own after this.
SCAN_VISIBILITY_S = 180
# Short polls sample a subset of SQS hosts and may come back empty on a non-empty queue: a scan
# that got fewer than expected confirms with one long poll before it stops.
CONFIRM_EMPTY_WAIT_S = 1


@dataclass(frozen=True)
class Sample:
    messages: list[ReceivedMessage]
    capped: bool  # the queue had more than ``limit`` messages
    release_failures: int  # messages that could not be made visible again (back after the timeout)


def sample_messages(
    sqs: SqsApi,
    url: str,
    *,
    limit: int,
    expected: int,
    confirm_wait_s: int = CONFIRM_EMPTY_WAIT_S,
) -> Sample:
    """Up to ``limit`` distinct messages of the queue at ``url``, all released before returning.

    ``expected`` is the visible count from the queue's attributes (0: nothing is received).
    """
    seen: dict[str, ReceivedMessage] = {}
    handles: list[str] = []
    try:
        while expected > 0 and len(seen) < limit:
            batch = sqs.receive(
                url,
                max_messages=min(10, limit - len(seen)),
                visibility_timeout=SCAN_VISIBILITY_S,
                wait_seconds=0,
            )
            if not batch and len(seen) < expected and confirm_wait_s > 0:
                batch = sqs.receive(
                    url,
                    max_messages=min(10, limit - len(seen)),
                    visibility_timeout=SCAN_VISIBILITY_S,
                    wait_seconds=confirm_wait_s,
                )
            if not batch:
                break
            for message in batch:
                handles.append(message.receipt_handle)
                seen.setdefault(message.message_id, message)
            if len(seen) >= expected:
                break  # everything the attributes announced is here; no long poll needed
    finally:
        failures = sqs.change_visibility_batch(url, handles, 0) if handles else []
    return Sample(
        list(seen.values()),
        capped=len(seen) >= limit and expected > len(seen),
        release_failures=len(failures),
    )
