"""The state table's records as plain data (no I/O, no boto3): approval requests, redrive runs,
their statuses, and their DynamoDB item form. ``bot.state`` reads and writes them.

An approval request keeps what its approvers approved (the ``Pin``): the dry run's time and the
digests of the messages it counted, stored compactly as DynamoDB Binaries of concatenated
12-byte digests. Up to ``PIN_INLINE_DIGESTS`` (25,000: 300 KB, under the 400 KB item limit with
the request's other attributes) live in the request item; the rest (up to PIN_MAX_IDS, 100,000)
in part items ``REQUEST#<id>`` / ``PIN#<n>`` of the same partition, written before the request
item that names how many parts and digests there are and their checksum. A reader that finds
the pin incomplete marks the request ``pin_unreadable``: it can never be approved or run.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from bot.errors import UsageError
from bot.selection import PIN_DIGEST_BYTES, Pin, pin_digest
from bot.state_schema import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE

RECORD_RETENTION = timedelta(days=90)  # requests, audit events and runs are kept this long
DELIVERY_RETENTION = timedelta(minutes=15)  # longer than Slack's 5-minute signature window
RUNS_PARTITION = "RUNS"
# The index of approval requests (sort key: the request id), one item per request until its
# approval window closes: what lists the pending ones without scanning the table.
REQUESTS_PARTITION = "REQUESTS"
# Digests per item of a pin (the request item's share, and each part's): 300 KB of Binary, so the
# request item, with its selection and texts, stays well under DynamoDB's 400 KB.
PIN_INLINE_DIGESTS = 25_000
PIN_PART_PREFIX = "PIN#"  # sort key prefix of a pin's part items


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


class RequestAction(StrEnum):
    """What approving a request does (``ApprovalRequest.action``)."""

    REDRIVE = "redrive"
    DISCARD = "discard"  # archive each message, then delete it
    EDIT = "edit"  # send one message with a new body to its source, then delete it


# The request's optional texts of an action, stored as strings when set.
_OPTIONAL_TEXTS = (
    "archive_location",
    "edit_message_id",
    "edit_body",
    "old_body_sha256",
    "new_body_sha256",
    "edit_diff",
    # Where a redrive's copies go, one plain line each, as its count found them (a function's
    # async invoke, a subscription's endpoint, never the topic): every card of the request shows
    # it. None for a DLQ fed by SQS queues only (its messages go back to their source queues).
    "deliveries",
    # The destinations an approval of a DLQ with feeders may send to (``by_destination`` labels
    # as its count found them, one a line): a message routed elsewhere at approval (a function's
    # DLQ given to another, a subscription changed) stays, failed NotApproved.
    "approved_to",
    # What the requester typed in the request modal's note (issue 14): untrusted, shown escaped.
    "note",
)


# What every audit event of a request records beside who and when: the action, what it acts on,
# the sha256 of the old and new bodies (an edit) and where the archive is (a discard).
_AUDITED = (
    ("action", "action"),
    ("dlq", "dlq"),
    ("what", "selection_text"),
    ("message_id", "edit_message_id"),
    ("old_body_sha256", "old_body_sha256"),
    ("new_body_sha256", "new_body_sha256"),
    ("archive_location", "archive_location"),
)


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
    blocked_groups: int = 0  # FIFO groups the count could not see past: counts are lower bounds
    message_ts: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    count_stopped: str | None = None  # why the count stopped early (a StopReason), if it did
    # What was approved (the run's ``Pin``): every counted message was sent before
    # ``pin_sent_before`` (the count's end), and ``pin_digests`` are their ids' digests (None
    # when more than PIN_MAX_IDS matched). None in a request stored before pins existed.
    pin_sent_before: datetime | None = None
    pin_digests: frozenset[bytes] | None = None
    # Why what was approved cannot be read whole (a pin part missing or altered, an edit's body
    # not of its recorded sha256), as a reader found it: it never runs (``approved_pin`` raises).
    pin_unreadable: str | None = None
    action: str = "redrive"  # a RequestAction value ("redrive" in a request stored before)
    archive_location: str | None = None  # DISCARD: where records go before deletes ("s3://…")
    # EDIT: the one message, its new body, the sha256 of the old and new bodies, the card's diff.
    edit_message_id: str | None = None
    edit_body: str | None = None
    old_body_sha256: str | None = None
    new_body_sha256: str | None = None
    edit_diff: str | None = None
    deliveries: str | None = None  # where copies go, every card shows it (see _OPTIONAL_TEXTS)
    approved_to: str | None = None  # the only destinations it may send to (_OPTIONAL_TEXTS)
    note: str | None = None  # the requester's note from the request modal (_OPTIONAL_TEXTS)

    def audit_detail(self) -> dict[str, Any]:
        """What the audit events of this request record beside who and when (``_AUDITED``)."""
        return {name: getattr(self, attribute) for name, attribute in _AUDITED}

    @property
    def approved_pin(self) -> Pin:
        """What an approval of this request may take. A request stored before pins existed
        (no ``pin_sent_before``) is pinned to messages sent before it was asked for: its count
        started then, so the run takes no later arrival (though it may find fewer than counted),
        rather than any ``matched`` messages at all. PinUnreadableError when the stored pin was
        incomplete: running it would move messages nobody approved."""
        if self.pin_unreadable is not None:
            raise PinUnreadableError(self.pin_unreadable)
        if self.pin_sent_before is None:
            return Pin(self.requested_at)
        return Pin(self.pin_sent_before, self.pin_digests)

    def to_items(
        self, part_digests: int = PIN_INLINE_DIGESTS
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The request item and its pin's part items (``part_digests`` digests in each item,
        the request's included). The parts must be stored before the request item: a request
        item names its parts, so one stored without them is found incomplete, never run."""
        if part_digests < 1:
            raise ValueError("a pin part holds at least one digest")
        item = self.to_item()
        if self.pin_digests is None:
            return item, []
        blobs = _pin_blobs(self.pin_digests, part_digests)
        item["pin_digests"] = {"B": blobs[0]}
        if len(blobs) > 1:
            item["pin_parts"] = {"N": str(len(blobs) - 1)}
            item["pin_count"] = {"N": str(len(self.pin_digests))}
            item["pin_checksum"] = {"B": _pin_checksum(b"".join(blobs))}
        parts = [
            {
                PARTITION_KEY: item[PARTITION_KEY],  # the request's partition: its role's keys
                SORT_KEY: {"S": _part_sort_key(number)},
                "digests": {"B": blob},
                TTL_ATTRIBUTE: item[TTL_ATTRIBUTE],  # expires with the request
            }
            for number, blob in enumerate(blobs[1:], start=1)
        ]
        return item, parts

    def to_item(self) -> dict[str, Any]:
        """The request item alone, its pin whole in it (a pin of at most PIN_INLINE_DIGESTS;
        ``to_items`` splits a bigger one)."""
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
            # Sorted and concatenated: 12 bytes each, one Binary (a set of 25,000 small
            # values would cost far more of the 400 KB item).
            item["pin_digests"] = {"B": b"".join(sorted(self.pin_digests))}
        item["action"] = {"S": self.action}
        for name in _OPTIONAL_TEXTS:
            value = getattr(self, name)
            if value is not None:
                item[name] = {"S": value}
        return item

    @classmethod
    def from_items(
        cls, item: dict[str, Any], parts: list[dict[str, Any]] | None = None
    ) -> ApprovalRequest:
        """The request from its item and its pin's part items (those of its partition whose
        sort key starts with PIN_PART_PREFIX): marked ``pin_unreadable`` unless the parts are
        exactly those the item names, with its count and checksum of digests."""
        request = cls.from_item(item)
        wanted = int(item.get("pin_parts", {}).get("N", "0"))
        if not wanted or request.pin_digests is None:
            return request
        blobs = {part[SORT_KEY]["S"]: part["digests"]["B"] for part in parts or []}
        names = [_part_sort_key(number) for number in range(1, wanted + 1)]
        found = [name for name in names if name in blobs]
        blob = item["pin_digests"]["B"] + b"".join(blobs[name] for name in found)
        digests = _digests(blob)
        whole = (
            len(found) == wanted
            and len(blob) == PIN_DIGEST_BYTES * int(item["pin_count"]["N"])
            and len(digests) * PIN_DIGEST_BYTES == len(blob)
            and _pin_checksum(blob) == item["pin_checksum"]["B"]
        )
        if whole:
            request.pin_digests = digests
            return request
        request.pin_digests = None
        request.pin_unreadable = (
            f"the ids this request counted are stored in {wanted + 1} parts and "
            f"{len(found) + 1} of them were found whole in the state table, so the approved "
            "run cannot keep to the counted messages; nothing was moved. Ask for a new count "
            "with `/dlq-redrive redrive`."
            if len(found) < wanted
            else "the ids this request counted do not match their stored count and checksum "
            "in the state table, so the approved run cannot keep to the counted messages; "
            "nothing was moved. Ask for a new count with `/dlq-redrive redrive`."
        )
        return request

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> ApprovalRequest:
        """The request from its item alone (a pin stored in parts needs ``from_items``)."""
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
            # A request stored before actions existed was a redrive.
            action=item.get("action", {}).get("S", RequestAction.REDRIVE.value),
            **{name: item[name]["S"] for name in _OPTIONAL_TEXTS if name in item},
            pin_unreadable=_edit_unreadable(item),
        )


