"""What a queue reference a user or a setting gives (``DLQ_QUEUES``, a command's queue, --to)
says: a name, a queue URL or a queue ARN. Pure: the SQS gateway looks the queue up.

The shapes are those infra/iam/arns.js reads from DLQ_QUEUES, so that the app looks up exactly
the queue IAM grants: an ARN (``arn:aws:sqs:<region>:<account>:<name>``) or an AWS queue URL
(``https://sqs.<region>.amazonaws.com/<account>/<name>``, or the older
``https://<region>.queue.amazonaws.com/...``) names its region and account; a name, or the URL
of a local stand-in, names neither.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.errors import UsageError

_ARN = re.compile(r"^arn:aws[a-z-]*:sqs:([a-z0-9-]+):([0-9]{12}):([^:/]+)$")
_AWS_URL = re.compile(
    r"^https://(?:sqs\.([a-z0-9-]+)|([a-z0-9-]+)\.queue)\.amazonaws\.com(?:\.cn)?"
    r"/([0-9]{12})/([^/]+)/?$"
)


@dataclass(frozen=True)
class QueueRef:
    """A queue reference, parsed. ``region`` and ``account`` are None when it does not say."""

    text: str
    name: str
    region: str | None = None
    account: str | None = None
    is_arn: bool = False
    is_url: bool = False


def parse_queue_ref(text: str) -> QueueRef:
    """``text`` as a name, URL or ARN. Anything starting with ``arn:`` that is not an SQS queue
    ARN is kept whole as its name (so no queue has it, and the user is told so)."""
    arn = _ARN.match(text)
    if arn:
        region, account, name = arn.groups()
        return QueueRef(text, name, region, account, is_arn=True)
    url = _AWS_URL.match(text)
    if url:
        region = url.group(1) or url.group(2)
        return QueueRef(text, url.group(4), region, url.group(3), is_url=True)
    if text.startswith(("http://", "https://")):  # a local stand-in's URL: its last segment
        return QueueRef(text, text.rstrip("/").rsplit("/", 1)[-1], is_url=True)
    return QueueRef(text, text)


def queue_name(text: str) -> str:
    """The queue name a reference gives (``orders-dlq`` for its name, URL or ARN)."""
    return parse_queue_ref(text).name


def located(text: str, region: str | None) -> QueueRef:
    """``text`` parsed, refused (UsageError) when it names a region other than ``region`` (the
    SQS client's): SQS looks a queue up only in the region its client calls (a URL of another
    region is "NonExistentQueue" there), so that queue cannot be watched from here."""
    ref = parse_queue_ref(text)
    if ref.region is not None and region and ref.region != region:
        raise UsageError(
            f"queue {ref.name!r} is in region {ref.region}, and dlq-redrive's SQS client "
            f"works in {region}: SQS looks queues up only in the client's own region; "
            f"watch it from a stack deployed in {ref.region}"
        )
    return ref
