"""Sample a DLQ's messages for the report without changing the DLQ.

SQS has no peek: the scan receives with a visibility timeout (so a message is not counted twice)
and, however it ends, makes everything it received visible again (ChangeMessageVisibility 0). It
never deletes. It takes at most ``limit`` messages, and stops early once it has seen as many as the
queue's attributes said were visible, so a small DLQ costs a few calls and an empty one none.

Each message goes to ``on_message`` as it arrives and is not kept: the report counts its figures
while streaming (``bot.daily.figures.FigureCounter``), so 1,000 bodies of 1 MiB never sit in
memory together.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.inspection import Sample, sample_queue
from bot.sqs_model import ReceivedMessage, SqsApi

# Long enough for a scan of a few thousand messages; if the function dies mid-scan the messages
# reappear on their own after this.
SCAN_VISIBILITY_S = 180
# Short polls sample a subset of SQS hosts and may come back empty on a non-empty queue: a scan
# that got fewer than expected confirms with one long poll before it stops.
CONFIRM_EMPTY_WAIT_S = 1


def sample_messages(
    sqs: SqsApi,
    url: str,
    *,
    limit: int,
    expected: int,
    on_message: Callable[[ReceivedMessage], None],
    confirm_wait_s: int = CONFIRM_EMPTY_WAIT_S,
) -> Sample:
    """Hand up to ``limit`` distinct messages of the queue at ``url`` to ``on_message``, all
    released before returning.

    ``expected`` is the visible count from the queue's attributes (0: nothing is received).
    """
    return sample_queue(
        sqs,
        url,
        limit=limit,
        visibility_timeout=SCAN_VISIBILITY_S,
        on_message=on_message,
        expected=expected,
        confirm_wait_s=confirm_wait_s,
    )