def _edit_unreadable(item: dict[str, Any]) -> str | None:
    """Why an edit request's stored message or body is not what its card showed, or None: the
    body must have the sha256 recorded (and audited) when it was asked for, and the message id
    must be the one its pin counted (the engine selects an edit by that id). Approving such a
    request would replace a message, or send a body, nobody approved: it is treated as an
    unreadable pin, never approved, never run."""
    if item.get("action", {}).get("S") != RequestAction.EDIT.value:
        return None
    message_id = item.get("edit_message_id", {}).get("S")
    if message_id is None or item.get("pin_digests", {}).get("B") != pin_digest(message_id):
        return (
            "the message this edit is stored for is not the message it was asked for (the one "
            "its count pinned), so approving it could replace a message nobody saw on this "
            "card; nothing was sent. Ask for the edit again with Edit & resend."
        )
    body = item.get("edit_body", {}).get("S")
    recorded = item.get("new_body_sha256", {}).get("S")
    if body is not None and recorded == hashlib.sha256(body.encode("utf-8")).hexdigest():
        return None
    return (
        "the edited body stored for this request does not match the sha256 recorded when it "
        "was asked for, so approving it could send a body nobody saw on this card; nothing "
        "was sent. Ask for the edit again with Edit & resend."
    )


def _digests(blob: bytes) -> frozenset[bytes]:
    return frozenset(blob[i : i + PIN_DIGEST_BYTES] for i in range(0, len(blob), PIN_DIGEST_BYTES))


class PinUnreadableError(UsageError):
    """A request's stored pin is incomplete: it cannot say which messages were approved."""


def _pin_blobs(digests: frozenset[bytes], per_item: int) -> list[bytes]:
    """The sorted digests, concatenated, ``per_item`` digests a Binary (at least one Binary)."""
    ordered = b"".join(sorted(digests))
    size = per_item * PIN_DIGEST_BYTES
    return [ordered[i : i + size] for i in range(0, len(ordered), size)] or [b""]


def _pin_checksum(blob: bytes) -> bytes:
    return hashlib.sha256(blob).digest()[:16]


def _part_sort_key(number: int) -> str:
    return f"{PIN_PART_PREFIX}{number:04d}"


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
