"""The state table's data access for the Slack app: approval requests, the one conditional
decision write, audit events, redrive runs (progress, checkpoints, cancel flags) and the replay
guard. The only module that calls DynamoDB for them.

Items (single table, ``pk`` / ``sk`` strings, TTL on ``expires_at``):

- ``REQUEST#<id>`` / ``REQUEST``: one approval request and its decision.
- ``REQUEST#<id>`` / ``EVENT#<iso time>#<n>``: the audit trail (who, when, what, counts).
- ``RUNS`` / ``<id>``: a redrive run (status, counts so far, invocation number, cancel flag). One
  partition, sorted by id, so ``status`` reads the most recent runs with one query; ids start with
  the UTC time, so they sort by age.
- ``DELIVERY#<key>`` / ``DELIVERY``: a Slack request already handled (replays are dropped).

(The daily report keeps ``SNAPSHOT#<dlq>`` items and powertools idempotency records in the same
table; none of the prefixes above collide with them.)
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from bot.errors import AwsError, UsageError
from bot.state_schema import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

RECORD_RETENTION = timedelta(days=90)  # requests, audit events and runs are kept this long
DELIVERY_RETENTION = timedelta(minutes=15)  # longer than Slack's 5-minute signature window
RUNS_PARTITION = "RUNS"
_event_counter = itertools.count()


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


class RunStatus(StrEnum):
    RUNNING = "running"
    CONTINUING = "continuing"  # between two invocations: the next one picks it up
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"


ACTIVE_RUN_STATUSES = (RunStatus.RUNNING, RunStatus.CONTINUING)


def new_request_id(now: datetime) -> str:
    """A time-sortable, unguessable id such as ``20261125-030102-k3j9x2``."""
    return f"{now.astimezone(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def _epoch(value: datetime) -> int:
    return int(value.timestamp())


@dataclass
class ApprovalRequest:
    """A redrive waiting for (or past) a decision."""

    request_id: str
    dlq: str
    selection: dict[str, Any]  # SelectionArgs.to_dict()
    selection_text: str  # human description, as shown on the card
    matched: int  # the dry run's count
    requester: str
    channel: str
    requested_at: datetime
    approval_expires_at: datetime
    status: RequestStatus = RequestStatus.PENDING
    count_complete: bool = True  # False when the dry run stopped early (``matched`` is a floor)
    # Of ``matched``, those the destinations can take (the dry run's ``destined``), as the card
    # shows them; None in a request stored before it was kept (``matched`` is shown then).
    would_move: int | None = None
    # FIFO groups the count could not see past (it held one of their messages): the counts are
    # then lower bounds.
    blocked_groups: int = 0
    message_ts: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            PARTITION_KEY: {"S": f"REQUEST#{self.request_id}"},
            SORT_KEY: {"S": "REQUEST"},
            "request_id": {"S": self.request_id},
            "dlq": {"S": self.dlq},
            "selection": {"M": _to_attr_map(self.selection)},
            "selection_text": {"S": self.selection_text},
            "matched": {"N": str(self.matched)},
            "requester": {"S": self.requester},
            "channel": {"S": self.channel},
            "requested_at": {"S": self.requested_at.isoformat()},
            "approval_expires_at": {"N": str(_epoch(self.approval_expires_at))},
            "status": {"S": self.status.value},
            "count_complete": {"BOOL": self.count_complete},
            "blocked_groups": {"N": str(self.blocked_groups)},
            TTL_ATTRIBUTE: {"N": str(_epoch(self.requested_at + RECORD_RETENTION))},
        }
        if self.would_move is not None:
            item["would_move"] = {"N": str(self.would_move)}
        if self.message_ts:
            item["message_ts"] = {"S": self.message_ts}
        if self.decided_by:
            item["decided_by"] = {"S": self.decided_by}
        if self.decided_at:
            item["decided_at"] = {"S": self.decided_at.isoformat()}
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> ApprovalRequest:
        decided_at = item.get("decided_at", {}).get("S")
        return cls(
            request_id=item["request_id"]["S"],
            dlq=item["dlq"]["S"],
            selection=_from_attr_map(item["selection"]["M"]),
            selection_text=item["selection_text"]["S"],
            matched=int(item["matched"]["N"]),
            requester=item["requester"]["S"],
            channel=item["channel"]["S"],
            requested_at=datetime.fromisoformat(item["requested_at"]["S"]),
            approval_expires_at=datetime.fromtimestamp(
                int(item["approval_expires_at"]["N"]), tz=UTC
            ),
            status=RequestStatus(item["status"]["S"]),
            count_complete=bool(item.get("count_complete", {}).get("BOOL", True)),
            would_move=int(item["would_move"]["N"]) if "would_move" in item else None,
            blocked_groups=int(item.get("blocked_groups", {}).get("N", 0)),
            message_ts=item.get("message_ts", {}).get("S"),
            decided_by=item.get("decided_by", {}).get("S"),
            decided_at=datetime.fromisoformat(decided_at) if decided_at else None,
        )


@dataclass
class RunRecord:
    """A redrive run's progress and checkpoint (counts summed over its invocations)."""

    run_id: str
    dlq: str
    requester: str
    approved_by: str
    status: RunStatus
    started_at: datetime
    updated_at: datetime
    invocation: int = 1
    moved: int = 0
    failed: int = 0
    skipped: int = 0
    needs_human: int = 0
    scanned: int = 0
    duration_s: float = 0.0
    idle_invocations: int = 0  # consecutive invocations that scanned nothing (a stuck budget)
    cancel_requested_by: str | None = None
    error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            PARTITION_KEY: {"S": RUNS_PARTITION},
            SORT_KEY: {"S": self.run_id},
            "dlq": {"S": self.dlq},
            "requester": {"S": self.requester},
            "approved_by": {"S": self.approved_by},
            "status": {"S": self.status.value},
            "started_at": {"S": self.started_at.isoformat()},
            "updated_at": {"S": self.updated_at.isoformat()},
            "invocation": {"N": str(self.invocation)},
            "moved": {"N": str(self.moved)},
            "failed": {"N": str(self.failed)},
            "skipped": {"N": str(self.skipped)},
            "needs_human": {"N": str(self.needs_human)},
            "scanned": {"N": str(self.scanned)},
            "duration_s": {"N": str(round(self.duration_s, 3))},
            "idle_invocations": {"N": str(self.idle_invocations)},
            "detail": {"M": _to_attr_map(self.detail)},
            TTL_ATTRIBUTE: {"N": str(_epoch(self.started_at + RECORD_RETENTION))},
        }
        if self.cancel_requested_by:
            item["cancel_requested_by"] = {"S": self.cancel_requested_by}
        if self.error:
            item["error"] = {"S": self.error}
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> RunRecord:
        def num(name: str) -> int:
            return int(Decimal(item.get(name, {}).get("N", "0")))

        return cls(
            run_id=item[SORT_KEY]["S"],
            dlq=item["dlq"]["S"],
            requester=item["requester"]["S"],
            approved_by=item["approved_by"]["S"],
            status=RunStatus(item["status"]["S"]),
            started_at=datetime.fromisoformat(item["started_at"]["S"]),
            updated_at=datetime.fromisoformat(item["updated_at"]["S"]),
            invocation=num("invocation"),
            moved=num("moved"),
            failed=num("failed"),
            skipped=num("skipped"),
            needs_human=num("needs_human"),
            scanned=num("scanned"),
            duration_s=float(item.get("duration_s", {}).get("N", "0")),
            idle_invocations=num("idle_invocations"),
            cancel_requested_by=item.get("cancel_requested_by", {}).get("S"),
            error=item.get("error", {}).get("S") or None,
            detail=_from_attr_map(item.get("detail", {}).get("M", {})),
        )

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_RUN_STATUSES


