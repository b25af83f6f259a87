"""The state table's records as plain data (no I/O, no boto3): approval requests, redrive runs,
their statuses, and their DynamoDB item form. ``bot.state`` reads and writes them.

An approval request keeps what its approvers approved (the ``Pin``): the dry run's time and the
digests of the messages it counted, stored compactly as one DynamoDB Binary of concatenated
12-byte digests (10,000 of them: 120 KB, well under the 400 KB item limit).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from bot.selection import PIN_DIGEST_BYTES, Pin
from bot.state_schema import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE

RECORD_RETENTION = timedelta(days=90)  # requests, audit events and runs are kept this long
DELIVERY_RETENTION = timedelta(minutes=15)  # longer than Slack's 5-minute signature window
RUNS_PARTITION = "RUNS"


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


def epoch(value: datetime) -> int:
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
    # Why the count stopped early (a StopReason value), when it did.
    count_stopped: str | None = None
    # What was approved (the run's ``Pin``): every counted message was sent before
    # ``pin_sent_before`` (the count's end), and ``pin_digests`` are their ids' digests (None
    # when more than PIN_MAX_IDS matched). None in a request stored before pins existed.
    pin_sent_before: datetime | None = None
    pin_digests: frozenset[bytes] | None = None

    @property
    def approved_pin(self) -> Pin:
        """What an approval of this request may take. A request stored before pins existed
        (no ``pin_sent_before``) is pinned to messages sent before it was asked for: its count
        started then, so the run takes no later arrival (though it may find fewer than counted),
        rather than any ``matched`` messages at all."""
        if self.pin_sent_before is None:
            return Pin(self.requested_at)
        return Pin(self.pin_sent_before, self.pin_digests)

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            PARTITION_KEY: {"S": f"REQUEST#{self.request_id}"},
            SORT_KEY: {"S": "REQUEST"},
            "request_id": {"S": self.request_id},
            "dlq": {"S": self.dlq},
            "selection": {"M": to_attr_map(self.selection)},
            "selection_text": {"S": self.selection_text},
            "matched": {"N": str(self.matched)},
            "requester": {"S": self.requester},
            "channel": {"S": self.channel},
            "requested_at": {"S": self.requested_at.isoformat()},
            "approval_expires_at": {"N": str(epoch(self.approval_expires_at))},
            "status": {"S": self.status.value},
            "count_complete": {"BOOL": self.count_complete},
            "blocked_groups": {"N": str(self.blocked_groups)},
            TTL_ATTRIBUTE: {"N": str(epoch(self.requested_at + RECORD_RETENTION))},
        }
        if self.would_move is not None:
            item["would_move"] = {"N": str(self.would_move)}
        if self.message_ts:
            item["message_ts"] = {"S": self.message_ts}
        if self.decided_by:
            item["decided_by"] = {"S": self.decided_by}
        if self.decided_at:
            item["decided_at"] = {"S": self.decided_at.isoformat()}
        if self.count_stopped:
            item["count_stopped"] = {"S": self.count_stopped}
        if self.pin_sent_before is not None:
            item["pin_sent_before"] = {"S": self.pin_sent_before.isoformat()}
        if self.pin_digests is not None:
            # Sorted and concatenated: 12 bytes each, one Binary (a set of 10,000 small
            # values would cost far more of the 400 KB item).
            item["pin_digests"] = {"B": b"".join(sorted(self.pin_digests))}
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> ApprovalRequest:
        decided_at = item.get("decided_at", {}).get("S")
        pinned = item.get("pin_sent_before", {}).get("S")
        return cls(
            request_id=item["request_id"]["S"],
            dlq=item["dlq"]["S"],
            selection=from_attr_map(item["selection"]["M"]),
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
            count_stopped=item.get("count_stopped", {}).get("S"),
            pin_sent_before=datetime.fromisoformat(pinned) if pinned else None,
            pin_digests=_digests(item["pin_digests"]["B"]) if "pin_digests" in item else None,
        )


def _digests(blob: bytes) -> frozenset[bytes]:
    return frozenset(blob[i : i + PIN_DIGEST_BYTES] for i in range(0, len(blob), PIN_DIGEST_BYTES))


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
    # Who owns the part the run is at: the delivery key of the click whose approval started it
    # (part 1), then the Lambda request id of the invocation that took over each later part. The
    # approver or the part number alone cannot tell the owner from the same approver's losing
    # second click or a duplicate delivery of the same part (None: judged by those alone).
    started_by: str | None = None
    # Its last invocation died before it could report (Lambda's on-failure record): the counts
    # are those of its last saved progress, lower bounds of what it did.
    unreported: bool = False

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
            "detail": {"M": to_attr_map(self.detail)},
            TTL_ATTRIBUTE: {"N": str(epoch(self.started_at + RECORD_RETENTION))},
        }
        if self.cancel_requested_by:
            item["cancel_requested_by"] = {"S": self.cancel_requested_by}
        if self.error:
            item["error"] = {"S": self.error}
        if self.started_by:
            item["started_by"] = {"S": self.started_by}
        if self.unreported:
            item["unreported"] = {"BOOL": True}
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
            detail=from_attr_map(item.get("detail", {}).get("M", {})),
            started_by=item.get("started_by", {}).get("S"),
            unreported=bool(item.get("unreported", {}).get("BOOL", False)),
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
        return {"M": to_attr_map(value)}
    if isinstance(value, list | tuple):
        return {"L": [_to_attr(v) for v in value]}
    return {"S": str(value)}


def to_attr_map(data: dict[str, Any]) -> dict[str, Any]:
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
        return from_attr_map(attr["M"])
    if "L" in attr:
        return [_from_attr(v) for v in attr["L"]]
    return attr.get("S")


def from_attr_map(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _from_attr(v) for k, v in data.items()}
