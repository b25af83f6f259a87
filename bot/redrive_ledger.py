"""The redrive ledger in the state table: how often the daily auto-redrive sent back a message
that cannot carry the ``dlq-redrive-count`` attribute (it has 10 attributes already, or no room
left in the message size), so that MAX_REDRIVES still holds for it. The engine asks through the
``RedriveLedger`` protocol; this is the only code touching these items in DynamoDB.

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
import time
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from bot.aws_errors import describe_client_error
from bot.errors import AwsError
from bot.printable import printable_logger
from bot.state_schema import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PREFIX = "REDRIVES#"
# Longer than a message can live between two redrives (SQS keeps a message at most 14 days, in
# the source queue and then again in the DLQ), so a count is not forgotten while it still matters.
RETENTION = timedelta(days=30)
BATCH_GET_KEYS = 100  # BatchGetItem's limit
BATCH_GET_ATTEMPTS = 5  # for keys DynamoDB leaves unprocessed (throttling)
# The count of a message whose count cannot be read: past any MAX_REDRIVES, so it needs a human.
UNREADABLE = sys.maxsize

logger = printable_logger(__name__)


class StateTableRedriveLedger:
    """``RedriveLedger`` on the state table (``STATE_TABLE``)."""

    def __init__(
        self,
        table: str,
        client: DynamoDBClient | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.table = table
        self.client: DynamoDBClient = client if client is not None else boto3.client("dynamodb")
        self.clock = clock

    def counts(self, dlq: str, digests: Collection[str]) -> dict[str, int]:
        """The recorded redrives of each digest (strongly consistent reads; absent: none), or
        ``UNREADABLE`` for each digest whose count could not be read."""
        wanted = sorted(set(digests))
        found: dict[str, int] = {}
        for start in range(0, len(wanted), BATCH_GET_KEYS):
            chunk = wanted[start : start + BATCH_GET_KEYS]
            try:
                items = self._batch_get(dlq, [self._key(dlq, digest) for digest in chunk])
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
            try:
                self.client.update_item(
                    TableName=self.table,
                    Key=self._key(dlq, digest),
                    UpdateExpression="ADD redrives :n SET #ttl = :ttl",
                    ExpressionAttributeNames={"#ttl": TTL_ATTRIBUTE},
                    ExpressionAttributeValues={
                        ":n": {"N": str(times)},
                        ":ttl": {"N": str(expires)},
                    },
                )
            except (ClientError, BotoCoreError) as exc:
                raise _error(f"counting a redrive from {dlq!r}", exc) from exc

    def _batch_get(self, dlq: str, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for attempt in range(BATCH_GET_ATTEMPTS):
            try:
                response = self.client.batch_get_item(
                    RequestItems={self.table: {"Keys": keys, "ConsistentRead": True}}
                )
            except (ClientError, BotoCoreError) as exc:
                raise _error(f"reading the redrive counts of {dlq!r}", exc) from exc
            items += response.get("Responses", {}).get(self.table, [])
            unprocessed = response.get("UnprocessedKeys", {}).get(self.table)
            keys = list(unprocessed["Keys"]) if unprocessed else []
            if not keys:
                return items
            time.sleep(0.05 * 2**attempt)  # DynamoDB's advice: back off before asking again
        raise AwsError(
            f"AWS left {len(keys)} redrive counts of {dlq!r} unread after "
            f"{BATCH_GET_ATTEMPTS} attempts (throttled)"
        )

    @staticmethod
    def _key(dlq: str, digest: str) -> dict[str, Any]:
        return {PARTITION_KEY: {"S": PREFIX + dlq}, SORT_KEY: {"S": digest}}


def _error(doing: str, exc: ClientError | BotoCoreError) -> AwsError:
    code, message = describe_client_error(exc)
    return AwsError(f"AWS refused {doing}: {code}: {message}")