@dataclass(frozen=True)
class DecisionOutcome:
    """The result of ``decide``: ``won`` is True for exactly one caller per request."""

    won: bool
    request: ApprovalRequest | None  # the request as stored after the attempt


def _to_attr(value: Any) -> dict[str, Any]:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": str(value)}
    if isinstance(value, dict):
        return {"M": _to_attr_map(value)}
    if isinstance(value, list | tuple):
        return {"L": [_to_attr(v) for v in value]}
    return {"S": str(value)}


def _to_attr_map(data: dict[str, Any]) -> dict[str, Any]:
    return {str(k): _to_attr(v) for k, v in data.items()}


def _from_attr(attr: dict[str, Any]) -> Any:
    if "NULL" in attr:
        return None
    if "BOOL" in attr:
        return bool(attr["BOOL"])
    if "N" in attr:
        number = Decimal(attr["N"])
        return int(number) if number == number.to_integral_value() else float(number)
    if "M" in attr:
        return _from_attr_map(attr["M"])
    if "L" in attr:
        return [_from_attr(v) for v in attr["L"]]
    return attr.get("S")


def _from_attr_map(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _from_attr(v) for k, v in data.items()}


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _aws_error(doing: str, exc: ClientError | BotoCoreError) -> AwsError:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        detail = f"{error.get('Code', 'Error')}: {error.get('Message', '')}".rstrip(": ")
    else:
        detail = type(exc).__name__
    return AwsError(f"the state table refused to {doing} ({detail})")


