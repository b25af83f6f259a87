"""The redrive ledger in the state table: how often the daily auto-redrive sent back a message
that cannot carry the ``dlq-redrive-count`` attribute (it has 10 attributes already, or no room
left in the message size), so that MAX_REDRIVES still holds for it. The engine asks through the
``RedriveLedger`` protocol; this is the only code touching these items in the state table.

One item per DLQ and message: ``pk = "REDRIVES#<dlq name>"``, ``sk = <content digest>`` (the
sha256 of body and attributes, ``bot.engine.content_digest``: SQS gives every redriven copy a new
id), with the count and a TTL of ``RETENTION`` after the last redrive. Identical messages share one
count, which can only make a message need a human sooner, never later.

When the counts cannot be read (the state table is unavailable, or throttles past its retries),
each of those messages counts as redriven ``UNREADABLE`` times, more than any MAX_REDRIVES: it
needs a human this time, rather than escaping the limit, and the other messages still move.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime, timedelta

from bot.errors import AwsError
from bot.printable import printable_logger
from bot.state_schema import SORT_KEY, TTL_ATTRIBUTE
from bot.state_table_api import BATCH_GET_KEYS, StateTableApi, key

PREFIX = "REDRIVES#"
# Longer than a message can live between two redrives (SQS keeps a message at most 14 days, in
# the source queue and then again in the DLQ), so a count is not forgotten while it still matters.
RETENTION = timedelta(days=30)
# The count of a message whose count cannot be read: past any MAX_REDRIVES, so it needs a human.
UNREADABLE = sys.maxsize

logger = printable_logger(__name__)


class StateTableRedriveLedger:
    """``RedriveLedger`` on the state table (``STATE_TABLE``)."""

    def __init__(
        self,
        table: StateTableApi,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.table = table
        self.clock = clock

    def counts(self, dlq: str, digests: Collection[str]) -> dict[str, int]:
        """The recorded redrives of each digest (strongly consistent reads; absent: none), or
        ``UNREADABLE`` for each digest whose count could not be read."""
        wanted = sorted(set(digests))
        found: dict[str, int] = {}
        # One BatchGetItem's worth at a time: a chunk that cannot be read holds only its own.
        for start in range(0, len(wanted), BATCH_GET_KEYS):
            chunk = wanted[start : start + BATCH_GET_KEYS]
            try:
                items = self.table.batch_get(
                    [key(PREFIX + dlq, digest) for digest in chunk],
                    doing=f"read the redrive counts of {dlq!r}",
                )
            except AwsError as exc:
                logger.error("redrive counts of %s unread, held for a human: %s", dlq, exc)
                found.update(dict.fromkeys(chunk, UNREADABLE))
                continue
            for item in items:
                found[item[SORT_KEY]["S"]] = int(item["redrives"]["N"])
        return found

    def record(self, dlq: str, digests: Sequence[str]) -> None:
        """Add one redrive per listed digest (atomic ADD: parallel runs cannot lose a count)."""
        expires = int((self.clock() + RETENTION).timestamp())
        for digest, times in Counter(digests).items():
            self.table.update(
                key(PREFIX + dlq, digest),
                "ADD redrives :n SET #ttl = :ttl",
                names={"#ttl": TTL_ATTRIBUTE},
                values={":n": {"N": str(times)}, ":ttl": {"N": str(expires)}},
                doing=f"count a redrive from {dlq!r}",
            )
