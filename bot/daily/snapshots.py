"""Daily depth snapshots in the state table: the data access of the daily report.

One item per DLQ and report day: ``pk = "SNAPSHOT#<dlq name>"``, ``sk = "YYYY-MM-DD"`` (the report's
day, i.e. yesterday when the job ran), with the depth and a TTL of ``RETENTION`` (DynamoDB deletes
old ones). Writing the same day again (a retried run) overwrites it, so snapshots are idempotent.

Also the running total of messages the auto-redrive of one scheduled run moved, per DLQ
(``pk = "DAILYRUN#<scheduled time>"``, ``sk = "<dlq name>"``): a run that failed after moving
messages (Slack refused the post, the function timed out) is retried by Lambda, and the retry's
report still counts what the failed attempt moved.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from bot.aws_errors import describe_client_error
from bot.errors import AwsError
from bot.state_schema import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

RETENTION = timedelta(days=60)
RUN_RETENTION = timedelta(days=3)
PREFIX = "SNAPSHOT#"
RUN_PREFIX = "DAILYRUN#"


@dataclass(frozen=True)
class Snapshot:
    """The depth of one DLQ as the report of ``day`` saw it."""

    dlq: str
    day: date
    depth: int


class SnapshotStore:
    """Reads and writes ``Snapshot`` items; the only code touching them in DynamoDB."""

    def __init__(self, table: str, client: DynamoDBClient | None = None) -> None:
        self.table = table
        self.client: DynamoDBClient = client if client is not None else boto3.client("dynamodb")

    def put(self, snapshot: Snapshot, *, taken_at: datetime) -> None:
        """Store (or overwrite) the snapshot; it expires ``RETENTION`` after ``taken_at``."""
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    PARTITION_KEY: {"S": PREFIX + snapshot.dlq},
                    SORT_KEY: {"S": snapshot.day.isoformat()},
                    "depth": {"N": str(snapshot.depth)},
                    "taken_at": {"S": taken_at.isoformat(timespec="seconds")},
                    TTL_ATTRIBUTE: {"N": str(int((taken_at + RETENTION).timestamp()))},
                },
            )
        except (ClientError, BotoCoreError) as exc:
            raise _error(f"saving the snapshot of {snapshot.dlq!r}", exc) from exc

    def put_all(self, snapshots: list[Snapshot], *, taken_at: datetime) -> None:
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda s: self.put(s, taken_at=taken_at), snapshots))

    def history(self, dlq: str, first: date, last: date) -> dict[date, int]:
        """Depth by day, ``first`` to ``last`` inclusive; days without a snapshot are absent."""
        try:
            response = self.client.query(
                TableName=self.table,
                KeyConditionExpression="#pk = :pk AND #sk BETWEEN :first AND :last",
                ExpressionAttributeNames={"#pk": PARTITION_KEY, "#sk": SORT_KEY},
                ExpressionAttributeValues={
                    ":pk": {"S": PREFIX + dlq},
                    ":first": {"S": first.isoformat()},
                    ":last": {"S": last.isoformat()},
                },
            )
        except (ClientError, BotoCoreError) as exc:
            raise _error(f"reading the snapshots of {dlq!r}", exc) from exc
        return {
            date.fromisoformat(item[SORT_KEY]["S"]): int(item["depth"]["N"])
            for item in response.get("Items", [])
        }

    def histories(self, dlqs: list[str], first: date, last: date) -> dict[str, dict[date, int]]:
        """``history`` of several DLQs, read in parallel."""
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = pool.map(lambda name: self.history(name, first, last), dlqs)
            return dict(zip(dlqs, results, strict=True))

    def add_moved(self, run: str, dlq: str, moved: int, *, now: datetime) -> int:
        """Add ``moved`` to what scheduled run ``run`` moved out of ``dlq``; the new total."""
        try:
            response = self.client.update_item(
                TableName=self.table,
                Key={PARTITION_KEY: {"S": RUN_PREFIX + run}, SORT_KEY: {"S": dlq}},
                UpdateExpression="ADD moved :n SET #ttl = :ttl",
                ExpressionAttributeNames={"#ttl": TTL_ATTRIBUTE},
                ExpressionAttributeValues={
                    ":n": {"N": str(moved)},
                    ":ttl": {"N": str(int((now + RUN_RETENTION).timestamp()))},
                },
                ReturnValues="ALL_NEW",
            )
        except (ClientError, BotoCoreError) as exc:
            raise _error(f"recording what the auto-redrive moved from {dlq!r}", exc) from exc
        return int(response.get("Attributes", {}).get("moved", {}).get("N", moved))


def _error(doing: str, exc: ClientError | BotoCoreError) -> AwsError:
    code, message = describe_client_error(exc)
    return AwsError(f"AWS refused {doing}: {code}: {message}")