class StateStore:
    """Approval requests, decisions, audit events and runs in the state table."""

    def __init__(self, table: str, client: DynamoDBClient | None = None) -> None:
        self.table = table
        self.client: DynamoDBClient = client or boto3.client("dynamodb")

    # --- requests and decisions -------------------------------------------------------------

    def put_request(self, request: ApprovalRequest) -> None:
        """Store a new pending request (ids are unique; an existing one is never overwritten)."""
        try:
            self.client.put_item(
                TableName=self.table,
                Item=request.to_item(),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except (ClientError, BotoCoreError) as exc:
            raise _aws_error("store the approval request", exc) from exc

    def set_card(self, request_id: str, message_ts: str) -> None:
        """Remember where the approval card is, so every later step can update it."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key=self._request_key(request_id),
                UpdateExpression="SET message_ts = :ts",
                ExpressionAttributeValues={":ts": {"S": message_ts}},
            )
        except (ClientError, BotoCoreError) as exc:
            raise _aws_error("remember the approval card", exc) from exc

    def get_request(self, request_id: str) -> ApprovalRequest | None:
        try:
            got = self.client.get_item(
                TableName=self.table, Key=self._request_key(request_id), ConsistentRead=True
            )
        except (ClientError, BotoCoreError) as exc:
            raise _aws_error("read the approval request", exc) from exc
        item = got.get("Item")
        return ApprovalRequest.from_item(item) if item else None

    def decide(
        self, request_id: str, status: RequestStatus, user: str, now: datetime
    ) -> DecisionOutcome:
        """The one conditional write: pending → ``status``. Exactly one caller wins.

        Approve and reject also require the request not to have expired; ``EXPIRED`` requires the
        opposite, so a late click can only ever mark it expired.
        """
        if status is RequestStatus.EXPIRED:
            condition = "#s = :pending AND approval_expires_at <= :now"
        else:
            condition = "#s = :pending AND approval_expires_at > :now"
        try:
            got = self.client.update_item(
                TableName=self.table,
                Key=self._request_key(request_id),
                UpdateExpression="SET #s = :status, decided_by = :user, decided_at = :at",
                ConditionExpression=f"attribute_exists(pk) AND {condition}",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":pending": {"S": RequestStatus.PENDING.value},
                    ":status": {"S": status.value},
                    ":user": {"S": user},
                    ":at": {"S": now.isoformat()},
                    ":now": {"N": str(_epoch(now))},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                return DecisionOutcome(won=False, request=self.get_request(request_id))
            raise _aws_error("record the decision", exc) from exc
        except BotoCoreError as exc:
            raise _aws_error("record the decision", exc) from exc
        return DecisionOutcome(won=True, request=ApprovalRequest.from_item(got["Attributes"]))

    # --- audit -------------------------------------------------------------------------------

    def record_event(
        self, request_id: str, kind: str, actor: str, now: datetime, **detail: Any
    ) -> None:
        """Append one audit event (who, when, what, counts) to the request's history."""
        sk = f"EVENT#{now.astimezone(UTC).isoformat()}#{next(_event_counter):06d}"
        item: dict[str, Any] = {
            PARTITION_KEY: {"S": f"REQUEST#{request_id}"},
            SORT_KEY: {"S": sk},
            "kind": {"S": kind},
            "actor": {"S": actor},
            "at": {"S": now.isoformat()},
            "detail": {"M": _to_attr_map(detail)},
            TTL_ATTRIBUTE: {"N": str(_epoch(now + RECORD_RETENTION))},
        }
        try:
            self.client.put_item(TableName=self.table, Item=item)
        except (ClientError, BotoCoreError) as exc:
            raise _aws_error("record the audit event", exc) from exc

    def events(self, request_id: str) -> list[dict[str, Any]]:
        """The request's audit events, oldest first (kind, actor, at, detail)."""
        try:
            got = self.client.query(
                TableName=self.table,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
                ExpressionAttributeValues={
                    ":pk": {"S": f"REQUEST#{request_id}"},
                    ":prefix": {"S": "EVENT#"},
                },
                ConsistentRead=True,
            )
        except (ClientError, BotoCoreError) as exc:
            raise _aws_error("read the audit events", exc) from exc
        return [
            {
                "kind": item["kind"]["S"],
                "actor": item["actor"]["S"],
                "at": item["at"]["S"],
                "detail": _from_attr_map(item["detail"]["M"]),
            }
            for item in got.get("Items", [])
        ]

    # --- runs --------------------------------------------------------------------------------

    def start_run(self, run: RunRecord) -> bool:
        """Create the run record; False if it exists (a duplicate delivery of the same start)."""
        try:
            self.client.put_item(
                TableName=self.table,
                Item=run.to_item(),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise _aws_error("start the run record", exc) from exc
        except BotoCoreError as exc:
            raise _aws_error("start the run record", exc) from exc
        return True

    def get_run(self, run_id: str) -> RunRecord | None:
        try:
            got = self.client.get_item(
                TableName=self.table, Key=self._run_key(run_id), ConsistentRead=True
            )
        except (ClientError, BotoCoreError) as exc:
            raise _aws_error("read the run", exc) from exc
        item = got.get("Item")
        return RunRecord.from_item(item) if item else None

    def save_run(self, run: RunRecord, *, expected_invocation: int) -> RunRecord | None:
        """Write the run's progress/checkpoint if it still belongs to invocation
        ``expected_invocation``; return the stored run (with any cancel flag set meanwhile),
        or None if another invocation took it over (the caller must stop).

        Only the fields the worker owns are written, so a concurrent ``cancel`` is never lost.
        """
        values: dict[str, Any] = {
            ":status": {"S": run.status.value},
            ":updated": {"S": run.updated_at.isoformat()},
            ":invocation": {"N": str(run.invocation)},
            ":moved": {"N": str(run.moved)},
            ":failed": {"N": str(run.failed)},
            ":skipped": {"N": str(run.skipped)},
            ":needs_human": {"N": str(run.needs_human)},
            ":scanned": {"N": str(run.scanned)},
            ":duration": {"N": str(round(run.duration_s, 3))},
            ":idle": {"N": str(run.idle_invocations)},
            ":error": {"S": run.error} if run.error else {"NULL": True},
            ":expected": {"N": str(expected_invocation)},
        }
        try:
            got = self.client.update_item(
                TableName=self.table,
                Key=self._run_key(run.run_id),
                UpdateExpression=(
                    "SET #s = :status, updated_at = :updated, invocation = :invocation, "
                    "moved = :moved, failed = :failed, skipped = :skipped, "
                    "needs_human = :needs_human, scanned = :scanned, duration_s = :duration, "
                    "idle_invocations = :idle, #e = :error"
                ),
                ConditionExpression="invocation = :expected",
                ExpressionAttributeNames={"#s": "status", "#e": "error"},
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                return None
            raise _aws_error("save the run checkpoint", exc) from exc
        except BotoCoreError as exc:
            raise _aws_error("save the run checkpoint", exc) from exc
        return RunRecord.from_item(got["Attributes"])

    def claim_continuation(self, run_id: str, invocation: int, now: datetime) -> RunRecord | None:
        """Take a ``continuing`` run for ``invocation`` (the checkpoint's next number); None when
        this continuation was already taken (a duplicate asynchronous delivery)."""
        try:
            got = self.client.update_item(
                TableName=self.table,
                Key=self._run_key(run_id),
                UpdateExpression="SET #s = :running, updated_at = :at",
                ConditionExpression="#s = :continuing AND invocation = :n",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":running": {"S": RunStatus.RUNNING.value},
                    ":continuing": {"S": RunStatus.CONTINUING.value},
                    ":n": {"N": str(invocation)},
                    ":at": {"S": now.isoformat()},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                return None
            raise _aws_error("continue the run", exc) from exc
        except BotoCoreError as exc:
            raise _aws_error("continue the run", exc) from exc
        return RunRecord.from_item(got["Attributes"])

    def request_cancel(self, run_id: str, user: str) -> RunRecord:
        """Flag an active run to stop; UsageError if it is unknown or already finished."""
        try:
            got = self.client.update_item(
                TableName=self.table,
                Key=self._run_key(run_id),
                UpdateExpression="SET cancel_requested_by = :user",
                ConditionExpression="attribute_exists(pk) AND #s IN (:running, :continuing)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":user": {"S": user},
                    ":running": {"S": RunStatus.RUNNING.value},
                    ":continuing": {"S": RunStatus.CONTINUING.value},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise _aws_error("cancel the run", exc) from exc
            run = self.get_run(run_id)
            if run is None:
                raise UsageError(
                    f"no redrive with id {run_id!r}; `/dlq-redrive status` lists them"
                ) from exc
            raise UsageError(f"redrive {run_id} already ended ({run.status.value})") from exc
        except BotoCoreError as exc:
            raise _aws_error("cancel the run", exc) from exc
        return RunRecord.from_item(got["Attributes"])

    def cancel_requested(self, run_id: str) -> bool:
        run = self.get_run(run_id)
        return run is not None and run.cancel_requested_by is not None

    def recent_runs(self, limit: int = 25) -> list[RunRecord]:
        """The most recent runs, newest first."""
        try:
            got = self.client.query(
                TableName=self.table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": RUNS_PARTITION}},
                ScanIndexForward=False,
                Limit=limit,
            )
        except (ClientError, BotoCoreError) as exc:
            raise _aws_error("list the runs", exc) from exc
        return [RunRecord.from_item(item) for item in got.get("Items", [])]

    # --- replay guard ------------------------------------------------------------------------

    def claim_delivery(self, key: str, now: datetime) -> bool:
        """True the first time ``key`` (a signed Slack request) is seen, False on a replay."""
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    PARTITION_KEY: {"S": f"DELIVERY#{key}"},
                    SORT_KEY: {"S": "DELIVERY"},
                    "at": {"S": now.isoformat()},
                    TTL_ATTRIBUTE: {"N": str(_epoch(now + DELIVERY_RETENTION))},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise _aws_error("check for a replayed request", exc) from exc
        except BotoCoreError as exc:
            raise _aws_error("check for a replayed request", exc) from exc
        return True

    # --- keys ---------------------------------------------------------------------------------

    @staticmethod
    def _request_key(request_id: str) -> dict[str, Any]:
        return {PARTITION_KEY: {"S": f"REQUEST#{request_id}"}, SORT_KEY: {"S": "REQUEST"}}

    @staticmethod
    def _run_key(run_id: str) -> dict[str, Any]:
        return {PARTITION_KEY: {"S": RUNS_PARTITION}, SORT_KEY: {"S": run_id}}


def utcnow() -> datetime:
    return datetime.now(UTC)
